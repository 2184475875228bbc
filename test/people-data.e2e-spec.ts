import { Client } from 'pg';
import { HttpResult } from './helpers/http';
import { JobName, QueueName } from '../src/core/queue/queue.constants';
import { jobIdFor, QueueService } from '../src/core/queue/queue.service';
import { jpeg } from './fixtures/images';
import { FakeChatBody, FakeOpenAI } from './fake-openai/fake-openai.server';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { codeFor, cookieHeader, newPhone, signIn, SignedIn } from './helpers/people';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';
import { waitUntil } from './helpers/wait';

const RELAY_SECRET = 'relay-secret-people-data-e2e';
const relay = { authorization: `Bearer ${RELAY_SECRET}` };

/** What the fake model extracts from a message (its JSON answer), by the message's text. */
type Extraction = {
  facts?: { about: string; type: string; content: string; confidence?: number }[];
  traits?: { trait: string; value: string; confidence?: number }[];
  profile?: { name?: string | null; time_zone?: string | null };
};

interface Profile {
  user_id: string;
  name: string | null;
  time_zone: string | null;
  handles: { handle: string; kind: string; primary: boolean; verified: boolean }[];
  onboarding: {
    state: string;
    started_at: string | null;
    completed_at: string | null;
    missing: string[];
  };
  trait_profile: {
    summary: string;
    traits: { trait: string; value: string; confidence: number; source: string }[];
  } | null;
  relationship: { messages_exchanged: number };
}

