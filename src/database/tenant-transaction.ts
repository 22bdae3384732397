import type { DataSource } from 'typeorm';
import { currentContext } from '../common/request-context/request-context';
import { runAfterCommit } from './request-transaction.plugin';
import { beginScopedTransaction, finishTransaction } from './scoped-transaction';

/**
 * Runs `work` in a transaction scoped to the request's tenant and makes it the context's
 * transaction, so `getRepository()` works as in GraphQL resolvers. REST handlers that stream use
 * several short ones instead of holding a connection for a whole upload.
 */
export async function inTenantTransaction<T>(dataSource: DataSource, work: () => Promise<T>): Promise<T> {
  const context = currentContext();
  if (context.transaction) return work();
  if (!context.tenantId) throw new Error('inTenantTransaction needs a tenant-scoped request');
  const queryRunner = await beginScopedTransaction(dataSource, { tenantId: context.tenantId });
  context.transaction = { queryRunner, manager: queryRunner.manager };
  let ok = false;
  try {
    const result = await work();
    ok = true;
    return result;
  } finally {
    context.transaction = undefined;
    await finishTransaction(queryRunner, ok);
    const hooks = context.afterCommit.splice(0);
    if (ok) await runAfterCommit(hooks);
  }
}
