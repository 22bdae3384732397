import { ApiKeysResolver } from './modules/api-keys/api-keys.resolver';
import { AuditResolver } from './modules/audit/audit.resolver';
import { BillingResolver } from './modules/billing/billing.resolver';
import { DatasetsResolver } from './modules/datasets/datasets.resolver';
import { EndpointsResolver } from './modules/endpoints/endpoints.resolver';
import { FineTuningResolver } from './modules/fine-tuning/fine-tuning.resolver';
import { DatasetVersionLineageResolver } from './modules/models/lineage.resolver';
import { ModelsResolver } from './modules/models/models.resolver';
import { StorageResolver } from './modules/storage/storage.resolver';
import { IamResolver } from './modules/iam/iam.resolver';
import { ProjectsResolver } from './modules/projects/projects.resolver';
import { TenancyResolver } from './modules/tenancy/tenancy.resolver';

/** Every resolver class, for emitting schema.gql without booting the api. */
export const GRAPHQL_RESOLVERS: Function[] = [IamResolver, TenancyResolver, ApiKeysResolver, ProjectsResolver, AuditResolver, DatasetsResolver, StorageResolver, ModelsResolver, FineTuningResolver, EndpointsResolver, BillingResolver, DatasetVersionLineageResolver];
