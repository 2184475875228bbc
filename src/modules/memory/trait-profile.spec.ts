import { TRAIT_PROFILE_MAX_CHARS, traitProfileSummary } from './trait-profile';

describe('traitProfileSummary', () => {
  it('names each trait with its value, in the order given', () => {
    expect(
      traitProfileSummary([
        { trait: 'communication_style', value: 'brief  lowercase texts' },
        { trait: 'humor', value: 'dry' },
      ]),
    ).toBe('communication style: brief lowercase texts; humor: dry');
  });

  it('is undefined without traits, and stops at whole entries within the limit', () => {
    expect(traitProfileSummary([])).toBeUndefined();
    const many = Array.from({ length: 8 }, (_, i) => ({ trait: `t${i}`, value: 'x'.repeat(100) }));
    const summary = traitProfileSummary(many)!;
    expect(summary.length).toBeLessThanOrEqual(TRAIT_PROFILE_MAX_CHARS);
    expect(summary.split('; ').every((entry) => entry.endsWith('x'.repeat(100)))).toBe(true);
    expect(summary.split('; ')).toHaveLength(4);
  });
});
