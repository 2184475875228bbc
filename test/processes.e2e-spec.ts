import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { startNode } from './helpers/processes';
import { clearRedisPrefix, newRedisPrefix, TEST_JWT_SECRET } from './helpers/test-app';

/**
 * The built entrypoints as real processes: what `npm start` and the container run. `npm test`
 * builds first (pretest), so dist/ is current.
 */
const DIST = join(__dirname, '..', 'dist');
const SECRETS = {
  RELAY_WEBHOOK_SECRET: 'proc-relay-secret-1b2c3d',
  EDGE_SECRET: 'proc-edge-secret-4e5f6a',
  ADMIN_API_KEY: 'proc-admin-key-7b8c9d',
};

function run(script: string, env: Record<string, string>) {
  return startNode(script, join(DIST, script), env);
}

function listeningPorts(pid: number): string[] {
  const out = execFileSync('ss', ['-ltnpH']).toString();
  return out.split('\n').filter((line) => line.includes(`pid=${pid},`));
}

describe('entrypoints as processes', () => {
  let db: TestDatabase;
  const prefix = newRedisPrefix();
  let env: Record<string, string>;

  beforeAll(async () => {
    expect(existsSync(join(DIST, 'main.js'))).toBe(true);
    db = await createTestDatabase();
    env = {
      NODE_ENV: 'test',
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      REDIS_KEY_PREFIX: prefix,
      JWT_SECRET: TEST_JWT_SECRET,
      ...SECRETS,
    };
  });

  afterAll(async () => {
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  it('APP_ROLE=worker node dist/worker.js opens no port and exits 0 on SIGTERM within 10 s', async () => {
    const worker = run('worker.js', { ...env, APP_ROLE: 'worker' });
    await worker.waitFor(/worker started for queues/);
    expect(listeningPorts(worker.child.pid!)).toEqual([]);
    const sent = Date.now();
    worker.child.kill('SIGTERM');
    const { code, at } = await worker.exit;
    expect(code).toBe(0);
    expect(at - sent).toBeLessThan(10_000);
    expect(worker.output()).toContain('shutdown complete');
  });

  it('node dist/main.js serves, keeps secrets out of its logs and exits 0 on SIGTERM within 10 s', async () => {
    const api = run('main.js', { ...env, APP_ROLE: 'api', PORT: '0' });
    const [, port] = await api.waitFor(/"port":(\d+)/);
    const base = `http://127.0.0.1:${port}`;
    expect((await fetch(`${base}/health`)).status).toBe(200);
    for (const secret of Object.values(SECRETS)) {
      await fetch(`${base}/no-such-route?key=${secret}`, {
        headers: { authorization: `Bearer ${secret}` },
      });
    }
    const sent = Date.now();
    api.child.kill('SIGTERM');
    const { code, at } = await api.exit;
    expect(code).toBe(0);
    expect(at - sent).toBeLessThan(10_000);
    const output = api.output();
    expect(output).toContain('shutdown complete');
    expect(output).toContain('/no-such-route');
    for (const secret of [...Object.values(SECRETS), TEST_JWT_SECRET]) {
      expect(output).not.toContain(secret);
    }
  });

  it('NODE_ENV=production without a secret stops start-up with one line naming it', async () => {
    const { JWT_SECRET: _omitted, ...withoutJwt } = env;
    const api = run('main.js', { ...withoutJwt, NODE_ENV: 'production', PORT: '0' });
    const { code } = await api.exit;
    expect(code).toBe(1);
    const lines = api.output().trim().split('\n');
    expect(lines).toEqual(['Configuration error: JWT_SECRET is required when NODE_ENV=production']);
  });
});
