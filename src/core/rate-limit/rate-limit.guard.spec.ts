import { ExecutionContext, HttpException } from '@nestjs/common';
import { GUARDS_METADATA } from '@nestjs/common/constants';
import { Reflector } from '@nestjs/core';
import { ThrottlerStorage } from '@nestjs/throttler';
import { AppConfig, loadConfig } from '../config/app-config';
import { RateLimit } from './rate-limit.decorator';
import { limitFor, RateLimitGuard, RateLimitRequest, trackerFor } from './rate-limit.guard';
import { RateLimitOptions } from './rate-limit.options';

type Record_ = Awaited<ReturnType<ThrottlerStorage['increment']>>;

/** A fixed-window storage in memory, recording every call (the Redis one has its own spec). */
class FakeStorage implements ThrottlerStorage {
  readonly hits = new Map<string, number>();
  readonly calls: { key: string; ttl: number; limit: number; name: string }[] = [];
  failWith?: Error;

  async increment(key: string, ttl: number, limit: number, _block: number, name: string) {
    if (this.failWith) throw this.failWith;
    this.calls.push({ key, ttl, limit, name });
    const bucket = `${name}:${key}`;
    const totalHits = (this.hits.get(bucket) ?? 0) + 1;
    this.hits.set(bucket, totalHits);
    const timeToExpire = Math.ceil(ttl / 1000);
    const isBlocked = totalHits > limit;
    return {
      totalHits,
      timeToExpire,
      isBlocked,
      timeToBlockExpire: isBlocked ? timeToExpire : 0,
    } satisfies Record_;
  }
}

const CLIENT_BUCKET: RateLimitOptions = {
  name: 'client',
  key: 'client',
  limit: 100,
  ttlSeconds: 60,
  clientOverride: true,
};

@RateLimit(CLIENT_BUCKET)
class Routes {
  @RateLimit({
    name: 'orchestrator',
    key: 'sender',
    limit: (c) => c.limits.orchestratorPerMin,
    ttlSeconds: 60,
  })
  message() {}

  @RateLimit({ name: 'chat', key: 'client', limit: 10, ttlSeconds: 60 })
  chat() {}

  @RateLimit({ name: 'client', key: 'client', limit: 2, ttlSeconds: 30 })
  replaced() {}

  history() {}
}

class Unlimited {
  open() {}
}

interface FakeResponse {
  headers: Record<string, string | number>;
  header(name: string, value: string | number): void;
}

function call(
  guard: RateLimitGuard,
  target: { cls: object; handler: keyof Routes | 'open' },
  req: RateLimitRequest,
): { res: FakeResponse; result: Promise<boolean> } {
  const res: FakeResponse = {
    headers: {},
    header(name, value) {
      this.headers[name] = value;
    },
  };
  const cls = target.cls as { prototype: Record<string, () => void> };
  const context = {
    getType: () => 'http',
    getClass: () => target.cls,
    getHandler: () => cls.prototype[target.handler],
    switchToHttp: () => ({ getRequest: () => req, getResponse: () => res }),
  } as unknown as ExecutionContext;
  return { res, result: guard.canActivate(context) };
}

