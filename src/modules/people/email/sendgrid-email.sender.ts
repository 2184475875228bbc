import { BadGatewayException, Logger } from '@nestjs/common';
import { EmailSender } from './email-sender';

export const SENDGRID_TIMEOUT_MS = 10_000;

/**
 * SendGrid's v3 Mail Send API (`POST /v3/mail/send`, Bearer API key, JSON body; 202 when
 * accepted). Any failure (non-2xx, network error, 10 s timeout) is a 502 naming SendGrid's status,
 * never the key.
 */
export class SendGridEmailSender implements EmailSender {
  private readonly logger = new Logger('Email');

  constructor(
    private readonly apiKey: string,
    private readonly from: string,
    private readonly baseUrl: string,
    private readonly timeoutMs = SENDGRID_TIMEOUT_MS,
  ) {}

  async send(to: string, subject: string, text: string): Promise<void> {
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl.replace(/\/+$/, '')}/v3/mail/send`, {
        method: 'POST',
        headers: { authorization: `Bearer ${this.apiKey}`, 'content-type': 'application/json' },
        body: JSON.stringify({
          personalizations: [{ to: [{ email: to }] }],
          from: { email: this.from },
          subject,
          content: [{ type: 'text/plain', value: text }],
        }),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as { name?: unknown } | null)?.name === 'TimeoutError';
      this.logger.warn(`SendGrid unreachable: ${timedOut ? 'timed out' : 'network error'}`);
      throw new BadGatewayException(
        timedOut
          ? `The email provider did not answer within ${this.timeoutMs / 1000} s`
          : 'The email provider could not be reached',
      );
    }
    // The error body may echo the request; only the status is reported.
    await response.body?.cancel();
    if (response.ok) return;
    this.logger.warn(`SendGrid refused the email (HTTP ${response.status})`);
    throw new BadGatewayException(`The email provider refused the email (HTTP ${response.status})`);
  }
}
