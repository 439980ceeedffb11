import { describe, expect, it } from 'vitest';
import { canonical, parsePolicy, samePolicy } from './document.js';
import { knowledgeBasePermissions, knowledgeBaseTrust, tenantPermissions, tenantTrust } from './roles.js';

const scope = {
  region: 'us-east-1',
  accountId: '111122223333',
  bucket: 'rag-x-tier-basic-111122223333-us-east-1',
  prefix: 'tenants/acme/',
};

describe('role policies', () => {
  it('the knowledge base role trusts only Bedrock for this account', () => {
    const doc = knowledgeBaseTrust(scope);
    expect(doc.Statement).toHaveLength(1);
    expect(doc.Statement[0]).toMatchObject({
      Principal: { Service: 'bedrock.amazonaws.com' },
      Condition: { StringEquals: { 'aws:SourceAccount': '111122223333' } },
    });
  });

  it('a pool tenant reaches only its prefix', () => {
    const doc = JSON.stringify(tenantPermissions(scope));
    expect(doc).toContain('"arn:aws:s3:::rag-x-tier-basic-111122223333-us-east-1/tenants/acme/*"');
    expect(doc).toContain('"s3:prefix":["tenants/acme/*"]');
    // Never the whole bucket: no object ARN ends right after the bucket name.
    expect(doc).not.toContain('us-east-1/*"');
  });

  it('a silo tenant reaches its whole bucket and its own key and knowledge base', () => {
    const doc = tenantPermissions({
      ...scope,
      prefix: undefined,
      bucket: 'b',
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
      knowledgeBaseId: 'KB12345678',
    });
    expect(doc.Statement.map((s) => s.Sid)).toEqual([
      'ListOwnDocuments',
      'OwnDocuments',
      'QueryOwnKnowledgeBase',
      'GenerateFromOwnKnowledgeBase',
      'OwnKey',
    ]);
    expect(doc.Statement[2]?.Resource).toBe('arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB12345678');
  });

  it('the knowledge base role may embed with its model and read but not write documents', () => {
    const doc = knowledgeBasePermissions({ ...scope, embeddingModelId: 'amazon.titan-embed-text-v2:0' });
    const actions = doc.Statement.flatMap((s) => [s.Action].flat());
    expect(actions).toEqual(['bedrock:InvokeModel', 's3:ListBucket', 's3:GetObject']);
  });

  it("a managed knowledge base's role only reads its documents and decrypts them through S3: no model, no vector store", () => {
    const doc = knowledgeBasePermissions({
      ...scope,
      kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k',
      managedKnowledgeBase: true,
      embeddingModelId: 'amazon.titan-embed-text-v2:0',
    });
    expect(doc.Statement.flatMap((s) => [s.Action].flat())).toEqual([
      's3:ListBucket',
      's3:GetObject',
      'kms:Decrypt',
      'kms:GenerateDataKey',
    ]);
    expect(doc.Statement[1]?.Resource).toBe('arn:aws:s3:::rag-x-tier-basic-111122223333-us-east-1/tenants/acme/*');
  });

  it('a tenant of a managed knowledge base may Retrieve, not RetrieveAndGenerate (unsupported there)', () => {
    const doc = tenantPermissions({ ...scope, knowledgeBaseId: 'KB12345678', managedKnowledgeBase: true });
    expect(doc.Statement.find((s) => s.Sid === 'QueryOwnKnowledgeBase')?.Action).toEqual('bedrock:Retrieve');
    expect(doc.Statement.flatMap((s) => [s.Action].flat())).not.toContain('bedrock:RetrieveAndGenerate');
  });

  it('RetrieveAndGenerate is granted on * (it has no resource type, so an ARN grant would never match)', () => {
    const doc = tenantPermissions({ ...scope, knowledgeBaseId: 'KB12345678' });
    expect(doc.Statement.find((s) => s.Sid === 'GenerateFromOwnKnowledgeBase')).toMatchObject({
      Action: 'bedrock:RetrieveAndGenerate',
      Resource: '*',
    });
    expect(doc.Statement.find((s) => s.Sid === 'QueryOwnKnowledgeBase')?.Resource).toBe(
      'arn:aws:bedrock:us-east-1:111122223333:knowledge-base/KB12345678',
    );
  });

  it.each([
    {
      name: 'pod identity pins the cluster, namespace and service account',
      access: { podIdentity: { namespace: 'acme', serviceAccount: 'rag-app' } },
      want: /pods\.eks\.amazonaws\.com.*eks-cluster-arn":"arn:aws:eks:us-east-1:111122223333:cluster\/prod".*kubernetes-namespace":"acme".*kubernetes-service-account":"rag-app"/,
    },
    {
      name: 'pod identity without the cluster ARN denies everyone',
      access: { podIdentity: { namespace: 'acme', serviceAccount: 'rag-app' } },
      cluster: null,
      want: /"Effect":"Deny"/,
    },
    {
      name: 'principals are listed',
      access: { principals: ['arn:aws:iam::111122223333:role/b', 'arn:aws:iam::111122223333:role/a'] },
      want: /"AWS":\["arn:aws:iam::111122223333:role\/a","arn:aws:iam::111122223333:role\/b"\]/,
    },
    { name: 'no access denies everyone', access: undefined, want: /"Effect":"Deny"/ },
  ])('tenant trust: $name', ({ access, want, cluster }: { access: Parameters<typeof tenantTrust>[1]; want: RegExp; cluster?: null }) => {
    const arn = cluster === null ? undefined : 'arn:aws:eks:us-east-1:111122223333:cluster/prod';
    expect(JSON.stringify(tenantTrust(scope, access, arn))).toMatch(want);
  });
});

describe('policy comparison', () => {
  it("treats IAM's URL-encoded form, single values and key order as the same document", () => {
    const ours = { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: ['arn:aws:s3:::b/*'] }] };
    const theirs = encodeURIComponent(
      JSON.stringify({ Statement: [{ Resource: 'arn:aws:s3:::b/*', Action: ['s3:GetObject'], Effect: 'Allow' }], Version: '2012-10-17' }),
    );
    expect(samePolicy(ours, parsePolicy(theirs))).toBe(true);
    expect(samePolicy(ours, { ...ours, Statement: [{ ...ours.Statement[0], Effect: 'Deny' }] })).toBe(false);
    expect(canonical({ b: 1, a: 2 })).toBe('{"a":2,"b":1}');
  });
});
