import { applyDecorators, SetMetadata } from '@nestjs/common';
import { ApiForbiddenResponse, ApiSecurity, ApiUnauthorizedResponse } from '@nestjs/swagger';

/** The authentication schemes of SPEC §5; each name is also its Swagger security scheme. */
export enum AuthScheme {
  RelayBearer = 'relay-bearer',
  Hmac = 'hmac',
  EdgeToken = 'edge-token',
  /** `/edge/register` only: the Edge token, or a V0 client's body `auth_token`. */
  EdgeRegistration = 'edge-registration',
  ClientJwt = 'client-jwt',
  UserJwt = 'user-jwt',
  Admin = 'admin',
}

export const PUBLIC_ROUTE = 'archety:public';
export const AUTH_SCHEMES = 'archety:auth-schemes';

/** The route needs no credentials. Every route declares this or `@Auth(...)`. */
export const Public = () => SetMetadata(PUBLIC_ROUTE, true);

/**
 * The route's authentication, declared once: the guard enforces every listed scheme (all must
 * pass, e.g. `@Auth(AuthScheme.RelayBearer, AuthScheme.Hmac)`) and Swagger shows them.
 */
export function Auth(...schemes: [AuthScheme, ...AuthScheme[]]) {
  return applyDecorators(
    SetMetadata(AUTH_SCHEMES, schemes),
    ...schemes.map((scheme) => ApiSecurity(scheme)),
    ApiUnauthorizedResponse({ description: 'Missing or invalid credentials' }),
    ApiForbiddenResponse({ description: 'Credentials valid but not allowed here' }),
  );
}