describe('People: onboarding, traits, linked handles, export (real API + worker, fake LLM)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  const prefix = newRedisPrefix();
  const extractions = new Map<string, Extraction>();
  /** The extraction inputs the fake received, by message text. */
  const extractionInputs = new Map<string, string>();

  beforeAll(async () => {
    sys = await startTestSystem({
      prefix,
      overrides: { RELAY_WEBHOOK_SECRET: RELAY_SECRET },
      worker: true,
    });
    ({ db, fake, api } = sys);
  });

  afterAll(async () => {
    await sys?.close();
  });

  beforeEach(() => {
    fake.reset();
    extractions.clear();
    extractionInputs.clear();
    fake.respondWith((body: FakeChatBody) => {
      if (body.response_format?.type !== 'json_object') return undefined;
      const input = String(body.messages?.at(-1)?.content ?? '');
      const text = input.split('\nMessage: ')[1] ?? '';
      extractionInputs.set(text, input);
      return { content: JSON.stringify(extractions.get(text) ?? {}) };
    });
  });

  /** A direct iMessage from `sender` (or into `chat`), through the relay. */
  const say = (sender: string, text: string, chat = `iMessage;-;${sender}`) =>
    api.request('POST', '/orchestrator/message', {
      headers: relay,
      body: {
        chat_guid: chat,
        mode: chat.startsWith('chat') ? 'group' : 'direct',
        sender,
        text,
        timestamp: Math.floor(Date.now() / 1000),
        participants: [sender],
      },
    });

  /** Sends a message and waits until the worker has extracted from it. */
  async function sayAndExtract(sender: string, text: string, extraction: Extraction = {}) {
    extractions.set(text, extraction);
    const res = await say(sender, text);
    expect(res.status).toBe(200);
    const [message] = await query<{ id: string }>(
      db.url,
      `SELECT id FROM messages WHERE sender_handle = $1 AND text = $2`,
      [sender, text],
    );
    const queue = api.app.get(QueueService).queue(QueueName.MemoryExtraction);
    const state = await waitUntil(
      () => queue.getJobState(jobIdFor(JobName.MemoryExtract, message.id)),
      (s) => s === 'completed' || s === 'failed',
    );
    expect(state).toBe('completed');
    return message.id;
  }

  /** The system prompt of the last reply (not an extraction). */
  const lastReplyPrompt = () =>
    fake
      .chatRequests()
      .filter((r) => r.body.response_format?.type !== 'json_object')
      .at(-1)!.body.messages![0].content as string;

  const profileOf = async (session: SignedIn) => {
    const res = await api.request<Profile>('GET', '/user/profile', { headers: session.bearer });
    expect(res.status).toBe(200);
    return res.body;
  };

  const startLink = (session: SignedIn, handle: unknown, headers = session.bearer) =>
    api.request('POST', '/user/handles/start', { headers, body: { handle } });
  const confirmLink = (session: SignedIn, handle: string, code: string) =>
    api.request<{ handle: string; merged: Record<string, unknown> | null; handles: unknown[] }>(
      'POST',
      '/user/handles/confirm',
      { headers: session.bearer, body: { handle, code } },
    );

  describe('onboarding', () => {
    it('starts with the first message and completes once the name and time zone are known', async () => {
      const phone = newPhone();
      expect((await say(phone, 'hey there')).status).toBe(200);
      // The first reply introduces the persona and asks for both.
      const first = lastReplyPrompt();
      expect(first).toContain('This is the first time they text you: introduce yourself as Sage');
      expect(first).toContain('what to call them and where in the world they are');

      const session = await signIn(api, phone);
      const started = await profileOf(session);
      expect(started.onboarding).toMatchObject({
        state: 'started',
        completed_at: null,
        missing: ['name', 'time_zone'],
      });
      expect(started.onboarding.started_at).not.toBeNull();

      // The name is learned from the answer to the persona's question.
      await sayAndExtract(phone, 'Sam', { profile: { name: 'Sam', time_zone: null } });
      expect(extractionInputs.get('Sam')).toContain('The assistant had just said: Fake reply to');
      const prompt = lastReplyPrompt();
      expect(prompt).not.toContain('introduce yourself');
      expect(prompt).toContain('getting to know them');
      const named = await profileOf(session);
      expect(named.name).toBe('Sam');
      expect(named.onboarding).toMatchObject({ state: 'name_known', missing: ['time_zone'] });

      // A zone that is not an IANA name is not learned; a real one completes onboarding.
      await sayAndExtract(phone, 'central time', { profile: { time_zone: 'Central Time' } });
      expect((await profileOf(session)).onboarding.state).toBe('name_known');
      await sayAndExtract(phone, 'I live in Chicago', {
        profile: { time_zone: 'America/Chicago' },
      });
      const done = await profileOf(session);
      expect(done.time_zone).toBe('America/Chicago');
      expect(done.onboarding).toMatchObject({ state: 'completed', missing: [] });
      expect(done.onboarding.completed_at).not.toBeNull();

      // Onboarding over: the prompt stops asking, and knows where they are.
      await say(phone, 'what should I cook tonight?');
      const after = lastReplyPrompt();
      expect(after).not.toContain('getting to know them');
      expect(after).toContain('Their time zone is America/Chicago.');
      // A name the person set is never overwritten by a later reading.
      await sayAndExtract(phone, 'my friends call me Sammy', { profile: { name: 'Sammy' } });
      expect((await profileOf(session)).name).toBe('Sam');
    });

    it('is complete at once for someone whose profile already has both, and only moves forward', async () => {
      const session = await signIn(api, newPhone(), 'Kim');
      expect((await profileOf(session)).onboarding).toMatchObject({
        state: 'not_started',
        missing: ['time_zone'],
      });
      const patch = await api.request('PATCH', '/user/profile', {
        headers: session.bearer,
        body: { time_zone: 'Europe/Paris' },
      });
      expect(patch.status).toBe(200);
      await say(session.phone, 'hello!');
      expect(lastReplyPrompt()).toContain('introduce yourself as Sage');
      expect(lastReplyPrompt()).not.toContain('getting to know them');
      expect((await profileOf(session)).onboarding.state).toBe('completed');
      // Clearing the zone later does not restart it.
      await api.request('PATCH', '/user/profile', {
        headers: session.bearer,
        body: { time_zone: null },
      });
      expect((await profileOf(session)).onboarding.state).toBe('completed');
    });

    it('does not onboard in a group chat, though the first message starts the session', async () => {
      const phone = newPhone();
      const chat = `chat${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      expect((await say(phone, 'Sage, hi everyone', chat)).status).toBe(200);
      expect(lastReplyPrompt()).not.toContain('introduce yourself');
      expect(lastReplyPrompt()).not.toContain('getting to know them');
      const [session] = await query<{ state: string }>(
        db.url,
        `SELECT o.state FROM onboarding_sessions o JOIN user_handles h ON h.user_id = o.user_id
          WHERE h.handle = $1`,
        [phone],
      );
      expect(session).toEqual({ state: 'started' });
    });
  });

  describe('traits', () => {
    it('stores stable traits with confidence and source, and the prompt carries their profile', async () => {
      const session = await signIn(api);
      const messageId = await sayAndExtract(session.phone, 'lol ok whatever, brb', {
        traits: [
          { trait: 'communication_style', value: 'brief lowercase texts', confidence: 0.6 },
          { trait: 'humor', value: 'dry', confidence: 0.5 },
        ],
      });
      const traits = () =>
        query<{ trait: string; value: string; confidence: number; source: string }>(
          db.url,
          `SELECT trait, value, confidence, source, source_message_id FROM user_traits
            WHERE user_id = $1 ORDER BY trait`,
          [session.tokens.user_id],
        );
      expect(await traits()).toEqual([
        {
          trait: 'communication_style',
          value: 'brief lowercase texts',
          confidence: 0.6,
          source: 'extraction',
          source_message_id: messageId,
        },
        {
          trait: 'humor',
          value: 'dry',
          confidence: 0.5,
          source: 'extraction',
          source_message_id: messageId,
        },
      ]);
      const [profile] = await query(
        db.url,
        `SELECT summary, traits_count FROM trait_profiles WHERE user_id = $1`,
        [session.tokens.user_id],
      );
      expect(profile).toEqual({
        summary: 'communication style: brief lowercase texts; humor: dry',
        traits_count: 2,
      });

      await say(session.phone, 'anyway');
      expect(lastReplyPrompt()).toContain(
        'What they are like: communication style: brief lowercase texts; humor: dry.',
      );

      // A less confident different reading is ignored; the same reading again raises confidence;
      // a more confident different one replaces the value.
      await sayAndExtract(session.phone, 'haha', {
        traits: [
          { trait: 'humor', value: 'slapstick', confidence: 0.3 },
          { trait: 'communication_style', value: 'Brief lowercase texts', confidence: 0.8 },
        ],
      });
      await sayAndExtract(session.phone, 'ok', {
        traits: [{ trait: 'humor', value: 'warm and teasing', confidence: 0.7 }],
      });
      expect((await traits()).map((t) => [t.trait, t.value, t.confidence])).toEqual([
        ['communication_style', 'Brief lowercase texts', 0.8],
        ['humor', 'warm and teasing', 0.7],
      ]);
      const read = await profileOf(session);
      expect(read.trait_profile).toMatchObject({
        summary: 'communication style: Brief lowercase texts; humor: warm and teasing',
        traits: [
          { trait: 'communication_style', value: 'Brief lowercase texts', confidence: 0.8 },
          { trait: 'humor', value: 'warm and teasing', confidence: 0.7 },
        ],
      });
    });
  });

  describe('linking a second handle', () => {
    const memoriesOf = (userId: string) =>
      query<{ content: string; confidence: number }>(
        db.url,
        `SELECT content, confidence FROM memories WHERE user_id = $1 ORDER BY content`,
        [userId],
      );

    it('stores a message that met a merge half-way on the person its handle moved to', async () => {
      const [kept, merged] = [newPhone(), newPhone()];
      for (const sender of [kept, merged])
        expect((await say(sender, `hi, ${sender}`)).status).toBe(200);
      const idOf = async (handle: string) =>
        (await query<{ id: string }>(db.url, `SELECT id FROM users WHERE handle = $1`, [handle]))[0]
          .id;
      const [keptId, mergedId] = [await idOf(kept), await idOf(merged)];

      // A merge as linking does it, held open: the handle moves, the merged person goes.
      const merge = new Client({ connectionString: db.url });
      await merge.connect();
      try {
        await merge.query('BEGIN');
        await merge.query(`UPDATE user_handles SET user_id = $1 WHERE user_id = $2`, [
          keptId,
          mergedId,
        ]);
        await merge.query(`DELETE FROM users WHERE id = $1`, [mergedId]);
        const during = say(merged, 'said during the merge');
        // The turn read the merged person and waits on its foreign key check for the delete.
        const waiting = await waitUntil(
          async () =>
            (
              await query<{ n: number }>(
                db.url,
                `SELECT count(*)::int AS n FROM pg_stat_activity
                 WHERE datname = current_database() AND wait_event_type = 'Lock'`,
              )
            )[0].n,
          (n) => n > 0,
          5000,
        );
        expect(waiting).toBeGreaterThan(0);
        await merge.query('COMMIT');
        expect((await during).status).toBe(200);
      } finally {
        await merge.end();
      }
      expect(
        await query(
          db.url,
          `SELECT sender_user_id FROM messages WHERE text = 'said during the merge'`,
        ),
      ).toEqual([{ sender_user_id: keptId }]);
    });

    it('merges the person iMessage knew by that handle; memories then follow the person', async () => {
      // Someone iMessage knows by a second number, never signed in.
      const other = newPhone();
      await sayAndExtract(other, 'I adore sailing and jazz', {
        facts: [
          { about: 'speaker', type: 'preference', content: 'adores sailing', confidence: 0.8 },
          { about: 'speaker', type: 'preference', content: 'loves jazz', confidence: 0.9 },
        ],
        traits: [{ trait: 'humor', value: 'dry', confidence: 0.5 }],
      });
      const [formerly] = await query<{ id: string }>(
        db.url,
        `SELECT user_id AS id FROM user_handles WHERE handle = $1`,
        [other],
      );

      const me = await signIn(api, newPhone(), 'Pat');
      await sayAndExtract(me.phone, 'tea and jazz tonight', {
        facts: [
          { about: 'speaker', type: 'preference', content: 'likes tea', confidence: 0.7 },
          { about: 'speaker', type: 'preference', content: 'Loves jazz!', confidence: 0.6 },
        ],
      });

      const started = await startLink(me, other);
      expect(started.status).toBe(202);
      expect(started.body).toEqual({ status: 'sent', expires_in: 600 });
      const code = codeFor(api, other);
      expect(api.logs.text()).toContain(
        `SMS to ${other}: Your Archety code to add this number to your account is ${code}`,
      );
      const wrong = String((Number(code) + 1) % 1_000_000).padStart(6, '0');
      expect((await confirmLink(me, other, wrong)).status).toBe(401);
      expect(await query(db.url, `SELECT 1 FROM users WHERE id = $1`, [formerly.id])).toHaveLength(
        1,
      );

      const linked = await confirmLink(me, other, code);
      expect(linked.status).toBe(200);
      expect(linked.body).toMatchObject({
        handle: other,
        merged: { user_id: formerly.id, messages: 1, memories: 1, traits: 1, photos: 0 },
      });
      expect(linked.body.handles).toEqual([
        expect.objectContaining({ handle: me.phone, primary: true, verified: true }),
        expect.objectContaining({ handle: other, kind: 'phone', primary: false, verified: true }),
      ]);
      // The merged person is gone; what was known through the other number is Pat's now, and
      // the same fact known twice is one memory with the higher confidence.
      expect(await query(db.url, `SELECT 1 FROM users WHERE id = $1`, [formerly.id])).toEqual([]);
      expect(await memoriesOf(me.tokens.user_id)).toEqual([
        { content: 'Loves jazz!', confidence: 0.9 },
        { content: 'adores sailing', confidence: 0.8 },
        { content: 'likes tea', confidence: 0.7 },
      ]);
      expect(
        await query(
          db.url,
          `SELECT DISTINCT sender_user_id FROM messages WHERE sender_handle = $1`,
          [other],
        ),
      ).toEqual([{ sender_user_id: me.tokens.user_id }]);
      expect((await profileOf(me)).trait_profile?.summary).toBe('humor: dry');

      // From now on, what arrives through the other number is Pat's: memories follow the person.
      await sayAndExtract(other, 'started pottery', {
        facts: [{ about: 'speaker', type: 'activity', content: 'does pottery', confidence: 0.8 }],
      });
      expect((await memoriesOf(me.tokens.user_id)).map((m) => m.content)).toContain('does pottery');
      expect(lastReplyPrompt()).toContain('You are talking with Pat');
      expect(lastReplyPrompt()).toContain('They like:');
      expect(
        await query(db.url, `SELECT count(*)::int AS n FROM users WHERE handle = $1`, [other]),
      ).toEqual([{ n: 0 }]);
      // Signing in with the other number is signing in as Pat.
      expect((await signIn(api, other)).tokens.user_id).toBe(me.tokens.user_id);
    });

    it('links an Apple ID email by a code sent by email; its messages then reach the person', async () => {
      const me = await signIn(api);
      const address = `Sam.${Date.now()}@iCloud.com`;
      const lower = address.toLowerCase();
      expect((await startLink(me, address)).status).toBe(202);
      const code = codeFor(api, lower);
      expect(api.logs.text()).toMatch(
        new RegExp(`Email to ${lower.replace(/\./g, '\\.')} \\(Your Archety code\\): .*address`),
      );
      const linked = await confirmLink(me, address, code);
      expect(linked.status).toBe(200);
      expect(linked.body.merged).toBeNull();
      expect(linked.body.handles).toContainEqual(
        expect.objectContaining({ handle: lower, kind: 'email', verified: true }),
      );

      expect((await say(lower, 'hello from my mac')).status).toBe(200);
      // iMessage relays an Apple ID in whatever case it was typed: still the same person.
      expect((await say(address, 'hello in capitals')).status).toBe(200);
      expect(
        await query(
          db.url,
          `SELECT sender_user_id, sender_handle FROM messages
           WHERE text IN ('hello from my mac', 'hello in capitals') ORDER BY created_at`,
        ),
      ).toEqual([
        { sender_user_id: me.tokens.user_id, sender_handle: lower },
        { sender_user_id: me.tokens.user_id, sender_handle: lower },
      ]);
      expect(
        await query(
          db.url,
          `SELECT count(*)::int AS n FROM user_handles WHERE lower(handle) = $1`,
          [lower],
        ),
      ).toEqual([{ n: 1 }]);
      expect(
        await query(db.url, `SELECT count(*)::int AS n FROM users WHERE lower(handle) = $1`, [
          lower,
        ]),
      ).toEqual([{ n: 0 }]);
      expect((await profileOf(me)).relationship.messages_exchanged).toBe(4);
    });

    it('refuses (409) a handle of someone who signed in, after the same answer as any other', async () => {
      const owner = await signIn(api);
      const me = await signIn(api);
      const unknown = newPhone();
      const toOwner = await startLink(me, owner.phone);
      const toUnknown = await startLink(me, unknown);
      // No enumeration: the answer does not tell whether the number is someone's.
      expect([toOwner.status, toOwner.body]).toEqual([toUnknown.status, toUnknown.body]);

      const refused = await confirmLink(me, owner.phone, codeFor(api, owner.phone));
      expect(refused.status).toBe(409);
      const [row] = await query(db.url, `SELECT user_id FROM user_handles WHERE handle = $1`, [
        owner.phone,
      ]);
      expect(row).toEqual({ user_id: owner.tokens.user_id });
      expect((await profileOf(owner)).handles).toHaveLength(1);
      expect((await profileOf(me)).handles).toHaveLength(1);
      // The code was used up by that attempt.
      expect((await confirmLink(me, owner.phone, codeFor(api, owner.phone))).status).toBe(401);
    });

    it('refuses bad input and the caller’s own handle, writing nothing; needs CSRF with cookies', async () => {
      const me = await signIn(api);
      const challenges = () => query(db.url, `SELECT count(*)::int AS n FROM otp_challenges`);
      const before = await challenges();
      for (const handle of ['5551234567', 'not an address', '', 42, undefined]) {
        const res = await startLink(me, handle);
        expect(res.status).toBe(400);
        expect(JSON.stringify(res.body)).toContain('handle');
      }
      const extra = await api.request('POST', '/user/handles/start', {
        headers: me.bearer,
        body: { handle: newPhone(), user_id: me.tokens.user_id },
      });
      expect(extra.status).toBe(400);
      const own = await startLink(me, me.phone);
      expect(own.status).toBe(409);
      const badCode = await api.request('POST', '/user/handles/confirm', {
        headers: me.bearer,
        body: { handle: newPhone(), code: '12345' },
      });
      expect(badCode.status).toBe(400);
      expect(await challenges()).toEqual(before);

      const viaCookie = await startLink(me, newPhone(), cookieHeader(me.cookies));
      expect(viaCookie.status).toBe(403);
      expect(await challenges()).toEqual(before);
      expect(
        (await api.request('POST', '/user/handles/start', { body: { handle: newPhone() } })).status,
      ).toBe(401);
    });

    it('allows a person 10 link codes an hour (SMS costs money); the 11th is 429', async () => {
      const me = await signIn(api);
      for (let i = 0; i < 10; i++) expect((await startLink(me, newPhone())).status).toBe(202);
      const res: HttpResult = await startLink(me, newPhone());
      expect(res.status).toBe(429);
      expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
    });
  });

  describe('export', () => {
    it('returns everything stored about the person, and nothing of anyone else', async () => {
      const me = await signIn(api, newPhone(), 'Ezra');
      await sayAndExtract(me.phone, 'I collect vinyl records', {
        facts: [{ about: 'speaker', type: 'activity', content: 'collects vinyl', confidence: 0.8 }],
        traits: [{ trait: 'temperament', value: 'calm', confidence: 0.6 }],
      });
      const chat = `chat${Date.now()}${Math.floor(Math.random() * 1e6)}`;
      const bystander = newPhone();
      await say(bystander, 'a secret of the bystander', chat);
      await say(me.phone, 'Sage what do you think', chat);
      const form = new FormData();
      form.append('file', new Blob([jpeg(`export-${me.phone}`)], { type: 'image/jpeg' }), 'a.jpg');
      const upload = await fetch(
        `${api.url}/photos/upload?${new URLSearchParams({ user_phone: me.phone, chat_guid: `iMessage;-;${me.phone}` })}`,
        { method: 'POST', body: form, headers: relay },
      );
      expect(upload.status).toBe(200);

      const res = await api.request<Record<string, unknown>>('GET', '/user/export', {
        headers: me.bearer,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-disposition')).toContain('attachment');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const body = res.body as {
        person: Record<string, unknown>;
        handles: Record<string, unknown>[];
        onboarding: Record<string, unknown>;
        traits: Record<string, unknown>[];
        trait_profile: Record<string, unknown>;
        memories: Record<string, unknown>[];
        messages: Record<string, unknown>[];
        photos: Record<string, unknown>[];
        rooms: Record<string, unknown>[];
        sessions: Record<string, unknown>[];
        llm_usage: Record<string, unknown>[];
      };
      expect(body.person).toMatchObject({
        user_id: me.tokens.user_id,
        primary_handle: me.phone,
        name: 'Ezra',
      });
      expect(body.handles).toEqual([expect.objectContaining({ handle: me.phone })]);
      expect(body.onboarding).toMatchObject({ state: 'name_known' });
      expect(body.traits).toEqual([
        expect.objectContaining({ trait: 'temperament', value: 'calm', source: 'extraction' }),
      ]);
      expect(body.trait_profile).toMatchObject({ summary: 'temperament: calm' });
      expect(body.memories).toEqual([
        expect.objectContaining({ type: 'activity', content: 'collects vinyl' }),
      ]);
      const texts = body.messages.map((m) => [m.direction, m.text]);
      expect(texts).toEqual([
        ['inbound', 'I collect vinyl records'],
        ['outbound', 'Fake reply to: I collect vinyl records'],
        ['inbound', 'Sage what do you think'],
        ['outbound', expect.stringContaining('Fake reply to:')],
      ]);
      expect(body.photos).toEqual([
        expect.objectContaining({
          mime: 'image/jpeg',
          chat_guid: `imessage:iMessage;-;${me.phone}`,
        }),
      ]);
      expect(body.photos[0].sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(body.rooms.map((r) => r.type).sort()).toEqual(['direct', 'group']);
      expect(body.sessions).toHaveLength(1);
      expect(body.llm_usage.length).toBeGreaterThan(0);

      // Nothing of another person, and no secret (refresh tokens, their hashes, codes).
      const text = JSON.stringify(res.body);
      expect(text).not.toContain('a secret of the bystander');
      expect(text).not.toContain(bystander);
      expect(text).not.toContain(me.tokens.refresh_token);
      expect(text).not.toMatch(/token_hash|code_hash/);

      expect((await api.request('GET', '/user/export')).status).toBe(401);
    });
  });
});
