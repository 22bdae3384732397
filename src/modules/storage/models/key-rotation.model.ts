import { Field, Int, ObjectType } from '@nestjs/graphql';

@ObjectType('KeyRotation')
export class KeyRotationModel {
  @Field(() => Int) generation: number;
  @Field() rotatedAt: Date;
  @Field(() => Int, { description: 'Objects still on an older generation; a background job re-wraps them' }) rewrapPending: number;
}
