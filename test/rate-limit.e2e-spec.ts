import { AppConfig } from '../src/core/config/app-config';
import { RateLimitFixtureModule } from './fixtures/rate-limit-fixture.module';
import { createTestDatabase, TestDatabase } from './helpers/database';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
  TestEnv,
} from './helpers/test-app';
import { HttpResult } from './helpers/http';

const ADMIN_API_KEY = 'admin-key-7e1f3a9c5b';
const LIMIT = 5;

/** Requests from a given client IP (the app trusts X-Forwarded-For, as behind a proxy). */
const from = (ip: string) => ({ 'x-forwarded-for': ip });

function expectLimitHeaders(res: HttpResult, limit: number, remaining: number, window = 60) {
  expect(res.headers.get('x-ratelimit-limit')).toBe(String(limit));
  expect(res.headers.get('x-ratelimit-remaining')).toBe(String(remaining));
  const reset = Number(res.headers.get('x-ratelimit-reset'));
  expect(reset).toBeGreaterThanOrEqual(1);
  expect(reset).toBeLessThanOrEqual(window);
}

function expectRetryAfter(res: HttpResult, window = 60) {
  const retryAfter = res.headers.get('retry-after');
  expect(retryAfter).toMatch(/^\d+$/);
  expect(Number(retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(retryAfter)).toBeLessThanOrEqual(window);
}

describe('Rate limiting (real app, Redis storage shared by instances)', () => {
  let db: TestDatabase;
  let env: TestEnv;
  let config: AppConfig;
  let api: RunningApi;
  let api2: RunningApi;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { databaseUrl: db.url, redisPrefix: newRedisPrefix() };
    config = testConfig(env, {
      // The tests play several client IPs through X-Forwarded-For.
      TRUST_PROXY: 'true',
      APP_ROLE: 'api',
      ADMIN_API_KEY,
      RATE_LIMIT_ORCHESTRATOR_PER_MIN: String(LIMIT),
    });
    // Two replicas of the API on the same Redis (and the same key prefix), as behind a load balancer.
    [api, api2] = await Promise.all([
      startApi(config, { modules: [RateLimitFixtureModule] }),
      startApi(config, { modules: [RateLimitFixtureModule] }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([api?.close(), api2?.close()]);
    await clearRedisPrefix(env.redisPrefix);
    await db?.drop();
  });

  it('limits per sender (not per IP): the 6th message → 429 with Retry-After; another sender passes', async () => {
    const sender = '+15550100001';
    for (let i = 0; i < LIMIT; i++) {
      // A different IP each time: the sender is what counts.
      const res = await api.request('POST', '/__rate/message', {
        body: { sender, text: `hi ${i}` },
        headers: from(`198.51.100.${i + 1}`),
      });
      expect(res.status).toBe(200);
      expectLimitHeaders(res, LIMIT, LIMIT - 1 - i);
    }

    const refused = await api.request('POST', '/__rate/message', {
      body: { sender, text: 'one too many' },
      headers: from('198.51.100.99'),
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toEqual({
      statusCode: 429,
      error: 'Too Many Requests',
      message: `Rate limit exceeded: ${LIMIT} requests per 60 s for this sender`,
    });
    expectRetryAfter(refused);
    expectLimitHeaders(refused, LIMIT, 0);

    // Exactly these header names (HTTP names are case-insensitive; Fastify writes them in lower
    // case): no throttler-name suffix such as `retry-after-orchestrator`.
    expect([...refused.headers.keys()].filter((n) => /ratelimit|retry/i.test(n)).sort()).toEqual([
      'retry-after',
      'x-ratelimit-limit',
      'x-ratelimit-remaining',
      'x-ratelimit-reset',
    ]);

    // Same IP as the refused request, another sender: untouched budget.
    const other = await api.request('POST', '/__rate/message', {
      body: { sender: '+15550100002', text: 'hello' },
      headers: from('198.51.100.99'),
    });
    expect(other.status).toBe(200);
    expectLimitHeaders(other, LIMIT, LIMIT - 1);
    expect(other.headers.get('retry-after')).toBeNull();
  });

  it('treats the sender case-insensitively (Apple ID e-mails)', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const sender = i % 2 ? 'Someone@Example.com' : 'someone@example.com ';
      const res = await api.request('POST', '/__rate/message', { body: { sender } });
      expect(res.status).toBe(200);
    }
    const res = await api.request('POST', '/__rate/message', {
      body: { sender: 'SOMEONE@EXAMPLE.COM' },
    });
    expect(res.status).toBe(429);
  });

  it('falls back to the client IP when the body has no sender', async () => {
    for (let i = 0; i < LIMIT; i++) {
      const res = await api.request('POST', '/__rate/message', {
        body: { text: 'no sender' },
        headers: from('203.0.113.7'),
      });
      expect(res.status).toBe(200);
      expectLimitHeaders(res, LIMIT, LIMIT - 1 - i);
    }
    const refused = await api.request('POST', '/__rate/message', {
      body: { text: 'no sender' },
      headers: from('203.0.113.7'),
    });
    expect(refused.status).toBe(429);
    expect(refused.body).toMatchObject({
      message: `Rate limit exceeded: ${LIMIT} requests per 60 s for this IP address`,
    });
    expectRetryAfter(refused);

    const otherIp = await api.request('POST', '/__rate/message', {
      body: { text: 'no sender' },
      headers: from('203.0.113.8'),
    });
    expect(otherIp.status).toBe(200);
    // A sender coming from the exhausted IP is counted by sender, not refused.
    const withSender = await api.request('POST', '/__rate/message', {
      body: { sender: '+15550100003' },
      headers: from('203.0.113.7'),
    });
    expect(withSender.status).toBe(200);
  });

  it('enforces one limit across two app instances on the same Redis', async () => {
    const sender = '+15550100004';
    const statuses: number[] = [];
    for (let i = 0; i < LIMIT + 2; i++) {
      const instance = i % 2 === 0 ? api : api2;
      const res = await instance.request('POST', '/__rate/message', { body: { sender } });
      statuses.push(res.status);
      if (res.status === 200) expectLimitHeaders(res, LIMIT, LIMIT - 1 - i);
    }
    // In-memory storage would have allowed 2 × LIMIT here.
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(200), 429, 429]);
  });

  it('counts concurrent requests over both instances exactly', async () => {
    const sender = '+15550100005';
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        (i % 2 ? api : api2).request('POST', '/__rate/message', { body: { sender } }),
      ),
    );
    expect(results.filter((r) => r.status === 200)).toHaveLength(LIMIT);
    expect(results.filter((r) => r.status === 429)).toHaveLength(20 - LIMIT);
  });

  it('checks after authentication: rejected credentials spend no budget', async () => {
    const ip = from('192.0.2.50');
    for (let i = 0; i < 4; i++) {
      const res = await api.request('GET', '/__rate/admin', {
        headers: { ...ip, authorization: 'Bearer wrong' },
      });
      expect(res.status).toBe(401);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
    const auth = { ...ip, authorization: `Bearer ${ADMIN_API_KEY}` };
    expect((await api.request('GET', '/__rate/admin', { headers: auth })).status).toBe(200);
    expect((await api.request('GET', '/__rate/admin', { headers: auth })).status).toBe(200);
    expect((await api.request('GET', '/__rate/admin', { headers: auth })).status).toBe(429);
  });

  it('opens the window again once it has expired', async () => {
    const ip = from('192.0.2.60');
    expect((await api.request('GET', '/__rate/short', { headers: ip })).status).toBe(200);
    expect((await api.request('GET', '/__rate/short', { headers: ip })).status).toBe(200);
    const refused = await api.request('GET', '/__rate/short', { headers: ip });
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('1');
    expectLimitHeaders(refused, 2, 0, 1);
    await new Promise((r) => setTimeout(r, 1100));
    const again = await api.request('GET', '/__rate/short', { headers: ip });
    expect(again.status).toBe(200);
    expectLimitHeaders(again, 2, 1, 1);
  });

  it('stacks limits: reports the tightest, and names the one that tripped', async () => {
    const ip = from('192.0.2.70');
    const post = (sender: string) =>
      api.request('POST', '/__rate/stacked', { body: { sender }, headers: ip });
    for (let i = 0; i < 3; i++) {
      const res = await post('+15550100006');
      expect(res.status).toBe(200);
      expectLimitHeaders(res, 3, 2 - i); // sender (3) is tighter than IP (5)
    }
    const senderTripped = await post('+15550100006');
    expect(senderTripped.status).toBe(429);
    expect(senderTripped.body).toMatchObject({ message: expect.stringContaining('this sender') });
    expectLimitHeaders(senderTripped, 3, 0);

    // Another sender from the same IP: the IP has 4 of 5 spent (refused requests count too).
    const fifth = await post('+15550100007');
    expect(fifth.status).toBe(200);
    expectLimitHeaders(fifth, 5, 0); // IP (0 left) is now tighter than the sender (2 left)
    const ipTripped = await post('+15550100007');
    expect(ipTripped.status).toBe(429);
    expect(ipTripped.body).toMatchObject({
      message: 'Rate limit exceeded: 5 requests per 60 s for this IP address',
    });
    expectRetryAfter(ipTripped);
  });

  it('does not limit routes without @RateLimit', async () => {
    for (let i = 0; i < 15; i++) {
      const res = await api.request('GET', '/__rate/unlimited');
      expect(res.status).toBe(200);
      expect(res.headers.get('x-ratelimit-limit')).toBeNull();
    }
  });

  it('documents the 429 in Swagger', async () => {
    const doc = await api.request<{ paths: Record<string, Record<string, { responses: object }>> }>(
      'GET',
      '/docs-json',
    );
    expect(doc.body.paths['/__rate/message'].post.responses).toHaveProperty('429');
    expect(doc.body.paths['/__rate/unlimited'].get.responses).not.toHaveProperty('429');
  });
});
