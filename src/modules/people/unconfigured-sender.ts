import { ServiceUnavailableException } from '@nestjs/common';
import { EmailSender } from './email/email-sender';
import { SmsSender } from './sms/sms-sender';

/**
 * The sender in production when SMS_PROVIDER or EMAIL_PROVIDER is left at `console`: the console
 * senders write each code to the log, which in production would hand sign-in codes to whoever
 * reads the logs. Codes are refused instead (503; the caller discards the challenge), so a
 * deployment without a provider still runs everything else.
 */
export class UnconfiguredSender implements SmsSender, EmailSender {
  constructor(private readonly channel: 'text message' | 'email') {}

  refusal(): ServiceUnavailableException {
    return new ServiceUnavailableException(
      `Codes by ${this.channel} are not set up on this server`,
    );
  }

  async send(): Promise<void> {
    throw this.refusal();
  }
}
