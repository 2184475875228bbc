import { BadGatewayException, Logger } from '@nestjs/common';
import { SmsSender } from './sms-sender';

export interface TwilioCredentials {
  accountSid: string;
  authToken: string;
  from: string;
}

export const TWILIO_TIMEOUT_MS = 10_000;

/**
 * Twilio's Messages API (`POST /2010-04-01/Accounts/{sid}/Messages.json`, basic auth, form body).
 * Any failure (non-2xx, network error, 10 s timeout) is a 502 naming Twilio's status and error
 * code, never the credentials.
 */
export class TwilioSmsSender implements SmsSender {
  private readonly logger = new Logger('Sms');

  constructor(
    private readonly credentials: TwilioCredentials,
    private readonly baseUrl: string,
    private readonly timeoutMs = TWILIO_TIMEOUT_MS,
  ) {}

  async send(to: string, body: string): Promise<void> {
    const { accountSid, authToken, from } = this.credentials;
    const url = `${this.baseUrl.replace(/\/+$/, '')}/2010-04-01/Accounts/${encodeURIComponent(accountSid)}/Messages.json`;
    const basic = Buffer.from(`${accountSid}:${authToken}`, 'utf8').toString('base64');
    let response: Response;
    try {
      response = await fetch(url, {
        method: 'POST',
        headers: {
          authorization: `Basic ${basic}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: new URLSearchParams({ To: to, From: from, Body: body }).toString(),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (err) {
      const timedOut = (err as { name?: unknown } | null)?.name === 'TimeoutError';
      this.logger.warn(`Twilio unreachable: ${timedOut ? 'timed out' : 'network error'}`);
      throw new BadGatewayException(
        timedOut
          ? `The SMS provider did not answer within ${this.timeoutMs / 1000} s`
          : 'The SMS provider could not be reached',
      );
    }
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    let code: unknown;
    try {
      code = ((await response.json()) as { code?: unknown }).code;
    } catch {
      // not JSON: the status says enough
    }
    const detail = `HTTP ${response.status}${typeof code === 'number' ? `, Twilio error ${code}` : ''}`;
    this.logger.warn(`Twilio refused the message (${detail})`);
    throw new BadGatewayException(`The SMS provider refused the message (${detail})`);
  }
}
