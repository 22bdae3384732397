import { join } from 'node:path';
import type { DataSourceOptions } from 'typeorm';
import { ApiKeyEntity } from '../modules/api-keys/api-key.entity';
import { DatasetEntity, DatasetRetentionEntity, DatasetVersionEntity } from '../modules/datasets/dataset.entities';
import { EndpointEntity, EndpointEventEntity } from '../modules/endpoints/endpoint.entities';
import { FineTuningJobEntity, JobCheckpointEntity, JobEpochMetricsEntity, JobEventEntity } from '../modules/fine-tuning/fine-tuning.entities';
import { UsageEventEntity } from '../modules/metering/usage-event.entity';
import { ModelEntity, ModelVersionEntity } from '../modules/models/model.entities';
import { StoredObjectEntity, TenantKeyEntity } from '../modules/storage/storage.entities';
import { AuditChainHeadEntity, AuditEventEntity } from '../modules/audit/audit-event.entity';
import { RefreshTokenEntity, SessionEntity } from '../modules/iam/session.entity';
import { UserEntity } from '../modules/iam/user.entity';
import { ProjectEntity } from '../modules/projects/project.entity';
import { MembershipEntity } from '../modules/tenancy/membership.entity';
import { TenantEntity } from '../modules/tenancy/tenant.entity';

export const ENTITIES = [
  UserEntity,
  SessionEntity,
  RefreshTokenEntity,
  TenantEntity,
  MembershipEntity,
  ApiKeyEntity,
  ProjectEntity,
  AuditEventEntity,
  AuditChainHeadEntity,
  TenantKeyEntity,
  StoredObjectEntity,
  DatasetEntity,
  DatasetVersionEntity,
  DatasetRetentionEntity,
  ModelEntity,
  ModelVersionEntity,
  FineTuningJobEntity,
  JobEventEntity,
  JobEpochMetricsEntity,
  JobCheckpointEntity,
  UsageEventEntity,
  EndpointEntity,
  EndpointEventEntity,
];

/** Compiled migrations sit beside the compiled sources (dist/migrations). */
export const MIGRATIONS_GLOB = join(__dirname, '..', '..', 'migrations', '*.js');

export function dataSourceOptions(url: string, poolSize: number): DataSourceOptions {
  return {
    type: 'postgres',
    url,
    entities: ENTITIES,
    migrations: [MIGRATIONS_GLOB],
    migrationsTransactionMode: 'each',
    synchronize: false,
    logging: false,
    extra: { max: poolSize, application_name: 'lutece-api' },
  };
}
