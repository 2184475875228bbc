import type OpenAI from 'openai';

/** A function the model may call; `parameters` is a JSON schema. */
export interface LlmTool {
  name: string;
  description: string;
  parameters: Record<string, unknown>;
}

/** A tool call returned by the model, with its JSON arguments already parsed. */
export interface LlmToolCall {
  id: string;
  name: string;
  /** Parsed arguments; `{}` when the model's JSON could not be parsed (see `rawArguments`). */
  arguments: Record<string, unknown>;
  /** The model's argument string, kept only when it could not be parsed. */
  rawArguments?: string;
}

export interface LlmUsage {
  promptTokens: number;
  completionTokens: number;
  totalTokens: number;
}

export interface ChatRequest {
  messages: OpenAI.Chat.ChatCompletionMessageParam[];
  tools?: LlmTool[];
  /** Defaults to the configured chat model. */
  model?: string;
  temperature?: number;
  maxTokens?: number;
  /** Asks for `response_format: { type: 'json_object' }`. */
  json?: boolean;
  /**
   * Epoch ms the call must not run past, retries and their backoff included: each attempt's
   * timeout is cut to what remains, and no attempt starts once it has passed.
   */
  deadline?: number;
}

export interface ChatResult {
  content: string | null;
  toolCalls: LlmToolCall[];
  model: string;
  usage: LlmUsage;
  latencyMs: number;
  /** True when the answer came from the offline responder (no OPENAI_API_KEY). */
  offline: boolean;
}

export interface DescribeImageInput {
  image: Buffer;
  mimeType: string;
  prompt: string;
  json?: boolean;
}

export interface ExtractJsonInput {
  system: string;
  user: string;
  model?: string;
}

export interface LlmStatus {
  mode: 'openai' | 'offline';
  model: string;
  visionModel: string;
}
