import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { StorageModule } from '../storage/storage.module';
import { DriftMonitorService } from './drift-monitor.service';
import { EndpointDriftService } from './endpoint-drift.service';
import { EndpointsController } from './endpoints.controller';
import { EndpointsResolver } from './endpoints.resolver';
import { EndpointsService } from './endpoints.service';
import { InferenceClientService } from './inference-client.service';
import { PredictionService } from './prediction.service';
import { ServingStateService } from './serving-state.service';

@Module({
  imports: [AuditModule, StorageModule],
  providers: [EndpointsService, EndpointsResolver, EndpointDriftService, DriftMonitorService, InferenceClientService, PredictionService, ServingStateService],
  controllers: [EndpointsController],
})
export class EndpointsModule {}
