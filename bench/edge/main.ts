import { ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import WebSocket from 'ws';
import { now, Reply, Request } from './ipc';
import {
  cleanups,
  createBenchDatabase,
  describe,
  fmt,
  intEnv,
  runBench,
  sleep,
  table,
} from '../common';
import { clearRedisPrefix } from '../../test/helpers/redis-prefix';

/**
 * `npm run bench:edge`: BENCH_AGENTS (5,000) edge agents connected at once to one server, twice
 * in one run: first a bare `ws` server (bench/edge/floor.ts: no Nest, no auth, no database) as
 * the floor, then the API (bench/edge/api.ts: the production app, `/edge/ws`, real Postgres and
 * Redis). The agents are `ws` clients in this process, permessage-deflate off (the gateway
 * refuses it anyway), answering the server's protocol pings by themselves and acking every
 * command at once, like the real client. For each server it measures:
 *
 *   1. memory: the server's RSS (after a full GC) before the agents connect and once they are
 *      idle (~2 s later) → (after − before) / agents per idle connection;
 *   2. unicast: BENCH_UNICAST (300) commands, one after the other, to one agent: from "command
 *      created" (API: `EdgeCommandsService.create` resolved, i.e. the row written and announced
 *      on Redis; floor: just before `ws.send`) to "frame received" in the agent → p50/p99;
 *   3. fan-out: one command to each of BENCH_FANOUT (1,000) agents, created in a tight loop in
 *      the server process, until every one was received and acked (API: the rows are `acked` in
 *      Postgres, polled with one SQL count every 5 ms; floor: the server saw the last ack).
 *
 * Prints both side by side and the targets. Exit 0 whatever the figures; 1 only when the run
 * itself failed. Needs a file-descriptor limit of ~2 × agents + 2,000 (12,000); re-runs itself
 * under `ulimit -n` when the soft limit is lower and the hard one allows it.
 *
 * Knobs (defaults are the contract): BENCH_AGENTS, BENCH_UNICAST, BENCH_FANOUT,
 * BENCH_CONNECT_CONCURRENCY (100 upgrades in flight); DATABASE_URL (server to create the bench
 * database on), REDIS_URL, DB_POOL_SIZE (passed to the API, default 10).
 */

const AGENTS = intEnv('BENCH_AGENTS', 5000);
const UNICAST = intEnv('BENCH_UNICAST', 300);
const UNICAST_WARMUP = 20;
/** Pause between two unicast commands: the previous ack settles first. */
const UNICAST_GAP_MS = 5;
const FANOUT = Math.min(intEnv('BENCH_FANOUT', 1000), AGENTS - 1);
const CONNECT_CONCURRENCY = intEnv('BENCH_CONNECT_CONCURRENCY', 100);
const IDLE_WAIT_MS = 2000;
const POLL_MS = 5;
const MIN_FDS = 2 * AGENTS + 2000;

const TARGET_RSS_RATIO = 3;
const TARGET_P99_MS = 20;
const TARGET_FANOUT_MS = 1000;

const EDGE_SECRET = 'bench-edge-secret-0123456789abcdef';
const ADMIN_API_KEY = 'bench-admin-key-0123456789abcdef';
const JWT_SECRET = 'bench-jwt-secret-0123456789abcdef0123456789';
const UNICAST_THREAD = '+15550000001';
const FANOUT_THREAD = '+15550000002';

const log = (line: string) => process.stdout.write(`${line}\n`);
const agentId = (i: number) => `bench-agent-${String(i).padStart(5, '0')}`;

// ---------------------------------------------------------------------------------------------
// File descriptors: every agent is a socket here and one in the server.

function fdLimits(): { soft: number; hard: number } {
  const out = execFileSync('bash', ['-c', 'ulimit -Sn; ulimit -Hn'], { encoding: 'utf8' });
  const [soft, hard] = out
    .trim()
    .split('\n')
    .map((v) => (v.trim() === 'unlimited' ? Infinity : Number(v)));
  return { soft, hard };
}

/** True when this process may go on; otherwise it re-ran itself (or exited) and must stop. */
function ensureFileDescriptors(): boolean {
  const { soft, hard } = fdLimits();
  if (soft >= MIN_FDS) return true;
  const isRoot = process.getuid?.() === 0;
  const target = isRoot ? Math.max(65535, MIN_FDS) : Math.min(hard, 65535);
  if (process.env.BENCH_EDGE_ULIMIT || target < MIN_FDS) {
    process.stderr.write(
      `bench:edge needs ${MIN_FDS.toLocaleString('en-US')} file descriptors per process ` +
        `(${AGENTS.toLocaleString('en-US')} agents: a socket here and one in the server); ` +
        `\`ulimit -n\` is ${soft} (hard limit ${hard}). Raise it (e.g. \`ulimit -n 65535\`, as ` +
        `root, or nofile in /etc/security/limits.conf) or run fewer agents (BENCH_AGENTS).\n`,
    );
    process.exit(1);
  }
  log(`ulimit -n is ${soft}: re-running under \`ulimit -n ${target}\``);
  const child = spawn(
    'bash',
    ['-c', `ulimit -n ${target} && exec "$0" "$@"`, process.execPath, ...process.argv.slice(1)],
    { stdio: 'inherit', env: { ...process.env, BENCH_EDGE_ULIMIT: '1' } },
  );
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => child.kill(signal));
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
  return false;
}

