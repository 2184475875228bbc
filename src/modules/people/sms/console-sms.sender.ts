import { Injectable, Logger } from '@nestjs/common';
import { SmsSender } from './sms-sender';

/**
 * Development: the text goes to the log (at info) instead of a phone, so a developer can sign in
 * with the code it holds. Never the provider in a real deployment.
 */
@Injectable()
export class ConsoleSmsSender implements SmsSender {
  private readonly logger = new Logger('Sms');

  async send(to: string, body: string): Promise<void> {
    this.logger.log(`SMS to ${to}: ${body}`);
  }
}
