import { FixtureModule, UndeclaredRouteModule } from './fixtures/fixture.module';
import { createTestDatabase, TestDatabase } from './helpers/database';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
  TestEnv,
} from './helpers/test-app';

const SECRETS = {
  RELAY_WEBHOOK_SECRET: 'relay-secret-4f9a1c7e2b',
  EDGE_SECRET: 'edge-secret-8d2e6b1a9f',
  ADMIN_API_KEY: 'admin-key-3c7f0e5d1a',
};

describe('HTTP basics (real app, Postgres, Redis)', () => {
  let db: TestDatabase;
  let env: TestEnv;
  let api: RunningApi;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = { databaseUrl: db.url, redisPrefix: newRedisPrefix() };
    api = await startApi(testConfig(env, SECRETS), { modules: [FixtureModule] });
  });

  afterAll(async () => {
    await api?.close();
    await clearRedisPrefix(env.redisPrefix);
    await db?.drop();
  });

  it('answers /health with every check up', async () => {
    const res = await api.request('GET', '/health');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      status: 'ok',
      checks: {
        database: { status: 'up' },
        redis: { status: 'up' },
        queues: { status: 'up' },
        llm: { status: 'offline', mode: 'offline' },
      },
    });
  });

  it('serves Swagger UI at /docs and the OpenAPI document with every auth scheme', async () => {
    const ui = await api.request('GET', '/docs');
    expect(ui.status).toBe(200);
    expect(ui.text).toContain('swagger');
    for (const asset of ['swagger-ui-bundle.js', 'swagger-ui.css']) {
      const file = await api.request('GET', `/docs/${asset}`);
      expect(file.status).toBe(200);
      expect(file.text.length).toBeGreaterThan(1000);
    }
    const doc = await api.request<{ components: { securitySchemes: object }; paths: object }>(
      'GET',
      '/docs-json',
    );
    expect(doc.status).toBe(200);
    expect(Object.keys(doc.body.components.securitySchemes).sort()).toEqual(
      [
        'admin',
        'client-jwt',
        'edge-registration',
        'edge-token',
        'hmac',
        'relay-bearer',
        'user-jwt',
      ].sort(),
    );
    expect(doc.body.paths).toHaveProperty('/health');
  });

  it('exposes Prometheus metrics by route template and status', async () => {
    await api.request('GET', '/health');
    await api.request('GET', '/no/such/route');
    const res = await api.request('GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    expect(res.text).toMatch(
      /http_requests_total\{method="GET",route="\/health",status="200"\} \d+/,
    );
    expect(res.text).toMatch(/http_request_duration_seconds_bucket\{[^}]*route="\/health"/);
    expect(res.text).toContain('route="unmatched",status="404"');
    expect(res.text).toMatch(/queue_jobs\{queue="photo-analysis",state="waiting"\} 0/);
    expect(res.text).toContain('nodejs_eventloop_lag_seconds');
  });

  it('answers an unknown route with a 404 in the JSON error shape', async () => {
    const res = await api.request('POST', '/nope', { body: {} });
    expect(res.status).toBe(404);
    expect(res.body).toEqual({ statusCode: 404, error: 'Not Found', message: expect.any(String) });
  });

  it('refuses malformed JSON with 400', async () => {
    const res = await api.request('POST', '/__test/echo', {
      rawBody: '{"name": "x",',
      headers: { 'content-type': 'application/json' },
    });
    expect(res.status).toBe(400);
    expect(res.body).toEqual({
      statusCode: 400,
      error: 'Bad Request',
      message: expect.any(String),
    });
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const res = await api.request('POST', '/__test/echo', {
      body: { name: 'x', padding: 'a'.repeat(1024 * 1024 + 10) },
    });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
  });

  it('validates bodies: wrong types and unknown fields are 400s naming the field', async () => {
    const wrongType = await api.request('POST', '/__test/echo', { body: { name: 42 } });
    expect(wrongType.status).toBe(400);
    expect(wrongType.body).toMatchObject({
      message: expect.stringContaining('name must be a string'),
    });

    const unknown = await api.request('POST', '/__test/echo', {
      body: { name: 'a', role: 'admin' },
    });
    expect(unknown.status).toBe(400);
    expect(unknown.body).toMatchObject({
      message: expect.stringContaining('property role should not exist'),
    });

    const ok = await api.request('POST', '/__test/echo', { body: { name: 'a', count: 2 } });
    expect(ok.status).toBe(201);
    expect(ok.body).toEqual({ name: 'a', count: 2 });
  });

  it('keeps or assigns a request id and returns it', async () => {
    const mine = await api.request('GET', '/health', {
      headers: { 'x-request-id': 'req-abc.123' },
    });
    expect(mine.headers.get('x-request-id')).toBe('req-abc.123');
    const assigned = await api.request('GET', '/health');
    expect(assigned.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('logs each request once with its id, level by status, and not the probes', async () => {
    await api.request('POST', '/__test/echo', {
      headers: { 'x-request-id': 'req-log.ok' },
      body: { name: 'a', count: 1 },
    });
    await api.request('GET', '/no/such/route', { headers: { 'x-request-id': 'req-log.404' } });
    await api.request('GET', '/health', { headers: { 'x-request-id': 'req-log.health' } });
    const requestLines = api.logs.lines
      .map((line) => JSON.parse(line) as { msg?: string; req?: { id: string } })
      .filter((line) => line.msg === 'request completed');
    const byId = (id: string) => requestLines.filter((line) => line.req?.id === id);
    expect(byId('req-log.ok')).toEqual([
      expect.objectContaining({
        level: 30,
        req: { id: 'req-log.ok', method: 'POST', url: '/__test/echo' },
        res: { statusCode: 201 },
        responseTime: expect.any(Number),
      }),
    ]);
    expect(byId('req-log.404')).toEqual([
      expect.objectContaining({ level: 40, res: { statusCode: 404 } }),
    ]);
    expect(byId('req-log.health')).toEqual([]);
  });

  it('hides internal errors from the client and logs them without secrets', async () => {
    const res = await api.request('GET', '/__test/boom', {
      headers: { authorization: `Bearer ${SECRETS.RELAY_WEBHOOK_SECRET}` },
    });
    expect(res.status).toBe(500);
    expect(res.body).toEqual({
      statusCode: 500,
      error: 'Internal Server Error',
      message: 'Internal server error',
    });
    expect(api.logs.text()).toContain('exploded while using [REDACTED]');
  });

  it('enforces the declared scheme (admin key: missing 401, wrong 401, right 200)', async () => {
    expect((await api.request('GET', '/__test/admin-only')).status).toBe(401);
    const wrong = await api.request('GET', '/__test/admin-only', {
      headers: { authorization: 'Bearer admin-key-3c7f0e5d1b' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.text).not.toContain(SECRETS.ADMIN_API_KEY);
    const right = await api.request('GET', '/__test/admin-only', {
      headers: { authorization: `Bearer ${SECRETS.ADMIN_API_KEY}` },
    });
    expect(right.status).toBe(200);
  });

  it('never writes a configured secret to any log line', async () => {
    for (const secret of Object.values(SECRETS)) {
      await api.request('POST', '/__test/echo', {
        headers: { authorization: `Bearer ${secret}`, cookie: `session=${secret}` },
        body: { name: secret.slice(0, 20), stray: secret },
      });
      await api.request('GET', `/nope?token=${secret}`);
    }
    const text = api.logs.text();
    expect(text.length).toBeGreaterThan(0);
    for (const secret of Object.values(SECRETS)) expect(text).not.toContain(secret);
  });

  it('refuses to start when a route declares neither @Public nor @Auth', async () => {
    await expect(
      startApi(testConfig(env, SECRETS), { modules: [UndeclaredRouteModule] }),
    ).rejects.toThrow(/UndeclaredController\.open declares neither @Public\(\) nor @Auth/);
  });
});
