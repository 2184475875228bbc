import { nulFree, withoutNul } from './nul';

describe('NUL removal', () => {
  it('drops NUL from text and leaves other text as it is', () => {
    expect(withoutNul('a\u0000b\u0000')).toBe('ab');
    const clean = 'no nul here';
    expect(withoutNul(clean)).toBe(clean);
  });

  it('revives JSON with NUL-free strings and keys, at any depth', () => {
    const parsed = JSON.parse(
      '{"a\\u0000b": "x\\u0000", "list": ["\\u0000y", 1, null], "deep": {"k\\u0000": {"v": "z\\u0000"}}}',
      nulFree,
    );
    expect(parsed).toEqual({ ab: 'x', list: ['y', 1, null], deep: { k: { v: 'z' } } });
    expect(JSON.stringify(parsed)).not.toContain('\\u0000');
  });
});
