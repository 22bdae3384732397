import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import { GraphQLSchemaBuilderModule, GraphQLSchemaFactory } from '@nestjs/graphql';
import { writeFileSync } from 'node:fs';
import { lexicographicSortSchema, printSchema } from 'graphql';
import { GRAPHQL_RESOLVERS } from '../graphql-resolvers';
import { SCHEMA_FILE } from '../common/graphql/graphql-options';

/**
 * Writes schema.gql (committed, so integrators can diff the contract) from the code-first
 * resolvers, without a database. test/e2e/schema.e2e-spec.ts checks it matches what the api serves.
 */
async function emit(): Promise<void> {
  const app = await NestFactory.create(GraphQLSchemaBuilderModule, { logger: false });
  await app.init();
  const schema = await app.get(GraphQLSchemaFactory).create(GRAPHQL_RESOLVERS);
  writeFileSync(SCHEMA_FILE, `${printSchema(lexicographicSortSchema(schema))}\n`);
  await app.close();
  process.stdout.write(`wrote ${SCHEMA_FILE}\n`);
}

emit().catch((error) => {
  process.stderr.write(`${(error as Error).stack}\n`);
  process.exit(1);
});
