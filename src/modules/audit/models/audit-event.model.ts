import { Field, ID, InputType, Int, ObjectType, registerEnumType } from '@nestjs/graphql';
import GraphQLJSON from 'graphql-type-json';
import { Connection } from '../../../common/graphql/connection';

export enum AuditOutcomeEnum {
  SUCCESS = 'SUCCESS',
  FAILURE = 'FAILURE',
  DENIED = 'DENIED',
}
registerEnumType(AuditOutcomeEnum, { name: 'AuditOutcome' });

@ObjectType('AuditEvent')
export class AuditEventModel {
  @Field(() => ID) id: string;
  @Field({ description: 'Position in the tenant chain, from 1 (a 64-bit integer as a string)' }) seq: string;
  @Field() at: Date;
  @Field() actorType: string;
  @Field(() => String, { nullable: true }) actorId: string | null;
  @Field() action: string;
  @Field(() => String, { nullable: true }) resourceType: string | null;
  @Field(() => String, { nullable: true }) resourceId: string | null;
  @Field(() => AuditOutcomeEnum) outcome: string;
  @Field(() => String, { nullable: true }) requestId: string | null;
  @Field(() => String, { nullable: true }) ip: string | null;
  @Field(() => GraphQLJSON) details: Record<string, unknown>;
  @Field() hash: string;
  @Field() prevHash: string;
}

@ObjectType()
export class AuditEventConnection extends Connection(AuditEventModel, 'AuditEvent') {}

@ObjectType('AuditVerification')
export class AuditVerificationModel {
  @Field() valid: boolean;
  @Field(() => Int) checkedCount: number;
  @Field(() => String, { nullable: true }) firstInvalidSeq: string | null;
}

@InputType()
export class AuditFilter {
  @Field(() => String, { nullable: true }) action?: string;
  @Field(() => String, { nullable: true }) actorId?: string;
  @Field(() => String, { nullable: true }) resourceType?: string;
  @Field(() => String, { nullable: true }) resourceId?: string;
  @Field(() => AuditOutcomeEnum, { nullable: true }) outcome?: string;
  @Field(() => Date, { nullable: true }) from?: Date;
  @Field(() => Date, { nullable: true }) to?: Date;
}
