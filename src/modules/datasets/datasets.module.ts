import { Module } from '@nestjs/common';
import { AuditModule } from '../audit/audit.module';
import { StorageModule } from '../storage/storage.module';
import { DatasetErasureService } from './dataset-erasure.service';
import { DatasetUploadService } from './dataset-upload.service';
import { DatasetsController } from './datasets.controller';
import { DatasetsResolver } from './datasets.resolver';
import { DatasetsService } from './datasets.service';

@Module({
  imports: [AuditModule, StorageModule],
  providers: [DatasetsService, DatasetUploadService, DatasetErasureService, DatasetsResolver],
  controllers: [DatasetsController],
  exports: [DatasetErasureService],
})
export class DatasetsModule {}
