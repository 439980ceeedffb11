/** OpenAPI schema of ModelAccess: one tenant's grant of one model. */
import { type Schema, conditions, observedGeneration, dnsLabel, immutable } from './common.js';
import { usageSchema } from './tenant.js';
import { quotaSchema } from './tenanttier.js';

/** A source's usage (tenant.ts) with its tokens of the UTC day too. */
const withDayTokens = (source: Schema | undefined): Schema => ({
  ...source,
  properties: {
    ...source?.properties,
    dayTokens: { type: 'integer', format: 'int64', description: 'Input plus output tokens this UTC day, as this source counts them.' },
  },
});

/** spec and status of ModelAccess. */
export const modelAccessSchema: Schema = {
  type: 'object',
  description:
    'A ModelAccess grants a tenant one approved Bedrock model through its own application inference profile, meters its tokens and cost, and enforces its quota.',
  required: ['spec'],
  properties: {
    spec: {
      type: 'object',
      description: 'The tenant, the model it may use, and its token quota.',
      required: ['tenantRef', 'model'],
      properties: {
        tenantRef: immutable(
          {
            type: 'object',
            required: ['name'],
            description: 'The Tenant granted the model.',
            properties: { name: { ...dnsLabel, description: 'Name of the Tenant.' } },
          },
          'spec.tenantRef is immutable: create a new ModelAccess for the other tenant',
        ),
        model: immutable(
          {
            type: 'string',
            minLength: 1,
            maxLength: 2048,
            pattern: '^[a-zA-Z0-9._:/-]+$',
            description: "Bedrock model id (or system inference profile id); must be on the operator's approved list.",
          },
          'spec.model is immutable: create a new ModelAccess for the other model',
        ),
        quota: {
          ...quotaSchema,
          description: "Token quota; without one the tier's defaultQuota applies.",
          properties: {
            ...quotaSchema.properties,
            onExceeded: {
              type: 'string',
              enum: ['Throttle', 'Alert'],
              default: 'Throttle',
              description: '`Throttle`: deny access until the window resets. `Alert`: only a condition, an Event and a metric.',
            },
          },
        },
      },
    },
    status: {
      type: 'object',
      description: 'Observed state of the grant, written by the operator.',
      properties: {
        observedGeneration,
        conditions,
        inferenceProfileArn: {
          type: 'string',
          description: "The tenant's application inference profile for the model; invoke the model through it.",
        },
        usage: {
          ...usageSchema,
          properties: {
            ...usageSchema.properties,
            day: { type: 'string', description: 'The UTC day dayTokens counts, e.g. `2026-11-05`.' },
            dayTokens: {
              type: 'integer',
              format: 'int64',
              description: 'Input plus output tokens this UTC day, each counted once (as totalTokens).',
            },
            percentOfQuota: {
              type: 'integer',
              description:
                'The highest share of a quota window (day or month) used, in percent, of the tokens counted once; absent without a quota.',
            },
            gateway: withDayTokens(usageSchema.properties?.gateway),
            cloudWatch: withDayTokens(usageSchema.properties?.cloudWatch),
          },
        },
      },
    },
  },
};
