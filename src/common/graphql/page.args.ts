import { ArgsType, Field, Int } from '@nestjs/graphql';

@ArgsType()
export class PageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20, description: 'At most 100' }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
}
