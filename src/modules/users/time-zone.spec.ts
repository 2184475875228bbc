import { parseSendAt } from '../scheduled-messages/send-at';
import { canonicalTimeZone, timeZoneOf } from './time-zone';

describe('timeZoneOf', () => {
  it('prefers the profile, then a single-zone country of the phone number, else none', () => {
    expect(timeZoneOf({ handle: '+442071234567', timeZone: 'America/Denver' })).toBe(
      'America/Denver',
    );
    expect(timeZoneOf({ handle: '+442071234567', timeZone: null })).toBe('Europe/London');
    expect(timeZoneOf({ handle: '+351912345678', timeZone: null })).toBe('Europe/Lisbon');
    expect(timeZoneOf({ handle: '+819012345678', timeZone: null })).toBe('Asia/Tokyo');
    // +1 spans many zones: only the profile can tell.
    expect(timeZoneOf({ handle: '+15551234567', timeZone: null })).toBeNull();
    expect(timeZoneOf({ handle: 'sam@icloud.com', timeZone: null })).toBeNull();
  });
});

describe('parseSendAt', () => {
  it('reads exact times as given and local times in the person’s zone, stored in UTC', () => {
    expect(parseSendAt('2026-11-25T09:00:00Z', 'Asia/Tokyo')!.toISOString()).toBe(
      '2026-11-25T09:00:00.000Z',
    );
    expect(parseSendAt('2026-11-25T09:00:00+02:00', null)!.toISOString()).toBe(
      '2026-11-25T07:00:00.000Z',
    );
    // "tomorrow at 9" in Tokyo (UTC+9) and in London in winter (UTC+0) and summer (UTC+1).
    expect(parseSendAt('2026-11-25T09:00', 'Asia/Tokyo')!.toISOString()).toBe(
      '2026-11-25T00:00:00.000Z',
    );
    expect(parseSendAt('2026-11-25T09:00', 'Europe/London')!.toISOString()).toBe(
      '2026-11-25T09:00:00.000Z',
    );
    expect(parseSendAt('2026-07-01T09:00', 'Europe/London')!.toISOString()).toBe(
      '2026-07-01T08:00:00.000Z',
    );
    expect(parseSendAt('2026-11-25T09:00', null)!.toISOString()).toBe('2026-11-25T09:00:00.000Z');
    expect(parseSendAt('tomorrow at 9', 'Asia/Tokyo')).toBeUndefined();
    expect(parseSendAt('2026-11-25T09:00', 'Not/AZone')!.toISOString()).toBe(
      '2026-11-25T09:00:00.000Z',
    );
  });
});

describe('canonicalTimeZone', () => {
  it('accepts IANA names (in their canonical spelling) and refuses offsets and inventions', () => {
    expect(canonicalTimeZone('Europe/Paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('europe/paris')).toBe('Europe/Paris');
    expect(canonicalTimeZone('UTC')).toBe('UTC');
    expect(canonicalTimeZone('+01:00')).toBeUndefined();
    expect(canonicalTimeZone('Mars/Olympus')).toBeUndefined();
    expect(canonicalTimeZone('not a zone')).toBeUndefined();
  });
});
