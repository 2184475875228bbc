import { STATUS_CODES } from 'node:http';
import { ArgumentsHost, Catch, ExceptionFilter, HttpException, Logger } from '@nestjs/common';
import { FastifyReply } from 'fastify';
import { RetryLaterException } from './retry-later.exception';

/** The one error shape of the API (SPEC §6). */
export interface ErrorBody {
  statusCode: number;
  error: string;
  message: string;
}

export function errorBody(statusCode: number, message: string): ErrorBody {
  return { statusCode, error: STATUS_CODES[statusCode] ?? 'Error', message };
}

/**
 * Postgres or Redis being unreachable is an outage, not a bug: the client gets 503 (edge agents
 * retry on it) instead of a 500.
 */
export function isDependencyOutage(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (
    typeof code === 'string' &&
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      'EPIPE',
      '57P01',
      '57P03',
      '08006',
      '08001',
    ].includes(code)
  ) {
    return true;
  }
  return /Connection terminated|timeout exceeded when trying to connect|Connection is closed|Stream isn't writeable|MaxRetriesPerRequestError|Command timed out|Redis unavailable/i.test(
    err.message,
  );
}

@Catch()
export class AllExceptionsFilter implements ExceptionFilter {
  private readonly logger = new Logger('Exceptions');

  catch(exception: unknown, host: ArgumentsHost): void {
    if (host.getType() !== 'http') throw exception;
    const reply = host.switchToHttp().getResponse<FastifyReply>();
    const body = this.toBody(exception);
    if (exception instanceof HttpException) {
      // Deliberate answers (a 503 while the LLM is down) are worth a line, not a stack trace.
      if (body.statusCode >= 500) this.logger.warn(`${body.statusCode}: ${body.message}`);
    } else if (body.statusCode === 503) {
      // An outage fails every request alike: one line each, not a stack trace each.
      this.logger.warn(`503, dependency unavailable: ${(exception as Error).message}`);
    } else if (body.statusCode >= 500) {
      this.logger.error(
        exception instanceof Error ? (exception.stack ?? exception.message) : String(exception),
      );
    }
    if (exception instanceof RetryLaterException) {
      void reply.header('Retry-After', String(exception.retryAfter));
    }
    void reply.status(body.statusCode).send(body);
  }

  private toBody(exception: unknown): ErrorBody {
    if (exception instanceof HttpException) {
      const status = exception.getStatus();
      const response = exception.getResponse();
      const message =
        typeof response === 'string'
          ? response
          : (joinMessage((response as { message?: unknown }).message) ?? exception.message);
      return errorBody(status, message);
    }
    // Errors raised by Fastify itself (body parsing, content type) carry their 4xx status.
    const statusCode = (exception as { statusCode?: unknown })?.statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      return errorBody(statusCode, (exception as Error).message);
    }
    if (isDependencyOutage(exception)) {
      return errorBody(503, 'Service temporarily unavailable, retry shortly');
    }
    return errorBody(500, 'Internal server error');
  }
}

function joinMessage(message: unknown): string | undefined {
  if (Array.isArray(message)) return message.map(String).join('; ');
  return typeof message === 'string' ? message : undefined;
}
