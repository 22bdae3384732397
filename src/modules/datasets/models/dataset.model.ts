import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import { Connection } from '../../../common/graphql/connection';

export enum DatasetFormatEnum {
  CSV = 'CSV',
  JSONL = 'JSONL',
}
registerEnumType(DatasetFormatEnum, { name: 'DatasetFormat' });

export enum LegalBasisEnum {
  CONSENT = 'CONSENT',
  CONTRACT = 'CONTRACT',
  LEGAL_OBLIGATION = 'LEGAL_OBLIGATION',
  VITAL_INTERESTS = 'VITAL_INTERESTS',
  PUBLIC_TASK = 'PUBLIC_TASK',
  LEGITIMATE_INTERESTS = 'LEGITIMATE_INTERESTS',
  NOT_APPLICABLE = 'NOT_APPLICABLE',
}
registerEnumType(LegalBasisEnum, { name: 'LegalBasis', description: 'GDPR art. 6 basis for processing (NOT_APPLICABLE without personal data)' });

export enum ColumnTypeEnum {
  numeric = 'numeric',
  boolean = 'boolean',
  categorical = 'categorical',
  text = 'text',
}
registerEnumType(ColumnTypeEnum, { name: 'ColumnType' });

@ObjectType('DatasetColumn')
export class DatasetColumnModel {
  @Field() name: string;
  @Field(() => ColumnTypeEnum) type: string;
  @Field(() => Int) nullCount: number;
  @Field(() => Int, { description: 'Exact below 256 distinct values, a k-minimum-values estimate above' }) distinctEstimate: number;
  @Field() pseudonymized: boolean;
}

@ObjectType('DatasetWarning')
export class DatasetWarningModel {
  @Field() kind: string;
  @Field() column: string;
  @Field(() => Int) count: number;
  @Field(() => Int) firstLine: number;
  @Field() message: string;
}

@ObjectType('DatasetVersion')
export class DatasetVersionModel {
  @Field(() => ID) id: string;
  @Field(() => ID) datasetId: string;
  @Field(() => Int) version: number;
  @Field({ description: 'SHA-256 of the stored (pseudonymised) content' }) sha256: string;
  @Field({ description: 'Bytes of stored content (a 64-bit integer as a string)' }) sizeBytes: string;
  @Field({ description: 'A 64-bit integer as a string' }) rowCount: string;
  @Field(() => [DatasetColumnModel]) columns: DatasetColumnModel[];
  @Field(() => [String]) pseudonymizedColumns: string[];
  @Field(() => [DatasetWarningModel]) warnings: DatasetWarningModel[];
  @Field() storageRegion: string;
  @Field() createdAt: Date;
}

@ObjectType('Dataset')
export class DatasetModel {
  @Field(() => ID) id: string;
  @Field(() => ID) projectId: string;
  @Field() name: string;
  @Field(() => DatasetFormatEnum) format: string;
  @Field() purpose: string;
  @Field(() => LegalBasisEnum) legalBasis: string;
  @Field() containsPersonalData: boolean;
  @Field(() => [String]) piiColumns: string[];
  @Field(() => Int, { nullable: true }) retentionDays: number | null;
  @Field(() => Date, { nullable: true, description: 'When the retention period ends and the content is erased' }) eraseAfter: Date | null;
  @Field(() => [DatasetVersionModel]) versions: DatasetVersionModel[];
  @Field() createdAt: Date;
}

@ObjectType()
export class DatasetConnection extends Connection(DatasetModel, 'Dataset') {}

@InputType()
export class CreateDatasetInput {
  @Field(() => ID) projectId: string;
  @Field() name: string;
  @Field(() => DatasetFormatEnum) format: DatasetFormatEnum;
  @Field({ description: 'What the data is used for (GDPR purpose limitation)' }) purpose: string;
  @Field(() => LegalBasisEnum) legalBasis: LegalBasisEnum;
  @Field() containsPersonalData: boolean;
  @Field(() => [String], { nullable: true, description: 'Columns pseudonymised (keyed HMAC) at upload' }) piiColumns?: string[] | null;
  @Field(() => Int, { nullable: true, description: 'Days after creation when the dataset is erased' }) retentionDays?: number | null;
}
