import { IncomingHttpHeaders } from 'node:http';
import { SetMetadata } from '@nestjs/common';
import { AuthScheme } from '../../common/auth/auth.decorators';

/** What a verifier may look at: shared by HTTP requests and the WebSocket upgrade request. */
export interface AuthRequest {
  headers: IncomingHttpHeaders;
  url?: string;
  rawBody?: Buffer;
  /** The parsed body (HTTP requests only). */
  body?: unknown;
  ip?: string;
  /** Filled by the guard: what each scheme established (client id, user id, agent id…). */
  auth?: Partial<Record<AuthScheme, unknown>>;
}

/**
 * One per scheme, marked with `@VerifiesScheme(...)`. `verify` resolves to the principal or throws
 * an HttpException (401/403/503) whose message names the problem, never the expected secret.
 */
export interface SchemeVerifier {
  verify(request: AuthRequest): Promise<unknown>;
}

export const VERIFIES_SCHEME = 'archety:verifies-scheme';
export const VerifiesScheme = (scheme: AuthScheme) => SetMetadata(VERIFIES_SCHEME, scheme);
