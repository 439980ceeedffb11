/**
 * What a mix of tenants needs from AWS, and the lower bound on onboarding time that request rates
 * allow. The resources per pattern follow src/resources/stacks.ts; the calls per resource are the
 * writes that create it and one read that observes it first (every pass observes a resource
 * before acting on it, so no schedule can do with fewer). A knowledge base also costs its service
 * role one UpdateAssumeRolePolicy: the role's trust names the knowledge base's id
 * (src/core/policies/roles.ts, against a confused deputy), which AWS assigns only when it creates
 * the knowledge base, so the role is created trusting the account's knowledge bases and narrowed
 * right after.
 */
import { DEFAULT_BUDGETS, DEFAULT_RATE, budgetKey } from '../src/adapters/aws/budgets.js';
import { type RateRule, covers } from '../test/support/aws-proxy.js';

/** How many tenants of each pattern. */
export interface Mix {
  pool: number;
  bridge: number;
  silo: number;
}

/** Splits `n` tenants by percentages `p/b/s` (silo gets the rounding remainder). */
export function splitMix(n: number, percent: string): Mix {
  const [p = 0, b = 0] = percent.split('/').map(Number);
  const pool = Math.round((n * p) / 100);
  const bridge = Math.min(n - pool, Math.round((n * b) / 100));
  return { pool, bridge, silo: n - pool - bridge };
}

/** The kinds of AWS resource, with the calls that create one and the read that observes it. */
const KINDS = {
  role: { writes: ['iam:CreateRole', 'iam:PutRolePolicy'], read: 'iam:GetRole' },
  bucket: {
    writes: [
      's3:CreateBucket',
      's3:PutPublicAccessBlock',
      's3:PutBucketEncryption',
      's3:PutBucketVersioning',
      's3:PutBucketPolicy',
      's3:PutBucketTagging',
    ],
    read: 's3:HeadBucket',
  },
  // Observed only to be deleted (src/resources/s3-prefix): onboarding neither writes nor reads it.
  prefix: { writes: [], read: undefined },
  securityPolicy: { writes: ['aoss:CreateSecurityPolicy'], read: 'aoss:GetSecurityPolicy' },
  accessPolicy: { writes: ['aoss:CreateAccessPolicy'], read: 'aoss:GetAccessPolicy' },
  collection: { writes: ['aoss:CreateCollection'], read: 'aoss:BatchGetCollection' },
  index: { writes: ['aossData:PUT'], read: 'aossData:GET' },
  vectorBucket: { writes: ['s3vectors:CreateVectorBucket'], read: 's3vectors:GetVectorBucket' },
  vectorIndex: { writes: ['s3vectors:CreateIndex'], read: 's3vectors:GetIndex' },
  knowledgeBase: { writes: ['bedrockAgent:CreateKnowledgeBase', 'iam:UpdateAssumeRolePolicy'], read: 'bedrockAgent:ListKnowledgeBases' },
  dataSource: { writes: ['bedrockAgent:CreateDataSource'], read: 'bedrockAgent:ListDataSources' },
  // Found by its subject first (no id is known before it exists).
  podIdentity: { writes: ['eks:CreatePodIdentityAssociation'], read: 'eks:ListPodIdentityAssociations' },
} as const;
/** A kind of AWS resource. */
export type Kind = keyof typeof KINDS;

/** The kind of resource each read observes, to show reads per resource of its kind. */
export const READ_KIND: Record<string, Kind> = {
  'iam:GetRole': 'role',
  'iam:ListRolePolicies': 'role',
  'iam:GetRolePolicy': 'role',
  'iam:ListAttachedRolePolicies': 'role',
  's3:HeadBucket': 'bucket',
  's3:GetPublicAccessBlock': 'bucket',
  's3:GetBucketEncryption': 'bucket',
  's3:GetBucketVersioning': 'bucket',
  's3:GetBucketTagging': 'bucket',
  's3:GetBucketPolicy': 'bucket',
  's3:ListObjectVersions': 'prefix',
  'aoss:GetSecurityPolicy': 'securityPolicy',
  'aoss:GetAccessPolicy': 'accessPolicy',
  'aoss:BatchGetCollection': 'collection',
  'aoss:ListTagsForResource': 'collection',
  'aossData:GET': 'index',
  's3vectors:GetVectorBucket': 'vectorBucket',
  's3vectors:GetIndex': 'vectorIndex',
  'bedrockAgent:GetKnowledgeBase': 'knowledgeBase',
  'bedrockAgent:ListKnowledgeBases': 'knowledgeBase',
  'bedrockAgent:ListTagsForResource': 'knowledgeBase',
  'bedrockAgent:GetDataSource': 'dataSource',
  'bedrockAgent:ListDataSources': 'dataSource',
  'eks:ListPodIdentityAssociations': 'podIdentity',
  'eks:DescribePodIdentityAssociation': 'podIdentity',
};

/** The vector stores a bench can put its tiers on (`--store`). */
export const STORES = { opensearch: 'OpenSearchServerless', s3vectors: 'S3Vectors' } as const;
/** A store as `--store` names it. */
export type Store = keyof typeof STORES;

/**
 * Resources of one owner per pattern and store (the tables in src/resources/stacks.ts and
 * src/resources/vector-stores/<store>/; AWS-owned keys).
 */
