import { ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Client } from 'pg';
import {
  FakeChatBody,
  FakeOpenAI,
  startFakeOpenAI,
} from '../../test/fake-openai/fake-openai.server';
import { cleanups, createBenchDatabase, fmt, intEnv, percentile, runBench, sleep } from '../common';
import { clearRedisPrefix } from '../../test/helpers/redis-prefix';

/**
 * `npm run bench:photos`: BENCH_UPLOADS (200) distinct JPEGs of BENCH_PHOTO_BYTES (1 MiB) sent
 * to `POST /photo/upload` exactly as the edge client sends them (multipart, file first, then the
 * text parts), BENCH_CONCURRENCY (8) at a time, against the production API (APP_ROLE=api) and one
 * worker process (APP_ROLE=worker), both children of this process, on real Postgres and Redis;
 * the fake OpenAI server (in this process) plays the vision model, answering after
 * BENCH_VISION_DELAY_MS (0).
 *
 * Prints uploads/s and the upload latency, then the upload→analysed latency (from the moment the
 * upload started to the photo's `analyzed_at`) p50/p95. Exit 0 whatever the figures; 1 when the
 * run failed (start-up, a non-200 upload, a photo not analysed within BENCH_TIMEOUT_S (300)).
 * DATABASE_URL names the server the bench database is created on; REDIS_URL the Redis.
 */

const UPLOADS = intEnv('BENCH_UPLOADS', 200, 1);
const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 8, 1);
const PHOTO_BYTES = intEnv('BENCH_PHOTO_BYTES', 1024 * 1024, 64);
const VISION_DELAY_MS = intEnv('BENCH_VISION_DELAY_MS', 0, 0);
const TIMEOUT_S = intEnv('BENCH_TIMEOUT_S', 300, 1);
const SENDERS = 20;

const EDGE_SECRET = 'bench-edge-secret-0123456789abcdef';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const AGENT_ID = 'bench-agent';

// ---------------------------------------------------------------------------------------------
// Photos: one 1 MiB JPEG-by-its-header template; every upload stamps its own bytes into it.

function jpegTemplate(bytes: number): Buffer {
  const photo = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) photo[i] = (i * 31 + 7) & 0xff;
  Buffer.from([0xff, 0xd8, 0xff, 0xe0, 0x00, 0x10, 0x4a, 0x46, 0x49, 0x46, 0x00]).copy(photo, 0);
  photo[bytes - 2] = 0xff;
  photo[bytes - 1] = 0xd9;
  return photo;
}

function photoBytes(template: Buffer, n: number): Buffer {
  const photo = Buffer.from(template);
  photo.write(`bench-photo-${process.pid}-${n}`.padEnd(48, '.'), 16, 'latin1');
  return photo;
}

function senderOf(n: number): string {
  return `+1555${String(8_000_000 + (n % SENDERS)).padStart(7, '0')}`;
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down (the same habits as bench/orchestrator).

let stopping = false;

function startChild(
  role: 'api' | 'worker',
  env: NodeJS.ProcessEnv,
): Promise<{
  child: ChildProcess;
  port?: number;
}> {
  const child = fork(join(__dirname, 'child.js'), [role], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push({ name: `stop the ${role}`, run: () => stopChild(child) });
  child.once('exit', (code, signal) => {
    if (!stopping) process.stderr.write(`the ${role} exited (code ${code}, signal ${signal})\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the ${role} did not start in 120 s`)),
      120_000,
    );
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the ${role} exited during start-up (code ${code})`));
    });
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'listening' && message.type !== 'ready') return;
      clearTimeout(timer);
      resolve({ child, port: message.port });
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  stopping = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// The run.

interface Sent {
  n: number;
  id: string;
  /** Epoch ms when the upload request started and when its answer arrived. */
  startedAt: number;
  answeredAt: number;
}

async function upload(baseUrl: string, template: Buffer, n: number): Promise<Sent> {
  const sender = senderOf(n);
  const form = new FormData();
  form.append('file', new Blob([photoBytes(template, n)], { type: 'image/jpeg' }), `AT-${n}.jpg`);
  form.append('user_phone', sender);
  form.append('edge_agent_id', AGENT_ID);
  form.append('attachment_guid', `AT-${process.pid}-${n}`);
  form.append('chat_guid', sender);
  form.append('is_group', 'false');
  form.append('caption', '\uFFFCbench photo');
  const startedAt = Date.now();
  const response = await fetch(`${baseUrl}/photo/upload`, {
    method: 'POST',
    body: form,
    headers: { authorization: `Bearer ${EDGE_SECRET}`, 'x-edge-agent-id': AGENT_ID },
  });
  const text = await response.text();
  const answeredAt = Date.now();
  if (response.status !== 200)
    throw new Error(`upload ${n}: ${response.status} ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { photo_id?: string; status?: string };
  if (!body.photo_id || body.status !== 'processing') {
    throw new Error(`upload ${n}: unexpected answer ${text.slice(0, 300)}`);
  }
  return { n, id: body.photo_id, startedAt, answeredAt };
}

async function waitAnalysed(
  databaseUrl: string,
  ids: string[],
  timeoutMs: number,
): Promise<Map<string, { status: string; analyzedAt: number | null; error: string | null }>> {
  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const { rows } = await client.query<{
        id: string;
        status: string;
        analyzed_at: Date | null;
        error: string | null;
      }>(`SELECT id, status, analyzed_at, error FROM photos WHERE id = ANY($1::uuid[])`, [ids]);
      const open = rows.filter((r) => r.status === 'processing' || r.status === 'stored').length;
      if ((open === 0 && rows.length === ids.length) || Date.now() > deadline) {
        return new Map(
          rows.map((r) => [
            r.id,
            { status: r.status, analyzedAt: r.analyzed_at?.getTime() ?? null, error: r.error },
          ]),
        );
      }
      await sleep(100);
    }
  } finally {
    await client.end();
  }
}

