import { generateKeyPairSync, randomUUID } from 'node:crypto';
import * as jwt from 'jsonwebtoken';
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

const ADMIN_KEY = 'admin-key-for-admin-clients-e2e-0123456789';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const AUD = 'archety:api-client';

interface ClientWithKey {
  id: string;
  api_key: string;
  key_prefix: string;
  scopes: string[];
  active: boolean;
}

const b64url = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');

describe('Admin clients and client tokens (real app, Postgres, Redis)', () => {
  let db: TestDatabase;
  let api: RunningApi;
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(
      testConfig({ databaseUrl: db.url, redisPrefix: prefix }, { ADMIN_API_KEY: ADMIN_KEY }),
    );
  });

  afterAll(async () => {
    await api?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  const createClient = async (body: Record<string, unknown> = {}) => {
    const res = await api.request<ClientWithKey>('POST', '/admin/clients', {
      headers: admin,
      body: { name: `client-${randomUUID().slice(0, 6)}`, ...body },
    });
    expect(res.status).toBe(201);
    return res.body;
  };
  const exchange = (apiKey: string) =>
    api.request<{ access_token: string; token_type: string; expires_in: number }>(
      'POST',
      '/auth/token',
      { body: { api_key: apiKey } },
    );
  const tools = (token: string) =>
    api.request('GET', '/v1/tools', { headers: { authorization: `Bearer ${token}` } });
  const claims = (clientId: string, extra: Record<string, unknown> = {}) => {
    const now = Math.floor(Date.now() / 1000);
    return {
      sub: clientId,
      typ: 'client',
      gen: 1,
      aud: AUD,
      jti: randomUUID(),
      iat: now - 60,
      exp: now + 600,
      ...extra,
    };
  };
  const sign = (payload: object) => jwt.sign(payload, TEST_JWT_SECRET, { algorithm: 'HS256' });

  it('refuses the admin API without the admin key (401) and wrong admin key (401)', async () => {
    expect((await api.request('GET', '/admin/clients')).status).toBe(401);
    const wrong = await api.request('GET', '/admin/clients', {
      headers: { authorization: 'Bearer not-the-admin-key' },
    });
    expect(wrong.status).toBe(401);
    expect(wrong.body).toMatchObject({ statusCode: 401, error: 'Unauthorized' });
    // A client token is not an admin key either.
    const client = await createClient();
    const token = (await exchange(client.api_key)).body.access_token;
    const asClient = await api.request('DELETE', `/admin/clients/${client.id}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(asClient.status).toBe(401);
  });

  it('creates, lists, reads and updates clients; unknown fields are refused (400)', async () => {
    const client = await createClient({ rate_limit_per_min: 50, scopes: ['chat', 'history'] });
    expect(client.api_key).toMatch(/^ak_[A-Za-z0-9_-]{43}$/);
    expect(client.key_prefix).toBe(client.api_key.slice(0, 12));
    expect(client).toMatchObject({ scopes: ['chat', 'history'], active: true });

    const list = await api.request<Record<string, unknown>[]>('GET', '/admin/clients', {
      headers: admin,
    });
    expect(list.status).toBe(200);
    const listed = list.body.find((c) => c.id === client.id)!;
    expect(listed).toMatchObject({ rate_limit_per_min: 50, monthly_token_budget: null });
    expect(listed).not.toHaveProperty('api_key');
    const one = await api.request('GET', `/admin/clients/${client.id}`, { headers: admin });
    expect(one.status).toBe(200);
    expect(one.body).not.toHaveProperty('api_key');

    const patched = await api.request('PATCH', `/admin/clients/${client.id}`, {
      headers: admin,
      body: { name: 'renamed', monthly_token_budget: 1000, rate_limit_per_min: null },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: 'renamed',
      monthly_token_budget: 1000,
      rate_limit_per_min: null,
    });

    const massAssignment = await api.request('POST', '/admin/clients', {
      headers: admin,
      body: { name: 'x', role: 'admin', keyHash: 'x' },
    });
    expect(massAssignment.status).toBe(400);
    expect(String((massAssignment.body as { message: string }).message)).toMatch(/role/);
    const badPatch = await api.request('PATCH', `/admin/clients/${client.id}`, {
      headers: admin,
      body: { key_hash: 'x' },
    });
    expect(badPatch.status).toBe(400);
    const badScope = await api.request('POST', '/admin/clients', {
      headers: admin,
      body: { name: 'x', scopes: ['admin'] },
    });
    expect(badScope.status).toBe(400);
    const missing = await api.request('GET', `/admin/clients/${randomUUID()}`, { headers: admin });
    expect(missing.status).toBe(404);
  });

  it('never stores or logs a key in clear (every text/json column of every table)', async () => {
    const client = await createClient();
    expect((await exchange(client.api_key)).status).toBe(200);
    const rekeyed = await api.request<ClientWithKey>(
      'POST',
      `/admin/clients/${client.id}/regenerate-key`,
      { headers: admin },
    );
    const keys = [client.api_key, rekeyed.body.api_key];
    const secrets = keys.flatMap((k) => [k, k.slice(12)]);

    const columns = await query<{ table_name: string; column_name: string }>(
      db.url,
      `SELECT table_name, column_name FROM information_schema.columns
       WHERE table_schema = 'public'
         AND data_type IN ('text', 'character varying', 'jsonb', 'json', 'ARRAY', 'bytea')`,
    );
    expect(columns.length).toBeGreaterThan(10);
    for (const { table_name, column_name } of columns) {
      const [row] = await query<{ n: string }>(
        db.url,
        `SELECT count(*) AS n FROM "${table_name}" WHERE "${column_name}"::text LIKE ANY ($1)`,
        [secrets.map((s) => `%${s}%`)],
      );
      expect(`${table_name}.${column_name}: ${row.n}`).toBe(`${table_name}.${column_name}: 0`);
    }
    const [stored] = await query<{ key_prefix: string; key_hash: string }>(
      db.url,
      `SELECT key_prefix, key_hash FROM api_clients WHERE id = $1`,
      [client.id],
    );
    expect(stored.key_prefix).toHaveLength(12);
    expect(stored.key_hash).toMatch(/^\$2[aby]\$(1[0-9]|[2-3][0-9])\$/);
    for (const secret of secrets) expect(api.logs.text()).not.toContain(secret);
  });

  it('exchanges a key for an HS256 client token; a wrong key is refused', async () => {
    const client = await createClient();
    const res = await exchange(client.api_key);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'bearer', expires_in: 3600 });
    const [header] = res.body.access_token.split('.');
    expect(JSON.parse(Buffer.from(header, 'base64url').toString())).toMatchObject({ alg: 'HS256' });
    const decoded = jwt.decode(res.body.access_token) as Record<string, unknown>;
    expect(decoded).toMatchObject({ sub: client.id, typ: 'client', aud: AUD, gen: 1 });
    expect(decoded.exp).toBe((decoded.iat as number) + 3600);
    expect(typeof decoded.jti).toBe('string');
    expect((await tools(res.body.access_token)).status).toBe(200);

    // Same prefix, wrong secret; unknown prefix; not a key at all.
    for (const wrong of [
      `${client.api_key.slice(0, 12)}${'A'.repeat(34)}`,
      `ak_${'B'.repeat(43)}`,
      'nope',
    ]) {
      const refused = await exchange(wrong);
      expect(refused.status).toBe(401);
    }
    expect((await api.request('POST', '/auth/token', { body: {} })).status).toBe(400);
    const [used] = await query<{ last_used_at: Date | null }>(
      db.url,
      `SELECT last_used_at FROM api_clients WHERE id = $1`,
      [client.id],
    );
    expect(used.last_used_at).not.toBeNull();
  });

  it('enforces exp with 30 s of tolerance, requires exp, honours nbf', async () => {
    const { id } = await createClient();
    // Three seconds either side of the boundary, not one: the verifier floors the
    // clock too, so "29 s ago" read as 30 s once a second boundary passed (CI did).
    const now = Math.floor(Date.now() / 1000);
    expect((await tools(sign(claims(id, { exp: now - 33 })))).status).toBe(401);
    expect((await tools(sign(claims(id, { exp: now - 27 })))).status).toBe(200);
    const noExp = claims(id) as Partial<ReturnType<typeof claims>>;
    delete noExp.exp;
    expect((await tools(sign(noExp))).status).toBe(401);
    expect((await tools(sign(claims(id, { nbf: now + 60 })))).status).toBe(401);
    expect((await tools(sign(claims(id)))).status).toBe(200);
  });

  it('refuses alg none, HS512, RS256, other token kinds and other secrets', async () => {
    const { id } = await createClient();
    const payload = claims(id);
    const none = `${b64url({ alg: 'none', typ: 'JWT' })}.${b64url(payload)}.`;
    expect((await tools(none)).status).toBe(401);
    const hs512 = jwt.sign(payload, TEST_JWT_SECRET, { algorithm: 'HS512' });
    expect((await tools(hs512)).status).toBe(401);
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const rs256 = jwt.sign(payload, privateKey, { algorithm: 'RS256' });
    expect((await tools(rs256)).status).toBe(401);
    expect((await tools(sign(claims(id, { typ: 'user' })))).status).toBe(401);
    expect((await tools(sign(claims(id, { aud: 'archety:user' })))).status).toBe(401);
    const userToken = claims(id, { typ: 'user', aud: 'archety:user' });
    expect((await tools(sign(userToken))).status).toBe(401);
    const otherSecret = jwt.sign(payload, 'another-secret-0123456789abcdef0123', {
      algorithm: 'HS256',
    });
    expect((await tools(otherSecret)).status).toBe(401);
    expect((await tools(sign(claims(randomUUID())))).status).toBe(401);
  });

  it('revokes at once: regenerate, deactivate and delete', async () => {
    const client = await createClient();
    const oldToken = (await exchange(client.api_key)).body.access_token;
    expect((await tools(oldToken)).status).toBe(200); // status now cached in Redis

    const rekeyed = await api.request<ClientWithKey>(
      'POST',
      `/admin/clients/${client.id}/regenerate-key`,
      { headers: admin },
    );
    expect(rekeyed.status).toBe(200);
    expect(rekeyed.body.api_key).not.toBe(client.api_key);
    expect((await tools(oldToken)).status).toBe(401);
    expect((await exchange(client.api_key)).status).toBe(401);
    const newToken = (await exchange(rekeyed.body.api_key)).body.access_token;
    expect((await tools(newToken)).status).toBe(200);

    const off = await api.request('PATCH', `/admin/clients/${client.id}`, {
      headers: admin,
      body: { active: false },
    });
    expect(off.status).toBe(200);
    expect((await tools(newToken)).status).toBe(401);
    expect((await exchange(rekeyed.body.api_key)).status).toBe(401);
    await api.request('PATCH', `/admin/clients/${client.id}`, {
      headers: admin,
      body: { active: true },
    });
    expect((await tools(newToken)).status).toBe(200);

    const deleted = await api.request('DELETE', `/admin/clients/${client.id}`, { headers: admin });
    expect(deleted.status).toBe(204);
    expect((await tools(newToken)).status).toBe(401);
    expect((await exchange(rekeyed.body.api_key)).status).toBe(401);
    const again = await api.request('DELETE', `/admin/clients/${client.id}`, { headers: admin });
    expect(again.status).toBe(404);
  });

  it('checks scopes per route (403)', async () => {
    const client = await createClient({ scopes: ['history'] });
    const token = (await exchange(client.api_key)).body.access_token;
    const res = await tools(token);
    expect(res.status).toBe(403);
    expect(String((res.body as { message: string }).message)).toMatch(/tools/);
    const chat = await api.request('POST', '/v1/chat', {
      headers: { authorization: `Bearer ${token}` },
      body: { message: 'hi' },
    });
    expect(chat.status).toBe(403);
  });
});
