import 'reflect-metadata';
import { ApolloDriver, ApolloDriverConfig } from '@nestjs/apollo';
import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { Args, ArgsType, Field, GraphQLModule, ID, Int, ObjectType, Query, registerEnumType, Resolver } from '@nestjs/graphql';
import type { NestExpressApplication } from '@nestjs/platform-express';

/**
 * The baseline: NestJS + @nestjs/graphql code-first + ApolloDriver on platform-express, with the
 * framework defaults and nothing else (no auth, no logging, no database, no plugins). One resolver
 * returns a Relay connection held in memory, with the same types and field names as the platform's
 * `projects` query, so both servers do the same GraphQL and JSON work for the same response.
 */

enum BareDataClassification {
  PUBLIC = 'PUBLIC',
  INTERNAL = 'INTERNAL',
  CONFIDENTIAL = 'CONFIDENTIAL',
  HEALTH = 'HEALTH',
}
registerEnumType(BareDataClassification, { name: 'DataClassification' });

@ObjectType('Project')
class BareProject {
  @Field(() => ID) id: string;
  @Field() name: string;
  @Field(() => String, { nullable: true }) description: string | null;
  @Field(() => BareDataClassification) dataClassification: string;
  @Field() archived: boolean;
  @Field(() => Date, { nullable: true }) archivedAt: Date | null;
  @Field() createdAt: Date;
  @Field() updatedAt: Date;
}

@ObjectType('ProjectEdge')
class BareProjectEdge {
  @Field() cursor: string;
  @Field(() => BareProject) node: BareProject;
}

@ObjectType('PageInfo')
class BarePageInfo {
  @Field() hasNextPage: boolean;
  @Field(() => String, { nullable: true }) endCursor: string | null;
}

@ObjectType('ProjectConnection')
class BareProjectConnection {
  @Field(() => [BareProjectEdge]) edges: BareProjectEdge[];
  @Field(() => BarePageInfo) pageInfo: BarePageInfo;
  @Field(() => Int) totalCount: number;
}

@ArgsType()
class BarePageArgs {
  @Field(() => Int, { nullable: true, defaultValue: 20 }) first?: number;
  @Field(() => String, { nullable: true }) after?: string;
}

export interface BareProjectData {
  cursor: string;
  node: BareProject;
}

/** Module-level, set before the app starts: the resolver is instantiated by Nest's injector. */
let dataset: BareProjectData[] = [];

@Resolver()
class BareProjectsResolver {
  @Query(() => BareProjectConnection)
  projects(@Args() { first }: BarePageArgs): BareProjectConnection {
    const size = first ?? 20;
    const edges = dataset.slice(0, size);
    return {
      edges,
      pageInfo: { hasNextPage: dataset.length > size, endCursor: edges.length ? edges[edges.length - 1].cursor : null },
      totalCount: dataset.length,
    };
  }
}

@Module({
  imports: [GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true })],
  providers: [BareProjectsResolver],
})
class BareAppModule {}

export interface BareApp {
  url: string;
  close(): Promise<void>;
}

/** Starts the bare app in this process on 127.0.0.1 and a random free port. */
export async function startBareApp(projects: BareProjectData[]): Promise<BareApp> {
  dataset = projects;
  const app = await NestFactory.create<NestExpressApplication>(BareAppModule, { logger: ['error', 'warn'] });
  await app.listen(0, '127.0.0.1');
  const address = app.getHttpServer().address();
  if (!address || typeof address !== 'object') throw new Error('bare app: no listening address');
  return { url: `http://127.0.0.1:${address.port}/graphql`, close: () => app.close() };
}