const OWNED: Record<Store, Record<string, Partial<Record<Kind, number>>>> = {
  opensearch: {
    'tier/pool': { bucket: 1, securityPolicy: 2, accessPolicy: 1, collection: 1, role: 1, index: 1, knowledgeBase: 1, dataSource: 1 },
    'tier/bridge': { bucket: 1, securityPolicy: 2, accessPolicy: 1, collection: 1 },
    'tier/silo': {},
    'tenant/pool': { prefix: 1, role: 1 },
    'tenant/bridge': { prefix: 1, role: 2, accessPolicy: 1, index: 1, knowledgeBase: 1, dataSource: 1 },
    'tenant/silo': { bucket: 1, securityPolicy: 2, accessPolicy: 1, collection: 1, role: 2, index: 1, knowledgeBase: 1, dataSource: 1 },
  },
  s3vectors: {
    'tier/pool': { bucket: 1, vectorBucket: 1, role: 1, vectorIndex: 1, knowledgeBase: 1, dataSource: 1 },
    'tier/bridge': { bucket: 1, vectorBucket: 1 },
    'tier/silo': {},
    'tenant/pool': { prefix: 1, role: 1 },
    'tenant/bridge': { prefix: 1, role: 2, vectorIndex: 1, knowledgeBase: 1, dataSource: 1 },
    'tenant/silo': { bucket: 1, vectorBucket: 1, role: 2, vectorIndex: 1, knowledgeBase: 1, dataSource: 1 },
  },
};

/** What the mix needs. */
export interface Needs {
  /** AWS resources by kind. */
  resources: Record<Kind, number>;
  /** Calls needed by `service:Operation`: the creating writes and one observing read per resource. */
  calls: Map<string, number>;
  /** Knowledge bases and data sources (one each per bridge or silo tenant and per pool tier). */
  knowledgeBases: number;
}

/**
 * A pool tier with `tenantRoles: Shared` owns one more role (its tenants'); its tenants own no
 * role but an EKS Pod Identity association each (the benchmark gives them Pod Identity access).
 */
const SHARED_POOL: Record<string, Partial<Record<Kind, number>>> = {
  'tier/pool': { role: 1 },
  'tenant/pool': { role: -1, podIdentity: 1 },
};

/** The resources and minimum calls of a mix, with one tier per pattern that has tenants. */
export function needs(mix: Mix, store: Store = 'opensearch', sharedPool = false): Needs {
  const resources = Object.fromEntries(Object.keys(KINDS).map((k) => [k, 0])) as Record<Kind, number>;
  const add = (owner: string, times: number): void => {
    for (const [k, v] of Object.entries(OWNED[store][owner] ?? {})) resources[k as Kind] += v * times;
    if (sharedPool) for (const [k, v] of Object.entries(SHARED_POOL[owner] ?? {})) resources[k as Kind] += v * times;
  };
  for (const p of ['pool', 'bridge', 'silo'] as const) {
    if (mix[p] === 0) continue;
    add(`tier/${p}`, 1);
    add(`tenant/${p}`, mix[p]);
  }
  const calls = new Map<string, number>();
  const bump = (k: string, v: number): void => void calls.set(k, (calls.get(k) ?? 0) + v);
  for (const [k, count] of Object.entries(resources)) {
    const kind = KINDS[k as Kind];
    for (const w of kind.writes) bump(w, count);
    if (kind.read) bump(kind.read, count);
  }
  return { resources, calls, knowledgeBases: resources.knowledgeBase };
}

/** One rate's share of the bound. */
export interface BoundTerm {
  label: string;
  calls: number;
  ratePerSec: number;
  seconds: number;
}

const term = (label: string, calls: number, ratePerSec: number, burst: number): BoundTerm => ({
  label,
  calls,
  ratePerSec,
  seconds: Math.max(0, calls - burst) / ratePerSec,
});

/** The time the enforced rates need for the calls, per rule, slowest first. */
export function rateBound(calls: Map<string, number>, rules: readonly RateRule[]): BoundTerm[] {
  const out: BoundTerm[] = [];
  for (const r of rules) {
    const mine = [...calls].filter(([k]) => k.split(':')[0] === r.service && covers(r, k.split(':')[1] ?? ''));
    const burst = r.burst ?? Math.max(1, r.ratePerSec);
    // Per-bucket S3 rates: the calls spread over the buckets, so no bucket sees more than a few.
    if (r.perBucket) continue;
    if (r.scope === 'aggregate') {
      const total = mine.reduce((a, [, v]) => a + v, 0);
      if (total > 0) out.push(term(r.label, total, r.ratePerSec, burst));
    } else {
      const named = (k: string): string => (typeof r.operations === 'function' ? `${r.label}: ${k.split(':')[1] ?? ''}` : r.label);
      for (const [k, v] of mine) out.push(term(named(k), v, r.ratePerSec, burst));
    }
  }
  return dedupe(out).sort((a, b) => b.seconds - a.seconds);
}

/** The time the operator's own budgets (src/adapters/aws/budgets.ts) need for the calls. */
export function budgetBound(calls: Map<string, number>): BoundTerm[] {
  const grouped = new Map<string, number>();
  for (const [k, v] of calls) {
    const [service = '', operation = ''] = k.split(':');
    const key = budgetKey(service, operation);
    grouped.set(key, (grouped.get(key) ?? 0) + v);
  }
  return [...grouped]
    .map(([k, v]) => {
      const rate = DEFAULT_BUDGETS[k] ?? DEFAULT_RATE;
      return term(`operator budget ${k}`, v, rate.ratePerSec, rate.burst);
    })
    .sort((a, b) => b.seconds - a.seconds);
}

function dedupe(terms: BoundTerm[]): BoundTerm[] {
  const seen = new Map<string, BoundTerm>();
  for (const t of terms) if (!seen.has(t.label) || (seen.get(t.label)?.seconds ?? 0) < t.seconds) seen.set(t.label, t);
  return [...seen.values()];
}
