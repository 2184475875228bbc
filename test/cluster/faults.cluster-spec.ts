import { query } from '../helpers/db-query';
import { waitUntil } from '../helpers/wait';
import { ApiName, Cluster, SECRETS } from './helpers/cluster';
import { ReconnectingAgent } from './helpers/edge-agent';
import {
  adminAuth,
  agentName,
  edgeAuth,
  edgeBody,
  isReplyTo,
  isVision,
  orchestratorBody,
  phone,
  PHOTO_ANALYSIS,
  photoStatus,
  relayAuth,
  uploadPhoto,
} from './helpers/traffic';

const BULL = 'cluster:bull';

/**
 * Redis and Postgres go away and come back while two APIs and two workers run: nothing is
 * restarted by hand, requests fail fast instead of hanging, and work that was queued, delayed or
 * only recorded in Postgres still happens.
 */
describe('cluster: Redis and Postgres outages', () => {
  let cluster: Cluster;
  let agent: ReconnectingAgent;

  beforeAll(async () => {
    cluster = await Cluster.start('faults');
    agent = new ReconnectingAgent(
      agentName('faults'),
      SECRETS.EDGE_SECRET,
      () => cluster.api('a').url,
    );
    await agent.start();
    cluster.fake.respondWith((body) =>
      isVision(body) ? { content: JSON.stringify(PHOTO_ANALYSIS) } : undefined,
    );
  }, 120_000);

  // A failed test must not leave the next one without its services.
  afterEach(async () => {
    if (!cluster) return;
    await cluster.redis.start();
    await cluster.postgres.start();
    if (cluster.worker('photos').exited) await cluster.startWorker('photos');
  }, 90_000);

  afterAll(async () => {
    await agent?.stop();
    await cluster?.close();
  }, 60_000);

  const relay = (api: ApiName, body: object) =>
    cluster.request(api, 'POST', '/orchestrator/message', {
      headers: relayAuth,
      body,
      timeoutMs: 20_000,
    });

  /** The model answers `trigger` by scheduling `reminder` at `sendAt` for the agent's chat. */
  async function scheduleReminder(api: ApiName, reminder: string, sendAt: Date) {
    const trigger = `please remind me: ${reminder}`;
    let scheduled = false;
    cluster.fake.respondWith((body) => {
      if (isVision(body)) return { content: JSON.stringify(PHOTO_ANALYSIS) };
      if (!isReplyTo(body, trigger)) return undefined;
      if (scheduled) return { content: 'sure' };
      scheduled = true;
      return {
        toolCalls: [
          {
            name: 'schedule_message',
            arguments: { text: reminder, send_at: sendAt.toISOString() },
          },
        ],
      };
    });
    const res = await cluster.request(api, 'POST', '/edge/message', {
      headers: edgeAuth(agent.id),
      body: edgeBody(phone(), trigger),
    });
    expect(res.status).toBe(200);
    const [row] = await query<{ id: string }>(
      cluster.databaseUrl,
      `SELECT id FROM scheduled_messages WHERE text = $1`,
      [reminder],
    );
    const jobId = `scheduled-message.send-${row.id}`;
    // The delayed job is in Redis (and only there is it "delayed").
    const delayed = await cluster.redis.run((r) =>
      r.zscore(`${BULL}:scheduled-messages:delayed`, jobId),
    );
    expect(delayed).not.toBeNull();
    return { id: row.id };
  }

  const untilReceived = (text: string, timeoutMs: number) =>
    waitUntil(
      () => agent.commands.filter((c) => c.payload.text === text),
      (commands) => commands.length > 0,
      timeoutMs,
    );

  const scheduledStatus = async (id: string) =>
    (
      await query<{ status: string }>(
        cluster.databaseUrl,
        `SELECT status FROM scheduled_messages WHERE id = $1`,
        [id],
      )
    )[0]?.status;

  /** Proof that a message's memory-extraction job ran on the background worker. */
  const untilExtracted = (sender: string) =>
    waitUntil(
      async () =>
        (
          await query<{ n: string }>(
            cluster.databaseUrl,
            `SELECT count(*) AS n FROM llm_usage u JOIN rooms r ON r.id = u.room_id
             WHERE r.chat_guid = $1 AND u.purpose = 'memory-extraction'`,
            [`imessage:${sender}`],
          )
        )[0].n,
      (n) => Number(n) > 0,
      30_000,
    );

  /** Which process runs in each role: unchanged means nobody was restarted. */
  const pids = (): Record<string, number | undefined> => ({
    ...Object.fromEntries([...cluster.apis].map(([name, api]) => [name, api.proc.child.pid])),
    ...Object.fromEntries([...cluster.workers].map(([pool, proc]) => [pool, proc.child.pid])),
  });

  it('Redis restarted with its data: processes reconnect by themselves, /health 503 then 200, queued and delayed jobs survive', async () => {
    const before = pids();
    // A delayed job, due after Redis is back.
    const reminder = `water the plants ${Date.now()}`;
    const sendAt = new Date(Date.now() + 12_000);
    const schedule = await scheduleReminder('b', reminder, sendAt);
    // A queued job: nobody works photo-analysis while Redis is away, so the upload waits.
    await cluster.stop(cluster.worker('photos'));
    const photoId = await uploadPhoto(cluster, 'a', phone());
    const waiting = await cluster.redis.run((r) => r.lrange(`${BULL}:photo-analysis:wait`, 0, -1));
    expect(waiting).toContain(`photo.analyze-${photoId}`);

    await cluster.redis.stop();
    for (const api of ['a', 'b'] as const) {
      const down = await cluster.untilHealth(api, 503, 15_000);
      expect(down.status).toBe(503);
      expect(down.body.checks).toMatchObject({
        redis: { status: 'down' },
        database: { status: 'up' },
      });
    }
    // Served without Redis, promptly: the rate limit fails open, the response cache is skipped,
    // the memory-extraction job is given up, and none of them waits on the missing Redis.
    const sender = phone();
    const started = Date.now();
    const during = await relay('a', orchestratorBody(sender, 'hello while redis is away'));
    expect(during.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(4000);

    await cluster.redis.start();
    for (const api of ['a', 'b'] as const) {
      expect((await cluster.untilHealth(api, 200, 30_000)).status).toBe(200);
    }
    // The delayed job fires at its time on the worker that lived through the outage.
    const [command] = await untilReceived(reminder, 40_000);
    expect(command).toBeDefined();
    expect(command.at).toBeGreaterThanOrEqual(sendAt.getTime() - 1000);
    expect(
      await waitUntil(
        () => scheduledStatus(schedule.id),
        (s) => s === 'delivered',
        10_000,
      ),
    ).toBe('delivered');
    // The queued job is still there for the photo worker when it comes back.
    await cluster.startWorker('photos');
    expect(
      await waitUntil(
        () => photoStatus(cluster, photoId),
        (s) => s === 'analyzed',
        30_000,
      ),
    ).toBe('analyzed');
    // New work flows through both APIs' queues to the worker again.
    for (const api of ['a', 'b'] as const) {
      const next = phone();
      expect(
        (await relay(api, orchestratorBody(next, `after the restart via ${api}`))).status,
      ).toBe(200);
      expect(Number(await untilExtracted(next))).toBeGreaterThan(0);
    }
    // Nobody was restarted but the photo worker the test stopped.
    expect({ ...pids(), photos: before.photos }).toEqual(before);
  }, 150_000);

  it('Redis flushed: the scheduled-message sweep restores due jobs from Postgres', async () => {
    const reminder = `call mum ${Date.now()}`;
    const sendAt = new Date(Date.now() + 5000);
    const schedule = await scheduleReminder('a', reminder, sendAt);

    const since = cluster.worker('background').mark();
    await cluster.redis.run((r) => r.flushall());

    const [command] = await untilReceived(reminder, 60_000);
    expect(command).toBeDefined();
    const worker = cluster.worker('background');
    expect(worker.outputSince(since)).toMatch(/the scheduled-message sweep was missing from Redis/);
    expect(worker.outputSince(since)).toMatch(/sweep restored \d+ scheduled-message jobs/);
    expect(
      await waitUntil(
        () => scheduledStatus(schedule.id),
        (s) => s === 'delivered',
        10_000,
      ),
    ).toBe('delivered');
    expect(agent.commands.filter((c) => c.payload.text === reminder)).toHaveLength(1);
  }, 90_000);

  it('Postgres restarted: requests fail fast with 503 during the outage, and every process recovers by itself', async () => {
    const before = pids();
    await cluster.postgres.stop();
    for (const api of ['a', 'b'] as const) {
      const down = await cluster.untilHealth(api, 503, 15_000);
      expect(down.status).toBe(503);
      expect(down.body.checks).toMatchObject({
        database: { status: 'down' },
        redis: { status: 'up' },
      });
    }
    const outage: { status: number; ms: number; body: unknown }[] = [];
    for (const [api, send] of [
      ['a', () => relay('a', orchestratorBody(phone(), 'hello while postgres is away'))],
      [
        'b',
        () =>
          cluster.request('b', 'POST', '/edge/message', {
            headers: edgeAuth(agentName('pgdown')),
            body: edgeBody(phone(), 'hello while postgres is away'),
            timeoutMs: 20_000,
          }),
      ],
      ['b', () => cluster.request('b', 'GET', '/admin/edge/agents', { headers: adminAuth })],
    ] as const) {
      const started = Date.now();
      const res = await send();
      outage.push({ status: res.status, ms: Date.now() - started, body: res.body });
      expect({ api, status: res.status }).toEqual({ api, status: 503 });
    }
    for (const { ms, body } of outage) {
      expect(ms).toBeLessThan(10_000);
      expect(body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
    }

    await cluster.postgres.start();
    for (const api of ['a', 'b'] as const) {
      expect((await cluster.untilHealth(api, 200, 30_000)).status).toBe(200);
    }
    for (const api of ['a', 'b'] as const) {
      const sender = phone();
      const res = await relay(api, orchestratorBody(sender, `back again via ${api}`));
      expect(res.status).toBe(200);
      expect(Number(await untilExtracted(sender))).toBeGreaterThan(0);
    }
    const photoId = await uploadPhoto(cluster, 'b', phone());
    expect(
      await waitUntil(
        () => photoStatus(cluster, photoId),
        (s) => s === 'analyzed',
        30_000,
      ),
    ).toBe('analyzed');
    expect(pids()).toEqual(before);
  }, 120_000);

  it('no process left a rejection unhandled or exited by itself', () => {
    expect(cluster.problems()).toEqual([]);
  });
});
