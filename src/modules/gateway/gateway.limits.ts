import { RateLimitOptions } from '../../core/rate-limit/rate-limit.options';

/** Every /v1 and /auth/token request: 100/min per client (its own setting overrides). */
export const CLIENT_BUCKET: RateLimitOptions = {
  name: 'client',
  key: 'client',
  limit: 100,
  ttlSeconds: 60,
  clientOverride: true,
};

/** `/v1/chat` also: 10 turns per minute per client. */
export const CHAT_BUCKET: RateLimitOptions = {
  name: 'client-chat',
  key: 'client',
  limit: 10,
  ttlSeconds: 60,
};
