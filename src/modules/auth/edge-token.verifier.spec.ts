import { Logger, UnauthorizedException } from '@nestjs/common';
import { AppConfig } from '../../core/config/app-config';
import {
  claimedEdgeAgentId,
  EdgeTokenVerifier,
  edgeTokenSignature,
  verifyEdgeToken,
} from './edge-token.verifier';
import { AuthRequest } from './scheme-verifier';

const SECRET = 'test-secret';
const TS = 1_700_000_000;
const HOUR = 3600;
// EDGE_PROTOCOL §2.3 test vector.
const VECTOR_SIGNATURE = '6a1731c21c981cb8f1adfbcc0f696d8c5a8aa5b615ef082db47fee69a2eb98fe';
const VECTOR_TOKEN =
  'bHVuYTE6KzE1NTUwMDAxMTExOjE3MDAwMDAwMDA6NmExNzMxYzIxYzk4MWNiOGYxYWRmYmNjMGY2OTZkOGM1YThhYTViNjE1ZWYwODJkYjQ3ZmVlNjlhMmViOThmZQ==';

function token(agentId: string, phone: string, ts: number | string, secret = SECRET): string {
  const data = `${agentId}:${phone}:${ts}`;
  return Buffer.from(`${data}:${edgeTokenSignature(secret, data)}`).toString('base64');
}

function makeVerifier(edgeSecret: string | undefined, isProduction = false) {
  const config = { isProduction, auth: { edgeSecret } } as unknown as AppConfig;
  const verifier = new EdgeTokenVerifier(config);
  verifier.now = () => TS + HOUR;
  return verifier;
}

async function refusal(verifier: EdgeTokenVerifier, request: AuthRequest): Promise<string> {
  const error = await verifier.verify(request).then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(error).toBeInstanceOf(UnauthorizedException);
  return (error as UnauthorizedException).message;
}

describe('verifyEdgeToken', () => {
  it('reproduces the EDGE_PROTOCOL §2.3 vector exactly', () => {
    expect(edgeTokenSignature(SECRET, 'luna1:+15550001111:1700000000')).toBe(VECTOR_SIGNATURE);
    expect(token('luna1', '+15550001111', TS)).toBe(VECTOR_TOKEN);
  });

  it('accepts the vector token up to 24 h + 300 s old, refuses it later', () => {
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS + 23 * HOUR)).toEqual({
      ok: true,
      principal: { agentId: 'luna1', phone: '+15550001111', mode: 'token' },
    });
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS + 24 * HOUR + 300).ok).toBe(true);
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS + 24 * HOUR + 301)).toEqual({
      ok: false,
      reason: 'Edge token expired',
    });
  });

  it('accepts up to 300 s from the future, refuses 301 s', () => {
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS - 300).ok).toBe(true);
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS - 301)).toEqual({
      ok: false,
      reason: 'Edge token timestamp is in the future',
    });
  });

  it('requires the agent id the request claims', () => {
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS, 'luna1').ok).toBe(true);
    expect(verifyEdgeToken(VECTOR_TOKEN, SECRET, TS, 'nyx1')).toEqual({
      ok: false,
      reason: 'Edge token was issued for a different edge agent',
    });
  });

  it('takes everything left of phone:ts:sig as the agent id (ids may contain ":")', () => {
    const t = token('edge:shard:7', '+15550001111', TS);
    expect(verifyEdgeToken(t, SECRET, TS, 'edge:shard:7')).toEqual({
      ok: true,
      principal: { agentId: 'edge:shard:7', phone: '+15550001111', mode: 'token' },
    });
    expect(verifyEdgeToken(t, SECRET, TS, 'shard:7').ok).toBe(false);
  });

  it('accepts the raw secret (no identity: the claimed id is passed through)', () => {
    expect(verifyEdgeToken(SECRET, SECRET, TS)).toEqual({
      ok: true,
      principal: { agentId: undefined, phone: undefined, mode: 'secret' },
    });
    expect(verifyEdgeToken(SECRET, SECRET, TS, 'nyx1')).toEqual({
      ok: true,
      principal: { agentId: 'nyx1', phone: undefined, mode: 'secret' },
    });
  });

  it('refuses tokens signed with another secret, tampered, truncated or garbage', () => {
    const tampered = (s: string) => Buffer.from(s).toString('base64');
    const data = 'luna1:+15550001111:1700000000';
    const bad = [
      token('luna1', '+15550001111', TS, 'other-secret'),
      tampered(`nyx1:+15550001111:1700000000:${VECTOR_SIGNATURE}`),
      tampered(`luna1:+15550001112:1700000000:${VECTOR_SIGNATURE}`),
      tampered(`luna1:+15550001111:1700000001:${VECTOR_SIGNATURE}`),
      tampered(`${data}:${VECTOR_SIGNATURE.slice(0, 63)}0`),
      tampered(`${data}:${VECTOR_SIGNATURE.slice(0, 63)}`),
      tampered(`${data}:${VECTOR_SIGNATURE}0`),
      tampered(`${data}:`),
      tampered(data),
      tampered(`+15550001111:1700000000:${VECTOR_SIGNATURE}`),
      tampered(`:+15550001111:1700000000:${VECTOR_SIGNATURE}`),
      tampered(`luna1::1700000000:${edgeTokenSignature(SECRET, 'luna1::1700000000')}`),
      tampered(`luna1:+1555:17e8:${edgeTokenSignature(SECRET, 'luna1:+1555:17e8')}`),
      VECTOR_TOKEN.slice(0, -8),
      `${VECTOR_TOKEN}x`,
      'not base64 at all!',
      '!!!!',
      '',
      'test-secreT',
      `${SECRET} `,
    ];
    for (const t of bad) {
      const result = verifyEdgeToken(t, SECRET, TS);
      expect({ t, ok: result.ok }).toEqual({ t, ok: false });
    }
  });

  it('refuses everything when called without a secret', () => {
    expect(verifyEdgeToken('', '', TS)).toEqual({
      ok: false,
      reason: 'Edge authentication is not configured',
    });
    expect(verifyEdgeToken(token('luna1', '+15550001111', TS, ''), '', TS).ok).toBe(false);
  });

  it('accepts an uppercase-hex signature', () => {
    const upper = Buffer.from(
      `luna1:+15550001111:1700000000:${VECTOR_SIGNATURE.toUpperCase()}`,
    ).toString('base64');
    expect(verifyEdgeToken(upper, SECRET, TS).ok).toBe(true);
  });
});

