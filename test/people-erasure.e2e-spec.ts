import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Redis from 'ioredis';
import { JobName } from '../src/core/queue/queue.constants';
import { jobIdFor, QueueService } from '../src/core/queue/queue.service';
import { PERSON_REFERENCES } from '../src/modules/people/person-data.repository';
import { keyFor } from '../src/modules/photos/photo-storage';
import { jpeg } from './fixtures/images';
import { FakeOpenAI } from './fake-openai/fake-openai.server';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { codeFor, cookieHeader, csrfHeaders, newPhone, setCookies, signIn } from './helpers/people';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';

const RELAY_SECRET = 'relay-secret-people-erasure-e2e';
const EDGE_SECRET = 'edge-secret-people-erasure-e2e';
const ADMIN_KEY = 'admin-key-people-erasure-e2e-0123456789';
const relay = { authorization: `Bearer ${RELAY_SECRET}` };
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

/**
 * Erasure, with no worker running: every job the person's activity queued (memory extraction,
 * photo analysis, the delayed scheduled send) is still in Redis when they ask to be forgotten.
 */
describe('People: erasure leaves nothing of the person (real API, Postgres, Redis, files)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  let storageDir: string;
  let redis: Redis;
  const prefix = newRedisPrefix();

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'archety-erasure-e2e-'));
    sys = await startTestSystem({
      prefix,
      overrides: {
        RELAY_WEBHOOK_SECRET: RELAY_SECRET,
        EDGE_SECRET,
        ADMIN_API_KEY: ADMIN_KEY,
        HMAC_MODE: 'off',
        PHOTO_STORAGE_DIR: storageDir,
      },
    });
    ({ db, fake, api } = sys);
    redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  });

  afterAll(async () => {
    redis?.disconnect();
    await sys?.close();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  beforeEach(() => fake.reset());

  const say = (
    sender: string,
    text: string,
    chat = `iMessage;-;${sender}`,
    participants = [sender],
  ) =>
    api.request<{ reply_text: string | null }>('POST', '/orchestrator/message', {
      headers: relay,
      body: {
        chat_guid: chat,
        mode: chat.startsWith('chat') ? 'group' : 'direct',
        sender,
        text,
        timestamp: Math.floor(Date.now() / 1000),
        participants,
      },
    });

  async function uploadPhoto(
    bytes: Buffer,
    fields: Record<string, string>,
  ): Promise<{ photo_id: string }> {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type: 'image/jpeg' }), 'IMG_1.jpg');
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    const res = await fetch(`${api.url}/photo/upload`, {
      method: 'POST',
      body: form,
      headers: { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': 'agent-erasure' },
    });
    expect(res.status).toBe(200);
    return (await res.json()) as { photo_id: string };
  }

  /** Every table of the schema, and the rows of each whose text contains any of the needles. */
  async function rowsMentioning(needles: string[]): Promise<Record<string, number>> {
    const tables = await query<{ table_name: string }>(
      db.url,
      `SELECT table_name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    );
    expect(tables.length).toBeGreaterThan(15);
    const found: Record<string, number> = {};
    for (const { table_name: table } of tables) {
      const [{ n }] = await query<{ n: number }>(
        db.url,
        `SELECT count(*)::int AS n FROM "${table}" t
          WHERE EXISTS (SELECT 1 FROM unnest($1::text[]) needle
                         WHERE strpos(lower(t::text), lower(needle)) > 0)`,
        [needles],
      );
      if (n) found[table] = n;
    }
    return found;
  }

  /** Every Redis key of this file's prefix whose name or value contains a needle. */
  async function redisMentioning(needles: string[]): Promise<string[]> {
    const hits: string[] = [];
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
      cursor = next;
      for (const key of keys) {
        // BullMQ's per-queue event log names job ids (which are row ids) as it trims itself to
        // its last 10,000 events; it holds no job data.
        if (key.endsWith(':events')) continue;
        const type = await redis.type(key);
        const contents =
          type === 'string'
            ? [await redis.get(key)]
            : type === 'hash'
              ? Object.entries(await redis.hgetall(key)).flat()
              : type === 'list'
                ? await redis.lrange(key, 0, -1)
                : type === 'set'
                  ? await redis.smembers(key)
                  : type === 'zset'
                    ? await redis.zrange(key, 0, -1)
                    : [];
        const text = [key, ...contents].join('\n');
        if (needles.some((needle) => text.includes(needle))) hits.push(key);
      }
    } while (cursor !== '0');
    return hits;
  }

  it('knows every column that references a person (merge, export and erasure handle each)', async () => {
    const columns = await query<{ table_name: string; column_name: string }>(
      db.url,
      `SELECT kcu.table_name, kcu.column_name
         FROM information_schema.referential_constraints rc
         JOIN information_schema.key_column_usage kcu
           ON kcu.constraint_name = rc.constraint_name AND kcu.constraint_schema = rc.constraint_schema
         JOIN information_schema.constraint_column_usage ccu
           ON ccu.constraint_name = rc.unique_constraint_name
          AND ccu.constraint_schema = rc.unique_constraint_schema
        WHERE ccu.table_name = 'users' AND ccu.column_name = 'id' AND kcu.table_name <> 'users'
        ORDER BY 1, 2`,
    );
    expect(columns.map((c) => ({ table: c.table_name, column: c.column_name }))).toEqual(
      [...PERSON_REFERENCES].sort((a, b) =>
        a.table === b.table ? a.column.localeCompare(b.column) : a.table.localeCompare(b.table),
      ),
    );
  });

  it('DELETE /user erases every row, file, cached reply and queued job of the person', async () => {
    const marker = `zanzibar${Date.now()}`;
    const me = await signIn(api, newPhone(), `Erin ${marker}`);
    const userId = me.tokens.user_id;
    const bystander = newPhone();
    const group = `chat${Date.now()}${Math.floor(Math.random() * 1e6)}`;

    // A direct chat through an edge agent: a reply (cached), then tool calls that remember
    // something and schedule a message (a delayed job).
    const edge = await api.request('POST', '/edge/message', {
      headers: { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': 'agent-erasure' },
      body: {
        chat_guid: me.phone,
        mode: 'direct',
        sender: me.phone,
        text: `hello, my word is ${marker}`,
        timestamp: Math.floor(Date.now() / 1000),
        participants: [me.phone],
      },
    });
    expect(edge.status).toBe(200);
    fake.reply({
      toolCalls: [
        { name: 'remember', arguments: { type: 'preference', content: `loves ${marker} tea` } },
        {
          name: 'schedule_message',
          arguments: {
            text: `wake up ${marker}`,
            send_at: new Date(Date.now() + 3_600_000).toISOString(),
          },
        },
      ],
    });
    fake.reply({ content: `done, ${marker}` });
    expect((await say(me.phone, 'remember my tea and wake me in an hour', me.phone)).status).toBe(
      200,
    );
    // A group with someone else: both talk; the assistant answers each.
    const members = [me.phone, bystander];
    expect((await say(bystander, 'Sage, hi from the bystander', group, members)).status).toBe(200);
    expect((await say(me.phone, `Sage, ${marker} here`, group, members)).status).toBe(200);
    // Photos: theirs (a file, an analysis job), and the bystander's group photo naming them.
    const mine = await uploadPhoto(jpeg(`mine-${marker}`), {
      user_phone: me.phone,
      edge_agent_id: 'agent-erasure',
      attachment_guid: 'att-mine',
      chat_guid: me.phone,
      is_group: 'false',
    });
    const theirs = await uploadPhoto(jpeg(`theirs-${marker}`), {
      user_phone: bystander,
      edge_agent_id: 'agent-erasure',
      attachment_guid: 'att-theirs',
      chat_guid: group,
      is_group: 'true',
      caption: 'look',
      participants: JSON.stringify(members),
    });
    // A command waiting for the agent, to their chat.
    const command = await api.request('POST', '/admin/edge/agents/agent-erasure/commands', {
      headers: admin,
      body: { command_type: 'send_message_now', payload: { thread_id: me.phone, text: 'hey' } },
    });
    expect(command.status).toBe(201);
    // A linked Apple ID email (a second handle, and a link code on record).
    const email = `erin.${marker}@icloud.com`;
    expect(
      (
        await api.request('POST', '/user/handles/start', {
          headers: me.bearer,
          body: { handle: email },
        })
      ).status,
    ).toBe(202);
    const link = await api.request('POST', '/user/handles/confirm', {
      headers: me.bearer,
      body: { handle: email, code: codeFor(api, email) },
    });
    expect(link.status).toBe(200);
    // Traits as the extraction job would store them.
    await query(
      db.url,
      `INSERT INTO user_traits (user_id, trait, value, confidence, source)
       VALUES ($1, 'humor', $2, 0.6, 'extraction')`,
      [userId, `dry about ${marker}`],
    );
    await query(
      db.url,
      `INSERT INTO trait_profiles (user_id, summary, traits_count) VALUES ($1, $2, 1)`,
      [userId, `humor: dry about ${marker}`],
    );

    // Everything is there before.
    const ids = await query<{ kind: string; id: string }>(
      db.url,
      `SELECT 'message' AS kind, id::text FROM messages WHERE sender_user_id = $1
       UNION ALL SELECT 'scheduled', id::text FROM scheduled_messages WHERE requested_by_user_id = $1`,
      [userId],
    );
    const messageIds = ids.filter((r) => r.kind === 'message').map((r) => r.id);
    const [scheduledId] = ids.filter((r) => r.kind === 'scheduled').map((r) => r.id);
    expect(messageIds).toHaveLength(3);
    expect(scheduledId).toBeDefined();
    const queues = api.app.get(QueueService);
    const jobState = (job: JobName, key: string) =>
      queues.queue(queues.queueOf(job)).getJobState(jobIdFor(job, key));
    expect(await jobState(JobName.MemoryExtract, messageIds[0])).toBe('waiting');
    expect(await jobState(JobName.PhotoAnalyze, mine.photo_id)).toBe('waiting');
    expect(await jobState(JobName.ScheduledMessageSend, scheduledId)).toBe('delayed');
    const [photo] = await query<{ sha256: string }>(
      db.url,
      `SELECT sha256 FROM photos WHERE id = $1`,
      [mine.photo_id],
    );
    const [theirPhoto] = await query<{ sha256: string }>(
      db.url,
      `SELECT sha256 FROM photos WHERE id = $1`,
      [theirs.photo_id],
    );
    const file = join(storageDir, keyFor(photo.sha256));
    expect(existsSync(file)).toBe(true);
    const needles = [userId, me.phone, email, marker, ...messageIds, mine.photo_id, scheduledId];
    const tablesBefore = await rowsMentioning(needles);
    for (const table of [
      'users',
      'user_handles',
      'messages',
      'memories',
      'user_traits',
      'trait_profiles',
      'onboarding_sessions',
      'photos',
      'scheduled_messages',
      'rooms',
      'room_participants',
      'llm_usage',
      'refresh_sessions',
      'otp_challenges',
      'edge_commands',
    ]) {
      expect({ table, before: tablesBefore[table] > 0 }).toEqual({ table, before: true });
    }
    expect((await redisMentioning([userId])).some((key) => key.includes(':cache:reply:'))).toBe(
      true,
    );

    // A cookie request without the CSRF pair is refused, and changes nothing.
    const refused = await api.request('DELETE', '/user', { headers: cookieHeader(me.cookies) });
    expect(refused.status).toBe(403);
    expect(await query(db.url, `SELECT 1 FROM users WHERE id = $1`, [userId])).toHaveLength(1);

    const erased = await api.request('DELETE', '/user', { headers: await csrfHeaders(api, me) });
    expect(erased.status).toBe(204);
    const cleared = setCookies(erased);
    for (const name of ['archety_access', 'archety_refresh']) {
      expect(cleared.get(name)).toMatch(/^[a-z_]+=; Max-Age=0;/);
    }

    // Not a row of any table mentions them, their handles, what they said or their rows' ids.
    expect(await rowsMentioning(needles)).toEqual({});
    for (const { table, column } of PERSON_REFERENCES) {
      const rows = await query(db.url, `SELECT 1 FROM "${table}" WHERE "${column}" = $1`, [userId]);
      expect({ table, rows: rows.length }).toEqual({ table, rows: 0 });
    }
    // Not a Redis key or value either: cached replies and queued jobs are gone.
    expect(await redisMentioning(needles)).toEqual([]);
    expect(await jobState(JobName.MemoryExtract, messageIds[0])).toBe('unknown');
    expect(await jobState(JobName.PhotoAnalyze, mine.photo_id)).toBe('unknown');
    expect(await jobState(JobName.ScheduledMessageSend, scheduledId)).toBe('unknown');
    // Their photo's file is gone.
    expect(existsSync(file)).toBe(false);

    // What belongs to others stays: the bystander, their message, their photo (without the
    // erased person in its participants) and its file.
    expect(
      await query(db.url, `SELECT text FROM messages WHERE sender_handle = $1`, [bystander]),
    ).toEqual([{ text: 'Sage, hi from the bystander' }]);
    expect(
      await query(db.url, `SELECT metadata->'participants' AS p FROM photos WHERE id = $1`, [
        theirs.photo_id,
      ]),
    ).toEqual([{ p: [bystander] }]);
    expect(existsSync(join(storageDir, keyFor(theirPhoto.sha256)))).toBe(true);
    expect(
      await query(db.url, `SELECT count(*)::int AS n FROM rooms WHERE chat_guid = $1`, [
        `imessage:${group}`,
      ]),
    ).toEqual([{ n: 1 }]);

    // Signed out for good.
    expect((await api.request('GET', '/auth/session', { headers: me.bearer })).status).toBe(401);
    expect((await api.request('DELETE', '/user', { headers: me.bearer })).status).toBe(401);
  });

  it('an admin finds a person by handle and erases them; unknown ids are 404, bad ones 400', async () => {
    const phone = newPhone();
    expect((await say(phone, 'please forget me')).status).toBe(200);
    const found = await api.request<{ user_id: string; handles: { handle: string }[] }>(
      'GET',
      `/admin/users?handle=${encodeURIComponent(phone)}`,
      { headers: admin },
    );
    expect(found.status).toBe(200);
    expect(found.body.handles).toEqual([expect.objectContaining({ handle: phone, primary: true })]);
    const id = found.body.user_id;

    expect((await api.request('DELETE', `/admin/users/${id}`)).status).toBe(401);
    expect(
      (
        await api.request('DELETE', `/admin/users/${id}`, {
          headers: { authorization: 'Bearer x' },
        })
      ).status,
    ).toBe(401);
    expect((await api.request('GET', '/admin/users?handle=nope', { headers: admin })).status).toBe(
      400,
    );

    const erased = await api.request('DELETE', `/admin/users/${id}`, { headers: admin });
    expect(erased.status).toBe(200);
    expect(erased.body).toMatchObject({
      user_id: id,
      messages: 2,
      rooms: 1,
      photos: 0,
      jobs_removed: 1,
      cached_replies: 1,
    });
    expect(await rowsMentioning([id, phone, 'please forget me'])).toEqual({});
    expect((await api.request('DELETE', `/admin/users/${id}`, { headers: admin })).status).toBe(
      404,
    );
    expect(
      (
        await api.request('GET', `/admin/users?handle=${encodeURIComponent(phone)}`, {
          headers: admin,
        })
      ).status,
    ).toBe(404);
    expect(
      (await api.request('DELETE', '/admin/users/not-a-uuid', { headers: admin })).status,
    ).toBe(400);
  });
});
