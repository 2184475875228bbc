import { Injectable, Logger } from '@nestjs/common';
import { EmailSender } from './email-sender';

/**
 * Development: the email goes to the log (at info) instead of a mailbox, so a developer can link
 * an address with the code it holds.
 * Outside production only: there codes are refused instead (UnconfiguredSender).
 */
@Injectable()
export class ConsoleEmailSender implements EmailSender {
  private readonly logger = new Logger('Email');

  async send(to: string, subject: string, text: string): Promise<void> {
    this.logger.log(`Email to ${to} (${subject}): ${text}`);
  }
}
