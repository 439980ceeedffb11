/** The ingestion port over the bedrock-agent SDK client. */
import {
  GetIngestionJobCommand,
  ListIngestionJobsCommand,
  StartIngestionJobCommand,
  type BedrockAgentClient,
  type IngestionJobStatistics,
} from '@aws-sdk/client-bedrock-agent';
import { isJobStatus, type IngestionPort, type JobStatistics, type JobStatus, type PortJob } from './types.js';

/** The fields the SDK's IngestionJob and IngestionJobSummary share. */
interface SdkJob {
  ingestionJobId?: string | undefined;
  status?: string | undefined;
  startedAt?: Date | undefined;
  updatedAt?: Date | undefined;
  statistics?: IngestionJobStatistics | undefined;
  failureReasons?: string[] | undefined;
}

function statistics(s: IngestionJobStatistics | undefined): JobStatistics {
  return {
    scanned: s?.numberOfDocumentsScanned ?? 0,
    metadataScanned: s?.numberOfMetadataDocumentsScanned ?? 0,
    newIndexed: s?.numberOfNewDocumentsIndexed ?? 0,
    modifiedIndexed: s?.numberOfModifiedDocumentsIndexed ?? 0,
    deleted: s?.numberOfDocumentsDeleted ?? 0,
    failed: s?.numberOfDocumentsFailed ?? 0,
  };
}

/** Maps an SDK job; a status this code does not know yet is taken as still running, so it is polled on. */
export function fromSdkJob(j: SdkJob | undefined): PortJob {
  if (!j?.ingestionJobId) throw new Error('bedrock-agent returned an ingestion job without an id');
  const status: JobStatus = isJobStatus(j.status) ? j.status : 'IN_PROGRESS';
  return {
    jobId: j.ingestionJobId,
    status,
    ...(j.startedAt ? { startedAt: j.startedAt } : {}),
    ...(j.updatedAt ? { updatedAt: j.updatedAt } : {}),
    statistics: statistics(j.statistics),
    failureReasons: j.failureReasons ?? [],
  };
}

/** How many recent jobs `listJobs` looks at. */
const LIST_PAGE = 10;

/** The real port: StartIngestionJob, GetIngestionJob and ListIngestionJobs. */
export function bedrockAgentIngestionPort(client: BedrockAgentClient): IngestionPort {
  return {
    async startJob(ds, clientToken, signal) {
      const out = await client.send(
        new StartIngestionJobCommand({
          knowledgeBaseId: ds.knowledgeBaseId,
          dataSourceId: ds.dataSourceId,
          clientToken,
          description: 'tenant-rag-operator sync',
        }),
        { abortSignal: signal },
      );
      return fromSdkJob(out.ingestionJob);
    },
    async getJob(ds, jobId, signal) {
      const out = await client.send(
        new GetIngestionJobCommand({ knowledgeBaseId: ds.knowledgeBaseId, dataSourceId: ds.dataSourceId, ingestionJobId: jobId }),
        { abortSignal: signal },
      );
      return fromSdkJob(out.ingestionJob);
    },
    async listJobs(ds, statuses, signal) {
      // Why no server-side STATUS filter: whether several `values` of one EQ filter are OR-ed is
      // not documented. A data source runs one job at a time, so its running job is always among
      // the newest started; sorting by start time and filtering here is correct either way.
      const out = await client.send(
        new ListIngestionJobsCommand({
          knowledgeBaseId: ds.knowledgeBaseId,
          dataSourceId: ds.dataSourceId,
          sortBy: { attribute: 'STARTED_AT', order: 'DESCENDING' },
          maxResults: LIST_PAGE,
        }),
        { abortSignal: signal },
      );
      return (out.ingestionJobSummaries ?? [])
        .filter((j) => j.ingestionJobId !== undefined)
        .map(fromSdkJob)
        .filter((j) => statuses.includes(j.status))
        .sort((a, b) => (b.startedAt?.getTime() ?? 0) - (a.startedAt?.getTime() ?? 0));
    },
  };
}
