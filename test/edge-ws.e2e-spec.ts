import { randomUUID } from 'node:crypto';
import {
  EdgeCommandAckEvent,
  EdgeCommandsService,
} from '../src/modules/edge/edge-commands.service';
import { EdgeGateway } from '../src/modules/edge/edge.gateway';
import { EdgePresenceService } from '../src/modules/edge/edge-presence.service';
import { DEFAULT_EDGE_TIMINGS } from '../src/modules/edge/edge-timings';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { EdgeSocket, eventually, refusedUpgrade } from './helpers/edge-ws';
import { edgeToken, nowSeconds } from './helpers/signing';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
} from './helpers/test-app';

const EDGE_SECRET = 'edge-ws-secret-5b7c9d1e';
const ADMIN_KEY = 'edge-ws-admin-key-0123456789abcdef';
const PHONE = '+15550001111';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const secret = `Bearer ${EDGE_SECRET}`;
const V0_REGISTRATION = 'v0-registration-token-3c1f9e';
const token = (agentId: string, ts?: number) =>
  `Bearer ${edgeToken(agentId, PHONE, EDGE_SECRET, ts)}`;

let n = 0;
const newAgent = () => `luna${++n}_${randomUUID().slice(0, 6)}`;

interface CommandRow {
  id: string;
  status: string;
  attempts: number;
  ack_count: number;
  acked_at: Date | null;
  delivered_at: Date | null;
  error: string | null;
}

