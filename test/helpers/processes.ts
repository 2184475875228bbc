import { ChildProcessByStdio, spawn, SpawnOptions } from 'node:child_process';
import { createServer } from 'node:net';
import { Readable } from 'node:stream';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

/** A child process whose whole output is kept, for `waitFor` and for the failure message. */
export interface RunningProcess {
  readonly name: string;
  readonly child: ChildProcessByStdio<null, Readable, Readable>;
  output(): string;
  /** Output written from `offset` on (see `mark`). */
  outputSince(offset: number): string;
  /** The current end of the output: a later `waitFor(…, { since })` ignores what came before. */
  mark(): number;
  waitFor(
    pattern: RegExp,
    options?: { timeoutMs?: number; since?: number },
  ): Promise<RegExpMatchArray>;
  readonly exit: Promise<ProcessExit>;
  readonly exited: boolean;
  /** Sends the signal and waits for the exit (SIGKILL after `timeoutMs`). */
  stop(signal?: NodeJS.Signals, timeoutMs?: number): Promise<ProcessExit>;
}

export function startProcess(
  name: string,
  command: string,
  args: string[],
  options: Pick<SpawnOptions, 'env' | 'uid' | 'gid' | 'cwd'> = {},
): RunningProcess {
  // No stdin: an open pipe to a child would keep the test process alive after the child is gone.
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let exited = false;
  child.stdout.on('data', (d: Buffer) => (output += d.toString()));
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));
  // A spawn failure (ENOENT) surfaces as an exit, not as an unhandled 'error' event.
  child.on('error', (err) => (output += `\n[spawn error] ${err.message}\n`));
  const exit = new Promise<ProcessExit>((resolve) =>
    child.on('close', (code, signal) => {
      exited = true;
      resolve({ code, signal, at: Date.now() });
    }),
  );
  const proc: RunningProcess = {
    name,
    child,
    output: () => output,
    outputSince: (offset) => output.slice(offset),
    mark: () => output.length,
    exit,
    get exited() {
      return exited;
    },
    async waitFor(pattern, { timeoutMs = 30_000, since = 0 } = {}) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const match = output.slice(since).match(pattern);
        if (match) return match;
        if (Date.now() > deadline || exited) {
          throw new Error(
            `${name}: no ${pattern} within ${timeoutMs} ms${exited ? ' (process exited)' : ''}; output:\n${tail(output)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 50));
      }
    },
    async stop(signal = 'SIGTERM', timeoutMs = 15_000) {
      if (exited) return exit;
      child.kill(signal);
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exit;
      } finally {
        clearTimeout(timer);
      }
    },
  };
  return proc;
}

/** A node script of this repository (usually `dist/…`) with exactly this environment. */
export function startNode(
  name: string,
  script: string,
  env: Record<string, string>,
): RunningProcess {
  return startProcess(name, process.execPath, [script], {
    env: { PATH: process.env.PATH ?? '', ...env },
  });
}

/** A TCP port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function tail(text: string, lines = 60): string {
  return text.split('\n').slice(-lines).join('\n');
}
