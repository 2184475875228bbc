import { FastifyReply } from 'fastify';
import { AppConfig } from '../../core/config/app-config';
import { IssuedTokens } from './sessions.service';
import { cookieNames, REFRESH_TOKEN_TTL_SECONDS, USER_TOKEN_TTL_SECONDS } from './user-token';

/*
 * Set-Cookie is written here rather than through @fastify/cookie: its v11 loads the `cookie`
 * package with a dynamic import(), which fails inside Jest's VM (no --experimental-vm-modules),
 * so registering it would break every e2e suite. Names and values here are all ours (base64url
 * tokens, JWTs), so no encoding is needed beyond a guard.
 */

const SAFE_VALUE = /^[A-Za-z0-9._~+/=-]*$/;

/** HTTP-only, SameSite=Lax, Path=/; Secure (and `__Host-` names, see cookieNames) in production. */
function cookie(config: AppConfig, name: string, value: string, maxAgeSeconds: number): string {
  if (!SAFE_VALUE.test(value)) throw new Error(`Cookie ${name}: unsafe value`);
  const parts = [`${name}=${value}`, `Max-Age=${maxAgeSeconds}`, 'Path=/', 'HttpOnly'];
  if (maxAgeSeconds > 0) {
    parts.push(`Expires=${new Date(Date.now() + maxAgeSeconds * 1000).toUTCString()}`);
  } else {
    parts.push('Expires=Thu, 01 Jan 1970 00:00:00 GMT');
  }
  if (config.isProduction) parts.push('Secure');
  parts.push('SameSite=Lax');
  return parts.join('; ');
}

function append(reply: FastifyReply, line: string): void {
  // Fastify keeps every Set-Cookie given to reply.header (it accumulates that one header).
  void reply.header('set-cookie', line);
}

export function setSessionCookies(reply: FastifyReply, config: AppConfig, tokens: IssuedTokens) {
  const names = cookieNames(config);
  append(reply, cookie(config, names.access, tokens.access_token, USER_TOKEN_TTL_SECONDS));
  append(reply, cookie(config, names.refresh, tokens.refresh_token, REFRESH_TOKEN_TTL_SECONDS));
}

export function clearSessionCookies(reply: FastifyReply, config: AppConfig) {
  const names = cookieNames(config);
  for (const name of [names.access, names.refresh]) append(reply, cookie(config, name, '', 0));
}

/** Lives as long as a refresh token, so a long-lived tab does not need a new one. */
export function setCsrfCookie(reply: FastifyReply, config: AppConfig, token: string) {
  append(reply, cookie(config, cookieNames(config).csrf, token, REFRESH_TOKEN_TTL_SECONDS));
}
