/** The claims that make a JWT an API-client token (RFC 8725 §3.12: kinds kept apart). */
export const CLIENT_TOKEN_AUDIENCE = 'archety:api-client';
export const CLIENT_TOKEN_TYPE = 'client';
export const CLIENT_TOKEN_ALGORITHM = 'HS256';
export const CLOCK_TOLERANCE_SECONDS = 30;

export interface ClientTokenClaims {
  sub: string;
  typ: typeof CLIENT_TOKEN_TYPE;
  /** The client's key generation when the token was issued; a re-key makes older ones invalid. */
  gen: number;
  aud: string;
  jti: string;
  iat: number;
  exp: number;
}
