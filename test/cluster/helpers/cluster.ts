import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeOpenAI, startFakeOpenAI } from '../../fake-openai/fake-openai.server';
import { HttpInit, httpRequest, HttpResult } from '../../helpers/http';
import { PrivatePostgres } from '../../helpers/private-postgres';
import { PrivateRedis } from '../../helpers/private-redis';
import { freePort, RunningProcess, startNode } from '../../helpers/processes';
import { waitUntil } from '../../helpers/wait';

const DIST = join(__dirname, '..', '..', '..', 'dist');

export const SECRETS = {
  RELAY_WEBHOOK_SECRET: 'cluster-relay-secret-5d1f0a',
  EDGE_SECRET: 'cluster-edge-secret-9c2e7b',
  ADMIN_API_KEY: 'cluster-admin-key-3a8d4f',
  JWT_SECRET: 'cluster-jwt-secret-0123456789abcdef0123456789',
  OPENAI_API_KEY: 'sk-cluster-fake-key-not-real',
};

/** Per LLM attempt, and retries after the first: the hang test waits for all of them. */
export const LLM_TIMEOUT_MS = 2500;
export const LLM_MAX_RETRIES = 2;

/** The two worker pools, one per queue group, as a deployment splits them (README, Scaling). */
export const WORKER_POOLS = {
  photos: 'photo-analysis',
  background: 'memory-extraction,scheduled-messages',
} as const;
export type WorkerPool = keyof typeof WORKER_POOLS;
export type ApiName = 'a' | 'b';

/**
 * Lines no process may write, whatever a test does to it: a rejection nobody handled (bootstrap.ts,
 * logUnhandled), a crash, and a 500 (the error filter logs those at level 50; an outage is a 503).
 */
const NEVER = [
  /unhandled promise rejection|UnhandledPromiseRejection|uncaughtException/i,
  /"level":50,.*"context":"Exceptions"/,
];

export interface ApiInstance {
  name: ApiName;
  port: number;
  url: string;
  proc: RunningProcess;
}

/**
 * A deployment in miniature, from the built code (`dist/`): two API processes on their own
 * ports and two worker processes (one per queue group), against a private Postgres and a private
 * Redis (so a test may stop, restart and flush them) and the fake OpenAI server in this process
 * (so a test scripts the model). `NODE_ENV=production`, with every secret set, as deployed.
 */
export class Cluster {
  readonly apis = new Map<ApiName, ApiInstance>();
  readonly workers = new Map<WorkerPool, RunningProcess>();
  /** Every process ever started, stopped ones included, for the log checks. */
  readonly history: RunningProcess[] = [];
  /** Processes the tests stopped or killed on purpose: their exits are not crashes. */
  private readonly stoppedOnPurpose = new Set<RunningProcess>();

  private constructor(
    readonly name: string,
    readonly dir: string,
    readonly postgres: PrivatePostgres,
    readonly redis: PrivateRedis,
    readonly fake: FakeOpenAI,
    readonly databaseUrl: string,
  ) {}

