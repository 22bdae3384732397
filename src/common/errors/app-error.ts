import { GraphQLError } from 'graphql';

/** The error codes of API.md §Conventions; nothing else reaches a client. */
export type ErrorCode =
  | 'UNAUTHENTICATED'
  | 'MFA_REQUIRED'
  | 'FORBIDDEN'
  | 'NOT_FOUND'
  | 'BAD_USER_INPUT'
  | 'CONFLICT'
  | 'BUDGET_EXCEEDED'
  | 'RATE_LIMITED'
  | 'SERVICE_UNAVAILABLE'
  | 'INTERNAL_SERVER_ERROR';

export const HTTP_STATUS_BY_CODE: Record<ErrorCode, number> = {
  UNAUTHENTICATED: 401,
  MFA_REQUIRED: 401,
  FORBIDDEN: 403,
  NOT_FOUND: 404,
  BAD_USER_INPUT: 400,
  CONFLICT: 409,
  BUDGET_EXCEEDED: 402,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  INTERNAL_SERVER_ERROR: 500,
};

export interface FieldError {
  field: string;
  message: string;
}

/**
 * An error whose message is written for the client. Messages never contain secrets, tokens or
 * submitted values: they name the field and the rule.
 */
export class AppError extends GraphQLError {
  constructor(
    readonly code: ErrorCode,
    message: string,
    extra: Record<string, unknown> = {},
  ) {
    super(message, { extensions: { code, ...extra } });
  }

  get httpStatus(): number {
    return HTTP_STATUS_BY_CODE[this.code];
  }
}

export const unauthenticated = (message = 'Authentication required') => new AppError('UNAUTHENTICATED', message);
export const forbidden = (message = 'You do not have permission to perform this action') =>
  new AppError('FORBIDDEN', message);
export const notFound = (resource: string) => new AppError('NOT_FOUND', `${resource} not found`);
export const conflict = (message: string) => new AppError('CONFLICT', message);
export const rateLimited = (message: string, retryAfterSeconds?: number) =>
  new AppError('RATE_LIMITED', message, retryAfterSeconds ? { retryAfterSeconds } : {});

export function badInput(fields: FieldError[] | string, message?: string): AppError {
  const list = typeof fields === 'string' ? [{ field: fields, message: message ?? 'is invalid' }] : fields;
  const summary = list.map((f) => `${f.field} ${f.message}`).join('; ');
  return new AppError('BAD_USER_INPUT', summary, { fields: list });
}
