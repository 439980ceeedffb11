/**
 * A fake of the Bedrock control plane for models and application inference profiles (REST-JSON,
 * SigV4 `bedrock`, as `@aws-sdk/client-bedrock` sends it), since no emulator here serves them:
 * CreateInferenceProfile (201; Bedrock's name, description and token patterns; idempotent by
 * clientRequestToken; copyFrom must be a known foundation model or system profile of the Region;
 * a per-account quota), Get/List/DeleteInferenceProfile, tagging, and Get/ListFoundationModels
 * with a lifecycle each model can be given (ACTIVE, or LEGACY with dates), or a model removed.
 * Errors carry `x-amzn-errortype` as Bedrock's do.
 */
import { randomBytes } from 'node:crypto';
import { AwsError, awsErrorResponse, type Fault, type FakeRequest, type FakeResponse, Faults, jsonBody, startFakeServer } from './http.js';
import { DEFAULT_CREDENTIALS, verifySigV4 } from './sigv4.js';

/** A model's lifecycle as Bedrock reports it. */
export interface FakeLifecycle {
  status: 'ACTIVE' | 'LEGACY';
  legacyTime?: Date;
  publicExtendedAccessTime?: Date;
  endOfLifeTime?: Date;
}

/** An application inference profile as stored. */
export interface FakeProfile {
  id: string;
  arn: string;
  name: string;
  description?: string;
  modelArns: string[];
  token?: string;
  copyFrom: string;
  createdAt: Date;
}

/** Options of the fake. */
export interface BedrockModelsOptions {
  region: string;
  account: string;
  /** Application inference profiles per account (AWS default 1,000, L-40EC9882). */
  maxProfiles: number;
  /** Foundation model ids offered in the Region. */
  models: string[];
  /** System (cross-Region) profile id -> the Regions it routes to. */
  systemProfiles: Record<string, string[]>;
}

/** A running fake. */
export interface BedrockModelsFake {
  endpoint: string;
  /** AWS_ENDPOINT_URL_BEDROCK for the SDK. */
  env: Record<string, string>;
  options: BedrockModelsOptions;
  faults: Faults;
  /** Application profiles by id. */
  profiles: Map<string, FakeProfile>;
  tags: Map<string, Record<string, string>>;
  /** Gives a model a lifecycle (LEGACY with dates) or removes it (`undefined`: no longer offered). */
  setLifecycle(modelId: string, lifecycle: FakeLifecycle | undefined): void;
  reset(): void;
  stop(): Promise<void>;
}

const NAME = /^([0-9a-zA-Z][ _-]?)+$/;
const DESCRIPTION = /^([0-9a-zA-Z:.][ _-]?)+$/;
const TOKEN = /^[a-zA-Z0-9](-*[a-zA-Z0-9])*$/;
// Bedrock's Timestamp shape is @timestampFormat("date-time"): RFC 3339 strings on the wire.
const iso = (d: Date): string => d.toISOString();
const invalid = (message: string): AwsError => new AwsError(400, 'ValidationException', message);
const notFound = (what: string): AwsError => new AwsError(404, 'ResourceNotFoundException', `${what} not found`);

