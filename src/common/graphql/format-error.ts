import { unwrapResolverError } from '@apollo/server/errors';
import type { GraphQLFormattedError } from 'graphql';
import { AppError } from '../errors/app-error';

/** Errors Apollo raises before execution; their messages describe the query, not our internals. */
const REQUEST_ERROR_CODES = new Set(['GRAPHQL_PARSE_FAILED', 'GRAPHQL_VALIDATION_FAILED', 'BAD_USER_INPUT', 'BAD_REQUEST', 'PERSISTED_QUERY_NOT_FOUND', 'OPERATION_RESOLUTION_FAILURE']);

/**
 * Variable coercion messages quote the submitted value ("got invalid value 'hunter2…'"), which can be
 * a password or a token: the value is cut out before the message leaves the server.
 */
export function redactValues(message: string): string {
  const coercion = /^(Variable "\$[^"]+") got invalid value [\s\S]*?(?: at "([^"]+)")?(?:; ([^:]*))?(?::[\s\S]*)?$/.exec(message);
  if (!coercion) return message;
  const [, variable, path, rule] = coercion;
  return `${variable} got an invalid value${path ? ` at "${path}"` : ''}${rule ? `; ${rule.trim()}` : ''}`;
}

export function formatGraphQLError(
  formatted: GraphQLFormattedError,
  error: unknown,
  onInternal: (error: unknown) => void,
): GraphQLFormattedError {
  const original = unwrapResolverError(error);
  if (original instanceof AppError) {
    return { message: original.message, path: formatted.path, locations: formatted.locations, extensions: { ...original.extensions } };
  }
  const code = formatted.extensions?.code;
  const reason = formatted.extensions?.reason;
  if (code === 'GRAPHQL_VALIDATION_FAILED' && typeof reason === 'string') {
    // Our query limits (depth, cost, aliases) report as validation errors; Apollo relabels their code.
    return { message: formatted.message, locations: formatted.locations, extensions: { code: 'BAD_USER_INPUT', reason } };
  }
  if (typeof code === 'string' && REQUEST_ERROR_CODES.has(code)) {
    return { message: redactValues(formatted.message), locations: formatted.locations, extensions: { code } };
  }
  onInternal(original);
  return { message: 'Internal server error', path: formatted.path, extensions: { code: 'INTERNAL_SERVER_ERROR' } };
}
