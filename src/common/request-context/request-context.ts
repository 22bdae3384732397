import { AsyncLocalStorage } from 'node:async_hooks';
import type { EntityManager, EntityTarget, ObjectLiteral, QueryRunner, Repository } from 'typeorm';
import type { AppAbility } from '../authz/ability.factory';
import { AppError } from '../errors/app-error';
import type { Principal } from './principal';

export interface PendingAuditEvent {
  action: string;
  resourceType?: string;
  resourceId?: string;
  outcome: 'FAILURE' | 'DENIED';
  details?: Record<string, unknown>;
}

/**
 * Everything known about the request in flight, reachable from any code path through
 * AsyncLocalStorage: the principal, its ability, and the tenant-scoped transaction.
 */
export interface RequestContext {
  requestId: string;
  ip: string | null;
  principal?: Principal;
  /** Why authentication failed, raised only when an operation actually needs a principal. */
  authError?: AppError;
  ability?: AppAbility;
  tenantId?: string;
  transaction?: { queryRunner: QueryRunner; manager: EntityManager };
  /** Denials and failures to audit after the request's transaction has rolled back. */
  pendingAudit: PendingAuditEvent[];
  /** Side effects outside the database (deleting objects, enqueueing jobs) that must wait for commit. */
  afterCommit: (() => Promise<void>)[];
  operationName?: string;
  isMutation?: boolean;
}

export const requestContextStorage = new AsyncLocalStorage<RequestContext>();

export function currentContext(): RequestContext {
  const context = requestContextStorage.getStore();
  if (!context) throw new Error('No request context: this code must run inside a request or runInContext()');
  return context;
}

export function newContext(requestId: string, ip: string | null): RequestContext {
  return { requestId, ip, pendingAudit: [], afterCommit: [] };
}

/** The tenant of the current request; throws when the request is not tenant-scoped. */
export function currentTenantId(): string {
  const { tenantId } = currentContext();
  if (!tenantId) throw new Error('This operation needs a tenant-scoped request');
  return tenantId;
}

export function currentManager(): EntityManager {
  const { transaction } = currentContext();
  if (!transaction) throw new Error('No tenant transaction is open for this request');
  return transaction.manager;
}

/**
 * The only way feature services get a repository: bound to the request's transaction, in which
 * `app.tenant_id` is already set, so row-level security scopes every statement.
 */
export function getRepository<T extends ObjectLiteral>(entity: EntityTarget<T>): Repository<T> {
  return currentManager().getRepository(entity);
}
