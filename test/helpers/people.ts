import { HttpResult } from './http';
import { RunningApi } from './test-app';

/** What a sign-in answers. */
export interface Tokens {
  access_token: string;
  refresh_token: string;
  user_id: string;
  expires_in: number;
}

export interface SignedIn {
  phone: string;
  tokens: Tokens;
  /** Cookie name → its whole Set-Cookie line. */
  cookies: Map<string, string>;
  /** Authorization: Bearer with the access token. */
  bearer: Record<string, string>;
}

let seq = 0;
/** A phone number no other test of the run uses. */
export function newPhone(): string {
  return `+1555${String(1_000_000 + ((++seq * 7_919 + Math.floor(Math.random() * 1e6)) % 8_999_999)).padStart(7, '0')}`;
}

export function setCookies(res: HttpResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) out.set(line.split('=')[0], line);
  return out;
}

export const cookieValue = (line: string | undefined) =>
  line?.split(';')[0].split('=').slice(1).join('=');

/** A `Cookie` header carrying these cookies (and any extra `name=value`). */
export function cookieHeader(
  cookies: Map<string, string>,
  extra: string[] = [],
): { cookie: string } {
  return {
    cookie: [...cookies.entries()]
      .map(([name, line]) => `${name}=${cookieValue(line)}`)
      .concat(extra)
      .join('; '),
  };
}

/** The last code the console senders logged for this handle (by text or by email). */
export function codeFor(api: RunningApi, handle: string): string {
  const escaped = handle.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const re = new RegExp(`(?:SMS|Email) to ${escaped}\\b[^\\n]*?code[^\\n]*? is (\\d{6})`, 'g');
  const matches = [...api.logs.text().matchAll(re)];
  if (!matches.length) throw new Error(`no code was sent to ${handle}`);
  return matches[matches.length - 1][1];
}

/** Signs a person in by phone through the real endpoints (code read from the console sender). */
export async function signIn(
  api: RunningApi,
  phone = newPhone(),
  name?: string,
): Promise<SignedIn> {
  const start = await api.request('POST', '/auth/verify/start', { body: { phone } });
  if (start.status !== 202) throw new Error(`verify/start answered ${start.status}`);
  const res = await api.request<Tokens>('POST', '/auth/verify/confirm', {
    body: { phone, code: codeFor(api, phone), ...(name ? { name } : {}) },
  });
  if (res.status !== 200) throw new Error(`verify/confirm answered ${res.status}`);
  return {
    phone,
    tokens: res.body,
    cookies: setCookies(res),
    bearer: { authorization: `Bearer ${res.body.access_token}` },
  };
}

/** Cookie-session headers with a valid CSRF double-submit pair, for mutating requests. */
export async function csrfHeaders(
  api: RunningApi,
  session: SignedIn,
): Promise<Record<string, string>> {
  const res = await api.request<{ csrf_token: string }>('GET', '/auth/csrf-token');
  const token = res.body.csrf_token;
  return {
    ...cookieHeader(session.cookies, [`archety_csrf=${token}`]),
    'x-csrf-token': token,
  };
}
