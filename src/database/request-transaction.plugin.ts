import type { ApolloServerPlugin, GraphQLRequestListener } from '@apollo/server';
import type { DataSource } from 'typeorm';
import { AppError } from '../common/errors/app-error';
import { requestContextStorage } from '../common/request-context/request-context';
import { beginScopedTransaction, finishTransaction } from './scoped-transaction';

/**
 * One transaction per GraphQL operation, opened once the operation is known and the caller has a
 * tenant, with `app.tenant_id` set. It commits before the response is sent when there is no error
 * and rolls back otherwise: a failed mutation leaves no partial row. Denials collected during the
 * request are audited afterwards, in a transaction of their own.
 */
export async function runAfterCommit(hooks: (() => Promise<void>)[]): Promise<void> {
  for (const hook of hooks) await hook().catch(() => undefined);
}

export function requestTransactionPlugin(dataSource: DataSource, flushPendingAudit: () => Promise<void>): ApolloServerPlugin {
  return {
    async requestDidStart(): Promise<GraphQLRequestListener<Record<string, unknown>>> {
      return {
        async didResolveOperation({ operation, operationName }) {
          const context = requestContextStorage.getStore();
          if (!context) return;
          context.operationName = operationName ?? undefined;
          context.isMutation = operation?.operation === 'mutation';
          if (context.tenantId && context.principal) {
            const queryRunner = await beginScopedTransaction(dataSource, { tenantId: context.tenantId });
            context.transaction = { queryRunner, manager: queryRunner.manager };
          }
        },
        async willSendResponse({ response, errors }) {
          const context = requestContextStorage.getStore();
          if (!context) return;
          const transaction = context.transaction;
          context.transaction = undefined;
          const responseErrors = response.body.kind === 'single' ? (response.body.singleResult.errors ?? []) : [];
          const failed = Boolean(errors?.length) || responseErrors.length > 0;
          if (context.isMutation && failed && context.tenantId && context.pendingAudit.length === 0) {
            context.pendingAudit.push({
              action: `mutation.${context.operationName ?? 'anonymous'}`,
              outcome: 'FAILURE',
              details: { codes: [...new Set(responseErrors.map((e) => String(e.extensions?.code ?? 'UNKNOWN')))] },
            });
          }
          if (transaction) {
            try {
              await finishTransaction(transaction.queryRunner, !failed);
              if (!failed) await runAfterCommit(context.afterCommit.splice(0));
            } catch {
              if (response.body.kind === 'single') {
                const error = new AppError('SERVICE_UNAVAILABLE', 'The change could not be committed; retry the request');
                response.body.singleResult = { errors: [{ message: error.message, extensions: error.extensions }] };
              }
            }
          }
          await flushPendingAudit();
        },
      };
    },
  };
}
