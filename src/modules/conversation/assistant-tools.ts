import { LlmTool } from '../../core/llm/llm.types';
import { MEMORY_TYPES } from '../memory/entities/memory.entity';

/** Every tool the assistant can call: passed to the model as is, and listed by `GET /v1/tools`. */
export const ASSISTANT_TOOLS: LlmTool[] = [
  {
    name: 'schedule_message',
    description:
      'Schedule a message to send to this chat later, e.g. a reminder the person asked for. ' +
      'Use the person’s local time when they give one.',
    parameters: {
      type: 'object',
      properties: {
        text: { type: 'string', minLength: 1, maxLength: 5000, description: 'The message to send' },
        send_at: {
          type: 'string',
          description:
            'When to send: ISO 8601 with Z or an offset, or a local time (YYYY-MM-DDTHH:MM) in the person’s time zone',
        },
      },
      required: ['text', 'send_at'],
      additionalProperties: false,
    },
  },
  {
    name: 'remember',
    description: 'Remember a lasting fact about the person you are talking to.',
    parameters: {
      type: 'object',
      properties: {
        content: { type: 'string', minLength: 1, maxLength: 500 },
        type: { type: 'string', enum: MEMORY_TYPES.filter((t) => !t.startsWith('visual_')) },
      },
      required: ['content'],
      additionalProperties: false,
    },
  },
  {
    name: 'search_memories',
    description: 'Search what you remember about the person you are talking to.',
    parameters: {
      type: 'object',
      properties: {
        query: { type: 'string', maxLength: 200 },
        limit: { type: 'integer', minimum: 1, maximum: 10 },
      },
      required: ['query'],
      additionalProperties: false,
    },
  },
];
