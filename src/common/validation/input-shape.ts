/**
 * What no endpoint accepts, whatever its DTO: a NUL character (Postgres cannot store one in
 * text or jsonb, so it would fail deep inside a write) and nesting deeper than any client sends
 * (class-transformer and class-validator recurse, and 10,000 levels exhaust the stack).
 */
export const MAX_INPUT_DEPTH = 32;

/**
 * Why a parsed body, query or set of path parameters is refused, or undefined. Walks without
 * recursion and stops at the first problem, so a hostile value costs no more than its size.
 */
export function inputShapeProblem(value: unknown, where: string): string | undefined {
  const stack: { value: unknown; depth: number }[] = [{ value, depth: 0 }];
  while (stack.length) {
    const { value: current, depth } = stack.pop()!;
    if (typeof current === 'string') {
      if (current.includes('\u0000')) return `${where} must not contain NUL characters`;
      continue;
    }
    if (typeof current !== 'object' || current === null) continue;
    if (depth >= MAX_INPUT_DEPTH) {
      return `${where} is nested more than ${MAX_INPUT_DEPTH} levels deep`;
    }
    if (Array.isArray(current)) {
      for (const item of current) stack.push({ value: item, depth: depth + 1 });
      continue;
    }
    for (const [key, item] of Object.entries(current)) {
      if (key.includes('\u0000')) return `${where} must not contain NUL characters`;
      stack.push({ value: item, depth: depth + 1 });
    }
  }
  return undefined;
}