/** Starts the fake on a free loopback port. */
export async function startBedrockModelsFake(opts: Partial<BedrockModelsOptions> = {}): Promise<BedrockModelsFake> {
  const options: BedrockModelsOptions = {
    region: 'us-east-1',
    account: '123456789012',
    maxProfiles: 1000,
    models: [
      'anthropic.claude-3-5-sonnet-20241022-v2:0',
      'anthropic.claude-3-haiku-20240307-v1:0',
      'amazon.nova-lite-v1:0',
      'amazon.titan-embed-text-v2:0',
    ],
    systemProfiles: { 'us.anthropic.claude-3-5-sonnet-20241022-v2:0': ['us-east-1', 'us-east-2', 'us-west-2'] },
    ...opts,
  };
  const faults = new Faults();
  const profiles = new Map<string, FakeProfile>();
  const tags = new Map<string, Record<string, string>>();
  const lifecycles = new Map<string, FakeLifecycle | undefined>();
  const fmArn = (id: string, region = options.region): string => `arn:aws:bedrock:${region}::foundation-model/${id}`;
  const sysArn = (id: string): string => `arn:aws:bedrock:${options.region}:${options.account}:inference-profile/${id}`;
  const offered = (id: string): boolean => options.models.includes(id) && !(lifecycles.has(id) && lifecycles.get(id) === undefined);

  /** The foundation-model ARNs a copy of `source` routes to, or undefined when Bedrock knows no such source. */
  const routes = (source: string): string[] | undefined => {
    const fm = /^arn:aws:bedrock:([^:]+)::foundation-model\/(.+)$/.exec(source);
    if (fm) return fm[1] === options.region && offered(fm[2] ?? '') ? [source] : undefined;
    const sys = /^arn:aws:bedrock:([^:]+):(\d{12}):inference-profile\/(.+)$/.exec(source);
    const regions = sys && sys[1] === options.region ? options.systemProfiles[sys[3] ?? ''] : undefined;
    const model = (sys?.[3] ?? '').replace(/^[a-z-]+\./, '');
    return regions && offered(model) ? regions.map((r) => fmArn(model, r)) : undefined;
  };

  const find = (identifier: string): FakeProfile | undefined =>
    profiles.get(identifier) ?? [...profiles.values()].find((p) => p.arn === identifier);

  const view = (p: FakeProfile): Record<string, unknown> => ({
    inferenceProfileName: p.name,
    inferenceProfileArn: p.arn,
    inferenceProfileId: p.id,
    ...(p.description ? { description: p.description } : {}),
    models: p.modelArns.map((modelArn) => ({ modelArn })),
    status: 'ACTIVE',
    type: 'APPLICATION',
    createdAt: iso(p.createdAt),
    updatedAt: iso(p.createdAt),
  });
  const systemView = (id: string): Record<string, unknown> => ({
    inferenceProfileName: id,
    inferenceProfileArn: sysArn(id),
    inferenceProfileId: id,
    models: (routes(sysArn(id)) ?? []).map((modelArn) => ({ modelArn })),
    status: 'ACTIVE',
    type: 'SYSTEM_DEFINED',
  });

  function create(body: Record<string, unknown>): FakeResponse {
    const name = typeof body.inferenceProfileName === 'string' ? body.inferenceProfileName : '';
    const description = typeof body.description === 'string' ? body.description : undefined;
    const token = typeof body.clientRequestToken === 'string' ? body.clientRequestToken : undefined;
    const copyFrom = (body.modelSource as { copyFrom?: unknown } | undefined)?.copyFrom;
    const tagList = Array.isArray(body.tags) ? (body.tags as { key?: unknown; value?: unknown }[]) : [];
    if (name.length < 1 || name.length > 64 || !NAME.test(name))
      throw invalid(
        `1 validation error detected: Value '${name}' at 'inferenceProfileName' failed to satisfy constraint: Member must satisfy regular expression pattern: ([0-9a-zA-Z][ _-]?)+`,
      );
    if (description !== undefined && (description.length > 200 || !DESCRIPTION.test(description)))
      throw invalid(`Value '${description}' at 'description' failed to satisfy constraint`);
    if (token !== undefined && (token.length > 256 || !TOKEN.test(token)))
      throw invalid(`Value at 'clientRequestToken' failed to satisfy constraint`);
    if (typeof copyFrom !== 'string') throw invalid('modelSource.copyFrom is required');
    if (tagList.length > 200) throw new AwsError(400, 'TooManyTagsException', 'Too many tags');
    for (const t of tagList)
      if (typeof t.key !== 'string' || t.key.length < 1 || t.key.length > 128 || typeof t.value !== 'string' || t.value.length > 256)
        throw invalid('tag keys must be 1-128 and values 0-256 characters');
    const earlier = token ? [...profiles.values()].find((p) => p.token === token) : undefined;
    if (earlier) {
      if (earlier.name !== name || earlier.copyFrom !== copyFrom)
        throw new AwsError(400, 'ConflictException', 'clientRequestToken was used with other parameters');
      return { status: 201, body: { inferenceProfileArn: earlier.arn, status: 'ACTIVE' } };
    }
    if ([...profiles.values()].some((p) => p.name === name))
      throw new AwsError(400, 'ConflictException', `An inference profile named ${name} already exists`);
    const modelArns = routes(copyFrom);
    if (!modelArns)
      throw invalid(
        `The provided model source ${copyFrom} is not a foundation model or system inference profile available in ${options.region}`,
      );
    if (profiles.size >= options.maxProfiles)
      throw new AwsError(
        400,
        'ServiceQuotaExceededException',
        `You have reached the maximum number of application inference profiles (${options.maxProfiles})`,
      );
    const id = randomBytes(9)
      .toString('base64url')
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')
      .slice(0, 12);
    const arn = `arn:aws:bedrock:${options.region}:${options.account}:application-inference-profile/${id}`;
    profiles.set(id, { id, arn, name, description, modelArns, token, copyFrom, createdAt: new Date() });
    tags.set(arn, Object.fromEntries(tagList.map((t) => [String(t.key), String(t.value)])));
    return { status: 201, body: { inferenceProfileArn: arn, status: 'ACTIVE' } };
  }

  function list(req: FakeRequest): FakeResponse {
    const type = typeof req.query.type === 'string' ? req.query.type : undefined;
    const max = Math.min(1000, Math.max(1, Number(req.query.maxResults ?? 100)));
    const start = Number(req.query.nextToken ?? 0);
    const all = [
      ...(type === 'APPLICATION' ? [] : Object.keys(options.systemProfiles).map(systemView)),
      ...(type === 'SYSTEM_DEFINED' ? [] : [...profiles.values()].map(view)),
    ];
    const page = all.slice(start, start + max);
    return {
      status: 200,
      body: { inferenceProfileSummaries: page, ...(start + max < all.length ? { nextToken: String(start + max) } : {}) },
    };
  }

  function foundationModel(identifier: string): Record<string, unknown> {
    const id = identifier.replace(/^arn:aws:bedrock:[^:]*::foundation-model\//, '');
    if (!offered(id)) throw notFound(`Model ${id}`);
    const l = lifecycles.get(id) ?? { status: 'ACTIVE' };
    return {
      modelArn: fmArn(id),
      modelId: id,
      // A display name, as AWS gives ("Nova Lite"; at most 20 characters in the model).
      modelName: displayName(id),
      providerName: id.split('.')[0],
      inputModalities: ['TEXT'],
      outputModalities: id.includes('embed') ? ['EMBEDDING'] : ['TEXT'],
      responseStreamingSupported: !id.includes('embed'),
      inferenceTypesSupported: ['ON_DEMAND', 'INFERENCE_PROFILE'],
      modelLifecycle: {
        status: l.status,
        ...(l.legacyTime ? { legacyTime: iso(l.legacyTime) } : {}),
        ...(l.publicExtendedAccessTime ? { publicExtendedAccessTime: iso(l.publicExtendedAccessTime) } : {}),
        ...(l.endOfLifeTime ? { endOfLifeTime: iso(l.endOfLifeTime) } : {}),
      },
    };
  }

  function tagged(body: Record<string, unknown>): { arn: string; current: Record<string, string> } {
    const arn = typeof body.resourceARN === 'string' ? body.resourceARN : '';
    const current = tags.get(arn);
    if (!current) throw notFound(`Resource ${arn}`);
    return { arn, current };
  }

  const routesTable: [string, RegExp, string, (req: FakeRequest, p: string[]) => FakeResponse][] = [
    ['POST', /^\/inference-profiles$/, 'CreateInferenceProfile', (r) => create(jsonBody(r))],
    ['GET', /^\/inference-profiles$/, 'ListInferenceProfiles', (r) => list(r)],
    [
      'GET',
      /^\/inference-profiles\/([^/]+)$/,
      'GetInferenceProfile',
      (_r, [id = '']) => {
        const p = find(id);
        if (p) return { status: 200, body: view(p) };
        const sys = Object.keys(options.systemProfiles).find((s) => s === id || sysArn(s) === id);
        if (sys) return { status: 200, body: systemView(sys) };
        throw notFound(`Inference profile ${id}`);
      },
    ],
    [
      'DELETE',
      /^\/inference-profiles\/([^/]+)$/,
      'DeleteInferenceProfile',
      (_r, [id = '']) => {
        const p = find(id);
        if (!p) throw notFound(`Inference profile ${id}`);
        profiles.delete(p.id);
        tags.delete(p.arn);
        return { status: 200, body: {} };
      },
    ],
    [
      'POST',
      /^\/listTagsForResource$/,
      'ListTagsForResource',
      (r) => {
        const { current } = tagged(jsonBody(r));
        return { status: 200, body: { tags: Object.entries(current).map(([key, value]) => ({ key, value })) } };
      },
    ],
    [
      'POST',
      /^\/tagResource$/,
      'TagResource',
      (r) => {
        const body = jsonBody(r);
        const { arn, current } = tagged(body);
        const add = Array.isArray(body.tags) ? (body.tags as { key: string; value: string }[]) : [];
        tags.set(arn, { ...current, ...Object.fromEntries(add.map((t) => [t.key, t.value])) });
        return { status: 200, body: {} };
      },
    ],
    [
      'POST',
      /^\/untagResource$/,
      'UntagResource',
      (r) => {
        const body = jsonBody(r);
        const { arn, current } = tagged(body);
        const drop = new Set(Array.isArray(body.tagKeys) ? (body.tagKeys as string[]) : []);
        tags.set(arn, Object.fromEntries(Object.entries(current).filter(([k]) => !drop.has(k))));
        return { status: 200, body: {} };
      },
    ],
    [
      'GET',
      /^\/foundation-models\/([^/]+)$/,
      'GetFoundationModel',
      (_r, [id = '']) => ({ status: 200, body: { modelDetails: foundationModel(id) } }),
    ],
    [
      'GET',
      /^\/foundation-models$/,
      'ListFoundationModels',
      () => ({
        status: 200,
        body: { modelSummaries: options.models.filter(offered).map((id) => foundationModel(id)) },
      }),
    ],
  ];

  const operationOf = (req: FakeRequest): string =>
    routesTable.find(([m, re]) => m === req.method && re.test(req.rawPath))?.[2] ?? 'Unknown';
  const faultResponse = (f: Fault): FakeResponse => {
    const status = f.status ?? 500;
    const name = f.name ?? (status === 429 ? 'ThrottlingException' : 'InternalServerException');
    return awsErrorResponse(new AwsError(status, name, f.message ?? `Injected ${name}`));
  };
  const handle = async (req: FakeRequest): Promise<FakeResponse> => {
    const auth = await verifySigV4(req, 'bedrock', DEFAULT_CREDENTIALS);
    if (!auth.ok) return awsErrorResponse(new AwsError(403, 'InvalidSignatureException', auth.message));
    for (const [method, re, , run] of routesTable) {
      const m = method === req.method ? re.exec(req.rawPath) : null;
      if (m) return run(req, m.slice(1).map(decodeURIComponent));
    }
    return awsErrorResponse(new AwsError(404, 'UnknownOperationException', `${req.method} ${req.rawPath} is not served by the fake`));
  };
  const server = await startFakeServer(handle, { faults, operationOf, faultResponse });
  return {
    endpoint: server.endpoint,
    env: { AWS_ENDPOINT_URL_BEDROCK: server.endpoint },
    options,
    faults,
    profiles,
    tags,
    setLifecycle(modelId, lifecycle) {
      lifecycles.set(modelId, lifecycle);
    },
    reset() {
      profiles.clear();
      tags.clear();
      lifecycles.clear();
      faults.clear();
    },
    stop: () => server.stop(),
  };
}

/** A model's display name from its id: `amazon.nova-lite-v1:0` -> `Nova Lite` (at most 20 characters). */
function displayName(id: string): string {
  const words = (id.split('.')[1] ?? id)
    .replace(/-v\d.*$/, '')
    .split('-')
    .map((w) => (w[0]?.toUpperCase() ?? '') + w.slice(1));
  return words.join(' ').slice(0, 20).trim();
}
