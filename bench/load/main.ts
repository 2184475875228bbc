import { ChildProcess, fork, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Client } from 'pg';
import { QueueName } from '../../src/core/queue/queue.constants';
import { cpuBetween, cpuSnapshot, rssKiB } from './procfs';
import {
  cleanups,
  createBenchDatabase,
  fmt,
  intEnv,
  percentile,
  runBench,
  sleep,
  table,
} from '../common';
import { clearRedisPrefix } from '../../test/helpers/redis-prefix';

/**
 * `npm run bench:load`: the scale-out shape under a steady load. Two API processes
 * (`node src/main.js`, APP_ROLE=api, one port each) and two worker processes (`node src/worker.js`,
 * APP_ROLE=worker, the queues split in two groups) on real Postgres and Redis, with the fake
 * OpenAI server (its own process) answering every call after BENCH_LLM_DELAY_MS (300).
 *
 * An open-loop generator sends BENCH_RATE (200) `POST /orchestrator/message` per second in total,
 * alternating over the two APIs, from BENCH_SENDERS (1,000) distinct senders, every request signed
 * (Relay Bearer + HMAC, HMAC_MODE=required) with a unique message GUID and text; 1 in 50 asks for
 * a reminder (a `schedule_message` tool call: two LLM rounds, and work for the scheduled-messages
 * worker). Sends follow a fixed clock whatever is outstanding, and latency is measured from the
 * scheduled send time, so a stall shows up in the figures instead of slowing the sender down
 * (no coordinated omission). BENCH_WARMUP_S (15) of the same load come first and are not counted.
 *
 * Prints the achieved rate, p50/p95/p99 latency, errors, the queues at the end of the load
 * (waiting, active, delayed, age of the oldest waiting job), how long they took to drain, the
 * enqueue → finished lag of the jobs, and the RSS of every process after the warm-up and at the
 * end. Exits 1 when a bound is missed: an error (non-2xx, transport error, unexpected body, a
 * failed job), a process that died, an achieved rate below 95 % of the target, an API or worker
 * whose RSS grew by more than 20 % (the peak of the measured phase's second half against its
 * first: V8's heap saws up and down by a third between collections, so two point samples could
 * say anything), or a backlog that did not drain within BENCH_DRAIN_TIMEOUT_S (180).
 *
 * DATABASE_URL names the Postgres server the bench database is created on (and dropped from);
 * REDIS_URL the Redis, where every key is under a prefix of this run's own and removed at the end.
 */

const RATE = intEnv('BENCH_RATE', 200, 1);
const DURATION_S = intEnv('BENCH_DURATION_S', 60, 1);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 15, 0);
const SENDERS = intEnv('BENCH_SENDERS', 1000, 1);
const LLM_DELAY_MS = intEnv('BENCH_LLM_DELAY_MS', 300, 0);
const DRAIN_TIMEOUT_S = intEnv('BENCH_DRAIN_TIMEOUT_S', 180, 1);
const REQUEST_TIMEOUT_MS = 30_000;
/** 1 message in this many asks for a reminder. */
const REMINDER_EVERY = 50;

const API_COUNT = 2;
const WORKERS = [
  { name: 'worker-1', queues: [QueueName.MemoryExtraction] },
  { name: 'worker-2', queues: [QueueName.ScheduledMessages, QueueName.PhotoAnalysis] },
];

const MIN_RATE_SHARE = 0.95;
const MAX_RSS_GROWTH = 0.2;

const RELAY_SECRET = 'bench-load-relay-secret-0123456789abcdef';
const EDGE_SECRET = 'bench-load-edge-secret-0123456789abcdef';
const JWT_SECRET = 'bench-load-jwt-secret-0123456789abcdef0123456789';

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down (the habits of the other benches).

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

interface AppProcess {
  name: string;
  child: ChildProcess;
  pid: number;
  logFile: string;
  /** Set when the process exited while it was not being stopped. */
  died?: string;
}

