import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { AppConfig } from '../config/app-config';

/**
 * Quick-start convenience (SPEC §3): with REDIS_URL unset, use 127.0.0.1:6379; when nothing
 * answers there and `redis-server` is on PATH, start a persistent one under `<dataDir>/redis`.
 * Returns an error line when Redis cannot be had, for the caller to print and exit.
 */
export async function ensureLocalRedis(
  config: AppConfig,
  log: (line: string) => void,
): Promise<string | undefined> {
  if (await answers(config.redis.url)) return undefined;
  if (!config.redis.isDefaultUrl) {
    // An explicit REDIS_URL is never second-guessed: the clients reconnect when it comes back.
    log(`Redis at REDIS_URL does not answer yet; connecting in the background`);
    return undefined;
  }
  const which = spawnSync('sh', ['-c', 'command -v redis-server']);
  if (which.status !== 0) {
    return 'Redis is not reachable at redis://127.0.0.1:6379 and no redis-server is on PATH: install Redis (apt-get install redis-server) or set REDIS_URL.';
  }
  const dir = join(config.dataDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const url = new URL(config.redis.url);
  const started = spawnSync('redis-server', [
    '--port',
    url.port || '6379',
    '--bind',
    '127.0.0.1',
    '--dir',
    dir,
    '--daemonize',
    'yes',
    '--pidfile',
    join(dir, 'redis.pid'),
    '--logfile',
    join(dir, 'redis.log'),
    '--appendonly',
    'yes',
    // BullMQ must never lose keys to eviction.
    '--maxmemory-policy',
    'noeviction',
  ]);
  if (started.status !== 0)
    return `redis-server failed to start: ${started.stderr.toString().trim()}`;
  for (let i = 0; i < 50; i++) {
    if (await answers(config.redis.url)) {
      log(`started redis-server under ${dir}`);
      return undefined;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return `redis-server was started under ${dir} but does not answer; see ${join(dir, 'redis.log')}`;
}

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1000,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.ping();
    return true;
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}
