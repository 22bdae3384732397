import { subject as asSubject } from '@casl/ability';
import { forbidden } from '../errors/app-error';
import { currentContext } from '../request-context/request-context';
import type { Action, SubjectName } from './ability.factory';

/**
 * The record-level check every service calls before changing a record: the caller's ability must
 * allow `action` on this very object (its conditions, e.g. "an ADMIN cannot touch an OWNER").
 */
export function assertCan(action: Action, subjectName: SubjectName, record: Record<string, unknown>): void {
  const context = currentContext();
  if (!context.ability?.can(action, asSubject(subjectName, { ...record }))) {
    context.pendingAudit.push({
      action: `${subjectName.toLowerCase()}.${action}`,
      resourceType: subjectName,
      resourceId: typeof record.id === 'string' ? record.id : undefined,
      outcome: 'DENIED',
    });
    throw forbidden();
  }
}

export function currentAbility() {
  const { ability } = currentContext();
  if (!ability) throw new Error('No ability: this code path needs a tenant-scoped principal');
  return ability;
}
