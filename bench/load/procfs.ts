import { readdirSync, readFileSync } from 'node:fs';
import { cpus } from 'node:os';

/** What bench:load reads about processes from /proc (Linux). */

const CLK_TCK = 100;

/** Resident set size in KiB (`VmRSS` of /proc/<pid>/status), undefined once the process is gone. */
export function rssKiB(pid: number): number | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB$/m.exec(status);
    return match ? Number(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

/** CPU time (user + system) a process has used, in ms. */
export function cpuMs(pid: number | string): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return undefined;
  }
}

/** Busy and total jiffies of the whole machine (idle and iowait count as not busy). */
function machineTicks(): { busy: number; total: number } | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n')[0];
    const ticks = line.trim().split(/\s+/).slice(1, 9).map(Number);
    const total = ticks.reduce((a, b) => a + b, 0);
    return { busy: total - ticks[3] - ticks[4], total };
  } catch {
    return undefined;
  }
}

/** CPU of every process named `comm` (postgres backends, redis-server), summed, in ms. */
function cpuOfName(comm: string): Map<number, number> {
  const out = new Map<number, number>();
  let entries: string[] = [];
  try {
    entries = readdirSync('/proc').filter((e) => /^\d+$/.test(e));
  } catch {
    return out;
  }
  for (const pid of entries) {
    try {
      if (readFileSync(`/proc/${pid}/comm`, 'utf8').trim() !== comm) continue;
    } catch {
      continue;
    }
    const ms = cpuMs(pid);
    if (ms !== undefined) out.set(Number(pid), ms);
  }
  return out;
}

export interface CpuSnapshot {
  at: number;
  pids: Map<number, number | undefined>;
  named: Map<string, Map<number, number>>;
  machine: { busy: number; total: number } | undefined;
}

const NAMED = ['postgres', 'redis-server'];

export function cpuSnapshot(pids: number[]): CpuSnapshot {
  return {
    at: performance.now(),
    pids: new Map(pids.map((pid) => [pid, cpuMs(pid)])),
    named: new Map(NAMED.map((name) => [name, cpuOfName(name)])),
    machine: machineTicks(),
  };
}

/** Percent of one core used between two snapshots, per pid, per name, and by the machine. */
export function cpuBetween(
  a: CpuSnapshot,
  b: CpuSnapshot,
): { pids: Map<number, number | undefined>; named: Map<string, number>; machine?: number } {
  const wallMs = b.at - a.at;
  const pct = (ms: number) => (100 * ms) / wallMs;
  const pids = new Map<number, number | undefined>();
  for (const [pid, before] of a.pids) {
    const after = b.pids.get(pid);
    pids.set(pid, before !== undefined && after !== undefined ? pct(after - before) : undefined);
  }
  const named = new Map<string, number>();
  for (const name of NAMED) {
    const before = a.named.get(name)!;
    let sum = 0;
    for (const [pid, ms] of b.named.get(name)!) sum += ms - (before.get(pid) ?? 0);
    named.set(name, pct(sum));
  }
  const machine =
    a.machine && b.machine
      ? (100 * cpus().length * (b.machine.busy - a.machine.busy)) /
        (b.machine.total - a.machine.total)
      : undefined;
  return { pids, named, machine };
}
