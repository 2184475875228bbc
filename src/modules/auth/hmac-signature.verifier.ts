import { createHmac } from 'node:crypto';
import { Inject, Injectable, UnauthorizedException } from '@nestjs/common';
import Redis from 'ioredis';
import { AuthScheme } from '../../common/auth/auth.decorators';
import { safeEqual } from '../../common/crypto/safe-equal';
import { AppConfig } from '../../core/config/app-config';
import { APP_CONFIG } from '../../core/config/config.module';
import { AuthRequest, SchemeVerifier, VerifiesScheme } from './scheme-verifier';

/** How long an accepted signature is remembered (ours; longer than the ±300 s window). */
export const HMAC_REPLAY_TTL_SECONDS = 600;

/** What the HMAC scheme established: nothing (not signed, allowed by HMAC_MODE) or a fresh MAC. */
export type HmacPrincipal =
  { signed: false } | { signed: true; timestamp: number; key: 'current' | 'previous' };

/** Lowercase hex HMAC-SHA256(secret, `${timestamp}${raw body bytes}`): what a signer sends. */
export function hmacSignature(secret: string, timestamp: string, rawBody: Buffer): string {
  return createHmac('sha256', secret).update(timestamp, 'utf8').update(rawBody).digest('hex');
}

function singleHeader(value: string | string[] | undefined): string | undefined {
  if (Array.isArray(value)) return value.length === 1 ? value[0] : undefined;
  return value;
}

/**
 * Relay request signatures (SPEC §5, RELIABILITY rows 2–7): `X-Signature` over `X-Timestamp` and
 * the raw body bytes, accepted within ±HMAC_TOLERANCE_SECONDS, under the current or the previous
 * secret, once. HMAC_MODE decides whether an unsigned request passes.
 */
@Injectable()
@VerifiesScheme(AuthScheme.Hmac)
export class HmacSignatureVerifier implements SchemeVerifier {
  /** Unix seconds; replaced in unit tests to freeze the clock. */
  now: () => number = () => Math.floor(Date.now() / 1000);

  constructor(
    @Inject(APP_CONFIG) private readonly config: AppConfig,
    private readonly redis: Redis,
  ) {}

  async verify(request: AuthRequest): Promise<HmacPrincipal> {
    const { hmacMode, hmacSecret, hmacSecretPrevious, hmacToleranceSeconds } = this.config.auth;
    if (hmacMode === 'off') return { signed: false };

    const signatureHeader = request.headers['x-signature'];
    const timestampHeader = request.headers['x-timestamp'];
    const present = signatureHeader !== undefined || timestampHeader !== undefined;
    if (hmacMode === 'optional' && !present) return { signed: false };

    // From here on the request must be verified, so an unconfigured server fails closed.
    if (!hmacSecret && !hmacSecretPrevious) {
      throw new UnauthorizedException('HMAC signing is not configured');
    }
    const signature = singleHeader(signatureHeader)?.trim().toLowerCase();
    const timestamp = singleHeader(timestampHeader)?.trim();
    if (!signature || !timestamp) {
      throw new UnauthorizedException('Missing X-Signature and X-Timestamp headers');
    }
    if (!/^\d{1,12}$/.test(timestamp)) {
      throw new UnauthorizedException('X-Timestamp must be an integer of Unix seconds');
    }
    const ts = Number(timestamp);
    if (Math.abs(this.now() - ts) > hmacToleranceSeconds) {
      throw new UnauthorizedException(
        `X-Timestamp is more than ${hmacToleranceSeconds} seconds from the server clock`,
      );
    }
    if (!/^[0-9a-f]{64}$/.test(signature)) {
      throw new UnauthorizedException('X-Signature must be 64 hex characters (HMAC-SHA256)');
    }
    const rawBody = this.rawBody(request);

    // Both secrets are always checked, so the time taken does not tell which one matched.
    const matchesCurrent =
      hmacSecret !== undefined &&
      safeEqual(signature, hmacSignature(hmacSecret, timestamp, rawBody));
    const matchesPrevious =
      hmacSecretPrevious !== undefined &&
      safeEqual(signature, hmacSignature(hmacSecretPrevious, timestamp, rawBody));
    if (!matchesCurrent && !matchesPrevious) {
      throw new UnauthorizedException('Invalid X-Signature');
    }

    // Replay: SET NX is the check, atomically; of two identical requests exactly one gets 'OK'.
    const first = await this.redis.set(
      `auth:hmac-seen:${signature}`,
      '1',
      'EX',
      HMAC_REPLAY_TTL_SECONDS,
      'NX',
    );
    if (first !== 'OK') throw new UnauthorizedException('Replayed X-Signature');

    return { signed: true, timestamp: ts, key: matchesCurrent ? 'current' : 'previous' };
  }

  /** The bytes as received. A body that arrived but was not captured can't be verified. */
  private rawBody(request: AuthRequest): Buffer {
    if (request.rawBody) return request.rawBody;
    const length = Number(request.headers['content-length'] ?? 0);
    if (length > 0 || request.headers['transfer-encoding'] !== undefined) {
      throw new UnauthorizedException('The signed body could not be read; send application/json');
    }
    return Buffer.alloc(0);
  }
}
