import { randomUUID } from 'node:crypto';
import * as safeEqualModule from '../src/common/crypto/safe-equal';
import { EdgeTokenVerifier } from '../src/modules/auth/edge-token.verifier';
import { HmacSignatureVerifier } from '../src/modules/auth/hmac-signature.verifier';
import { FixtureModule } from './fixtures/fixture.module';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { edgeToken, nowSeconds, signBody } from './helpers/signing';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
  TestEnv,
} from './helpers/test-app';
import { HttpResult } from './helpers/http';

const RELAY_SECRET = 'relay-secret-4f9a1c7e2b';
const HMAC_SECRET = 'hmac-secret-new-5b3d9e1f7a';
const HMAC_PREVIOUS = 'hmac-secret-old-2c8a6f4e0d';
const EDGE_SECRET = 'edge-secret-8d2e6b1a9f';
const BASE = {
  RELAY_WEBHOOK_SECRET: RELAY_SECRET,
  HMAC_SECRET,
  EDGE_SECRET,
};
const HOUR = 3600;

const RELAY = '/__test/relay-echo';
const EDGE = '/__test/edge-echo';
const JSON_TYPE = { 'content-type': 'application/json' };
const BEARER = { authorization: `Bearer ${RELAY_SECRET}` };

/** A body no other test signs, so replay memory never links two tests. */
function uniqueBody(): string {
  return JSON.stringify({ from: '+15555550100', text: 'hi', id: randomUUID() });
}

function sendSigned(
  api: RunningApi,
  body: string,
  secret: string,
  timestamp?: number,
  sentBody: string = body,
): Promise<HttpResult> {
  return api.request('POST', RELAY, {
    headers: { ...JSON_TYPE, ...BEARER, ...signBody(body, secret, timestamp) },
    rawBody: sentBody,
  });
}

function unauthorized(message: string) {
  return { statusCode: 401, error: 'Unauthorized', message };
}

