/**
 * Schema pieces shared by the three custom resources. These objects are the single source of
 * truth: `npm run gen` writes the CRDs in `crds/` and the TypeScript types from them.
 */
import { EMBEDDING_MODELS } from '../constants.js';

/** An OpenAPI v3 schema node as the Kubernetes structural-schema rules accept it. */
export interface Schema {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema;
  enum?: (string | number)[];
  default?: unknown;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  pattern?: string;
  format?: string;
  nullable?: boolean;
  additionalProperties?: Schema | boolean;
  'x-kubernetes-validations'?: { rule: string; message: string; reason?: string; fieldPath?: string }[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  /** Set only on the copy handed to the type generator, to name interfaces. */
  title?: string;
  /** Set only on the copy handed to the type generator, to reuse one interface. */
  tsType?: string;
}

/** Makes a field immutable once set, with a message that says what to do instead. */
export function immutable(schema: Schema, message: string): Schema {
  return {
    ...schema,
    'x-kubernetes-validations': [...(schema['x-kubernetes-validations'] ?? []), { rule: 'self == oldSelf', message }],
  };
}

/** A DNS-1123 label, the form every name that feeds an AWS name must take. */
export const dnsLabel: Schema = {
  type: 'string',
  minLength: 1,
  maxLength: 63,
  pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$',
};

/** What a duration must look like: hours, minutes and seconds, as Kubernetes writes them. */
const DURATION_PATTERN = '^([0-9]+([.][0-9]+)?(h|m|s))+$';

/**
 * A duration such as `30m`, `1h` or `1h30m`, checked by a rule whose message shows valid values
 * (a `pattern` would answer with the bare regular expression), optionally with a minimum.
 */
export function duration(min?: { value: string; why: string }): Schema {
  const valid = `self.matches('${DURATION_PATTERN}')`;
  return {
    type: 'string',
    maxLength: 32,
    'x-kubernetes-validations': [
      { rule: valid, message: 'must be a duration in h, m and s such as 30m, 6h or 24h (no days: write 1d as 24h)' },
      // Only a valid duration is converted: CEL would otherwise fail with a conversion error.
      ...(min
        ? [{ rule: `!${valid} || duration(self) >= duration('${min.value}')`, message: `must be at least ${min.value}: ${min.why}` }]
        : []),
    ],
  };
}

/** "256, 512 or 1024". */
export function orList(items: readonly (string | number)[]): string {
  const all = items.map(String);
  return all.length > 1 ? `${all.slice(0, -1).join(', ')} or ${all[all.length - 1] ?? ''}` : all.join('');
}

/** status.observedGeneration, with the meaning docs/architecture.md gives it. */
export const observedGeneration: Schema = {
  type: 'integer',
  format: 'int64',
  description:
    'The generation this status describes: set when a pass finished evaluating the spec (including refusing it), not while it waits or after a transient error.',
};

/** status.inSync: what the owner's AWS resources were last found in sync with (see src/controllers/in-sync.ts). */
export const inSync: Schema = {
  type: 'object',
  description:
    "What the last pass that found every AWS resource in sync recorded: a digest of the resources' specs and when. " +
    'After a restart, an owner Ready at its generation whose digest matches what it wants now, recorded less than 12 hours ago, ' +
    'has each resource checked with one read instead of observed in full; anything else is observed in full.',
  required: ['digest', 'at'],
  properties: {
    digest: { type: 'string', maxLength: 64, description: "SHA-256 (hex) of the resources' specs, in order." },
    at: { type: 'string', format: 'date-time', description: 'When it was recorded.' },
  },
};

/** metav1.Condition, the standard condition shape, kept as a list map keyed by `type`. */
export const conditions: Schema = {
  type: 'array',
  description:
    'Current state as standard Kubernetes conditions. `Ready` summarises the others; each has a ' +
    'machine-readable `reason` and a message that says what is happening or what to change.',
  'x-kubernetes-list-type': 'map',
  'x-kubernetes-list-map-keys': ['type'],
  maxItems: 32,
  items: {
    type: 'object',
    required: ['type', 'status', 'lastTransitionTime', 'reason', 'message'],
    properties: {
      type: { type: 'string', description: 'Condition type, e.g. `Ready`.', maxLength: 316, pattern: '^[A-Za-z][A-Za-z0-9]*$' },
      status: { type: 'string', description: '`True`, `False` or `Unknown`.', enum: ['True', 'False', 'Unknown'] },
      observedGeneration: {
        type: 'integer',
        format: 'int64',
        minimum: 0,
        description: 'The `metadata.generation` this condition was computed from.',
      },
      lastTransitionTime: {
        type: 'string',
        format: 'date-time',
        description: 'When `status` last changed; not touched when only the reason or message changes.',
      },
      reason: {
        type: 'string',
        description: 'CamelCase reason for the current status.',
        maxLength: 1024,
        minLength: 1,
        pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$',
      },
      message: { type: 'string', description: 'Human-readable detail: what is happening, or what to change.', maxLength: 32768 },
    },
  },
};

const MODELS = Object.entries(EMBEDDING_MODELS);
const ALL_OUTPUTS = [...new Set(MODELS.flatMap(([, m]) => m.outputs))].sort((a, b) => a - b);

/** "256, 512 or 1024 (amazon.titan-embed-text-v2:0), 1536 (amazon.titan-embed-text-v1), ...": models grouped by what they output. */
export function embeddingOutputs(): string {
  const byOutputs = new Map<string, string[]>();
  for (const [model, m] of MODELS) {
    const key = orList(m.outputs);
    byOutputs.set(key, [...(byOutputs.get(key) ?? []), model]);
  }
  return [...byOutputs].map(([outputs, models]) => `${outputs} (${models.join(', ')})`).join(', ');
}

/** CEL that ties `dimensions` to what the chosen embedding model can output, one rule per model. */
const dimensionRules = MODELS.map(([model, m]) => ({
  rule: `!has(self.embeddingModel) || !has(self.dimensions) || self.embeddingModel != '${model}' || self.dimensions in [${m.outputs.join(', ')}]`,
  message:
    m.outputs.length > 1
      ? `${model} outputs ${orList(m.outputs)} dimensions: set dimensions to one of them`
      : `${model} outputs ${m.outputs.join('')} dimensions: set dimensions to ${m.outputs.join('')}`,
  fieldPath: '.dimensions',
}));

/**
 * Dimensions no known model outputs, refused even without the model (a tenant's model may come
 * from its tier, which the API server cannot see; the operator checks that pair at admission).
 */
const dimensionsAnyModel = {
  rule: `self in [${ALL_OUTPUTS.join(', ')}]`,
  message: `no embedding model outputs this many dimensions: use ${embeddingOutputs()}`,
};

/** How documents are split into chunks; fixed once the data source exists. */
export const chunking: Schema = {
  type: 'object',
  description:
    'How documents are split into chunks before embedding (Bedrock `chunkingConfiguration`). AWS cannot change it after the data source is created.',
  required: ['strategy'],
  properties: {
    strategy: {
      type: 'string',
      enum: ['FixedSize', 'Hierarchical', 'Semantic', 'None'],
      description: '`FixedSize`, `Hierarchical`, `Semantic`, or `None` (each file is one chunk).',
    },
    maxTokens: { type: 'integer', minimum: 1, maximum: 8192, description: 'FixedSize and Semantic: the largest chunk in tokens (1-8192).' },
    overlapPercentage: {
      type: 'integer',
      minimum: 1,
      maximum: 99,
      description: 'FixedSize: overlap between neighbouring chunks in percent (1-99).',
    },
    parentMaxTokens: {
      type: 'integer',
      minimum: 1,
      maximum: 8192,
      description: 'Hierarchical: the largest parent chunk in tokens (1-8192).',
    },
    childMaxTokens: {
      type: 'integer',
      minimum: 1,
      maximum: 8192,
      description: 'Hierarchical: the largest child chunk in tokens (1-8192).',
    },
    overlapTokens: { type: 'integer', minimum: 1, maximum: 8192, description: 'Hierarchical: tokens shared between neighbouring chunks.' },
    bufferSize: {
      type: 'integer',
      minimum: 0,
      maximum: 1,
      description: 'Semantic: sentences on each side compared for similarity (0 or 1).',
    },
    breakpointPercentileThreshold: {
      type: 'integer',
      minimum: 50,
      maximum: 99,
      description: 'Semantic: dissimilarity percentile that starts a new chunk (50-99).',
    },
  },
  'x-kubernetes-validations': [
    {
      rule: "self.strategy != 'FixedSize' || (has(self.maxTokens) && has(self.overlapPercentage))",
      message: 'FixedSize chunking needs maxTokens and overlapPercentage',
    },
    {
      rule: "self.strategy != 'Hierarchical' || (has(self.parentMaxTokens) && has(self.childMaxTokens) && has(self.overlapTokens))",
      message: 'Hierarchical chunking needs parentMaxTokens, childMaxTokens and overlapTokens',
    },
    {
      rule: "self.strategy != 'Hierarchical' || !has(self.parentMaxTokens) || !has(self.childMaxTokens) || self.childMaxTokens < self.parentMaxTokens",
      message: 'childMaxTokens must be smaller than parentMaxTokens',
    },
    {
      rule: "self.strategy != 'Semantic' || (has(self.maxTokens) && has(self.bufferSize) && has(self.breakpointPercentileThreshold))",
      message: 'Semantic chunking needs maxTokens, bufferSize and breakpointPercentileThreshold',
    },
  ],
};

/** HNSW parameters of the faiss vector index. */
export const vectorIndex: Schema = {
  type: 'object',
  description: 'Parameters of the OpenSearch Serverless vector index (engine faiss, method HNSW, as Bedrock requires).',
  properties: {
    spaceType: { type: 'string', enum: ['l2', 'innerproduct'], description: 'Distance function: `l2` (Euclidean) or `innerproduct`.' },
    m: { type: 'integer', minimum: 2, maximum: 100, description: 'HNSW `m`: links per node (2-100).' },
    efConstruction: {
      type: 'integer',
      minimum: 2,
      maximum: 4096,
      description: 'HNSW `ef_construction`: candidate list size while building (2-4096).',
    },
  },
};

/** Knowledge base settings: tier defaults on TenantTier, overrides on Tenant. */
export function knowledgeBaseSettings(description: string, withDefaults: boolean): Schema {
  const d = <T>(value: T): { default?: T } => (withDefaults ? { default: value } : {});
  return {
    type: 'object',
    description,
    properties: {
      embeddingModel: {
        type: 'string',
        enum: MODELS.map(([model]) => model),
        description: "Bedrock embedding model id. The operator knows these models' output dimensions.",
        ...d('amazon.titan-embed-text-v2:0'),
      },
      dimensions: {
        type: 'integer',
        minimum: 1,
        maximum: 4096,
        description: `Vector dimensions; must be one the embedding model outputs: ${embeddingOutputs()}.`,
        'x-kubernetes-validations': [dimensionsAnyModel],
        ...d(1024),
      },
      chunking: withDefaults ? { ...chunking, default: { strategy: 'FixedSize', maxTokens: 300, overlapPercentage: 20 } } : chunking,
      vectorIndex,
    },
    'x-kubernetes-validations': dimensionRules,
  };
}
