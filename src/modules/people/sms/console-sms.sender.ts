import { Injectable, Logger } from '@nestjs/common';
import { SmsSender } from './sms-sender';

/**
 * Development: the text goes to the log (at info) instead of a phone, so a developer can sign in
 * with the code it holds.
 * Outside production only: there codes are refused instead (UnconfiguredSender).
 */
@Injectable()
export class ConsoleSmsSender implements SmsSender {
  private readonly logger = new Logger('Sms');

  async send(to: string, body: string): Promise<void> {
    this.logger.log(`SMS to ${to}: ${body}`);
  }
}
