import { withDatabase } from '../test/helpers/database';

/**
 * What every benchmark script shares: knobs from the environment, number formatting, a private
 * database and Redis prefix, tear-down that runs however the script ends, and the runner.
 */

/** An integer knob from the environment (BENCH_*), at least `min`. */
export function intEnv(name: string, fallback: number, min = 1): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) {
    throw new Error(`${name} must be an integer ≥ ${min}`);
  }
  return value;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export const describe = (err: unknown) => (err instanceof Error ? err.message : String(err));

export const fmt = (n: number | undefined, digits = 0) =>
  n === undefined || !Number.isFinite(n)
    ? 'n/a'
    : n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });

/** The p-th percentile (0–100) of ascending values, nearest rank; NaN when there are none. */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  if (!sorted.length) return NaN;
  const rank = Math.ceil((p / 100) * sorted.length) - 1;
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank))];
}

/** A text table: the first column left-aligned, the others right-aligned. */
export function table(rows: string[][]): string {
  const widths = rows[0].map((_, i) => Math.max(...rows.map((r) => r[i].length)));
  return rows
    .map((r) => r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]) : cell.padStart(widths[i]))))
    .map((r) => `  ${r.join('   ')}`)
    .join('\n');
}

/** Tear-down steps, run newest first by cleanup() whether the script ends, fails or is stopped. */
export const cleanups: { name: string; run: () => Promise<void> }[] = [];
let cleaning: Promise<void> | undefined;

export function cleanup(): Promise<void> {
  cleaning ??= (async () => {
    for (const { name, run } of cleanups.reverse()) {
      try {
        await run();
      } catch (err) {
        process.stderr.write(`cleanup (${name}) failed: ${describe(err)}\n`);
      }
    }
  })();
  return cleaning;
}

/**
 * An empty database of the script's own on DATABASE_URL's server (the API migrates it), dropped
 * at clean-up. Its name carries the script and the pid, so runs never meet.
 */
export async function createBenchDatabase(label: string): Promise<{ url: string; name: string }> {
  const server = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
  const name = `archety_bench_${label}_${process.pid}`;
  const drop = () =>
    withDatabase(server, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`));
  await drop();
  await withDatabase(server, (c) => c.query(`CREATE DATABASE ${name}`));
  cleanups.push({ name: `drop database ${name}`, run: async () => void (await drop()) });
  const url = new URL(server);
  url.pathname = `/${name}`;
  return { url: url.toString(), name };
}

/**
 * Runs a script's main: exit 0 when it returns anything but false, 1 when it returns false or
 * throws; clean-up always runs first, and SIGINT/SIGTERM clean up and exit 130. `onStop` runs
 * as the script begins to stop (children exiting then are expected).
 */
export function runBench(
  script: string,
  main: () => Promise<boolean | void>,
  onStop: () => void = () => undefined,
): void {
  let interrupted = false;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      interrupted = true;
      onStop();
      process.stderr.write(`${signal}: cleaning up\n`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  main()
    .then(
      (ok) => (ok === false ? 1 : 0),
      (err: unknown) => {
        process.stderr.write(
          `${script} failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        return 1;
      },
    )
    .then(async (code) => {
      onStop();
      await cleanup();
      if (!interrupted) process.exit(code);
    });
}
