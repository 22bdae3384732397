import { Field, Float, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { Connection } from '../../../common/graphql/connection';
import { ModelVersionModel } from '../../models/models/model.model';

export enum JobStatusEnum {
  QUEUED = 'QUEUED',
  RUNNING = 'RUNNING',
  SUCCEEDED = 'SUCCEEDED',
  FAILED = 'FAILED',
  CANCELLED = 'CANCELLED',
}
registerEnumType(JobStatusEnum, { name: 'JobStatus' });

@ObjectType('BaseModel')
export class BaseModelModel {
  @Field(() => ID) id: string;
  @Field() task: string;
  @Field() inputKind: string;
  @Field() description: string;
  @Field(() => GraphQLJSON) defaultHyperparameters: Record<string, number>;
}

@ObjectType('CostEstimate')
export class CostEstimateModel {
  @Field({ description: 'Estimated accelerator-seconds (decimal string)' }) gpuSeconds: string;
  @Field({ description: 'Estimated cost in EUR (decimal string)' }) amountEur: string;
  @Field() gpuClass: string;
  @Field() unitPriceEur: string;
  @Field({ description: 'Low end of the confidence range, EUR' }) lowEur: string;
  @Field({ description: 'High end of the confidence range, EUR' }) highEur: string;
  @Field({ description: 'How the estimate was computed' }) basis: string;
  @Field(() => String, { nullable: true }) pool?: string;
}

@ObjectType('EpochMetric')
export class EpochMetricModel {
  @Field(() => Int) epoch: number;
  @Field(() => Float) loss: number;
  @Field(() => Float, { nullable: true }) valLoss?: number | null;
  @Field(() => Float, { nullable: true }) accuracy?: number | null;
  @Field(() => Float, { nullable: true }) valAccuracy?: number | null;
  @Field(() => Float, { nullable: true }) mae?: number | null;
  @Field(() => Float, { nullable: true }) valMae?: number | null;
  @Field(() => Float, { nullable: true }) samplesPerSecond?: number | null;
}

@ObjectType('JobEvent')
export class JobEventModel {
  @Field() at: Date;
  @Field() level: string;
  @Field() message: string;
}

@ObjectType('Checkpoint')
export class CheckpointModel {
  @Field(() => ID) id: string;
  @Field(() => Int) epoch: number;
  @Field() sha256: string;
  @Field({ description: 'Bytes (a 64-bit integer as a string)' }) sizeBytes: string;
  @Field() storageRegion: string;
  @Field() createdAt: Date;
}

@ObjectType('FineTuningJob')
export class FineTuningJobModel {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field(() => JobStatusEnum) status: string;
  @Field(() => Float, { description: '0 to 1' }) progress: number;
  @Field(() => Int) attempts: number;
  @Field(() => String, { nullable: true, description: 'Why the job failed, safe to show' }) error: string | null;
  @Field() baseModel: string;
  @Field(() => ID, { nullable: true }) baseModelVersionId: string | null;
  @Field(() => ID) trainingDatasetVersionId: string;
  @Field(() => ID, { nullable: true }) validationDatasetVersionId: string | null;
  @Field() targetColumn: string;
  @Field(() => [String], { nullable: true }) featureColumns: string[] | null;
  @Field(() => GraphQLJSON) hyperparameters: Record<string, number>;
  @Field(() => [EpochMetricModel]) metrics: EpochMetricModel[];
  /** All recent events, newest first; the `events(first)` field slices them. */
  allEvents: JobEventModel[];
  @Field(() => [CheckpointModel]) checkpoints: CheckpointModel[];
  @Field(() => ModelVersionModel, { nullable: true }) resultModelVersion: ModelVersionModel | null;
  @Field({ description: 'Accelerator-seconds recorded in the usage ledger (decimal string)' }) gpuSeconds: string;
  @Field({ description: 'Actual cost so far from the usage ledger, EUR (decimal string)' }) costEur: string;
  @Field(() => Float, { nullable: true, description: 'Actual cost / estimate, once the job has finished' }) costToEstimateRatio: number | null;
  @Field(() => CostEstimateModel) estimate: CostEstimateModel;
  @Field() pool: string;
  @Field() region: string;
  @Field() gpuClass: string;
  @Field(() => String, { nullable: true, description: 'tfjs backend the worker trained with' }) backend: string | null;
  @Field(() => Date, { nullable: true }) cancelRequestedAt: Date | null;
  @Field() createdAt: Date;
  @Field(() => Date, { nullable: true }) startedAt: Date | null;
  @Field(() => Date, { nullable: true }) finishedAt: Date | null;
}

@ObjectType()
export class FineTuningJobConnection extends Connection(FineTuningJobModel, 'FineTuningJob') {}

@InputType()
export class HyperparametersInput {
  @Field(() => Int, { description: '1 to 500' }) epochs: number;
  @Field(() => Int, { description: '1 to 4096' }) batchSize: number;
  @Field(() => Float, { description: 'In (0, 1]' }) learningRate: number;
  @Field(() => Int, { nullable: true, description: 'For reproducible shuffles and initialisation' }) seed?: number | null;
}

@InputType()
export class CreateFineTuningJobInput {
  @Field(() => ID) projectId: string;
  @Field() baseModel: string;
  @Field(() => ID, { nullable: true, description: 'Continue training from this model version' }) baseModelVersionId?: string | null;
  @Field(() => ID) trainingDatasetVersionId: string;
  @Field(() => ID, { nullable: true }) validationDatasetVersionId?: string | null;
  @Field() targetColumn: string;
  @Field(() => [String], { nullable: true }) featureColumns?: string[] | null;
  @Field(() => HyperparametersInput) hyperparameters: HyperparametersInput;
  @Field(() => String, { nullable: true }) gpuClass?: string | null;
  @Field(() => String, { nullable: true, description: 'A repeat with the same key returns the first job' }) idempotencyKey?: string | null;
}
