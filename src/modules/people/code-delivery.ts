import { Inject, Injectable } from '@nestjs/common';
import { handleKind } from '../../common/validation/handle.validator';
import { EMAIL_SENDER, EmailSender } from './email/email-sender';
import { SMS_SENDER, SmsSender } from './sms/sms-sender';
import { UnconfiguredSender } from './unconfigured-sender';

export interface CodeMessage {
  /** The email subject (a text message has none). */
  subject: string;
  text: string;
}

/** Gets a one-time code to a handle: a text message to a phone, an email to an address. */
@Injectable()
export class CodeDelivery {
  constructor(
    @Inject(SMS_SENDER) private readonly sms: SmsSender,
    @Inject(EMAIL_SENDER) private readonly email: EmailSender,
  ) {}

  /**
   * Throws the 503 of a channel without a provider (production left at `console`) before any
   * code is made or counted: a refusal costs nothing, so it must not use up anyone's limits.
   */
  ensureDeliverable(handle: string): void {
    const kind = handleKind(handle);
    const sender = kind === 'phone' ? this.sms : kind === 'email' ? this.email : undefined;
    if (sender instanceof UnconfiguredSender) throw sender.refusal();
  }

  async send(handle: string, message: CodeMessage): Promise<void> {
    switch (handleKind(handle)) {
      case 'phone':
        return this.sms.send(handle, message.text);
      case 'email':
        return this.email.send(handle, message.subject, message.text);
      default:
        throw new Error('a code can only go to a phone number or an email address');
    }
  }
}
