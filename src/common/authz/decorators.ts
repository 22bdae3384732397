import { SetMetadata } from '@nestjs/common';
import type { Action, SubjectName } from './ability.factory';

export const ACCESS_RULE = 'lutece:access-rule';

export type AccessRule =
  | { kind: 'public' }
  | { kind: 'authenticated'; allowWithoutMfa?: boolean }
  | { kind: 'ability'; action: Action; subject: SubjectName };

/** Callable without credentials (sign-up, login, token refresh). */
export const Public = () => SetMetadata(ACCESS_RULE, { kind: 'public' } satisfies AccessRule);

/** Any signed-in user, no tenant needed (`me`, MFA enrollment). */
export const Authenticated = (options: { allowWithoutMfa?: boolean } = {}) =>
  SetMetadata(ACCESS_RULE, { kind: 'authenticated', ...options } satisfies AccessRule);

/** The coarse permission: the caller's role in the current tenant must allow `action` on `subject`. */
export const Can = (action: Action, subject: SubjectName) =>
  SetMetadata(ACCESS_RULE, { kind: 'ability', action, subject } satisfies AccessRule);
