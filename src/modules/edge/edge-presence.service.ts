import { Inject, Injectable, Logger } from '@nestjs/common';
import Redis from 'ioredis';
import { EDGE_TIMINGS, EdgeTimings } from './edge-timings';
import { presenceKey } from './edge-pubsub';

/** Deletes the key only when it still names this instance (a newer connection elsewhere stays). */
const DELETE_IF_OURS = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end return 0`;
/** Extends the key when it names this instance or has lapsed; never takes over another's. */
const REFRESH_IF_OURS = `local v = redis.call('get', KEYS[1])
if v == false or v == ARGV[1] then redis.call('set', KEYS[1], ARGV[1], 'PX', ARGV[2]) return 1 end
return 0`;

/**
 * Which agents have an open socket, across every API instance: `edge:presence:<agentId>` holds
 * the id of the instance that has it, with a TTL the gateway refreshes while the socket lives (so
 * a crashed instance's agents read as disconnected within the TTL, 60 s by default).
 */
@Injectable()
export class EdgePresenceService {
  private readonly logger = new Logger(EdgePresenceService.name);
  /** Agents whose socket is on this instance: answered without Redis. */
  private readonly local = new Set<string>();

  constructor(
    private readonly redis: Redis,
    @Inject(EDGE_TIMINGS) private readonly timings: EdgeTimings,
  ) {}

  /**
   * True when the agent's WebSocket is open on some API instance. A Redis outage reads as
   * "not connected" (unless the socket is on this instance): replies then go over HTTP.
   */
  async isConnected(agentId: string): Promise<boolean> {
    if (this.local.has(agentId)) return true;
    return (await this.instanceOf(agentId)) !== null;
  }

  /** The id of the API instance holding the agent's socket, or null. */
  async instanceOf(agentId: string): Promise<string | null> {
    try {
      return await this.redis.get(presenceKey(agentId));
    } catch (err) {
      this.logger.warn(`presence of ${agentId} unknown (redis): ${(err as Error).message}`);
      return null;
    }
  }

  /** The instance of each agent (null when not connected), in one round trip. */
  async instancesOf(agentIds: string[]): Promise<Map<string, string | null>> {
    const result = new Map<string, string | null>(agentIds.map((id) => [id, null]));
    if (agentIds.length === 0) return result;
    try {
      const values = await this.redis.mget(agentIds.map(presenceKey));
      agentIds.forEach((id, i) => result.set(id, values[i] ?? null));
    } catch (err) {
      this.logger.warn(`presence unknown (redis): ${(err as Error).message}`);
    }
    return result;
  }

  // ---- for the gateway ----

  /** A socket for the agent opened on `instanceId`: it now holds the agent (newest wins). */
  async attach(agentId: string, instanceId: string): Promise<void> {
    this.local.add(agentId);
    await this.redis
      .set(presenceKey(agentId), instanceId, 'PX', this.timings.presenceTtlMs)
      .catch((err: Error) =>
        this.logger.warn(`presence of ${agentId} not recorded: ${err.message}`),
      );
  }

  /** The agent's last socket on `instanceId` closed. */
  async detach(agentId: string, instanceId: string): Promise<void> {
    this.local.delete(agentId);
    await this.redis
      .eval(DELETE_IF_OURS, 1, presenceKey(agentId), instanceId)
      .catch((err: Error) =>
        this.logger.warn(`presence of ${agentId} not cleared: ${err.message}`),
      );
  }

  /** Keeps the presence of the agents held by `instanceId` alive. */
  async refresh(agentIds: string[], instanceId: string): Promise<void> {
    if (agentIds.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const id of agentIds) {
      pipeline.eval(REFRESH_IF_OURS, 1, presenceKey(id), instanceId, this.timings.presenceTtlMs);
    }
    await pipeline
      .exec()
      .catch((err: Error) => this.logger.warn(`presence not refreshed: ${err.message}`));
  }
}
