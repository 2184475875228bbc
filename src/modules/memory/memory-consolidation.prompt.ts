/** Asks the model which of a person's memories repeat each other and which a newer one replaced. */
export const MEMORY_CONSOLIDATION_SYSTEM = `You tidy an AI companion's long-term memories about one person.
You get numbered memories, oldest first. Answer only JSON:
{"duplicates": [[keep, other, ...], ...], "superseded": [{"old": number, "new": number}, ...]}
- "duplicates": groups of memories that say the same thing; the first number of a group is the one to keep.
- "superseded": an older memory that a newer one contradicts or replaces (a changed favourite, a plan that changed).
Only clear cases. When nothing applies, answer {"duplicates": [], "superseded": []}.`;

export interface ConsolidationPlan {
  /** Each group: the memory kept, then the ones merged into it. */
  duplicates: number[][];
  superseded: { old: number; new: number }[];
}

/**
 * The model's plan, restricted to what is consistent: known numbers only, no memory merged and
 * kept, nothing superseding itself, nothing both merged away and superseded.
 */
export function parseConsolidationPlan(data: unknown, count: number): ConsolidationPlan {
  const raw = (data ?? {}) as { duplicates?: unknown; superseded?: unknown };
  const valid = (n: unknown): n is number =>
    Number.isInteger(n) && (n as number) >= 1 && (n as number) <= count;
  const touched = new Set<number>();
  const duplicates: number[][] = [];
  for (const group of Array.isArray(raw.duplicates) ? raw.duplicates : []) {
    if (!Array.isArray(group)) continue;
    const members = [...new Set(group.filter(valid))].filter((n) => !touched.has(n));
    if (members.length < 2) continue;
    members.forEach((n) => touched.add(n));
    duplicates.push(members);
  }
  const superseded: ConsolidationPlan['superseded'] = [];
  for (const pair of Array.isArray(raw.superseded) ? raw.superseded : []) {
    const { old, new: replacement } = (pair ?? {}) as { old?: unknown; new?: unknown };
    if (!valid(old) || !valid(replacement) || old === replacement || touched.has(old)) continue;
    touched.add(old);
    superseded.push({ old, new: replacement });
  }
  return { duplicates, superseded };
}
