import { PreparedStatements } from '../src/core/database/prepared-statements';
import { FakeOpenAI } from './fake-openai/fake-openai.server';
import { TestDatabase } from './helpers/database';
import { query, turnTableCounts } from './helpers/db-query';
import { edgeToken } from './helpers/signing';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';

const EDGE_SECRET = 'edge-secret-for-edge-message-e2e';

/** The body the deployed edge client sends (EDGE_PROTOCOL §6.1). */
function edgeBody(overrides: Record<string, unknown> = {}) {
  return {
    chat_guid: '+15557654321',
    mode: 'direct',
    sender: '+15557654321',
    text: 'hey luna',
    timestamp: Math.floor(Date.now() / 1000),
    participants: ['+15557654321'],
    persona_id: 'luna',
    persona_phone: '+15550001111',
    metadata: { was_redacted: false, redacted_fields: [], filter_reason: 'phase1_transport' },
    ...overrides,
  };
}

describe('POST /edge/message (the real edge client’s contract)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  const prefix = newRedisPrefix();
  const headers = { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': 'luna1' };

  beforeAll(async () => {
    sys = await startTestSystem({ prefix, overrides: { EDGE_SECRET } });
    ({ db, fake, api } = sys);
  });

  afterAll(async () => {
    await sys?.close();
  });

  beforeEach(() => fake.reset());

  it('answers with the six fields the edge reads, in the requested persona', async () => {
    fake.reply({ content: 'hiii\n\nwhat are we doing today' });
    const res = await api.request('POST', '/edge/message', { body: edgeBody(), headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      should_respond: true,
      reply_text: 'hiii\n\nwhat are we doing today',
      reply_bubbles: ['hiii', 'what are we doing today'],
      reflex_message: null,
      burst_messages: [],
      burst_delay_ms: 0,
    });
    expect(fake.lastChatRequest()!.body.messages![0].content).toContain('You are Luna');
    const [room] = await query(
      db.url,
      `SELECT chat_guid, type FROM rooms WHERE chat_guid = 'imessage:+15557654321'`,
    );
    expect(room).toEqual({ chat_guid: 'imessage:+15557654321', type: 'direct' });
    // The agent is recorded with the persona and number it reported.
    const [agent] = await query(
      db.url,
      `SELECT persona_id, phone FROM edge_agents WHERE id = 'luna1'`,
    );
    expect(agent).toEqual({ persona_id: 'luna', phone: '+15550001111' });
  });

  it('moves a room to the agent now relaying it, and its next message writes only itself', async () => {
    const chat = '+15557650001';
    const send = (agent: string, text: string) =>
      api.request('POST', '/edge/message', {
        body: edgeBody({ chat_guid: chat, sender: chat, participants: [chat], text }),
        headers: { ...headers, 'x-edge-agent-id': agent },
      });
    // Row versions (xmin) show whether a statement rewrote a row.
    const versions = () =>
      query(
        db.url,
        `SELECT r.edge_agent_id, r.xmin::text AS room, a.xmin::text AS instance,
                p.xmin::text AS member
           FROM rooms r JOIN assistant_instances a ON a.room_id = r.id
           JOIN room_participants p ON p.room_id = r.id
          WHERE r.chat_guid = $1`,
        [`imessage:${chat}`],
      );
    expect((await send('luna1', 'first')).status).toBe(200);
    const [first] = await versions();
    expect(first.edge_agent_id).toBe('luna1');

    expect((await send('luna2', 'the mac mini was replaced')).status).toBe(200);
    const [moved] = await versions();
    expect(moved.edge_agent_id).toBe('luna2');
    expect(moved.room).not.toBe(first.room);

    const before = await turnTableCounts(db.url);
    const statements = jest.spyOn(api.app.get(PreparedStatements), 'query');
    try {
      expect((await send('luna2', 'nothing else changed')).status).toBe(200);
      // The read-only statement stored it: the full one did not run.
      expect(statements.mock.calls.map(([name]) => name)).toEqual([
        'rooms-resolve-known-turn',
        'conversation-commit-turn',
      ]);
    } finally {
      statements.mockRestore();
    }
    expect(await versions()).toEqual([moved]);
    expect((await turnTableCounts(db.url)).messages - before.messages).toBe(2);
  });

  it('accepts the HMAC token too, and refuses a token minted for another agent', async () => {
    fake.reply({ content: 'token ok' });
    const token = edgeToken('luna1', '+15550001111', EDGE_SECRET);
    const ok = await api.request('POST', '/edge/message', {
      body: edgeBody({ text: 'with a token' }),
      headers: { authorization: `Bearer ${token}`, 'x-edge-agent-id': 'luna1' },
    });
    expect(ok.status).toBe(200);
    const other = await api.request('POST', '/edge/message', {
      body: edgeBody({ text: 'wrong agent' }),
      headers: { authorization: `Bearer ${token}`, 'x-edge-agent-id': 'nyx1' },
    });
    expect(other.status).toBe(401);
    expect((await api.request('POST', '/edge/message', { body: edgeBody() })).status).toBe(401);
  });

  it('deduplicates the edge retry of the same message (same agent, chat, sender, time, text)', async () => {
    fake.reply({ content: 'just once', delayMs: 200 });
    const body = edgeBody({ text: 'are you there?' });
    const before = await turnTableCounts(db.url);
    const [a, b] = await Promise.all([
      api.request('POST', '/edge/message', { body, headers }),
      api.request('POST', '/edge/message', { body, headers }),
    ]);
    const c = await api.request('POST', '/edge/message', { body, headers });
    expect([a.status, b.status, c.status]).toEqual([200, 200, 200]);
    expect(b.body).toEqual(a.body);
    expect(c.body).toEqual(a.body);
    expect(fake.chatRequests()).toHaveLength(1);
    expect((await turnTableCounts(db.url)).messages - before.messages).toBe(2);
  });

  it('accepts empty text, empty participants and no persona fields, answering nothing', async () => {
    const {
      persona_id: _p,
      persona_phone: _pp,
      ...body
    } = edgeBody({ text: '', participants: [] });
    const res = await api.request('POST', '/edge/message', { body, headers });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ should_respond: false, reply_text: null });
    expect(fake.chatRequests()).toHaveLength(0);
  });

  it('keeps a group silent unless the persona is named, and takes attachments and context', async () => {
    const group = edgeBody({
      chat_guid: 'chat123456789012345678',
      mode: 'group',
      sender: '+15551110000',
      participants: ['+15551110000', '+15552220000'],
      text: 'who is coming tonight',
      context: { active_miniapp: 'trip-planner', state: 'active' },
      attachments: [
        {
          guid: 'att-1',
          mime_type: 'image/png',
          size_bytes: 1024,
          is_photo: true,
          skipped: false,
          uploaded_photo_id: 'p-1',
        },
      ],
    });
    const silent = await api.request('POST', '/edge/message', { body: group, headers });
    expect(silent.body).toMatchObject({ should_respond: false });
    fake.reply({ content: 'me!' });
    const named = await api.request('POST', '/edge/message', {
      body: { ...group, text: 'luna are you coming tonight' },
      headers,
    });
    expect(named.body).toMatchObject({ should_respond: true, reply_text: 'me!' });
  });

  it('refuses malformed bodies with a 400 and writes nothing', async () => {
    const before = await turnTableCounts(db.url);
    for (const body of [
      edgeBody({ mode: 'dm' }),
      edgeBody({ timestamp: '2025-12-01T00:00:00Z' }),
      edgeBody({ attachments: [{ guid: 'x', is_photo: 'yes', skipped: false }] }),
      edgeBody({ text: 'x'.repeat(10_001) }),
      edgeBody({ sender: '' }),
    ]) {
      const res = await api.request('POST', '/edge/message', { body, headers });
      expect(res.status).toBe(400);
    }
    expect(await turnTableCounts(db.url)).toEqual(before);
  });

  it('GET /health with an agent’s HMAC token answers 200 and records the agent as seen', async () => {
    const token = edgeToken('kael4', '+15550004444', EDGE_SECRET);
    const res = await api.request('GET', '/health', {
      headers: { authorization: `Bearer ${token}` },
    });
    expect(res.status).toBe(200);
    const deadline = Date.now() + 5000;
    let rows: unknown[] = [];
    while (Date.now() < deadline && rows.length === 0) {
      rows = await query(db.url, `SELECT id FROM edge_agents WHERE id = 'kael4'`);
      if (!rows.length) await new Promise((r) => setTimeout(r, 50));
    }
    expect(rows).toHaveLength(1);
    // Without credentials /health still answers, and records nobody.
    expect((await api.request('GET', '/health')).status).toBe(200);
  });
});
