/**
 * - `unavailable`: retries exhausted, timeout, connection failure, 5xx or 429 rate limit.
 * - `quota`: 429 `insufficient_quota` (never retried; needs a human).
 * - `rejected`: any other 4xx (never retried; the request itself is wrong).
 */
export type LlmErrorKind = 'unavailable' | 'quota' | 'rejected';

/**
 * The only error the LLM client throws. The message is built by the client from the status and a
 * scrubbed upstream message: it never contains the API key (and no `cause` is attached, so a log
 * serializer cannot dig one out of the SDK error either).
 */
export class LlmError extends Error {
  constructor(
    readonly kind: LlmErrorKind,
    message: string,
    readonly status?: number,
  ) {
    super(message);
    this.name = 'LlmError';
  }
}
