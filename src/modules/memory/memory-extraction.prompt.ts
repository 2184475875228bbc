import { canonicalTimeZone } from '../users/time-zone';
import { MemoryType } from './entities/memory.entity';

export const EXTRACTABLE_TYPES: MemoryType[] = [
  'activity',
  'person',
  'place',
  'preference',
  'plan',
  'fact',
];

/** The extraction prompt: the model must answer JSON in exactly this shape. */
export const MEMORY_EXTRACTION_SYSTEM = `You extract lasting knowledge about people from one chat message, for an AI companion's long-term memory.
Answer only JSON: {"facts": [{"about": string, "type": string, "content": string, "confidence": number}], "traits": [{"trait": string, "value": string, "confidence": number}], "profile": {"name": string | null, "time_zone": string | null}}
Facts:
- "about": who the fact is about: "speaker" for the person who wrote the message, or the exact handle of another participant listed below.
- "type": one of activity, person, place, preference, plan, fact.
- "content": the fact as a short third-person sentence without the person's name, e.g. "loves rock climbing", "has a sister named Maya", "is moving to Denver in June".
- "confidence": 0 to 1.
Only facts worth remembering for weeks: no greetings, no questions, no small talk, nothing about the assistant. Most messages have none: then "facts": [].
Traits: stable characteristics of the speaker only, that would still hold in a year — how they communicate, their humour, temperament, values, what drives them. Not moods, not plans, not facts.
- "trait": a snake_case name such as communication_style, humor, temperament, values, social_style, energy.
- "value": a short phrase, e.g. "brief, lowercase texts with emoji", "dry and self-deprecating".
- "confidence": 0 to 1; one message rarely shows a trait with more than 0.6.
Most messages show none: then "traits": [].
Profile: what the speaker says about themselves, else null:
- "name": the name the speaker says they go by (their own, never someone else's).
- "time_zone": the IANA time zone (e.g. "America/Chicago") of where the speaker says they live or are now.`;

export function memoryExtractionInput(input: {
  speaker: { handle: string; name: string | null };
  participants: { handle: string; name: string | null }[];
  roomType: 'direct' | 'group';
  /** The assistant's last text in the chat before this message (what it may answer). */
  assistantBefore?: string | null;
  text: string;
}): string {
  const who = (p: { handle: string; name: string | null }) =>
    p.name ? `${p.handle} (${p.name})` : p.handle;
  const others = input.participants.filter((p) => p.handle !== input.speaker.handle);
  return [
    `Chat: ${input.roomType}`,
    `Speaker: ${who(input.speaker)}`,
    `Other participants: ${others.length ? others.map(who).join(', ') : 'none'}`,
    // An answer such as "Sam" or "Chicago" only means something next to the question it answers.
    ...(input.assistantBefore ? [`The assistant had just said: ${input.assistantBefore}`] : []),
    `Message: ${input.text}`,
  ].join('\n');
}

export interface ExtractedFact {
  about: string;
  type: MemoryType;
  content: string;
  confidence: number;
}

export interface ExtractedTrait {
  trait: string;
  value: string;
  confidence: number;
}

export interface ExtractedProfile {
  name: string | null;
  /** Canonical IANA name; anything else the model said is dropped. */
  timeZone: string | null;
}

export interface Extraction {
  facts: ExtractedFact[];
  traits: ExtractedTrait[];
  profile: ExtractedProfile;
}

/** At most this many traits are taken from one message. */
const MAX_TRAITS = 5;
const TRAIT_NAME = /^[a-z][a-z0-9_]{0,39}$/;

function confidenceOf(value: unknown, fallback: number): number {
  return typeof value === 'number' && value >= 0 && value <= 1 ? value : fallback;
}

/** Keeps the well-formed parts of the model's answer; anything else is dropped. */
export function parseExtraction(data: unknown): Extraction {
  const answer = (data ?? {}) as { facts?: unknown; traits?: unknown; profile?: unknown };
  return {
    facts: parseFacts(answer.facts),
    traits: parseTraits(answer.traits),
    profile: parseProfile(answer.profile),
  };
}

function parseFacts(facts: unknown): ExtractedFact[] {
  if (!Array.isArray(facts)) return [];
  return facts.flatMap((raw): ExtractedFact[] => {
    const fact = (raw ?? {}) as Record<string, unknown>;
    const content = typeof fact.content === 'string' ? fact.content.trim().slice(0, 500) : '';
    const type = EXTRACTABLE_TYPES.find((t) => t === fact.type);
    if (!content || !type) return [];
    const about = typeof fact.about === 'string' ? fact.about.trim() : 'speaker';
    return [{ about, type, content, confidence: confidenceOf(fact.confidence, 0.7) }];
  });
}

function parseTraits(traits: unknown): ExtractedTrait[] {
  if (!Array.isArray(traits)) return [];
  const byName = new Map<string, ExtractedTrait>();
  for (const raw of traits) {
    const entry = (raw ?? {}) as Record<string, unknown>;
    const trait =
      typeof entry.trait === 'string'
        ? entry.trait
            .trim()
            .toLowerCase()
            .replace(/[^a-z0-9]+/g, '_')
            .replace(/^_+|_+$/g, '')
        : '';
    const value = typeof entry.value === 'string' ? entry.value.trim().slice(0, 200) : '';
    if (!TRAIT_NAME.test(trait) || !value) continue;
    // The same trait twice in one answer: the more confident reading.
    const candidate = { trait, value, confidence: confidenceOf(entry.confidence, 0.5) };
    const seen = byName.get(trait);
    if (!seen || candidate.confidence > seen.confidence) byName.set(trait, candidate);
  }
  return [...byName.values()].slice(0, MAX_TRAITS);
}

function parseProfile(profile: unknown): ExtractedProfile {
  const p = (profile ?? {}) as Record<string, unknown>;
  const name = typeof p.name === 'string' ? p.name.trim().replace(/\s+/g, ' ') : '';
  const zone = typeof p.time_zone === 'string' ? canonicalTimeZone(p.time_zone.trim()) : undefined;
  return {
    // A name has a letter and fits a profile; "null" spelled out is the model being literal.
    name: name && name.length <= 100 && /\p{L}/u.test(name) && name !== 'null' ? name : null,
    timeZone: zone ?? null,
  };
}
