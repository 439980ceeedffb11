/**
 * What the bedrock-runtime fake's model says, deterministically: a token is a word (a run of
 * letters or digits, or one other non-space character), so the input count is reproducible by a
 * test; the answer is a fixed function of the prompt, cut at `maxTokens` with stopReason
 * `max_tokens`, and `usage` counts exactly what was read and written.
 */
import { createHash } from 'node:crypto';
import { AwsError } from './http.js';

/** Inference profiles the fake knows, by ARN or id. */
export interface InferenceProfiles {
  has(arnOrId: string): boolean;
}

/** Token usage as Bedrock reports it. */
export interface Usage {
  inputTokens: number;
  outputTokens: number;
  totalTokens: number;
}

/** A generated answer. */
export interface Answer {
  /** The words of the answer, each one token, joined with single spaces. */
  tokens: string[];
  text: string;
  stopReason: 'end_turn' | 'max_tokens';
}

/** Tokens of a text as the fake counts them. */
export function countTokens(text: string): number {
  return (text.match(/[\p{L}\p{N}]+|[^\s\p{L}\p{N}]/gu) ?? []).length;
}

const VOCABULARY = ['the', 'answer', 'is', 'based', 'on', 'your', 'documents', 'and', 'context', 'given', 'here', 'today'];

/** The fake model's answer to `prompt`: `natural` tokens (20 to 59, from a hash), cut at `maxTokens`. */
export function generateAnswer(prompt: string, maxTokens: number): Answer {
  const h = createHash('sha256').update(prompt).digest();
  const natural = 20 + ((h[0] ?? 0) % 40);
  const n = Math.min(natural, maxTokens);
  const tokens = Array.from({ length: n }, (_, i) => VOCABULARY[(h[i % h.length] ?? 0) % VOCABULARY.length] ?? 'x');
  return { tokens, text: tokens.join(' '), stopReason: n < natural ? 'max_tokens' : 'end_turn' };
}

interface ContentBlock {
  text?: unknown;
}
interface Message {
  role?: unknown;
  content?: ContentBlock[];
}

/** A validated Converse request: the prompt text, its token count and the output limit. */
export interface ConverseInput {
  prompt: string;
  inputTokens: number;
  maxTokens: number;
}

/** Validates a Converse/ConverseStream body like Bedrock (messages alternate, start with user). */
export function converseInput(body: Record<string, unknown>, defaultMaxTokens: number): ConverseInput {
  const invalid = (m: string): AwsError => new AwsError(400, 'ValidationException', m);
  const messages = body.messages as Message[] | undefined;
  if (!Array.isArray(messages) || messages.length === 0) throw invalid('messages: at least one message is required');
  if (messages[0]?.role !== 'user') throw invalid('A conversation must start with a user message.');
  const texts: string[] = [];
  messages.forEach((m, i) => {
    if (m.role !== 'user' && m.role !== 'assistant') throw invalid(`messages.${i}.role: must be user or assistant`);
    if (i > 0 && messages[i - 1]?.role === m.role) throw invalid('A conversation must alternate between user and assistant roles.');
    if (!Array.isArray(m.content) || m.content.length === 0) throw invalid(`messages.${i}.content: at least one block is required`);
    for (const c of m.content) if (typeof c.text === 'string') texts.push(c.text);
  });
  for (const s of (body.system as ContentBlock[] | undefined) ?? []) if (typeof s.text === 'string') texts.push(s.text);
  const maxTokens = (body.inferenceConfig as { maxTokens?: unknown } | undefined)?.maxTokens ?? defaultMaxTokens;
  if (typeof maxTokens !== 'number' || !Number.isInteger(maxTokens) || maxTokens < 1)
    throw invalid('inferenceConfig.maxTokens must be at least 1');
  const prompt = texts.join('\n');
  return { prompt, inputTokens: countTokens(prompt), maxTokens };
}