async function main(): Promise<boolean> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `bench-photos-${process.pid}`;
  const log = (line: string) => process.stdout.write(`${line}\n`);
  log(
    `bench:photos — ${UPLOADS} uploads of ${fmt(PHOTO_BYTES / 1024)} KiB JPEGs to POST /photo/upload ` +
      `(edge multipart), ${CONCURRENCY} at a time; API and one worker (concurrency 4) as child ` +
      `processes; fake vision model answering after ${VISION_DELAY_MS} ms`,
  );
  log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);

  const { url: databaseUrl } = await createBenchDatabase('photos');
  const dataDir = mkdtempSync(join(tmpdir(), 'archety-bench-photos-'));
  const storageDir = join(dataDir, 'photos');
  cleanups.push({ name: 'remove data dir', run: async () => rmSync(dataDir, { recursive: true }) });
  cleanups.push({ name: 'clear Redis keys', run: () => clearRedisPrefix(redisPrefix, redisUrl) });

  const fake: FakeOpenAI = await startFakeOpenAI({ defaultDelayMs: VISION_DELAY_MS });
  cleanups.push({ name: 'stop fake OpenAI', run: () => fake.close() });
  let visionCalls = 0;
  let imageBytesSeen = 0;
  fake.respondWith((body: FakeChatBody) => {
    const image = (body.messages ?? [])
      .flatMap((m) => (Array.isArray(m.content) ? m.content : []))
      .find((p) => p.type === 'image_url');
    if (!image) return undefined;
    visionCalls++;
    imageBytesSeen += image.image_url?.url.length ?? 0;
    return {
      content: JSON.stringify({
        summary: `A photo of a trail (${visionCalls}).`,
        activities: ['hiking', `trail run ${visionCalls % 7}`],
        people: ['a friend'],
        places: ['a mountain trail'],
        preferences: ['likes the outdoors'],
      }),
    };
  });
  // The fake logs every request (each carries a 1.4 MB data URL): drain it as we go.
  const drain = setInterval(() => (fake.requests.length = 0), 500);
  cleanups.push({ name: 'stop draining', run: async () => clearInterval(drain) });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    DB_MIGRATIONS_RUN: 'true',
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET,
    EDGE_SECRET,
    RELAY_WEBHOOK_SECRET: EDGE_SECRET,
    OPENAI_API_KEY: 'sk-bench-not-a-real-key',
    OPENAI_BASE_URL: fake.url,
    PHOTO_STORAGE_DIR: storageDir,
    LOG_LEVEL: 'warn',
  };
  const api = await startChild('api', { ...env, APP_ROLE: 'api' });
  const baseUrl = `http://127.0.0.1:${api.port}`;
  await startChild('worker', { ...env, APP_ROLE: 'worker' });
  log(`API pid ${api.child.pid} on ${baseUrl}; worker started; storage ${storageDir}`);

  const template = jpegTemplate(PHOTO_BYTES);
  // One smoke upload, analysed end to end, before anything is measured.
  const smoke = await upload(baseUrl, template, -1);
  const smokeDone = await waitAnalysed(databaseUrl, [smoke.id], 30_000);
  if (smokeDone.get(smoke.id)?.status !== 'analyzed') {
    throw new Error(`smoke upload not analysed: ${JSON.stringify(smokeDone.get(smoke.id))}`);
  }

  const sent: Sent[] = [];
  let next = 0;
  const phaseStart = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(CONCURRENCY, UPLOADS) }, async () => {
      while (next < UPLOADS) sent.push(await upload(baseUrl, template, next++));
    }),
  );
  const uploadSeconds = (performance.now() - phaseStart) / 1000;
  log(`uploads done in ${fmt(uploadSeconds, 2)} s; waiting for the analyses…`);

  const finished = await waitAnalysed(
    databaseUrl,
    sent.map((s) => s.id),
    TIMEOUT_S * 1000,
  );
  const allDoneSeconds = (performance.now() - phaseStart) / 1000;

  const uploadMs = sent.map((s) => s.answeredAt - s.startedAt).sort((a, b) => a - b);
  const analysedMs: number[] = [];
  const problems: string[] = [];
  for (const s of sent) {
    const row = finished.get(s.id);
    if (row?.status === 'analyzed' && row.analyzedAt !== null) {
      analysedMs.push(row.analyzedAt - s.startedAt);
    } else {
      problems.push(`${s.id}: ${row?.status ?? 'missing'}${row?.error ? ` (${row.error})` : ''}`);
    }
  }
  analysedMs.sort((a, b) => a - b);

  const client = new Client({ connectionString: databaseUrl });
  await client.connect();
  const counts = await client
    .query<{ memories: string; usage: string }>(
      `SELECT (SELECT count(*) FROM memories WHERE source = 'photo') AS memories,
              (SELECT count(*) FROM llm_usage WHERE purpose = 'photo-analysis') AS usage`,
    )
    .then((r) => r.rows[0])
    .finally(() => client.end());
  const shards = readdirSync(storageDir).filter((d) => /^[0-9a-f]{2}$/.test(d));
  let files = 0;
  let storedBytes = 0;
  for (const shard of shards) {
    for (const file of readdirSync(join(storageDir, shard))) {
      files++;
      storedBytes += statSync(join(storageDir, shard, file)).size;
    }
  }
  const tempLeft = readdirSync(join(storageDir, '.tmp')).length;

  const out: string[] = ['', 'Results', ''];
  out.push(
    `  uploads:                 ${UPLOADS} × ${fmt(PHOTO_BYTES / 1024)} KiB, ${CONCURRENCY} in flight`,
  );
  out.push(
    `  uploads/s:               ${fmt(UPLOADS / uploadSeconds, 1)}   (${fmt((UPLOADS * PHOTO_BYTES) / 1048576 / uploadSeconds, 1)} MiB/s)`,
  );
  out.push(
    `  upload latency:          p50 ${fmt(percentile(uploadMs, 50))} ms, p95 ${fmt(percentile(uploadMs, 95))} ms, max ${fmt(uploadMs.at(-1))} ms`,
  );
  out.push(
    `  upload→analysed:         p50 ${fmt(percentile(analysedMs, 50))} ms, p95 ${fmt(percentile(analysedMs, 95))} ms, max ${fmt(analysedMs.at(-1))} ms`,
  );
  out.push(
    `  all analysed after:      ${fmt(allDoneSeconds, 2)} s (${fmt(analysedMs.length / allDoneSeconds, 1)} analyses/s)`,
  );
  out.push(
    `  vision calls:            ${visionCalls} (smoke included), ${fmt(imageBytesSeen / 1048576, 0)} MiB of data URLs`,
  );
  out.push(`  photo memories / usage:  ${counts.memories} / ${counts.usage}`);
  out.push(
    `  files stored:            ${files} (${fmt(storedBytes / 1048576, 1)} MiB); temp files left: ${tempLeft}`,
  );
  if (problems.length) {
    out.push('', `FAILED RUN: ${problems.length} photos not analysed`);
    for (const p of problems.slice(0, 5)) out.push(`  ${p}`);
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return problems.length === 0 && tempLeft === 0;
}

runBench('bench:photos', main, () => (stopping = true));
