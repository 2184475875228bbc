import { createHash, randomUUID } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { JobName, QueueName } from '../src/core/queue/queue.constants';
import { QueueService } from '../src/core/queue/queue.service';
import { PhotosService } from '../src/modules/photos/photos.service';
import { FakeChatBody, FakeOpenAI } from './fake-openai/fake-openai.server';
import {
  gif,
  heic,
  isoBmff,
  jpeg,
  jpegOfSize,
  png,
  textPretendingToBeJpeg,
  webp,
} from './fixtures/images';
import { TestDatabase } from './helpers/database';
import { query } from './helpers/db-query';
import { edgeToken } from './helpers/signing';
import { newRedisPrefix, RunningApi, startTestSystem, TestSystem } from './helpers/test-app';
import { waitUntil } from './helpers/wait';

const RELAY_SECRET = 'relay-secret-photos-e2e';
const EDGE_SECRET = 'edge-secret-photos-e2e';
const ADMIN_KEY = 'admin-key-photos-e2e-0123456789abcdef';
const MAX_BYTES = 64 * 1024;
const relay = { authorization: `Bearer ${RELAY_SECRET}` };
const admin = { authorization: `Bearer ${ADMIN_KEY}` };

interface Analysis {
  summary: string;
  activities: string[];
  people: string[];
  places: string[];
  preferences: string[];
}

const HIKE: Analysis = {
  summary: 'A person on a mountain trail at sunrise.',
  activities: ['hiking'],
  people: ['a friend in a red jacket'],
  places: ['a mountain trail'],
  preferences: ['likes the outdoors'],
};

let seq = 0;
function phone(): string {
  return `+1555${String(2_000_000 + ++seq * 7919 + Math.floor(Math.random() * 1000)).slice(-7)}`;
}
function groupChat(): string {
  return `chat${Date.now()}${++seq}${Math.floor(Math.random() * 1e6)}`;
}

function isVision(body: FakeChatBody): boolean {
  return (body.messages ?? []).some(
    (m) => Array.isArray(m.content) && m.content.some((p) => p.type === 'image_url'),
  );
}

function imageUrlOf(body: FakeChatBody): string | undefined {
  for (const m of body.messages ?? []) {
    if (!Array.isArray(m.content)) continue;
    const part = m.content.find((p) => p.type === 'image_url');
    if (part) return part.image_url?.url;
  }
  return undefined;
}

