import { AppConfig } from '../../core/config/app-config';

/**
 * The clocks of the edge WebSocket and of command delivery. One mutable object per app
 * (provider `EDGE_TIMINGS`), so that the legacy `/edge/sync` and the gateway agree, and a test can
 * shorten them at run time through `EdgeGateway.configure()`.
 */
export interface EdgeTimings {
  /** Protocol-level ping to every socket this often (the edge's `ws` answers by itself). */
  pingIntervalMs: number;
  /**
   * A socket silent this long (no pong, no frame) is terminated. Checked every tick (≤ 5 s), so a
   * dead socket goes within idleTimeoutMs + 5 s: 60 s by default (RELIABILITY row 26).
   */
  idleTimeoutMs: number;
  /** A delivered command without an ack is resent (same id) after this long. */
  resendAfterMs: number;
  /** Sends of one command before it is marked failed. */
  maxAttempts: number;
  /**
   * A message command not taken by its agent this long after its time (a `send_message_now`'s
   * creation, a `schedule_message`'s `send_at`) is failed instead of pushed: the grace scheduled
   * messages get too (MISSED_AFTER_MS).
   */
  messageGraceMs: number;
  /** Lifetime of the `edge:presence:<agent>` key, refreshed every ping interval. */
  presenceTtlMs: number;
  /** Authentication of an upgrade must finish within this, or the upgrade is refused (503). */
  upgradeTimeoutMs: number;
  /** On shutdown, sockets get this long to finish their close handshake before termination. */
  closeGraceMs: number;
}

export const EDGE_TIMINGS = Symbol('EDGE_TIMINGS');

export const DEFAULT_EDGE_TIMINGS: Readonly<EdgeTimings> = {
  pingIntervalMs: 20_000,
  idleTimeoutMs: 55_000,
  resendAfterMs: 10_000,
  maxAttempts: 10,
  messageGraceMs: 15 * 60_000,
  presenceTtlMs: 60_000,
  upgradeTimeoutMs: 5_000,
  closeGraceMs: 2_000,
};

/**
 * The defaults, overridden by any of these numbers found under `config.edge` (optional fields:
 * app-config may add them as EDGE_WS_PING_INTERVAL_MS, EDGE_WS_IDLE_TIMEOUT_MS,
 * EDGE_COMMAND_RESEND_MS, EDGE_COMMAND_MAX_ATTEMPTS without any change here).
 */
export function edgeTimingsFrom(config: AppConfig): EdgeTimings {
  const fromConfig = (config.edge ?? {}) as Partial<Record<keyof EdgeTimings, unknown>>;
  const timings: EdgeTimings = { ...DEFAULT_EDGE_TIMINGS };
  for (const key of Object.keys(timings) as (keyof EdgeTimings)[]) {
    const value = fromConfig[key];
    if (typeof value === 'number' && Number.isFinite(value) && value > 0) timings[key] = value;
  }
  return timings;
}
