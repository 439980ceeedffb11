/** Data source and ingestion job operations of the bedrock-agent fake. */
import type { CreateDataSourceRequest, IngestionJobFilter, IngestionJobSortBy } from '@aws-sdk/client-bedrock-agent';
import { isDeepStrictEqual } from 'node:util';
import { checkWritable, deleteVectors, syncDataSource } from './bedrock-ingestion.js';
import { checkManagedDataSource, connectFailure, managedSource, storedConfiguration } from './bedrock-managed.js';
import {
  type BedrockContext,
  dsView,
  type FakeDataSource,
  type FakeIngestionJob,
  findDs,
  findKb,
  newId,
  now,
  page,
} from './bedrock-state.js';
import { checkClientToken, checkDataSource, checkId, invalid } from './bedrock-validate.js';
import { AwsError, type FakeResponse } from './http.js';

const RUNNING = ['STARTING', 'IN_PROGRESS', 'STOPPING'];

/** PUT /knowledgebases/{kb}/datasources/ (200): S3 only, AVAILABLE at once, 5 per knowledge base. */
export function createDataSource(c: BedrockContext, kbId: string, body: Record<string, unknown>): FakeResponse {
  checkId('knowledgeBaseId', kbId);
  const req = body as unknown as CreateDataSourceRequest;
  const kb = findKb(c, kbId);
  const managed = checkManagedDataSource(kb, req);
  if (!managed) checkDataSource(req);
  const tokenKey = req.clientToken ? `CreateDataSource/${kbId}/${req.clientToken}` : undefined;
  const earlier = tokenKey ? c.state.dataSources.get(c.state.tokens.get(tokenKey) ?? '') : undefined;
  if (earlier) return { status: 200, body: { dataSource: dsView(earlier) } };
  if (kb.status !== 'ACTIVE') throw new AwsError(409, 'ConflictException', `Knowledge base ${kbId} is in ${kb.status} state`);
  const count = [...c.state.dataSources.values()].filter((d) => d.knowledgeBaseId === kbId).length;
  if (count >= c.options.maxDataSourcesPerKnowledgeBase) {
    throw new AwsError(
      402,
      'ServiceQuotaExceededException',
      `Knowledge base ${kbId} already has ${count} data sources, the maximum allowed.`,
    );
  }
  const t = now();
  const ds: FakeDataSource = {
    knowledgeBaseId: kbId,
    dataSourceId: newId(),
    name: req.name ?? '',
    ...(req.description ? { description: req.description } : {}),
    // A managed knowledge base connects its data source asynchronously.
    status: managed ? 'CREATING' : 'AVAILABLE',
    dataSourceConfiguration:
      managed && req.dataSourceConfiguration
        ? storedConfiguration(req.dataSourceConfiguration)
        : (req.dataSourceConfiguration ?? { type: 'S3' }),
    ...(req.serverSideEncryptionConfiguration ? { serverSideEncryptionConfiguration: req.serverSideEncryptionConfiguration } : {}),
    ...(req.vectorIngestionConfiguration ? { vectorIngestionConfiguration: req.vectorIngestionConfiguration } : {}),
    dataDeletionPolicy: req.dataDeletionPolicy ?? 'DELETE',
    createdAt: t,
    updatedAt: t,
    indexed: new Map(),
  };
  c.state.dataSources.set(ds.dataSourceId, ds);
  if (tokenKey) c.state.tokens.set(tokenKey, ds.dataSourceId);
  if (managed) {
    c.state.later(c.options.managedDataSourceCreateMs, async () => {
      const why = await connectFailure(c, kb, ds);
      if (ds.status === 'CREATING')
        Object.assign(ds, why ? { status: 'FAILED', failureReasons: [why], updatedAt: now() } : { status: 'AVAILABLE', updatedAt: now() });
    });
  }
  return { status: 200, body: { dataSource: dsView(ds) } };
}

/** GET /knowledgebases/{kb}/datasources/{ds}. */
export function getDataSource(c: BedrockContext, kbId: string, dsId: string): FakeResponse {
  checkId('knowledgeBaseId', kbId);
  checkId('dataSourceId', dsId);
  return { status: 200, body: { dataSource: dsView(findDs(c, kbId, dsId)) } };
}

