/**
 * Who is calling the Bedrock runtime fakes, and may they: the request's SigV4 signature is verified
 * with the secret of its access key (the fixed `testing` key, or temporary credentials moto's STS
 * issued, read from moto's model dump), and the caller's role policies, read from moto IAM, are
 * evaluated with the IAM simulator for the action and resource, as AWS would.
 */
import {
  GetPolicyCommand,
  GetPolicyVersionCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListAttachedRolePoliciesCommand,
  ListRolePoliciesCommand,
} from '@aws-sdk/client-iam';
import type { PolicyDocument } from '../../../src/core/policies/document.js';
import { evaluate } from '../iam-eval.js';
import { AwsError, type FakeRequest } from './http.js';
import { DEFAULT_CREDENTIALS, type FakeCredential, verifySigV4 } from './sigv4.js';

/** A verified caller. */
export interface Caller {
  accessKeyId: string;
  /** The role (or the operator's default principal for the `testing` key). */
  principalArn: string;
  /** Whether it is the fixed test key, which acts as the operator and is not evaluated. */
  operator: boolean;
}

interface MotoAssumedRole {
  access_key_id?: string;
  secret_access_key?: string;
  role_arn?: string;
}

/** Resolves access keys (fixed ones, then moto's STS sessions) and evaluates role policies. */
export class RuntimeAuth {
  private readonly sessions = new Map<string, FakeCredential>();
  private readonly policies = new Map<string, { at: number; docs: Promise<PolicyDocument[]> }>();

  constructor(
    private readonly motoEndpoint: string,
    private readonly iam: IAMClient,
    private readonly account = '123456789012',
    private readonly fixed: Record<string, FakeCredential> = DEFAULT_CREDENTIALS,
    /** How long a role's policies are reused (the operator's policy swaps must show soon). */
    private readonly policyTtlMs = 300,
  ) {}

  /** Verifies the signature for `service` (signing name); throws the error AWS answers. */
  async caller(req: FakeRequest, service: string): Promise<Caller> {
    const key = /Credential=([^/]+)\//.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const cred = this.fixed[key] ?? (await this.session(key));
    const auth = await verifySigV4(req, service, cred ? { [key]: cred } : {});
    if (!auth.ok) {
      const type = { missing: 'MissingAuthenticationTokenException', 'unknown-key': 'UnrecognizedClientException' }[auth.reason as string];
      throw new AwsError(403, type ?? 'InvalidSignatureException', auth.message);
    }
    return { accessKeyId: key, principalArn: auth.principalArn, operator: key in this.fixed };
  }

  /** Throws AccessDeniedException unless the caller's role policies allow `action` on `resource`. */
  async authorize(c: Caller, action: string, resource: string): Promise<void> {
    if (c.operator) return;
    const identity = await this.rolePolicies(c.principalArn);
    const decision = await evaluate({ principal: c.principalArn, action, resource, identity }, this.account);
    if (decision !== 'Allowed') {
      const how =
        decision === 'ExplicitlyDenied'
          ? 'with an explicit deny in an identity-based policy'
          : 'because no identity-based policy allows it';
      throw new AwsError(
        403,
        'AccessDeniedException',
        `User: ${c.principalArn} is not authorized to perform: ${action} on resource: ${resource} ${how}`,
      );
    }
  }

  private async session(key: string): Promise<FakeCredential | undefined> {
    const known = this.sessions.get(key);
    if (known || !key.startsWith('ASIA')) return known;
    const res = await fetch(`${this.motoEndpoint}/moto-api/data.json`);
    const data = (await res.json()) as { sts?: { AssumedRole?: MotoAssumedRole[] } };
    for (const r of data.sts?.AssumedRole ?? []) {
      if (r.access_key_id && r.secret_access_key && r.role_arn)
        this.sessions.set(r.access_key_id, { secretAccessKey: r.secret_access_key, principalArn: r.role_arn });
    }
    return this.sessions.get(key);
  }

  private rolePolicies(roleArn: string): Promise<PolicyDocument[]> {
    const cached = this.policies.get(roleArn);
    if (cached && Date.now() - cached.at < this.policyTtlMs) return cached.docs;
    const docs = this.readPolicies(roleArn);
    this.policies.set(roleArn, { at: Date.now(), docs });
    docs.catch(() => this.policies.delete(roleArn));
    return docs;
  }

  private async readPolicies(roleArn: string): Promise<PolicyDocument[]> {
    const RoleName = roleArn.split('/').pop() ?? '';
    const parse = (doc: string | undefined): PolicyDocument => JSON.parse(decodeURIComponent(doc ?? '{}')) as PolicyDocument;
    const inline = await this.iam.send(new ListRolePoliciesCommand({ RoleName }));
    const docs = await Promise.all(
      (inline.PolicyNames ?? []).map(async (PolicyName) =>
        parse((await this.iam.send(new GetRolePolicyCommand({ RoleName, PolicyName }))).PolicyDocument),
      ),
    );
    const attached = await this.iam.send(new ListAttachedRolePoliciesCommand({ RoleName }));
    for (const a of attached.AttachedPolicies ?? []) {
      const p = await this.iam.send(new GetPolicyCommand({ PolicyArn: a.PolicyArn }));
      const v = await this.iam.send(new GetPolicyVersionCommand({ PolicyArn: a.PolicyArn, VersionId: p.Policy?.DefaultVersionId }));
      docs.push(parse(v.PolicyVersion?.Document));
    }
    return docs;
  }
}
