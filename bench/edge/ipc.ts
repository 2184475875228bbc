/**
 * The IPC between bench/edge/main.ts and its two servers (floor.ts, api.ts): both children answer
 * the same requests, so main.ts measures them the same way.
 *
 * Times are `performance.timeOrigin + performance.now()` (ms, sub-ms resolution) in the process
 * that took them; main.ts measures the offset between its clock and a child's (`clock`) and
 * converts.
 */

export type Request =
  /** Answered with `clock`: the child's time now. */
  | { cmd: 'clock' }
  /** Answered with `memory`, after a full GC when the child runs with --expose-gc. */
  | { cmd: 'memory' }
  /** Answered with `connected`: the sockets the server holds. */
  | { cmd: 'connected' }
  /** Answered with `counters` (SQL statements, Redis commands since the previous one). */
  | { cmd: 'counters' }
  /** One command to one agent, answered with `unicast`. */
  | { cmd: 'unicast'; seq: number; to: string; threadId: string; text: string }
  /** One command to each agent, answered with `fanout` once every one was created. */
  | { cmd: 'fanout'; to: string[]; threadId: string; text: string };

export type Reply =
  | { type: 'listening'; port: number }
  | { type: 'clock'; now: number }
  | {
      type: 'memory';
      gc: boolean;
      rss: number;
      heapUsed: number;
      external: number;
      arrayBuffers: number;
    }
  | { type: 'connected'; count: number }
  | {
      type: 'counters';
      sql: number;
      redis: number;
      /** Share of wall time the event loop was busy (1 = the JS thread is saturated). */
      elu: number;
      /** Averages over 10 ms samples: pool clients checked out, queries queued for one. */
      poolBusy: number;
      poolWaiting: number;
    }
  | {
      type: 'unicast';
      seq: number;
      /** The id the frame carries. */
      commandId: string;
      /** Before `create` was called (API) / before the frame was sent (floor). */
      calledAt: number;
      /** `create` resolved: row written, announced on Redis (API) / frame sent (floor). */
      createdAt: number;
    }
  | {
      type: 'fanout';
      /** Before the first command was created (or sent). */
      startedAt: number;
      /** Every `create` resolved (API) / every frame sent (floor). */
      createdAt: number;
      failed: number;
    }
  /** Floor only: the last ack of the fan-out arrived. */
  | { type: 'fanout-acked'; at: number }
  | { type: 'error'; message: string };

export const now = (): number => performance.timeOrigin + performance.now();

/** A full collection, twice (the second frees what the first's finalisers released). */
export function collect(): boolean {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) return false;
  gc();
  gc();
  return true;
}

export function memoryReply(): Reply {
  const gc = collect();
  const m = process.memoryUsage();
  return {
    type: 'memory',
    gc,
    rss: m.rss,
    heapUsed: m.heapUsed,
    external: m.external,
    arrayBuffers: m.arrayBuffers,
  };
}
