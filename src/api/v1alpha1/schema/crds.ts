/** Assembles the three CustomResourceDefinitions from their schemas (data only, no I/O). */
import { GROUP, VERSION } from '../constants.js';
import type { Schema } from './common.js';
import { modelAccessSchema } from './modelaccess.js';
import { tenantSchema } from './tenant.js';
import { tenantTierSchema } from './tenanttier.js';

interface PrinterColumn {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  description: string;
}

interface CrdInput {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  schema: Schema;
  columns: PrinterColumn[];
}

const ready = (name = 'READY'): PrinterColumn => ({
  name,
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
  description: 'Whether everything is in place.',
});
const reason: PrinterColumn = {
  name: 'REASON',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
  priority: 1,
  description: 'Why it is or is not ready.',
};
const synced: PrinterColumn = {
  name: 'SYNCED',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Synced")].status',
  description: 'Whether the last pass could do its job (False: see the Synced condition).',
};
const age: PrinterColumn = { name: 'AGE', type: 'date', jsonPath: '.metadata.creationTimestamp', description: 'Time since creation.' };

const inputs: CrdInput[] = [
  {
    kind: 'TenantTier',
    plural: 'tenanttiers',
    singular: 'tenanttier',
    shortNames: ['tier', 'tiers'],
    schema: tenantTierSchema,
    columns: [
      { name: 'ISOLATION', type: 'string', jsonPath: '.spec.isolation', description: 'Isolation pattern.' },
      { name: 'STORE', type: 'string', jsonPath: '.spec.vectorStore.type', description: 'Vector store.' },
      ready(),
      synced,
      reason,
      { name: 'TENANTS', type: 'integer', jsonPath: '.status.tenantCount', description: 'Tenants in the tier.' },
      { name: 'MAX', type: 'integer', jsonPath: '.spec.maxTenants', description: 'Most tenants admitted.' },
      age,
    ],
  },
  {
    kind: 'Tenant',
    plural: 'tenants',
    singular: 'tenant',
    shortNames: ['tnt'],
    schema: tenantSchema,
    columns: [
      { name: 'TIER', type: 'string', jsonPath: '.spec.tier', description: "The tenant's tier." },
      { name: 'ISOLATION', type: 'string', jsonPath: '.status.isolation', description: 'Isolation pattern of the tier.' },
      ready(),
      synced,
      reason,
      { name: 'KB', type: 'string', jsonPath: '.status.resources.knowledgeBaseId', description: 'Knowledge base id.' },
      { name: 'TOKENS (MONTH)', type: 'integer', jsonPath: '.status.usage.totalTokens', description: 'Tokens this month.' },
      { name: 'COST (MONTH)', type: 'string', jsonPath: '.status.usage.costUSD', description: 'Cost this month in USD.' },
      { name: 'BUCKET', type: 'string', jsonPath: '.status.resources.bucket', priority: 1, description: 'Document bucket.' },
      { name: 'ROLE', type: 'string', jsonPath: '.status.resources.roleArn', priority: 1, description: 'Tenant IAM role.' },
      { name: 'STORE', type: 'string', jsonPath: '.status.vectorStore', priority: 1, description: "Vector store of the tenant's tier." },
      age,
    ],
  },
  {
    kind: 'ModelAccess',
    plural: 'modelaccesses',
    singular: 'modelaccess',
    shortNames: ['ma'],
    schema: modelAccessSchema,
    columns: [
      { name: 'TENANT', type: 'string', jsonPath: '.spec.tenantRef.name', description: 'The tenant.' },
      { name: 'MODEL', type: 'string', jsonPath: '.spec.model', description: 'The model.' },
      ready(),
      synced,
      reason,
      { name: 'TOKENS (MONTH)', type: 'integer', jsonPath: '.status.usage.totalTokens', description: 'Tokens this month.' },
      { name: 'QUOTA %', type: 'integer', jsonPath: '.status.usage.percentOfQuota', description: 'Share of the quota used.' },
      {
        name: 'PROFILE',
        type: 'string',
        jsonPath: '.status.inferenceProfileArn',
        priority: 1,
        description: 'Application inference profile.',
      },
      age,
    ],
  },
];

/** A CRD manifest as plain data. */
export type CrdManifest = Record<string, unknown> & {
  metadata: { name: string };
  spec: { group: string; names: { kind: string; plural: string } };
};

/** The three CRDs, in the order they should be applied. */
export function customResourceDefinitions(): CrdManifest[] {
  return inputs.map((c) => ({
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${c.plural}.${GROUP}`, labels: { 'app.kubernetes.io/part-of': 'tenant-rag-operator' } },
    spec: {
      group: GROUP,
      scope: 'Cluster',
      names: {
        kind: c.kind,
        listKind: `${c.kind}List`,
        plural: c.plural,
        singular: c.singular,
        shortNames: c.shortNames,
        categories: ['rag'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: c.columns,
          schema: { openAPIV3Schema: c.schema },
        },
      ],
    },
  }));
}
