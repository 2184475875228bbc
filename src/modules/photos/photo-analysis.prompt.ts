import { parseJsonLoosely } from '../../core/llm/llm.client';
import { MemoryType } from '../memory/entities/memory.entity';
import { PhotoAnalysis } from './entities/photo.entity';

const CAPTION_MAX_CHARS = 500;
const ITEM_MAX_CHARS = 120;
const ITEMS_PER_LIST = 8;
const SUMMARY_MAX_CHARS = 600;

/**
 * The vision prompt. The model answers with one JSON object of the `PhotoAnalysis` shape; the
 * caption is quoted as context, never as instructions.
 */
export function photoAnalysisPrompt(caption: string | null): string {
  const lines = [
    'Someone sent this photo to their AI companion over iMessage. Describe it so the companion can',
    'talk about it and remember useful things about the sender.',
    '',
    'Answer with one JSON object and nothing else, with exactly these keys:',
    '{"summary": string, "activities": string[], "people": string[], "places": string[], "preferences": string[]}',
    '- summary: one or two sentences on what the photo shows.',
    '- activities: what the sender seems to be doing or enjoys doing ("hiking", "baking bread").',
    '- people: who appears, described, never identified ("a friend in a red jacket", "a toddler").',
    '- places: the kind of place, or a well-known landmark ("a beach at sunset", "the Eiffel Tower").',
    '- preferences: likes the photo suggests about the sender ("likes sushi", "has a golden retriever").',
    'Short phrases, at most 5 per list, [] when nothing applies. Do not guess health, religion,',
    'ethnicity, sexuality or politics.',
  ];
  if (caption) {
    lines.push(
      '',
      `The sender's caption, as context only: ${JSON.stringify(caption.slice(0, CAPTION_MAX_CHARS))}`,
    );
  }
  return lines.join('\n');
}

/** Which memory each list becomes. */
export const VISUAL_MEMORY_TYPES = {
  activities: 'visual_activity',
  people: 'visual_person',
  places: 'visual_place',
  preferences: 'visual_preference',
} as const satisfies Record<Exclude<keyof PhotoAnalysis, 'summary'>, MemoryType>;

/**
 * Reads the model's answer tolerantly (code fences, prose around the object, trailing commas)
 * but types it strictly: a list that is not an array of strings is empty, non-strings inside a
 * list are dropped. Null when there is no usable summary (the analysis failed).
 */
export function parsePhotoAnalysis(text: string | null): PhotoAnalysis | null {
  let data = parseJsonLoosely(text);
  if (data === null && text) data = parseJsonLoosely(text.replace(/,(\s*[}\]])/g, '$1'));
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return null;
  const record = data as Record<string, unknown>;
  const summary = typeof record.summary === 'string' ? squash(record.summary) : '';
  if (!summary) return null;
  return {
    summary: summary.slice(0, SUMMARY_MAX_CHARS),
    activities: list(record.activities),
    people: list(record.people),
    places: list(record.places),
    preferences: list(record.preferences),
  };
}

function list(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  const seen = new Set<string>();
  const items: string[] = [];
  for (const entry of value) {
    if (typeof entry !== 'string') continue;
    const item = squash(entry).slice(0, ITEM_MAX_CHARS);
    const key = item.toLowerCase();
    if (!item || seen.has(key)) continue;
    seen.add(key);
    items.push(item);
    if (items.length >= ITEMS_PER_LIST) break;
  }
  return items;
}

function squash(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
