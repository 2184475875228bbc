/** The longest trait profile the prompt carries (the column allows 600). */
export const TRAIT_PROFILE_MAX_CHARS = 500;
/** The most traits a profile names, most confident first. */
export const TRAIT_PROFILE_MAX_TRAITS = 8;

/**
 * The trait profile: a person's most confident traits as one short line, e.g.
 * "communication style: brief lowercase texts; humor: dry". Written from the traits rather than
 * by the model: it costs no LLM call per change, it cannot invent anything the traits do not say,
 * and the same traits always give the same line (so cached replies stay valid).
 */
export function traitProfileSummary(
  traits: { trait: string; value: string }[],
): string | undefined {
  let summary = '';
  for (const { trait, value } of traits.slice(0, TRAIT_PROFILE_MAX_TRAITS)) {
    const entry = `${trait.replace(/_/g, ' ')}: ${value.replace(/\s+/g, ' ').trim()}`;
    const next = summary ? `${summary}; ${entry}` : entry;
    if (next.length > TRAIT_PROFILE_MAX_CHARS) break;
    summary = next;
  }
  return summary || undefined;
}
