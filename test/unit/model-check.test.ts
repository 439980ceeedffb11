/**
 * The model checker against AWS's own API models (botocore): a request breaking each kind of
 * constraint, in each protocol, and answers that break the model, each with the exact violation.
 */
import { cbor, dateToTag } from '@smithy/core/cbor';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startAwsProxy } from '../support/aws-proxy.js';
import { Faults, startFakeServer } from '../support/fakes/http.js';
import { checkExchange, type WireRequest, type WireResponse } from '../support/model-check/check-exchange.js';
import { compilePattern, translateJavaRegex } from '../support/model-check/java-regex.js';
import { takeUnreported } from '../support/model-check/recorder.js';
import { validationRefusal } from '../support/model-check/validation.js';

const auth = (service: string): string =>
  `AWS4-HMAC-SHA256 Credential=testing/20261204/us-east-1/${service}/aws4_request, SignedHeaders=host, Signature=00`;

function json(service: string, target: string, body: unknown): WireRequest {
  return {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: { authorization: auth(service), 'x-amz-target': target, 'content-type': 'application/x-amz-json-1.1' },
    body: Buffer.from(JSON.stringify(body)),
  };
}

function query(service: string, params: Record<string, string>): WireRequest {
  return {
    method: 'POST',
    path: '/',
    query: new URLSearchParams(),
    headers: { authorization: auth(service), 'content-type': 'application/x-www-form-urlencoded' },
    body: Buffer.from(new URLSearchParams(params).toString()),
  };
}

function rest(service: string, method: string, url: string, body?: unknown, headers: Record<string, string> = {}): WireRequest {
  const [path = '/', q = ''] = url.split('?');
  return {
    method,
    path,
    query: new URLSearchParams(q),
    headers: { authorization: auth(service), ...headers },
    body: Buffer.from(body === undefined ? '' : typeof body === 'string' ? body : JSON.stringify(body)),
  };
}

const answer = (status: number, body: unknown, headers: Record<string, string> = {}): WireResponse => ({
  status,
  headers,
  body: Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body)),
});

/** The violations of one exchange, without the fields every case shares. */
function violations(req: WireRequest, res?: WireResponse): unknown[] {
  return checkExchange(req, res, 'test').violations.map(({ service, operation, direction, member, constraint, value }) => ({
    at: `${service}:${operation} ${direction}`,
    member,
    constraint,
    value,
  }));
}

