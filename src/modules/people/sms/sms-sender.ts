/** Sends a text message to a phone. One implementation per `SMS_PROVIDER`. */
export interface SmsSender {
  send(to: string, body: string): Promise<void>;
}

export const SMS_SENDER = Symbol('SMS_SENDER');
/** The Twilio API origin; injectable so tests point the real sender at a local fake server. */
export const TWILIO_BASE_URL = Symbol('TWILIO_BASE_URL');
export const DEFAULT_TWILIO_BASE_URL = 'https://api.twilio.com';