let stopping = false;

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

/** The production entrypoint (`node src/main.js` / `src/worker.js`), its output to a log file. */
function spawnApp(name: string, entry: string, env: NodeJS.ProcessEnv, dataDir: string) {
  const logFile = join(dataDir, `${name}.log`);
  const fd = openSync(logFile, 'a');
  // BENCH_CPU_PROFILE=<dir>: a V8 CPU profile of every app process, written when it exits.
  const profile = process.env.BENCH_CPU_PROFILE
    ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROFILE]
    : [];
  const child = spawn(process.execPath, [...profile, join(__dirname, '..', '..', 'src', entry)], {
    env,
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const app: AppProcess = { name, child, pid: child.pid!, logFile };
  child.once('exit', (code, signal) => {
    if (!stopping) app.died = `exited (code ${code}, signal ${signal})`;
  });
  cleanups.push({ name: `stop ${name}`, run: () => stopChild(child) });
  return app;
}

async function waitFor(what: string, timeoutMs: number, ready: () => Promise<boolean>) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await ready().catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`${what} not ready within ${timeoutMs / 1000} s`);
    await sleep(250);
  }
}

async function healthy(baseUrl: string): Promise<boolean> {
  const response = await fetch(`${baseUrl}/health`);
  await response.text();
  return response.status === 200;
}

function forkFakeLlm(): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(__dirname, 'fake-llm.js'), [String(LLM_DELAY_MS)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push({ name: 'stop the fake LLM', run: () => stopChild(child) });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake LLM did not start in 30 s')), 30_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the fake LLM exited during start-up (code ${code})`));
    });
    child.on('message', (message: { type?: string; url?: string }) => {
      if (message.type !== 'listening' || !message.url) return;
      clearTimeout(timer);
      resolve({ child, url: message.url });
    });
  });
}

interface LlmStats {
  replies: number;
  toolRounds: number;
  extractions: number;
  other: number;
}

function llmStats(child: ChildProcess): Promise<LlmStats> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the fake LLM did not answer')), 10_000);
    const onMessage = (message: { type?: string } & LlmStats) => {
      if (message.type !== 'stats') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send({ type: 'stats' });
  });
}

// ---------------------------------------------------------------------------------------------
// The load: open loop, a fixed clock.

function senderOf(n: number): string {
  return `+1555${String(3_000_000 + (n % SENDERS)).padStart(7, '0')}`;
}

const runId = `${process.pid}-${Date.now().toString(36)}`;

function bodyOf(n: number): string {
  const sender = senderOf(n);
  const text =
    n % REMINDER_EVERY === 7
      ? `Could you remind me in a bit to stretch? (${n})`
      : `Message ${n}: today I went for a walk and thought about dinner plans.`;
  return JSON.stringify({
    chat_guid: `iMessage;-;${sender}`,
    mode: 'direct',
    sender,
    text,
    timestamp: Math.floor(Date.now() / 1000),
    participants: [sender],
    message_guid: `load-${runId}-${n}`,
  });
}

interface Sample {
  status: number;
  body: string;
}

class OpenLoop {
  readonly total: number;
  readonly intervalMs = 1000 / RATE;
  /** Per request, ms from its scheduled time: when it was sent, and when its answer ended. */
  readonly sendLag: Float64Array;
  readonly latency: Float64Array;
  readonly answeredAt: Float64Array;
  readonly status: Int16Array;
  readonly problems: Sample[] = [];
  readonly reminderOk: Uint8Array;
  errors = 0;
  completed = 0;
  t0 = 0;
  private next = 0;
  private readonly agents: Agent[];
  private allDone!: () => void;
  readonly done = new Promise<void>((resolve) => (this.allDone = resolve));

