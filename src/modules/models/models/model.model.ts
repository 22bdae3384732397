import { Field, ID, Int, ObjectType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { Connection } from '../../../common/graphql/connection';

@ObjectType('ModelVersion')
export class ModelVersionModel {
  @Field(() => ID) id: string;
  @Field(() => ID) modelId: string;
  @Field(() => Int) version: number;
  @Field(() => GraphQLJSON) metrics: Record<string, number>;
  @Field(() => GraphQLJSON) modelCard: Record<string, unknown>;
  @Field(() => [ID]) trainingDatasetVersionIds: string[];
  @Field({ description: 'SHA-256 of the encrypted artifact as stored' }) sha256: string;
  @Field() backend: string;
  @Field() region: string;
  @Field(() => ID, { nullable: true }) jobId: string | null;
  @Field(() => GraphQLJSON, { nullable: true, description: 'Training distribution of each input and of the output (drift monitoring)' }) driftBaseline: Record<string, unknown> | null;
  @Field() createdAt: Date;
}

@ObjectType('Model')
export class ModelModel {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field() name: string;
  @Field() baseModel: string;
  @Field(() => [ModelVersionModel]) versions: ModelVersionModel[];
  @Field() createdAt: Date;
}

@ObjectType()
export class ModelConnection extends Connection(ModelModel, 'Model') {}