// ---------------------------------------------------------------------------------------------
// Set-up and tear-down (as bench:orchestrator).

interface Server {
  name: string;
  child: ChildProcess;
  wsUrl: string;
  exited: boolean;
  stop: () => Promise<void>;
}

function startServer(
  name: string,
  script: string,
  env: NodeJS.ProcessEnv,
  path: string,
): Promise<Server> {
  const child = fork(join(__dirname, script), [], {
    env,
    execArgv: ['--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let stopping = false;
  const stop = async () => {
    stopping = true;
    await stopChild(child);
  };
  const server: Server = { name, child, wsUrl: '', exited: false, stop };
  cleanups.push({ name: `stop the ${name}`, run: stop });
  child.once('exit', (code, signal) => {
    server.exited = true;
    if (!stopping) process.stderr.write(`the ${name} exited (code ${code}, signal ${signal})\n`);
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`the ${name} did not start within 120 s`)),
      120_000,
    );
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      reject(new Error(`the ${name} exited during start-up (code ${code}, signal ${signal})`));
    });
    child.on('message', (message: Reply) => {
      if (message.type !== 'listening' || !message.port) return;
      clearTimeout(timer);
      server.wsUrl = `ws://127.0.0.1:${message.port}${path}`;
      resolve(server);
    });
  });
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  await exited;
  clearTimeout(timer);
}

type ReplyOf<T extends Reply['type']> = Extract<Reply, { type: T }>;

