import { UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import { EdgeRegistrationVerifier } from './edge-registration.verifier';
import { EdgeTokenVerifier } from './edge-token.verifier';
import { AuthRequest } from './scheme-verifier';

const EDGE_SECRET = 'edge-secret-for-registration-spec';
const REGISTRATION = 'registration-token-for-spec';

function makeVerifier(edgeRegistrationToken: string | undefined) {
  const config = {
    isProduction: true,
    auth: { edgeSecret: EDGE_SECRET, edgeRegistrationToken },
  } as unknown as AppConfig;
  return new EdgeRegistrationVerifier(config, new EdgeTokenVerifier(config));
}

const request = (body: unknown, authorization?: string): AuthRequest => ({
  headers: authorization === undefined ? {} : { authorization },
  url: '/edge/register',
  body,
});

async function refusal(verifier: EdgeRegistrationVerifier, req: AuthRequest): Promise<string> {
  const error = await verifier.verify(req).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UnauthorizedException);
  return (error as UnauthorizedException).message;
}

describe('EdgeRegistrationVerifier', () => {
  it('takes the body token without a Bearer when EDGE_REGISTRATION_TOKEN is set', async () => {
    const verifier = makeVerifier(REGISTRATION);
    await expect(verifier.verify(request({ auth_token: REGISTRATION }))).resolves.toEqual({
      agentId: undefined,
      phone: undefined,
      mode: 'registration',
    });
    for (const auth_token of [`${REGISTRATION} `, 'edge_manual_token', null, undefined]) {
      expect(await refusal(verifier, request({ auth_token }))).toBe(
        'Invalid registration token (auth_token)',
      );
    }
    expect(await refusal(verifier, request(undefined))).toBe(
      'Invalid registration token (auth_token)',
    );
  });

  it('is the Edge token whenever a Bearer is sent, and when no registration token is set', async () => {
    const verifier = makeVerifier(REGISTRATION);
    expect(await refusal(verifier, request({ auth_token: REGISTRATION }, 'Bearer wrong'))).toBe(
      'Invalid edge token',
    );
    await expect(verifier.verify(request({}, `Bearer ${EDGE_SECRET}`))).resolves.toMatchObject({
      mode: 'secret',
    });

    const unset = makeVerifier(undefined);
    expect(await refusal(unset, request({ auth_token: REGISTRATION }))).toBe(
      'Missing Authorization: Bearer <edge token>',
    );
  });
});