describe('edge WebSocket /edge/ws and the edge command queue (real app, Postgres, Redis, ws)', () => {
  let db: TestDatabase;
  let api: RunningApi;
  let gateway: EdgeGateway;
  let commands: EdgeCommandsService;
  const prefix = newRedisPrefix();
  const sockets: EdgeSocket[] = [];

  const connect = async (agentId: string | undefined, options = {}) => {
    const socket = await EdgeSocket.open(api.url, agentId, { authorization: secret, ...options });
    sockets.push(socket);
    return socket;
  };
  const row = async (id: string) =>
    (await query<CommandRow>(db.url, `SELECT * FROM edge_commands WHERE id = $1`, [id]))[0];
  const send = (agentId: string, text: string) =>
    commands.create(agentId, 'send_message_now', { thread_id: '+15557654321', text });
  const adminCreate = (agentId: string, body: unknown) =>
    api.request<Record<string, unknown>>('POST', `/admin/edge/agents/${agentId}/commands`, {
      headers: admin,
      body,
    });
  const agentView = async (agentId: string) => {
    const res = await api.request<{ agents: Record<string, unknown>[] }>(
      'GET',
      '/admin/edge/agents',
      { headers: admin },
    );
    expect(res.status).toBe(200);
    return res.body.agents.find((a) => a.id === agentId);
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(
      testConfig(
        { databaseUrl: db.url, redisPrefix: prefix },
        { EDGE_SECRET, ADMIN_API_KEY: ADMIN_KEY, EDGE_REGISTRATION_TOKEN: V0_REGISTRATION },
      ),
    );
    gateway = api.app.get(EdgeGateway);
    commands = api.app.get(EdgeCommandsService);
  });

  beforeEach(() => gateway.configure({ ...DEFAULT_EDGE_TIMINGS, resendAfterMs: 60_000 }));

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await api?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  describe('authentication of the upgrade', () => {
    it('accepts the raw secret (HEAD client) and answers ping with pong', async () => {
      const agentId = newAgent();
      const socket = await connect(agentId);
      socket.send({ type: 'ping' });
      expect(await socket.next('pong')).toEqual({ type: 'pong' });
      const [agent] = await query(db.url, `SELECT * FROM edge_agents WHERE id = $1`, [agentId]);
      expect(agent).toMatchObject({ connected_instance: gateway.instanceId, phone: null });
      expect(agent.connected_at).toBeInstanceOf(Date);
      expect(await api.app.get(EdgePresenceService).isConnected(agentId)).toBe(true);
    });

    it('accepts an HMAC token, with the id in the query, the header or only in the token', async () => {
      const agentId = newAgent();
      const viaQuery = await connect(agentId, { authorization: token(agentId), header: false });
      viaQuery.send({ type: 'ping' });
      await viaQuery.next('pong');
      await viaQuery.close();
      const viaHeader = await connect(agentId, { authorization: token(agentId), query: false });
      viaHeader.send({ type: 'ping' });
      await viaHeader.next('pong');
      await viaHeader.close();
      const tokenOnly = await connect(undefined, { authorization: token(agentId) });
      tokenOnly.send({ type: 'ping' });
      await tokenOnly.next('pong');
      const [agent] = await query(db.url, `SELECT phone FROM edge_agents WHERE id = $1`, [agentId]);
      expect(agent.phone).toBe(PHONE);
    });

    it('refuses bad credentials at once with an HTTP status, never leaving the upgrade hanging', async () => {
      const agentId = newAgent();
      const cases: [string, Promise<{ status: number; ms: number; body: string }>, number][] = [
        ['no Authorization', refusedUpgrade(api.url, agentId), 401],
        ['wrong secret', refusedUpgrade(api.url, agentId, { authorization: 'Bearer nope' }), 401],
        [
          'token of another agent',
          refusedUpgrade(api.url, agentId, { authorization: token('someone_else') }),
          401,
        ],
        [
          'expired token',
          refusedUpgrade(api.url, agentId, {
            authorization: token(agentId, nowSeconds() - 24 * 3600 - 301),
          }),
          401,
        ],
        [
          'token signed with another secret',
          refusedUpgrade(api.url, agentId, {
            authorization: `Bearer ${edgeToken(agentId, PHONE, 'other-secret')}`,
          }),
          401,
        ],
        [
          'secret without an agent id',
          refusedUpgrade(api.url, undefined, { authorization: secret }),
          400,
        ],
        [
          'another path',
          refusedUpgrade(api.url, agentId, { authorization: secret, path: '/edge/nope' }),
          404,
        ],
      ];
      for (const [what, pending, status] of cases) {
        const result = await pending;
        expect({ what, status: result.status }).toEqual({ what, status });
        expect(result.ms).toBeLessThan(1000);
      }
      const wrong = await refusedUpgrade(api.url, agentId, { authorization: 'Bearer nope' });
      expect(JSON.parse(wrong.body)).toEqual({
        statusCode: 401,
        error: 'Unauthorized',
        message: 'Invalid edge token',
      });
      expect(await api.app.get(EdgePresenceService).isConnected(agentId)).toBe(false);
    });

    it('refuses an id claimed twice differently, and tolerates //edge/ws', async () => {
      const agentId = newAgent();
      const ws = await import('ws');
      const started = Date.now();
      const status = await new Promise<number>((resolve, reject) => {
        const client = new ws.default(
          `${api.url.replace('http', 'ws')}/edge/ws?edge_agent_id=${agentId}`,
          { headers: { Authorization: secret, 'X-Edge-Agent-Id': 'another' } },
        );
        client.once('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0));
        client.once('open', () => reject(new Error('accepted')));
        client.once('error', reject);
      });
      expect(status).toBe(401);
      expect(Date.now() - started).toBeLessThan(1000);

      const doubled = await connect(agentId, { path: '//edge/ws' });
      doubled.send({ type: 'ping' });
      await doubled.next('pong');
    });
  });

  it('ignores non-JSON and unknown frames, and keeps the socket', async () => {
    const socket = await connect(newAgent());
    socket.send('not json at all');
    socket.send({ type: 'status', data: {} });
    socket.send({ nope: true });
    socket.send({ type: 'command_ack' });
    socket.send({ type: 'ping' });
    await socket.next('pong');
    expect(socket.isOpen).toBe(true);
  });

  it('one socket per agent: a newer one replaces the older (closed with 4000)', async () => {
    const agentId = newAgent();
    const first = await connect(agentId);
    const second = await connect(agentId);
    expect(await first.closed).toMatchObject({ code: 4000 });
    second.send({ type: 'ping' });
    await second.next('pong');
    // Commands go to the newest socket only.
    const command = await send(agentId, 'to the newest');
    expect((await second.nextCommand()).command_id).toBe(command.id);
    expect(first.frames.filter((f) => f.type === 'command')).toEqual([]);
    // The replaced socket's close does not clear the agent's presence.
    expect(await api.app.get(EdgePresenceService).isConnected(agentId)).toBe(true);
  });

  it('queues commands while the agent is offline and flushes them in order on connect', async () => {
    const agentId = newAgent();
    await (await connect(agentId)).close();
    await eventually(async () =>
      expect(await agentView(agentId)).toMatchObject({ connected: false }),
    );

    const created: Record<string, unknown>[] = [];
    for (const text of ['one', 'two', 'three']) {
      const res = await adminCreate(agentId, {
        command_type: 'send_message_now',
        payload: { thread_id: 'chat123456789012345678', text },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({ agent_id: agentId, status: 'pending', attempts: 0 });
      created.push(res.body);
    }
    expect(await agentView(agentId)).toMatchObject({
      connected: false,
      connected_instance: null,
      pending_commands: 3,
      unacked_commands: 0,
    });

    const socket = await connect(agentId);
    const received = [
      await socket.nextCommand(),
      await socket.nextCommand(),
      await socket.nextCommand(),
    ];
    expect(received.map((c) => c.payload.text)).toEqual(['one', 'two', 'three']);
    expect(received.map((c) => c.command_id)).toEqual(created.map((c) => c.id));
    expect(received[0]).toEqual({
      command_id: created[0].id,
      command_type: 'send_message_now',
      payload: { thread_id: 'chat123456789012345678', text: 'one' },
      timestamp: created[0].created_at,
      priority: 'normal',
    });
    expect(received[0].timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    await eventually(async () =>
      expect(await agentView(agentId)).toMatchObject({
        connected: true,
        connected_instance: gateway.instanceId,
        pending_commands: 0,
        unacked_commands: 3,
      }),
    );
    expect(await row(received[0].command_id)).toMatchObject({ status: 'delivered', attempts: 1 });

    for (const c of received) socket.ack(c.command_id);
    await eventually(async () =>
      expect(await agentView(agentId)).toMatchObject({ pending_commands: 0, unacked_commands: 0 }),
    );
    expect(await row(received[2].command_id)).toMatchObject({ status: 'acked', ack_count: 1 });
  });

  it('resends an unacked command with the same id until acked, then never again', async () => {
    gateway.configure({ resendAfterMs: 400 });
    const agentId = newAgent();
    const socket = await connect(agentId);
    const command = await send(agentId, 'are you there?');
    const first = await socket.nextCommand();
    const sentAt = Date.now();
    const again = await socket.nextCommand(3000);
    expect(Date.now() - sentAt).toBeGreaterThanOrEqual(300);
    expect(again).toEqual(first);
    expect(first.command_id).toBe(command.id);
    socket.ack(command.id);
    await eventually(async () => expect(await row(command.id)).toMatchObject({ status: 'acked' }));
    await socket.expectNone('command', 1200);
    const stored = await row(command.id);
    expect(stored.attempts).toBeGreaterThanOrEqual(2);
    expect(stored.acked_at).toBeInstanceOf(Date);
  });

  it('gives up after the maximum number of sends: failed, and the listeners hear it', async () => {
    gateway.configure({ resendAfterMs: 250, maxAttempts: 3 });
    const events: EdgeCommandAckEvent[] = [];
    const off = commands.onAck((e) => void events.push(e));
    try {
      const agentId = newAgent();
      const socket = await connect(agentId);
      const command = await send(agentId, 'nobody acks me');
      for (let i = 0; i < 3; i++) expect((await socket.nextCommand()).command_id).toBe(command.id);
      await eventually(async () =>
        expect(await row(command.id)).toMatchObject({
          status: 'failed',
          attempts: 3,
          error: 'not acknowledged after 3 sends',
        }),
      );
      await socket.expectNone('command', 600);
      expect(events.filter((e) => e.command.id === command.id)).toEqual([
        expect.objectContaining({ stage: 'expired', ok: false, final: true }),
      ]);
    } finally {
      off();
    }
  });

  it('fails a message command its agent did not take in time instead of pushing it; other types still go', async () => {
    gateway.configure({ messageGraceMs: 300 });
    const events: EdgeCommandAckEvent[] = [];
    const off = commands.onAck((e) => void events.push(e));
    try {
      const agentId = newAgent();
      await (await connect(agentId)).close();
      await eventually(async () =>
        expect(await agentView(agentId)).toMatchObject({ connected: false }),
      );
      const stale = await send(agentId, 'a reply from long ago');
      const bubble = await commands.create(agentId, 'schedule_message', {
        thread_id: '+15557654321',
        message_text: 'a second bubble from long ago',
        send_at: new Date(Date.now() + 100),
      });
      const cancel = await commands.create(agentId, 'cancel_scheduled', { schedule_id: 'sched-1' });
      expect(stale.expiresAt!.getTime() - stale.createdAt.getTime()).toBeLessThan(1000);
      expect(bubble.expiresAt).toEqual(
        new Date(Date.parse(bubble.payload.send_at as string) + 300),
      );
      expect(cancel.expiresAt).toBeNull();
      await new Promise((r) => setTimeout(r, 700));

      const socket = await connect(agentId);
      expect((await socket.nextCommand()).command_id).toBe(cancel.id);
      await socket.expectNone('command', 600);
      for (const command of [stale, bubble]) {
        expect(await row(command.id)).toMatchObject({
          status: 'failed',
          attempts: 0,
          error: 'expired before it was acknowledged: not pushed again',
        });
        expect(events.filter((e) => e.command.id === command.id)).toEqual([
          expect.objectContaining({ stage: 'expired', ok: false, final: true }),
        ]);
      }
    } finally {
      off();
    }
  });

  it('reconnecting resends what was delivered but not acked (same id), not what was acked', async () => {
    const agentId = newAgent();
    const socket = await connect(agentId);
    const acked = await send(agentId, 'acked');
    const unacked = await send(agentId, 'unacked');
    expect((await socket.nextCommand()).command_id).toBe(acked.id);
    expect((await socket.nextCommand()).command_id).toBe(unacked.id);
    socket.ack(acked.id);
    await eventually(async () => expect(await row(acked.id)).toMatchObject({ status: 'acked' }));
    await socket.close();

    const again = await connect(agentId);
    expect((await again.nextCommand()).command_id).toBe(unacked.id);
    await again.expectNone('command', 300);
    expect(await row(unacked.id)).toMatchObject({ status: 'delivered', attempts: 2 });
  });

  it('schedule_message: the first ack is "stored", the second "sent" (delivered_at)', async () => {
    const events: EdgeCommandAckEvent[] = [];
    const off = commands.onAck((e) => void events.push(e));
    try {
      const agentId = newAgent();
      const socket = await connect(agentId);
      const sendAt = new Date(Date.now() + 60_000);
      const command = await commands.create(agentId, 'schedule_message', {
        thread_id: 'chat123456789012345678',
        message_text: 'reminder: water the plants',
        send_at: sendAt,
      });
      const pushed = await socket.nextCommand();
      expect(pushed.payload).toEqual({
        thread_id: 'chat123456789012345678',
        message_text: 'reminder: water the plants',
        send_at: sendAt.toISOString(),
        is_group: true,
      });

      socket.ack(command.id, { completed_at: new Date().toISOString() });
      await eventually(async () =>
        expect(await row(command.id)).toMatchObject({
          status: 'acked',
          ack_count: 1,
          delivered_at: null,
        }),
      );
      expect((await row(command.id)).acked_at).toBeInstanceOf(Date);

      socket.ack(command.id, { completed_at: sendAt.toISOString() });
      await eventually(async () =>
        expect(await row(command.id)).toMatchObject({ status: 'acked', ack_count: 2 }),
      );
      expect((await row(command.id)).delivered_at?.toISOString()).toBe(sendAt.toISOString());

      socket.ack(command.id); // a third: counted, nothing else
      await eventually(async () => expect(await row(command.id)).toMatchObject({ ack_count: 3 }));
      expect(events.filter((e) => e.command.id === command.id)).toEqual([
        expect.objectContaining({ stage: 'received', ok: true, final: false }),
        expect.objectContaining({ stage: 'delivered', ok: true, final: true }),
      ]);

      // A failed send: the second ack fails the command, with the edge's error.
      const failing = await commands.create(agentId, 'schedule_message', {
        thread_id: '+15557654321',
        message_text: 'will fail',
        send_at: new Date(Date.now() - 1000),
      });
      expect((await socket.nextCommand()).command_id).toBe(failing.id);
      socket.ack(failing.id);
      socket.ack(failing.id, { status: 'failed', error: 'iMessage send failed: timeout' });
      await eventually(async () =>
        expect(await row(failing.id)).toMatchObject({
          status: 'failed',
          ack_count: 2,
          delivered_at: null,
          error: 'iMessage send failed: timeout',
        }),
      );
      expect(events.filter((e) => e.command.id === failing.id).map((e) => e.stage)).toEqual([
        'received',
        'delivered',
      ]);
    } finally {
      off();
    }
  });

  it('a failed first ack fails the command; acks of unknown or foreign commands change nothing', async () => {
    const agentId = newAgent();
    const other = newAgent();
    const socket = await connect(agentId);
    const mine = await send(agentId, 'mine');
    const theirs = await send(other, 'theirs');
    await socket.nextCommand();
    socket.send({
      type: 'command_ack',
      data: { command_id: mine.id, status: 'failed', error: 'Rate limit exceeded' },
    });
    socket.ack(theirs.id);
    socket.ack(randomUUID());
    socket.ack('not-a-uuid');
    socket.send({ type: 'ping' });
    await socket.next('pong');
    await eventually(async () =>
      expect(await row(mine.id)).toMatchObject({ status: 'failed', error: 'Rate limit exceeded' }),
    );
    expect(await row(theirs.id)).toMatchObject({ status: 'pending', ack_count: 0 });
  });

  it('records an ack whose error text carries NUL characters, without them', async () => {
    const agentId = newAgent();
    const socket = await connect(agentId);
    const command = await send(agentId, 'nul');
    await socket.nextCommand();
    socket.send({
      type: 'command_ack',
      data: { command_id: command.id, status: 'failed', error: 'send\u0000 failed' },
    });
    await eventually(async () =>
      expect(await row(command.id)).toMatchObject({ status: 'failed', error: 'send failed' }),
    );
  });

  it('closes a socket that sends a frame over 1 MiB with 1009', async () => {
    const socket = await connect(newAgent());
    socket.send(JSON.stringify({ type: 'ping', data: 'x'.repeat(2 * 1024 * 1024) }));
    expect((await socket.closed).code).toBe(1009);
  });

  it('terminates a socket that stops answering protocol pings (server-side liveness)', async () => {
    gateway.configure({ pingIntervalMs: 100, idleTimeoutMs: 500 });
    const agentId = newAgent();
    const alive = await connect(newAgent());
    const deaf = await connect(agentId, { autoPong: false });
    const started = Date.now();
    expect((await deaf.closed).code).toBe(1006);
    const took = Date.now() - started;
    expect(took).toBeGreaterThanOrEqual(400);
    expect(took).toBeLessThan(2000);
    expect(alive.isOpen).toBe(true); // it answers pings by itself, like the real client
    await eventually(async () =>
      expect(await api.app.get(EdgePresenceService).isConnected(agentId)).toBe(false),
    );
  });

  it('closes with 4001 when the HMAC token it connected with expires', async () => {
    gateway.configure({ pingIntervalMs: 200 });
    const agentId = newAgent();
    const almostExpired = nowSeconds() - 24 * 3600 - 300 + 1;
    const socket = await connect(agentId, { authorization: token(agentId, almostExpired) });
    const closed = await socket.closed;
    expect(closed).toEqual({ code: 4001, reason: 'edge token expired' });
  });

  describe('legacy HTTP (V0 client)', () => {
    it('POST /edge/register returns the token agent id, or edge_<digits>, and stores phone + version', async () => {
      const agentId = newAgent();
      const body = {
        user_phone: '+15559876543',
        apple_id: null,
        version: '2.0.0',
        capabilities: ['transport', 'scheduler'],
        auth_token: 'edge_manual_token',
      };
      const viaToken = await api.request('POST', '/edge/register', {
        headers: { authorization: token(agentId) },
        body,
      });
      expect(viaToken.status).toBe(200);
      expect(viaToken.body).toEqual({ edge_agent_id: agentId });
      const viaPhone = await api.request('POST', '/edge/register', {
        headers: { authorization: secret },
        body,
      });
      expect(viaPhone.body).toEqual({ edge_agent_id: 'edge_15559876543' });
      const rows = await query(
        db.url,
        `SELECT id, phone, version FROM edge_agents WHERE id = ANY($1) ORDER BY id`,
        [[agentId, 'edge_15559876543']],
      );
      expect(rows).toEqual(
        expect.arrayContaining([
          { id: agentId, phone: '+15559876543', version: '2.0.0' },
          { id: 'edge_15559876543', phone: '+15559876543', version: '2.0.0' },
        ]),
      );
      const unauthenticated = await api.request('POST', '/edge/register', { body });
      expect(unauthenticated.status).toBe(401);
      const extra = await api.request('POST', '/edge/register', {
        headers: { authorization: secret },
        body: { ...body, is_admin: true },
      });
      expect(extra.status).toBe(400);
    });

    it('POST /edge/register takes a V0 client without a Bearer by its auth_token, and nothing else', async () => {
      const body = {
        user_phone: '+15551230000',
        apple_id: null,
        version: '2.0.0',
        capabilities: ['transport', 'scheduler'],
        auth_token: V0_REGISTRATION,
      };
      const v0 = await api.request('POST', '/edge/register', { body });
      expect(v0.status).toBe(200);
      expect(v0.body).toEqual({ edge_agent_id: 'edge_15551230000' });
      for (const auth_token of [`${V0_REGISTRATION}x`, V0_REGISTRATION.slice(0, -1), '', 42]) {
        const refused = await api.request('POST', '/edge/register', {
          body: { ...body, user_phone: '+15551230001', auth_token },
        });
        expect(refused.status).toBe(401);
        expect(JSON.stringify(refused.body)).not.toContain(V0_REGISTRATION);
      }
      const missing = await api.request('POST', '/edge/register', {
        body: { ...body, user_phone: '+15551230001', auth_token: undefined },
      });
      expect(missing.status).toBe(401);
      // A Bearer is always the Edge token: a wrong one is not rescued by the body's token.
      const wrongBearer = await api.request('POST', '/edge/register', {
        headers: { authorization: 'Bearer not-the-edge-secret' },
        body: { ...body, user_phone: '+15551230001' },
      });
      expect(wrongBearer.status).toBe(401);
      expect(
        await query(db.url, `SELECT id FROM edge_agents WHERE id = 'edge_15551230001'`),
      ).toEqual([]);
      // The V0 client then mints its Edge token: registering gave it nothing else.
      const sync = await api.request('POST', '/edge/sync', {
        body: { edge_agent_id: 'edge_15551230000' },
      });
      expect(sync.status).toBe(401);
    });

    it('POST /edge/sync returns the pending commands in order and marks them delivered', async () => {
      const agentId = newAgent();
      const a = await send(agentId, 'first');
      const b = await commands.create(agentId, 'context_reset', {
        chat_guid: '+15557654321',
        thread_id: '+15557654321',
      });
      const sync = (id = agentId) =>
        api.request<{
          commands: Record<string, unknown>[];
          ack_events: string[];
          config_updates: object;
        }>('POST', '/edge/sync', {
          headers: { authorization: token(agentId) },
          body: {
            edge_agent_id: id,
            last_command_id: null,
            pending_events: [{ event_id: 'ev-1', event_type: 'message_sent', details: {} }],
            status: { scheduled_messages: 0, active_rules: 0, uptime_seconds: 12 },
          },
        });
      const res = await sync();
      expect(res.status).toBe(200);
      expect(res.body.commands).toEqual([
        {
          command_id: a.id,
          command_type: 'send_message_now',
          payload: { thread_id: '+15557654321', text: 'first' },
          timestamp: a.createdAt.toISOString(),
          priority: 'normal',
        },
        expect.objectContaining({ command_id: b.id, command_type: 'context_reset' }),
      ]);
      expect(res.body.ack_events).toEqual(['ev-1']);
      expect(res.body.config_updates).toEqual({});
      expect(await row(a.id)).toMatchObject({ status: 'delivered', attempts: 1 });
      expect((await sync()).body.commands).toEqual([]);
      expect((await sync('someone_else')).status).toBe(403);
    });

    it('POST /edge/command/ack acknowledges (success or failure); unknown ids are not recorded', async () => {
      const agentId = newAgent();
      const ok = await send(agentId, 'ok');
      const bad = await send(agentId, 'bad');
      const post = (body: unknown, authorization = token(agentId)) =>
        api.request('POST', '/edge/command/ack', { headers: { authorization }, body });
      const timestamp = new Date().toISOString();
      expect(
        (await post({ command_id: ok.id, success: true, error: null, timestamp })).body,
      ).toEqual({
        status: 'ok',
        recorded: true,
      });
      expect(
        (await post({ command_id: bad.id, success: false, error: 'boom', timestamp }, secret)).body,
      ).toEqual({ status: 'ok', recorded: true });
      expect((await post({ command_id: randomUUID(), success: true })).body).toEqual({
        status: 'ok',
        recorded: false,
      });
      expect((await post({ command_id: ok.id, success: 'yes' })).status).toBe(400);
      expect(await row(ok.id)).toMatchObject({ status: 'acked' });
      expect(await row(bad.id)).toMatchObject({ status: 'failed', error: 'boom' });
    });
  });

  describe('admin', () => {
    it('refuses invalid payloads with 400 naming the problem, unknown agents with 404, non-admins with 401', async () => {
      const agentId = newAgent();
      await (await connect(agentId)).close();
      const bad = async (body: unknown) => {
        const res = await adminCreate(agentId, body);
        expect(res.status).toBe(400);
        return res.body.message;
      };
      expect(
        await bad({
          command_type: 'send_message_now',
          payload: { thread_id: '+1', text: 'run osascript' },
        }),
      ).toMatch(/^send_message_now\.text contains a phrase the edge's AppleScript sender refuses/);
      expect(
        await bad({
          command_type: 'schedule_message',
          payload: { thread_id: '+1', message_text: 'x', send_at: '2026-01-01T09:00:00' },
        }),
      ).toMatch(/send_at must carry its zone/);
      expect(await bad({ command_type: 'send_message', payload: {} })).toMatch(
        /command_type must be one of/,
      );
      expect(
        await bad({ command_type: 'emit_event', payload: { event_type: 'x' }, priority: 'high' }),
      ).toMatch(/priority must be one of/);
      expect(await bad({ command_type: 'emit_event', payload: 'x' })).toMatch(
        /payload must be an object/,
      );

      const unknown = await adminCreate('nobody_here', {
        command_type: 'emit_event',
        payload: { event_type: 'x' },
      });
      expect(unknown.status).toBe(404);
      const anonymous = await api.request('GET', '/admin/edge/agents');
      expect(anonymous.status).toBe(401);

      const immediate = await adminCreate(agentId, {
        command_type: 'emit_event',
        payload: { event_type: 'x' },
        priority: 'immediate',
      });
      expect(immediate.status).toBe(201);
      expect(immediate.body).toMatchObject({ priority: 'immediate', status: 'pending' });
      const list = await api.request<{ commands: { id: string }[] }>(
        'GET',
        `/admin/edge/agents/${agentId}/commands?status=pending`,
        { headers: admin },
      );
      expect(list.body.commands.map((c) => c.id)).toEqual([immediate.body.id]);
    });
  });
});
