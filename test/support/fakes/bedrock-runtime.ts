/**
 * A fake of bedrock-runtime's `Converse` and `ConverseStream` (REST-JSON; the stream answers in
 * AWS's binary event-stream framing, encoded with Smithy's own codec) on application inference
 * profiles the Bedrock control-plane fake created. Output and `usage` are deterministic
 * (bedrock-runtime-converse.ts) and honour `maxTokens`; a caller whose role policies in moto IAM
 * do not allow `bedrock:InvokeModel` (Converse) or `bedrock:InvokeModelWithResponseStream`
 * (ConverseStream) on the profile, e.g. after the operator swapped in its quota Deny, gets
 * AccessDeniedException.
 */
import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/util-utf8';
import {
  AwsError,
  awsErrorResponse,
  type Fault,
  type FakeRequest,
  type FakeResponse,
  type Faults,
  jsonBody,
  startFakeServer,
} from './http.js';
import type { RuntimeAuth } from './bedrock-runtime-auth.js';
import { converseInput, generateAnswer, type InferenceProfiles, type Usage } from './bedrock-runtime-converse.js';

/** One invocation the fake served. */
export interface InvocationLog {
  operation: 'Converse' | 'ConverseStream';
  modelId: string;
  principalArn: string;
  usage: Usage;
  requestMetadata?: Record<string, string>;
}

/** A running bedrock-runtime fake. */
export interface BedrockRuntimeFake {
  endpoint: string;
  /** Every successful invocation, in order (the ground truth for token accounting). */
  log: InvocationLog[];
  /** Tokens served per model id (input + output). */
  tokensFor(modelId: string): number;
  stop(): Promise<void>;
}

/** What the fake reads. */
export interface BedrockRuntimeDeps {
  profiles: InferenceProfiles;
  auth: RuntimeAuth;
  faults: Faults;
  /** maxTokens when the request sets none (Bedrock uses the model's maximum). */
  defaultMaxTokens?: number;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

/** One event of the stream: `:event-type` names the union member, the payload is its JSON. */
function event(type: string, payload: unknown): Uint8Array {
  return codec.encode({
    headers: {
      ':event-type': { type: 'string', value: type },
      ':content-type': { type: 'string', value: 'application/json' },
      ':message-type': { type: 'string', value: 'event' },
    },
    body: fromUtf8(JSON.stringify(payload)),
  });
}

function operationOf(r: FakeRequest): string {
  if (r.method !== 'POST') return 'Unknown';
  if (/^\/model\/[^/]+\/converse$/.test(r.rawPath)) return 'Converse';
  if (/^\/model\/[^/]+\/converse-stream$/.test(r.rawPath)) return 'ConverseStream';
  return 'Unknown';
}

function faultResponse(f: Fault): FakeResponse {
  const status = f.status ?? 500;
  const name = f.name ?? (status === 429 ? 'ThrottlingException' : 'InternalServerException');
  return awsErrorResponse(new AwsError(status, name, f.message ?? `Injected ${name}`));
}

/** Starts the fake on a free loopback port. */
export async function startBedrockRuntimeFake(d: BedrockRuntimeDeps): Promise<BedrockRuntimeFake> {
  const log: InvocationLog[] = [];
  const serve = async (req: FakeRequest): Promise<FakeResponse> => {
    const caller = await d.auth.caller(req, 'bedrock');
    const op = operationOf(req);
    if (op !== 'Converse' && op !== 'ConverseStream')
      throw new AwsError(404, 'UnknownOperationException', `${req.method} ${req.rawPath} is not served by the fake`);
    const operation: InvocationLog['operation'] = op;
    const modelId = decodeURIComponent(req.rawPath.split('/')[2] ?? '');
    if (!d.profiles.has(modelId)) throw new AwsError(400, 'ValidationException', `The provided model identifier is invalid: ${modelId}`);
    const action = operation === 'Converse' ? 'bedrock:InvokeModel' : 'bedrock:InvokeModelWithResponseStream';
    await d.auth.authorize(caller, action, modelId);
    const body = jsonBody(req);
    const input = converseInput(body, d.defaultMaxTokens ?? 4096);
    const answer = generateAnswer(input.prompt, input.maxTokens);
    const usage: Usage = {
      inputTokens: input.inputTokens,
      outputTokens: answer.tokens.length,
      totalTokens: input.inputTokens + answer.tokens.length,
    };
    log.push({
      operation,
      modelId,
      principalArn: caller.principalArn,
      usage,
      requestMetadata: body.requestMetadata as Record<string, string>,
    });
    if (operation === 'Converse') {
      return {
        status: 200,
        body: {
          output: { message: { role: 'assistant', content: [{ text: answer.text }] } },
          stopReason: answer.stopReason,
          usage,
          metrics: { latencyMs: 1 },
        },
      };
    }
    const parts = [
      event('messageStart', { role: 'assistant' }),
      ...answer.tokens.map((t, i) => event('contentBlockDelta', { contentBlockIndex: 0, delta: { text: i === 0 ? t : ` ${t}` } })),
      event('contentBlockStop', { contentBlockIndex: 0 }),
      event('messageStop', { stopReason: answer.stopReason }),
      event('metadata', { usage, metrics: { latencyMs: 1 } }),
    ];
    return { status: 200, headers: { 'content-type': 'application/vnd.amazon.eventstream' }, body: Buffer.concat(parts) };
  };
  const handle = async (req: FakeRequest): Promise<FakeResponse> => {
    try {
      return await serve(req);
    } catch (e) {
      if (e instanceof AwsError) return awsErrorResponse(e);
      throw e;
    }
  };
  const server = await startFakeServer(handle, { faults: d.faults, operationOf, faultResponse });
  return {
    endpoint: server.endpoint,
    log,
    tokensFor: (modelId) => log.filter((l) => l.modelId === modelId).reduce((n, l) => n + l.usage.totalTokens, 0),
    stop: () => server.stop(),
  };
}
