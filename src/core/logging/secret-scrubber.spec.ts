import { createSecretScrubber } from './secret-scrubber';

describe('createSecretScrubber', () => {
  it('replaces every occurrence of every secret, longest first', () => {
    const scrub = createSecretScrubber(['abcd1234', 'abcd1234-longer']);
    expect(scrub('{"a":"abcd1234-longer","b":"x abcd1234 y abcd1234"}')).toBe(
      '{"a":"[REDACTED]","b":"x [REDACTED] y [REDACTED]"}',
    );
  });

  it('also catches the JSON-escaped form of a secret', () => {
    const secret = 'pa"ss\\word';
    const line = JSON.stringify({ msg: `failed with ${secret}` });
    expect(createSecretScrubber([secret])(line)).toBe('{"msg":"failed with [REDACTED]"}');
  });

  it('treats secrets literally, not as patterns, and ignores trivially short ones', () => {
    const scrub = createSecretScrubber(['a.b*c+d', 'ab']);
    expect(scrub('a.b*c+d axbxc ab')).toBe('[REDACTED] axbxc ab');
  });

  it('is the identity without secrets', () => {
    expect(createSecretScrubber([])('anything')).toBe('anything');
  });
});
