import { Injectable, Logger, NotFoundException } from '@nestjs/common';
import Redis from 'ioredis';
import { newApiKey } from './api-key';
import {
  ApiClientChanges,
  ApiClientRow,
  ApiClientScope,
  ApiClientsRepository,
  DailyUsage,
  API_CLIENT_SCOPES,
} from './api-clients.repository';

/** What every client-token request checks: cheap (Redis), at most STATUS_TTL_SECONDS stale. */
export interface ApiClientStatus {
  active: boolean;
  keyGeneration: number;
  rateLimitPerMin: number | null;
  monthlyTokenBudget: number | null;
  scopes: ApiClientScope[];
}

/**
 * Bounds how stale a cached status may get if an invalidation is lost (every admin change
 * deletes the entry, so normally a change applies to the very next request).
 */
const STATUS_TTL_SECONDS = 30;
const statusKey = (id: string) => `api-client-status:${id}`;

/** Manages API clients and their keys; the one source of a client's live status. */
@Injectable()
export class AdminClientsService {
  private readonly logger = new Logger(AdminClientsService.name);

  constructor(
    private readonly repo: ApiClientsRepository,
    private readonly redis: Redis,
  ) {}

  list(): Promise<ApiClientRow[]> {
    return this.repo.list();
  }

  async get(id: string): Promise<ApiClientRow> {
    const client = await this.repo.find(id);
    if (!client) throw new NotFoundException(`No API client ${id}`);
    return client;
  }

  /** Creates the client; the returned key is never stored or shown again. */
  async create(input: {
    name: string;
    scopes?: ApiClientScope[];
    rateLimitPerMin?: number | null;
    monthlyTokenBudget?: number | null;
  }): Promise<{ client: ApiClientRow; apiKey: string }> {
    const { key, prefix, hash } = await newApiKey();
    const client = await this.repo.create({
      name: input.name,
      scopes: dedupe(input.scopes ?? [...API_CLIENT_SCOPES]),
      rateLimitPerMin: input.rateLimitPerMin ?? null,
      monthlyTokenBudget: input.monthlyTokenBudget ?? null,
      keyPrefix: prefix,
      keyHash: hash,
    });
    this.logger.log(`API client ${client.id} created (key prefix ${prefix})`);
    return { client, apiKey: key };
  }

  async update(id: string, changes: ApiClientChanges): Promise<ApiClientRow> {
    if (changes.scopes) changes = { ...changes, scopes: dedupe(changes.scopes) };
    const client = await this.repo.update(id, changes);
    await this.invalidate(id);
    if (!client) throw new NotFoundException(`No API client ${id}`);
    return client;
  }

  /** A new key; the old key and every token issued for it stop working at once. */
  async regenerateKey(id: string): Promise<{ client: ApiClientRow; apiKey: string }> {
    const { key, prefix, hash } = await newApiKey();
    const client = await this.repo.rekey(id, prefix, hash);
    await this.invalidate(id);
    if (!client) throw new NotFoundException(`No API client ${id}`);
    this.logger.log(`API client ${id} re-keyed (key prefix ${prefix})`);
    return { client, apiKey: key };
  }

  async delete(id: string): Promise<void> {
    const deleted = await this.repo.delete(id);
    await this.invalidate(id);
    if (!deleted) throw new NotFoundException(`No API client ${id}`);
    this.logger.log(`API client ${id} deleted`);
  }

  async usage(id: string, days: number): Promise<DailyUsage[]> {
    await this.get(id);
    return this.repo.dailyUsage(id, days);
  }

  /**
   * The client's status for a token check: from Redis, else Postgres (then cached). `null` when
   * the client no longer exists. With Redis down, Postgres answers every time.
   */
  async status(id: string): Promise<ApiClientStatus | null> {
    const cached = await this.redis.get(statusKey(id)).catch(() => undefined);
    if (cached) return JSON.parse(cached) as ApiClientStatus | null;
    const row = await this.repo.find(id);
    const status: ApiClientStatus | null = row
      ? {
          active: row.active,
          keyGeneration: row.keyGeneration,
          rateLimitPerMin: row.rateLimitPerMin,
          monthlyTokenBudget: row.monthlyTokenBudget,
          scopes: row.scopes,
        }
      : null;
    await this.redis
      .set(statusKey(id), JSON.stringify(status), 'EX', STATUS_TTL_SECONDS)
      .catch(() => undefined);
    return status;
  }

  /**
   * After every change (committed). A request that read the old row just before the commit could
   * cache it again after this delete, so the entry is deleted once more a moment later.
   */
  private async invalidate(id: string): Promise<void> {
    const drop = () =>
      this.redis
        .del(statusKey(id))
        .catch((err: Error) => this.logger.warn(`client status not invalidated: ${err.message}`));
    await drop();
    setTimeout(() => void drop(), 500).unref();
  }
}

function dedupe<T>(values: T[]): T[] {
  return [...new Set(values)];
}