describe('Auth schemes: relay bearer, HMAC signature, edge token (real app, Redis)', () => {
  let db: TestDatabase;
  let env: TestEnv;
  let api: RunningApi;
  const others: RunningApi[] = [];

  /** Another app on the same database and Redis prefix, closed after the file. */
  async function startOther(overrides: Record<string, string | undefined>): Promise<RunningApi> {
    const other = await startApi(testConfig(env, overrides), { modules: [FixtureModule] });
    others.push(other);
    return other;
  }

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { databaseUrl: db.url, redisPrefix: newRedisPrefix() };
    api = await startApi(
      testConfig(env, { ...BASE, HMAC_MODE: 'required', HMAC_SECRET_PREVIOUS: HMAC_PREVIOUS }),
      { modules: [FixtureModule] },
    );
  });

  afterAll(async () => {
    for (const other of others) await other.close();
    await api?.close();
    await clearRedisPrefix(env.redisPrefix);
    await db?.drop();
  });

  afterEach(() => jest.restoreAllMocks());

  it('the signing helper reproduces the documented test vectors', () => {
    const row2 = signBody('{"from":"+15555550100","text":"hi"}', 'test-secret', 1_700_000_000);
    expect(row2['X-Timestamp']).toBe('1700000000');
    expect(row2['X-Signature']).toMatch(/^7bedfbde[0-9a-f]{49}972b972$/);
    expect(edgeToken('luna1', '+15550001111', 'test-secret', 1_700_000_000)).toBe(
      'bHVuYTE6KzE1NTUwMDAxMTExOjE3MDAwMDAwMDA6NmExNzMxYzIxYzk4MWNiOGYxYWRmYmNjMGY2OTZkOGM1YThhYTViNjE1ZWYwODJkYjQ3ZmVlNjlhMmViOThmZQ==',
    );
  });

  describe('relay bearer', () => {
    it('no Authorization → 401 with a JSON error naming the problem', async () => {
      const body = uniqueBody();
      const res = await api.request('POST', RELAY, {
        headers: { ...JSON_TYPE, ...signBody(body, HMAC_SECRET) },
        rawBody: body,
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Missing Authorization: Bearer <relay secret>'));
    });

    it('wrong Bearer → 401 and the response never contains the secret', async () => {
      const body = uniqueBody();
      const res = await api.request('POST', RELAY, {
        headers: {
          ...JSON_TYPE,
          authorization: 'Bearer relay-secret-4f9a1c7e2c',
          ...signBody(body, HMAC_SECRET),
        },
        rawBody: body,
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Invalid relay secret'));
      expect(res.text).not.toContain(RELAY_SECRET);
      expect(JSON.stringify(Object.fromEntries(res.headers))).not.toContain(RELAY_SECRET);
    });

    it('wrong-first-byte and wrong-last-byte secrets take the same constant-time path', async () => {
      const spy = jest.spyOn(safeEqualModule, 'safeEqual');
      const firstWrong = `X${RELAY_SECRET.slice(1)}`;
      const lastWrong = `${RELAY_SECRET.slice(0, -1)}X`;
      const responses: HttpResult[] = [];
      for (const presented of [firstWrong, lastWrong]) {
        responses.push(
          await api.request('POST', RELAY, {
            headers: { ...JSON_TYPE, authorization: `Bearer ${presented}` },
            rawBody: '{}',
          }),
        );
      }
      expect(responses.map((r) => [r.status, r.text])).toEqual([
        [401, JSON.stringify(unauthorized('Invalid relay secret'))],
        [401, JSON.stringify(unauthorized('Invalid relay secret'))],
      ]);
      // Exactly one comparison per request, of the whole presented value with the secret
      // (SHA-256 of both, then timingSafeEqual): no early exit on the first differing byte.
      expect(spy.mock.calls).toEqual([
        [firstWrong, RELAY_SECRET],
        [lastWrong, RELAY_SECRET],
      ]);
    });
  });

  describe('HMAC signature (HMAC_MODE=required)', () => {
    it('a valid signature over the raw body → 200', async () => {
      const body = uniqueBody();
      const res = await sendSigned(api, body, HMAC_SECRET);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        body: JSON.parse(body),
        auth: {
          'relay-bearer': { relay: true, mode: 'secret' },
          hmac: { signed: true, timestamp: expect.any(Number), key: 'current' },
        },
      });
    });

    it('the same body re-serialised with extra whitespace → 401', async () => {
      const body = uniqueBody();
      const reserialised = JSON.stringify(JSON.parse(body), null, 2);
      const res = await sendSigned(api, body, HMAC_SECRET, undefined, reserialised);
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Invalid X-Signature'));
    });

    it('timestamps 301 s in the past or future → 401; 300 s is accepted', async () => {
      const frozen = nowSeconds();
      api.app.get(HmacSignatureVerifier).now = () => frozen;
      try {
        for (const ts of [frozen - 301, frozen + 301]) {
          const res = await sendSigned(api, uniqueBody(), HMAC_SECRET, ts);
          expect(res.status).toBe(401);
          expect(res.body).toEqual(
            unauthorized('X-Timestamp is more than 300 seconds from the server clock'),
          );
        }
        for (const ts of [frozen - 300, frozen + 300]) {
          expect((await sendSigned(api, uniqueBody(), HMAC_SECRET, ts)).status).toBe(200);
        }
      } finally {
        api.app.get(HmacSignatureVerifier).now = () => Math.floor(Date.now() / 1000);
      }
    });

    it('the same signed request twice → the second is 401 (replay)', async () => {
      const body = uniqueBody();
      const headers = { ...JSON_TYPE, ...BEARER, ...signBody(body, HMAC_SECRET) };
      const first = await api.request('POST', RELAY, { headers, rawBody: body });
      const second = await api.request('POST', RELAY, { headers, rawBody: body });
      expect([first.status, second.status]).toEqual([200, 401]);
      expect(second.body).toEqual(unauthorized('Replayed X-Signature'));
    });

    it('identical signed requests in flight at once → exactly one 200', async () => {
      for (let round = 0; round < 3; round++) {
        const body = uniqueBody();
        const headers = { ...JSON_TYPE, ...BEARER, ...signBody(body, HMAC_SECRET) };
        const results = await Promise.all(
          Array.from({ length: 5 }, () => api.request('POST', RELAY, { headers, rawBody: body })),
        );
        expect(results.map((r) => r.status).sort()).toEqual([200, 401, 401, 401, 401]);
      }
    });

    it('no signature → 401', async () => {
      const res = await api.request('POST', RELAY, {
        headers: { ...JSON_TYPE, ...BEARER },
        rawBody: uniqueBody(),
      });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Missing X-Signature and X-Timestamp headers'));
    });

    it('a wrong secret → 401', async () => {
      const res = await sendSigned(api, uniqueBody(), 'not-the-hmac-secret');
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Invalid X-Signature'));
    });

    it('the previous secret is accepted while configured, refused once removed', async () => {
      const during = await sendSigned(api, uniqueBody(), HMAC_PREVIOUS);
      expect(during.status).toBe(200);
      expect(during.body).toMatchObject({ auth: { hmac: { key: 'previous' } } });

      const rotated = await startOther({ ...BASE, HMAC_MODE: 'required' });
      const after = await sendSigned(rotated, uniqueBody(), HMAC_PREVIOUS);
      expect(after.status).toBe(401);
      expect(after.body).toEqual(unauthorized('Invalid X-Signature'));
      expect((await sendSigned(rotated, uniqueBody(), HMAC_SECRET)).status).toBe(200);
    });

    it('HMAC_MODE=optional: unsigned → 200, signed is still verified', async () => {
      const optional = await startOther({ ...BASE, HMAC_MODE: 'optional' });
      const unsigned = await optional.request('POST', RELAY, {
        headers: { ...JSON_TYPE, ...BEARER },
        rawBody: uniqueBody(),
      });
      expect(unsigned.status).toBe(200);
      expect(unsigned.body).toMatchObject({ auth: { hmac: { signed: false } } });
      expect((await sendSigned(optional, uniqueBody(), HMAC_SECRET)).status).toBe(200);
      expect((await sendSigned(optional, uniqueBody(), 'not-the-hmac-secret')).status).toBe(401);
    });
  });

  describe('edge token', () => {
    const edge = (authorization: string | undefined, headers: Record<string, string> = {}) =>
      api.request('POST', EDGE, {
        headers: { ...JSON_TYPE, ...(authorization ? { authorization } : {}), ...headers },
        rawBody: '{"ping":true}',
      });

    it('the raw EDGE_SECRET → 200', async () => {
      const res = await edge(`Bearer ${EDGE_SECRET}`, { 'x-edge-agent-id': 'luna1' });
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        body: { ping: true },
        auth: { 'edge-token': { agentId: 'luna1', mode: 'secret' } },
      });
    });

    it('an HMAC token for the claimed agent → 200 (also 23 h old)', async () => {
      const fresh = edgeToken('luna1', '+15550001111', EDGE_SECRET);
      const res = await edge(`Bearer ${fresh}`, { 'x-edge-agent-id': 'luna1' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({
        auth: { 'edge-token': { agentId: 'luna1', phone: '+15550001111', mode: 'token' } },
      });
      const old = edgeToken('luna1', '+15550001111', EDGE_SECRET, nowSeconds() - 23 * HOUR);
      expect((await edge(`Bearer ${old}`, { 'x-edge-agent-id': 'luna1' })).status).toBe(200);
      // No claimed id: the token's own id stands.
      expect((await edge(`Bearer ${fresh}`)).status).toBe(200);
    });

    it('a token for another agent than X-Edge-Agent-Id (or edge_agent_id) → 401', async () => {
      const token = edgeToken('luna1', '+15550001111', EDGE_SECRET);
      const res = await edge(`Bearer ${token}`, { 'x-edge-agent-id': 'nyx1' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Edge token was issued for a different edge agent'));
      const viaQuery = await api.request('POST', `${EDGE}?edge_agent_id=nyx1`, {
        headers: { ...JSON_TYPE, authorization: `Bearer ${token}` },
        rawBody: '{}',
      });
      expect(viaQuery.status).toBe(401);
    });

    it('an expired token → 401', async () => {
      const expired = edgeToken(
        'luna1',
        '+15550001111',
        EDGE_SECRET,
        nowSeconds() - 24 * HOUR - 301,
      );
      const res = await edge(`Bearer ${expired}`, { 'x-edge-agent-id': 'luna1' });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(unauthorized('Edge token expired'));
    });

    it('a token signed with another secret, garbage, or nothing → 401', async () => {
      const forged = edgeToken('luna1', '+15550001111', 'not-the-edge-secret');
      expect((await edge(`Bearer ${forged}`)).body).toEqual(
        unauthorized('Invalid edge token signature'),
      );
      expect((await edge('Bearer %%%')).status).toBe(401);
      expect((await edge(`Bearer ${RELAY_SECRET}`)).status).toBe(401);
      expect((await edge(undefined)).body).toEqual(
        unauthorized('Missing Authorization: Bearer <edge token>'),
      );
    });

    it('the verifier works on a bare upgrade request (headers + url)', async () => {
      const verifier = api.app.get(EdgeTokenVerifier);
      const token = edgeToken('luna1', '+15550001111', EDGE_SECRET);
      await expect(
        verifier.verify({
          headers: { authorization: `Bearer ${token}` },
          url: '/edge/ws?edge_agent_id=luna1',
        }),
      ).resolves.toEqual({ agentId: 'luna1', phone: '+15550001111', mode: 'token' });
    });
  });

  it('development without secrets: relay and edge routes are open, with one warning each', async () => {
    const open = await startOther({
      RELAY_WEBHOOK_SECRET: undefined,
      EDGE_SECRET: undefined,
      HMAC_MODE: 'optional',
    });
    const relay = await open.request('POST', RELAY, { headers: JSON_TYPE, rawBody: '{}' });
    expect(relay.status).toBe(200);
    expect(relay.body).toMatchObject({
      auth: { 'relay-bearer': { mode: 'open' }, hmac: { signed: false } },
    });
    expect((await open.request('POST', EDGE, { headers: JSON_TYPE, rawBody: '{}' })).status).toBe(
      200,
    );
    // A signature can't be checked without a secret: fail closed rather than pretend.
    const signed = await open.request('POST', RELAY, {
      headers: { ...JSON_TYPE, ...signBody('{}', 'anything') },
      rawBody: '{}',
    });
    expect(signed.body).toEqual(unauthorized('HMAC signing is not configured'));
    // Start-up logs leave nestjs-pino through the first app's logger of this process, so look
    // at every app's capture: the apps with secrets warn nothing, this one warns once per scheme.
    const lines = [api, ...others].flatMap((a) => a.logs.lines);
    const warnings = (pattern: RegExp) =>
      lines
        .filter((line) => pattern.test(line))
        .map((line) => (JSON.parse(line) as { level: number }).level);
    expect(warnings(/RELAY_WEBHOOK_SECRET is not set/)).toEqual([40]);
    expect(warnings(/EDGE_SECRET \(and RELAY_WEBHOOK_SECRET\) is not set/)).toEqual([40]);
  });

  it('never logs a secret', () => {
    const text = [api, ...others].map((a) => a.logs.text()).join('');
    for (const secret of [RELAY_SECRET, HMAC_SECRET, HMAC_PREVIOUS, EDGE_SECRET]) {
      expect(text).not.toContain(secret);
    }
  });
});
