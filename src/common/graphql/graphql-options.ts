import { ApolloDriverConfig } from '@nestjs/apollo';
import { Logger } from '@nestjs/common';
import { ApolloArmor } from '@escape.tech/graphql-armor';
import { join } from 'node:path';
import type { ValidationContext } from 'graphql';
import type { DataSource } from 'typeorm';
import type { RuntimeConfig } from '../../config/runtime-config';
import { requestTransactionPlugin } from '../../database/request-transaction.plugin';
import { AppError } from '../errors/app-error';
import type { RequestContext } from '../request-context/request-context';
import { formatGraphQLError } from './format-error';

export interface WebSocketAuthenticator {
  contextFor(authorization: string | undefined, tenantId: string | undefined): Promise<RequestContext | null>;
}

export type ApolloPlugins = NonNullable<ApolloDriverConfig['plugins']>;

export const SCHEMA_FILE = join(process.cwd(), 'schema.gql');

function rejectAs(reason: string, describe: string) {
  return [
    (context: ValidationContext | null) =>
      context?.reportError(new AppError('BAD_USER_INPUT', describe, { reason })),
  ];
}

export function graphqlOptions(
  config: RuntimeConfig,
  dataSource: DataSource,
  flushPendingAudit: () => Promise<void>,
  metricsPlugin: unknown[],
  emitSchema: boolean,
  authentication: WebSocketAuthenticator,
): ApolloDriverConfig {
  const logger = new Logger('GraphQL');
  const { maxDepth, maxCost, maxAliases } = config.graphql;
  const armor = new ApolloArmor({
    maxDepth: { n: maxDepth, propagateOnRejection: false, onReject: rejectAs('QUERY_TOO_DEEP', `Query is nested deeper than the limit of ${maxDepth}`) },
    costLimit: { maxCost, propagateOnRejection: false, onReject: rejectAs('QUERY_TOO_COSTLY', `Query cost exceeds the limit of ${maxCost}`) },
    maxAliases: { n: maxAliases, propagateOnRejection: false, onReject: rejectAs('TOO_MANY_ALIASES', `Query uses more than ${maxAliases} aliases`) },
    maxDirectives: { n: 50 },
    maxTokens: { n: 5000 },
    blockFieldSuggestion: { enabled: config.isProduction },
  });
  const protection = armor.protect();
  return {
    path: '/graphql',
    autoSchemaFile: emitSchema ? SCHEMA_FILE : true,
    sortSchema: true,
    introspection: !config.isProduction,
    graphiql: !config.isProduction,
    csrfPrevention: true,
    includeStacktraceInErrorResponses: false,
    allowBatchedHttpRequests: false,
    validationRules: protection.validationRules,
    // Nest's driver is ESM and sees @apollo/server's ESM typings; ours are its CommonJS twins. The
    // plugin objects are plain and identical at runtime, only their declared types differ.
    plugins: [...protection.plugins, ...(metricsPlugin ?? []), requestTransactionPlugin(dataSource, flushPendingAudit)] as unknown as ApolloPlugins,
    subscriptions: {
      'graphql-ws': {
        path: '/graphql',
        // Credentials arrive in connectionParams ({ authorization, 'x-tenant-id' }); a refused
        // connection closes with 4403 before any subscription runs.
        onConnect: async (ctx) => {
          const params = (ctx.connectionParams ?? {}) as Record<string, unknown>;
          const context = await authentication.contextFor(
            typeof params.authorization === 'string' ? params.authorization : undefined,
            typeof params['x-tenant-id'] === 'string' ? params['x-tenant-id'] : undefined,
          );
          if (!context) return false;
          (ctx.extra as { lutece?: unknown }).lutece = context;
          return true;
        },
      },
    },
    context: ({ req, extra }: { req?: unknown; extra?: { lutece?: unknown } }) => (extra?.lutece ? { lutece: extra.lutece } : { req }),
    formatError: (formatted, error) =>
      formatGraphQLError(formatted, error, (internal) => logger.error({ err: internal }, 'unexpected error in a resolver')),
  };
}
