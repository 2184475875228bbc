import { UnauthorizedException } from '@nestjs/common';
import Redis from 'ioredis';
import { AppConfig, HmacMode } from '../../core/config/app-config';
import {
  HMAC_REPLAY_TTL_SECONDS,
  hmacSignature,
  HmacSignatureVerifier,
} from './hmac-signature.verifier';
import { AuthRequest } from './scheme-verifier';

const NOW = 1_700_000_000;
const BODY = '{"from":"+15555550100","text":"hi"}';

/** Redis SET with NX/EX semantics, enough for the replay check. */
class FakeRedis {
  readonly store = new Map<string, { value: string; ttl: number }>();
  readonly calls: unknown[][] = [];

  async set(key: string, value: string, ...args: (string | number)[]): Promise<'OK' | null> {
    this.calls.push([key, value, ...args]);
    if (args.includes('NX') && this.store.has(key)) return null;
    const ex = args.indexOf('EX');
    this.store.set(key, { value, ttl: ex >= 0 ? Number(args[ex + 1]) : -1 });
    return 'OK';
  }
}

function makeVerifier(
  auth: Partial<AppConfig['auth']> = {},
  redis = new FakeRedis(),
): { verifier: HmacSignatureVerifier; redis: FakeRedis } {
  const config = {
    isProduction: false,
    auth: {
      hmacMode: 'required' as HmacMode,
      hmacToleranceSeconds: 300,
      hmacSecret: 'test-secret',
      hmacSecretPrevious: undefined,
      ...auth,
    },
  } as unknown as AppConfig;
  const verifier = new HmacSignatureVerifier(config, redis as unknown as Redis);
  verifier.now = () => NOW;
  return { verifier, redis };
}

function signed(
  secret: string,
  timestamp: number | string = NOW,
  body: string = BODY,
  signedBody: string = body,
): AuthRequest {
  const ts = String(timestamp);
  return {
    headers: {
      'x-timestamp': ts,
      'x-signature': hmacSignature(secret, ts, Buffer.from(signedBody)),
      'content-length': String(Buffer.byteLength(body)),
    },
    rawBody: Buffer.from(body),
  };
}

async function refusal(verifier: HmacSignatureVerifier, request: AuthRequest): Promise<string> {
  const error = await verifier.verify(request).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UnauthorizedException);
  return (error as UnauthorizedException).message;
}