  /** `name` names the log file `close()` leaves behind: `<tmpdir>/archety-cluster-<name>.log`. */
  static async start(name: string): Promise<Cluster> {
    if (!existsSync(join(DIST, 'main.js')) || !existsSync(join(DIST, 'worker.js'))) {
      throw new Error('dist/ is missing: run `npm run build` (npm test and test:cluster do)');
    }
    const dir = mkdtempSync(join(tmpdir(), 'archety-cluster-'));
    const started: { stop(): Promise<unknown> }[] = [];
    try {
      const [postgres, redis, fake] = await Promise.all([
        PrivatePostgres.create(dir),
        PrivateRedis.create(dir),
        startFakeOpenAI(),
      ]);
      started.push(postgres, redis, { stop: () => fake.close() });
      const databaseUrl = await postgres.createDatabase('archety');
      const cluster = new Cluster(name, dir, postgres, redis, fake, databaseUrl);
      // Should this test process die without its afterAll, no server outlives it.
      process.once('exit', () => cluster.kill());
      // The APIs migrate (under the advisory lock) before any worker touches the schema.
      await Promise.all([cluster.startApi('a'), cluster.startApi('b')]);
      await Promise.all([cluster.startWorker('photos'), cluster.startWorker('background')]);
      return cluster;
    } catch (err) {
      await Promise.all(started.map((s) => s.stop().catch(() => undefined)));
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** The environment every process gets (the role and port come on top). */
  env(): Record<string, string> {
    return {
      ...SECRETS,
      NODE_ENV: 'production',
      DATABASE_URL: this.databaseUrl,
      REDIS_URL: this.redis.url,
      REDIS_KEY_PREFIX: 'cluster',
      OPENAI_BASE_URL: this.fake.url,
      OPENAI_TIMEOUT_MS: String(LLM_TIMEOUT_MS),
      OPENAI_MAX_RETRIES: String(LLM_MAX_RETRIES),
      DATA_DIR: join(this.dir, 'data'),
      PHOTO_STORAGE_DIR: join(this.dir, 'photos'),
      DB_CONNECT_TIMEOUT_MS: '2000',
      LOG_LEVEL: 'info',
    };
  }

  api(name: ApiName): ApiInstance {
    const api = this.apis.get(name);
    if (!api) throw new Error(`API ${name} is not running`);
    return api;
  }

  /** Starts (or restarts, on the same port) an API process and waits until it listens. */
  async startApi(name: ApiName): Promise<ApiInstance> {
    const port = this.apis.get(name)?.port ?? (await freePort());
    const proc = startNode(`api-${name}`, join(DIST, 'main.js'), {
      ...this.env(),
      APP_ROLE: 'api',
      PORT: String(port),
    });
    this.history.push(proc);
    const api = { name, port, url: `http://127.0.0.1:${port}`, proc };
    this.apis.set(name, api);
    await proc.waitFor(/API listening/, { timeoutMs: 60_000 });
    return api;
  }

  async startWorker(pool: WorkerPool): Promise<RunningProcess> {
    const proc = startNode(`worker-${pool}`, join(DIST, 'worker.js'), {
      ...this.env(),
      APP_ROLE: 'worker',
      WORKER_QUEUES: WORKER_POOLS[pool],
    });
    this.history.push(proc);
    this.workers.set(pool, proc);
    await proc.waitFor(/worker started for queues/, { timeoutMs: 60_000 });
    return proc;
  }

  worker(pool: WorkerPool): RunningProcess {
    const proc = this.workers.get(pool);
    if (!proc) throw new Error(`worker ${pool} is not running`);
    return proc;
  }

  /** Stops a process on purpose (SIGTERM: graceful; SIGKILL: a crash the test causes). */
  async stop(proc: RunningProcess, signal: NodeJS.Signals = 'SIGTERM') {
    this.stoppedOnPurpose.add(proc);
    return proc.stop(signal);
  }

  request<T = Record<string, unknown>>(
    name: ApiName,
    method: string,
    path: string,
    init?: HttpInit,
  ): Promise<HttpResult<T>> {
    return httpRequest<T>(this.api(name).url, method, path, init);
  }

  /** `/health` of an API; a refused connection reads as status 0. */
  async health(name: ApiName): Promise<HttpResult<HealthBody>> {
    try {
      return await this.request<HealthBody>(name, 'GET', '/health', { timeoutMs: 10_000 });
    } catch (err) {
      return { status: 0, headers: new Headers(), body: {} as HealthBody, text: String(err) };
    }
  }

  /** Polls /health of the API until it answers `status` (returns the last answer either way). */
  untilHealth(name: ApiName, status: number, timeoutMs = 30_000) {
    return waitUntil(
      () => this.health(name),
      (res) => res.status === status,
      timeoutMs,
    );
  }

  /**
   * What must never happen in any process, whatever a test did to it (see NEVER), and exits
   * nobody asked for. Empty when all is well.
   */
  problems(): string[] {
    const problems: string[] = [];
    for (const proc of this.history) {
      const bad = proc
        .output()
        .split('\n')
        .filter((line) => NEVER.some((pattern) => pattern.test(line)));
      if (bad.length) problems.push(`${proc.name}: ${bad.slice(0, 3).join('\n')}`);
      if (proc.exited && !this.stoppedOnPurpose.has(proc)) {
        problems.push(
          `${proc.name} exited by itself:\n${proc.output().split('\n').slice(-20).join('\n')}`,
        );
      }
    }
    return problems;
  }

  /**
   * Stops everything, whatever state the tests left it in, and keeps every process's output in
   * `<tmpdir>/archety-cluster-<name>.log` for whoever investigates a failure.
   */
  async close(): Promise<void> {
    const running = this.history.filter((p) => !p.exited);
    await Promise.all(running.map((p) => p.stop('SIGTERM', 10_000).catch(() => undefined)));
    writeFileSync(join(tmpdir(), `archety-cluster-${this.name}.log`), this.logs());
    await Promise.all([
      this.redis.stop().catch(() => undefined),
      this.postgres.stop().catch(() => undefined),
      this.fake.close().catch(() => undefined),
    ]);
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Last resort (synchronous, for process 'exit'): SIGKILL whatever still runs. */
  kill(): void {
    for (const proc of this.history) if (!proc.exited) proc.child.kill('SIGKILL');
    this.redis.kill();
    this.postgres.kill();
  }

  /** The output of every process, for a failing test's message. */
  logs(): string {
    return [...this.history, ...this.postgres.processes, ...this.redis.processes]
      .map((p) => `----- ${p.name} (pid ${p.child.pid})\n${p.output()}`)
      .join('\n');
  }
}

export interface HealthBody {
  status: 'ok' | 'error';
  checks: Record<'database' | 'redis' | 'queues' | 'llm', { status: string; error?: string }>;
}
