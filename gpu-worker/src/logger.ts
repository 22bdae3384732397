import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * JSON lines on stdout. Callers log ids, counts, backends and fixed phrases only: a worker handles
 * tenant data and keys, and its logs leave the node, so neither may ever appear in them.
 */
export function createLogger(level: string, bindings: Record<string, unknown> = {}): Logger {
  return pino({ level, base: { service: 'gpu-worker', ...bindings }, timestamp: pino.stdTimeFunctions.isoTime });
}
