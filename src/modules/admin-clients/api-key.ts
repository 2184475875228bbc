import { randomBytes } from 'node:crypto';
import * as bcrypt from 'bcryptjs';

/** Every key starts with this; the first KEY_PREFIX_LENGTH characters are its public prefix. */
export const API_KEY_MARK = 'ak_';
export const KEY_PREFIX_LENGTH = 12;
/** bcrypt cost (≥ 10). A key is 46 bytes, well under bcrypt's 72-byte input limit. */
export const BCRYPT_COST = 10;

/** A fresh key: `ak_` + 32 random bytes in base64url. Shown once; only prefix + hash are kept. */
export async function newApiKey(): Promise<{ key: string; prefix: string; hash: string }> {
  const key = `${API_KEY_MARK}${randomBytes(32).toString('base64url')}`;
  return { key, prefix: keyPrefix(key), hash: await bcrypt.hash(key, BCRYPT_COST) };
}

export function keyPrefix(key: string): string {
  return key.slice(0, KEY_PREFIX_LENGTH);
}

/** Whether a presented string even looks like a key (anything else is refused unhashed). */
export function looksLikeApiKey(key: string): boolean {
  return key.startsWith(API_KEY_MARK) && key.length >= KEY_PREFIX_LENGTH + 8 && key.length <= 72;
}
