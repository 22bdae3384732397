import { Field, ID, InputType, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Connection } from '../../../common/graphql/connection';

export enum DataClassificationEnum {
  PUBLIC = 'PUBLIC',
  INTERNAL = 'INTERNAL',
  CONFIDENTIAL = 'CONFIDENTIAL',
  HEALTH = 'HEALTH',
}
registerEnumType(DataClassificationEnum, { name: 'DataClassification', description: 'HEALTH data is only placed on HDS-dedicated pools' });

@ObjectType('Project')
export class ProjectModel {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) description: string | null;
  @Field(() => DataClassificationEnum) dataClassification: string;
  @Field() archived: boolean;
  @Field(() => Date, { nullable: true }) archivedAt: Date | null;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
}

@ObjectType()
export class ProjectConnection extends Connection(ProjectModel, 'Project') {}

@InputType()
export class CreateProjectInput {
  @Field() name: string;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => DataClassificationEnum) dataClassification: DataClassificationEnum;
}

@InputType()
export class UpdateProjectInput {
  @Field(() => String, { nullable: true }) name?: string | null;
  @Field(() => String, { nullable: true }) description?: string | null;
  @Field(() => DataClassificationEnum, { nullable: true }) dataClassification?: DataClassificationEnum | null;
}
