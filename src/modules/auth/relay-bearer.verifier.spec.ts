import { Logger, UnauthorizedException } from '@nestjs/common';
import * as safeEqualModule from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { RelayBearerVerifier } from './relay-bearer.verifier';

const SECRET = 'relay-secret-4f9a1c7e2b';

function makeVerifier(secret: string | undefined, isProduction = false): RelayBearerVerifier {
  const config = { isProduction, auth: { relayWebhookSecret: secret } } as unknown as AppConfig;
  return new RelayBearerVerifier(config);
}

async function refusal(verifier: RelayBearerVerifier, authorization?: string): Promise<string> {
  const error = await verifier.verify({ headers: { authorization } }).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UnauthorizedException);
  const message = (error as UnauthorizedException).message;
  expect(message).not.toContain(SECRET);
  return message;
}

describe('RelayBearerVerifier', () => {
  afterEach(() => jest.restoreAllMocks());

  it('accepts the secret as a Bearer token', async () => {
    await expect(
      makeVerifier(SECRET).verify({ headers: { authorization: `Bearer ${SECRET}` } }),
    ).resolves.toEqual({ relay: true, mode: 'secret' });
  });

  it('names the problem without revealing the secret', async () => {
    const verifier = makeVerifier(SECRET);
    expect(await refusal(verifier)).toBe('Missing Authorization: Bearer <relay secret>');
    expect(await refusal(verifier, SECRET)).toBe('Missing Authorization: Bearer <relay secret>');
    expect(await refusal(verifier, `Basic ${SECRET}`)).toBe(
      'Missing Authorization: Bearer <relay secret>',
    );
    expect(await refusal(verifier, 'Bearer nope')).toBe('Invalid relay secret');
    expect(await refusal(verifier, `Bearer ${SECRET}x`)).toBe('Invalid relay secret');
  });

  it('compares wrong-first-byte and wrong-last-byte secrets through the same constant-time path', async () => {
    const spy = jest.spyOn(safeEqualModule, 'safeEqual');
    const verifier = makeVerifier(SECRET);
    const firstWrong = `X${SECRET.slice(1)}`;
    const lastWrong = `${SECRET.slice(0, -1)}X`;
    expect(await refusal(verifier, `Bearer ${firstWrong}`)).toBe('Invalid relay secret');
    expect(await refusal(verifier, `Bearer ${lastWrong}`)).toBe('Invalid relay secret');
    expect(spy.mock.calls).toEqual([
      [firstWrong, SECRET],
      [lastWrong, SECRET],
    ]);
    expect(spy.mock.results.map((r) => r.value as boolean)).toEqual([false, false]);
  });

  it('development without a secret: open, with one warning at start-up', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const verifier = makeVerifier(undefined);
    verifier.onModuleInit();
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn.mock.calls[0][0]).toMatch(/RELAY_WEBHOOK_SECRET is not set/);
    await expect(verifier.verify({ headers: {} })).resolves.toEqual({ relay: true, mode: 'open' });
    await expect(verifier.verify({ headers: {} })).resolves.toEqual({ relay: true, mode: 'open' });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('no warning when a secret is set', () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    makeVerifier(SECRET).onModuleInit();
    makeVerifier(undefined, true).onModuleInit();
    expect(warn).not.toHaveBeenCalled();
  });

  it('production without a secret fails closed', async () => {
    const verifier = makeVerifier(undefined, true);
    expect(await refusal(verifier, `Bearer anything`)).toBe(
      'Relay authentication is not configured',
    );
  });
});
