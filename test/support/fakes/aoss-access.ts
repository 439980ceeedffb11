/**
 * What the fakes ask the OpenSearch Serverless control plane (ministack) through the real SDK:
 * collections by id, and the data access and network policies that apply to them.
 */
import {
  BatchGetCollectionCommand,
  type CollectionDetail,
  GetAccessPolicyCommand,
  GetSecurityPolicyCommand,
  ListAccessPoliciesCommand,
  ListSecurityPoliciesCommand,
  OpenSearchServerlessClient,
} from '@aws-sdk/client-opensearchserverless';

/** An AOSS data-plane permission, e.g. `aoss:CreateIndex`. */
export type AossPermission =
  'aoss:CreateIndex' | 'aoss:DescribeIndex' | 'aoss:UpdateIndex' | 'aoss:DeleteIndex' | 'aoss:ReadDocument' | 'aoss:WriteDocument';

interface Rule {
  ResourceType?: string;
  Resource?: string[];
  Permission?: string[];
}
interface DataStatement {
  Rules?: Rule[];
  Principal?: string[];
}
interface NetworkStatement {
  Rules?: Rule[];
  AllowFromPublic?: boolean;
  SourceVPCEs?: string[];
  SourceServices?: string[];
}

/** AOSS resource patterns: `*` matches any run of characters. */
export function aossPatternMatches(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split('*')
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))
      .join('.*')}$`,
  );
  return re.test(value);
}

/** Reads collections and policies from the control-plane emulator. */
export class AossControlPlane {
  readonly client: OpenSearchServerlessClient;
  constructor(endpoint: string, region = 'us-east-1') {
    this.client = new OpenSearchServerlessClient({
      region,
      endpoint,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      maxAttempts: 1,
    });
  }

  /** The collection with this id, or undefined. */
  async collection(id: string): Promise<CollectionDetail | undefined> {
    const out = await this.client.send(new BatchGetCollectionCommand({ ids: [id] }));
    return out.collectionDetails?.[0];
  }

  private async dataStatements(): Promise<DataStatement[]> {
    const out: DataStatement[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new ListAccessPoliciesCommand({ type: 'data', nextToken }));
      for (const s of page.accessPolicySummaries ?? []) {
        const d = await this.client.send(new GetAccessPolicyCommand({ type: 'data', name: s.name }));
        const doc = d.accessPolicyDetail?.policy as unknown;
        if (Array.isArray(doc)) out.push(...(doc as DataStatement[]));
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /**
   * Whether `principal` holds `permission` on `index/<collection>/<index>` through any data access
   * policy (permissions are additive; there is no Deny).
   */
  async allowed(principal: string, permission: AossPermission, collectionName: string, index: string): Promise<boolean> {
    const resource = `index/${collectionName}/${index}`;
    for (const st of await this.dataStatements()) {
      if (!(st.Principal ?? []).includes(principal)) continue;
      for (const r of st.Rules ?? []) {
        if (r.ResourceType !== 'index') continue;
        if (!(r.Resource ?? []).some((p) => aossPatternMatches(p, resource))) continue;
        if ((r.Permission ?? []).some((p) => p === 'aoss:*' || p === permission)) return true;
      }
    }
    return false;
  }

  /** The network policy statements whose collection rules cover `collectionName`. */
  async networkStatements(collectionName: string): Promise<NetworkStatement[]> {
    const out: NetworkStatement[] = [];
    let nextToken: string | undefined;
    do {
      const page = await this.client.send(new ListSecurityPoliciesCommand({ type: 'network', nextToken }));
      for (const s of page.securityPolicySummaries ?? []) {
        const d = await this.client.send(new GetSecurityPolicyCommand({ type: 'network', name: s.name }));
        const doc = d.securityPolicyDetail?.policy as unknown;
        for (const st of Array.isArray(doc) ? (doc as NetworkStatement[]) : []) {
          const covers = (st.Rules ?? []).some(
            (r) => r.ResourceType === 'collection' && (r.Resource ?? []).some((p) => aossPatternMatches(p, `collection/${collectionName}`)),
          );
          if (covers) out.push(st);
        }
      }
      nextToken = page.nextToken;
    } while (nextToken);
    return out;
  }

  /** Whether Bedrock may reach the collection: a covering network rule is public or lists bedrock.amazonaws.com. */
  async bedrockMayReach(collectionName: string): Promise<boolean> {
    const sts = await this.networkStatements(collectionName);
    return sts.some((s) => s.AllowFromPublic === true || (s.SourceServices ?? []).includes('bedrock.amazonaws.com'));
  }
}