describe('claimedEdgeAgentId', () => {
  it('reads X-Edge-Agent-Id or the edge_agent_id query parameter', () => {
    expect(claimedEdgeAgentId({ headers: { 'x-edge-agent-id': 'luna1' } })).toEqual({
      agentId: 'luna1',
    });
    expect(claimedEdgeAgentId({ headers: {}, url: '/edge/ws?edge_agent_id=luna1&x=1' })).toEqual({
      agentId: 'luna1',
    });
    expect(claimedEdgeAgentId({ headers: {}, url: '/edge/message' })).toEqual({
      agentId: undefined,
    });
  });

  it('refuses contradictory or repeated claims', () => {
    expect(
      claimedEdgeAgentId({
        headers: { 'x-edge-agent-id': 'luna1' },
        url: '/edge/ws?edge_agent_id=nyx1',
      }),
    ).toEqual({ problem: 'X-Edge-Agent-Id and edge_agent_id disagree' });
    expect(
      claimedEdgeAgentId({ headers: {}, url: '/edge/ws?edge_agent_id=a&edge_agent_id=b' }),
    ).toEqual({ problem: 'edge_agent_id must be sent once' });
  });
});

describe('EdgeTokenVerifier', () => {
  afterEach(() => jest.restoreAllMocks());

  it('accepts a Bearer token and records the principal', async () => {
    const verifier = makeVerifier(SECRET);
    await expect(
      verifier.verify({
        headers: { authorization: `Bearer ${VECTOR_TOKEN}`, 'x-edge-agent-id': 'luna1' },
      }),
    ).resolves.toEqual({ agentId: 'luna1', phone: '+15550001111', mode: 'token' });
    await expect(
      verifier.verify({ headers: { authorization: `Bearer ${SECRET}` } }),
    ).resolves.toEqual({ agentId: undefined, phone: undefined, mode: 'secret' });
  });

  it('works on a bare upgrade request (headers + url with the agent id in the query)', async () => {
    const verifier = makeVerifier(SECRET);
    const upgrade = (id: string): AuthRequest => ({
      headers: { authorization: `Bearer ${VECTOR_TOKEN}` },
      url: `/edge/ws?edge_agent_id=${id}`,
    });
    await expect(verifier.verify(upgrade('luna1'))).resolves.toMatchObject({ agentId: 'luna1' });
    expect(await refusal(verifier, upgrade('nyx1'))).toBe(
      'Edge token was issued for a different edge agent',
    );
  });

  it('refuses missing, wrong and expired credentials with 401', async () => {
    const verifier = makeVerifier(SECRET);
    expect(await refusal(verifier, { headers: {} })).toBe(
      'Missing Authorization: Bearer <edge token>',
    );
    expect(await refusal(verifier, { headers: { authorization: 'Bearer wrong' } })).toBe(
      'Invalid edge token',
    );
    verifier.now = () => TS + 24 * HOUR + 301;
    expect(await refusal(verifier, { headers: { authorization: `Bearer ${VECTOR_TOKEN}` } })).toBe(
      'Edge token expired',
    );
  });

  it('development without EDGE_SECRET: open, with one warning at start-up', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const verifier = makeVerifier(undefined);
    verifier.onModuleInit();
    expect(warn).toHaveBeenCalledTimes(1);
    await expect(verifier.verify({ headers: { 'x-edge-agent-id': 'luna1' } })).resolves.toEqual({
      agentId: 'luna1',
      phone: undefined,
      mode: 'open',
    });
    expect(warn).toHaveBeenCalledTimes(1);
  });

  it('production without EDGE_SECRET fails closed', async () => {
    const warn = jest.spyOn(Logger.prototype, 'warn').mockImplementation(() => undefined);
    const verifier = makeVerifier(undefined, true);
    verifier.onModuleInit();
    expect(warn).not.toHaveBeenCalled();
    expect(await refusal(verifier, { headers: { authorization: `Bearer ${VECTOR_TOKEN}` } })).toBe(
      'Edge authentication is not configured',
    );
  });
});