describe('RateLimitGuard', () => {
  let config: AppConfig;
  let storage: FakeStorage;
  let guard: RateLimitGuard;

  beforeEach(() => {
    config = loadConfig({
      NODE_ENV: 'test',
      JWT_SECRET: 'x'.repeat(32),
      RATE_LIMIT_ORCHESTRATOR_PER_MIN: '3',
    });
    storage = new FakeStorage();
    guard = new RateLimitGuard(storage, new Reflector(), config);
  });

  const clientReq = (clientId: string, rateLimitPerMin?: number): RateLimitRequest => ({
    ip: '10.0.0.1',
    auth: { 'client-jwt': { clientId, rateLimitPerMin } },
  });

  it('leaves routes without @RateLimit alone', async () => {
    const { res, result } = call(guard, { cls: Unlimited, handler: 'open' }, { ip: '1.2.3.4' });
    await expect(result).resolves.toBe(true);
    expect(storage.calls).toHaveLength(0);
    expect(res.headers).toEqual({});
  });

  it('reads the limit from the configuration and counts the sender, not the IP', async () => {
    for (let i = 0; i < 3; i++) {
      const { res, result } = call(
        guard,
        { cls: Routes, handler: 'message' },
        { ip: `10.0.0.${i}`, body: { sender: '+15550001111' }, auth: {} },
      );
      await expect(result).resolves.toBe(true);
      expect(res.headers['X-RateLimit-Remaining']).toBe(2 - i);
    }
    const { res, result } = call(
      guard,
      { cls: Routes, handler: 'message' },
      { ip: '10.0.0.9', body: { sender: '+15550001111' } },
    );
    await expect(result).rejects.toMatchObject({
      status: 429,
      message: 'Rate limit exceeded: 3 requests per 60 s for this sender',
    });
    expect(res.headers).toMatchObject({
      'Retry-After': 60,
      'X-RateLimit-Limit': 3,
      'X-RateLimit-Remaining': 0,
      'X-RateLimit-Reset': 60,
    });
    // The class-level client bucket has no client here: it counted the IP instead.
    expect(storage.calls.map((c) => c.name)).toContain('client');
  });

  it('uses the client bucket with the per-client override, else the declared default', async () => {
    for (let i = 0; i < 3; i++) {
      const { result } = call(guard, { cls: Routes, handler: 'history' }, clientReq('client-a', 3));
      await expect(result).resolves.toBe(true);
    }
    const fourth = call(guard, { cls: Routes, handler: 'history' }, clientReq('client-a', 3));
    await expect(fourth.result).rejects.toMatchObject({
      status: 429,
      message: 'Rate limit exceeded: 3 requests per 60 s for this API client',
    });

    const ordinary = call(guard, { cls: Routes, handler: 'history' }, clientReq('client-b'));
    await expect(ordinary.result).resolves.toBe(true);
    expect(ordinary.res.headers['X-RateLimit-Limit']).toBe(100);
    expect(ordinary.res.headers['X-RateLimit-Remaining']).toBe(99);
  });

  it('stacks the client bucket and a route limit: reports the tightest, trips on either', async () => {
    const first = call(guard, { cls: Routes, handler: 'chat' }, clientReq('client-c'));
    await expect(first.result).resolves.toBe(true);
    // client bucket 100 - 1 = 99 left, chat 10 - 1 = 9 left: the chat limit is the tighter.
    expect(first.res.headers).toMatchObject({
      'X-RateLimit-Limit': 10,
      'X-RateLimit-Remaining': 9,
    });
    for (let i = 0; i < 9; i++) {
      await call(guard, { cls: Routes, handler: 'chat' }, clientReq('client-c')).result;
    }
    const eleventh = call(guard, { cls: Routes, handler: 'chat' }, clientReq('client-c'));
    await expect(eleventh.result).rejects.toBeInstanceOf(HttpException);
    expect(eleventh.res.headers).toMatchObject({ 'Retry-After': 60, 'X-RateLimit-Limit': 10 });
    // Refused requests still count against the client's bucket (every /v1 request does).
    expect(storage.hits.get(`client:${storage.calls[0].key}`)).toBe(11);
    // The override does not apply to the route's own 10/min.
    const vip = call(guard, { cls: Routes, handler: 'chat' }, clientReq('client-d', 500));
    await vip.result;
    expect(vip.res.headers['X-RateLimit-Limit']).toBe(10);
  });

  it('lets a method limit replace the controller limit of the same name', async () => {
    const { res, result } = call(guard, { cls: Routes, handler: 'replaced' }, clientReq('e'));
    await expect(result).resolves.toBe(true);
    expect(storage.calls).toEqual([expect.objectContaining({ name: 'client', limit: 2 })]);
    expect(storage.calls[0].ttl).toBe(30_000);
    expect(res.headers['X-RateLimit-Limit']).toBe(2);
  });

  it('evaluates a request once even though the guard sits on the class and the method', async () => {
    expect(Reflect.getMetadata(GUARDS_METADATA, Routes)).toEqual([RateLimitGuard]);
    expect(Reflect.getMetadata(GUARDS_METADATA, Routes.prototype.chat)).toEqual([RateLimitGuard]);
    const req = clientReq('f');
    await call(guard, { cls: Routes, handler: 'chat' }, req).result;
    await call(guard, { cls: Routes, handler: 'chat' }, req).result;
    expect(storage.calls).toHaveLength(2); // client + chat, once
  });

  it('hashes trackers into keys: no phone number in a Redis key', async () => {
    await call(guard, { cls: Routes, handler: 'message' }, { body: { sender: '+15550002222' } })
      .result;
    for (const { key } of storage.calls) expect(key).toMatch(/^[0-9a-f]{32}$/);
  });

  it('fails open, with a warning, when the storage is down', async () => {
    storage.failWith = new Error('Command timed out');
    const warn = jest
      .spyOn((guard as unknown as { logger: { warn: () => void } }).logger, 'warn')
      .mockImplementation(() => undefined);
    for (let i = 0; i < 5; i++) {
      const { res, result } = call(guard, { cls: Routes, handler: 'chat' }, clientReq('g'));
      await expect(result).resolves.toBe(true);
      expect(res.headers).toEqual({});
    }
    expect(warn).toHaveBeenCalledTimes(1); // at most one warning per 10 s, not one per request
    expect(warn.mock.calls[0]).toEqual([expect.stringContaining('Command timed out')]);
  });
});

