import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { WORKER_EVENTS_QUEUE } from '../../contracts/training';
import { AuditModule } from '../audit/audit.module';
import { ModelsModule } from '../models/models.module';
import { StorageModule } from '../storage/storage.module';
import { FineTuningResolver } from './fine-tuning.resolver';
import { FineTuningService } from './fine-tuning.service';
import { JobPayloadBuilder } from './job-payload.builder';
import { JobReconcilerService } from './job-reconciler.service';
import { JobSubscriptionService } from './job-subscription.service';
import { JobUpdatesService } from './job-updates.service';
import { TrainingQueueService } from './training-queue.service';
import { WorkerEventsProcessor } from './worker-events.processor';

@Module({
  imports: [AuditModule, StorageModule, ModelsModule, BullModule.registerQueue({ name: WORKER_EVENTS_QUEUE })],
  providers: [
    FineTuningService,
    FineTuningResolver,
    JobPayloadBuilder,
    JobReconcilerService,
    JobSubscriptionService,
    JobUpdatesService,
    TrainingQueueService,
    WorkerEventsProcessor,
  ],
  exports: [JobReconcilerService],
})
export class FineTuningModule {}