/** Sends `request` to a server and waits for its answer of type `answer`. */
function ask<T extends Reply['type']>(
  server: Server,
  request: Request,
  answer: T,
  timeoutMs = 10_000,
): Promise<ReplyOf<T>> {
  const { child } = server;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`the ${server.name} did not answer ${request.cmd} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (message: Reply) => {
      if (message.type !== answer && message.type !== 'error') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (message.type === 'error') reject(new Error(`the ${server.name}: ${message.message}`));
      else resolve(message as ReplyOf<T>);
    };
    child.on('message', onMessage);
    child.send(request);
  });
}

/**
 * The child's clock minus ours (both `timeOrigin + now()`): from the IPC round trip with the
 * smallest RTT, the child's reading taken as our midpoint. ± half that RTT.
 */
async function clockOffset(server: Server): Promise<{ offset: number; rtt: number }> {
  let best = { offset: 0, rtt: Infinity };
  for (let i = 0; i < 100; i++) {
    const t0 = now();
    const { now: theirs } = await ask(server, { cmd: 'clock' }, 'clock');
    const t1 = now();
    if (t1 - t0 < best.rtt) best = { offset: theirs - (t0 + t1) / 2, rtt: t1 - t0 };
  }
  return best;
}

// ---------------------------------------------------------------------------------------------
// CPU accounting from /proc (Linux): who used the two cores while a phase was measured.

const CLK_TCK = 100;
/** The bench database's name, once created: its Postgres backends name it in their title. */
let benchDbName: string | undefined;

interface CpuSnapshot {
  at: number;
  self: number;
  server: number | undefined;
  /** pid → CPU ms, for every postgres process, and those serving the bench database. */
  postgres: Map<number, { ms: number; ours: boolean }>;
  redis: Map<number, number>;
  machine: { busy: number; total: number } | undefined;
}

function procCpuMs(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK; // utime + stime
  } catch {
    return undefined;
  }
}

function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - ticks[3] - ticks[4], total }; // minus idle, iowait
  } catch {
    return undefined;
  }
}

function cpuSnapshot(serverPid: number | undefined): CpuSnapshot {
  const postgres = new Map<number, { ms: number; ours: boolean }>();
  const redis = new Map<number, number>();
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
    if (comm !== 'postgres' && comm !== 'redis-server') continue;
    const ms = procCpuMs(pid);
    if (ms === undefined) continue;
    if (comm === 'redis-server') {
      redis.set(Number(pid), ms);
      continue;
    }
    let title = '';
    try {
      title = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      // gone
    }
    const ours = benchDbName !== undefined && title.includes(` ${benchDbName} `);
    postgres.set(Number(pid), { ms, ours });
  }
  const self = process.cpuUsage();
  return {
    at: now(),
    self: (self.user + self.system) / 1000,
    server: serverPid === undefined ? undefined : procCpuMs(serverPid),
    postgres,
    redis,
    machine: machineTicks(),
  };
}

/** Percent of one core over the phase (100 × cores = the whole machine). */
interface CpuSplit {
  server?: number;
  agents: number;
  postgresOurs: number;
  postgresAll: number;
  redis: number;
  machineBusy?: number;
}

function cpuSplit(a: CpuSnapshot, b: CpuSnapshot): CpuSplit {
  const pct = (ms: number) => (100 * ms) / (b.at - a.at);
  let postgresOurs = 0;
  let postgresAll = 0;
  for (const [pid, { ms, ours }] of b.postgres) {
    const used = ms - (a.postgres.get(pid)?.ms ?? 0);
    postgresAll += used;
    if (ours) postgresOurs += used;
  }
  let redis = 0;
  for (const [pid, ms] of b.redis) redis += ms - (a.redis.get(pid) ?? 0);
  return {
    server: a.server !== undefined && b.server !== undefined ? pct(b.server - a.server) : undefined,
    agents: pct(b.self - a.self),
    postgresOurs: pct(postgresOurs),
    postgresAll: pct(postgresAll),
    redis: pct(redis),
    machineBusy:
      a.machine && b.machine
        ? (100 * cpus().length * (b.machine.busy - a.machine.busy)) /
          (b.machine.total - a.machine.total)
        : undefined,
  };
}

/** One measured phase: what the server did, and the CPU around it. */
interface Phase {
  counters: ReplyOf<'counters'>;
  cpu: CpuSplit;
  commands: number;
}

// ---------------------------------------------------------------------------------------------
// The agents: `ws` clients in this process.

class Agents {
  readonly sockets: WebSocket[] = [];
  /** command_id → when its frame arrived (our clock). */
  private readonly received = new Map<string, number>();
  private readonly waiters = new Map<string, (at: number) => void>();
  /** Frames per thread id: how many, and when the last arrived. */
  readonly threads = new Map<string, { frames: number; lastAt: number }>();
  unexpectedFrames = 0;
  failedUpgrades: string[] = [];

  constructor(private readonly wsUrl: string) {}

  async connect(count: number, concurrency: number): Promise<number> {
    const started = now();
    let next = 0;
    const worker = async () => {
      while (next < count) {
        const i = next++;
        try {
          this.sockets[i] = await this.open(agentId(i));
        } catch (err) {
          this.failedUpgrades.push(`${agentId(i)}: ${describe(err)}`);
        }
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return now() - started;
  }

  private open(id: string): Promise<WebSocket> {
    const ws = new WebSocket(`${this.wsUrl}?edge_agent_id=${id}`, {
      headers: { Authorization: `Bearer ${EDGE_SECRET}` },
      perMessageDeflate: false,
      autoPong: true,
    });
    ws.on('message', (data) => this.onMessage(ws, data));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(new Error('no upgrade within 15 s'));
      }, 15_000);
      ws.once('open', () => {
        clearTimeout(timer);
        ws.on('error', () => undefined);
        resolve(ws);
      });
      ws.once('unexpected-response', (_req, res) => {
        clearTimeout(timer);
        reject(new Error(`upgrade refused: ${res.statusCode}`));
        ws.terminate();
      });
      ws.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
  }

  private onMessage(ws: WebSocket, data: WebSocket.RawData): void {
    const at = now();
    let frame: {
      type?: string;
      data?: { command_id?: string; payload?: { thread_id?: string } };
    };
    try {
      frame = JSON.parse(data.toString()) as typeof frame;
    } catch {
      this.unexpectedFrames++;
      return;
    }
    const id = frame.data?.command_id;
    if (frame.type !== 'command' || typeof id !== 'string') {
      if (frame.type !== 'pong') this.unexpectedFrames++;
      return;
    }
    ws.send(
      JSON.stringify({
        type: 'command_ack',
        data: { command_id: id, status: 'completed', completed_at: new Date().toISOString() },
      }),
    );
    const thread = frame.data?.payload?.thread_id ?? '';
    const counts = this.threads.get(thread) ?? { frames: 0, lastAt: 0 };
    counts.frames++;
    counts.lastAt = at;
    this.threads.set(thread, counts);
    const waiter = this.waiters.get(id);
    if (waiter) {
      this.waiters.delete(id);
      waiter(at);
    } else {
      this.received.set(id, at);
    }
  }

  /** When the frame of this command arrived (now or later), our clock. */
  frame(commandId: string, timeoutMs = 10_000): Promise<number> {
    const at = this.received.get(commandId);
    if (at !== undefined) {
      this.received.delete(commandId);
      return Promise.resolve(at);
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(commandId);
        reject(new Error(`no frame for command ${commandId} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.waiters.set(commandId, (t) => {
        clearTimeout(timer);
        resolve(t);
      });
    });
  }

  async close(): Promise<void> {
    const open = this.sockets.filter(Boolean);
    const closed = open.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          ws.once('close', () => resolve());
        }),
    );
    for (const ws of open) ws.terminate();
    await Promise.all(closed);
  }
}

