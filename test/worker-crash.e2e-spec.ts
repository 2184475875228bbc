import { ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { FakeChatBody, FakeOpenAI, startFakeOpenAI } from './fake-openai/fake-openai.server';
import { jpeg } from './fixtures/images';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  startWorker,
  TEST_JWT_SECRET,
  testConfig,
} from './helpers/test-app';
import { waitUntil } from './helpers/wait';

const RELAY_SECRET = 'relay-secret-worker-crash';
const ANALYSIS = {
  summary: 'a bowl of ramen on a wooden table',
  activities: ['eating out'],
  people: [],
  places: ['ramen shop'],
  preferences: ['loves ramen'],
};
const isVision = (body: FakeChatBody) =>
  (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'),
  );

/**
 * RELIABILITY row 29: a worker killed with SIGKILL in the middle of a job leaves the job to be
 * picked up again (after its lock expires, ~30 s) by another worker, and its effects are not
 * duplicated.
 */
describe('a worker killed mid-job', () => {
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  let child: ChildProcess | undefined;
  let rescuer: Awaited<ReturnType<typeof startWorker>> | undefined;
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    db = await createTestDatabase();
    fake = await startFakeOpenAI();
  });

  afterAll(async () => {
    child?.kill('SIGKILL');
    await rescuer?.app.close();
    await api?.close();
    await fake?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  it('leaves the photo analysis to be retried by another worker, storing its memories once', async () => {
    const config = testConfig(
      { databaseUrl: db.url, redisPrefix: prefix, openaiBaseUrl: fake.url },
      { RELAY_WEBHOOK_SECRET: RELAY_SECRET, OPENAI_TIMEOUT_MS: '60000' },
    );
    api = await startApi(config);
    // The first vision call (the doomed worker's) never gets its answer in time.
    let visionCalls = 0;
    fake.respondWith((body) =>
      isVision(body)
        ? { content: JSON.stringify(ANALYSIS), delayMs: ++visionCalls === 1 ? 50_000 : 0 }
        : { content: '{"facts": []}' },
    );

    child = spawn(process.execPath, [join(__dirname, '..', 'dist', 'worker.js')], {
      env: {
        PATH: process.env.PATH ?? '',
        NODE_ENV: 'test',
        APP_ROLE: 'worker',
        WORKER_QUEUES: 'photo-analysis',
        DATABASE_URL: db.url,
        REDIS_URL: config.redis.url,
        REDIS_KEY_PREFIX: prefix,
        JWT_SECRET: TEST_JWT_SECRET,
        OPENAI_API_KEY: 'sk-test-openai-key-not-real',
        OPENAI_BASE_URL: fake.url,
        OPENAI_TIMEOUT_MS: '60000',
        LOG_LEVEL: 'warn',
      },
      stdio: 'ignore',
    });

    const form = new FormData();
    form.append('file', new Blob([jpeg('ramen')], { type: 'image/jpeg' }), 'IMG_9.jpg');
    const sender = '+15557770001';
    const res = await fetch(
      `${api.url}/photos/upload?${new URLSearchParams({ user_phone: sender, chat_guid: sender })}`,
      { method: 'POST', body: form, headers: { authorization: `Bearer ${RELAY_SECRET}` } },
    );
    const { photo_id: photoId } = (await res.json()) as { photo_id: string };

    // The child worker has the job and is waiting on the vision model: kill it there.
    await waitUntil(
      async () => visionCalls,
      (n) => n >= 1,
      20_000,
    );
    expect(visionCalls).toBe(1);
    child.kill('SIGKILL');
    await new Promise((resolve) => child!.once('exit', resolve));

    rescuer = await startWorker(config);
    const status = await waitUntil(
      async () =>
        (
          await query<{ status: string }>(db.url, `SELECT status FROM photos WHERE id = $1`, [
            photoId,
          ])
        )[0]?.status,
      (s) => s === 'analyzed',
      70_000,
    );
    expect(status).toBe('analyzed');
    expect(visionCalls).toBe(2);
    const memories = await query(
      db.url,
      `SELECT type, content FROM memories WHERE source_photo_id = $1 ORDER BY type`,
      [photoId],
    );
    expect(memories).toEqual([
      { type: 'visual_activity', content: 'eating out' },
      { type: 'visual_place', content: 'ramen shop' },
      { type: 'visual_preference', content: 'loves ramen' },
    ]);
  }, 120_000);
});
