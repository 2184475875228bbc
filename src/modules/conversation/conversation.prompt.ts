import OpenAI from 'openai';
import { PersonaEntity } from '../personas/entities/persona.entity';
import { SenderContext } from '../memory/sender-context';
import { Turn } from '../rooms/rooms.repository';
import { OnboardingGap } from '../users/onboarding.service';

type Message = OpenAI.Chat.ChatCompletionMessageParam;

export interface PromptInput {
  persona: PersonaEntity;
  roomType: 'direct' | 'group';
  sender: { handle: string; name: string | null; timeZone: string | null };
  context: SenderContext;
  /** The summary of their stable traits (trait_profiles), when any are known. */
  traitProfile: string | null;
  /** Set while the persona is getting to know them (their onboarding is not complete). */
  onboarding: PromptOnboarding | null;
  history: Turn[];
  text: string;
  /** What a photo in this message shows, when known. */
  photoNotes?: string[];
  now: Date;
}

export interface PromptOnboarding {
  /** This is their first message: the persona introduces itself. */
  first: boolean;
  /** What the persona still has to learn. */
  missing: OnboardingGap[];
}

const GAP_QUESTIONS: Record<OnboardingGap, string> = {
  name: 'what to call them',
  time_zone: 'where in the world they are (for their time zone)',
};

/** Bubbles longer than this are split at sentence ends; a reply has at most MAX_BUBBLES. */
const MAX_BUBBLES = 5;

export interface Prompt {
  messages: Message[];
  /** The prompt without the clock line: what the response cache keys on. */
  cacheable: Message[];
}

/**
 * The prompt of one reply: the persona, what it knows about the sender, the room's recent turns
 * and the new message. In a group every line names its speaker.
 */
export function buildPrompt(input: PromptInput): Prompt {
  const { persona, sender, context } = input;
  const known = [
    `You are talking with ${sender.name ?? sender.handle}${sender.name ? ` (${sender.handle})` : ''}.`,
    sender.timeZone ? `Their time zone is ${sender.timeZone}.` : '',
    input.traitProfile ? `What they are like: ${input.traitProfile}.` : '',
    context.preferences.length ? `They like: ${context.preferences.join('; ')}.` : '',
    context.memories.length
      ? `What you remember about them:\n${context.memories.map((m) => `- (${m.type}) ${m.content}`).join('\n')}`
      : context.preferences.length || input.traitProfile
        ? ''
        : 'You do not know anything about them yet.',
  ]
    .filter(Boolean)
    .join('\n');
  const system = [
    persona.systemPrompt,
    input.roomType === 'group'
      ? 'This is a group chat: several people talk; answer the person who addressed you.'
      : 'This is a one-to-one chat.',
    known,
    // Getting to know someone happens one-to-one: in a group it would interrogate them in public.
    input.roomType === 'direct' ? onboardingLines(persona.name, input.onboarding) : '',
    'Separate distinct text bubbles with a blank line.',
  ]
    .filter(Boolean)
    .join('\n\n');
  const clock: Message = {
    role: 'system',
    content: `The current time is ${input.now.toISOString()}.`,
  };

  const speaker = (turn: Turn) => turn.senderName ?? turn.senderHandle ?? 'someone';
  const history: Message[] = input.history.map((turn) =>
    turn.direction === 'outbound'
      ? { role: 'assistant', content: turn.text }
      : {
          role: 'user',
          content: input.roomType === 'group' ? `${speaker(turn)}: ${turn.text}` : turn.text,
        },
  );
  const photo = input.photoNotes?.length
    ? `\n\n[They shared a photo: ${input.photoNotes.join(' ')}]`
    : '';
  const text =
    input.roomType === 'group' ? `${sender.name ?? sender.handle}: ${input.text}` : input.text;
  const cacheable: Message[] = [
    { role: 'system', content: system },
    ...history,
    { role: 'user', content: `${text}${photo}` },
  ];
  return { messages: [cacheable[0], clock, ...cacheable.slice(1)], cacheable };
}

function onboardingLines(personaName: string, onboarding: PromptOnboarding | null): string {
  if (!onboarding) return '';
  return [
    onboarding.first
      ? `This is the first time they text you: introduce yourself as ${personaName} in a sentence.`
      : '',
    onboarding.missing.length
      ? `You are still getting to know them: over the next messages, naturally find out ${onboarding.missing.map((gap) => GAP_QUESTIONS[gap]).join(' and ')}. One question per message at most, and answer what they said first.`
      : '',
  ]
    .filter(Boolean)
    .join(' ');
}

/** Splits a reply into the text bubbles the edge sends one by one (blank lines separate them). */
export function splitBubbles(reply: string): string[] {
  const parts = reply
    .split(/\n\s*\n/)
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length <= MAX_BUBBLES) return parts;
  return [...parts.slice(0, MAX_BUBBLES - 1), parts.slice(MAX_BUBBLES - 1).join('\n\n')];
}

/** Group rule: the assistant answers only when addressed by name (word match, any case). */
export function mentionsPersona(text: string, personaName: string): boolean {
  const escaped = personaName.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`(^|[^\\p{L}\\p{N}])${escaped}($|[^\\p{L}\\p{N}])`, 'iu').test(text);
}
