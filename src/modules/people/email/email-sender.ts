/** Sends a plain-text email. One implementation per `EMAIL_PROVIDER`. */
export interface EmailSender {
  send(to: string, subject: string, text: string): Promise<void>;
}

export const EMAIL_SENDER = Symbol('EMAIL_SENDER');