  constructor(
    private readonly ports: number[],
    seconds: number,
  ) {
    this.total = Math.round(seconds * RATE);
    this.sendLag = new Float64Array(this.total).fill(NaN);
    this.latency = new Float64Array(this.total).fill(NaN);
    this.answeredAt = new Float64Array(this.total).fill(NaN);
    this.status = new Int16Array(this.total);
    this.reminderOk = new Uint8Array(this.total);
    // Keep-alive, like a relay's HTTP client; enough sockets that none is ever waited for.
    this.agents = ports.map(() => new Agent({ keepAlive: true, maxSockets: 2048 }));
  }

  start(): void {
    this.t0 = performance.now();
    this.pump();
  }

  scheduledAt(n: number): number {
    return this.t0 + n * this.intervalMs;
  }

  close(): void {
    for (const agent of this.agents) agent.destroy();
  }

  private pump = (): void => {
    const now = performance.now();
    while (this.next < this.total && this.scheduledAt(this.next) <= now) this.send(this.next++);
    if (this.next < this.total) {
      setTimeout(this.pump, Math.max(0, this.scheduledAt(this.next) - performance.now()));
    }
  };

  private send(n: number): void {
    const scheduled = this.scheduledAt(n);
    // Alternate the APIs, shifted every round of senders so each sender reaches both.
    const api = (n + Math.floor(n / SENDERS)) % this.ports.length;
    const body = bodyOf(n);
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = createHmac('sha256', RELAY_SECRET)
      .update(timestamp)
      .update(body)
      .digest('hex');
    const req = httpRequest(
      {
        host: '127.0.0.1',
        port: this.ports[api],
        path: '/orchestrator/message',
        method: 'POST',
        agent: this.agents[api],
        timeout: REQUEST_TIMEOUT_MS,
        headers: {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
          authorization: `Bearer ${RELAY_SECRET}`,
          'x-timestamp': timestamp,
          'x-signature': signature,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => this.finish(n, res.statusCode ?? 0, Buffer.concat(chunks).toString()));
        res.on('error', (err) => this.fail(n, err));
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer in ${REQUEST_TIMEOUT_MS} ms`)));
    req.on('error', (err) => this.fail(n, err));
    req.end(body);
    this.sendLag[n] = performance.now() - scheduled;
  }

  private finish(n: number, status: number, text: string): void {
    const now = performance.now();
    this.status[n] = status;
    this.latency[n] = now - this.scheduledAt(n);
    this.answeredAt[n] = now;
    let ok = status === 200;
    if (ok) {
      try {
        const body = JSON.parse(text) as {
          should_respond?: boolean;
          reply_text?: unknown;
          schedule_message?: unknown;
        };
        ok = body.should_respond === true && typeof body.reply_text === 'string';
        if (n % REMINDER_EVERY === 7) this.reminderOk[n] = body.schedule_message ? 1 : 0;
      } catch {
        ok = false;
      }
    }
    if (!ok) this.problem(n, { status, body: text.slice(0, 300) });
    this.settle();
  }

  private fail(n: number, err: Error): void {
    if (!Number.isNaN(this.answeredAt[n])) return;
    this.answeredAt[n] = performance.now();
    this.status[n] = -1;
    this.problem(n, { status: -1, body: err.message });
    this.settle();
  }

  private problem(_n: number, sample: Sample): void {
    this.errors++;
    if (this.problems.length < 5) this.problems.push(sample);
  }

  private settle(): void {
    if (++this.completed === this.total) this.allDone();
  }
}

// ---------------------------------------------------------------------------------------------
// Queues, read the way BullMQ itself reads them.

interface QueueView {
  name: QueueName;
  waiting: number;
  active: number;
  delayed: number;
  failed: number;
  oldestWaitingS: number | undefined;
}

async function queueViews(queues: Queue[]): Promise<QueueView[]> {
  return Promise.all(
    queues.map(async (queue) => {
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      const [oldest] = await queue.getJobs(['waiting'], 0, 0, true);
      return {
        name: queue.name as QueueName,
        waiting: counts.waiting,
        active: counts.active,
        delayed: counts.delayed,
        failed: counts.failed,
        oldestWaitingS: oldest ? (Date.now() - oldest.timestamp) / 1000 : undefined,
      };
    }),
  );
}

/** Enqueue → finished, in seconds, of up to `sample` of a queue's most recent completed jobs. */
async function jobLag(queue: Queue, sample: number): Promise<number[]> {
  const jobs = await queue.getJobs(['completed'], 0, sample - 1, false);
  return (
    jobs
      // The once-a-minute sweep is a repeatable job: its "lag" is its schedule.
      .filter((j) => j.finishedOn && j.timestamp && !j.repeatJobKey)
      .map((j) => (j.finishedOn! - j.timestamp - (j.delay ?? 0)) / 1000)
      .sort((a, b) => a - b)
  );
}

// ---------------------------------------------------------------------------------------------

interface Rss {
  name: string;
  pid: number;
  bounded: boolean;
  start?: number;
  end?: number;
  /** KiB, once a second through the measured phase: the peak of each half. */
  firstHalfPeak: number;
  secondHalfPeak: number;
}

async function main(): Promise<boolean> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `bench-load-${process.pid}`;
  const out = (...lines: string[]) =>
    process.stdout.write(`${(lines.length ? lines : ['']).join('\n')}\n`);
  out(
    `bench:load — ${API_COUNT} APIs + ${WORKERS.length} workers; ${RATE} messages/s in total ` +
      `(open loop) for ${DURATION_S} s after ${WARMUP_S} s of warm-up, from ${fmt(SENDERS)} senders; ` +
      `fake LLM answering after ${LLM_DELAY_MS} ms; 1 in ${REMINDER_EVERY} messages asks for a reminder`,
  );
  out(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);

  const idle = cpuSnapshot([]);
  await sleep(2000);
  const baseline = cpuBetween(idle, cpuSnapshot([])).machine;
  out(
    `machine busy before start: ${fmt(baseline)} % of ${cpus().length * 100} %` +
      (baseline !== undefined && baseline > 20 ? ' (something else is running)' : ''),
  );

  const { url: databaseUrl } = await createBenchDatabase('load');
  const dataDir = mkdtempSync(join(tmpdir(), 'archety-bench-load-'));
  cleanups.push({
    name: 'remove data dir',
    run: async () => {
      if (process.env.BENCH_KEEP_LOGS) out(`logs kept in ${dataDir}`);
      else rmSync(dataDir, { recursive: true, force: true });
    },
  });
  cleanups.push({ name: 'clear Redis keys', run: () => clearRedisPrefix(redisPrefix, redisUrl) });

  const fake = await forkFakeLlm();

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'production',
    DATA_DIR: dataDir,
    // Shared by every process, as a shared volume would be in a deployment.
    PHOTO_STORAGE_DIR: join(dataDir, 'photos'),
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET,
    RELAY_WEBHOOK_SECRET: RELAY_SECRET,
    EDGE_SECRET,
    HMAC_MODE: 'required',
    OPENAI_API_KEY: 'sk-bench-not-a-real-key',
    OPENAI_BASE_URL: fake.url,
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'info',
  };
  delete env.WORKER_QUEUES;
  delete env.PORT;

  const started = performance.now();
  const ports = await Promise.all(Array.from({ length: API_COUNT }, () => freePort()));
  // Started together: they contend for the migrations' advisory lock, as a deploy's would.
  const apis = ports.map((port, i) =>
    spawnApp(`api-${i + 1}`, 'main.js', { ...env, APP_ROLE: 'api', PORT: String(port) }, dataDir),
  );
  const apps: AppProcess[] = [...apis];
  const dead = () => apps.filter((a) => a.died);
  await Promise.all(
    ports.map((port, i) =>
      waitFor(`api-${i + 1}`, 120_000, async () => {
        if (apis[i].died) throw new Error(`api-${i + 1} ${apis[i].died}; see ${apis[i].logFile}`);
        return healthy(`http://127.0.0.1:${port}`);
      }),
    ),
  );

  // Workers never migrate: like compose's `migrate` service, the APIs have run the migrations
  // before any worker starts.
  const workers = WORKERS.map((w) =>
    spawnApp(
      w.name,
      'worker.js',
      { ...env, APP_ROLE: 'worker', WORKER_QUEUES: w.queues.join(',') },
      dataDir,
    ),
  );
  apps.push(...workers);

  const bull = new URL(redisUrl);
  const connection = {
    host: bull.hostname,
    port: Number(bull.port || 6379),
    password: bull.password ? decodeURIComponent(bull.password) : undefined,
    db: bull.pathname.length > 1 ? Number(bull.pathname.slice(1)) : 0,
  };
  const queues = Object.values(QueueName).map(
    (name) => new Queue(name, { connection, prefix: `${redisPrefix}:bull` }),
  );
  cleanups.push({
    name: 'close queue clients',
    run: async () => void (await Promise.all(queues.map((q) => q.close()))),
  });
  const byName = new Map(queues.map((q) => [q.name, q]));
  for (const w of WORKERS) {
    for (const name of w.queues) {
      await waitFor(`${w.name} on ${name}`, 120_000, async () => {
        const gone = dead();
        if (gone.length) throw new Error(`${gone[0].name} ${gone[0].died}`);
        return (await byName.get(name)!.getWorkersCount()) >= 1;
      });
    }
  }
  out(
    `started in ${fmt((performance.now() - started) / 1000, 1)} s: ` +
      apps.map((a) => `${a.name} pid ${a.pid}`).join(', ') +
      `; APIs on ports ${ports.join(', ')}`,
  );
  for (const w of WORKERS) out(`  ${w.name}: WORKER_QUEUES=${w.queues.join(',')}`);

  const load = new OpenLoop(ports, WARMUP_S + DURATION_S);
  cleanups.push({ name: 'close HTTP agents', run: async () => load.close() });
  const firstMeasured = WARMUP_S * RATE;
  const rss: Rss[] = [
    ...apps.map((a) => ({ name: a.name, pid: a.pid, bounded: true })),
    { name: 'fake LLM', pid: fake.child.pid!, bounded: false },
    { name: 'load generator', pid: process.pid, bounded: false },
  ].map((r) => ({ ...r, firstHalfPeak: 0, secondHalfPeak: 0 }));
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push({ name: 'close the database client', run: () => db.end() });
  // This run's own Postgres backends (the pools are open by now and keep their connections);
  // the machine's other postgres processes serve other people's databases too.
  const backends = async () =>
    (
      await db.query<{ pid: number }>(
        `SELECT pid FROM pg_stat_activity
         WHERE datname = current_database() AND pid <> pg_backend_pid()`,
      )
    ).rows.map((r) => r.pid);

  out(`warming up ${WARMUP_S} s, then measuring ${DURATION_S} s…`);
  load.start();
  const measuredFrom = load.scheduledAt(firstMeasured);
  await sleep(Math.max(0, measuredFrom - performance.now()));
  for (const r of rss) r.start = rssKiB(r.pid);
  const ownBackends = await backends();
  const pids = [...rss.map((r) => r.pid), ...ownBackends];
  const cpuStart = cpuSnapshot(pids);
  const llmAtStart = await llmStats(fake.child);
  // A point sample lands anywhere on V8's heap sawtooth (±30 % between collections here), so
  // growth is judged on the peak of each half of the measured phase: a leak lifts the second.
  const sampler = setInterval(() => {
    const secondHalf = performance.now() - measuredFrom > (DURATION_S * 1000) / 2;
    for (const r of rss) {
      const kib = rssKiB(r.pid) ?? 0;
      if (secondHalf) r.secondHalfPeak = Math.max(r.secondHalfPeak, kib);
      else r.firstHalfPeak = Math.max(r.firstHalfPeak, kib);
    }
  }, 1000);
  const progress = setInterval(() => {
    const secs = (performance.now() - measuredFrom) / 1000;
    if (secs > 0 && secs < DURATION_S) {
      const sizes = apps.map((a) => `${a.name} ${fmt((rssKiB(a.pid) ?? NaN) / 1024)}`).join(', ');
      out(
        `  ${fmt(secs)} s: ${fmt(load.completed)} answered, ${load.errors} errors; RSS MiB ${sizes}`,
      );
    }
  }, 10_000);
  await load.done;
  clearInterval(progress);
  clearInterval(sampler);
  const loadEnded = performance.now();
  for (const r of rss) r.end = rssKiB(r.pid);
  const cpu = cpuBetween(cpuStart, cpuSnapshot(pids));
  const ownPostgres = ownBackends.reduce((sum, pid) => sum + (cpu.pids.get(pid) ?? 0), 0);
  const llmAtEnd = await llmStats(fake.child);
  const atEnd = await queueViews(queues);

  // Drain: the ready work (waiting + active) done, and every reminder due handled.
  let drainedAfterS: number | undefined;
  const drainDeadline = Date.now() + DRAIN_TIMEOUT_S * 1000;
  for (;;) {
    const views = await queueViews(queues);
    const backlog = views.reduce((sum, v) => sum + v.waiting + v.active, 0);
    const [{ due }] = (
      await db.query<{ due: string }>(
        `SELECT count(*) AS due FROM scheduled_messages
         WHERE status = 'scheduled' AND send_at < now() - interval '2 seconds'`,
      )
    ).rows;
    if (backlog === 0 && Number(due) === 0) {
      drainedAfterS = (performance.now() - loadEnded) / 1000;
      break;
    }
    if (Date.now() > drainDeadline || dead().length) break;
    await sleep(250);
  }
  const lags = await Promise.all(queues.map((q) => jobLag(q, 2000)));
  const afterDrain = await queueViews(queues);

  const counts = (
    await db.query<Record<string, string>>(
      `SELECT (SELECT count(*) FROM messages WHERE direction = 'inbound') AS inbound,
              (SELECT count(*) FROM messages WHERE direction = 'outbound') AS outbound,
              (SELECT count(*) FROM users) AS users,
              (SELECT count(*) FROM memories) AS memories,
              (SELECT count(*) FROM llm_usage WHERE purpose = 'memory-extraction') AS extractions`,
    )
  ).rows[0];
  const reminders = (
    await db.query<{ status: string; n: string; p50: number | null; max: number | null }>(
      `SELECT status, count(*) AS n,
              percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM updated_at - send_at)) AS p50,
              max(extract(epoch FROM updated_at - send_at)) AS max
       FROM scheduled_messages GROUP BY status ORDER BY status`,
    )
  ).rows;

  // ---- figures ---------------------------------------------------------------------------
  const measured = { ok: 0, errors: 0, lastAnswer: 0 };
  const latencies: number[] = [];
  const sendLags: number[] = [];
  for (let n = firstMeasured; n < load.total; n++) {
    if (load.status[n] === 200) measured.ok++;
    latencies.push(load.latency[n]);
    sendLags.push(load.sendLag[n]);
    measured.lastAnswer = Math.max(measured.lastAnswer, load.answeredAt[n]);
  }
  measured.errors = load.errors; // warm-up errors count too: an error is an error
  const finished = latencies.filter((l) => !Number.isNaN(l)).sort((a, b) => a - b);
  sendLags.sort((a, b) => a - b);
  const sentCount = load.total - firstMeasured;
  const windowS = (measured.lastAnswer - measuredFrom) / 1000;
  const achieved = measured.ok / windowS;
  let remindersAsked = 0;
  let remindersScheduled = 0;
  for (let n = 0; n < load.total; n++) {
    if (n % REMINDER_EVERY !== 7) continue;
    remindersAsked++;
    remindersScheduled += load.reminderOk[n];
  }
  const failedJobs = afterDrain.reduce((sum, v) => sum + v.failed, 0);

  out('', `Load (measured ${DURATION_S} s; latency from the scheduled send time)`, '');
  out(
    table([
      ['sent', 'answered 200', 'achieved rate', 'target', 'p50', 'p95', 'p99', 'max', 'errors'],
      [
        fmt(sentCount),
        fmt(measured.ok),
        `${fmt(achieved, 1)}/s`,
        `${RATE}/s`,
        `${fmt(percentile(finished, 50))} ms`,
        `${fmt(percentile(finished, 95))} ms`,
        `${fmt(percentile(finished, 99))} ms`,
        `${fmt(finished.at(-1))} ms`,
        fmt(measured.errors),
      ],
    ]),
  );
  out(
    `  generator: send lag behind the clock p99 ${fmt(percentile(sendLags, 99), 1)} ms, ` +
      `max ${fmt(sendLags.at(-1), 1)} ms; reminders asked ${remindersAsked}, scheduled ${remindersScheduled}`,
  );
  const llmDelta = (k: keyof LlmStats) => llmAtEnd[k] - llmAtStart[k];
  out(
    `  LLM calls while measured: ${fmt(llmDelta('replies'))} replies, ${fmt(llmDelta('toolRounds'))} ` +
      `tool rounds, ${fmt(llmDelta('extractions'))} memory extractions`,
  );
  for (const p of load.problems) out(`  problem: ${p.status} ${p.body}`);

  out('', 'Queues at the end of the load, and after draining', '');
  out(
    table([
      [
        'queue',
        'waiting',
        'active',
        'delayed',
        'oldest waiting',
        'failed',
        'job lag p50 / p95 / max',
      ],
      ...atEnd.map((v, i) => [
        v.name,
        fmt(v.waiting),
        fmt(v.active),
        fmt(v.delayed),
        v.oldestWaitingS === undefined ? '-' : `${fmt(v.oldestWaitingS, 1)} s`,
        fmt(afterDrain[i].failed),
        lags[i].length
          ? `${fmt(percentile(lags[i], 50), 2)} / ${fmt(percentile(lags[i], 95), 2)} / ${fmt(lags[i].at(-1), 2)} s (${lags[i].length} jobs)`
          : '-',
      ]),
    ]),
  );
  out(
    drainedAfterS === undefined
      ? `  NOT drained within ${DRAIN_TIMEOUT_S} s of the end of the load`
      : `  drained ${fmt(drainedAfterS, 1)} s after the end of the load ` +
          `(waiting + active = 0 on every queue, every reminder due handled)`,
  );
  out(
    `  job lag: enqueued (or due) → finished. Delayed: consolidation runs 10 min after a person's ` +
      `last new memory, so those wait on purpose.`,
  );
  out(
    `  stored: ${counts.inbound} inbound / ${counts.outbound} outbound messages, ${counts.users} people, ` +
      `${counts.memories} memories, ${counts.extractions} extractions recorded`,
  );
  for (const r of reminders) {
    out(
      r.status === 'scheduled'
        ? `  reminders still scheduled: ${r.n} (due after the drain)`
        : `  reminders ${r.status}: ${r.n}, handled ${fmt(r.p50 ?? undefined, 2)} s (p50) / ` +
            `${fmt(r.max ?? undefined, 2)} s (max) after due` +
            (r.status === 'failed'
              ? ' (failed: no edge agent relays these rooms, as expected here)'
              : ''),
    );
  }

  out(
    '',
    'Processes (RSS after the warm-up and at the end of the load, the peak of each half of the ' +
      'measured phase, growth = 2nd peak / 1st peak; CPU while measured)',
    '',
  );
  const growth = (r: Rss) =>
    r.firstHalfPeak > 0 && r.secondHalfPeak > 0
      ? (r.secondHalfPeak - r.firstHalfPeak) / r.firstHalfPeak
      : undefined;
  const mib = (kib: number | undefined) => `${fmt((kib ?? NaN) / 1024, 1)} MiB`;
  out(
    table([
      ['process', 'pid', 'RSS start', 'RSS end', 'peak 1st', 'peak 2nd', 'growth', 'bound', 'CPU'],
      ...rss.map((r) => [
        r.name,
        String(r.pid),
        mib(r.start),
        mib(r.end),
        mib(r.firstHalfPeak),
        mib(r.secondHalfPeak),
        `${fmt((growth(r) ?? NaN) * 100, 1)} %`,
        r.bounded ? `≤ ${MAX_RSS_GROWTH * 100} %` : '-',
        `${fmt(cpu.pids.get(r.pid))} %`,
      ]),
    ]),
  );
  out(
    `  postgres: this database's ${ownBackends.length} backends ${fmt(ownPostgres)} %, ` +
      `every postgres process ${fmt(cpu.named.get('postgres'))} %; ` +
      `redis-server ${fmt(cpu.named.get('redis-server'))} % (shared); ` +
      `machine ${fmt(cpu.machine)} % of ${cpus().length * 100} % (CPU in % of one core)`,
  );
  const ours =
    rss.reduce((sum, r) => sum + (cpu.pids.get(r.pid) ?? 0), 0) +
    ownPostgres +
    (cpu.named.get('redis-server') ?? 0);
  out(
    `  the rest of the machine (other people's work, Postgres's background processes): ` +
      `${fmt(cpu.machine === undefined ? undefined : Math.max(0, cpu.machine - ours))} %`,
  );

  for (const app of apps) {
    const lines = readFileSync(app.logFile, 'utf8').split('\n');
    const loud = lines.filter((l) => /"level":(50|60)/.test(l));
    if (loud.length) {
      out(`  ${app.name}: ${loud.length} error log lines, e.g. ${loud[0].slice(0, 300)}`);
    }
  }

  const verdicts: [string, boolean][] = [
    [`errors: ${measured.errors} (bound 0)`, measured.errors === 0],
    [`failed jobs: ${failedJobs} (bound 0)`, failedJobs === 0],
    [
      `achieved rate ${fmt(achieved, 1)}/s ≥ ${fmt(RATE * MIN_RATE_SHARE, 1)}/s`,
      achieved >= RATE * MIN_RATE_SHARE,
    ],
    ...rss
      .filter((r) => r.bounded)
      .map((r): [string, boolean] => {
        const g = growth(r);
        return [
          `${r.name} RSS growth ${fmt((g ?? NaN) * 100, 1)} % ≤ ${MAX_RSS_GROWTH * 100} %`,
          g !== undefined && g <= MAX_RSS_GROWTH,
        ];
      }),
    [`queues drained within ${DRAIN_TIMEOUT_S} s`, drainedAfterS !== undefined],
    [
      `every process alive${
        dead().length
          ? ` (${dead()
              .map((a) => `${a.name} ${a.died}`)
              .join(', ')})`
          : ''
      }`,
      dead().length === 0,
    ],
  ];
  out('', 'Bounds', '');
  for (const [what, met] of verdicts) out(`  ${met ? 'met   ' : 'MISSED'}  ${what}`);
  const others = cpu.machine === undefined ? 0 : cpu.machine - ours;
  if (others > 20) {
    out(
      '',
      `  Other work took ${fmt(others)} % of the machine's ${cpus().length * 100} % while this ran: ` +
        'queues, latency and the RSS of requests waiting for the CPU grow with it. ' +
        'Compare runs on a quiet machine.',
    );
  }
  stopping = true;
  return verdicts.every(([, met]) => met);
}

runBench('bench:load', main, () => (stopping = true));
