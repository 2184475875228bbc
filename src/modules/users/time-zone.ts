/**
 * Countries whose calling code maps to a single time zone. Countries spanning several (the
 * North American +1, Russia, Brazil, Australia, …) are absent: for them only the person's
 * profile can tell, and until it does, times are read in UTC.
 */
const SINGLE_ZONE_CALLING_CODES: Record<string, string> = {
  '20': 'Africa/Cairo',
  '27': 'Africa/Johannesburg',
  '30': 'Europe/Athens',
  '31': 'Europe/Amsterdam',
  '32': 'Europe/Brussels',
  '33': 'Europe/Paris',
  '34': 'Europe/Madrid',
  '36': 'Europe/Budapest',
  '39': 'Europe/Rome',
  '40': 'Europe/Bucharest',
  '41': 'Europe/Zurich',
  '43': 'Europe/Vienna',
  '44': 'Europe/London',
  '45': 'Europe/Copenhagen',
  '46': 'Europe/Stockholm',
  '47': 'Europe/Oslo',
  '48': 'Europe/Warsaw',
  '49': 'Europe/Berlin',
  '51': 'America/Lima',
  '54': 'America/Argentina/Buenos_Aires',
  '56': 'America/Santiago',
  '57': 'America/Bogota',
  '63': 'Asia/Manila',
  '64': 'Pacific/Auckland',
  '65': 'Asia/Singapore',
  '66': 'Asia/Bangkok',
  '81': 'Asia/Tokyo',
  '82': 'Asia/Seoul',
  '84': 'Asia/Ho_Chi_Minh',
  '86': 'Asia/Shanghai',
  '90': 'Europe/Istanbul',
  '91': 'Asia/Kolkata',
  '92': 'Asia/Karachi',
  '234': 'Africa/Lagos',
  '254': 'Africa/Nairobi',
  '351': 'Europe/Lisbon',
  '353': 'Europe/Dublin',
  '358': 'Europe/Helsinki',
  '420': 'Europe/Prague',
  '852': 'Asia/Hong_Kong',
  '886': 'Asia/Taipei',
  '971': 'Asia/Dubai',
  '972': 'Asia/Jerusalem',
};

/**
 * The time zone to read a person's local times in: their profile's when set, else the one their
 * phone number's country implies when that country has only one, else null (UTC).
 */
export function timeZoneOf(person: { handle: string; timeZone: string | null }): string | null {
  if (person.timeZone) return person.timeZone;
  const digits = /^\+(\d+)$/.exec(person.handle)?.[1];
  if (!digits) return null;
  for (const length of [3, 2, 1]) {
    const zone = SINGLE_ZONE_CALLING_CODES[digits.slice(0, length)];
    if (zone) return zone;
  }
  return null;
}

/** The IANA name of a zone in its canonical spelling, or undefined when it is not one. */
export function canonicalTimeZone(value: string): string | undefined {
  // Names only (Region/City, UTC): offsets such as "+01:00" are not IANA zones.
  if (!/^[A-Za-z][A-Za-z0-9_+-]*(\/[A-Za-z0-9_+-]+)*$/.test(value)) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}
