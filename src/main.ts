import 'reflect-metadata';
import { NestFactory } from '@nestjs/core';
import type { NestExpressApplication } from '@nestjs/platform-express';
import express, { NextFunction, Request, Response } from 'express';
import { Logger } from 'nestjs-pino';
import { AppModule } from './app.module';
import { resolveBackingServices } from './bootstrap/backing-services';
import { startLocalWorkers } from './bootstrap/local-workers';
import { ConfigError, loadConfig } from './config/config';

/**
 * Parses JSON bodies up to the configured limit. Oversized or malformed bodies are answered here,
 * in the API's error shape, before anything else runs.
 */
function bodyParsing(limitBytes: number) {
  return [
    express.json({ limit: limitBytes }),
    (error: { status?: number; type?: string }, _req: Request, res: Response, next: NextFunction) => {
      if (error?.type === 'entity.too.large') {
        res.status(413).json({ errors: [{ message: `Request body exceeds ${limitBytes} bytes`, extensions: { code: 'BAD_USER_INPUT', reason: 'PAYLOAD_TOO_LARGE' } }] });
      } else if (error?.type === 'entity.parse.failed' || error?.status === 400) {
        res.status(400).json({ errors: [{ message: 'Request body is not valid JSON', extensions: { code: 'BAD_USER_INPUT' } }] });
      } else {
        next(error);
      }
    },
  ];
}

async function bootstrap(): Promise<void> {
  const say = (message: string) => process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: message })}\n`);
  const config = loadConfig();
  const runtime = await resolveBackingServices(config, say);

  const app = await NestFactory.create<NestExpressApplication>(AppModule.forRoot(runtime.config, { emitSchema: false }), {
    bufferLogs: true,
    bodyParser: false,
  });
  app.useLogger(app.get(Logger));
  app.set('trust proxy', runtime.config.trustProxy);
  app.disable('x-powered-by');
  // JSON only where JSON is the contract: dataset uploads stream their body untouched.
  app.use(['/graphql', '/v1/endpoints'], ...bodyParsing(runtime.config.graphql.bodyLimitBytes));

  await app.listen(runtime.config.port, runtime.config.host);
  const workers = startLocalWorkers(runtime.config, say);
  // Stop in order on SIGTERM/SIGINT: stop serving, then local workers, then the servers we started.
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.once(signal, () => {
      void app
        .close()
        .catch(() => undefined)
        .then(() => workers.stop())
        .then(() => runtime.stop())
        .finally(() => process.exit(0));
    });
  }
  const address = app.getHttpServer().address();
  const port = typeof address === 'object' && address ? address.port : runtime.config.port;
  app.get(Logger).log(`Lutece API (${runtime.config.env}) listening on http://localhost:${port}/graphql`, 'Bootstrap');
}

bootstrap().catch((error: unknown) => {
  // One clear line, no stack, for the problems an operator can fix.
  if (error instanceof ConfigError || (error as Error)?.name === 'RedisUnavailableError') {
    process.stderr.write(`lutece: ${(error as Error).message}\n`);
  } else {
    process.stderr.write(`lutece: failed to start: ${(error as Error)?.stack ?? String(error)}\n`);
  }
  process.exit(1);
});
