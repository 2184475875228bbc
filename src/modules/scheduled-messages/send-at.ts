/**
 * Reads the time the model asked for. An ISO time with `Z` or an offset is exact; a local time
 * (`2026-11-25T09:00`) is read in the person's time zone, or UTC when it is unknown.
 */
export function parseSendAt(value: string, timeZone: string | null): Date | undefined {
  const text = value.trim();
  const local = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2}))?$/.exec(text);
  if (!local) {
    if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(text)) {
      return undefined;
    }
    const exact = new Date(text);
    return Number.isNaN(exact.getTime()) ? undefined : exact;
  }
  const [, y, mo, d, h, mi, s] = local.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, h, mi, s || 0);
  if (!timeZone) return new Date(asUtc);
  // The zone's offset at that wall-clock time, found by formatting the UTC guess in the zone.
  const offset = zoneOffsetMs(new Date(asUtc), timeZone);
  if (offset === undefined) return new Date(asUtc);
  const first = asUtc - offset;
  const corrected = zoneOffsetMs(new Date(first), timeZone) ?? offset;
  return new Date(asUtc - corrected);
}

function zoneOffsetMs(at: Date, timeZone: string): number | undefined {
  try {
    const parts = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
    }).formatToParts(at);
    const get = (type: string) => Number(parts.find((p) => p.type === type)?.value);
    const wall = Date.UTC(
      get('year'),
      get('month') - 1,
      get('day'),
      get('hour'),
      get('minute'),
      get('second'),
    );
    return wall - Math.floor(at.getTime() / 1000) * 1000;
  } catch {
    return undefined; // not a valid IANA zone
  }
}
