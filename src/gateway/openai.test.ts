import { describe, expect, it } from 'vitest';
import { BadRequest, chunk, completion, finishReason, parseChatRequest } from './openai.js';

const limits = { defaultMaxTokens: 100, maxTokens: 1000, bytesPerToken: 2 };

describe('parseChatRequest', () => {
  it('maps system messages to system, merges same-role turns and caps the output', () => {
    const r = parseChatRequest(
      {
        model: 'm',
        max_tokens: 5000,
        messages: [
          { role: 'system', content: 'be brief' },
          { role: 'user', content: 'a' },
          { role: 'user', content: [{ type: 'text', text: 'b' }] },
          { role: 'assistant', content: 'c' },
          { role: 'user', content: 'd' },
        ],
      },
      { ...limits, maxTokens: 5000 },
    );
    expect(r.converse.system).toEqual([{ text: 'be brief' }]);
    expect(r.converse.messages).toEqual([
      { role: 'user', content: [{ text: 'a' }, { text: 'b' }] },
      { role: 'assistant', content: [{ text: 'c' }] },
      { role: 'user', content: [{ text: 'd' }] },
    ]);
    expect(r.converse.maxTokens).toBe(5000);
    expect(r.promptBound).toBeGreaterThan(0);
  });

  it('uses the default output cap and reads max_completion_tokens first', () => {
    expect(parseChatRequest({ model: 'm', messages: [{ role: 'user', content: 'x' }] }, limits).converse.maxTokens).toBe(100);
    expect(
      parseChatRequest({ model: 'm', max_tokens: 9, max_completion_tokens: 7, messages: [{ role: 'user', content: 'x' }] }, limits).converse
        .maxTokens,
    ).toBe(7);
  });

  it.each([
    ['no model', { messages: [{ role: 'user', content: 'x' }] }],
    ['no messages', { model: 'm', messages: [] }],
    ['a max_tokens over the gateway maximum', { model: 'm', max_tokens: 1001, messages: [{ role: 'user', content: 'x' }] }],
    ['a max_tokens of zero', { model: 'm', max_tokens: 0, messages: [{ role: 'user', content: 'x' }] }],
    ['an assistant first', { model: 'm', messages: [{ role: 'assistant', content: 'x' }] }],
    ['a tool role', { model: 'm', messages: [{ role: 'tool', content: 'x' }] }],
    ['an image part', { model: 'm', messages: [{ role: 'user', content: [{ type: 'image_url', image_url: {} }] }] }],
    ['n of 2', { model: 'm', n: 2, messages: [{ role: 'user', content: 'x' }] }],
    ['tools', { model: 'm', tools: [], messages: [{ role: 'user', content: 'x' }] }],
    ['a temperature over 1', { model: 'm', temperature: 2, messages: [{ role: 'user', content: 'x' }] }],
  ])('refuses %s', (_why, body) => {
    expect(() => parseChatRequest(body, limits)).toThrow(BadRequest);
  });
});

describe('responses', () => {
  it('shapes a completion and a usage chunk like OpenAI', () => {
    const usage = { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 };
    expect(completion('id', 'm', 1, 'hi', 'max_tokens', usage)).toEqual({
      id: 'id',
      object: 'chat.completion',
      created: 1,
      model: 'm',
      choices: [{ index: 0, message: { role: 'assistant', content: 'hi' }, finish_reason: 'length' }],
      usage,
    });
    expect(chunk('id', 'm', 1, {}, null, usage)).toMatchObject({ object: 'chat.completion.chunk', choices: [], usage });
    expect(finishReason('end_turn')).toBe('stop');
    expect(finishReason('guardrail_intervened')).toBe('content_filter');
  });
});
