import {
  type BedrockAgentClient,
  CreateDataSourceCommand,
  type DataSource,
  DeleteDataSourceCommand,
  GetDataSourceCommand,
  UpdateDataSourceCommand,
} from '@aws-sdk/client-bedrock-agent';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { DataSourceDriver, type DataSourceObserved, type DataSourceSpec } from './driver.js';

const owner = { cluster: 'prod', kind: 'TenantTier' as const, name: 'gold', uid: 'uid-1', tier: 'gold' };
const managed: DataSourceSpec = {
  knowledgeBaseId: 'KB12345678',
  name: 'rag-prod-tier-gold',
  owner,
  bucketArn: 'arn:aws:s3:::rag-prod-tier-gold-111122223333-us-east-1',
  bucketOwnerAccountId: '111122223333',
  inclusionPrefix: 'tenants/',
  dataDeletionPolicy: 'DELETE',
  connector: 'MANAGED_S3',
};
const params = {
  type: 'S3',
  version: '1',
  connectionConfiguration: { bucketName: 'rag-prod-tier-gold-111122223333-us-east-1', bucketOwnerAccountId: '111122223333' },
  filterConfiguration: { inclusionPrefixes: ['tenants/'] },
  metadataFilesPrefix: 'tenants/',
};
const ctx = { signal: new AbortController().signal, logger: pino({ level: 'silent' }) };

function stub(ds?: DataSource): { agent: BedrockAgentClient; sent: unknown[] } {
  const sent: unknown[] = [];
  const send = (cmd: unknown): Promise<unknown> => {
    sent.push(cmd);
    if (cmd instanceof GetDataSourceCommand) return Promise.resolve({ dataSource: ds });
    return Promise.resolve({ dataSource: { dataSourceId: 'DS12345678' } });
  };
  return { agent: { send } as unknown as BedrockAgentClient, sent };
}

const observed = (source: DataSource): DataSourceObserved => ({
  knowledgeBaseId: 'KB12345678',
  id: 'DS12345678',
  status: 'AVAILABLE',
  source,
});
const asFound = (connectorParameters: unknown, over: Partial<DataSource> = {}): DataSource => ({
  knowledgeBaseId: 'KB12345678',
  dataSourceId: 'DS12345678',
  name: managed.name,
  status: 'AVAILABLE',
  dataDeletionPolicy: 'DELETE',
  dataSourceConfiguration: {
    type: 'MANAGED_KNOWLEDGE_BASE_CONNECTOR',
    managedKnowledgeBaseConnectorConfiguration: { connectorParameters: connectorParameters as never },
  },
  vectorIngestionConfiguration: { parsingConfiguration: { parsingStrategy: 'SMART_PARSING' } } as never,
  createdAt: new Date(),
  updatedAt: new Date(),
  ...over,
});

describe('DataSourceDriver: the S3 connector of a managed knowledge base', () => {
  it('creates it by bucket name with the prefix and its sidecars, DELETE, and no chunking or key', async () => {
    const { agent, sent } = stub();
    const ids = await new DataSourceDriver(agent).create(ctx, { ...managed, kmsKeyArn: 'arn:aws:kms:us-east-1:111122223333:key/k' });
    expect(ids).toEqual({ dataSourceId: 'DS12345678' });
    const input = (sent[0] as CreateDataSourceCommand).input;
    expect(sent[0]).toBeInstanceOf(CreateDataSourceCommand);
    expect(input.dataSourceConfiguration).toEqual({
      type: 'MANAGED_KNOWLEDGE_BASE_CONNECTOR',
      managedKnowledgeBaseConnectorConfiguration: { connectorParameters: params },
    });
    expect(input.dataDeletionPolicy).toBe('DELETE');
    expect(input.vectorIngestionConfiguration).toBeUndefined();
    expect(input.serverSideEncryptionConfiguration).toBeUndefined();
  });

  it('a data source still CREATING is a wait, AVAILABLE is ready', async () => {
    const creating = await new DataSourceDriver(stub(asFound(params, { status: 'CREATING' })).agent).observe(ctx, managed, {
      dataSourceId: 'DS12345678',
    });
    expect(creating.state).toBe('pending');
    const ready = await new DataSourceDriver(stub(asFound(params)).agent).observe(ctx, managed, { dataSourceId: 'DS12345678' });
    expect(ready.state).toBe('ready');
  });

  it.each([
    { name: 'parameters as an object, with defaults Bedrock adds: in sync', found: asFound({ ...params, aclEnabled: false }), diff: [] },
    { name: 'parameters as a JSON string (as GetDataSource may return them): in sync', found: asFound(JSON.stringify(params)), diff: [] },
    {
      name: 'another bucket: source',
      found: asFound({ ...params, connectionConfiguration: { ...params.connectionConfiguration, bucketName: 'other' } }),
      diff: ['source'],
    },
    {
      name: 'another prefix, in a JSON string: source',
      found: asFound(JSON.stringify({ ...params, filterConfiguration: { inclusionPrefixes: ['tenants/x/'] } })),
      diff: ['source'],
    },
    { name: 'no sidecar prefix: source', found: asFound({ ...params, metadataFilesPrefix: undefined }), diff: ['source'] },
    { name: 'unreadable parameters: source', found: asFound('{not json'), diff: ['source'] },
    {
      name: 'an S3 data source where the connector is wanted: source',
      found: { ...asFound(params), dataSourceConfiguration: { type: 'S3' as const, s3Configuration: { bucketArn: managed.bucketArn } } },
      diff: ['source'],
    },
    { name: 'RETAIN: dataDeletionPolicy', found: asFound(params, { dataDeletionPolicy: 'RETAIN' }), diff: ['dataDeletionPolicy'] },
  ])('$name', ({ found, diff }) => {
    expect(new DataSourceDriver(stub().agent).compare(managed, observed(found))).toEqual(diff);
  });

  it('repairs drift with UpdateDataSource in the connector shape, and deletes a DELETE_UNSUCCESSFUL one without switching to RETAIN', async () => {
    const { agent, sent } = stub();
    const driver = new DataSourceDriver(agent);
    await driver.update(ctx, managed, observed(asFound(params)), ['source']);
    expect(sent[0]).toBeInstanceOf(UpdateDataSourceCommand);
    expect((sent[0] as UpdateDataSourceCommand).input).toMatchObject({
      dataSourceId: 'DS12345678',
      dataDeletionPolicy: 'DELETE',
      dataSourceConfiguration: { managedKnowledgeBaseConnectorConfiguration: { connectorParameters: params } },
    });
    sent.length = 0;
    await driver.delete(ctx, { ...observed(asFound(params)), status: 'DELETE_UNSUCCESSFUL' });
    expect(sent.map((c) => c?.constructor)).toEqual([DeleteDataSourceCommand]);
  });
});
