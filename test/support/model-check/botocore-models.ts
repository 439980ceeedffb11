/**
 * AWS's own API models as botocore ships them (`botocore/data/<service>/<version>/service-2.json[.gz]`),
 * from the moto venv scripts/setup.sh makes. Each model is read and parsed once per process, on
 * first use, and kept.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { motoBinary } from '../moto.js';

/** A member of a structure, or the member/key/value of a list or map. */
export interface MemberRef {
  shape: string;
  location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
  locationName?: string;
  flattened?: boolean;
  xmlAttribute?: boolean;
  jsonvalue?: boolean;
  streaming?: boolean;
  eventpayload?: boolean;
  hostLabel?: boolean;
}

/** A shape of a botocore model (only what the checks read). */
export interface Shape {
  type: 'structure' | 'list' | 'map' | 'string' | 'integer' | 'long' | 'float' | 'double' | 'boolean' | 'timestamp' | 'blob' | 'union';
  members?: Record<string, MemberRef>;
  required?: string[];
  payload?: string;
  member?: MemberRef;
  key?: MemberRef;
  value?: MemberRef;
  flattened?: boolean;
  min?: number;
  max?: number;
  pattern?: string;
  enum?: string[];
  union?: boolean;
  document?: boolean;
  streaming?: boolean;
  eventstream?: boolean;
  exception?: boolean;
  locationName?: string;
  timestampFormat?: string;
  error?: { code?: string; httpStatusCode?: number; senderFault?: boolean };
}

/** An operation of a model. */
export interface Operation {
  name: string;
  http: { method: string; requestUri: string; responseCode?: number };
  input?: { shape: string };
  output?: { shape: string; resultWrapper?: string };
  errors?: { shape: string }[];
}

/** A parsed service model. */
export interface ServiceModel {
  /** The botocore directory name (s3, bedrock-agent, opensearchserverless, ...). */
  service: string;
  version: string;
  metadata: {
    protocol: string;
    protocols?: string[];
    targetPrefix?: string;
    signingName?: string;
    endpointPrefix: string;
    jsonVersion?: string;
  };
  operations: Record<string, Operation>;
  shapes: Record<string, Shape>;
}

/** The botocore data directory: `$TRO_MODEL_DATA`, else the moto venv's site-packages. */
export function botocoreDataDir(): string {
  if (process.env.TRO_MODEL_DATA) return process.env.TRO_MODEL_DATA;
  const lib = join(motoBinary(), '..', '..', 'lib');
  const python = existsSync(lib) ? readdirSync(lib).find((d) => d.startsWith('python3')) : undefined;
  if (!python) throw new Error(`botocore not found under ${lib}: run scripts/setup.sh (it installs moto and botocore)`);
  return join(lib, python, 'site-packages', 'botocore', 'data');
}

const models = new Map<string, ServiceModel | undefined>();

/** The newest model of a botocore service, or undefined when botocore has none by that name. */
export function loadModel(service: string): ServiceModel | undefined {
  if (models.has(service)) return models.get(service);
  const dir = join(botocoreDataDir(), service);
  let model: ServiceModel | undefined;
  if (existsSync(dir)) {
    const version = readdirSync(dir)
      .filter((v) => /^\d{4}-\d{2}-\d{2}$/.test(v))
      .sort()
      .pop();
    if (version) {
      const file = join(dir, version, 'service-2.json');
      const text = existsSync(file) ? readFileSync(file, 'utf8') : gunzipSync(readFileSync(`${file}.gz`)).toString('utf8');
      model = { service, version, ...(JSON.parse(text) as Omit<ServiceModel, 'service' | 'version'>) };
    }
  }
  models.set(service, model);
  return model;
}

/**
 * The botocore services a SigV4 signing name may address. Bedrock's four APIs all sign as
 * `bedrock`; the operation is then found by matching the request against each.
 */
export const SERVICES_OF_SIGNING_NAME: Readonly<Record<string, readonly string[]>> = {
  s3: ['s3'],
  iam: ['iam'],
  sts: ['sts'],
  kms: ['kms'],
  eks: ['eks'],
  monitoring: ['cloudwatch'],
  logs: ['logs'],
  aoss: ['opensearchserverless'],
  bedrock: ['bedrock', 'bedrock-agent', 'bedrock-agent-runtime', 'bedrock-runtime'],
  s3vectors: ['s3vectors'],
  // OpenSearch's own REST API (a domain's or a collection's data plane) signs as `es`; the `es`
  // model is the domains' control plane, which the operator does not call.
  es: [],
};

const bodies = new Map<string, { model: ServiceModel; shape: string }>();

/**
 * The model with one more shape, `<shape>(body)`: `shape`'s members that no `location` binds (the
 * ones a REST body carries), keeping their required marks. Made once per shape.
 */
export function bodyShapeOf(model: ServiceModel, shapeName: string): { model: ServiceModel; shape: string } {
  const key = `${model.service}/${shapeName}`;
  const hit = bodies.get(key);
  if (hit) return hit;
  const shape = model.shapes[shapeName];
  const members = Object.fromEntries(Object.entries(shape?.members ?? {}).filter(([, r]) => !r.location));
  const body: Shape = { type: 'structure', members, required: (shape?.required ?? []).filter((r) => r in members) };
  const name = `${shapeName}(body)`;
  const out = { model: { ...model, shapes: { ...model.shapes, [name]: body } }, shape: name };
  bodies.set(key, out);
  return out;
}