// ---------------------------------------------------------------------------------------------
// One server, measured.

interface Memory {
  rss: number;
  heapUsed: number;
  external: number;
}

interface Measured {
  name: string;
  before: Memory;
  after: Memory;
  gc: boolean;
  connectMs: number;
  clockRtt: number;
  /** created → received, ms. */
  unicast: number[];
  /** create() called → received, ms. */
  unicastFull: number[];
  /** create() called → resolved, ms. */
  createMs: number[];
  unicastPhase: Phase;
  fanout: { createdMs: number; framesMs: number; ackedMs: number; failed: number };
  fanoutPhase: Phase;
}

async function measure(server: Server, waitAcked: () => Promise<number>): Promise<Measured> {
  const alive = () => {
    if (server.exited) throw new Error(`the ${server.name} died during the run`);
  };
  await sleep(1000);
  const before = await ask(server, { cmd: 'memory' }, 'memory', 30_000);
  log(`${server.name}: RSS ${mib(before.rss)} MiB; connecting ${fmt(AGENTS)} agents…`);

  const agents = new Agents(server.wsUrl);
  cleanups.push({ name: `close the ${server.name}'s agents`, run: () => agents.close() });
  const connectMs = await agents.connect(AGENTS, CONNECT_CONCURRENCY);
  if (agents.failedUpgrades.length) {
    throw new Error(
      `${agents.failedUpgrades.length} agent(s) could not connect to the ${server.name}, e.g. ` +
        agents.failedUpgrades.slice(0, 3).join('; '),
    );
  }
  const deadline = Date.now() + 30_000;
  for (;;) {
    const { count } = await ask(server, { cmd: 'connected' }, 'connected');
    if (count === AGENTS) break;
    if (Date.now() > deadline) throw new Error(`the ${server.name} holds ${count} sockets`);
    await sleep(100);
  }
  alive();
  log(
    `  connected in ${fmt(connectMs / 1000, 1)} s (${fmt((AGENTS * 1000) / connectMs)} /s); ` +
      `idle ${IDLE_WAIT_MS / 1000} s…`,
  );
  await sleep(IDLE_WAIT_MS);
  const after = await ask(server, { cmd: 'memory' }, 'memory', 30_000);
  log(
    `  RSS ${mib(after.rss)} MiB → ${fmt((after.rss - before.rss) / AGENTS / 1024, 1)} KiB per connection`,
  );

  // Unicast: one agent, one command at a time.
  const { offset, rtt } = await clockOffset(server);
  const toOurs = (theirs: number) => theirs - offset;
  const target = agentId(0);
  const unicast: number[] = [];
  const unicastFull: number[] = [];
  const createMs: number[] = [];
  let cpuBefore = cpuSnapshot(server.child.pid);
  log(`  unicast: ${UNICAST_WARMUP} warm-up + ${fmt(UNICAST)} commands to ${target}…`);
  for (let seq = 0; seq < UNICAST_WARMUP + UNICAST; seq++) {
    if (seq === UNICAST_WARMUP) {
      await sleep(200);
      await ask(server, { cmd: 'counters' }, 'counters');
      cpuBefore = cpuSnapshot(server.child.pid);
    }
    const created = await ask(
      server,
      { cmd: 'unicast', seq, to: target, threadId: UNICAST_THREAD, text: `Unicast ${seq}` },
      'unicast',
    );
    const receivedAt = await agents.frame(created.commandId);
    if (seq >= UNICAST_WARMUP) {
      unicast.push(receivedAt - toOurs(created.createdAt));
      unicastFull.push(receivedAt - toOurs(created.calledAt));
      createMs.push(created.createdAt - created.calledAt);
    }
    await sleep(UNICAST_GAP_MS);
  }
  await sleep(200);
  const unicastPhase: Phase = {
    counters: await ask(server, { cmd: 'counters' }, 'counters'),
    cpu: cpuSplit(cpuBefore, cpuSnapshot(server.child.pid)),
    commands: UNICAST,
  };
  alive();
  log(`  p50 ${fmt(pct(unicast, 0.5), 2)} ms, p99 ${fmt(pct(unicast, 0.99), 2)} ms`);

  // Fan-out: one command to each of FANOUT other agents, created at once in the server.
  await sleep(500);
  await ask(server, { cmd: 'counters' }, 'counters');
  cpuBefore = cpuSnapshot(server.child.pid);
  log(`  fan-out: one command to each of ${fmt(FANOUT)} agents…`);
  const to = Array.from({ length: FANOUT }, (_, i) => agentId(i + 1));
  const createdReply = ask(
    server,
    { cmd: 'fanout', to, threadId: FANOUT_THREAD, text: 'Fan-out' },
    'fanout',
    60_000,
  );
  // Waiting starts at once (the floor's last-ack message may come before `fanout`); the start
  // of the fan-out is the server's own clock reading before its loop, in the reply.
  const ackedAtOurs = await waitAcked();
  const fanoutPhase: Phase = {
    counters: await ask(server, { cmd: 'counters' }, 'counters'),
    cpu: cpuSplit(cpuBefore, cpuSnapshot(server.child.pid)),
    commands: FANOUT,
  };
  const created = await createdReply;
  if (created.failed) throw new Error(`${created.failed} fan-out command(s) were not created`);
  const startedAt = toOurs(created.startedAt);
  const thread = agents.threads.get(FANOUT_THREAD);
  if (!thread || thread.frames < FANOUT) {
    throw new Error(`only ${thread?.frames ?? 0} of ${FANOUT} fan-out frames arrived`);
  }
  const fanout = {
    createdMs: toOurs(created.createdAt) - startedAt,
    framesMs: thread.lastAt - startedAt,
    ackedMs: ackedAtOurs - startedAt,
    failed: created.failed,
  };
  alive();
  log(
    `  all created ${fmt(fanout.createdMs)} ms, all received ${fmt(fanout.framesMs)} ms, ` +
      `all acked ${fmt(fanout.ackedMs)} ms`,
  );
  if (agents.unexpectedFrames) log(`  (${agents.unexpectedFrames} unexpected frame(s) ignored)`);

  await agents.close();
  return {
    name: server.name,
    before,
    after,
    gc: before.gc && after.gc,
    connectMs,
    clockRtt: rtt,
    unicast,
    unicastFull,
    createMs,
    unicastPhase,
    fanout,
    fanoutPhase,
  };
}