function sha256(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

describe('photos (real API + worker, Postgres, Redis, fake vision model)', () => {
  let sys: TestSystem;
  let db: TestDatabase;
  let fake: FakeOpenAI;
  let api: RunningApi;
  let storageDir: string;
  let queue: Queue;
  const prefix = newRedisPrefix();
  /** What the fake vision model "sees", by the photo's base64 data URL. */
  const analysisFor = new Map<string, Analysis | string>();

  beforeAll(async () => {
    storageDir = mkdtempSync(join(tmpdir(), 'archety-photos-e2e-'));
    sys = await startTestSystem({
      prefix,
      overrides: {
        RELAY_WEBHOOK_SECRET: RELAY_SECRET,
        EDGE_SECRET,
        ADMIN_API_KEY: ADMIN_KEY,
        PHOTO_STORAGE_DIR: storageDir,
        PHOTO_MAX_BYTES: String(MAX_BYTES),
      },
      worker: true,
    });
    ({ db, fake, api } = sys);
    queue = api.app.get(QueueService).queue(QueueName.PhotoAnalysis);
  });

  afterAll(async () => {
    await sys?.close();
    if (storageDir) rmSync(storageDir, { recursive: true, force: true });
  });

  beforeEach(() => {
    fake.reset();
    analysisFor.clear();
    fake.respondWith((body) => {
      if (!isVision(body)) return undefined;
      const scripted = analysisFor.get(imageUrlOf(body) ?? '');
      if (typeof scripted === 'string') return { content: scripted };
      return { content: JSON.stringify(scripted ?? HIKE) };
    });
  });

  const dataUrl = (bytes: Buffer, mime = 'image/jpeg') =>
    `data:${mime};base64,${bytes.toString('base64')}`;

  async function send(
    path: string,
    form: FormData,
    headers: Record<string, string>,
  ): Promise<{ status: number; body: Record<string, unknown> }> {
    const res = await fetch(`${api.url}${path}`, { method: 'POST', body: form, headers });
    const text = await res.text();
    let body: Record<string, unknown> = {};
    try {
      body = JSON.parse(text) as Record<string, unknown>;
    } catch {
      body = { text };
    }
    return { status: res.status, body };
  }

  function fileForm(bytes: Buffer, filename = 'IMG_0001.jpg', type = 'image/jpeg'): FormData {
    const form = new FormData();
    form.append('file', new Blob([bytes], { type }), filename);
    return form;
  }

  function relayUpload(bytes: Buffer, params: Record<string, string>, filename?: string) {
    return send(`/photos/upload?${new URLSearchParams(params)}`, fileForm(bytes, filename), relay);
  }

  /** The multipart body exactly as the edge client builds it (EDGE_PROTOCOL §5, wire order). */
  function edgeForm(bytes: Buffer, fields: Record<string, string>, type = 'image/jpeg'): FormData {
    const form = fileForm(bytes, `${fields.attachment_guid ?? 'photo_1'}.jpg`, type);
    for (const [name, value] of Object.entries(fields)) form.append(name, value);
    return form;
  }

  function edgeUpload(
    bytes: Buffer,
    fields: Record<string, string>,
    headers: Record<string, string> = {},
  ) {
    return send('/photo/upload', edgeForm(bytes, fields), {
      authorization: `Bearer ${EDGE_SECRET}`,
      'x-edge-agent-id': fields.edge_agent_id ?? 'agent-1',
      ...headers,
    });
  }

  const getPhoto = (id: string) => api.request('GET', `/photos/${id}`, { headers: relay });
  const photoStatus = async (id: string) =>
    (await query<{ status: string }>(db.url, `SELECT status FROM photos WHERE id = $1`, [id]))[0]
      ?.status;
  const untilStatus = (id: string, wanted: string) =>
    waitUntil(
      () => photoStatus(id),
      (s) => s === wanted,
    );
  const photoCount = async () =>
    Number((await query<{ n: string }>(db.url, `SELECT count(*) AS n FROM photos`))[0].n);
  const tempFiles = () => readdirSync(join(storageDir, '.tmp'));
  const storedFile = (bytes: Buffer) => {
    const sha = sha256(bytes);
    return join(storageDir, sha.slice(0, 2), sha);
  };
  const visualMemories = (photoId: string) =>
    query<{ type: string; content: string; source: string; handle: string }>(
      db.url,
      `SELECT m.type, m.content, m.source, u.handle FROM memories m JOIN users u ON u.id = m.user_id
       WHERE m.source_photo_id = $1 ORDER BY m.type, m.content`,
      [photoId],
    );

  it('relay upload: stored by content hash, analysed by the worker into visual_* memories', async () => {
    const sender = phone();
    const bytes = jpeg(`relay-${sender}`);
    const res = await relayUpload(bytes, {
      user_phone: sender,
      chat_guid: `iMessage;-;${sender}`,
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ photo_id: expect.any(String), status: 'processing' });
    const id = res.body.photo_id as string;

    expect(await untilStatus(id, 'analyzed')).toBe('analyzed');
    const photo = await getPhoto(id);
    expect(photo.status).toBe(200);
    expect(photo.body).toMatchObject({
      photo_id: id,
      status: 'analyzed',
      analysis: HIKE,
      chat_guid: `imessage:iMessage;-;${sender}`,
      is_group: false,
      mime: 'image/jpeg',
      bytes: bytes.length,
      sha256: sha256(bytes),
      error: null,
    });
    expect(photo.body.analyzed_at).toEqual(expect.any(String));
    expect(existsSync(storedFile(bytes))).toBe(true);

    // The vision call: the configured vision model, JSON mode, the image inline as base64.
    const vision = fake.chatRequests().filter((r) => isVision(r.body));
    expect(vision).toHaveLength(1);
    expect(vision[0].body.model).toBe('gpt-4o');
    expect(vision[0].body.response_format).toEqual({ type: 'json_object' });
    expect(imageUrlOf(vision[0].body)).toBe(dataUrl(bytes));

    expect(await visualMemories(id)).toEqual([
      { type: 'visual_activity', content: 'hiking', source: 'photo', handle: sender },
      {
        type: 'visual_person',
        content: 'a friend in a red jacket',
        source: 'photo',
        handle: sender,
      },
      { type: 'visual_place', content: 'a mountain trail', source: 'photo', handle: sender },
      { type: 'visual_preference', content: 'likes the outdoors', source: 'photo', handle: sender },
    ]);
    const usage = await query(
      db.url,
      `SELECT purpose, model FROM llm_usage l JOIN users u ON u.id = l.user_id WHERE u.handle = $1`,
      [sender],
    );
    expect(usage).toEqual([{ purpose: 'photo-analysis', model: 'gpt-4o' }]);
    expect(tempFiles()).toEqual([]);
  });

  it('edge upload: the fields as the edge client sends them, caption without U+FFFC', async () => {
    const sender = phone();
    const bytes = jpeg(`edge-${sender}`);
    const res = await edgeUpload(bytes, {
      user_phone: sender,
      edge_agent_id: 'agent-1',
      attachment_guid: 'AT-0001-ABCD',
      context: JSON.stringify({ active_miniapp: 'trip_planner', state: 'active' }),
      chat_guid: sender,
      is_group: 'false',
      caption: '\uFFFCcheck out this view',
    });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ photo_id: expect.any(String), status: 'processing' });
    const id = res.body.photo_id as string;
    const [row] = await query(
      db.url,
      `SELECT p.caption, p.chat_guid, p.is_group, p.edge_agent_id, p.attachment_guid, p.metadata,
              u.handle, r.type AS room_type
       FROM photos p JOIN users u ON u.id = p.owner_user_id JOIN rooms r ON r.id = p.room_id
       WHERE p.id = $1`,
      [id],
    );
    expect(row).toMatchObject({
      caption: 'check out this view',
      chat_guid: `imessage:${sender}`,
      is_group: false,
      edge_agent_id: 'agent-1',
      attachment_guid: 'AT-0001-ABCD',
      handle: sender,
      room_type: 'direct',
      metadata: {
        filename: 'AT-0001-ABCD.jpg',
        declared_mime: 'image/jpeg',
        context: { active_miniapp: 'trip_planner', state: 'active' },
      },
    });
    await untilStatus(id, 'analyzed');
    // The caption reaches the model as context.
    const prompt = JSON.stringify(fake.chatRequests().find((r) => isVision(r.body))!.body);
    expect(prompt).toContain('check out this view');
    expect(prompt).not.toContain('\\ufffc');
  });

  it('accepts PNG, GIF, WebP and HEIC by their bytes, whatever the name says', async () => {
    const sender = phone();
    const cases: [Buffer, string][] = [
      [png(`png-${sender}`), 'image/png'],
      [gif(`gif-${sender}`), 'image/gif'],
      [webp(`webp-${sender}`), 'image/webp'],
      [heic(`heic-${sender}`), 'image/heic'],
      [isoBmff('mif1', ['mif1', 'miaf'], `heif-${sender}`), 'image/heif'],
    ];
    for (const [bytes, mime] of cases) {
      const res = await relayUpload(
        bytes,
        { user_phone: sender, chat_guid: sender },
        'whatever.jpg',
      );
      expect(res.status).toBe(200);
      const [row] = await query(db.url, `SELECT mime FROM photos WHERE id = $1`, [
        res.body.photo_id,
      ]);
      expect(row).toEqual({ mime });
    }
  });

  it('415 for a text file named .jpg; AVIF too; nothing stored', async () => {
    const before = await photoCount();
    const sender = phone();
    const text = await relayUpload(textPretendingToBeJpeg(), {
      user_phone: sender,
      chat_guid: sender,
    });
    expect(text.status).toBe(415);
    expect(text.body).toMatchObject({ statusCode: 415, error: 'Unsupported Media Type' });
    const avif = await relayUpload(isoBmff('avif', ['avif', 'mif1', 'miaf']), {
      user_phone: sender,
      chat_guid: sender,
    });
    expect(avif.status).toBe(415);
    expect(await photoCount()).toBe(before);
    expect(tempFiles()).toEqual([]);
  });

  it('413 while streaming past PHOTO_MAX_BYTES: no row, no file, no temp file', async () => {
    const before = await photoCount();
    const sender = phone();
    const big = jpegOfSize(MAX_BYTES * 3, `big-${sender}`);
    const res = await relayUpload(big, { user_phone: sender, chat_guid: sender });
    expect(res.status).toBe(413);
    expect(res.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    // The edge route too, and a declared length far past the limit.
    const edge = await edgeUpload(big, {
      user_phone: sender,
      edge_agent_id: 'agent-1',
      chat_guid: sender,
    });
    expect(edge.status).toBe(413);
    const huge = await relayUpload(jpegOfSize(4 * 1024 * 1024, 'huge'), {
      user_phone: sender,
      chat_guid: sender,
    });
    expect(huge.status).toBe(413);

    // Exactly at the limit is fine.
    const atLimit = jpegOfSize(MAX_BYTES, `limit-${sender}`);
    expect((await relayUpload(atLimit, { user_phone: sender, chat_guid: sender })).status).toBe(
      200,
    );
    expect(await photoCount()).toBe(before + 1);
    expect(existsSync(storedFile(big))).toBe(false);
    expect(tempFiles()).toEqual([]);
  });

  it('413 arrives while the client is still sending: the body is never buffered first', async () => {
    const before = await photoCount();
    const sender = phone();
    const boundary = `----archety${randomUUID()}`;
    const { hostname, port } = new URL(api.url);
    const req = request({
      host: hostname,
      port,
      method: 'POST',
      path: `/photos/upload?${new URLSearchParams({ user_phone: sender, chat_guid: sender })}`,
      headers: {
        ...relay,
        'content-type': `multipart/form-data; boundary=${boundary}`,
        'transfer-encoding': 'chunked',
      },
    });
    const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
      req.once('response', (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.once('error', reject);
    });
    req.write(
      `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.jpg"\r\n` +
        `Content-Type: image/jpeg\r\n\r\n`,
    );
    // Twice the limit, then the client goes quiet without ever finishing the body.
    req.write(jpegOfSize(MAX_BYTES * 2, `endless-${sender}`));
    const res = await response;
    req.destroy();
    expect(res.status).toBe(413);
    expect(JSON.parse(res.body)).toMatchObject({ statusCode: 413 });
    await new Promise((r) => setTimeout(r, 100));
    expect(await photoCount()).toBe(before);
    expect(tempFiles()).toEqual([]);
  });

  it('content-hash dedupe: the same bytes are one file; same sender and chat → same photo_id', async () => {
    const [a, b] = [phone(), phone()];
    const bytes = jpeg(`dedupe-${a}`);
    const first = await relayUpload(bytes, { user_phone: a, chat_guid: a });
    const again = await relayUpload(bytes, { user_phone: a, chat_guid: a });
    const otherSender = await relayUpload(bytes, { user_phone: b, chat_guid: a });
    const otherChat = await relayUpload(bytes, { user_phone: a, chat_guid: groupChat() });
    expect(again.body.photo_id).toBe(first.body.photo_id);
    expect(otherSender.body.photo_id).not.toBe(first.body.photo_id);
    expect(otherChat.body.photo_id).not.toBe(first.body.photo_id);

    const sha = sha256(bytes);
    const rows = await query(db.url, `SELECT DISTINCT storage_key FROM photos WHERE sha256 = $1`, [
      sha,
    ]);
    expect(rows).toEqual([{ storage_key: `${sha.slice(0, 2)}/${sha}` }]);
    expect(await photoCount()).toBeGreaterThanOrEqual(3);
    expect(readdirSync(join(storageDir, sha.slice(0, 2))).filter((f) => f === sha)).toHaveLength(1);
    expect(tempFiles()).toEqual([]);
    // One analysis per photo, not per upload.
    await untilStatus(first.body.photo_id as string, 'analyzed');
  });

  it('group photo without a mention is stored (no job); with a persona named it is analysed', async () => {
    const [a, b] = [phone(), phone()];
    const chat = groupChat();
    const fields = (caption: string) => ({
      user_phone: a,
      edge_agent_id: 'agent-1',
      attachment_guid: `AT-${randomUUID()}`,
      chat_guid: chat,
      is_group: 'true',
      caption,
      participants: JSON.stringify([a, b]),
    });
    const quiet = await edgeUpload(jpeg(`group-quiet-${a}`), fields('\uFFFCfun night'));
    expect(quiet.status).toBe(200);
    expect(quiet.body.status).toBe('stored');
    const quietId = quiet.body.photo_id as string;
    expect(await queue.getJob(`${JobName.PhotoAnalyze}-${quietId}`)).toBeUndefined();
    const [row] = await query(
      db.url,
      `SELECT p.is_group, p.metadata->'participants' AS participants, r.type FROM photos p
       JOIN rooms r ON r.id = p.room_id WHERE p.id = $1`,
      [quietId],
    );
    expect(row).toEqual({ is_group: true, participants: [a, b], type: 'group' });

    // "split this luna": a persona (any, case-insensitive, whole word) is addressed.
    const named = await edgeUpload(jpeg(`group-named-${a}`), fields('\uFFFCsplit this LUNA'));
    expect(named.body.status).toBe('processing');
    expect(await queue.getJob(`${JobName.PhotoAnalyze}-${named.body.photo_id}`)).toBeDefined();
    // A name inside another word is no mention.
    const lunatic = await edgeUpload(jpeg(`group-lunatic-${a}`), fields('lunatics everywhere'));
    expect(lunatic.body.status).toBe('stored');
    await untilStatus(named.body.photo_id as string, 'analyzed');
    expect(await photoStatus(quietId)).toBe('stored');

    // The persona is addressed later: the room's stored photos are analysed.
    const photos = api.app.get(PhotosService);
    expect(await photos.analyzeStoredForRoom(`imessage:${chat}`)).toBe(2);
    expect(await untilStatus(quietId, 'analyzed')).toBe('analyzed');
    expect(await untilStatus(lunatic.body.photo_id as string, 'analyzed')).toBe('analyzed');
    expect(await photos.analyzeStoredForRoom(`imessage:${chat}`)).toBe(0);
  });

  it('the same job twice adds no memories', async () => {
    const sender = phone();
    const res = await relayUpload(jpeg(`twice-${sender}`), {
      user_phone: sender,
      chat_guid: sender,
    });
    const id = res.body.photo_id as string;
    await untilStatus(id, 'analyzed');
    const count = async () =>
      Number(
        (
          await query<{ n: string }>(
            db.url,
            `SELECT count(*) AS n FROM memories m JOIN users u ON u.id = m.user_id WHERE u.handle = $1`,
            [sender],
          )
        )[0].n,
      );
    expect(await count()).toBe(4);

    const rerun = async (jobId: string) => {
      await queue.add(JobName.PhotoAnalyze, { photoId: id }, { jobId });
      return waitUntil(
        async () => queue.getJob(jobId),
        (job) => job?.finishedOn !== undefined,
      );
    };
    // Already analysed: skipped without calling the model.
    const visionCalls = fake.chatRequests().length;
    const skipped = await rerun(`again-${id}`);
    expect(skipped?.returnvalue).toMatchObject({ status: 'skipped' });
    expect(fake.chatRequests().length).toBe(visionCalls);

    // Even a full second analysis (the row forced back) stores the same memories once.
    await query(db.url, `UPDATE photos SET status = 'processing' WHERE id = $1`, [id]);
    const redone = await rerun(`redo-${id}`);
    expect(redone?.returnvalue).toMatchObject({ status: 'analyzed', memories: 0 });
    expect(await count()).toBe(4);
  });

  it('a failing vision model is retried by BullMQ; the photo is analysed on a later attempt', async () => {
    // The LLM client's own retry (OPENAI_MAX_RETRIES=1) makes one attempt two requests.
    fake.fail({ status: 500, times: 2 });
    const sender = phone();
    const res = await relayUpload(jpeg(`retry-${sender}`), {
      user_phone: sender,
      chat_guid: sender,
    });
    const id = res.body.photo_id as string;
    expect(await untilStatus(id, 'analyzed')).toBe('analyzed');
    const job = await queue.getJob(`${JobName.PhotoAnalyze}-${id}`);
    expect(job?.attemptsMade).toBeGreaterThanOrEqual(2);
    expect(fake.chatRequests()).toHaveLength(3);
  });

  it('after the last attempt the photo is failed with the error; a rejected request fails at once', async () => {
    fake.fail({ status: 500, times: Infinity });
    const sender = phone();
    const chat = groupChat();
    const res = await relayUpload(jpeg(`fail-${sender}`), { user_phone: sender, chat_guid: chat });
    const id = res.body.photo_id as string;
    expect(res.body.status).toBe('stored');
    // A one-attempt job, so the test need not sit through five backoffs.
    await query(db.url, `UPDATE photos SET status = 'processing' WHERE id = $1`, [id]);
    await queue.add(JobName.PhotoAnalyze, { photoId: id }, { attempts: 1, jobId: `once-${id}` });
    expect(await untilStatus(id, 'failed')).toBe('failed');
    const photo = await getPhoto(id);
    expect(photo.body).toMatchObject({ status: 'failed', analysis: null });
    expect(photo.body.error).toMatch(/status 500/);

    fake.reset();
    fake.fail({ status: 400, times: Infinity });
    const rejected = await relayUpload(jpeg(`reject-${sender}`), {
      user_phone: sender,
      chat_guid: sender,
    });
    const rejectedId = rejected.body.photo_id as string;
    expect(await untilStatus(rejectedId, 'failed')).toBe('failed');
    const job = await queue.getJob(`${JobName.PhotoAnalyze}-${rejectedId}`);
    expect(job?.attemptsMade).toBe(1);
    expect(await visualMemories(rejectedId)).toEqual([]);
  });

  it('an answer without a usable summary is a failure; wrong types are dropped', async () => {
    const sender = phone();
    const bytes = jpeg(`types-${sender}`);
    analysisFor.set(
      dataUrl(bytes),
      'Sure! ```json\n{"summary": "A cat on a sofa", "activities": "napping", "people": [], ' +
        '"places": ["a living room", 42, ""], "preferences": ["likes cats",],}\n```',
    );
    const res = await relayUpload(bytes, { user_phone: sender, chat_guid: sender });
    const id = res.body.photo_id as string;
    await untilStatus(id, 'analyzed');
    expect((await getPhoto(id)).body.analysis).toEqual({
      summary: 'A cat on a sofa',
      activities: [],
      people: [],
      places: ['a living room'],
      preferences: ['likes cats'],
    });

    // No summary: the attempt fails (and is retried); after the last one the photo is failed.
    const empty = jpeg(`no-summary-${sender}`);
    analysisFor.set(dataUrl(empty), '{"summary": 7, "activities": ["napping"]}');
    const stored = await relayUpload(empty, { user_phone: sender, chat_guid: groupChat() });
    const emptyId = stored.body.photo_id as string;
    await query(db.url, `UPDATE photos SET status = 'processing' WHERE id = $1`, [emptyId]);
    await queue.add(
      JobName.PhotoAnalyze,
      { photoId: emptyId },
      { attempts: 1, jobId: `once-${emptyId}` },
    );
    expect(await untilStatus(emptyId, 'failed')).toBe('failed');
    expect((await getPhoto(emptyId)).body.error).toMatch(/without a usable summary/);
    expect(await visualMemories(emptyId)).toEqual([]);
  });

  it('edge_agent_id must match the authenticated agent (403); nothing stored', async () => {
    const before = await photoCount();
    const sender = phone();
    const token = edgeToken('agent-a', sender, EDGE_SECRET);
    const fields = {
      user_phone: sender,
      edge_agent_id: 'agent-b',
      chat_guid: sender,
      is_group: 'false',
    };
    const viaToken = await send('/photo/upload', edgeForm(jpeg(`403-${sender}`), fields), {
      authorization: `Bearer ${token}`,
    });
    expect(viaToken.status).toBe(403);
    const viaHeader = await send('/photo/upload', edgeForm(jpeg(`403h-${sender}`), fields), {
      authorization: `Bearer ${EDGE_SECRET}`,
      'x-edge-agent-id': 'agent-a',
    });
    expect(viaHeader.status).toBe(403);
    // The token's own agent id is accepted.
    const ok = await send(
      '/photo/upload',
      edgeForm(jpeg(`200-${sender}`), { ...fields, edge_agent_id: 'agent-a' }),
      { authorization: `Bearer ${token}` },
    );
    expect(ok.status).toBe(200);
    expect(await photoCount()).toBe(before + 1);
    expect(tempFiles()).toEqual([]);
  });

  it('400s name the field; 401 without credentials; nothing stored', async () => {
    const before = await photoCount();
    const sender = phone();
    const base = { user_phone: sender, edge_agent_id: 'agent-1', chat_guid: sender };
    const bad: [Record<string, string>, RegExp][] = [
      [{ ...base, user_phone: 'not-a-phone' }, /user_phone must be an E\.164/],
      [{ edge_agent_id: 'agent-1', chat_guid: sender }, /user_phone/],
      [{ ...base, chat_guid: '' }, /chat_guid/],
      [{ ...base, is_group: 'yes' }, /is_group/],
      [{ ...base, participants: '[not json' }, /participants must be a JSON array/],
      [{ ...base, context: '[1,2]' }, /context must be a JSON object/],
    ];
    for (const [fields, message] of bad) {
      const res = await edgeUpload(jpeg(`bad-${sender}`), fields, { 'x-edge-agent-id': 'agent-1' });
      expect(res.status).toBe(400);
      expect(String(res.body.message)).toMatch(message);
    }
    const noFile = new FormData();
    noFile.append('user_phone', sender);
    const params = new URLSearchParams({ user_phone: sender, chat_guid: sender });
    const missing = await send(`/photos/upload?${params}`, noFile, relay);
    expect(missing.status).toBe(400);
    expect(String(missing.body.message)).toMatch(/file is required/);
    const twoFiles = fileForm(jpeg(`two-a-${sender}`));
    twoFiles.append('file', new Blob([jpeg(`two-b-${sender}`)], { type: 'image/jpeg' }), 'b.jpg');
    const two = await send(`/photos/upload?${params}`, twoFiles, relay);
    expect(two.status).toBe(400);
    expect(String(two.body.message)).toMatch(/exactly one file/);
    const badQuery = await relayUpload(jpeg('q'), { user_phone: 'nope', chat_guid: sender });
    expect(badQuery.status).toBe(400);
    expect(String(badQuery.body.message)).toMatch(/user_phone/);
    const noAuth = await send(`/photos/upload?${params}`, fileForm(jpeg()), {});
    expect(noAuth.status).toBe(401);
    const noEdgeAuth = await send('/photo/upload', edgeForm(jpeg(), base), {});
    expect(noEdgeAuth.status).toBe(401);

    expect(await photoCount()).toBe(before);
    expect(tempFiles()).toEqual([]);
  });

  it('GET /photos/:id: 400 for a non-UUID, 404 for an unknown id, 401 without the bearer', async () => {
    const notUuid = await api.request('GET', '/photos/not-a-uuid', { headers: relay });
    expect(notUuid.status).toBe(400);
    expect(notUuid.body).toMatchObject({ message: 'id must be a UUID' });
    expect((await getPhoto(randomUUID())).status).toBe(404);
    expect((await api.request('GET', `/photos/${randomUUID()}`)).status).toBe(401);
  });

  it('admin delete removes the row, its memories and the file (once nothing else shares it)', async () => {
    const sender = phone();
    const bytes = jpeg(`delete-${sender}`);
    const first = await relayUpload(bytes, { user_phone: sender, chat_guid: sender });
    const second = await relayUpload(bytes, { user_phone: sender, chat_guid: groupChat() });
    const [id1, id2] = [first.body.photo_id as string, second.body.photo_id as string];
    await untilStatus(id1, 'analyzed');
    expect((await visualMemories(id1)).length).toBe(4);

    expect((await api.request('DELETE', `/admin/photos/${id1}`, { headers: relay })).status).toBe(
      401,
    );
    const del = await api.request('DELETE', `/admin/photos/${id1}`, { headers: admin });
    expect(del.status).toBe(204);
    expect((await getPhoto(id1)).status).toBe(404);
    expect(await visualMemories(id1)).toEqual([]);
    // The other photo still uses the bytes.
    expect(existsSync(storedFile(bytes))).toBe(true);

    expect((await api.request('DELETE', `/admin/photos/${id2}`, { headers: admin })).status).toBe(
      204,
    );
    expect(existsSync(storedFile(bytes))).toBe(false);
    expect((await api.request('DELETE', `/admin/photos/${id2}`, { headers: admin })).status).toBe(
      404,
    );
    expect((await api.request('DELETE', '/admin/photos/nope', { headers: admin })).status).toBe(
      400,
    );
  });

  it('deleteByUser ("forget me") removes their photos, memories and unshared files', async () => {
    const photos = api.app.get(PhotosService);
    const [a, b] = [phone(), phone()];
    const own = jpeg(`forget-own-${a}`);
    const shared = jpeg(`forget-shared-${a}`);
    const first = await relayUpload(own, { user_phone: a, chat_guid: a });
    await relayUpload(shared, { user_phone: a, chat_guid: a });
    const kept = await relayUpload(shared, { user_phone: b, chat_guid: b });
    await untilStatus(first.body.photo_id as string, 'analyzed');
    await untilStatus(kept.body.photo_id as string, 'analyzed');
    const [user] = await query<{ id: string }>(db.url, `SELECT id FROM users WHERE handle = $1`, [
      a,
    ]);

    expect(await photos.deleteByUser(user.id)).toBe(2);
    expect(
      await query(db.url, `SELECT id FROM photos WHERE owner_user_id = $1`, [user.id]),
    ).toEqual([]);
    expect(await visualMemories(first.body.photo_id as string)).toEqual([]);
    expect(existsSync(storedFile(own))).toBe(false);
    expect(existsSync(storedFile(shared))).toBe(true);
    expect((await getPhoto(kept.body.photo_id as string)).status).toBe(200);
  });

  it('every photo route is in Swagger with its auth scheme; uploads as multipart', async () => {
    type Operation = {
      security?: Record<string, string[]>[];
      requestBody?: { content: Record<string, unknown> };
    };
    const doc = await api.request<{ paths: Record<string, Record<string, Operation>> }>(
      'GET',
      '/docs-json',
    );
    const op = (path: string, method: string) => doc.body.paths[path]?.[method];
    const schemes = (o: Operation | undefined) => (o?.security ?? []).flatMap(Object.keys);
    expect(schemes(op('/photos/upload', 'post'))).toEqual(['relay-bearer']);
    expect(schemes(op('/photo/upload', 'post'))).toEqual(['edge-token']);
    expect(schemes(op('/photos/{id}', 'get'))).toEqual(['relay-bearer']);
    expect(schemes(op('/admin/photos/{id}', 'delete'))).toEqual(['admin']);
    for (const path of ['/photos/upload', '/photo/upload']) {
      expect(Object.keys(op(path, 'post')?.requestBody?.content ?? {})).toEqual([
        'multipart/form-data',
      ]);
    }
  });

  it('analysisNotes waits for the analysis and returns the summary and items', async () => {
    const photos = api.app.get(PhotosService);
    const sender = phone();
    const bytes = jpeg(`notes-${sender}`);
    fake.respondWith((body) =>
      isVision(body)
        ? {
            content: JSON.stringify({ ...HIKE, summary: 'Two friends at a ramen bar.' }),
            delayMs: 600,
          }
        : undefined,
    );
    const res = await relayUpload(bytes, { user_phone: sender, chat_guid: sender });
    const id = res.body.photo_id as string;

    // Too short a wait: nothing yet.
    expect(await photos.analysisNotes([id], 50)).toEqual([]);
    const started = Date.now();
    const notes = await photos.analysisNotes([id, 'not-a-uuid', randomUUID()], 10_000);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(notes).toHaveLength(1);
    expect(notes[0]).toContain('Two friends at a ramen bar.');
    expect(notes[0]).toContain('hiking');
    // Scoped to another chat, the photo is not visible.
    expect(await photos.analysisNotes([id], 0, { chatGuid: 'chat-other' })).toEqual([]);
    expect(await photos.analysisNotes([], 1000)).toEqual([]);
  });

  it('analysisNotes analyses a stored group photo the assistant is asked about', async () => {
    const photos = api.app.get(PhotosService);
    const sender = phone();
    const chat = groupChat();
    const res = await relayUpload(jpeg(`stored-notes-${sender}`), {
      user_phone: sender,
      chat_guid: chat,
      caption: 'no mention here',
    });
    expect(res.body.status).toBe('stored');
    const notes = await photos.analysisNotes([res.body.photo_id as string], 10_000);
    expect(notes).toEqual([expect.stringContaining(HIKE.summary)]);
  });
});
