import { createServer, IncomingMessage, Server } from 'node:http';
import { AddressInfo } from 'node:net';
import * as jwt from 'jsonwebtoken';
import { SendGridEmailSender } from '../src/modules/people/email/sendgrid-email.sender';
import { TwilioSmsSender } from '../src/modules/people/sms/twilio-sms.sender';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  TEST_JWT_SECRET,
  testConfig,
} from './helpers/test-app';
import { HttpResult } from './helpers/http';

const RELAY_SECRET = 'relay-secret-people-e2e-0123456789';
const ADMIN_KEY = 'admin-key-for-people-e2e-0123456789abcdef';

let seq = 0;
function newPhone(): string {
  return `+1555${String(2_000_000 + ++seq + Math.floor(Math.random() * 1000) * 1000).slice(-7)}`;
}

interface Tokens {
  access_token: string;
  refresh_token: string;
  user_id: string;
  expires_in: number;
}

/** `name=value` of every Set-Cookie, and each cookie's full line. */
function setCookies(res: HttpResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of res.headers.getSetCookie()) out.set(line.split('=')[0], line);
  return out;
}
const cookieValue = (line: string | undefined) => line?.split(';')[0].split('=').slice(1).join('=');

describe('People: phone sign-in, sessions, CSRF, profile (real app, Postgres, Redis)', () => {
  let db: TestDatabase;
  let api: RunningApi;
  /** Every app this file starts (codeFor reads all their logs). */
  const started: RunningApi[] = [];
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(
      testConfig(
        { databaseUrl: db.url, redisPrefix: prefix },
        { RELAY_WEBHOOK_SECRET: RELAY_SECRET, ADMIN_API_KEY: ADMIN_KEY, HMAC_MODE: 'off' },
      ),
    );
    started.push(api);
  });

  afterAll(async () => {
    await api?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  /**
   * The code the console sender logged for this phone (the last one). Outside the request log
   * a process logs through the first app's logger (nestjs-pino's), so a second app's lines are
   * in the first one's capture: every app's capture is read.
   */
  const codeFor = (phone: string): string => {
    const re = new RegExp(`SMS to \\${phone}: Your Archety code is (\\d{6})`, 'g');
    const matches = started.flatMap((app) => [...app.logs.text().matchAll(re)]);
    expect(matches.length).toBeGreaterThan(0);
    return matches[matches.length - 1][1];
  };
  const start = (phone: string, target = api) =>
    target.request('POST', '/auth/verify/start', { body: { phone } });
  const confirm = (body: Record<string, unknown>, target = api) =>
    target.request<Tokens>('POST', '/auth/verify/confirm', { body });
  const signIn = async (phone = newPhone(), name?: string) => {
    expect((await start(phone)).status).toBe(202);
    const res = await confirm({ phone, code: codeFor(phone), ...(name ? { name } : {}) });
    expect(res.status).toBe(200);
    return { phone, res, tokens: res.body, cookies: setCookies(res) };
  };
  const bearer = (t: Tokens) => ({ authorization: `Bearer ${t.access_token}` });
  const cookieHeader = (cookies: Map<string, string>, extra: string[] = []) => ({
    cookie: [...cookies.entries()]
      .map(([name, line]) => `${name}=${cookieValue(line)}`)
      .concat(extra)
      .join('; '),
  });

  describe('one-time codes', () => {
    it('answers the same for a known and an unknown phone, and stores the code hashed', async () => {
      const known = await signIn();
      const unknown = newPhone();
      const a = await start(known.phone);
      const b = await start(unknown);
      expect(a.status).toBe(202);
      expect(b.status).toBe(202);
      expect(a.body).toEqual(b.body);
      expect(a.body).toEqual({ status: 'sent', expires_in: 600 });
      const code = codeFor(unknown);
      const rows = await query<{ code_hash: string }>(
        db.url,
        `SELECT code_hash FROM otp_challenges WHERE handle = $1`,
        [unknown],
      );
      expect(rows).toHaveLength(1);
      expect(rows[0].code_hash).not.toContain(code);
      expect(rows[0].code_hash).toMatch(/^[0-9a-f]{64}$/);
    });

    it('refuses a bad phone with 400 and writes nothing', async () => {
      const before = await query(db.url, `SELECT count(*)::int AS n FROM otp_challenges`);
      const res = await start('5551234567');
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body)).toContain('E.164');
      expect(await query(db.url, `SELECT count(*)::int AS n FROM otp_challenges`)).toEqual(before);
    });

    it('allows 3 codes per phone per 10 minutes: the 4th is 429 with Retry-After', async () => {
      const phone = newPhone();
      for (let i = 0; i < 3; i++) expect((await start(phone)).status).toBe(202);
      const fourth = await start(phone);
      expect(fourth.status).toBe(429);
      const retryAfter = Number(fourth.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // only the latest code counts
      expect((await confirm({ phone, code: codeFor(phone) })).status).toBe(200);
    });

    it('refuses an expired code with 401', async () => {
      const phone = newPhone();
      await start(phone);
      await query(
        db.url,
        `UPDATE otp_challenges SET expires_at = now() - interval '1 second' WHERE handle = $1`,
        [phone],
      );
      const res = await confirm({ phone, code: codeFor(phone) });
      expect(res.status).toBe(401);
      expect(JSON.stringify(res.body)).toContain('expired');
    });

    it('counts wrong codes: after 5 the challenge is dead, even for the right code (429)', async () => {
      const phone = newPhone();
      await start(phone);
      const code = codeFor(phone);
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      for (let i = 1; i <= 5; i++) {
        const res = await confirm({ phone, code: wrong });
        expect(res.status).toBe(401);
      }
      const sixth = await confirm({ phone, code });
      expect(sixth.status).toBe(429);
      const [row] = await query<{ attempts: number; invalidated_at: Date | null }>(
        db.url,
        `SELECT attempts, invalidated_at FROM otp_challenges WHERE handle = $1`,
        [phone],
      );
      expect(row.attempts).toBe(5);
      expect(row.invalidated_at).not.toBeNull();
    });

    it('a code works once', async () => {
      const { phone } = await signIn();
      const again = await confirm({ phone, code: codeFor(phone) });
      expect(again.status).toBe(401);
    });
  });

  describe('confirm', () => {
    it('creates a new person with the name given', async () => {
      const { phone, tokens } = await signIn(newPhone(), 'Ada');
      expect(tokens).toMatchObject({ expires_in: 900 });
      expect(tokens.access_token.split('.')).toHaveLength(3);
      const rows = await query(db.url, `SELECT id, handle, name FROM users WHERE handle = $1`, [
        phone,
      ]);
      expect(rows).toEqual([{ id: tokens.user_id, handle: phone, name: 'Ada' }]);
    });

    it('links to the person iMessage already knows by that phone', async () => {
      const phone = newPhone();
      const msg = await api.request('POST', '/orchestrator/message', {
        headers: { authorization: `Bearer ${RELAY_SECRET}` },
        body: {
          chat_guid: `iMessage;-;${phone}`,
          mode: 'direct',
          sender: phone,
          text: 'hello there',
          timestamp: Math.floor(Date.now() / 1000),
          participants: [phone],
        },
      });
      expect(msg.status).toBe(200);
      const [known] = await query<{ id: string }>(
        db.url,
        `SELECT id FROM users WHERE handle = $1`,
        [phone],
      );
      const { tokens } = await signIn(phone, 'Grace');
      expect(tokens.user_id).toBe(known.id);
      expect(
        await query(db.url, `SELECT count(*)::int AS n FROM users WHERE handle = $1`, [phone]),
      ).toEqual([{ n: 1 }]);

      const profile = await api.request<{
        relationship: { messages_exchanged: number; first_contact_at: string | null };
        personas: { id: string }[];
      }>('GET', '/user/profile', {
        headers: bearer(tokens),
      });
      expect(profile.status).toBe(200);
      expect(profile.body).toMatchObject({ user_id: known.id, phone, name: 'Grace' });
      expect(profile.body.relationship.messages_exchanged).toBeGreaterThanOrEqual(2);
      expect(profile.body.relationship.first_contact_at).not.toBeNull();
      expect(profile.body.personas.length).toBeGreaterThan(0);
    });

    it('sets HTTP-only, SameSite=Lax, Path=/ cookies (not Secure outside production)', async () => {
      const { cookies, tokens } = await signIn();
      const access = cookies.get('archety_access')!;
      const refresh = cookies.get('archety_refresh')!;
      expect(cookieValue(access)).toBe(tokens.access_token);
      expect(cookieValue(refresh)).toBe(tokens.refresh_token);
      for (const line of [access, refresh]) {
        expect(line).toMatch(/; HttpOnly/);
        expect(line).toMatch(/; SameSite=Lax/);
        expect(line).toMatch(/; Path=\//);
        expect(line).not.toMatch(/; Secure/);
      }
    });
  });

  describe('sessions', () => {
    it('tells who is signed in, from the Bearer header or the cookie; 401 when nobody', async () => {
      const { tokens, cookies, phone } = await signIn();
      const viaBearer = await api.request('GET', '/auth/session', { headers: bearer(tokens) });
      expect(viaBearer.status).toBe(200);
      expect(viaBearer.body).toMatchObject({ authenticated: true, user_id: tokens.user_id, phone });
      const viaCookie = await api.request('GET', '/auth/session', {
        headers: cookieHeader(cookies),
      });
      expect(viaCookie.status).toBe(200);
      expect((await api.request('GET', '/auth/session')).status).toBe(401);
    });

    it('rotates the refresh token; reusing a spent one revokes the whole session', async () => {
      const { tokens: first } = await signIn();
      const second = await api.request<Tokens>('POST', '/auth/refresh', {
        body: { refresh_token: first.refresh_token },
      });
      expect(second.status).toBe(200);
      expect(second.body.refresh_token).not.toBe(first.refresh_token);
      expect(second.body.user_id).toBe(first.user_id);
      expect(
        (await api.request('GET', '/auth/session', { headers: bearer(second.body) })).status,
      ).toBe(200);

      // the spent token again: refused, and the family is gone
      const reuse = await api.request('POST', '/auth/refresh', {
        body: { refresh_token: first.refresh_token },
      });
      expect(reuse.status).toBe(401);
      const third = await api.request('POST', '/auth/refresh', {
        body: { refresh_token: second.body.refresh_token },
      });
      expect(third.status).toBe(401);
      expect(
        (await api.request('GET', '/auth/session', { headers: bearer(second.body) })).status,
      ).toBe(401);
      expect((await api.request('GET', '/auth/session', { headers: bearer(first) })).status).toBe(
        401,
      );
      const rows = await query<{ revoked: boolean }>(
        db.url,
        `SELECT revoked_at IS NOT NULL AS revoked FROM refresh_sessions WHERE user_id = $1`,
        [first.user_id],
      );
      expect(rows.length).toBe(2);
      expect(rows.every((r) => r.revoked)).toBe(true);
    });

    it('logout ends the access and refresh tokens at once; other sessions live on', async () => {
      const { tokens, phone } = await signIn();
      const other = await signIn(phone).catch(async () => {
        // the phone's send budget is fine for two sign-ins; this is a second device
        throw new Error('second sign-in failed');
      });
      const out = await api.request('POST', '/auth/logout', { headers: bearer(tokens) });
      expect(out.status).toBe(204);
      expect((await api.request('GET', '/auth/session', { headers: bearer(tokens) })).status).toBe(
        401,
      );
      const refresh = await api.request('POST', '/auth/refresh', {
        body: { refresh_token: tokens.refresh_token },
      });
      expect(refresh.status).toBe(401);
      expect(
        (await api.request('GET', '/auth/session', { headers: bearer(other.tokens) })).status,
      ).toBe(200);
    });
  });

  describe('CSRF (double-submit) on cookie-authenticated mutations', () => {
    const csrf = async () => {
      const res = await api.request<{ csrf_token: string }>('GET', '/auth/csrf-token');
      expect(res.status).toBe(200);
      const line = setCookies(res).get('archety_csrf')!;
      expect(line).toMatch(/; HttpOnly/);
      expect(line).toMatch(/; SameSite=Lax/);
      expect(cookieValue(line)).toBe(res.body.csrf_token);
      return res.body.csrf_token;
    };

    it('refuses without a token or with a wrong one (403); accepts the matching one', async () => {
      const { cookies } = await signIn();
      const token = await csrf();
      const patch = (headers: Record<string, string>) =>
        api.request('PATCH', '/user/profile', { headers, body: { name: 'Csrf' } });

      expect((await patch(cookieHeader(cookies))).status).toBe(403);
      expect((await patch({ ...cookieHeader(cookies, [`archety_csrf=${token}`]) })).status).toBe(
        403,
      );
      expect(
        (
          await patch({
            ...cookieHeader(cookies, [`archety_csrf=${token}`]),
            'x-csrf-token': `${token}x`,
          })
        ).status,
      ).toBe(403);
      // a header without the cookie is no proof either
      expect((await patch({ ...cookieHeader(cookies), 'x-csrf-token': token })).status).toBe(403);
      const ok = await patch({
        ...cookieHeader(cookies, [`archety_csrf=${token}`]),
        'x-csrf-token': token,
      });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ name: 'Csrf' });
      // reads need no token
      expect(
        (await api.request('GET', '/user/profile', { headers: cookieHeader(cookies) })).status,
      ).toBe(200);
    });

    it('exempts Bearer-authenticated requests', async () => {
      const { tokens } = await signIn();
      const res = await api.request('PATCH', '/user/profile', {
        headers: bearer(tokens),
        body: { name: 'Bearer' },
      });
      expect(res.status).toBe(200);
    });

    it('requires it for a refresh from the cookie, and rotates the cookies', async () => {
      const { cookies } = await signIn();
      const refreshCookie = new Map([['archety_refresh', cookies.get('archety_refresh')!]]);
      const without = await api.request('POST', '/auth/refresh', {
        headers: cookieHeader(refreshCookie),
        body: {},
      });
      expect(without.status).toBe(403);
      const token = await csrf();
      const ok = await api.request<Tokens>('POST', '/auth/refresh', {
        headers: {
          ...cookieHeader(refreshCookie, [`archety_csrf=${token}`]),
          'x-csrf-token': token,
        },
        body: {},
      });
      expect(ok.status).toBe(200);
      expect(cookieValue(setCookies(ok).get('archety_refresh'))).toBe(ok.body.refresh_token);
    });
  });

  describe('profile and memories', () => {
    it('reads and updates the profile; unknown fields and bad time zones are 400', async () => {
      const { tokens, phone } = await signIn(newPhone(), 'Lin');
      const read = await api.request('GET', '/user/profile', { headers: bearer(tokens) });
      expect(read.status).toBe(200);
      expect(read.body).toMatchObject({
        user_id: tokens.user_id,
        name: 'Lin',
        phone,
        time_zone: null,
        personas: [],
        relationship: { first_contact_at: null, messages_exchanged: 0, memories_count: 0 },
      });
      const patch = (body: unknown) =>
        api.request('PATCH', '/user/profile', { headers: bearer(tokens), body });
      const ok = await patch({ time_zone: 'Europe/Paris', name: 'Lin B' });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ time_zone: 'Europe/Paris', name: 'Lin B' });

      const unknown = await patch({ handle: '+15550000000' });
      expect(unknown.status).toBe(400);
      expect(JSON.stringify(unknown.body)).toContain('handle');
      for (const tz of ['Mars/Olympus', '+01:00', 'not a zone']) {
        const bad = await patch({ time_zone: tz });
        expect(bad.status).toBe(400);
        expect(JSON.stringify(bad.body)).toContain('time_zone');
      }
      const [row] = await query(db.url, `SELECT handle, time_zone FROM users WHERE id = $1`, [
        tokens.user_id,
      ]);
      expect(row).toEqual({ handle: phone, time_zone: 'Europe/Paris' });
    });

    it('lists and deletes only the person’s own memories (another’s → 404)', async () => {
      const a = await signIn();
      const b = await signIn();
      const insert = async (userId: string, content: string) => {
        const [row] = await query<{ id: string }>(
          db.url,
          `INSERT INTO memories (user_id, type, content, source, dedup_key)
           VALUES ($1, 'preference', $2, 'message', md5($2)) RETURNING id`,
          [userId, content],
        );
        return row.id;
      };
      const mine = await insert(a.tokens.user_id, 'likes hiking');
      const theirs = await insert(b.tokens.user_id, 'likes chess');

      const list = await api.request<{ memories: Record<string, unknown>[] }>(
        'GET',
        '/user/memories',
        { headers: bearer(a.tokens) },
      );
      expect(list.status).toBe(200);
      expect(list.body.memories).toEqual([
        expect.objectContaining({
          id: mine,
          type: 'preference',
          content: 'likes hiking',
          source: 'message',
          created_at: expect.any(String),
        }),
      ]);

      const del = (id: string) =>
        api.request('DELETE', `/user/memories/${id}`, { headers: bearer(a.tokens) });
      expect((await del(theirs)).status).toBe(404);
      expect((await del('not-a-uuid')).status).toBe(400);
      expect((await del(mine)).status).toBe(204);
      expect((await del(mine)).status).toBe(404);
      expect(await query(db.url, `SELECT id FROM memories WHERE id = $1`, [theirs])).toHaveLength(
        1,
      );
    });
  });

  describe('token kinds kept apart', () => {
    it('refuses a user token on a client route and a client token on /user/profile', async () => {
      const { tokens } = await signIn();
      const tools = await api.request('GET', '/v1/tools', { headers: bearer(tokens) });
      expect(tools.status).toBe(401);

      const created = await api.request<{ api_key: string }>('POST', '/admin/clients', {
        headers: { authorization: `Bearer ${ADMIN_KEY}` },
        body: { name: 'people-test' },
      });
      expect(created.status).toBe(201);
      const token = await api.request<{ access_token: string }>('POST', '/auth/token', {
        body: { api_key: created.body.api_key },
      });
      expect(token.status).toBe(200);
      const clientHeaders = { authorization: `Bearer ${token.body.access_token}` };
      expect((await api.request('GET', '/v1/tools', { headers: clientHeaders })).status).toBe(200);
      expect((await api.request('GET', '/user/profile', { headers: clientHeaders })).status).toBe(
        401,
      );
    });
  });

  describe('access tokens (RELIABILITY rows 16–17)', () => {
    const b64 = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
    /** The claims of a real sign-in, to forge variants of it. */
    const claimsOf = (token: string) => jwt.decode(token) as Record<string, unknown>;
    const session = (token: string) =>
      api.request('GET', '/auth/session', { headers: { authorization: `Bearer ${token}` } });
    const now = () => Math.floor(Date.now() / 1000);

    // 27 and 33 rather than 29 and 31: now() is floored, so a request crossing a
    // second boundary would see "29 s" as more than 30 s.
    it('accepts a token 27 s past exp (30 s tolerance), refuses one 33 s past', async () => {
      const { tokens } = await signIn();
      const { sub, sid, aud, typ, jti } = claimsOf(tokens.access_token);
      const sign = (exp: number) =>
        jwt.sign({ sub, sid, aud, typ, jti, iat: exp - 900, exp }, TEST_JWT_SECRET, {
          algorithm: 'HS256',
        });
      expect((await session(tokens.access_token)).status).toBe(200);
      expect((await session(sign(now() - 27))).status).toBe(200);
      const expired = await session(sign(now() - 33));
      expect(expired.status).toBe(401);
      expect(JSON.stringify(expired.body)).toContain('expired');
    });

    it('refuses alg none, HS512, another key, a future nbf and a missing exp', async () => {
      const { tokens } = await signIn();
      const claims = claimsOf(tokens.access_token);
      const { exp: _exp, ...noExp } = claims;
      const forged = [
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}.`,
        `${b64({ alg: 'none', typ: 'JWT' })}.${b64(claims)}`,
        jwt.sign(claims, TEST_JWT_SECRET, { algorithm: 'HS512' }),
        jwt.sign(claims, 'another-secret-of-at-least-32-characters!!', { algorithm: 'HS256' }),
        jwt.sign({ ...claims, nbf: now() + 60 }, TEST_JWT_SECRET, { algorithm: 'HS256' }),
        jwt.sign(noExp, TEST_JWT_SECRET, { algorithm: 'HS256' }),
      ];
      for (const token of forged) {
        const res = await session(token);
        expect({ token, status: res.status }).toEqual({ token, status: 401 });
      }
      // the untouched token still works: the refusals above were about the forgeries
      expect((await session(tokens.access_token)).status).toBe(200);
    });
  });

  describe('per-IP limit on code requests', () => {
    let limited: RunningApi;
    const limitedPrefix = newRedisPrefix();

    beforeAll(async () => {
      limited = await startApi(
        testConfig(
          { databaseUrl: db.url, redisPrefix: limitedPrefix },
          { RELAY_WEBHOOK_SECRET: RELAY_SECRET },
        ),
      );
    });
    afterAll(async () => {
      await limited?.close();
      await clearRedisPrefix(limitedPrefix);
    });

    it('allows 30 starts per IP per 10 minutes, whatever the phones; the 31st is 429', async () => {
      for (let i = 0; i < 30; i++) {
        const res = await start(newPhone(), limited);
        expect(res.status).toBe(202);
      }
      const phone = newPhone();
      const refused = await start(phone, limited);
      expect(refused.status).toBe(429);
      const retryAfter = Number(refused.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(600);
      // refused before anything was written or sent
      expect(
        await query(db.url, `SELECT count(*)::int AS n FROM otp_challenges WHERE handle = $1`, [
          phone,
        ]),
      ).toEqual([{ n: 0 }]);
      expect(limited.logs.text()).not.toContain(`SMS to ${phone}`);
    });
  });

  describe('in production', () => {
    let prod: RunningApi;
    const prodPrefix = newRedisPrefix();
    // Production never logs a code: SMS goes to a (fake) Twilio, email is left unconfigured.
    const twilio = fakeProvider(201, () => JSON.stringify({ sid: 'SM123' }));
    const sentCode = (phone: string): string => {
      const texts = twilio.received
        .map((r) => new URLSearchParams(r.body))
        .filter((form) => form.get('To') === phone);
      expect(texts.length).toBeGreaterThan(0);
      return /(\d{6})/.exec(texts[texts.length - 1].get('Body') ?? '')![1];
    };

    beforeAll(async () => {
      prod = await startApi(
        testConfig(
          { databaseUrl: db.url, redisPrefix: prodPrefix },
          {
            NODE_ENV: 'production',
            RELAY_WEBHOOK_SECRET: RELAY_SECRET,
            EDGE_SECRET: 'edge-secret-people-e2e-0123456789',
            SMS_PROVIDER: 'twilio',
            TWILIO_ACCOUNT_SID: 'AC0123',
            TWILIO_AUTH_TOKEN: 'twilio-token-people-e2e',
            TWILIO_FROM: '+15550001111',
            TWILIO_API_URL: await twilio.start(),
          },
        ),
      );
      started.push(prod);
    });
    afterAll(async () => {
      await prod?.close();
      await twilio.close();
      await clearRedisPrefix(prodPrefix);
    });

    it('refuses email codes with a 503 while no email provider is set, logging and keeping none', async () => {
      const phone = newPhone();
      expect((await start(phone, prod)).status).toBe(202);
      const signedIn = await confirm({ phone, code: sentCode(phone) }, prod);
      expect(signedIn.status).toBe(200);
      const address = `prod-${seq}@example.com`;
      // More than the 3 codes per address and 10 link codes per person an hour: a refusal
      // costs nothing, so it uses up neither limit (never a 429).
      for (let i = 0; i < 11; i++) {
        const res = await prod.request<{ message: string }>('POST', '/user/handles/start', {
          headers: bearer(signedIn.body),
          body: { handle: address },
        });
        expect(res.status).toBe(503);
        expect(res.body.message).toBe('Codes by email are not set up on this server');
      }
      const phoneLink = await prod.request('POST', '/user/handles/start', {
        headers: bearer(signedIn.body),
        body: { handle: newPhone() },
      });
      expect(phoneLink.status).toBe(202);
      expect(
        await query(db.url, `SELECT count(*)::int AS n FROM otp_challenges WHERE handle = $1`, [
          address,
        ]),
      ).toEqual([{ n: 0 }]);
      // Outside requests a process logs through the first app's logger: every capture is read.
      const logged = started.map((app) => app.logs.text()).join('\n');
      expect(logged).toContain('EMAIL_PROVIDER=console in production');
      expect(logged).not.toContain(`Email to ${address}`);
      expect(logged).not.toContain(`SMS to ${phone}`);
    });

    it('refuses text-message codes with a 503 while no SMS provider is set, keeping none', async () => {
      const unconfigured = await startApi(
        testConfig(
          { databaseUrl: db.url, redisPrefix: prodPrefix },
          {
            NODE_ENV: 'production',
            RELAY_WEBHOOK_SECRET: RELAY_SECRET,
            EDGE_SECRET: 'edge-secret-people-e2e-0123456789',
          },
        ),
      );
      try {
        const phone = newPhone();
        // One more than the 3 codes per phone every 10 minutes: refusals are not counted.
        for (let i = 0; i < 4; i++) {
          const res = await start(phone, unconfigured);
          expect(res.status).toBe(503);
          expect((res.body as { message: string }).message).toBe(
            'Codes by text message are not set up on this server',
          );
        }
        expect(
          await query(db.url, `SELECT count(*)::int AS n FROM otp_challenges WHERE handle = $1`, [
            phone,
          ]),
        ).toEqual([{ n: 0 }]);
        const logged = [...started, unconfigured].map((app) => app.logs.text()).join('\n');
        expect(logged).toContain('SMS_PROVIDER=console in production');
        expect(logged).not.toContain(`SMS to ${phone}`);
      } finally {
        await unconfigured.close();
      }
    });

    it('sets Secure cookies with __Host- names, and reads them back', async () => {
      const phone = newPhone();
      expect((await start(phone, prod)).status).toBe(202);
      const res = await confirm({ phone, code: sentCode(phone) }, prod);
      expect(res.status).toBe(200);
      const cookies = setCookies(res);
      expect([...cookies.keys()].sort()).toEqual([
        '__Host-archety_access',
        '__Host-archety_refresh',
      ]);
      for (const line of cookies.values()) {
        expect(line).toMatch(/; HttpOnly/);
        expect(line).toMatch(/; Secure/);
        expect(line).toMatch(/; SameSite=Lax/);
        expect(line).toMatch(/; Path=\//);
        expect(line).not.toMatch(/Domain=/i);
      }
      const csrf = await prod.request<{ csrf_token: string }>('GET', '/auth/csrf-token');
      expect(setCookies(csrf).get('__Host-archety_csrf')).toMatch(/; Secure/);
      const session = await prod.request('GET', '/auth/session', {
        headers: cookieHeader(cookies),
      });
      expect(session.status).toBe(200);
      // the non-prefixed name is not accepted in production
      const plain = await prod.request('GET', '/auth/session', {
        headers: { cookie: `archety_access=${res.body.access_token}` },
      });
      expect(plain.status).toBe(401);
    });
  });
});

/**
 * A local stand-in for an SMS or email provider's API: records each request, answers with
 * `status` after `delayMs` (`reset` restores `okStatus` and no delay), the body from `body`.
 */
function fakeProvider(okStatus: number, body: (ok: boolean) => string) {
  const received: { path: string; auth: string; body: string }[] = [];
  const server: Server = createServer((req: IncomingMessage, res) => {
    let text = '';
    req.on('data', (c: Buffer) => (text += c.toString()));
    req.on('end', () => {
      received.push({ path: req.url ?? '', auth: req.headers.authorization ?? '', body: text });
      setTimeout(() => {
        res.writeHead(fake.status, { 'content-type': 'application/json' });
        res.end(body(fake.status < 300));
      }, fake.delayMs);
    });
  });
  const fake = {
    received,
    status: okStatus,
    delayMs: 0,
    async start(): Promise<string> {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    },
    async close(): Promise<void> {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
    reset(): void {
      fake.status = okStatus;
      fake.delayMs = 0;
      received.length = 0;
    },
  };
  return fake;
}

describe('TwilioSmsSender (against a local fake Twilio)', () => {
  const fake = fakeProvider(201, (ok) =>
    JSON.stringify(ok ? { sid: 'SM123' } : { code: 20003, message: 'Authenticate' }),
  );
  const { received } = fake;
  let url: string;
  beforeAll(async () => (url = await fake.start()));
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const credentials = {
    accountSid: 'AC0123',
    authToken: 'twilio-token-secret',
    from: '+15550001111',
  };

  it('posts the form with basic auth to the Messages resource', async () => {
    await new TwilioSmsSender(credentials, url).send('+15552223333', 'Your code is 123456');
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/2010-04-01/Accounts/AC0123/Messages.json');
    expect(received[0].auth).toBe(
      `Basic ${Buffer.from('AC0123:twilio-token-secret').toString('base64')}`,
    );
    expect(Object.fromEntries(new URLSearchParams(received[0].body))).toEqual({
      To: '+15552223333',
      From: '+15550001111',
      Body: 'Your code is 123456',
    });
  });

  it('turns a refusal into a 502 that names the status, never the credentials', async () => {
    fake.status = 401;
    const err = await new TwilioSmsSender(credentials, url)
      .send('+15552223333', 'x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    const message = (err as Error).message;
    expect(message).toContain('HTTP 401');
    expect(message).toContain('20003');
    expect(message).not.toContain('twilio-token-secret');
    expect(message).not.toContain('AC0123');
  });

  it('gives up after its timeout with a 502', async () => {
    fake.delayMs = 500;
    const err = await new TwilioSmsSender(credentials, url, 100)
      .send('+15552223333', 'x')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect((err as Error).message).toContain('did not answer');
  });
});

describe('SendGridEmailSender (against a local fake SendGrid)', () => {
  const fake = fakeProvider(202, (ok) =>
    ok
      ? ''
      : JSON.stringify({ errors: [{ message: 'The provided authorization grant is invalid' }] }),
  );
  const { received } = fake;
  let url: string;
  beforeAll(async () => (url = await fake.start()));
  afterAll(() => fake.close());
  beforeEach(() => fake.reset());

  const KEY = 'SG.sendgrid-secret-key';

  it('posts the v3 mail body with the Bearer key', async () => {
    await new SendGridEmailSender(KEY, 'codes@archety.example', url).send(
      'sam@icloud.com',
      'Your Archety code',
      'Your code is 123456',
    );
    expect(received).toHaveLength(1);
    expect(received[0].path).toBe('/v3/mail/send');
    expect(received[0].auth).toBe(`Bearer ${KEY}`);
    expect(JSON.parse(received[0].body)).toEqual({
      personalizations: [{ to: [{ email: 'sam@icloud.com' }] }],
      from: { email: 'codes@archety.example' },
      subject: 'Your Archety code',
      content: [{ type: 'text/plain', value: 'Your code is 123456' }],
    });
  });

  it('turns a refusal into a 502 that names the status, never the key', async () => {
    fake.status = 401;
    const err = await new SendGridEmailSender(KEY, 'codes@archety.example', url)
      .send('sam@icloud.com', 's', 't')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect((err as Error).message).toContain('HTTP 401');
    expect((err as Error).message).not.toContain(KEY);
  });

  it('gives up after its timeout with a 502', async () => {
    fake.delayMs = 500;
    const err = await new SendGridEmailSender(KEY, 'codes@archety.example', url, 100)
      .send('sam@icloud.com', 's', 't')
      .catch((e: unknown) => e);
    expect(err).toMatchObject({ status: 502 });
    expect((err as Error).message).toContain('did not answer');
  });
});
