import { ChildProcess, fork } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import autocannon from 'autocannon';
import { Client } from 'pg';
import { FakeOpenAI, startFakeOpenAI } from '../../test/fake-openai/fake-openai.server';
import type { ApiStats } from './api';
import { cleanups, createBenchDatabase, fmt, intEnv, runBench, sleep, table } from '../common';
import { clearRedisPrefix } from '../../test/helpers/redis-prefix';

/**
 * `npm run bench:orchestrator`: the API (a child process, bench/orchestrator/api.ts) against real
 * Postgres and Redis and the fake OpenAI answering at once (in this process, beside autocannon),
 * measuring in one run:
 *   1. POST /__bench/echo      — the framework's ceiling;
 *   2. POST /__bench/db-turn   — the database ceiling: one transaction, inbound + outbound row;
 *   3. POST /orchestrator/message — the full path.
 * Every request is distinct (sender round-robin over SENDERS handles, a unique text). Before
 * route 3 is warmed up, every sender says hello once: a first message creates the person, the
 * room and the assistant instance, which production does once per person, so the measured phase
 * is the steady state of people who are already known (as almost all traffic is). Prints
 * req/s, p50, p99 of each, the ratios 3/1 and 3/2 and the targets. Exit 0 whatever the figures;
 * 1 only when the run itself failed (start-up, non-2xx, connection errors, unexpected bodies).
 *
 * Knobs for quick trials (defaults are the contract): BENCH_CONNECTIONS (50),
 * BENCH_DURATION_S (20), BENCH_WARMUP_S (3); DATABASE_URL (server to create the bench database
 * on), REDIS_URL, DB_POOL_SIZE (passed to the API). BENCH_CPU_PROFILE=1 writes a V8 CPU profile
 * of the API child per measured route to dist-bench/profiles/ (profiling slows it: diagnosis only).
 */

const CONNECTIONS = intEnv('BENCH_CONNECTIONS', 50);
const DURATION_S = intEnv('BENCH_DURATION_S', 20);
const WARMUP_S = intEnv('BENCH_WARMUP_S', 3);
/**
 * Enough that at 1,500 req/s for 20 s each sender stays far below the production limit of
 * 60 messages a minute (which the API runs with), few enough to introduce them all in seconds.
 */
const SENDERS = 2_000;
const TARGET_RATIO_32 = 0.5;
const TARGET_P99_MS = 100;
const TARGET_RPS = 1500;

const RELAY_SECRET = 'bench-relay-secret-0123456789abcdef';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const LOG_LEVEL = 'warn';
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE
  ? join(__dirname, '..', '..', 'profiles')
  : undefined;

interface Route {
  name: string;
  path: string;
  /** A 2xx body that is not this is counted as unexpected (and fails the run). */
  expect: (body: string) => boolean;
}

const ROUTES: Route[] = [
  { name: '1 echo', path: '/__bench/echo', expect: (b) => b.includes('"sender"') },
  { name: '2 db-turn', path: '/__bench/db-turn', expect: (b) => b.includes('"ok":true') },
  {
    name: '3 orchestrator',
    path: '/orchestrator/message',
    expect: (b) => b.includes('"should_respond":true') && b.includes('Fake reply to:'),
  },
];

// ---------------------------------------------------------------------------------------------
// Requests: the relay contract, distinct per request.

let sequence = 0;

function nextBody(): string {
  const n = sequence++;
  const sender = `+1555${String(n % SENDERS).padStart(7, '0')}`;
  return JSON.stringify({
    chat_guid: `iMessage;-;${sender}`,
    mode: 'direct',
    sender,
    text: `Bench message ${n}: how was your day?`,
    timestamp: Math.floor(Date.now() / 1000),
    participants: [sender],
  });
}

const HEADERS = {
  'content-type': 'application/json',
  authorization: `Bearer ${RELAY_SECRET}`,
};

interface PhaseResult {
  result: autocannon.Result;
  unexpected: number;
  samples: string[];
}

