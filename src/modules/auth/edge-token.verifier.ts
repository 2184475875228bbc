import { createHmac } from 'node:crypto';
import { Inject, Injectable, Logger, OnModuleInit, UnauthorizedException } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { bearerToken, safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

/** An edge token is valid for 24 h after its timestamp (EDGE_PROTOCOL §2.3). */
export const EDGE_TOKEN_LIFETIME_SECONDS = 24 * 60 * 60;
/** Clock skew allowed between an edge agent and the backend, both directions. */
export const EDGE_TOKEN_SKEW_SECONDS = 300;

/**
 * Who an edge request comes from.
 * - `token`: an HMAC token; `agentId` and `phone` are the token's (signed) values.
 * - `secret`: the raw EDGE_SECRET, which carries no identity; `agentId` is the id the request
 *   claims (`X-Edge-Agent-Id` / `edge_agent_id`), if any, and `phone` is undefined.
 * - `open`: development without EDGE_SECRET; nothing verified, `agentId` as for `secret`.
 */
export interface EdgePrincipal {
  agentId: string | undefined;
  phone: string | undefined;
  /** `registration`: a V0 client's registration token (EdgeRegistrationVerifier). */
  mode: 'secret' | 'token' | 'open' | 'registration';
}

export type EdgeTokenResult =
  { ok: true; principal: EdgePrincipal } | { ok: false; reason: string };

/** Lowercase hex HMAC-SHA256(secret, `agentId:phone:timestamp`): the token's signature. */
export function edgeTokenSignature(secret: string, data: string): string {
  return createHmac('sha256', secret).update(data, 'utf8').digest('hex');
}

/**
 * Verifies an edge credential (the part after `Bearer `) per EDGE_PROTOCOL §2.3: either the raw
 * EDGE_SECRET, or base64(`agentId:phone:ts:signature`) with the agent id possibly containing ':'.
 * `nowSeconds` is Unix seconds. When `expectedAgentId` is given (the id the request claims), a
 * token's agent id must equal it. Pure, for both the HTTP guard and the WebSocket upgrade.
 */
export function verifyEdgeToken(
  token: string,
  secret: string,
  nowSeconds: number,
  expectedAgentId?: string,
): EdgeTokenResult {
  if (!secret) return { ok: false, reason: 'Edge authentication is not configured' };
  if (safeEqual(token, secret)) {
    return { ok: true, principal: { agentId: expectedAgentId, phone: undefined, mode: 'secret' } };
  }
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(token)) {
    return { ok: false, reason: 'Invalid edge token' };
  }
  const decoded = Buffer.from(token, 'base64').toString('utf8');
  // Split from the right: signature, timestamp, phone; everything before is the agent id.
  const sigAt = decoded.lastIndexOf(':');
  const tsAt = sigAt > 0 ? decoded.lastIndexOf(':', sigAt - 1) : -1;
  const phoneAt = tsAt > 0 ? decoded.lastIndexOf(':', tsAt - 1) : -1;
  if (phoneAt <= 0) return { ok: false, reason: 'Invalid edge token' };
  const agentId = decoded.slice(0, phoneAt);
  const phone = decoded.slice(phoneAt + 1, tsAt);
  const timestamp = decoded.slice(tsAt + 1, sigAt);
  const signature = decoded.slice(sigAt + 1).toLowerCase();
  if (!phone || !/^\d{1,12}$/.test(timestamp) || !/^[0-9a-f]{64}$/.test(signature)) {
    return { ok: false, reason: 'Invalid edge token' };
  }
  if (!safeEqual(signature, edgeTokenSignature(secret, decoded.slice(0, sigAt)))) {
    return { ok: false, reason: 'Invalid edge token signature' };
  }
  const ts = Number(timestamp);
  if (ts < nowSeconds - EDGE_TOKEN_LIFETIME_SECONDS - EDGE_TOKEN_SKEW_SECONDS) {
    return { ok: false, reason: 'Edge token expired' };
  }
  if (ts > nowSeconds + EDGE_TOKEN_SKEW_SECONDS) {
    return { ok: false, reason: 'Edge token timestamp is in the future' };
  }
  if (expectedAgentId !== undefined && agentId !== expectedAgentId) {
    return { ok: false, reason: 'Edge token was issued for a different edge agent' };
  }
  return { ok: true, principal: { agentId, phone, mode: 'token' } };
}

/**
 * The agent id a request claims: the `X-Edge-Agent-Id` header, or the `edge_agent_id` query
 * parameter (the WebSocket upgrade). Both present and different → a problem to refuse.
 */
export function claimedEdgeAgentId(
  request: Pick<AuthRequest, 'headers' | 'url'>,
): { agentId: string | undefined } | { problem: string } {
  const header = request.headers['x-edge-agent-id'];
  if (Array.isArray(header)) return { problem: 'X-Edge-Agent-Id must be sent once' };
  const fromHeader = header?.trim() || undefined;
  let fromQuery: string | undefined;
  if (request.url?.includes('?')) {
    const params = new URLSearchParams(request.url.slice(request.url.indexOf('?') + 1));
    const values = params.getAll('edge_agent_id');
    if (values.length > 1) return { problem: 'edge_agent_id must be sent once' };
    fromQuery = values[0]?.trim() || undefined;
  }
  if (fromHeader && fromQuery && fromHeader !== fromQuery) {
    return { problem: 'X-Edge-Agent-Id and edge_agent_id disagree' };
  }
  return { agentId: fromHeader ?? fromQuery };
}

/**
 * `Authorization: Bearer <EDGE_SECRET | edge token>` on `/edge/*` (SPEC §5). Works on an HTTP
 * request and on a bare `IncomingMessage` (the WebSocket upgrade: headers + url). Without
 * EDGE_SECRET (nor RELAY_WEBHOOK_SECRET) the edge endpoints are open in development, with one
 * loud warning at start-up, and closed in production.
 */
@Injectable()
@VerifiesScheme(AuthScheme.EdgeToken)
export class EdgeTokenVerifier implements SchemeVerifier, OnModuleInit {
  private readonly logger = new Logger(EdgeTokenVerifier.name);

  /** Unix seconds; replaced in unit tests to freeze the clock. */
  now: () => number = () => Math.floor(Date.now() / 1000);

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    if (!this.config.auth.edgeSecret && !this.config.isProduction) {
      this.logger.warn(
        'EDGE_SECRET (and RELAY_WEBHOOK_SECRET) is not set: the edge endpoints accept requests ' +
          'WITHOUT authentication (development only; production refuses to start without it)',
      );
    }
  }

  async verify(request: AuthRequest): Promise<EdgePrincipal> {
    const claimed = claimedEdgeAgentId(request);
    if ('problem' in claimed) throw new UnauthorizedException(claimed.problem);
    const secret = this.config.auth.edgeSecret;
    if (!secret) {
      if (this.config.isProduction) {
        throw new UnauthorizedException('Edge authentication is not configured');
      }
      return { agentId: claimed.agentId, phone: undefined, mode: 'open' };
    }
    const token = bearerToken(request.headers.authorization);
    if (!token) throw new UnauthorizedException('Missing Authorization: Bearer <edge token>');
    const result = verifyEdgeToken(token, secret, this.now(), claimed.agentId);
    if (!result.ok) throw new UnauthorizedException(result.reason);
    return result.principal;
  }
}
