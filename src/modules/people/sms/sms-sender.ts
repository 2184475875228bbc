/** Sends a text message to a phone. One implementation per `SMS_PROVIDER`. */
export interface SmsSender {
  send(to: string, body: string): Promise<void>;
}

export const SMS_SENDER = Symbol('SMS_SENDER');