/** Runs `route` for `length.seconds`, or for exactly `length.requests` requests. */
function runPhase(
  baseUrl: string,
  route: Route,
  length: { seconds: number } | { requests: number },
): Promise<PhaseResult> {
  const samples: string[] = [];
  let unexpected = 0;
  return new Promise((resolve, reject) => {
    autocannon(
      {
        url: baseUrl,
        connections: CONNECTIONS,
        ...('seconds' in length ? { duration: length.seconds } : { amount: length.requests }),
        timeout: 10,
        requests: [
          {
            method: 'POST',
            path: route.path,
            headers: HEADERS,
            setupRequest: (request) => {
              request.body = nextBody();
              return request;
            },
            onResponse: (status, body) => {
              const ok = status >= 200 && status < 300;
              if (ok && route.expect(body)) return;
              if (ok) unexpected++;
              if (samples.length < 3) samples.push(`${status} ${body.slice(0, 300)}`);
            },
          },
        ],
      },
      (err, result) => (err ? reject(err) : resolve({ result, unexpected, samples })),
    );
  });
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): who used the two cores while a route was measured.

const CLK_TCK = 100;

interface CpuSnapshot {
  at: number;
  self: NodeJS.CpuUsage;
  api: number | undefined;
  byName: Map<string, Map<number, number>>;
  machine: { busy: number; total: number } | undefined;
}

const WATCHED = ['postgres', 'redis-server'];

function procCpuMs(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime + stime
  } catch {
    return undefined;
  }
}

function snapshot(apiPid: number | undefined): CpuSnapshot {
  const byName = new Map<string, Map<number, number>>(WATCHED.map((n) => [n, new Map()]));
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    // not Linux: no split
  }
  for (const pid of entries) {
    let comm: string;
    try {
      comm = readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
    } catch {
      continue;
    }
    const bucket = byName.get(comm);
    const ms = bucket && procCpuMs(pid);
    if (bucket && ms !== undefined) bucket.set(Number(pid), ms);
  }
  let machine: CpuSnapshot['machine'];
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    machine = { busy: total - ticks[3] - ticks[4], total }; // minus idle, iowait
  } catch {
    machine = undefined;
  }
  return {
    at: performance.now(),
    self: process.cpuUsage(),
    api: apiPid === undefined ? undefined : procCpuMs(apiPid),
    byName,
    machine,
  };
}

interface CpuSplit {
  api?: number;
  loadgen: number;
  postgres?: number;
  redis?: number;
  machineBusy?: number;
}

/** Percent of one core over the phase (200 % = both cores of this machine). */
function cpuSplit(a: CpuSnapshot, b: CpuSnapshot): CpuSplit {
  const wallMs = b.at - a.at;
  const pct = (ms: number) => (100 * ms) / wallMs;
  const named = (name: string): number | undefined => {
    const before = a.byName.get(name)!;
    const after = b.byName.get(name)!;
    if (after.size === 0) return undefined;
    let sum = 0;
    for (const [pid, ms] of after) sum += ms - (before.get(pid) ?? 0);
    return pct(sum);
  };
  const selfMs = (b.self.user - a.self.user + b.self.system - a.self.system) / 1000;
  return {
    api: a.api !== undefined && b.api !== undefined ? pct(b.api - a.api) : undefined,
    loadgen: pct(selfMs),
    postgres: named('postgres'),
    redis: named('redis-server'),
    machineBusy:
      a.machine && b.machine
        ? (100 * cpus().length * (b.machine.busy - a.machine.busy)) /
          (b.machine.total - a.machine.total)
        : undefined,
  };
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down.

function startApi(env: NodeJS.ProcessEnv): Promise<{ child: ChildProcess; url: string }> {
  const child = fork(join(__dirname, 'api.js'), [], {
    env,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  cleanups.push({ name: 'stop the API', run: () => stopChild(child) });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('the API did not start within 120 s')),
      120_000,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the API exited during start-up (code ${code}, signal ${signal})`));
    });
    child.on('message', (message: { type?: string; port?: number }) => {
      if (message.type !== 'listening' || !message.port) return;
      clearTimeout(timer);
      resolve({ child, url: `http://127.0.0.1:${message.port}` });
    });
  });
}

let stoppingApi = false;