/** POST /knowledgebases/{kb}/datasources/: summaries, paged. */
export function listDataSources(c: BedrockContext, kbId: string, body: Record<string, unknown>): FakeResponse {
  findKb(c, kbId);
  const all = [...c.state.dataSources.values()]
    .filter((d) => d.knowledgeBaseId === kbId)
    .map((d) => ({ knowledgeBaseId: kbId, dataSourceId: d.dataSourceId, name: d.name, status: d.status, updatedAt: d.updatedAt }));
  const p = page(all, body.maxResults, body.nextToken);
  return { status: 200, body: { dataSourceSummaries: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
}

/** PUT /knowledgebases/{kb}/datasources/{ds}: refuses any change of the chunking configuration. */
export function updateDataSource(c: BedrockContext, kbId: string, dsId: string, body: Record<string, unknown>): FakeResponse {
  const ds = findDs(c, kbId, dsId);
  const req = body as unknown as CreateDataSourceRequest;
  const managed = checkManagedDataSource(findKb(c, kbId), req);
  if (!managed) checkDataSource(req);
  const chunking = req.vectorIngestionConfiguration?.chunkingConfiguration;
  if (chunking && !isDeepStrictEqual(chunking, ds.vectorIngestionConfiguration?.chunkingConfiguration)) {
    throw invalid('The chunking configuration of a data source cannot be updated after it is created.');
  }
  Object.assign(ds, {
    name: req.name,
    description: req.description,
    dataSourceConfiguration:
      managed && req.dataSourceConfiguration ? storedConfiguration(req.dataSourceConfiguration) : req.dataSourceConfiguration,
    ...(req.dataDeletionPolicy ? { dataDeletionPolicy: req.dataDeletionPolicy } : {}),
    ...(req.serverSideEncryptionConfiguration ? { serverSideEncryptionConfiguration: req.serverSideEncryptionConfiguration } : {}),
    ...(req.vectorIngestionConfiguration ? { vectorIngestionConfiguration: req.vectorIngestionConfiguration } : {}),
    updatedAt: now(),
  });
  return { status: 200, body: { dataSource: dsView(ds) } };
}

/** DELETE /knowledgebases/{kb}/datasources/{ds} (202): DELETING, vectors removed under DELETE, then gone. */
export function deleteDataSource(c: BedrockContext, kbId: string, dsId: string): FakeResponse {
  const ds = findDs(c, kbId, dsId);
  const kb = findKb(c, kbId);
  Object.assign(ds, { status: 'DELETING', updatedAt: now() });
  c.state.later(c.options.deleteMs, () => {
    try {
      if (ds.dataDeletionPolicy === 'DELETE') deleteVectors(c.store, kb.target, dsId);
    } catch (e) {
      Object.assign(ds, { status: 'DELETE_UNSUCCESSFUL', failureReasons: [String((e as Error).message)], updatedAt: now() });
      return;
    }
    c.state.dataSources.delete(dsId);
  });
  return { status: 202, body: { knowledgeBaseId: kbId, dataSourceId: dsId, status: 'DELETING' } };
}

/**
 * PUT .../ingestionjobs/ (202): STARTING, IN_PROGRESS, then COMPLETE with statistics (or FAILED).
 * One running job per data source and per knowledge base (ConflictException) and 5 per account
 * (ServiceQuotaExceededException); which of the two AWS returns per data source is unverified.
 */
export function startIngestionJob(c: BedrockContext, kbId: string, dsId: string, body: Record<string, unknown>): FakeResponse {
  checkClientToken(body.clientToken);
  const ds = findDs(c, kbId, dsId);
  const kb = findKb(c, kbId);
  const tokenKey = typeof body.clientToken === 'string' ? `StartIngestionJob/${dsId}/${body.clientToken}` : undefined;
  const earlier = tokenKey ? c.state.jobs.get(c.state.tokens.get(tokenKey) ?? '') : undefined;
  if (earlier) return { status: 202, body: { ingestionJob: earlier } };
  if (kb.status !== 'ACTIVE' || ds.status !== 'AVAILABLE') {
    throw invalid(`Knowledge base ${kbId} must be ACTIVE and data source ${dsId} AVAILABLE to start an ingestion job`);
  }
  const running = [...c.state.jobs.values()].filter((j) => RUNNING.includes(j.status));
  if (running.some((j) => j.dataSourceId === dsId || j.knowledgeBaseId === kbId)) {
    throw new AwsError(409, 'ConflictException', `An ingestion job is already running for knowledge base ${kbId} and data source ${dsId}.`);
  }
  if (running.length >= c.options.maxConcurrentIngestionJobs) {
    throw new AwsError(
      402,
      'ServiceQuotaExceededException',
      `This account already has ${running.length} ingestion jobs running, the maximum allowed.`,
    );
  }
  const t = now();
  const job: FakeIngestionJob = {
    knowledgeBaseId: kbId,
    dataSourceId: dsId,
    ingestionJobId: newId(),
    ...(typeof body.description === 'string' ? { description: body.description } : {}),
    status: 'STARTING',
    statistics: {},
    startedAt: t,
    updatedAt: t,
  };
  c.state.jobs.set(job.ingestionJobId, job);
  if (tokenKey) c.state.tokens.set(tokenKey, job.ingestionJobId);
  c.state.later(c.options.ingestionStartMs, () => {
    if (job.status === 'STARTING') Object.assign(job, { status: 'IN_PROGRESS', updatedAt: now() });
  });
  c.state.later(c.options.ingestionStartMs + c.options.ingestionMs, async () => {
    if (job.status !== 'IN_PROGRESS') return;
    const s3 = ds.dataSourceConfiguration.s3Configuration;
    try {
      await checkWritable(c.control, c.store, kb.target);
      // A managed knowledge base's connector names the bucket and prefix in its parameters.
      const source = managedSource(ds) ?? {
        bucket: (s3?.bucketArn ?? '').replace(/^arn:[^:]+:s3:::/, ''),
        prefix: s3?.inclusionPrefixes?.[0],
      };
      const stats = await syncDataSource(c.s3, c.store, kb.target, {
        dataSourceId: dsId,
        bucket: source.bucket,
        prefix: source.prefix,
        indexed: ds.indexed,
      });
      if (job.status === 'IN_PROGRESS') Object.assign(job, { status: 'COMPLETE', statistics: stats, updatedAt: now() });
    } catch (e) {
      Object.assign(job, { status: 'FAILED', failureReasons: [String((e as Error).message)], updatedAt: now() });
    }
  });
  return { status: 202, body: { ingestionJob: job } };
}

/** GET .../ingestionjobs/{job}. */
export function getIngestionJob(c: BedrockContext, kbId: string, dsId: string, jobId: string): FakeResponse {
  findDs(c, kbId, dsId);
  const job = c.state.jobs.get(jobId);
  if (!job || job.dataSourceId !== dsId) throw new AwsError(404, 'ResourceNotFoundException', `Ingestion job ${jobId} does not exist`);
  return { status: 200, body: { ingestionJob: job } };
}

/** POST .../ingestionjobs/{job}/stop (202): a running job becomes STOPPED. */
export function stopIngestionJob(c: BedrockContext, kbId: string, dsId: string, jobId: string): FakeResponse {
  const job = (getIngestionJob(c, kbId, dsId, jobId).body as { ingestionJob: FakeIngestionJob }).ingestionJob;
  if (!RUNNING.includes(job.status)) throw new AwsError(409, 'ConflictException', `Ingestion job ${jobId} is ${job.status}`);
  Object.assign(job, { status: 'STOPPED', updatedAt: now() });
  return { status: 202, body: { ingestionJob: job } };
}

/** POST .../ingestionjobs/: summaries filtered by STATUS, sorted by STARTED_AT or STATUS, paged. */
export function listIngestionJobs(c: BedrockContext, kbId: string, dsId: string, body: Record<string, unknown>): FakeResponse {
  findDs(c, kbId, dsId);
  const filters = (body.filters ?? []) as IngestionJobFilter[];
  const sort = body.sortBy as IngestionJobSortBy | undefined;
  const all = [...c.state.jobs.values()]
    .filter((j) => j.dataSourceId === dsId && filters.every((f) => f.attribute !== 'STATUS' || (f.values ?? []).includes(j.status)))
    .sort((a, b) => {
      const key = sort?.attribute === 'STATUS' ? 'status' : 'startedAt';
      return a[key].localeCompare(b[key]) * (sort?.order === 'DESCENDING' ? -1 : 1);
    })
    .map(({ failureReasons: _f, ...summary }) => summary);
  const p = page(all, body.maxResults, body.nextToken);
  return { status: 200, body: { ingestionJobSummaries: p.items, ...(p.nextToken ? { nextToken: p.nextToken } : {}) } };
}
