/**
 * Postgres refuses NUL in text and jsonb (values and keys alike), so one NUL from outside — a
 * model's reply, an edge agent's frame — would fail the whole write it reaches. Where such text
 * enters the app without a DTO to refuse it, NUL is dropped instead.
 */
export function withoutNul(text: string): string {
  return text.includes('\u0000') ? text.replaceAll('\u0000', '') : text;
}

/** A JSON.parse reviver: strings and object keys without NUL. */
export function nulFree(_key: string, value: unknown): unknown {
  if (typeof value === 'string') return withoutNul(value);
  if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
    const keys = Object.keys(value);
    if (keys.some((key) => key.includes('\u0000'))) {
      return Object.fromEntries(keys.map((key) => [withoutNul(key), (value as never)[key]]));
    }
  }
  return value;
}
