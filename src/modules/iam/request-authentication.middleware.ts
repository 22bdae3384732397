import { Injectable, NestMiddleware } from '@nestjs/common';
import type { NextFunction, Request, Response } from 'express';
import { buildAbility } from '../../common/authz/ability.factory';
import { newContext, requestContextStorage } from '../../common/request-context/request-context';
import { requestIdFor } from '../../common/request-context/request-id';
import { AuthenticationService } from './authentication.service';

/**
 * Opens the request context (AsyncLocalStorage) and resolves who is calling, before any resolver
 * or controller runs. It registers after the body parser, whose stream callbacks would otherwise
 * lose the async context.
 */
@Injectable()
export class RequestAuthenticationMiddleware implements NestMiddleware {
  constructor(private readonly authentication: AuthenticationService) {}

  async use(req: Request, res: Response, next: NextFunction): Promise<void> {
    const context = newContext(requestIdFor(req, res), req.ip ?? null);
    try {
      const tenantHeader = req.header('x-tenant-id') || undefined;
      const result = await this.authentication.authenticate(req.header('authorization'), tenantHeader);
      if ('error' in result) context.authError = result.error;
      if ('principal' in result) {
        context.principal = result.principal;
        const { role, tenantId } = result.principal;
        if (role && tenantId) {
          context.tenantId = tenantId;
          context.ability = buildAbility({ role, projectId: result.principal.kind === 'apiKey' ? result.principal.projectId : null });
        }
      }
    } catch (error) {
      return next(error);
    }
    requestContextStorage.run(context, () => next());
  }
}
