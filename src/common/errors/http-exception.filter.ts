import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import type { Response } from 'express';
import { AppError } from './app-error';

/** REST errors carry the same codes as GraphQL ones: `{ error: { code, message, fields? } }`. */
@Catch()
export class RestExceptionFilter implements ExceptionFilter {
  private readonly logger = new Logger('RestExceptionFilter');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const response = host.switchToHttp().getResponse<Response>();
    if (response.headersSent) {
      this.logger.error({ err: exception }, 'error after the response started streaming');
      response.destroy();
      return;
    }
    if (exception instanceof AppError) {
      response.status(exception.httpStatus).json({ error: { message: exception.message, ...exception.extensions } });
      return;
    }
    if (exception instanceof HttpException && exception.getStatus() < 500) {
      const status = exception.getStatus();
      const code = status === 404 ? 'NOT_FOUND' : status === 413 ? 'PAYLOAD_TOO_LARGE' : 'BAD_USER_INPUT';
      response.status(status).json({ error: { code, message: exception.message } });
      return;
    }
    this.logger.error({ err: exception }, 'unhandled error');
    response.status(500).json({ error: { code: 'INTERNAL_SERVER_ERROR', message: 'Internal server error' } });
  }
}