async function stopChild(child: ChildProcess): Promise<void> {
  stoppingApi = true;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

/** Sends `request` to the API child and waits for its answer of type `answer`. */
function ask<T>(child: ChildProcess, request: object, answer: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the API did not answer ${JSON.stringify(request)} within 10 s`));
    }, 10_000);
    const onMessage = (message: { type?: string }) => {
      if (message.type !== answer) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message as T);
    };
    child.on('message', onMessage);
    child.send(request);
  });
}

const apiStats = (child: ChildProcess) => ask<ApiStats>(child, { type: 'stats' }, 'stats');

/** How busy the machine is before we start (other sessions' builds and tests skew the figures). */
async function machineBaseline(): Promise<number | undefined> {
  const a = snapshot(undefined);
  await sleep(2000);
  return cpuSplit(a, snapshot(undefined)).machineBusy;
}

/** One request per route before any load: a broken route fails in a second, not a minute. */
async function smokeTest(baseUrl: string): Promise<void> {
  for (const route of ROUTES) {
    const response = await fetch(`${baseUrl}${route.path}`, {
      method: 'POST',
      headers: HEADERS,
      body: nextBody(),
    });
    const text = await response.text();
    if (!response.ok || !route.expect(text)) {
      throw new Error(`smoke test of ${route.path}: ${response.status} ${text.slice(0, 500)}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Output.

interface Measured {
  route: Route;
  rps: number;
  p50: number;
  p99: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  unexpected: number;
  statusCodes: string;
  samples: string[];
  cpu: CpuSplit;
  api: ApiStats;
  llmCalls: number;
  /** WAL flushes (fsyncs) by the whole Postgres server while measured. */
  walSyncs: number;
}

function report(results: Measured[]): boolean {
  const out: string[] = [];
  out.push('', 'Results (measured phase only)', '');
  out.push(
    table([
      ['route', 'req/s (avg)', 'p50 ms', 'p99 ms', '2xx', 'non-2xx', 'errors', 'unexpected'],
      ...results.map((m) => [
        `${m.route.name} ${m.route.path}`,
        fmt(m.rps),
        fmt(m.p50),
        fmt(m.p99),
        fmt(m.ok),
        fmt(m.non2xx),
        fmt(m.errors),
        fmt(m.unexpected),
      ]),
    ]),
  );
  out.push('', `CPU while measured (% of one core; this machine has ${cpus().length} cores)`, '');
  out.push(
    table([
      ['route', 'API child', 'load gen + fake', 'postgres (all)', 'redis', 'other', 'machine busy'],
      ...results.map((m) => {
        const { api, loadgen, postgres, redis, machineBusy } = m.cpu;
        const other =
          machineBusy === undefined
            ? undefined
            : Math.max(0, machineBusy - (api ?? 0) - loadgen - (postgres ?? 0) - (redis ?? 0));
        return [
          m.route.name,
          `${fmt(api)} %`,
          `${fmt(loadgen)} %`,
          `${fmt(postgres)} %`,
          `${fmt(redis)} %`,
          `${fmt(other)} %`,
          `${fmt(machineBusy)} %`,
        ];
      }),
    ]),
  );
  out.push(
    '',
    '  "other" is whatever else ran on the machine meanwhile; a quiet machine shows ~0 %.',
    '',
    'Inside the API child while measured (20 ms samples)',
    '',
  );
  out.push(
    table([
      [
        'route',
        'event loop busy',
        'pool clients in use',
        'queued for a pool client',
        'SQL / request',
        'Redis / request',
        'WAL flushes / request',
      ],
      ...results.map((m) => [
        m.route.name,
        `${fmt(m.api.eventLoopUtilization * 100)} %`,
        `${fmt(m.api.poolBusy, 1)} of ${m.api.poolSize}`,
        fmt(m.api.poolWaiting, 1),
        fmt(m.api.sqlQueries / Math.max(m.ok, 1), 1),
        fmt(m.api.redisCommands / Math.max(m.ok, 1), 1),
        fmt(m.walSyncs / Math.max(m.ok, 1), 2),
      ]),
    ]),
  );

  const [echo, db, full] = results;
  const r31 = full.rps / echo.rps;
  const r32 = full.rps / db.rps;
  const verdict = (met: boolean) => (met ? 'MET' : 'MISSED');
  out.push('', 'Ratios and targets', '');
  out.push(
    table([
      ['', 'value', 'target', ''],
      ['3/1 (full path / framework ceiling)', fmt(r31, 2), '', ''],
      [
        '3/2 (full path / database ceiling)',
        fmt(r32, 2),
        `≥ ${TARGET_RATIO_32}`,
        verdict(r32 >= TARGET_RATIO_32),
      ],
      ['p99 of 3, ms', fmt(full.p99), `≤ ${TARGET_P99_MS}`, verdict(full.p99 <= TARGET_P99_MS)],
      [
        'req/s of 3 (the issue: "roughly" on 2 cores)',
        fmt(full.rps),
        `≥ ${fmt(TARGET_RPS)}`,
        verdict(full.rps >= TARGET_RPS),
      ],
    ]),
  );
  out.push(
    `  LLM calls during 3: ${fmt(full.llmCalls)} for ${fmt(full.ok)} replies ` +
      `(requests in flight at the phase's edges make these differ by up to ${CONNECTIONS})`,
  );

  let failed = false;
  for (const m of results) {
    if (m.non2xx || m.errors || m.timeouts || m.unexpected) {
      failed = true;
      out.push('', `FAILED RUN: ${m.route.name} had problems (status codes: ${m.statusCodes})`);
      out.push(
        `  non-2xx ${m.non2xx}, connection errors ${m.errors}, timeouts ${m.timeouts}, unexpected bodies ${m.unexpected}`,
      );
      for (const s of m.samples) out.push(`  sample: ${s}`);
    }
  }
  process.stdout.write(`${out.join('\n')}\n`);
  return !failed;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<boolean> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `bench-${process.pid}`;
  const poolSize = process.env.DB_POOL_SIZE ?? '10';
  const log = (line: string) => process.stdout.write(`${line}\n`);

  log(
    `bench:orchestrator — ${CONNECTIONS} connections, ${WARMUP_S} s warm-up + ${DURATION_S} s per route, ` +
      `${SENDERS.toLocaleString('en-US')} senders round-robin, every text distinct`,
  );
  log(
    `API: NODE_ENV=test APP_ROLE=api LOG_LEVEL=${LOG_LEVEL} (request logs at info would dominate the ` +
      `measurement), DB_POOL_SIZE=${poolSize}, RESPONSE_CACHE_TTL_SECONDS=0, rate limit 60/min/sender`,
  );
  log(`node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'})`);
  // Built from the shared migrations/ folder (see build:bench): say which, since a stray file
  // there (a half-generated migration) would be applied to the bench database too.
  const migrations = readdirSync(join(__dirname, '..', '..', 'src', 'migrations'))
    .filter((f) => f.endsWith('.js'))
    .map((f) => f.replace(/\.js$/, ''));
  log(`migrations: ${migrations.join(', ')}`);

  const baseline = await machineBaseline();
  log(
    `machine busy before start: ${fmt(baseline)} % of ${cpus().length * 100} %` +
      (baseline !== undefined && baseline > 20
        ? ' — something else is running; figures will be low'
        : ''),
  );
  if (PROFILE_DIR) {
    mkdirSync(PROFILE_DIR, { recursive: true });
    log(
      `BENCH_CPU_PROFILE: profiling the API child into ${PROFILE_DIR} (slows it; diagnosis only)`,
    );
  }

  const { url: databaseUrl } = await createBenchDatabase('orchestrator');
  const dataDir = mkdtempSync(join(tmpdir(), 'archety-bench-'));
  cleanups.push({ name: 'remove data dir', run: async () => rmSync(dataDir, { recursive: true }) });
  cleanups.push({ name: 'clear Redis keys', run: () => clearRedisPrefix(redisPrefix, redisUrl) });

  const fake: FakeOpenAI = await startFakeOpenAI({ defaultDelayMs: 0 });
  cleanups.push({ name: 'stop fake OpenAI', run: () => fake.close() });
  // The fake logs every request; drain it so a minute of load does not pile up in memory.
  let llmCalls = 0;
  const drainFake = () => {
    llmCalls += fake.chatRequests().length;
    fake.requests.length = 0;
  };
  const drainTimer = setInterval(drainFake, 1000);
  cleanups.push({ name: 'stop draining', run: async () => clearInterval(drainTimer) });

  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NODE_ENV: 'test',
    APP_ROLE: 'api',
    PORT: '0',
    DATA_DIR: dataDir,
    DATABASE_URL: databaseUrl,
    DB_MIGRATIONS_RUN: 'true',
    DB_POOL_SIZE: poolSize,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: redisPrefix,
    JWT_SECRET,
    RELAY_WEBHOOK_SECRET: RELAY_SECRET,
    OPENAI_API_KEY: 'sk-bench-not-a-real-key',
    OPENAI_BASE_URL: fake.url,
    LOG_LEVEL,
    RESPONSE_CACHE_TTL_SECONDS: '0',
  };
  const started = performance.now();
  const { child, url } = await startApi(env);
  log(
    `API child pid ${child.pid} listening on ${url} (started in ${fmt((performance.now() - started) / 1000, 1)} s)`,
  );
  let childGone = false;
  child.once('exit', (code, signal) => {
    childGone = true;
    if (!stoppingApi) process.stderr.write(`the API exited (code ${code}, signal ${signal})\n`);
  });

  await smokeTest(url);

  // pg_stat_wal is server-wide: a quiet server's flushes are this run's.
  const stats = new Client({ connectionString: databaseUrl });
  await stats.connect();
  cleanups.push({ name: 'close the stats connection', run: () => stats.end() });
  const walSyncs = async () =>
    Number((await stats.query<{ n: string }>(`SELECT wal_sync AS n FROM pg_stat_wal`)).rows[0].n);

  const results: Measured[] = [];
  for (const route of ROUTES) {
    if (route.path === '/orchestrator/message') {
      log(`${route.name}: introducing ${fmt(SENDERS)} senders (one first message each)…`);
      sequence = 0;
      const intro = await runPhase(url, route, { requests: SENDERS });
      if (intro.result.non2xx || intro.result.errors) {
        throw new Error(`introducing the senders failed: ${intro.samples.join('; ')}`);
      }
    }
    log(`${route.name}: warming up ${WARMUP_S} s…`);
    const warm = await runPhase(url, route, { seconds: WARMUP_S });
    if (warm.result.non2xx || warm.result.errors) {
      log(`  warm-up had ${warm.result.non2xx} non-2xx, ${warm.result.errors} errors`);
      for (const s of warm.samples) log(`  sample: ${s}`);
    }
    log(`${route.name}: measuring ${DURATION_S} s…`);
    drainFake();
    const llmBefore = llmCalls;
    if (PROFILE_DIR) await ask(child, { type: 'profile-start' }, 'profile-started');
    await apiStats(child); // resets the child's counters
    const walBefore = await walSyncs();
    const before = snapshot(child.pid);
    const { result, unexpected, samples } = await runPhase(url, route, {
      seconds: DURATION_S,
    });
    const after = snapshot(child.pid);
    const walAfter = await walSyncs();
    const api = await apiStats(child);
    if (PROFILE_DIR) {
      const file = join(PROFILE_DIR, `${route.name.replace(/\W+/g, '-')}.cpuprofile`);
      await ask(child, { type: 'profile-stop', file }, 'profile-written');
      log(`  CPU profile: ${file}`);
    }
    drainFake();
    if (childGone) throw new Error('the API died during the run');
    const statusCodes = Object.entries(result.statusCodeStats)
      .map(([code, s]) => `${code}×${s.count}`)
      .join(', ');
    results.push({
      route,
      rps: result.requests.average,
      p50: result.latency.p50,
      p99: result.latency.p99,
      ok: result['2xx'],
      non2xx: result.non2xx,
      errors: result.errors,
      timeouts: result.timeouts,
      unexpected,
      statusCodes,
      samples,
      cpu: cpuSplit(before, after),
      api,
      llmCalls: llmCalls - llmBefore,
      walSyncs: walAfter - walBefore,
    });
    log(
      `  ${fmt(result.requests.average)} req/s, p50 ${fmt(result.latency.p50)} ms, p99 ${fmt(result.latency.p99)} ms`,
    );
    // autocannon stops with up to CONNECTIONS requests still being served: let them finish
    // before the next phase (or the shutdown) so they neither count there nor fail there.
    await sleep(Math.min(15_000, Math.max(1000, 3 * result.latency.p99)));
  }
  // How many of the messages rows' updates (an inbound turn marked answered) stayed on their page.
  const [hot] = (
    await stats.query<{ upd: string; hot: string }>(
      `SELECT n_tup_upd AS upd, n_tup_hot_upd AS hot FROM pg_stat_user_tables WHERE relname = 'messages'`,
    )
  ).rows;
  if (hot) {
    log(
      `messages updates: ${fmt(Number(hot.upd))}, of which HOT ${fmt((100 * Number(hot.hot)) / Math.max(1, Number(hot.upd)))} %`,
    );
  }
  return report(results);
}

runBench('bench:orchestrator', main, () => (stoppingApi = true));