const TOKEN = 'a'.repeat(40);
const KB_CONFIG = {
  type: 'VECTOR',
  vectorKnowledgeBaseConfiguration: { embeddingModelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.titan-embed-text-v2:0' },
};

describe('requests checked against the model', () => {
  it('passes a request that keeps every constraint (json)', () => {
    expect(violations(json('kms', 'TrentService.CreateAlias', { AliasName: 'alias/rag-prod', TargetKeyId: 'k-1' }))).toEqual([]);
  });

  it('required (json)', () => {
    expect(violations(json('kms', 'TrentService.CreateAlias', { AliasName: 'alias/rag-prod' }))).toEqual([
      { at: 'kms:CreateAlias request', member: 'TargetKeyId', constraint: 'required', value: undefined },
    ]);
  });

  it('pattern (json)', () => {
    expect(violations(json('kms', 'TrentService.CreateAlias', { AliasName: 'alias/rag prod', TargetKeyId: 'k-1' }))).toEqual([
      { at: 'kms:CreateAlias request', member: 'AliasName', constraint: 'pattern ^[a-zA-Z0-9:/_-]+$', value: 'alias/rag prod' },
    ]);
  });

  it('range, wrong type and unknown member (json)', () => {
    expect(violations(json('kms', 'TrentService.ScheduleKeyDeletion', { KeyId: 'k', PendingWindowInDays: 400 }))).toEqual([
      { at: 'kms:ScheduleKeyDeletion request', member: 'PendingWindowInDays', constraint: 'value <= 365', value: 400 },
    ]);
    expect(violations(json('kms', 'TrentService.ScheduleKeyDeletion', { KeyId: 'k', PendingWindowInDays: '7', Force: true }))).toEqual([
      { at: 'kms:ScheduleKeyDeletion request', member: 'PendingWindowInDays', constraint: 'type integer', value: '7' },
      { at: 'kms:ScheduleKeyDeletion request', member: 'Force', constraint: 'unknown member', value: true },
    ]);
  });

  it('max length and unknown member (query)', () => {
    const doc = '{"Version":"2012-10-17","Statement":[]}';
    expect(
      violations(query('iam', { Action: 'CreateRole', Version: '2010-05-08', RoleName: 'r'.repeat(65), AssumeRolePolicyDocument: doc })),
    ).toEqual([{ at: 'iam:CreateRole request', member: 'RoleName', constraint: 'length <= 64', value: 'r'.repeat(65) }]);
    expect(
      violations(
        query('iam', {
          Action: 'CreateRole',
          Version: '2010-05-08',
          RoleName: 'rag-prod',
          AssumeRolePolicyDocument: doc,
          'Tags.member.1.Key': 'a',
          'Tags.member.1.Value': 'b',
          Colour: 'red',
        }),
      ),
    ).toEqual([{ at: 'iam:CreateRole request', member: 'Colour', constraint: 'unknown member', value: 'red' }]);
  });

  it('required inside a list (query)', () => {
    expect(
      violations(query('iam', { Action: 'TagRole', Version: '2010-05-08', RoleName: 'rag-prod', 'Tags.member.1.Key': 'team' })),
    ).toEqual([{ at: 'iam:TagRole request', member: 'Tags[0].Value', constraint: 'required', value: undefined }]);
  });

  it('min length, enum and unknown member (rest-json, with a URI label)', () => {
    const req = rest('bedrock', 'PUT', '/knowledgebases/', {
      clientToken: 'short',
      name: 'kb',
      roleArn: 'arn:aws:iam::123456789012:role/kb',
      knowledgeBaseConfiguration: { ...KB_CONFIG, type: 'VECTORS' },
      colour: 'red',
    });
    expect(violations(req)).toEqual([
      { at: 'bedrock-agent:CreateKnowledgeBase request', member: 'colour', constraint: 'unknown member', value: 'red' },
      { at: 'bedrock-agent:CreateKnowledgeBase request', member: 'clientToken', constraint: 'length >= 33', value: 'short' },
      {
        at: 'bedrock-agent:CreateKnowledgeBase request',
        member: 'knowledgeBaseConfiguration.type',
        constraint: 'enum [VECTOR, KENDRA, SQL, MANAGED]',
        value: 'VECTORS',
      },
    ]);
  });

  it('list size and a bad URI label (rest-json)', () => {
    const req = rest('bedrock', 'PUT', '/knowledgebases/KB_1/datasources/', {
      clientToken: TOKEN,
      name: 'docs',
      dataSourceConfiguration: { type: 'S3', s3Configuration: { bucketArn: 'arn:aws:s3:::docs', inclusionPrefixes: ['a/', 'b/'] } },
    });
    expect(violations(req)).toEqual([
      { at: 'bedrock-agent:CreateDataSource request', member: 'knowledgeBaseId', constraint: 'pattern [0-9a-zA-Z]{10}', value: 'KB_1' },
      {
        at: 'bedrock-agent:CreateDataSource request',
        member: 'dataSourceConfiguration.s3Configuration.inclusionPrefixes',
        constraint: 'items <= 1',
        value: 2,
      },
    ]);
  });

  it('enum in the XML payload, and a header (rest-xml)', () => {
    const body = '<VersioningConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Status>On</Status></VersioningConfiguration>';
    const req = rest('s3', 'PUT', '/docs?versioning', body, { 'x-amz-expected-bucket-owner': '12345' });
    expect(violations(req)).toEqual([
      {
        at: 's3:PutBucketVersioning request',
        member: 'VersioningConfiguration.Status',
        constraint: 'enum [Enabled, Suspended]',
        value: 'On',
      },
    ]);
  });

  it('required and min length in a non-flattened XML list, greedy labels and query literals (rest-xml)', () => {
    const body = '<Tagging><TagSet><Tag><Key></Key><Value>v</Value></Tag><Tag><Key>k</Key></Tag></TagSet></Tagging>';
    expect(violations(rest('s3', 'PUT', '/docs?tagging', body))).toEqual([
      { at: 's3:PutBucketTagging request', member: 'Tagging.TagSet[0].Key', constraint: 'length >= 1', value: '' },
      { at: 's3:PutBucketTagging request', member: 'Tagging.TagSet[1].Value', constraint: 'required', value: undefined },
    ]);
    expect(checkExchange(rest('s3', 'PUT', '/docs/a/b%2Fc.txt?x-id=PutObject', 'x'), undefined, 't').operation).toBe('PutObject');
    expect(checkExchange(rest('s3', 'GET', '/docs?list-type=2&prefix=a%2F'), undefined, 't').operation).toBe('ListObjectsV2');
    expect(checkExchange(rest('s3', 'GET', '/docs?versions'), undefined, 't').operation).toBe('ListObjectVersions');
    expect(violations(rest('s3', 'GET', '/docs?list-type=2&max-keys=many'))).toEqual([
      { at: 's3:ListObjectsV2 request', member: 'MaxKeys', constraint: 'type integer', value: 'many' },
    ]);
  });

  it('required (smithy-rpc-v2-cbor)', () => {
    const req: WireRequest = {
      method: 'POST',
      path: '/service/GraniteServiceVersion20100801/operation/GetMetricData',
      query: new URLSearchParams(),
      headers: { authorization: auth('monitoring'), 'smithy-protocol': 'rpc-v2-cbor' },
      body: Buffer.from(cbor.serialize({ MetricDataQueries: [], EndTime: dateToTag(new Date()) })),
    };
    expect(violations(req)).toEqual([
      { at: 'cloudwatch:GetMetricData request', member: 'StartTime', constraint: 'required', value: undefined },
    ]);
  });

  it('finds the operation among the APIs that share a signing name, and says when none has one', () => {
    expect(checkExchange(rest('bedrock', 'GET', '/inference-profiles/p1'), undefined, 't').operation).toBe('GetInferenceProfile');
    expect(checkExchange(rest('bedrock', 'GET', '/knowledgebases/ABCDEFGHIJ'), undefined, 't').service).toBe('bedrock-agent');
    expect(violations(rest('bedrock', 'GET', '/no-such-thing'))).toEqual([
      { at: 'bedrock:(none) request', member: '(operation)', constraint: 'an operation of the model', value: 'GET /no-such-thing' },
    ]);
    // The OpenSearch Serverless data plane signs as aoss but is OpenSearch's own REST API.
    expect(checkExchange(rest('aoss', 'PUT', '/abc/my-index', {}), undefined, 't').unmodelled).toMatch(/data plane/);
  });
});

describe('answers checked against the model', () => {
  const getKb = rest('bedrock', 'GET', '/knowledgebases/ABCDEFGHIJ');
  const kb = {
    knowledgeBaseId: 'ABCDEFGHIJ',
    name: 'kb',
    knowledgeBaseArn: 'arn:aws:bedrock:us-east-1:123456789012:knowledge-base/ABCDEFGHIJ',
    roleArn: 'arn:aws:iam::123456789012:role/kb',
    knowledgeBaseConfiguration: KB_CONFIG,
    status: 'ACTIVE',
    createdAt: '2026-12-04T00:00:00Z',
    updatedAt: '2026-12-04T00:00:00Z',
  };

  it('passes an answer that keeps the model', () => {
    expect(violations(getKb, answer(200, { knowledgeBase: kb }))).toEqual([]);
  });

  it('enum and required members of the output (rest-json)', () => {
    const { updatedAt: _u, ...rest } = kb;
    expect(violations(getKb, answer(200, { knowledgeBase: { ...rest, status: 'Active' } }))).toEqual([
      {
        at: 'bedrock-agent:GetKnowledgeBase response',
        member: 'knowledgeBase.status',
        constraint: 'enum [CREATING, ACTIVE, DELETING, UPDATING, FAILED, DELETE_UNSUCCESSFUL, UPDATE_UNSUCCESSFUL]',
        value: 'Active',
      },
      { at: 'bedrock-agent:GetKnowledgeBase response', member: 'knowledgeBase.updatedAt', constraint: 'required', value: undefined },
    ]);
  });

  it('the status code the model gives the operation', () => {
    const create = rest('bedrock', 'PUT', '/knowledgebases/', {
      clientToken: TOKEN,
      name: 'kb',
      roleArn: kb.roleArn,
      knowledgeBaseConfiguration: KB_CONFIG,
    });
    expect(violations(create, answer(200, { knowledgeBase: kb }))).toEqual([
      { at: 'bedrock-agent:CreateKnowledgeBase response', member: '(status)', constraint: 'http status 202', value: 200 },
    ]);
  });

  it('a request that breaks the model and is refused with 400 got what AWS would give it', () => {
    const bad = rest('bedrock', 'PUT', '/knowledgebases/', {
      clientToken: 'short',
      name: 'kb',
      roleArn: kb.roleArn,
      knowledgeBaseConfiguration: KB_CONFIG,
    });
    expect(violations(bad, answer(400, { message: 'x' }, { 'x-amzn-errortype': 'ValidationException' }))).toEqual([]);
    expect(violations(bad, answer(202, { knowledgeBase: kb }))).toEqual([
      { at: 'bedrock-agent:CreateKnowledgeBase request', member: 'clientToken', constraint: 'length >= 33', value: 'short' },
    ]);
  });

  it('a status the model does not state is not checked (S3 answers PutBucketTagging with 204)', () => {
    expect(violations(rest('s3', 'PUT', '/docs?tagging', '<Tagging><TagSet/></Tagging>'), answer(204, ''))).toEqual([]);
  });

  it("corrects the patterns AWS's models get wrong (bedrock-agent's tag ARNs)", () => {
    expect(violations(rest('bedrock', 'GET', `/tags/${encodeURIComponent(kb.knowledgeBaseArn)}`))).toEqual([]);
  });

  it('takes the enum values AWS sends beyond its model (INFERENCE_PROFILE), and does not read event streams as documents', () => {
    const details = {
      modelArn: 'arn:aws:bedrock:us-east-1::foundation-model/amazon.nova-lite-v1:0',
      modelId: 'amazon.nova-lite-v1:0',
      inferenceTypesSupported: ['ON_DEMAND', 'INFERENCE_PROFILE'],
    };
    expect(
      violations(rest('bedrock', 'GET', '/foundation-models/amazon.nova-lite-v1%3A0'), answer(200, { modelDetails: details })),
    ).toEqual([]);
    const stream = rest('bedrock', 'POST', '/model/amazon.nova-lite-v1%3A0/converse-stream', { messages: [] });
    expect(violations(stream, answer(200, Buffer.from([0, 0, 0, 0x76, 0xff])))).toEqual([]);
  });

  it('errors: declared, common, or neither; and their declared status', () => {
    const err = (status: number, type: string): WireResponse =>
      answer(status, { message: 'x' }, { 'x-amzn-errortype': `${type}:http://internal.amazon.com/` });
    expect(violations(getKb, err(404, 'ResourceNotFoundException'))).toEqual([]);
    expect(violations(getKb, err(429, 'ThrottlingException'))).toEqual([]);
    expect(violations(getKb, err(400, 'ValidationException'))).toEqual([]);
    expect(violations(getKb, err(404, 'NoSuchKnowledgeBase'))).toEqual([
      {
        at: 'bedrock-agent:GetKnowledgeBase response',
        member: '(error)',
        constraint: 'a declared or common error',
        value: 'NoSuchKnowledgeBase',
      },
    ]);
    expect(violations(getKb, err(400, 'ResourceNotFoundException'))).toEqual([
      {
        at: 'bedrock-agent:GetKnowledgeBase response',
        member: '(status)',
        constraint: 'http status 404 for ResourceNotFoundException',
        value: 400,
      },
    ]);
  });

  it('types and required members in a query-protocol answer; error codes by their model code', () => {
    const req = query('iam', { Action: 'GetRole', Version: '2010-05-08', RoleName: 'kb' });
    const xml = (role: string): string =>
      `<GetRoleResponse xmlns="https://iam.amazonaws.com/doc/2010-05-08/"><GetRoleResult><Role>${role}</Role></GetRoleResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetRoleResponse>`;
    const role = '<Path>/</Path><RoleName>kb</RoleName><RoleId>AROA1234567890123456</RoleId><Arn>arn:aws:iam::123456789012:role/kb</Arn>';
    expect(
      violations(
        req,
        answer(200, xml(`${role}<CreateDate>2026-12-04T00:00:00Z</CreateDate><MaxSessionDuration>3600</MaxSessionDuration>`)),
      ),
    ).toEqual([]);
    expect(violations(req, answer(200, xml(`${role}<MaxSessionDuration>long</MaxSessionDuration>`)))).toEqual([
      { at: 'iam:GetRole response', member: 'Role.MaxSessionDuration', constraint: 'type integer', value: 'long' },
      { at: 'iam:GetRole response', member: 'Role.CreateDate', constraint: 'required', value: undefined },
    ]);
    const error = (code: string): string =>
      `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>m</Message></Error></ErrorResponse>`;
    expect(violations(req, answer(404, error('NoSuchEntity')))).toEqual([]);
    expect(violations(req, answer(409, error('EntityAlreadyExists')))).toEqual([
      { at: 'iam:GetRole response', member: '(error)', constraint: 'a declared or common error', value: 'EntityAlreadyExists' },
    ]);
  });

  it('unknown members and enums in a flattened XML list (rest-xml)', () => {
    const req = rest('s3', 'GET', '/docs?versions');
    const body =
      '<ListVersionsResult><Name>docs</Name><IsTruncated>false</IsTruncated><Version><Key>a</Key><VersionId>1</VersionId><IsLatest>true</IsLatest><StorageClass>COLD</StorageClass></Version><Version><Key>b</Key><Colour>red</Colour></Version></ListVersionsResult>';
    expect(violations(req, answer(200, body))).toEqual([
      { at: 's3:ListObjectVersions response', member: 'Versions[0].StorageClass', constraint: 'enum [STANDARD]', value: 'COLD' },
      { at: 's3:ListObjectVersions response', member: 'Versions[1].Colour', constraint: 'unknown member', value: 'red' },
    ]);
    expect(violations(req, answer(404, '<Error><Code>NoSuchBucket</Code></Error>'))).toEqual([]);
  });
});

describe('Java patterns in JavaScript', () => {
  it('translates what JavaScript spells differently and refuses what it cannot say', () => {
    expect(translateJavaRegex('\\p{Alnum}+')).toBe('[a-zA-Z0-9]+');
    expect(translateJavaRegex('[\\p{L}\\p{Z}\\-]*')).toBe('[\\p{L}\\p{Z}\\-]*');
    expect(translateJavaRegex('\\Qa.b\\E')).toBe('a\\.b');
    expect(compilePattern('[a-z&&[^b]]')).toEqual({ unchecked: 'class intersection (&&)' });
    expect(compilePattern('a*+')).toEqual({ unchecked: 'possessive quantifier' });
  });

  it('matches whole values, as AWS does ([\\w+=,.@-]+ refuses "a b")', () => {
    const p = compilePattern('[\\w+=,.@-]+');
    expect('re' in p && p.re.test('rag-prod')).toBe(true);
    expect('re' in p && p.re.test('a b')).toBe(false);
  });
});

describe('wiring: what the fakes and the AWS proxy answer is checked', () => {
  const kbAnswer = { knowledgeBase: { knowledgeBaseId: 'ABCDEFGHIJ', status: 'Active' } };
  const get = (endpoint: string): Promise<Response> =>
    fetch(`${endpoint}/knowledgebases/ABCDEFGHIJ`, { headers: { authorization: auth('bedrock') } });
  const seen = (): unknown[] => takeUnreported().map(({ member, constraint, servedBy }) => ({ member, constraint, servedBy }));

  it('a fake built on fakes/http.ts', async () => {
    const fake = await startFakeServer(() => Promise.resolve({ status: 200, body: kbAnswer }), {
      faults: new Faults(),
      operationOf: () => 'GetKnowledgeBase',
      faultResponse: () => ({ status: 500 }),
    });
    try {
      await (await get(fake.endpoint)).text();
    } finally {
      await fake.stop();
    }
    expect(seen()).toEqual([
      { member: 'knowledgeBase.status', constraint: expect.stringMatching(/^enum /) as unknown, servedBy: 'fake' },
      ...['name', 'knowledgeBaseArn', 'roleArn', 'knowledgeBaseConfiguration', 'createdAt', 'updatedAt'].map((m) => ({
        member: `knowledgeBase.${m}`,
        constraint: 'required',
        servedBy: 'fake',
      })),
    ]);
  });

  it('an emulator behind the AWS proxy, checked once however many proxies are in front', async () => {
    const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(kbAnswer)));
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    const inner = await startAwsProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, { servedBy: 'emulator' });
    const outer = await startAwsProxy(inner.endpoint);
    try {
      await (await get(outer.endpoint)).text();
    } finally {
      await outer.stop();
      await inner.stop();
      upstream.close();
    }
    const vs = seen();
    expect(vs).toHaveLength(7);
    expect(vs[0]).toEqual({ member: 'knowledgeBase.status', constraint: expect.stringMatching(/^enum /) as unknown, servedBy: 'emulator' });
  });
});

