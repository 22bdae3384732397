import type { Params } from 'nestjs-pino';
import type { RuntimeConfig } from '../../config/runtime-config';
import { requestIdFor } from '../request-context/request-id';

/**
 * JSON logs with the request id on every line. Credentials are redacted by path, and request
 * bodies (passwords, dataset rows, prediction inputs) are never logged at all.
 */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'res.headers["set-cookie"]',
  '*.password',
  '*.refreshToken',
  '*.accessToken',
  '*.secret',
  '*.token',
  '*.totpCode',
];

export function loggerOptions(config: RuntimeConfig): Params {
  return {
    pinoHttp: {
      level: config.logLevel,
      genReqId: (req, res) => requestIdFor(req, res),
      redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
      customProps: () => ({ service: 'lutece-api' }),
      serializers: {
        req: (req: { id: string; method: string; url: string; remoteAddress?: string }) => ({
          id: req.id,
          method: req.method,
          // Query strings may carry filters or cursors but never secrets; the path is enough.
          url: req.url?.split('?')[0],
        }),
        res: (res: { statusCode: number }) => ({ statusCode: res.statusCode }),
      },
      autoLogging: { ignore: (req) => ['/healthz', '/readyz', '/metrics'].includes(req.url ?? '') },
    },
  };
}