describe('HmacSignatureVerifier', () => {
  it('accepts the RELIABILITY row 2 vector (clock frozen at 1700000000)', async () => {
    const { verifier } = makeVerifier();
    const signature = hmacSignature('test-secret', '1700000000', Buffer.from(BODY));
    expect(signature).toMatch(/^7bedfbde[0-9a-f]{49}972b972$/);
    expect(signature).toBe('7bedfbded0603f788682656369c75588ad802699895da5353a48774ad972b972');
    await expect(
      verifier.verify({
        headers: { 'x-timestamp': '1700000000', 'x-signature': signature },
        rawBody: Buffer.from(BODY),
      }),
    ).resolves.toEqual({ signed: true, timestamp: NOW, key: 'current' });
  });

  it('verifies the raw bytes: the same JSON re-serialised with whitespace is refused', async () => {
    const { verifier } = makeVerifier();
    const reserialised = JSON.stringify(JSON.parse(BODY), null, 2);
    expect(await refusal(verifier, signed('test-secret', NOW, reserialised, BODY))).toBe(
      'Invalid X-Signature',
    );
  });

  it('accepts ±300 s and refuses ±301 s', async () => {
    const { verifier } = makeVerifier();
    await expect(verifier.verify(signed('test-secret', NOW - 300))).resolves.toMatchObject({
      signed: true,
    });
    await expect(verifier.verify(signed('test-secret', NOW + 300))).resolves.toMatchObject({
      signed: true,
    });
    expect(await refusal(verifier, signed('test-secret', NOW - 301))).toMatch(/300 seconds/);
    expect(await refusal(verifier, signed('test-secret', NOW + 301))).toMatch(/300 seconds/);
  });

  it('follows HMAC_TOLERANCE_SECONDS', async () => {
    const { verifier } = makeVerifier({ hmacToleranceSeconds: 10 });
    await expect(verifier.verify(signed('test-secret', NOW - 10))).resolves.toBeTruthy();
    expect(await refusal(verifier, signed('test-secret', NOW - 11))).toMatch(/10 seconds/);
  });

  it('refuses a timestamp that is not integer Unix seconds', async () => {
    const { verifier } = makeVerifier();
    for (const ts of ['1700000000.5', '-1700000000', '1.7e9', 'abc', '']) {
      const request = signed('test-secret', ts);
      if (ts === '') {
        expect(await refusal(verifier, request)).toBe(
          'Missing X-Signature and X-Timestamp headers',
        );
      } else {
        expect(await refusal(verifier, request)).toBe(
          'X-Timestamp must be an integer of Unix seconds',
        );
      }
    }
  });

  it('refuses a signature that is not 64 hex characters, and a wrong one', async () => {
    const { verifier } = makeVerifier();
    const request = signed('test-secret');
    const good = request.headers['x-signature'] as string;
    for (const bad of [good.slice(1), `${good}0`, `${good.slice(0, 63)}g`]) {
      request.headers['x-signature'] = bad;
      expect(await refusal(verifier, request)).toMatch(/64 hex/);
    }
    request.headers['x-signature'] = `${good.slice(0, 63)}${good.endsWith('0') ? '1' : '0'}`;
    expect(await refusal(verifier, request)).toBe('Invalid X-Signature');
  });

  it('accepts an uppercase-hex signature as the same signature (and as the same replay)', async () => {
    const { verifier } = makeVerifier();
    const request = signed('test-secret');
    const upper = { ...request, headers: { ...request.headers } };
    upper.headers['x-signature'] = (request.headers['x-signature'] as string).toUpperCase();
    await expect(verifier.verify(upper)).resolves.toMatchObject({ signed: true });
    expect(await refusal(verifier, request)).toBe('Replayed X-Signature');
  });

  it('refuses a signature made with the wrong secret', async () => {
    const { verifier } = makeVerifier();
    expect(await refusal(verifier, signed('not-the-secret'))).toBe('Invalid X-Signature');
  });

  it('accepts the previous secret during rotation, and not once it is removed', async () => {
    const rotating = makeVerifier({ hmacSecret: 'new-secret', hmacSecretPrevious: 'test-secret' });
    await expect(rotating.verifier.verify(signed('test-secret'))).resolves.toEqual({
      signed: true,
      timestamp: NOW,
      key: 'previous',
    });
    await expect(rotating.verifier.verify(signed('new-secret'))).resolves.toMatchObject({
      key: 'current',
    });
    const rotated = makeVerifier({ hmacSecret: 'new-secret' });
    expect(await refusal(rotated.verifier, signed('test-secret', NOW - 1))).toBe(
      'Invalid X-Signature',
    );
  });

  it('refuses a replay and remembers accepted signatures with SET NX EX 600', async () => {
    const { verifier, redis } = makeVerifier();
    const request = signed('test-secret');
    await expect(verifier.verify(request)).resolves.toMatchObject({ signed: true });
    expect(await refusal(verifier, request)).toBe('Replayed X-Signature');
    const signature = request.headers['x-signature'] as string;
    expect(redis.calls[0]).toEqual([
      `auth:hmac-seen:${signature}`,
      '1',
      'EX',
      HMAC_REPLAY_TTL_SECONDS,
      'NX',
    ]);
    expect(HMAC_REPLAY_TTL_SECONDS).toBe(600);
  });

  it('does not remember signatures it refused', async () => {
    const { verifier, redis } = makeVerifier();
    await refusal(verifier, signed('wrong-secret'));
    await refusal(verifier, signed('test-secret', NOW - 301));
    expect(redis.calls).toHaveLength(0);
  });

  describe('HMAC_MODE', () => {
    it('off: passes with no headers and even with a bad signature', async () => {
      const { verifier, redis } = makeVerifier({ hmacMode: 'off' });
      await expect(verifier.verify({ headers: {} })).resolves.toEqual({ signed: false });
      await expect(verifier.verify(signed('wrong-secret'))).resolves.toEqual({ signed: false });
      expect(redis.calls).toHaveLength(0);
    });

    it('optional: passes unsigned requests, verifies signed ones, needs both headers', async () => {
      const { verifier } = makeVerifier({ hmacMode: 'optional' });
      await expect(verifier.verify({ headers: {}, rawBody: Buffer.from(BODY) })).resolves.toEqual({
        signed: false,
      });
      await expect(verifier.verify(signed('test-secret'))).resolves.toMatchObject({
        signed: true,
      });
      expect(await refusal(verifier, signed('wrong-secret'))).toBe('Invalid X-Signature');
      expect(await refusal(verifier, { headers: { 'x-timestamp': String(NOW) } })).toBe(
        'Missing X-Signature and X-Timestamp headers',
      );
      expect(await refusal(verifier, { headers: { 'x-signature': 'a'.repeat(64) } })).toBe(
        'Missing X-Signature and X-Timestamp headers',
      );
    });

    it('required: refuses an unsigned request', async () => {
      const { verifier } = makeVerifier({ hmacMode: 'required' });
      expect(await refusal(verifier, { headers: {} })).toBe(
        'Missing X-Signature and X-Timestamp headers',
      );
    });

    it('fails closed when signing is needed but no secret is configured', async () => {
      const required = makeVerifier({ hmacMode: 'required', hmacSecret: undefined });
      expect(await refusal(required.verifier, { headers: {} })).toBe(
        'HMAC signing is not configured',
      );
      const optional = makeVerifier({ hmacMode: 'optional', hmacSecret: undefined });
      expect(await refusal(optional.verifier, signed('test-secret'))).toBe(
        'HMAC signing is not configured',
      );
      await expect(optional.verifier.verify({ headers: {} })).resolves.toEqual({ signed: false });
    });
  });

  it('refuses a body that was sent but not captured as raw bytes', async () => {
    const { verifier } = makeVerifier();
    const request = signed('test-secret', NOW, '');
    await expect(verifier.verify(request)).resolves.toMatchObject({ signed: true });
    const uncaptured = signed('test-secret', NOW - 1, '');
    delete uncaptured.rawBody;
    uncaptured.headers['content-length'] = '12';
    expect(await refusal(verifier, uncaptured)).toMatch(/could not be read/);
  });

  it('refuses duplicated signature headers', async () => {
    const { verifier } = makeVerifier();
    const request = signed('test-secret');
    const signature = request.headers['x-signature'] as string;
    (request.headers as Record<string, unknown>)['x-signature'] = [signature, signature];
    expect(await refusal(verifier, request)).toBe('Missing X-Signature and X-Timestamp headers');
  });
});
