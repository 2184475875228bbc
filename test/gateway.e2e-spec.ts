import { randomUUID } from 'node:crypto';
import { FakeOpenAI } from './fake-openai/fake-openai.server';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';

const ADMIN_KEY = 'admin-key-for-gateway-e2e-0123456789abcdef';
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

interface ChatReply {
  conversation_id: string;
  message_id: string;
  reply: string;
  tool_calls: { name: string; arguments: Record<string, unknown> }[];
}
interface Client {
  id: string;
  headers: Record<string, string>;
}

describe('Gateway /v1 (real app, Postgres, Redis, fake OpenAI)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    sys = await startTestSystem({ prefix, overrides: { ADMIN_API_KEY: ADMIN_KEY } });
    ({ db, fake, api } = sys);
  });

  afterAll(async () => {
    await sys?.close();
  });

  beforeEach(() => fake.reset());

  const newClient = async (body: Record<string, unknown> = {}): Promise<Client> => {
    const created = await api.request<{ id: string; api_key: string }>('POST', '/admin/clients', {
      headers: admin,
      body: { name: 'gateway-test', ...body },
    });
    expect(created.status).toBe(201);
    const token = await api.request<{ access_token: string }>('POST', '/auth/token', {
      body: { api_key: created.body.api_key },
    });
    expect(token.status).toBe(200);
    return {
      id: created.body.id,
      headers: { authorization: `Bearer ${token.body.access_token}` },
    };
  };
  const chat = (client: Client, body: Record<string, unknown>, headers = {}) =>
    api.request<ChatReply>('POST', '/v1/chat', {
      headers: { ...client.headers, ...headers },
      body,
    });

  it('chats through the engine in a conversation the client owns, with tool calls', async () => {
    const a = await newClient();
    fake.reply({ content: 'hey there! how can i help?' });
    const first = await chat(a, { message: 'hello from the api' });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ reply: 'hey there! how can i help?', tool_calls: [] });
    expect(first.body.conversation_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(first.body.message_id).toMatch(/^[0-9a-f-]{36}$/);

    fake.reply({ toolCalls: [{ name: 'remember', arguments: { content: 'likes oolong tea' } }] });
    fake.reply({ content: 'noted, oolong it is' });
    const second = await chat(a, {
      message: 'i love oolong tea',
      conversation_id: first.body.conversation_id,
    });
    expect(second.status).toBe(200);
    expect(second.body.conversation_id).toBe(first.body.conversation_id);
    expect(second.body.reply).toBe('noted, oolong it is');
    expect(second.body.tool_calls).toMatchObject([
      { name: 'remember', arguments: { content: 'likes oolong tea' } },
    ]);
    // The second prompt carried the first turn (same room).
    const prompt = JSON.stringify(fake.chatRequests()[0].body.messages);
    expect(prompt).toContain('hello from the api');

    const [room] = await query<{ chat_guid: string; type: string }>(
      db.url,
      `SELECT r.chat_guid, r.type FROM rooms r JOIN messages m ON m.room_id = r.id WHERE m.id = $1`,
      [first.body.message_id],
    );
    expect(room).toEqual({
      chat_guid: `api:${a.id}:${first.body.conversation_id}`,
      type: 'direct',
    });
    const [usage] = await query<{ n: string }>(
      db.url,
      `SELECT count(*) AS n FROM llm_usage WHERE api_client_id = $1`,
      [a.id],
    );
    expect(Number(usage.n)).toBe(3);

    expect((await chat(a, { message: '' })).status).toBe(400);
    expect((await chat(a, { message: 'x', extra: 1 })).status).toBe(400);
    expect((await chat(a, { message: 'x', conversation_id: randomUUID() })).status).toBe(404);
  });

  it('keeps chat, history and search per client', async () => {
    const a = await newClient();
    const b = await newClient();
    fake.reply({ content: 'zebras are striped' });
    const first = await chat(a, { message: 'tell me about the xylophonist zebra' });
    fake.reply({ content: 'and giraffes are tall' });
    await chat(a, { message: 'and giraffes?', conversation_id: first.body.conversation_id });
    const conversation = first.body.conversation_id;

    // B cannot continue, read or find A's conversation.
    expect((await chat(b, { message: 'hi', conversation_id: conversation })).status).toBe(404);
    const foreign = await api.request('GET', `/v1/history?conversation_id=${conversation}`, {
      headers: b.headers,
    });
    expect(foreign.status).toBe(404);
    const bSearch = await api.request<{ results: unknown[] }>(
      'GET',
      '/v1/history/search?q=xylophonist',
      { headers: b.headers },
    );
    expect(bSearch.status).toBe(200);
    expect(bSearch.body.results).toEqual([]);

    // A pages through its history, newest first.
    type Page = { messages: { id: string; role: string; text: string }[]; next_before: string };
    const page1 = await api.request<Page>(
      'GET',
      `/v1/history?conversation_id=${conversation}&limit=3`,
      { headers: a.headers },
    );
    expect(page1.status).toBe(200);
    expect(page1.body.messages.map((m) => [m.role, m.text])).toEqual([
      ['assistant', 'and giraffes are tall'],
      ['user', 'and giraffes?'],
      ['assistant', 'zebras are striped'],
    ]);
    expect(page1.body.next_before).toBe(page1.body.messages[2].id);
    const page2 = await api.request<Page>(
      'GET',
      `/v1/history?conversation_id=${conversation}&limit=3&before=${page1.body.next_before}`,
      { headers: a.headers },
    );
    expect(page2.body.messages.map((m) => m.text)).toEqual(['tell me about the xylophonist zebra']);
    expect(page2.body.next_before).toBeNull();

    const aSearch = await api.request<{
      results: { text: string; snippet: string; rank: number }[];
    }>('GET', '/v1/history/search?q=xylophonist zebras', { headers: a.headers });
    expect(aSearch.status).toBe(200);
    expect(aSearch.body.results[0].text).toBe('tell me about the xylophonist zebra');
    expect(aSearch.body.results[0].snippet).toContain('<mark>xylophonist</mark>');
    expect(aSearch.body.results[0].rank).toBeGreaterThan(0);
  });

  it('replays an Idempotency-Key with the same body; 422 with another body', async () => {
    const a = await newClient();
    fake.setDelay(300);
    const key = `idem-${randomUUID()}`;
    const body = { message: 'book the table for two' };
    // Concurrent duplicates: one run, both get its result.
    const [one, two] = await Promise.all([
      chat(a, body, { 'idempotency-key': key }),
      chat(a, body, { 'idempotency-key': key }),
    ]);
    expect(one.status).toBe(200);
    expect(two.status).toBe(200);
    expect(two.body).toEqual(one.body);
    const again = await chat(a, body, { 'idempotency-key': key });
    expect(again.body).toEqual(one.body);
    expect(fake.chatRequests()).toHaveLength(1);

    const other = await chat(a, { message: 'something else' }, { 'idempotency-key': key });
    expect(other.status).toBe(422);
    expect((await chat(a, body, { 'idempotency-key': key })).body).toEqual(one.body);
    expect((await chat(a, body, { 'idempotency-key': 'k'.repeat(256) })).status).toBe(400);
    expect(fake.chatRequests()).toHaveLength(1);
  });

  it('streams the reply as server-sent events', async () => {
    const a = await newClient();
    fake.reply({ content: 'one two three four five' });
    const res = await fetch(`${api.url}/v1/chat`, {
      method: 'POST',
      headers: { ...a.headers, 'content-type': 'application/json' },
      body: JSON.stringify({ message: 'count to five', stream: true }),
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
    expect(res.headers.get('x-ratelimit-limit')).not.toBeNull();
    const events = (await res.text())
      .split('\n\n')
      .filter(Boolean)
      .map((e) => e.replace(/^data: /, ''));
    expect(events[events.length - 1]).toBe('[DONE]');
    const parsed = events.slice(0, -1).map((e) => JSON.parse(e) as Record<string, unknown>);
    const deltas = parsed.filter((e) => 'delta' in e).map((e) => e.delta as string);
    expect(deltas.length).toBeGreaterThanOrEqual(3);
    expect(deltas.join('')).toBe('one two three four five');
    const final = parsed[parsed.length - 1];
    expect(final).toMatchObject({ reply: 'one two three four five', tool_calls: [] });
    expect(typeof final.conversation_id).toBe('string');
    expect(fake.lastChatRequest()!.body.stream).toBe(true);
  });

  it('lists the assistant tools with their schemas', async () => {
    const a = await newClient();
    const res = await api.request<{ tools: { name: string; parameters: { type: string } }[] }>(
      'GET',
      '/v1/tools',
      { headers: a.headers },
    );
    expect(res.status).toBe(200);
    expect(res.body.tools.map((t) => t.name)).toEqual(
      expect.arrayContaining(['schedule_message', 'remember', 'search_memories']),
    );
    expect(res.body.tools.every((t) => t.parameters.type === 'object')).toBe(true);
  });

  it('limits chats to 10/min and a client to its own per-minute limit (429)', async () => {
    const a = await newClient();
    // Refused turns (unknown conversation) still count against the limit.
    for (let i = 0; i < 10; i++) {
      expect((await chat(a, { message: 'hi', conversation_id: randomUUID() })).status).toBe(404);
    }
    const eleventh = await chat(a, { message: 'hi' });
    expect(eleventh.status).toBe(429);
    expect(Number(eleventh.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(fake.chatRequests()).toHaveLength(0);

    const slow = await newClient({ rate_limit_per_min: 3 });
    for (let i = 0; i < 3; i++) {
      expect((await api.request('GET', '/v1/tools', { headers: slow.headers })).status).toBe(200);
    }
    const fourth = await api.request('GET', '/v1/tools', { headers: slow.headers });
    expect(fourth.status).toBe(429);
  });

  it('refuses chats past the monthly token budget (402) and reports usage per day', async () => {
    const created = await api.request<{ id: string }>('POST', '/admin/clients', {
      headers: admin,
      body: { name: 'budgeted', monthly_token_budget: 1 },
    });
    const token = await api.request<{ access_token: string }>('POST', '/auth/token', {
      body: { api_key: (created.body as unknown as { api_key: string }).api_key },
    });
    const client = {
      id: created.body.id,
      headers: { authorization: `Bearer ${token.body.access_token}` },
    };
    expect((await chat(client, { message: 'first one is fine' })).status).toBe(200);
    const refused = await chat(client, { message: 'this one is over budget' });
    expect(refused.status).toBe(402);
    expect(refused.body).toMatchObject({ statusCode: 402, error: 'Payment Required' });
    expect(String((refused.body as unknown as { message: string }).message)).toMatch(/budget/i);
    expect(fake.chatRequests()).toHaveLength(1);

    const usage = await api.request<{ days: Record<string, unknown>[] }>(
      'GET',
      `/admin/clients/${client.id}/usage`,
      { headers: admin },
    );
    expect(usage.status).toBe(200);
    const [ledger] = await query<{ tokens: string }>(
      db.url,
      `SELECT sum(total_tokens) AS tokens FROM llm_usage WHERE api_client_id = $1`,
      [client.id],
    );
    expect(Number(ledger.tokens)).toBeGreaterThan(0);
    expect(usage.body.days).toEqual([
      expect.objectContaining({
        day: new Date().toISOString().slice(0, 10),
        total_tokens: Number(ledger.tokens),
        llm_calls: 1,
        chat_requests: 1,
      }),
    ]);

    // Raising the budget applies at once.
    await api.request('PATCH', `/admin/clients/${client.id}`, {
      headers: admin,
      body: { monthly_token_budget: null },
    });
    expect((await chat(client, { message: 'unlimited now' })).status).toBe(200);
  });
});
