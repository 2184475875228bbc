import { bearerToken, safeEqual } from './safe-equal';

describe('safeEqual', () => {
  it('is true only for identical strings, whatever the lengths', () => {
    expect(safeEqual('secret-value', 'secret-value')).toBe(true);
    expect(safeEqual('secret-valuE', 'secret-value')).toBe(false);
    expect(safeEqual('Secret-value', 'secret-value')).toBe(false);
    expect(safeEqual('secret', 'secret-value')).toBe(false);
    expect(safeEqual('', 'secret-value')).toBe(false);
  });
});

describe('bearerToken', () => {
  it('extracts the credential of a Bearer header only', () => {
    expect(bearerToken('Bearer abc.def')).toBe('abc.def');
    expect(bearerToken('bearer   abc')).toBe('abc');
    expect(bearerToken('Basic abc')).toBeUndefined();
    expect(bearerToken('Bearer')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
    expect(bearerToken(['Bearer a', 'Bearer b'])).toBeUndefined();
  });
});
