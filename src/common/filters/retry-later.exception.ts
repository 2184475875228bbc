import { HttpException } from '@nestjs/common';

/**
 * A refusal that knows when to try again (a 429 with its window, a 503 while the API is
 * saturated): the exception filter sends `retryAfter` seconds as the `Retry-After` header.
 */
export class RetryLaterException extends HttpException {
  constructor(
    message: string,
    status: 429 | 503,
    readonly retryAfter: number,
  ) {
    super(message, status);
  }
}
