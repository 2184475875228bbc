import { inputShapeProblem, MAX_INPUT_DEPTH } from './input-shape';

describe('inputShapeProblem', () => {
  const nested = (depth: number): unknown => {
    let value: unknown = 1;
    for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { a: value };
    return value;
  };

  it('accepts ordinary input, unicode included', () => {
    expect(
      inputShapeProblem(
        { text: 'hi 😀 \u200F\uFFFC', list: [1, 'a', { b: null }], n: 1, t: true },
        'body',
      ),
    ).toBeUndefined();
    expect(inputShapeProblem(undefined, 'body')).toBeUndefined();
    expect(inputShapeProblem(nested(MAX_INPUT_DEPTH), 'body')).toBeUndefined();
  });

  it('refuses NUL in any string or key, however deep', () => {
    expect(inputShapeProblem({ a: [{ b: 'x\u0000' }] }, 'body')).toBe(
      'body must not contain NUL characters',
    );
    expect(inputShapeProblem({ ['k\u0000']: 1 }, 'query')).toBe(
      'query must not contain NUL characters',
    );
    expect(inputShapeProblem('\u0000', 'path')).toBe('path must not contain NUL characters');
  });

  it('refuses nesting past the limit without recursing (100,000 levels)', () => {
    expect(inputShapeProblem(nested(MAX_INPUT_DEPTH + 1), 'body')).toBe(
      `body is nested more than ${MAX_INPUT_DEPTH} levels deep`,
    );
    expect(inputShapeProblem(nested(100_000), 'body')).toMatch(/nested more than/);
  });
});
