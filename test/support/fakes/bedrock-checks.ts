/**
 * The checks CreateKnowledgeBase makes against other services, as Bedrock does: the service role
 * exists in IAM and trusts bedrock.amazonaws.com, and the OpenSearch Serverless storage is usable
 * (collection, network access, data access for the role, index, vector field, engine, dimension).
 */
import { GetRoleCommand, type IAMClient } from '@aws-sdk/client-iam';
import type { OpenSearchServerlessConfiguration } from '@aws-sdk/client-bedrock-agent';
import type { AossControlPlane } from './aoss-access.js';
import { aossPatternMatches } from './aoss-access.js';
import type { IndexStore } from './aoss-data-plane.js';
import { invalid } from './bedrock-validate.js';
import type { AwsError } from './http.js';

type Values = string | string[] | undefined;
interface TrustStatement {
  Effect?: string;
  Action?: Values;
  Principal?: { Service?: Values } | string;
  Condition?: Record<string, Record<string, Values>>;
}

const list = (v: Values): string[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Whether a trust statement's conditions hold for a request from Bedrock for `kbArn` in `account`. */
function conditionsHold(cond: TrustStatement['Condition'], account: string, kbArn: string): boolean {
  const context: Record<string, string> = { 'aws:sourceaccount': account, 'aws:sourcearn': kbArn };
  for (const [op, clauses] of Object.entries(cond ?? {})) {
    const like = op === 'StringLike' || op === 'ArnLike';
    if (!['StringEquals', 'StringLike', 'ArnLike', 'ArnEquals'].includes(op)) continue;
    for (const [key, want] of Object.entries(clauses)) {
      const have = context[key.toLowerCase()];
      if (have === undefined) continue;
      if (!list(want).some((w) => (like ? aossPatternMatches(w, have) : w === have))) return false;
    }
  }
  return true;
}

/** Refuses a role that does not exist or does not let bedrock.amazonaws.com assume it for `kbArn`. */
export async function checkServiceRole(iam: IAMClient, roleArn: string, account: string, kbArn: string): Promise<void> {
  const cannot = (): AwsError =>
    invalid(`Bedrock cannot assume role ${roleArn}. Check that the role exists and its trust policy allows bedrock.amazonaws.com.`);
  const name = roleArn.split('/').pop() ?? '';
  const role = await iam.send(new GetRoleCommand({ RoleName: name })).catch((e: unknown) => {
    if ((e as { name?: string }).name === 'NoSuchEntityException') return undefined;
    throw e;
  });
  if (!role?.Role || role.Role.Arn !== roleArn) throw cannot();
  const raw = role.Role.AssumeRolePolicyDocument ?? '{}';
  const doc = JSON.parse(raw.startsWith('%') ? decodeURIComponent(raw) : raw) as { Statement?: TrustStatement | TrustStatement[] };
  const statements = Array.isArray(doc.Statement) ? doc.Statement : doc.Statement ? [doc.Statement] : [];
  const trusted = statements.some(
    (s) =>
      s.Effect === 'Allow' &&
      list(s.Action).some((a) => a === 'sts:AssumeRole' || a === 'sts:*' || a === '*') &&
      typeof s.Principal === 'object' &&
      list(s.Principal.Service).includes('bedrock.amazonaws.com') &&
      conditionsHold(s.Condition, account, kbArn),
  );
  if (!trusted) throw cannot();
}

const STORAGE = 'The knowledge base storage configuration provided is invalid...';

/**
 * Checks the OpenSearch Serverless storage of a new knowledge base as Bedrock does, with Bedrock's
 * messages where they are known (docs/testing.md lists which are).
 */
export async function checkStorage(
  control: AossControlPlane,
  store: IndexStore,
  roleArn: string,
  account: string,
  cfg: OpenSearchServerlessConfiguration,
  dimensions: number,
): Promise<void> {
  const [, arnAccount = '', id = ''] = /^arn:aws:aoss:[^:]+:(\d{12}):collection\/(.+)$/.exec(cfg.collectionArn ?? '') ?? [];
  const collection = arnAccount === account ? await control.collection(id) : undefined;
  if (!collection?.name) throw invalid(`${STORAGE} Dependency error: the collection ${cfg.collectionArn} does not exist.`);
  if (collection.status !== 'ACTIVE') throw invalid(`${STORAGE} Dependency error: the collection ${cfg.collectionArn} is not ACTIVE.`);
  if (collection.type !== 'VECTORSEARCH') throw invalid(`${STORAGE} The collection type must be VECTORSEARCH.`);
  if (!(await control.bedrockMayReach(collection.name))) {
    throw invalid(
      `${STORAGE} Request failed: [security_exception] 403 Forbidden (no network policy lets bedrock.amazonaws.com reach the collection)`,
    );
  }
  const index = cfg.vectorIndexName ?? '';
  if (!(await control.allowed(roleArn, 'aoss:DescribeIndex', collection.name, index))) {
    throw invalid(`${STORAGE} Request failed: [security_exception] all shards failed`);
  }
  const ix = store.get(id, index);
  if (!ix) throw invalid(`${STORAGE} Dependency error document status code: 404, error message: no such index [${index}]`);
  const field = ix.mappings.properties?.[cfg.fieldMapping?.vectorField ?? ''];
  if (field?.type !== 'knn_vector') {
    throw invalid(`${STORAGE} The vector field ${String(cfg.fieldMapping?.vectorField)} is not a knn_vector field in index ${index}.`);
  }
  if ((field.method?.engine ?? 'nmslib') !== 'faiss') {
    throw invalid(
      `${STORAGE} The OpenSearch Serverless engine type associated with your vector index is invalid. Recreate your vector index with one of the following valid engine types: FAISS.`,
    );
  }
  if (field.dimension !== dimensions) {
    throw invalid(`${STORAGE} Query vector has invalid dimension: ${dimensions}. Dimension should be: ${String(field.dimension)}`);
  }
}
