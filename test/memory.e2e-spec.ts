import { QueueService } from '../src/core/queue/queue.service';
import { QueueName } from '../src/core/queue/queue.constants';
import { MemoryConsolidationService } from '../src/modules/memory/memory-consolidation.service';
import { MemoryExtractionService } from '../src/modules/memory/memory-extraction.service';
import { MemoryService } from '../src/modules/memory/memory.service';
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

const RELAY_SECRET = 'relay-secret-memory-e2e';
const auth = { authorization: `Bearer ${RELAY_SECRET}` };

type Fact = { about: string; type: string; content: string; confidence?: number };

describe('memories: extracted by the worker, deduplicated, attributed, used in replies', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  const prefix = newRedisPrefix();
  /** What the fake "extracts" per message text. */
  const facts = new Map<string, Fact[]>();

  beforeAll(async () => {
    sys = await startTestSystem({
      prefix,
      overrides: { RELAY_WEBHOOK_SECRET: RELAY_SECRET },
      worker: true,
    });
    ({ db, fake, api } = sys);
    worker = sys.worker!;
  });

  afterAll(async () => {
    await sys?.close();
  });

  beforeEach(() => {
    fake.reset();
    facts.clear();
    fake.respondWith((body: FakeChatBody) => {
      if (body.response_format?.type !== 'json_object') return { content: 'noted!' };
      const input = String(body.messages?.at(-1)?.content ?? '');
      const text = input.split('Message: ')[1] ?? '';
      return { content: JSON.stringify({ facts: facts.get(text) ?? [] }) };
    });
  });

  const send = (body: Record<string, unknown>) =>
    api.request('POST', '/orchestrator/message', { body, headers: auth });

  const memoriesOf = (handle: string) =>
    query<{ type: string; content: string; source: string }>(
      db.url,
      `SELECT m.type, m.content, m.source FROM memories m JOIN users u ON u.id = m.user_id
       WHERE u.handle = $1 ORDER BY m.content`,
      [handle],
    );

  it('extracts facts from a message once, and the next reply’s prompt carries them', async () => {
    const me = '+15553330001';
    facts.set('I finally started rock climbing, obsessed', [
      { about: 'speaker', type: 'activity', content: 'has started rock climbing', confidence: 0.9 },
      { about: 'speaker', type: 'preference', content: 'loves bouldering gyms', confidence: 0.8 },
    ]);
    const res = await send({
      chat_guid: `iMessage;-;${me}`,
      mode: 'direct',
      sender: me,
      text: 'I finally started rock climbing, obsessed',
      timestamp: Math.floor(Date.now() / 1000),
      participants: [me],
    });
    expect(res.status).toBe(200);
    const stored = await waitUntil(
      () => memoriesOf(me),
      (rows) => rows.length === 2,
    );
    expect(stored).toEqual([
      { type: 'activity', content: 'has started rock climbing', source: 'extraction' },
      { type: 'preference', content: 'loves bouldering gyms', source: 'extraction' },
    ]);

    // Processing the same message again adds nothing.
    const [inbound] = await query<{ id: string }>(
      db.url,
      `SELECT m.id FROM messages m JOIN users u ON u.id = m.sender_user_id WHERE u.handle = $1 AND m.direction = 'inbound'`,
      [me],
    );
    expect(await worker.app.get(MemoryExtractionService).extract(inbound.id)).toBe(0);
    expect(await memoriesOf(me)).toHaveLength(2);
    const usage = await query(
      db.url,
      `SELECT purpose FROM llm_usage WHERE purpose = 'memory-extraction'`,
    );
    expect(usage.length).toBeGreaterThanOrEqual(2);

    // Retrieval: the memories (the preference as profile, the activity as relevant) reach the prompt.
    await send({
      chat_guid: `iMessage;-;${me}`,
      mode: 'direct',
      sender: me,
      text: 'going climbing again tonight',
      timestamp: Math.floor(Date.now() / 1000),
      participants: [me],
    });
    const replyPrompt = fake
      .chatRequests()
      .filter((r) => r.body.response_format?.type !== 'json_object')
      .at(-1)!.body.messages![0].content as string;
    expect(replyPrompt).toContain('They like: loves bouldering gyms');
    expect(replyPrompt).toContain('has started rock climbing');
  });

  it('attributes facts in a group to the participant they are about, never to a stranger', async () => {
    const alex = '+15553330002';
    const sam = '+15553330003';
    const text = 'Sam got a puppy named Max and Jordan is moving to Denver';
    facts.set(text, [
      { about: sam, type: 'fact', content: 'has a puppy named Max' },
      { about: 'Jordan', type: 'plan', content: 'knows someone moving to Denver' },
      { about: 'speaker', type: 'fact', content: 'tells the group the news' },
    ]);
    await send({
      chat_guid: 'chat555000111',
      mode: 'group',
      sender: alex,
      text,
      timestamp: Math.floor(Date.now() / 1000),
      participants: [alex, sam],
    });
    const samMemories = await waitUntil(
      () => memoriesOf(sam),
      (rows) => rows.length === 1,
    );
    expect(samMemories.map((m) => m.content)).toEqual(['has a puppy named Max']);
    const alexMemories = await waitUntil(
      () => memoriesOf(alex),
      (rows) => rows.length === 2,
    );
    expect(alexMemories.map((m) => m.content).sort()).toEqual([
      'knows someone moving to Denver',
      'tells the group the news',
    ]);
  });

  it('the same fact said twice is confirmed, not stored twice', async () => {
    const me = '+15553330004';
    facts.set('my sister Maya is visiting', [
      { about: 'speaker', type: 'person', content: 'Has a sister named Maya.' },
    ]);
    facts.set('did I mention my sister Maya is visiting', [
      { about: 'speaker', type: 'person', content: 'has a sister named maya' },
    ]);
    for (const text of ['my sister Maya is visiting', 'did I mention my sister Maya is visiting']) {
      await send({
        chat_guid: `iMessage;-;${me}`,
        mode: 'direct',
        sender: me,
        text,
        timestamp: Math.floor(Date.now() / 1000),
        participants: [me],
      });
    }
    // Both messages went through extraction (one usage record each, on the speaker).
    await waitUntil(
      () =>
        query(
          db.url,
          `SELECT count(*)::int AS n FROM llm_usage l JOIN users u ON u.id = l.user_id
           WHERE l.purpose = 'memory-extraction' AND u.handle = $1`,
          [me],
        ),
      (rows) => Number(rows[0].n) >= 2,
    );
    const rows = await waitUntil(
      () => memoriesOf(me),
      (r) => r.length >= 1,
    );
    expect(rows).toEqual([
      { type: 'person', content: 'Has a sister named Maya.', source: 'extraction' },
    ]);
  });

  it('one answer naming the same fact twice stores it once, at its highest confidence', async () => {
    const me = '+15553330006';
    facts.set('jazz jazz jazz, I love jazz', [
      { about: 'speaker', type: 'preference', content: 'Loves jazz.', confidence: 0.6 },
      { about: 'speaker', type: 'preference', content: 'loves jazz', confidence: 0.9 },
      { about: me, type: 'preference', content: 'loves  JAZZ', confidence: 0.7 },
    ]);
    const res = await send({
      chat_guid: `iMessage;-;${me}`,
      mode: 'direct',
      sender: me,
      text: 'jazz jazz jazz, I love jazz',
      timestamp: Math.floor(Date.now() / 1000),
      participants: [me],
    });
    expect(res.status).toBe(200);
    const rows = await waitUntil(
      () =>
        query<{ content: string; confidence: number }>(
          db.url,
          `SELECT m.content, m.confidence FROM memories m JOIN users u ON u.id = m.user_id
           WHERE u.handle = $1`,
          [me],
        ),
      (r) => r.length >= 1,
    );
    expect(rows).toHaveLength(1);
    expect(rows[0].confidence).toBeCloseTo(0.9);
    const failed = await api.app
      .get(QueueService)
      .queue(QueueName.MemoryExtraction)
      .getJobCounts('failed');
    expect(failed.failed).toBe(0);
  });

  it('consolidation merges duplicates and retires superseded facts, after a quiet period', async () => {
    const me = '+15553330005';
    facts.set('blue is my favourite colour, and sushi forever', [
      { about: 'speaker', type: 'preference', content: 'favourite colour is blue' },
      { about: 'speaker', type: 'preference', content: 'loves sushi' },
    ]);
    facts.set('actually green is my favourite now. sushi is the best', [
      { about: 'speaker', type: 'preference', content: 'favourite colour is green' },
      { about: 'speaker', type: 'preference', content: 'really enjoys sushi' },
    ]);
    for (const text of facts.keys()) {
      await send({
        chat_guid: `iMessage;-;${me}`,
        mode: 'direct',
        sender: me,
        text,
        timestamp: Math.floor(Date.now() / 1000),
        participants: [me],
      });
    }
    await waitUntil(
      () => memoriesOf(me),
      (rows) => rows.length === 4,
    );
    const [user] = await query<{ id: string }>(db.url, `SELECT id FROM users WHERE handle = $1`, [
      me,
    ]);

    // New memories scheduled one consolidation for this person, waiting for the quiet period.
    const queue = api.app.get(QueueService).queue(QueueName.MemoryExtraction);
    const pending = await waitUntil(
      () => queue.getJob(`memory.consolidate-${user.id}`),
      (job) => job !== undefined,
    );
    expect(pending).toBeDefined();
    expect(await pending!.isDelayed()).toBe(true);

    // Oldest first: 1 blue, 2 sushi, 3 green, 4 really enjoys sushi.
    fake.respondWith(() => ({
      content: JSON.stringify({ duplicates: [[2, 4]], superseded: [{ old: 1, new: 3 }] }),
    }));
    const outcome = await worker.app.get(MemoryConsolidationService).consolidate(user.id);
    expect(outcome).toEqual({ merged: 1, superseded: 1 });
    const rows = await query(
      db.url,
      `SELECT content, superseded_at IS NOT NULL AS superseded FROM memories WHERE user_id = $1 ORDER BY content`,
      [user.id],
    );
    expect(rows).toEqual([
      { content: 'favourite colour is blue', superseded: true },
      { content: 'favourite colour is green', superseded: false },
      { content: 'loves sushi', superseded: false },
    ]);
    const context = await api.app
      .get(MemoryService)
      .contextFor({ id: user.id, name: null }, 'colour');
    expect([...context.preferences, ...context.memories.map((m) => m.content)]).not.toContain(
      'favourite colour is blue',
    );

    // A plan that names unknown memories or contradicts itself changes nothing.
    fake.respondWith(() => ({
      content: JSON.stringify({ duplicates: [[9, 1]], superseded: [{ old: 2, new: 2 }] }),
    }));
    expect(await worker.app.get(MemoryConsolidationService).consolidate(user.id)).toEqual({
      merged: 0,
      superseded: 0,
    });
  });
});
