import { Job, Worker } from 'bullmq';
import { QueueService } from '../src/core/queue/queue.service';
import { JobName, QueueName } from '../src/core/queue/queue.constants';
import { bullConnection } from '../src/core/queue/queue.module';
import { bullPrefix } from '../src/core/redis/redis.factory';
import { createTestDatabase, TestDatabase } from './helpers/database';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
} from './helpers/test-app';

describe('queues (real Redis, BullMQ)', () => {
  let db: TestDatabase;
  let prefix: string;
  // The API process (no processors), so jobs stay where enqueue put them.
  let api: RunningApi;
  let queues: QueueService;

  beforeAll(async () => {
    db = await createTestDatabase();
    prefix = newRedisPrefix();
    api = await startApi(testConfig({ databaseUrl: db.url, redisPrefix: prefix }));
    queues = api.app.get(QueueService);
  });

  afterAll(async () => {
    await api?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  it('enqueue applies the default options and an idempotent job id', async () => {
    const job = await queues.enqueue(JobName.MemoryExtract, { messageId: 'm-1' }, { key: 'm-1' });
    expect(job.id).toBe('memory.extract-m-1');
    expect(job.opts).toMatchObject({ attempts: 5, backoff: { type: 'exponential', delay: 2000 } });

    // The same work enqueued again (a retry, another instance) is the same job.
    const again = await queues.enqueue(JobName.MemoryExtract, { messageId: 'm-1' }, { key: 'm-1' });
    expect(again.id).toBe(job.id);
    expect((await queues.counts())[QueueName.MemoryExtraction].waiting).toBe(1);
  });

  it('a delay makes a delayed job; ids never contain ":"', async () => {
    const job = await queues.enqueue(
      JobName.ScheduledMessageSend,
      { scheduledMessageId: 'row:7' },
      { key: 'row:7', delayMs: 60_000 },
    );
    expect(job.id).toBe('scheduled-message.send-row_7');
    expect(await job.getState()).toBe('delayed');
  });

  it('jobs land where a worker with the same connection and prefix consumes them', async () => {
    const config = testConfig({ databaseUrl: db.url, redisPrefix: prefix });
    const seen: Job[] = [];
    const consumer = new Worker(QueueName.PhotoAnalysis, async (job) => void seen.push(job), {
      connection: bullConnection(config),
      prefix: bullPrefix(config),
    });
    try {
      await queues.enqueue(JobName.PhotoAnalyze, { photoId: 'p-9' }, { key: 'p-9' });
      const deadline = Date.now() + 10_000;
      while (!seen.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(seen.map((j) => [j.name, j.data])).toEqual([['photo.analyze', { photoId: 'p-9' }]]);
    } finally {
      await consumer.close();
    }
  });

  it('refuses to enqueue without a key', async () => {
    await expect(
      queues.enqueue(JobName.PhotoAnalyze, { photoId: 'x' }, { key: '' }),
    ).rejects.toThrow(/key is required/);
  });
});
