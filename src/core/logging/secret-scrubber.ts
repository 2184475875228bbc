const MASK = '[REDACTED]';

/**
 * Replaces every occurrence of a configured secret in a serialized log line. Redaction by key
 * path (see logger.ts) covers the headers we know; this covers everything else: a secret echoed
 * in an error message, a URL, a debug field. Secrets also appear JSON-escaped inside the line,
 * so both forms are replaced.
 */
export function createSecretScrubber(secrets: string[]): (line: string) => string {
  const needles = [...new Set(secrets.flatMap((s) => [s, JSON.stringify(s).slice(1, -1)]))]
    .filter((s) => s.length >= 4)
    // Longest first, so a secret containing another is replaced whole.
    .sort((a, b) => b.length - a.length);
  if (needles.length === 0) return (line) => line;
  const pattern = new RegExp(needles.map(escapeRegExp).join('|'), 'g');
  return (line) => line.replace(pattern, MASK);
}

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