// ---------------------------------------------------------------------------------------------
// Output.

function pct(values: number[], q: number): number {
  if (!values.length) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))];
}

const mib = (bytes: number) => fmt(bytes / 1024 / 1024, 1);

function perConnKiB(m: Measured, key: keyof Memory): number {
  return (m.after[key] - m.before[key]) / AGENTS / 1024;
}

function report(floor: Measured, api: Measured): void {
  const both = (f: (m: Measured) => string) => [f(floor), f(api)];
  const out: string[] = [];
  out.push(
    '',
    `Results: ${fmt(AGENTS)} idle agents; unicast: ${fmt(UNICAST)} commands to one agent, one at ` +
      `a time; fan-out: one command to each of ${fmt(FANOUT)} agents`,
    '',
  );
  out.push(
    table([
      ['', 'floor (bare ws)', 'API (/edge/ws)'],
      ['server RSS before (MiB)', ...both((m) => mib(m.before.rss))],
      [`server RSS with ${fmt(AGENTS)} idle sockets (MiB)`, ...both((m) => mib(m.after.rss))],
      ['RSS per idle connection (KiB)', ...both((m) => fmt(perConnKiB(m, 'rss'), 1))],
      ['  of which JS heap (KiB)', ...both((m) => fmt(perConnKiB(m, 'heapUsed'), 1))],
      ['  of which external (KiB)', ...both((m) => fmt(perConnKiB(m, 'external'), 1))],
      [`connecting ${fmt(AGENTS)} (s)`, ...both((m) => fmt(m.connectMs / 1000, 1))],
      ['unicast created → received p50 (ms)', ...both((m) => fmt(pct(m.unicast, 0.5), 2))],
      ['unicast created → received p99 (ms)', ...both((m) => fmt(pct(m.unicast, 0.99), 2))],
      ['unicast created → received max (ms)', ...both((m) => fmt(pct(m.unicast, 1), 2))],
      ['create() itself p50 / p99 (ms)', ...both((m) => p5099(m.createMs))],
      ['create() called → received p50 / p99 (ms)', ...both((m) => p5099(m.unicastFull))],
      [`fan-out ${fmt(FANOUT)}: all created (ms)`, ...both((m) => fmt(m.fanout.createdMs))],
      [`fan-out ${fmt(FANOUT)}: all received (ms)`, ...both((m) => fmt(m.fanout.framesMs))],
      [`fan-out ${fmt(FANOUT)}: all acked (ms)`, ...both((m) => fmt(m.fanout.ackedMs))],
    ]),
  );
  out.push(
    '',
    `While measured (CPU in % of one core; this machine has ${cpus().length} cores)`,
    '',
  );
  const phases: [string, (m: Measured) => Phase][] = [
    ['unicast', (m) => m.unicastPhase],
    ['fan-out', (m) => m.fanoutPhase],
  ];
  const rows: string[][] = [['', 'floor unicast', 'floor fan-out', 'API unicast', 'API fan-out']];
  const row = (label: string, f: (p: Phase, m: Measured) => string) =>
    rows.push([label, ...[floor, api].flatMap((m) => phases.map(([, phase]) => f(phase(m), m)))]);
  const api_ = (f: (p: Phase) => string) => (p: Phase, m: Measured) => (m === floor ? '–' : f(p));
  row(
    'SQL statements per command (+ its ack)',
    api_((p) => fmt(p.counters.sql / p.commands, 1)),
  );
  row(
    'Redis commands per command (+ its ack)',
    api_((p) => fmt(p.counters.redis / p.commands, 1)),
  );
  row('server event loop busy', (p) => `${fmt(100 * p.counters.elu)} %`);
  row(
    'DB pool: clients busy / queries waiting (avg)',
    api_((p) => `${fmt(p.counters.poolBusy, 1)} / ${fmt(p.counters.poolWaiting, 1)}`),
  );
  row('CPU server process', (p) => `${fmt(p.cpu.server)} %`);
  row('CPU agents (this process)', (p) => `${fmt(p.cpu.agents)} %`);
  row(
    'CPU postgres: bench database backends',
    api_((p) => `${fmt(p.cpu.postgresOurs)} %`),
  );
  row('CPU postgres: all processes', (p) => `${fmt(p.cpu.postgresAll)} %`);
  row('CPU redis', (p) => `${fmt(p.cpu.redis)} %`);
  row('CPU whole machine', (p) => `${fmt(p.cpu.machineBusy)} %`);
  out.push(table(rows));
  out.push(
    '  "whole machine" minus the rows above is whatever else ran meanwhile (other sessions).',
  );
  out.push(
    '',
    `  RSS after a full GC (${floor.gc && api.gc ? 'yes' : 'NO: run without --expose-gc'}); ` +
      `clock offset to the servers known within ±${fmt(Math.max(floor.clockRtt, api.clockRtt) / 2, 3)} ms.`,
    '  Floor: "created" = just before ws.send in the server; "acked" = the server read the last ack.',
    '  API: "created" = EdgeCommandsService.create resolved (row written, announced on Redis);',
    `  "acked" = SELECT count(*) saw every row acked (polled every ${POLL_MS} ms).`,
    '',
    'Targets',
    '',
  );
  const floorKiB = perConnKiB(floor, 'rss');
  const apiKiB = perConnKiB(api, 'rss');
  const p99 = pct(api.unicast, 0.99);
  out.push(
    table([
      ['target', 'measured', 'verdict'],
      [
        `RSS per connection ≤ ${TARGET_RSS_RATIO}× the floor`,
        `${fmt(apiKiB, 1)} KiB vs ${TARGET_RSS_RATIO} × ${fmt(floorKiB, 1)} = ${fmt(TARGET_RSS_RATIO * floorKiB, 1)} KiB (${fmt(apiKiB / floorKiB, 2)}×)`,
        verdict(apiKiB <= TARGET_RSS_RATIO * floorKiB),
      ],
      [
        `single-command p99 ≤ ${TARGET_P99_MS} ms`,
        `${fmt(p99, 2)} ms`,
        verdict(p99 <= TARGET_P99_MS),
      ],
      [
        `${fmt(FANOUT)} commands delivered and acked ≤ ${fmt(TARGET_FANOUT_MS)} ms`,
        `${fmt(api.fanout.ackedMs)} ms`,
        verdict(api.fanout.ackedMs <= TARGET_FANOUT_MS),
      ],
    ]),
  );
  process.stdout.write(`${out.join('\n')}\n`);
}

