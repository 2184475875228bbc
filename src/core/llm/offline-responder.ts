import type OpenAI from 'openai';
import type { ChatRequest, ChatResult } from './llm.types';

/**
 * Answers when OPENAI_API_KEY is unset, so every flow works end to end on a bare machine.
 * Deterministic, no network, and clearly labelled in the text it returns.
 */
export const OFFLINE_MODEL = 'offline-responder';
const MAX_ECHO_CHARS = 200;

export function offlineChat(req: ChatRequest): ChatResult {
  if (req.json) return offlineResult('{}');
  const text = truncate(lastUserText(req.messages), MAX_ECHO_CHARS);
  return offlineResult(`(offline responder) I got your message: "${text}"`);
}

export function offlineImageDescription(): ChatResult {
  return offlineResult(
    JSON.stringify({
      summary: '(offline responder) The image was not analysed: no OPENAI_API_KEY is configured.',
      activities: [],
      people: [],
      places: [],
      preferences: [],
    }),
  );
}

function offlineResult(content: string): ChatResult {
  return {
    content,
    toolCalls: [],
    model: OFFLINE_MODEL,
    usage: { promptTokens: 0, completionTokens: 0, totalTokens: 0 },
    latencyMs: 0,
    offline: true,
  };
}

/** Text of the last user message; content parts other than text are ignored. */
export function lastUserText(messages: OpenAI.Chat.ChatCompletionMessageParam[]): string {
  for (let i = messages.length - 1; i >= 0; i--) {
    const message = messages[i];
    if (message.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    return message.content
      .map((part) => (part.type === 'text' ? part.text : ''))
      .filter(Boolean)
      .join(' ');
  }
  return '';
}

function truncate(text: string, max: number): string {
  const chars = Array.from(text); // by code point, so an emoji is never cut in half
  return chars.length <= max ? text : `${chars.slice(0, max).join('')}…`;
}