describe('trackerFor / limitFor', () => {
  const config = loadConfig({ NODE_ENV: 'test', JWT_SECRET: 'x'.repeat(32) });

  it('sender: the body field, normalised; the IP when absent, blank or not a string', () => {
    expect(trackerFor('sender', { body: { sender: ' Ann@Example.com ' } }, '1.1.1.1')).toEqual({
      kind: 'sender',
      id: 'ann@example.com',
    });
    for (const body of [undefined, null, {}, { sender: '  ' }, { sender: 42 }, 'text']) {
      expect(trackerFor('sender', { body }, '1.1.1.1')).toEqual({ kind: 'ip', id: '1.1.1.1' });
    }
  });

  it('client: the client-JWT principal; the IP without one', () => {
    const principal = { clientId: 'c1', rateLimitPerMin: 7 };
    expect(trackerFor('client', { auth: { 'client-jwt': principal } }, '1.1.1.1')).toEqual({
      kind: 'client',
      id: 'c1',
      client: principal,
    });
    expect(trackerFor('client', { auth: {} }, '1.1.1.1')).toEqual({ kind: 'ip', id: '1.1.1.1' });
    expect(trackerFor('client', {}, '1.1.1.1')).toEqual({ kind: 'ip', id: '1.1.1.1' });
  });

  it('ip: the IP even when a sender is present', () => {
    expect(trackerFor('ip', { body: { sender: '+1555' } }, '2.2.2.2')).toEqual({
      kind: 'ip',
      id: '2.2.2.2',
    });
  });

  it('limit: the override only when allowed and sane', () => {
    const client = { clientId: 'c', rateLimitPerMin: 7 };
    const tracker = { kind: 'client' as const, id: 'c', client };
    expect(limitFor(CLIENT_BUCKET, config, tracker)).toBe(7);
    expect(limitFor({ ...CLIENT_BUCKET, clientOverride: false }, config, tracker)).toBe(100);
    for (const bad of [0, -1, 2.5, undefined]) {
      const t = { ...tracker, client: { clientId: 'c', rateLimitPerMin: bad } };
      expect(limitFor(CLIENT_BUCKET, config, t)).toBe(100);
    }
    const fromConfig: RateLimitOptions = {
      name: 'orchestrator',
      key: 'sender',
      limit: (c) => c.limits.orchestratorPerMin,
      ttlSeconds: 60,
    };
    expect(limitFor(fromConfig, config, { kind: 'sender', id: 'x' })).toBe(60);
  });

  it('rejects impossible declarations at decoration time', () => {
    const bad: RateLimitOptions[] = [
      { name: 'Bad Name', key: 'ip', limit: 1, ttlSeconds: 60 },
      { name: 'x', key: 'ip', limit: 0, ttlSeconds: 60 },
      { name: 'x', key: 'ip', limit: 1, ttlSeconds: 0.5 },
      { name: 'x', key: 'ip', limit: 1, ttlSeconds: 60, clientOverride: true },
    ];
    for (const options of bad) expect(() => RateLimit(options)).toThrow(/@RateLimit/);
  });
});
