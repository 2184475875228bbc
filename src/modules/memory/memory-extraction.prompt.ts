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
export const MEMORY_EXTRACTION_SYSTEM = `You extract lasting facts about people from one chat message, for an AI companion's long-term memory.
Answer only JSON: {"facts": [{"about": string, "type": string, "content": string, "confidence": number}]}
- "about": who the fact is about: "speaker" for the person who wrote the message, or the exact handle of another participant listed below.
- "type": one of activity, person, place, preference, plan, fact.
- "content": the fact as a short third-person sentence without the person's name, e.g. "loves rock climbing", "has a sister named Maya", "is moving to Denver in June".
- "confidence": 0 to 1.
Only facts worth remembering for weeks: no greetings, no questions, no small talk, nothing about the assistant. Most messages have none: then answer {"facts": []}.`;

export function memoryExtractionInput(input: {
  speaker: { handle: string; name: string | null };
  participants: { handle: string; name: string | null }[];
  roomType: 'direct' | 'group';
  text: string;
}): string {
  const who = (p: { handle: string; name: string | null }) =>
    p.name ? `${p.handle} (${p.name})` : p.handle;
  const others = input.participants.filter((p) => p.handle !== input.speaker.handle);
  return [
    `Chat: ${input.roomType}`,
    `Speaker: ${who(input.speaker)}`,
    `Other participants: ${others.length ? others.map(who).join(', ') : 'none'}`,
    `Message: ${input.text}`,
  ].join('\n');
}

export interface ExtractedFact {
  about: string;
  type: MemoryType;
  content: string;
  confidence: number;
}

/** Keeps the well-formed facts of the model's answer; anything else is dropped. */
export function parseExtractedFacts(data: unknown): ExtractedFact[] {
  const facts = (data as { facts?: unknown } | null)?.facts;
  if (!Array.isArray(facts)) return [];
  return facts.flatMap((raw): ExtractedFact[] => {
    const fact = raw as Record<string, unknown>;
    const content = typeof fact.content === 'string' ? fact.content.trim().slice(0, 500) : '';
    const type = EXTRACTABLE_TYPES.find((t) => t === fact.type);
    if (!content || !type) return [];
    const confidence =
      typeof fact.confidence === 'number' && fact.confidence >= 0 && fact.confidence <= 1
        ? fact.confidence
        : 0.7;
    const about = typeof fact.about === 'string' ? fact.about.trim() : 'speaker';
    return [{ about, type, content, confidence }];
  });
}
