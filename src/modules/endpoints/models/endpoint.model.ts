import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { Connection } from '../../../common/graphql/connection';
import { JobEventModel } from '../../fine-tuning/models/fine-tuning.model';
import { ModelVersionModel } from '../../models/models/model.model';

export enum EnvironmentEnum {
  STAGING = 'STAGING',
  PRODUCTION = 'PRODUCTION',
}
registerEnumType(EnvironmentEnum, { name: 'Environment' });

export enum EndpointStatusEnum {
  SCALED_TO_ZERO = 'SCALED_TO_ZERO',
  STARTING = 'STARTING',
  READY = 'READY',
  FAILED = 'FAILED',
}
registerEnumType(EndpointStatusEnum, { name: 'EndpointStatus' });

export enum DriftStatusEnum {
  OK = 'OK',
  WARNING = 'WARNING',
  ALERT = 'ALERT',
}
registerEnumType(DriftStatusEnum, { name: 'DriftStatus' });

@ObjectType('FeatureDrift')
export class FeatureDriftModel {
  @Field() name: string;
  @Field(() => Float, { description: 'Population Stability Index against the training baseline' }) psi: number;
}

@ObjectType('Drift')
export class DriftModel {
  @Field(() => DriftStatusEnum) status: string;
  @Field(() => Date, { nullable: true }) windowStart: Date | null;
  @Field(() => Int, { description: 'Live rows in the window' }) rows: number;
  @Field(() => [FeatureDriftModel]) features: FeatureDriftModel[];
  @Field(() => Float, { nullable: true, description: 'PSI of the output distribution' }) outputPsi: number | null;
}

@ObjectType('Endpoint')
export class EndpointModel {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field() name: string;
  @Field(() => EnvironmentEnum) environment: string;
  @Field(() => EndpointStatusEnum) status: string;
  @Field(() => ModelVersionModel) modelVersion: ModelVersionModel;
  @Field(() => Int, { description: 'Workers holding the model loaded right now' }) replicas: number;
  @Field(() => Int) minReplicas: number;
  @Field(() => Int) maxReplicas: number;
  @Field(() => Int) idleTimeoutSeconds: number;
  @Field(() => Int) rateLimitPerMinute: number;
  @Field() pool: string;
  @Field() region: string;
  @Field(() => ID, { nullable: true }) promotedFromEndpointId: string | null;
  @Field(() => String, { nullable: true, description: 'Why the last model load failed' }) failure: string | null;
  /** Computed on demand by the `drift` field. */
  driftBaselinePresent: boolean;
  @Field(() => [JobEventModel], { description: 'Newest first' }) events: JobEventModel[];
  @Field() createdAt: Date;
}

@ObjectType()
export class EndpointConnection extends Connection(EndpointModel, 'Endpoint') {}

@ObjectType('PredictionResult')
export class PredictionResultModel {
  @Field(() => [GraphQLJSON]) outputs: unknown[];
  @Field(() => ID) modelVersionId: string;
  @Field(() => Int) latencyMs: number;
  @Field() coldStart: boolean;
}

@InputType()
export class CreateEndpointInput {
  @Field(() => ID) projectId: string;
  @Field() name: string;
  @Field(() => ID) modelVersionId: string;
  @Field(() => EnvironmentEnum) environment: EnvironmentEnum;
  @Field(() => Int, { nullable: true, defaultValue: 0, description: '0 scales to zero when idle' }) minReplicas?: number;
  @Field(() => Int, { nullable: true, defaultValue: 1 }) maxReplicas?: number;
  @Field(() => Int, { nullable: true, defaultValue: 300 }) idleTimeoutSeconds?: number;
  @Field(() => Int, { nullable: true, description: 'Calls per minute for this tenant on this endpoint' }) rateLimitPerMinute?: number | null;
  @Field(() => String, { nullable: true }) gpuClass?: string | null;
}

@InputType()
export class UpdateEndpointInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => ID, { nullable: true, description: 'Swap the model version without dropping requests' }) modelVersionId?: string | null;
  @Field(() => Int, { nullable: true }) minReplicas?: number | null;
  @Field(() => Int, { nullable: true }) maxReplicas?: number | null;
  @Field(() => Int, { nullable: true }) idleTimeoutSeconds?: number | null;
  @Field(() => Int, { nullable: true }) rateLimitPerMinute?: number | null;
}