describe("moto's known breaks of the model, mended in the proxy in front of it", () => {
  it('S3 Vectors GetIndex without creationTime', async () => {
    const index = {
      vectorBucketName: 'vec-bucket',
      indexName: 'idx',
      indexArn: 'arn:aws:s3vectors:us-east-1:123456789012:bucket/vec-bucket/index/idx',
      dataType: 'float32',
      dimension: 4,
      distanceMetric: 'cosine',
    };
    const upstream = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ index })));
    await new Promise<void>((ok) => upstream.listen(0, '127.0.0.1', ok));
    const proxy = await startAwsProxy(`http://127.0.0.1:${(upstream.address() as AddressInfo).port}`, {
      servedBy: 'moto',
      normalise: 'moto',
    });
    try {
      const res = await fetch(`${proxy.endpoint}/GetIndex`, {
        method: 'POST',
        headers: { authorization: auth('s3vectors'), 'content-type': 'application/json' },
        body: JSON.stringify({ vectorBucketName: 'vec-bucket', indexName: 'idx' }),
      });
      expect(((await res.json()) as { index: Record<string, unknown> }).index.creationTime).toEqual(expect.any(Number));
    } finally {
      await proxy.stop();
      upstream.close();
    }
    expect(takeUnreported()).toEqual([]);
  });
});

describe("the fakes refuse what breaks the model, in AWS's words", () => {
  it('a ValidationException naming each member and constraint', () => {
    const req = rest('bedrock', 'PUT', '/knowledgebases/', {
      clientToken: 'short',
      name: 'bad..name',
      roleArn: 'arn:aws:iam::123456789012:role/kb',
      knowledgeBaseConfiguration: KB_CONFIG,
    });
    expect(validationRefusal(req)).toEqual({
      status: 400,
      headers: { 'x-amzn-errortype': 'ValidationException' },
      body: {
        message:
          "2 validation errors detected: Value 'short' at 'clientToken' failed to satisfy constraint: Member must have length greater than or equal to 33; " +
          "Value 'bad..name' at 'name' failed to satisfy constraint: Member must satisfy regular expression pattern: ([0-9a-zA-Z][_-]?){1,100}",
      },
    });
    expect(validationRefusal(rest('bedrock', 'GET', '/knowledgebases/ABCDEFGHIJ'))).toBeUndefined();
  });
});
