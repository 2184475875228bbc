import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import Redis from 'ioredis';
import { freePort, RunningProcess, startProcess } from './processes';

/**
 * A redis-server of the test's own on a free port, so a test may stop, restart and flush it
 * without touching the machine's shared Redis. Append-only with an fsync per write: what was
 * acknowledged before a stop is there after the restart, as with a production Redis that keeps
 * its data.
 */
export class PrivateRedis {
  private server?: RunningProcess;
  /** Every server process started, restarts included (for the logs). */
  private readonly started: RunningProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  static async create(parentDir: string): Promise<PrivateRedis> {
    const dir = join(parentDir, 'redis');
    mkdirSync(dir, { recursive: true });
    const redis = new PrivateRedis(dir, await freePort());
    await redis.start();
    return redis;
  }

  /** SIGKILL, without waiting (a last resort when the test process exits). */
  kill(): void {
    if (this.running) this.server!.child.kill('SIGKILL');
  }

  /** Every server process so far (one per start), for the logs. */
  get processes(): readonly RunningProcess[] {
    return this.started;
  }

  get running(): boolean {
    return this.server !== undefined && !this.server.exited;
  }

  async start(): Promise<void> {
    if (this.running) return;
    this.server = startProcess('redis-server', 'redis-server', [
      '--port',
      String(this.port),
      '--bind',
      '127.0.0.1',
      '--dir',
      this.dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'always',
      '--save',
      '',
      // What BullMQ requires in production (README, Operations).
      '--maxmemory-policy',
      'noeviction',
    ]);
    this.started.push(this.server);
    const deadline = Date.now() + 15_000;
    while (!(await this.answers())) {
      if (this.server.exited || Date.now() > deadline) {
        throw new Error(`redis-server did not start:\n${this.server.output()}`);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** SIGTERM: redis-server finishes its append-only file and exits; `start` reloads it. */
  async stop(): Promise<void> {
    await this.server?.stop('SIGTERM', 10_000);
  }

  /** SIGKILL, as a crash or a pulled cable: nothing is flushed or closed cleanly. */
  async crash(): Promise<void> {
    await this.server?.stop('SIGKILL');
  }

  /** A short-lived client for the test's own reads and writes (FLUSHALL, key checks). */
  async run<T>(use: (client: Redis) => Promise<T>): Promise<T> {
    const client = new Redis(this.url, {
      maxRetriesPerRequest: 1,
      lazyConnect: true,
      retryStrategy: () => null,
    });
    client.on('error', () => undefined);
    try {
      await client.connect();
      return await use(client);
    } finally {
      client.disconnect();
    }
  }

  private async answers(): Promise<boolean> {
    try {
      return (await this.run((c) => c.ping())) === 'PONG';
    } catch {
      return false;
    }
  }
}