const verdict = (ok: boolean) => (ok ? 'MET' : 'MISSED');
const p5099 = (values: number[]) => `${fmt(pct(values, 0.5), 2)} / ${fmt(pct(values, 0.99), 2)}`;

/** How busy the machine is (other sessions' tests skew the figures), % of one core. */
async function machineBusy(ms: number): Promise<number | undefined> {
  const a = cpuSnapshot(undefined);
  await sleep(ms);
  return cpuSplit(a, cpuSnapshot(undefined)).machineBusy;
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const redisPrefix = `bench-edge-${process.pid}`;
  const poolSize = process.env.DB_POOL_SIZE ?? '10';
  const { soft } = fdLimits();
  log(
    `bench:edge — ${fmt(AGENTS)} agents (ws clients here, permessage-deflate off, auto-pong), ` +
      `unicast ${fmt(UNICAST)}, fan-out ${fmt(FANOUT)}; ulimit -n ${soft}`,
  );
  log(
    `node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown'}); ` +
      `API: NODE_ENV=test APP_ROLE=api LOG_LEVEL=warn DB_POOL_SIZE=${poolSize}`,
  );
  const busy = await machineBusy(1000);
  log(
    `machine busy before start: ${fmt(busy)} % of ${cpus().length * 100} %` +
      (busy !== undefined && busy > 20 ? ' — something else is running; figures will suffer' : ''),
  );

  // 1. The floor.
  const floorServer = await startServer('floor', 'floor.js', { ...process.env }, '/edge/ws');
  log(`floor: pid ${floorServer.child.pid}, ${floorServer.wsUrl}`);
  const floor = await measure(floorServer, async () => {
    const acked = await new Promise<ReplyOf<'fanout-acked'>>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('fan-out not acked within 30 s')), 30_000);
      const onMessage = (m: Reply) => {
        if (m.type !== 'fanout-acked') return;
        clearTimeout(timer);
        floorServer.child.off('message', onMessage);
        resolve(m);
      };
      floorServer.child.on('message', onMessage);
    });
    const { offset } = await clockOffset(floorServer);
    return acked.at - offset;
  });
  await floorServer.stop();

  // 2. The API.
  const { url: databaseUrl, name: benchDb } = await createBenchDatabase('edge');
  benchDbName = benchDb;
  const dataDir = mkdtempSync(join(tmpdir(), 'archety-bench-edge-'));
  cleanups.push({ name: 'remove data dir', run: async () => rmSync(dataDir, { recursive: true }) });
  cleanups.push({ name: 'clear Redis keys', run: () => clearRedisPrefix(redisPrefix, redisUrl) });
  const started = now();
  const apiServer = await startServer(
    'API',
    'api.js',
    {
      ...process.env,
      NODE_ENV: 'test',
      APP_ROLE: 'api',
      PORT: '0',
      LOG_LEVEL: 'warn',
      DATA_DIR: dataDir,
      DATABASE_URL: databaseUrl,
      DB_MIGRATIONS_RUN: 'true',
      DB_POOL_SIZE: poolSize,
      REDIS_URL: redisUrl,
      REDIS_KEY_PREFIX: redisPrefix,
      EDGE_SECRET,
      ADMIN_API_KEY,
      JWT_SECRET,
    },
    '/edge/ws',
  );
  log(
    `API: pid ${apiServer.child.pid}, ${apiServer.wsUrl} (started in ${fmt((now() - started) / 1000, 1)} s)`,
  );
  const db = new Client({ connectionString: databaseUrl });
  await db.connect();
  cleanups.push({ name: 'close the count connection', run: () => db.end() });
  const api = await measure(apiServer, async () => {
    const deadline = now() + 30_000;
    for (;;) {
      const { rows } = await db.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM edge_commands
         WHERE payload->>'thread_id' = $1 AND status = 'acked'`,
        [FANOUT_THREAD],
      );
      const at = now();
      if (rows[0].n >= FANOUT) return at;
      if (at > deadline) throw new Error(`only ${rows[0].n} of ${FANOUT} fan-out rows acked`);
      await sleep(POLL_MS);
    }
  });

  report(floor, api);
}

if (ensureFileDescriptors()) runBench('bench:edge', main);
