import { AppConfig } from '../../core/config/app-config';

/** The claims that make a JWT a user access token (RFC 8725 §3.12: kinds kept apart). */
export const USER_TOKEN_AUDIENCE = 'archety:user';
export const USER_TOKEN_TYPE = 'user';
export const USER_TOKEN_ALGORITHM = 'HS256';
export const USER_TOKEN_TTL_SECONDS = 15 * 60;
export const REFRESH_TOKEN_TTL_SECONDS = 30 * 24 * 3600; // (ours)
export const CLOCK_TOLERANCE_SECONDS = 30;

export const OTP_TTL_SECONDS = 600;
export const OTP_MAX_ATTEMPTS = 5;
export const OTP_SENDS_PER_WINDOW = 3;
export const OTP_SEND_WINDOW_SECONDS = 600;

export interface UserTokenClaims {
  sub: string;
  /** The session (refresh-token family) the token belongs to: revoking it ends the token. */
  sid: string;
  typ: typeof USER_TOKEN_TYPE;
  aud: string;
  jti: string;
  iat: number;
  exp: number;
}

export interface CookieNames {
  access: string;
  refresh: string;
  csrf: string;
}

/** In production the `__Host-` prefix pins the cookies to this host, Secure, Path=/. */
export function cookieNames(config: AppConfig): CookieNames {
  const prefix = config.isProduction ? '__Host-' : '';
  return {
    access: `${prefix}archety_access`,
    refresh: `${prefix}archety_refresh`,
    csrf: `${prefix}archety_csrf`,
  };
}

/** The cookies of a `Cookie` header (first value wins), without a dependency on the plugin. */
export function parseCookies(header: string | string[] | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  const text = Array.isArray(header) ? header.join('; ') : (header ?? '');
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 1) continue;
    const name = part.slice(0, eq).trim();
    if (name in out) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
    try {
      out[name] = decodeURIComponent(value);
    } catch {
      out[name] = value;
    }
  }
  return out;
}
