import { createHmac } from 'node:crypto';

/**
 * Signs requests exactly as the server verifies them (SPEC §5, EDGE_PROTOCOL §2.3). Written
 * independently of the server code on purpose; the unit specs pin both to the same test vectors.
 */

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** Relay request signature headers: HMAC-SHA256(secret, `${timestamp}${body bytes}`), hex. */
export function signBody(
  body: string | Buffer,
  secret: string,
  timestamp: number = nowSeconds(),
): { 'X-Timestamp': string; 'X-Signature': string } {
  const ts = String(timestamp);
  const signature = createHmac('sha256', secret).update(ts).update(body).digest('hex');
  return { 'X-Timestamp': ts, 'X-Signature': signature };
}

/** An edge HMAC token: base64(`agentId:phone:ts:hex HMAC-SHA256(secret, agentId:phone:ts)`). */
export function edgeToken(
  agentId: string,
  phone: string,
  secret: string,
  timestamp: number = nowSeconds(),
): string {
  const data = `${agentId}:${phone}:${timestamp}`;
  const signature = createHmac('sha256', secret).update(data).digest('hex');
  return Buffer.from(`${data}:${signature}`, 'utf8').toString('base64');
}
