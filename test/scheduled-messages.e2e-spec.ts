import WebSocket from 'ws';
import { QueueService } from '../src/core/queue/queue.service';
import { QueueName } from '../src/core/queue/queue.constants';
import { EdgeCommandsService } from '../src/modules/edge/edge-commands.service';
import { ScheduledMessageDeliveryService } from '../src/modules/scheduled-messages/scheduled-message-delivery.service';
import { FakeChatBody, FakeOpenAI } from './fake-openai/fake-openai.server';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import {
  newRedisPrefix,
  RunningApi,
  startWorker,
  startTestSystem,
  TestSystem,
} from './helpers/test-app';
import { waitUntil } from './helpers/wait';

const EDGE_SECRET = 'edge-secret-scheduled-e2e';
const ADMIN_API_KEY = 'admin-key-scheduled-e2e';
const AGENT = 'luna7';

interface CommandFrame {
  command_id: string;
  command_type: string;
  payload: Record<string, unknown>;
}

/** A test edge agent: connects like the real client, records commands and acks them. */
async function connectAgent(url: string, agentId: string) {
  const commands: (CommandFrame & { at: number })[] = [];
  const socket = new WebSocket(`${url.replace('http', 'ws')}/edge/ws?edge_agent_id=${agentId}`, {
    headers: { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': agentId },
  });
  socket.on('message', (raw) => {
    const frame = JSON.parse(raw.toString()) as { type: string; data: CommandFrame };
    if (frame.type !== 'command') return;
    commands.push({ ...frame.data, at: Date.now() });
    const ack = {
      command_id: frame.data.command_id,
      status: 'completed',
      completed_at: new Date().toISOString(),
    };
    socket.send(JSON.stringify({ type: 'command_ack', data: ack }));
  });
  await new Promise((resolve, reject) => socket.once('open', resolve).once('error', reject));
  return { socket, commands };
}

describe('scheduled messages and the edge reply channel (API + worker + real ws agent)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let agent: Awaited<ReturnType<typeof connectAgent>>;
  const prefix = newRedisPrefix();
  const chat = '+15554440001';

  beforeAll(async () => {
    sys = await startTestSystem({
      prefix,
      overrides: { EDGE_SECRET, ADMIN_API_KEY, EDGE_REPLY_DEADLINE_MS: '400' },
      worker: true,
    });
    ({ db, fake, api } = sys);
    worker = sys.worker!;
    agent = await connectAgent(api.url, AGENT);
  });

  afterAll(async () => {
    agent?.socket.close();
    await sys?.close();
  });

  beforeEach(() => fake.reset());

  /** The model schedules `text` at `sendAt`, then answers "on it". */
  function modelSchedules(text: string, sendAt: Date) {
    let scheduled = false;
    fake.respondWith((body: FakeChatBody) => {
      if (body.response_format?.type === 'json_object') return { content: '{"facts": []}' };
      if (scheduled) return { content: 'on it' };
      scheduled = true;
      return {
        toolCalls: [
          { name: 'schedule_message', arguments: { text, send_at: sendAt.toISOString() } },
        ],
      };
    });
  }

  const edgeMessage = (text: string, agentId = AGENT) =>
    api.request<{ should_respond: boolean; reply_text: string | null }>('POST', '/edge/message', {
      headers: { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': agentId },
      body: {
        chat_guid: chat,
        mode: 'direct',
        sender: chat,
        text,
        timestamp: Math.floor(Date.now() / 1000) + Math.floor(Math.random() * 1000),
        participants: [chat],
      },
    });

  const scheduledRow = (text: string) =>
    query<{ id: string; status: string }>(
      db.url,
      `SELECT id, status FROM scheduled_messages WHERE text = $1`,
      [text],
    ).then((rows) => rows[0]);

  it('a reminder asked for in conversation arrives on the agent’s socket at its time, and is delivered', async () => {
    const sendAt = new Date(Date.now() + 2000);
    modelSchedules('time to drink water', sendAt);
    const res = await edgeMessage('remind me to drink water in 2 seconds');
    expect(res.body).toMatchObject({ should_respond: true, reply_text: 'on it' });

    const arrived = await waitUntil(
      () => agent.commands.find((c) => c.payload.text === 'time to drink water'),
      (c) => c !== undefined,
    );
    expect(arrived).toMatchObject({
      command_type: 'send_message_now',
      payload: { thread_id: chat },
    });
    expect(arrived!.at).toBeGreaterThanOrEqual(sendAt.getTime() - 100);
    expect(arrived!.at).toBeLessThan(sendAt.getTime() + 5000);
    const row = await waitUntil(
      () => scheduledRow('time to drink water'),
      (r) => r?.status === 'delivered',
    );
    expect(row.status).toBe('delivered');
  });

  it('an ack that overtakes the worker’s own `sent` update still marks the message delivered', async () => {
    modelSchedules('feed the cat', new Date(Date.now() + 3_600_000));
    await edgeMessage('remind me to feed the cat tonight');
    const row = await waitUntil(
      () => scheduledRow('feed the cat'),
      (r) => r !== undefined,
    );
    expect(row.status).toBe('scheduled');
    // The command the worker creates when the message is due, acked by the agent before the
    // worker gets to mark the row `sent` (here: never).
    await worker.app
      .get(EdgeCommandsService)
      .create(
        AGENT,
        'send_message_now',
        { thread_id: chat, text: 'feed the cat' },
        { scheduledMessageId: row.id },
      );
    const delivered = await waitUntil(
      () => scheduledRow('feed the cat'),
      (r) => r?.status === 'delivered',
    );
    expect(delivered.status).toBe('delivered');
  });

  it('a cancelled message never goes out; a rescheduled one goes out at its new time', async () => {
    modelSchedules('call mom', new Date(Date.now() + 1500));
    await edgeMessage('remind me to call mom');
    const row = await waitUntil(
      () => scheduledRow('call mom'),
      (r) => r !== undefined,
    );
    const admin = { authorization: `Bearer ${ADMIN_API_KEY}` };
    const cancelled = await api.request('DELETE', `/admin/scheduled-messages/${row.id}`, {
      headers: admin,
    });
    expect(cancelled.body).toMatchObject({ status: 'cancelled' });
    expect(
      (await api.request('DELETE', `/admin/scheduled-messages/${row.id}`, { headers: admin }))
        .status,
    ).toBe(409);

    modelSchedules('stretch', new Date(Date.now() + 60_000));
    await edgeMessage('remind me to stretch in a minute');
    const later = await waitUntil(
      () => scheduledRow('stretch'),
      (r) => r !== undefined,
    );
    const newTime = new Date(Date.now() + 1000);
    const moved = await api.request('PATCH', `/admin/scheduled-messages/${later.id}`, {
      headers: admin,
      body: { send_at: newTime.toISOString() },
    });
    expect(moved.status).toBe(200);
    const stretch = await waitUntil(
      () => agent.commands.find((c) => c.payload.text === 'stretch'),
      (c) => c !== undefined,
    );
    expect(stretch).toBeDefined();
    await new Promise((r) => setTimeout(r, 1000));
    expect(agent.commands.find((c) => c.payload.text === 'call mom')).toBeUndefined();
  });

  it('after downtime: < 15 min late is still sent, more is marked missed; the sweep restores lost jobs', async () => {
    const [room] = await query<{ id: string }>(
      db.url,
      `SELECT id FROM rooms WHERE chat_guid = $1`,
      [`imessage:${chat}`],
    );
    const insert = (text: string, minutesAgo: number) =>
      query<{ id: string }>(
        db.url,
        `INSERT INTO scheduled_messages (room_id, text, send_at) VALUES ($1, $2, now() - make_interval(mins => $3)) RETURNING id`,
        [room.id, text, minutesAgo],
      ).then((rows) => rows[0].id);
    const late = await insert('ten minutes late', 10);
    const missed = await insert('twenty minutes late', 20);

    // Their jobs were lost with the outage: the sweep finds them in Postgres.
    const restored = await worker.app.get(ScheduledMessageDeliveryService).sweep();
    expect(restored).toBeGreaterThanOrEqual(2);
    await waitUntil(
      () => agent.commands.find((c) => c.payload.text === 'ten minutes late'),
      (c) => c !== undefined,
    );
    const rows = await waitUntil(
      () =>
        query<{ id: string; status: string }>(
          db.url,
          `SELECT id, status FROM scheduled_messages WHERE id = ANY($1)`,
          [[late, missed]],
        ),
      (r) => r.every((x) => x.status !== 'scheduled'),
    );
    expect(Object.fromEntries(rows.map((r) => [r.id, r.status]))).toEqual({
      [late]: 'delivered',
      [missed]: 'missed',
    });
    expect(agent.commands.find((c) => c.payload.text === 'twenty minutes late')).toBeUndefined();

    // A due row whose delayed job vanished from Redis (flushed) is sent once the sweep runs.
    modelSchedules('lost job', new Date(Date.now() + 1500));
    await edgeMessage('remind me about the lost job');
    const lost = await waitUntil(
      () => scheduledRow('lost job'),
      (r) => r !== undefined,
    );
    const queue = api.app.get(QueueService).queue(QueueName.ScheduledMessages);
    await (await queue.getJob(`scheduled-message.send-${lost.id}`))!.remove();
    await new Promise((r) => setTimeout(r, 1600));
    expect(agent.commands.find((c) => c.payload.text === 'lost job')).toBeUndefined();
    await worker.app.get(ScheduledMessageDeliveryService).sweep();
    expect(
      await waitUntil(
        () => agent.commands.find((c) => c.payload.text === 'lost job'),
        (c) => c !== undefined,
      ),
    ).toBeDefined();
  });

  it('a message left for an agent that never comes back fails at its deadline (the sweep), not stays sent', async () => {
    const [room] = await query<{ id: string }>(
      db.url,
      `INSERT INTO rooms (chat_guid, type, edge_agent_id) VALUES ('imessage:+15554440999', 'direct', 'gone-agent') RETURNING id`,
    );
    const [row] = await query<{ id: string }>(
      db.url,
      `INSERT INTO scheduled_messages (room_id, text, send_at) VALUES ($1, 'for an offline Mac', now()) RETURNING id`,
      [room.id],
    );
    const delivery = worker.app.get(ScheduledMessageDeliveryService);
    expect(await delivery.deliver(row.id)).toEqual({ outcome: 'sent' });
    const commandOf = () =>
      query<{ id: string; status: string; error: string | null }>(
        db.url,
        `SELECT id, status, error FROM edge_commands WHERE scheduled_message_id = $1`,
        [row.id],
      );
    expect(await commandOf()).toEqual([expect.objectContaining({ status: 'pending' })]);

    // Before its deadline the sweep leaves it for the agent.
    await delivery.sweep();
    expect(await commandOf()).toEqual([expect.objectContaining({ status: 'pending' })]);
    expect((await scheduledRow('for an offline Mac')).status).toBe('sent');

    await query(
      db.url,
      `UPDATE edge_commands SET expires_at = now() - interval '1 second' WHERE scheduled_message_id = $1`,
      [row.id],
    );
    await delivery.sweep();
    expect(await commandOf()).toEqual([
      expect.objectContaining({
        status: 'failed',
        error: 'expired before it was acknowledged: not pushed again',
      }),
    ]);
    expect((await scheduledRow('for an offline Mac')).status).toBe('failed');
  });

  it('a reply that misses the HTTP deadline goes over the socket instead, in order, never both', async () => {
    fake.respondWith((body: FakeChatBody) =>
      body.response_format?.type === 'json_object'
        ? { content: '{"facts": []}' }
        : { content: 'first bubble\n\nsecond bubble', delayMs: 1200 },
    );
    const started = Date.now();
    const res = await edgeMessage('tell me something slowly');
    expect(Date.now() - started).toBeLessThan(1100);
    expect(res.body).toMatchObject({ should_respond: false, reply_text: null });
    const first = await waitUntil(
      () => agent.commands.find((c) => c.payload.text === 'first bubble'),
      (c) => !!c,
    );
    expect(first!.command_type).toBe('send_message_now');
    const second = await waitUntil(
      () => agent.commands.find((c) => c.payload.message_text === 'second bubble'),
      (c) => !!c,
    );
    expect(second!.command_type).toBe('schedule_message');
    expect(new Date(second!.payload.send_at as string).getTime()).toBeGreaterThan(first!.at);

    // An agent without an open socket gets the reply in the HTTP response, however long it takes.
    const offline = await edgeMessage('and you, offline agent?', 'nyx42');
    expect(offline.body).toMatchObject({
      should_respond: true,
      reply_text: 'first bubble\n\nsecond bubble',
    });
  });
});
