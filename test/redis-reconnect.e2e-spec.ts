import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { edgeChannels } from '../src/modules/edge/edge-pubsub';
import { createTestDatabase } from './helpers/database';
import { eventually } from './helpers/edge-ws';
import { PrivateRedis } from './helpers/private-redis';
import { newRedisPrefix, startApi, testConfig } from './helpers/test-app';

/**
 * The edge pub/sub connection across Redis reconnects. ioredis resubscribes by itself after a
 * reconnect without handling the outcome (redis/ioredis#2187): when that SUBSCRIBE fails (the
 * connection drops again, or Redis refuses it) the rejection reaches nobody, which jest reports
 * as a failure here and which a production process logs as an unhandled rejection. The gateway
 * subscribes on every `ready` itself, and handles the outcome.
 */
describe('edge pub/sub across a Redis reconnect (private redis-server)', () => {
  it('a resubscribe Redis refuses is reported, not left unhandled; pub/sub resumes once allowed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'archety-redis-'));
    const redis = await PrivateRedis.create(dir);
    const db = await createTestDatabase();
    const acl = (...args: string[]) =>
      redis.run((c) => c.call('ACL', 'SETUSER', 'archety', ...args));
    await acl('on', '>reconnect-pass', '~*', '&*', '+@all');
    const config = testConfig(
      { databaseUrl: db.url, redisPrefix: newRedisPrefix() },
      { REDIS_URL: `redis://archety:reconnect-pass@127.0.0.1:${redis.port}` },
    );
    const channel = edgeChannels(config).commands;
    const subscribers = () =>
      redis.run(async (c) => Number(((await c.pubsub('NUMSUB', channel)) as unknown[])[1]));
    const api = await startApi(config);
    try {
      await eventually(async () => expect(await subscribers()).toBe(1));

      // Every connection dropped; on their return, pub/sub channels are refused.
      await acl('resetchannels');
      await redis.run((c) => c.call('CLIENT', 'KILL', 'USER', 'archety'));
      await eventually(
        () => expect(api.logs.text()).toMatch(/edge pub\/sub not subscribed yet: NOPERM/),
        10_000,
      );
      // Long enough for a stray rejection to surface and fail this test.
      await new Promise((r) => setTimeout(r, 300));
      expect(await subscribers()).toBe(0);

      await acl('allchannels');
      await redis.run((c) => c.call('CLIENT', 'KILL', 'USER', 'archety'));
      await eventually(async () => expect(await subscribers()).toBe(1), 10_000);
    } finally {
      await api.close();
      await redis.stop();
      await db.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
