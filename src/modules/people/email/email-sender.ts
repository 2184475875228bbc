/** Sends a plain-text email. One implementation per `EMAIL_PROVIDER`. */
export interface EmailSender {
  send(to: string, subject: string, text: string): Promise<void>;
}

export const EMAIL_SENDER = Symbol('EMAIL_SENDER');
/** SendGrid's API origin; injectable so tests point the real sender at a local fake server. */
export const SENDGRID_BASE_URL = Symbol('SENDGRID_BASE_URL');
export const DEFAULT_SENDGRID_BASE_URL = 'https://api.sendgrid.com';
