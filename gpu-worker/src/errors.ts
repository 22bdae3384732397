import { EnvelopeIntegrityError } from '../../src/contracts/envelope';

/**
 * A failure whose message may leave the worker (job.failed, logs): fixed phrases, column names and
 * counts, never cell values or key material. `permanent` failures are not retried, since the same
 * payload and data would fail the same way.
 */
export class JobError extends Error {
  override readonly name = 'JobError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

/** The data does not fit the request (missing column, no rows, unknown classes…). */
export function dataError(message: string): JobError {
  return new JobError(message, true);
}

/**
 * The message to report for any error. Others' messages are not trusted: a parser may quote a cell,
 * a library may print a tensor. Only the error's class name and the stage are passed on for those.
 */
export function safeMessage(error: unknown, stage: string): string {
  if (error instanceof JobError) return error.message;
  // Fixed phrases by construction (see envelope-format.ts).
  if (error instanceof EnvelopeIntegrityError) return `${stage}: ${error.message}`;
  const name = error instanceof Error && /^[A-Za-z]{1,40}$/.test(error.name) ? error.name : 'Error';
  return `${stage} failed (${name})`;
}

export function isPermanent(error: unknown): boolean {
  return (error instanceof JobError && error.permanent) || error instanceof EnvelopeIntegrityError;
}
