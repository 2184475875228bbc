import { query } from '../helpers/db-query';
import { waitUntil } from '../helpers/wait';
import { ApiName, Cluster, LLM_MAX_RETRIES, LLM_TIMEOUT_MS, SECRETS } from './helpers/cluster';
import { ReconnectingAgent } from './helpers/edge-agent';
import {
  adminAuth,
  agentName,
  chatFootprint,
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

interface RelayReply {
  should_respond: boolean;
  reply_text: string | null;
}

/**
 * SPEC §3: any number of API and worker processes run against one Postgres and one Redis, and
 * nothing assumes it is alone. Two APIs and two workers from dist/, exercised as clients and
 * operators would: limits, duplicates, WebSocket routing, a crashed worker, a deploy, and a
 * failing model.
 */
describe('cluster: two API instances and two workers behave as one service', () => {
  let cluster: Cluster;
  const agents: ReconnectingAgent[] = [];

  beforeAll(async () => {
    cluster = await Cluster.start('scale-out');
  }, 120_000);

  afterEach(() => cluster?.fake.respondWith(undefined));

  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop()));
    await cluster?.close();
  }, 60_000);

  const relay = (api: ApiName, body: object) =>
    cluster.request<RelayReply>(api, 'POST', '/orchestrator/message', {
      headers: relayAuth,
      body,
    });
  const edgeMessage = (api: ApiName, agentId: string, body: object) =>
    cluster.request<RelayReply>(api, 'POST', '/edge/message', {
      headers: edgeAuth(agentId),
      body,
    });

  async function connectAgent(prefix: string, target: () => string): Promise<ReconnectingAgent> {
    const agent = new ReconnectingAgent(agentName(prefix), SECRETS.EDGE_SECRET, target);
    agents.push(agent);
    await agent.start();
    return agent;
  }

  /** Until every API instance would route a command to the agent (presence is in Redis). */
  async function untilPlaced(agentId: string, on: ApiName) {
    const placed = await waitUntil(
      async () =>
        (
          await query<{ connected_instance: string | null }>(
            cluster.databaseUrl,
            `SELECT connected_instance FROM edge_agents WHERE id = $1`,
            [agentId],
          )
        )[0]?.connected_instance ?? null,
      (instance) => instance !== null && instance.includes(`:${cluster.api(on).proc.child.pid}:`),
      10_000,
    );
    expect(placed).toContain(`:${cluster.api(on).proc.child.pid}:`);
  }

  it('holds the per-sender limit across instances: 61 messages over both → exactly one 429', async () => {
    const sender = phone();
    const statuses: { api: ApiName; status: number; retryAfter: string | null }[] = [];
    // Four at a time, alternating instances: the count lives in Redis, not in either process.
    for (let i = 0; i < 61; i += 4) {
      const batch = Array.from({ length: Math.min(4, 61 - i) }, (_, k) => i + k);
      statuses.push(
        ...(await Promise.all(
          batch.map(async (j) => {
            const api: ApiName = j % 2 ? 'b' : 'a';
            const res = await relay(api, orchestratorBody(sender, `message number ${j}`));
            return { api, status: res.status, retryAfter: res.headers.get('retry-after') };
          }),
        )),
      );
    }
    const limited = statuses.filter((s) => s.status === 429);
    expect(limited).toHaveLength(1);
    expect(statuses.filter((s) => s.status === 200)).toHaveLength(60);
    const retryAfter = Number(limited[0].retryAfter);
    expect(retryAfter).toBeGreaterThanOrEqual(1);
    expect(retryAfter).toBeLessThanOrEqual(60);
    for (const api of ['a', 'b'] as const) {
      expect(statuses.filter((s) => s.api === api && s.status === 200).length).toBeGreaterThan(20);
    }
    // Another sender has a budget of their own, on either instance.
    const other = phone();
    expect((await relay('a', orchestratorBody(other, 'hello'))).status).toBe(200);
    expect((await relay('b', orchestratorBody(other, 'hello again'))).status).toBe(200);
  });

  it('the same relayed message sent to both instances at once is one stored turn with one reply', async () => {
    const sender = phone();
    const text = `are you there ${sender}?`;
    let replyCalls = 0;
    // A slow model keeps the first copy in flight while the second arrives on the other instance.
    cluster.fake.respondWith((body) =>
      isReplyTo(body, text)
        ? (replyCalls++, { content: 'the one answer', delayMs: 500 })
        : undefined,
    );
    const body = orchestratorBody(sender, text);
    const [a, b] = await Promise.all([relay('a', body), relay('b', body)]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toMatchObject({ should_respond: true, reply_text: 'the one answer' });
    expect(b.body).toEqual(a.body);
    expect(replyCalls).toBe(1);
    expect(await chatFootprint(cluster, sender)).toMatchObject({
      inbound: 1,
      outbound: 1,
      reply_calls: 1,
    });
  });

  it('the same edge message (no id: deduplicated on its content) sent to both at once is one turn', async () => {
    const sender = phone();
    const text = `hey luna ${sender}`;
    let replyCalls = 0;
    cluster.fake.respondWith((body) =>
      isReplyTo(body, text) ? (replyCalls++, { content: 'hi there', delayMs: 500 }) : undefined,
    );
    const agentId = agentName('dup');
    const body = edgeBody(sender, text);
    const [a, b] = await Promise.all([
      edgeMessage('a', agentId, body),
      edgeMessage('b', agentId, body),
    ]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body).toMatchObject({ should_respond: true, reply_text: 'hi there' });
    expect(b.body).toEqual(a.body);
    expect(replyCalls).toBe(1);
    expect(await chatFootprint(cluster, sender)).toMatchObject({ inbound: 1, outbound: 1 });
  });

  it('an agent on instance A receives a command created through B and one created by a worker', async () => {
    const agent = await connectAgent('edge', () => cluster.api('a').url);
    await untilPlaced(agent.id, 'a');
    const chat = phone();

    const viaB = await cluster.request<{ id: string }>(
      'b',
      'POST',
      `/admin/edge/agents/${agent.id}/commands`,
      {
        headers: adminAuth,
        body: { command_type: 'send_message_now', payload: { thread_id: chat, text: 'from B' } },
      },
    );
    expect(viaB.status).toBe(201);
    // Pushed on B's announcement over Redis, well before A's 5 s resend sweep would find it.
    const received = await waitUntil(
      () => agent.receivedIds(),
      (ids) => ids.includes(viaB.body.id),
      2000,
    );
    expect(received).toContain(viaB.body.id);

    // The model, answering through B, schedules a message; the scheduled-messages worker turns
    // it into a command when due, and instance A (holding the socket) pushes it.
    const reminder = `stretch ${chat}`;
    let scheduled = false;
    cluster.fake.respondWith((body) => {
      if (!isReplyTo(body, 'remind me to stretch')) return undefined;
      if (scheduled) return { content: 'will do' };
      scheduled = true;
      const sendAt = new Date(Date.now() + 2000).toISOString();
      return {
        toolCalls: [{ name: 'schedule_message', arguments: { text: reminder, send_at: sendAt } }],
      };
    });
    const res = await edgeMessage('b', agent.id, edgeBody(chat, 'remind me to stretch soon'));
    expect(res.status).toBe(200);
    const reminders = await waitUntil(
      () => agent.commands.filter((c) => c.payload.text === reminder),
      (commands) => commands.length > 0,
      20_000,
    );
    expect(reminders).toHaveLength(1);
    const [command] = reminders;
    expect(command).toMatchObject({ type: 'send_message_now', connection: 1 });
    expect(command.url).toBe(cluster.api('a').url);
    // Created in the background worker's process, not in either API.
    expect(cluster.worker('background').output()).toContain(
      `queued send_message_now ${command.id}`,
    );
    for (const api of ['a', 'b'] as const) {
      expect(cluster.api(api).proc.output()).not.toContain(`queued send_message_now ${command.id}`);
    }
    const status = await waitUntil(
      async () =>
        (
          await query<{ status: string }>(
            cluster.databaseUrl,
            `SELECT status FROM scheduled_messages WHERE text = $1`,
            [reminder],
          )
        )[0]?.status,
      (s) => s === 'delivered',
      10_000,
    );
    expect(status).toBe('delivered');
    expect(agent.receivedIds().filter((id) => id === viaB.body.id)).toHaveLength(1);
  });

  describe('the LLM failing', () => {
    /** Scripts the model for reply calls about `text`: each call gets the next answer. */
    function script(text: string, answers: ((call: number) => object)[]) {
      const calls: number[] = [];
      cluster.fake.respondWith((body) => {
        if (!isReplyTo(body, text)) return undefined;
        calls.push(Date.now());
        return answers[Math.min(calls.length, answers.length) - 1](calls.length);
      });
      return calls;
    }

    it('retries 500s and answers', async () => {
      const sender = phone();
      const text = `flaky ${sender}`;
      const calls = script(text, [
        () => ({ fail: { status: 500 } }),
        () => ({ fail: { status: 500 } }),
        () => ({ content: 'third time lucky' }),
      ]);
      const res = await edgeMessage('a', agentName('llm'), edgeBody(sender, text));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ reply_text: 'third time lucky' });
      expect(calls).toHaveLength(3);
      expect(await chatFootprint(cluster, sender)).toMatchObject({ inbound: 1, outbound: 1 });
    });

    it('waits as long as a 429 Retry-After asks before retrying', async () => {
      const sender = phone();
      const text = `busy ${sender}`;
      const calls = script(text, [
        () => ({ fail: { status: 429, headers: { 'retry-after': '2' } } }),
        () => ({ content: 'sorry for the wait' }),
      ]);
      const res = await edgeMessage('b', agentName('llm'), edgeBody(sender, text));
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ reply_text: 'sorry for the wait' });
      expect(calls).toHaveLength(2);
      expect(calls[1] - calls[0]).toBeGreaterThanOrEqual(1900);
    });

    it('gives up on a hung model after the per-call timeout: 503 to the edge, nothing half-written', async () => {
      const sender = phone();
      const text = `remind me and then hang ${sender}`;
      // The first round asks for a tool (a scheduled message); every later call hangs. The tool's
      // write must not survive the failed turn.
      const calls = script(text, [
        () => ({
          toolCalls: [
            {
              name: 'schedule_message',
              arguments: { text: 'never', send_at: new Date(Date.now() + 3_600_000).toISOString() },
            },
          ],
        }),
        () => ({ hang: true }),
      ]);
      const started = Date.now();
      const res = await edgeMessage('a', agentName('llm'), edgeBody(sender, text));
      const elapsed = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.body).toMatchObject({ statusCode: 503, error: 'Service Unavailable' });
      // One tool round, then every attempt of the second round cut at the timeout.
      expect(calls).toHaveLength(2 + LLM_MAX_RETRIES);
      for (let i = 2; i < calls.length; i++) {
        expect(calls[i] - calls[i - 1]).toBeGreaterThanOrEqual(LLM_TIMEOUT_MS - 100);
      }
      expect(elapsed).toBeLessThan((LLM_MAX_RETRIES + 1) * LLM_TIMEOUT_MS + 8000);
      expect(await chatFootprint(cluster, sender)).toEqual({
        inbound: 0,
        outbound: 0,
        reply_calls: 0,
        scheduled: 0,
        memories: 0,
      });

      // The edge's retry, once the model answers again, is a normal turn.
      script(text, [() => ({ content: 'back now' })]);
      const retry = await edgeMessage('a', agentName('llm'), edgeBody(sender, text));
      expect(retry.status).toBe(200);
      expect(retry.body).toMatchObject({ reply_text: 'back now' });
      expect(await chatFootprint(cluster, sender)).toMatchObject({ inbound: 1, outbound: 1 });
    });
  });

  it('kill -9 of a worker mid photo analysis: the job completes after its restart, memories stored once', async () => {
    let killed = false;
    let visionCallsAfterKill = 0;
    let visionCallsBeforeKill = 0;
    // The doomed worker's call never returns; once it is dead the model answers.
    cluster.fake.respondWith((body) => {
      if (!isVision(body)) return undefined;
      if (!killed) return (visionCallsBeforeKill++, { hang: true });
      visionCallsAfterKill++;
      return { content: JSON.stringify(PHOTO_ANALYSIS) };
    });
    const sender = phone();
    const photoId = await uploadPhoto(cluster, 'b', sender);
    await waitUntil(
      () => visionCallsBeforeKill,
      (n) => n >= 1,
      20_000,
    );
    const doomed = cluster.worker('photos');
    const exit = await cluster.stop(doomed, 'SIGKILL');
    killed = true;
    expect(exit.signal).toBe('SIGKILL');
    expect(await photoStatus(cluster, photoId)).toBe('processing');

    // The orchestrator restarts the crashed container; the job's lock expires and it runs again.
    await cluster.startWorker('photos');
    const status = await waitUntil(
      () => photoStatus(cluster, photoId),
      (s) => s === 'analyzed',
      60_000,
    );
    expect(status).toBe('analyzed');
    expect(visionCallsBeforeKill).toBeGreaterThanOrEqual(1);
    expect(visionCallsAfterKill).toBe(1);
    const memories = await query(
      cluster.databaseUrl,
      `SELECT type, content FROM memories WHERE source_photo_id = $1 ORDER BY type`,
      [photoId],
    );
    expect(memories).toEqual([
      { type: 'visual_activity', content: 'eating out' },
      { type: 'visual_place', content: 'ramen shop' },
      { type: 'visual_preference', content: 'loves ramen' },
    ]);
  }, 120_000);

  it('SIGTERM of an API with agents: close 1012, they reconnect to the other, no command lost or duplicated', async () => {
    let route: ApiName = 'a';
    const target = () => cluster.api(route).url;
    const fleet = await Promise.all([1, 2, 3].map(() => connectAgent('deploy', target)));
    await Promise.all(fleet.map((a) => untilPlaced(a.id, 'a')));

    // Commands keep being created through B before, during and after A's shutdown, one stream
    // per agent without pause: pushes and acks are in flight on A when its shutdown starts.
    const created = new Map<string, string[]>(fleet.map((a) => [a.id, []]));
    const failures: string[] = [];
    let producing = true;
    const producers = fleet.map(async (agent) => {
      for (let i = 0; producing; i++) {
        try {
          const res = await cluster.request<{ id: string }>(
            'b',
            'POST',
            `/admin/edge/agents/${agent.id}/commands`,
            {
              headers: adminAuth,
              body: {
                command_type: 'send_message_now',
                payload: { thread_id: '+15550009999', text: `command ${i}` },
              },
            },
          );
          if (res.status === 201) created.get(agent.id)!.push(res.body.id);
          else failures.push(`${res.status} ${res.text}`);
        } catch (err) {
          failures.push(String(err));
        }
      }
    });
    const apiA = cluster.api('a');
    try {
      await waitUntil(
        () => fleet.map((a) => a.commands.length),
        (counts) => counts.every((c) => c >= 10),
        10_000,
      );

      route = 'b'; // the load balancer stops sending new connections to the draining instance
      const exit = await cluster.stop(apiA.proc, 'SIGTERM');
      expect(exit.code).toBe(0);
      const [, closed] = apiA.proc.output().match(/closing (\d+) edge socket\(s\) with 1012/) ?? [];
      expect(Number(closed)).toBeGreaterThanOrEqual(fleet.length);
      for (const agent of fleet) {
        expect(agent.closes[0]).toMatchObject({ code: 1012, url: apiA.url });
      }
      await waitUntil(
        () => fleet.map((a) => a.isOpen && a.url === cluster.api('b').url),
        (open) => open.every(Boolean),
        10_000,
      );
      // Keep producing for a moment on the new instance, then let everything settle.
      const countAtReconnect = [...created.values()].flat().length;
      await waitUntil(
        () => [...created.values()].flat().length,
        (n) => n >= countAtReconnect + 30,
        10_000,
      );
    } finally {
      producing = false;
      await Promise.all(producers);
    }
    expect(failures).toEqual([]);

    for (const agent of fleet) {
      const expected = created.get(agent.id)!;
      const received = await waitUntil(
        () => agent.receivedIds(),
        (ids) => expected.every((id) => ids.includes(id)),
        15_000,
      );
      // Every command exactly once: none lost in the switch, none pushed again after its ack.
      expect([...received].sort()).toEqual([...expected].sort());
      expect(agent.connections.map((c) => c.url)).toEqual([apiA.url, cluster.api('b').url]);
    }
    const all = [...created.values()].flat();
    const statuses = await waitUntil(
      () =>
        query<{ status: string; n: string }>(
          cluster.databaseUrl,
          `SELECT status, count(*) AS n FROM edge_commands WHERE id = ANY($1::uuid[]) GROUP BY status`,
          [all],
        ),
      (rows) => rows.length === 1 && rows[0].status === 'acked',
      10_000,
    );
    expect(statuses).toEqual([{ status: 'acked', n: String(all.length) }]);
  }, 90_000);

  it('no process left a rejection unhandled or exited by itself', () => {
    expect(cluster.problems()).toEqual([]);
  });
});
