import { BullModule } from '@nestjs/bull';
import { Module } from '@nestjs/common';
import { APP_CONFIG } from '../../common/infrastructure/tokens';
import type { RuntimeConfig } from '../../config/runtime-config';
import { AuditModule } from '../audit/audit.module';
import { MAINTENANCE_QUEUE } from '../maintenance/maintenance.jobs';
import { EncryptedObjectsService } from './encrypted-objects.service';
import { KeyChainService } from './key-chain.service';
import { KeyRotationService } from './key-rotation.service';
import { LocalObjectStore } from '../../contracts/local-object-store';
import { OBJECT_STORE } from '../../contracts/object-store';
import { S3ObjectStore } from '../../contracts/s3-object-store';
import { StorageResolver } from './storage.resolver';

@Module({
  imports: [AuditModule, BullModule.registerQueue({ name: MAINTENANCE_QUEUE })],
  providers: [
    {
      provide: OBJECT_STORE,
      inject: [APP_CONFIG],
      useFactory: ({ storage }: RuntimeConfig) =>
        storage.driver === 's3' ? new S3ObjectStore(storage.s3!, storage.region, storage.node) : new LocalObjectStore(storage.dir, storage.region, storage.node),
    },
    KeyChainService,
    EncryptedObjectsService,
    KeyRotationService,
    StorageResolver,
  ],
  exports: [OBJECT_STORE, KeyChainService, EncryptedObjectsService],
})
export class StorageModule {}
