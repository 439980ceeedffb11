/**
 * OpenAI's chat completions API mapped onto Bedrock's Converse: request validation and
 * translation, the response and its stream chunks. Pure. Messages of the same role in a row are
 * merged (Converse requires alternating turns); system messages become Converse's `system`.
 */
import type { ContentBlock, Message, SystemContentBlock } from '@aws-sdk/client-bedrock-runtime';
import type { ConverseInput } from './bedrock.js';
import { promptTokenBound } from './quota.js';

/** A request the gateway refuses with 400. */
export class BadRequest extends Error {
  override readonly name = 'BadRequest';
}

/** The parts of an OpenAI chat completion request the gateway reads. */
export interface ChatRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
  /** Converse input; `maxTokens` is the caller's cap or the gateway's default, at most its maximum. */
  converse: ConverseInput;
  /** An upper bound of the prompt's tokens, for the reservation. */
  promptBound: number;
}

/** Limits the gateway applies to every request. */
export interface ChatLimits {
  defaultMaxTokens: number;
  maxTokens: number;
  bytesPerToken: number;
}

function text(content: unknown, path: string): string {
  if (typeof content === 'string') return content;
  if (Array.isArray(content)) {
    return content
      .map((p: unknown, i) => {
        const part = p as { type?: unknown; text?: unknown };
        if (part?.type !== 'text' || typeof part.text !== 'string') throw new BadRequest(`${path}[${i}]: only text parts are supported`);
        return part.text;
      })
      .join('');
  }
  throw new BadRequest(`${path}: must be a string or a list of text parts`);
}

function int(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new BadRequest(`${name} must be an integer from ${min} to ${max}`);
  return v;
}

function num(v: unknown, name: string, min: number, max: number): number | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || v < min || v > max) throw new BadRequest(`${name} must be a number from ${min} to ${max}`);
  return v;
}

/** Validates and translates an OpenAI chat completion request. */
export function parseChatRequest(body: unknown, l: ChatLimits): ChatRequest {
  const b = (body ?? {}) as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model.length === 0) throw new BadRequest('model is required');
  if (!Array.isArray(b.messages) || b.messages.length === 0) throw new BadRequest('messages must be a non-empty list');
  if (b.n !== undefined && b.n !== 1) throw new BadRequest('n must be 1');
  if (b.tools !== undefined || b.functions !== undefined) throw new BadRequest('tools are not supported');
  const system: SystemContentBlock[] = [];
  const messages: Message[] = [];
  const texts: string[] = [];
  b.messages.forEach((raw: unknown, i) => {
    const m = raw as { role?: unknown; content?: unknown };
    const t = text(m?.content, `messages[${i}].content`);
    texts.push(t);
    if (m.role === 'system' || m.role === 'developer') {
      system.push({ text: t });
      return;
    }
    if (m.role !== 'user' && m.role !== 'assistant') throw new BadRequest(`messages[${i}].role must be system, user or assistant`);
    if (t.length === 0) return;
    const last = messages[messages.length - 1];
    const block: ContentBlock = { text: t };
    if (last && last.role === m.role) last.content = [...(last.content ?? []), block];
    else messages.push({ role: m.role, content: [block] });
  });
  if (messages[0]?.role !== 'user') throw new BadRequest('the first non-system message must be from the user');
  const cap = int(b.max_completion_tokens ?? b.max_tokens, 'max_tokens', 1, l.maxTokens) ?? l.defaultMaxTokens;
  const stop =
    typeof b.stop === 'string' ? [b.stop] : Array.isArray(b.stop) ? b.stop.filter((s): s is string => typeof s === 'string') : undefined;
  const temperature = num(b.temperature, 'temperature', 0, 1);
  const topP = num(b.top_p, 'top_p', 0, 1);
  const options = (b.stream_options ?? {}) as { include_usage?: unknown };
  return {
    model: b.model,
    stream: b.stream === true,
    includeUsage: options.include_usage === true,
    converse: {
      messages,
      ...(system.length ? { system } : {}),
      maxTokens: Math.min(cap, l.maxTokens),
      ...(temperature !== undefined ? { temperature } : {}),
      ...(topP !== undefined ? { topP } : {}),
      ...(stop?.length ? { stopSequences: stop.slice(0, 4) } : {}),
    },
    promptBound: promptTokenBound(texts, l.bytesPerToken),
  };
}

/** OpenAI's finish_reason for a Converse stopReason. */
export function finishReason(stopReason: string | undefined): string {
  if (stopReason === 'max_tokens') return 'length';
  if (stopReason === 'content_filtered' || stopReason === 'guardrail_intervened') return 'content_filter';
  return 'stop';
}

/** Token usage in OpenAI's shape. */
export interface OpenAiUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** The usage of a Converse answer. */
export function usageOf(u: { inputTokens?: number; outputTokens?: number } | undefined): OpenAiUsage {
  const prompt = u?.inputTokens ?? 0;
  const completion = u?.outputTokens ?? 0;
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

/** A non-streaming chat completion. */
export function completion(
  id: string,
  model: string,
  created: number,
  content: string,
  stopReason: string | undefined,
  usage: OpenAiUsage,
): object {
  return {
    id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: finishReason(stopReason) }],
    usage,
  };
}

/** One chunk of a streamed chat completion. */
export function chunk(id: string, model: string, created: number, delta: object, finish: string | null, usage?: OpenAiUsage): object {
  return {
    id,
    object: 'chat.completion.chunk',
    created,
    model,
    choices: usage ? [] : [{ index: 0, delta, finish_reason: finish }],
    ...(usage ? { usage } : {}),
  };
}
