import { CanActivate, ExecutionContext, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import { GqlExecutionContext } from '@nestjs/graphql';
import { AppError, badInput, forbidden, unauthenticated } from '../errors/app-error';
import { RequestContext, requestContextStorage } from '../request-context/request-context';
import { ACCESS_RULE, AccessRule } from './decorators';

const MFA_ENFORCED_ROLES = new Set(['OWNER', 'ADMIN']);

/**
 * The single gate in front of every resolver and controller. Handlers without an access rule are
 * refused: forgetting the decorator fails closed.
 */
@Injectable()
export class AuthorizationGuard implements CanActivate {
  constructor(private readonly reflector: Reflector) {}

  canActivate(execution: ExecutionContext): boolean {
    const rule = this.reflector.getAllAndOverride<AccessRule | undefined>(ACCESS_RULE, [execution.getHandler(), execution.getClass()]);
    if (!rule) throw new Error(`No access rule on ${execution.getClass().name}.${execution.getHandler().name}`);
    if (rule.kind === 'public') return true;

    // HTTP requests carry their context in AsyncLocalStorage; graphql-ws subscriptions in theirs.
    const context =
      requestContextStorage.getStore() ??
      (execution.getType<string>() === 'graphql' ? (GqlExecutionContext.create(execution).getContext().lutece as RequestContext | undefined) : undefined);
    if (!context) throw unauthenticated();
    if (context.authError) throw context.authError;
    const { principal } = context;
    if (!principal) throw unauthenticated();

    const isMutation = execution.getType<string>() === 'graphql' && GqlExecutionContext.create(execution).getInfo().operation.operation === 'mutation';

    if (rule.kind === 'authenticated') {
      if (principal.kind !== 'user') throw forbidden('This operation is for signed-in users, not API keys');
      return true;
    }

    if (!context.tenantId || !context.ability) {
      throw badInput('X-Tenant-Id', 'is required: you belong to several tenants, choose one with the X-Tenant-Id header');
    }
    // Tenants that require MFA refuse changes from privileged sessions opened without it.
    if (isMutation && principal.kind === 'user' && principal.requireMfa && !principal.mfa && MFA_ENFORCED_ROLES.has(principal.role!)) {
      context.pendingAudit.push({ action: `${execution.getHandler().name}`, outcome: 'DENIED', details: { reason: 'mfa_required' } });
      throw new AppError('MFA_REQUIRED', 'This tenant requires multi-factor authentication for OWNER and ADMIN changes');
    }
    if (!context.ability.can(rule.action, rule.subject)) {
      context.pendingAudit.push({
        action: `${execution.getHandler().name}`,
        resourceType: rule.subject,
        outcome: 'DENIED',
        details: { required: `${rule.action}:${rule.subject}` },
      });
      throw forbidden();
    }
    return true;
  }
}
