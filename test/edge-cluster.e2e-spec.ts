import { randomUUID } from 'node:crypto';
import { INestApplicationContext } from '@nestjs/common';
import Redis from 'ioredis';
import { EdgeCommandsService } from '../src/modules/edge/edge-commands.service';
import { EdgeGateway } from '../src/modules/edge/edge.gateway';
import { EdgePresenceService } from '../src/modules/edge/edge-presence.service';
import { createTestDatabase, TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { EdgeSocket, eventually } from './helpers/edge-ws';
import { startEdgeWorker } from './helpers/edge-worker';
import {
  clearRedisPrefix,
  newRedisPrefix,
  RunningApi,
  startApi,
  testConfig,
} from './helpers/test-app';

const EDGE_SECRET = 'edge-cluster-secret-3f1a2b';
const ADMIN_KEY = 'edge-cluster-admin-key-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };
const authorization = `Bearer ${EDGE_SECRET}`;

let n = 0;
const newAgent = () => `nyx${++n}_${randomUUID().slice(0, 6)}`;

/**
 * Two API instances and a worker on one Postgres and one Redis, as deployed: an agent's socket
 * lives on one instance; commands created anywhere reach it; the newest socket wins everywhere.
 */
describe('edge commands across API instances and workers (real apps, Postgres, Redis, ws)', () => {
  let db: TestDatabase;
  let apiA: RunningApi;
  let apiB: RunningApi;
  let worker: INestApplicationContext;
  const prefix = newRedisPrefix();
  const sockets: EdgeSocket[] = [];

  const connect = async (api: RunningApi, agentId: string) => {
    const socket = await EdgeSocket.open(api.url, agentId, { authorization });
    sockets.push(socket);
    return socket;
  };
  /** Waits until the instance has finished recording the connection (presence set). */
  const connected = (agentId: string, instance: RunningApi) =>
    eventually(async () =>
      expect(await apiB.app.get(EdgePresenceService).instanceOf(agentId)).toBe(
        instance.app.get(EdgeGateway).instanceId,
      ),
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    const config = testConfig(
      { databaseUrl: db.url, redisPrefix: prefix },
      { EDGE_SECRET, ADMIN_API_KEY: ADMIN_KEY },
    );
    [apiA, apiB] = await Promise.all([startApi(config), startApi(config)]);
    worker = (await startEdgeWorker(config)).app;
  });

  afterEach(async () => {
    await Promise.all(sockets.splice(0).map((s) => s.close()));
  });

  afterAll(async () => {
    await worker?.close();
    await apiA?.close().catch(() => undefined);
    await apiB?.close();
    await clearRedisPrefix(prefix);
    await db?.drop();
  });

  it('each instance has its own id', () => {
    const a = apiA.app.get(EdgeGateway).instanceId;
    const b = apiB.app.get(EdgeGateway).instanceId;
    expect(a).not.toBe(b);
    expect(a).toMatch(/^.+:\d+:[0-9a-f]{8}$/);
  });

  it('a command created through instance B reaches the agent connected to instance A', async () => {
    const agentId = newAgent();
    const socket = await connect(apiA, agentId);
    await connected(agentId, apiA);
    expect(await apiB.app.get(EdgePresenceService).isConnected(agentId)).toBe(true);

    const res = await apiB.request<{ id: string }>(
      'POST',
      `/admin/edge/agents/${agentId}/commands`,
      {
        headers: admin,
        body: {
          command_type: 'send_message_now',
          payload: { thread_id: '+15550002222', text: 'hi from B' },
        },
      },
    );
    expect(res.status).toBe(201);
    const command = await socket.nextCommand();
    expect(command).toMatchObject({ command_id: res.body.id, payload: { text: 'hi from B' } });

    // The admin view of either instance shows where the socket is.
    const list = await apiB.request<{ agents: Record<string, unknown>[] }>(
      'GET',
      '/admin/edge/agents',
      {
        headers: admin,
      },
    );
    expect(list.body.agents.find((a) => a.id === agentId)).toMatchObject({
      connected: true,
      connected_instance: apiA.app.get(EdgeGateway).instanceId,
      unacked_commands: 1,
    });
    socket.ack(command.command_id);
  });

  it('a command created in a worker (no sockets, no HTTP) reaches the agent', async () => {
    const agentId = newAgent();
    const socket = await connect(apiA, agentId);
    await connected(agentId, apiA);
    const created = await worker.get(EdgeCommandsService).create(agentId, 'schedule_message', {
      thread_id: 'chat998877665544332211',
      message_text: 'from the worker',
      send_at: new Date(Date.now() + 3_600_000),
    });
    const command = await socket.nextCommand();
    expect(command.command_id).toBe(created.id);
    expect(command.payload).toMatchObject({ is_group: true, message_text: 'from the worker' });
    socket.ack(command.command_id);
    // The ack landed on A (which holds the socket) and updated the shared row.
    await eventually(async () =>
      expect((await worker.get(EdgeCommandsService).find(created.id))?.status).toBe('acked'),
    );
  });

  it('a bare row + publish from outside any instance is pushed (the pub/sub contract)', async () => {
    const agentId = newAgent();
    const socket = await connect(apiA, agentId);
    await connected(agentId, apiA);
    const [row] = await query<{ id: string }>(
      db.url,
      `INSERT INTO edge_commands (agent_id, command_type, payload)
       VALUES ($1, 'emit_event', '{"event_type":"outside"}') RETURNING id`,
      [agentId],
    );
    const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      await redis.publish(`${prefix}:edge:commands`, JSON.stringify({ agentId }));
    } finally {
      redis.disconnect();
    }
    const command = await socket.nextCommand(1000); // well before any sweep would find it
    expect(command).toMatchObject({
      command_id: row.id,
      command_type: 'emit_event',
      payload: { event_type: 'outside' },
    });
  });

  it('newest socket wins across instances: connecting to B closes the socket on A', async () => {
    const agentId = newAgent();
    const onA = await connect(apiA, agentId);
    await connected(agentId, apiA);
    const onB = await connect(apiB, agentId);
    expect(await onA.closed).toMatchObject({ code: 4000 });
    await connected(agentId, apiB);
    const [agent] = await query(
      db.url,
      `SELECT connected_instance FROM edge_agents WHERE id = $1`,
      [agentId],
    );
    expect(agent.connected_instance).toBe(apiB.app.get(EdgeGateway).instanceId);
    expect(apiA.app.get(EdgeGateway).connectedAgents()).not.toContain(agentId);

    const created = await apiA.app
      .get(EdgeCommandsService)
      .create(agentId, 'send_message_now', { thread_id: '+15550003333', text: 'to B' });
    expect((await onB.nextCommand()).command_id).toBe(created.id);
    expect(onA.frames.filter((f) => f.type === 'command')).toEqual([]);
  });

  it('shutdown waits for the acks of what it pushed before the 1012: no command runs twice', async () => {
    const apiC = await startApi(apiB.config);
    try {
      const agentId = newAgent();
      const socket = await connect(apiC, agentId);
      await connected(agentId, apiC);
      const created = await apiB.app
        .get(EdgeCommandsService)
        .create(agentId, 'send_message_now', { thread_id: '+15550005555', text: 'just once' });
      const command = await socket.nextCommand();
      expect(command.command_id).toBe(created.id);

      // A deploy starts while the Mac is still sending the message (its ack comes 300 ms later).
      const closing = apiC.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(socket.isOpen).toBe(true);
      socket.ack(command.command_id);
      expect(await socket.closed).toMatchObject({ code: 1012 });
      await closing;

      const again = await connect(apiB, agentId);
      await again.expectNone('command', 1000);
      const [row] = await query(
        db.url,
        `SELECT status, attempts FROM edge_commands WHERE id = $1`,
        [created.id],
      );
      expect(row).toEqual({ status: 'acked', attempts: 1 });
    } finally {
      await apiC.close().catch(() => undefined);
    }
  });

  it('shutdown closes every socket with 1012 and clears presence; the agent lands on B', async () => {
    const agentId = newAgent();
    const socket = await connect(apiA, agentId);
    await connected(agentId, apiA);
    await apiA.close();
    expect(await socket.closed).toMatchObject({ code: 1012 });
    expect(await apiB.app.get(EdgePresenceService).isConnected(agentId)).toBe(false);
    const [agent] = await query(
      db.url,
      `SELECT connected_instance FROM edge_agents WHERE id = $1`,
      [agentId],
    );
    expect(agent.connected_instance).toBeNull();

    // Queued while the agent is between instances, delivered when it reconnects elsewhere.
    const queued = await apiB.app
      .get(EdgeCommandsService)
      .create(agentId, 'send_message_now', { thread_id: '+15550004444', text: 'after the deploy' });
    const again = await connect(apiB, agentId);
    expect((await again.nextCommand()).command_id).toBe(queued.id);
  });
});
