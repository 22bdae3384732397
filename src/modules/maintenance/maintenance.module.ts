import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { DatasetsModule } from '../datasets/datasets.module';
import { FineTuningModule } from '../fine-tuning/fine-tuning.module';
import { StorageModule } from '../storage/storage.module';
import { MAINTENANCE_QUEUE } from './maintenance.jobs';
import { MaintenanceProcessor } from './maintenance.processor';

@Module({
  imports: [AuditModule, StorageModule, DatasetsModule, FineTuningModule, BullModule.registerQueue({ name: MAINTENANCE_QUEUE })],
  providers: [MaintenanceProcessor],
})
export class MaintenanceModule {}
