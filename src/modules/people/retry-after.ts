import { FastifyReply } from 'fastify';
import { TooManyCodesException } from './one-time-codes.service';

/** Runs the work; a TooManyCodesException it throws gets its `Retry-After` header. */
export async function withRetryAfter<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof TooManyCodesException) {
      void reply.header('Retry-After', String(err.retryAfter));
    }
    throw err;
  }
}
