import { Logger } from '@nestjs/common';

const CONNECTION_ERROR =
  /ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN|Connection is closed|Stream isn't writeable/i;

/**
 * Logs a Redis outage once and its end once. ioredis and BullMQ emit 'error' on every reconnect
 * attempt, several a second per connection: an outage of a few minutes would otherwise be
 * thousands of identical lines per process. Errors that are not about the connection are always
 * logged.
 */
export class OutageLog {
  private down = false;
  private retries = 0;

  constructor(
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  readonly error = (err: Error): void => {
    const connectionLost = CONNECTION_ERROR.test(
      `${(err as { code?: string }).code} ${err.message}`,
    );
    if (!connectionLost) {
      this.logger.warn(`${this.what}: ${err.message}`);
      return;
    }
    if (this.down) {
      this.retries++;
      return;
    }
    this.down = true;
    this.retries = 0;
    this.logger.warn(`${this.what} unavailable: ${err.message}`);
  };

  readonly recovered = (): void => {
    if (!this.down) return;
    this.down = false;
    this.logger.log(`${this.what} reconnected (after ${this.retries} failed attempts)`);
  };
}
