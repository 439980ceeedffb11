/** TypeScript types of the custom resources, generated from the CRD schemas plus object metadata. */
import type { V1ObjectMeta } from '@kubernetes/client-node';
import type { GeneratedKinds } from './types.generated.js';

export type * from './types.generated.js';
export type { Condition } from './types.generated.js';

/** Metadata every stored object has. */
export type ObjectMeta = V1ObjectMeta & { name: string };

/** A custom resource of the given kind with its metadata. */
export type Resource<K extends string, B> = { apiVersion: string; kind: K; metadata: ObjectMeta } & B;

/** A TenantTier object. */
export type TenantTier = Resource<'TenantTier', GeneratedKinds['TenantTierBody']>;
/** A Tenant object. */
export type Tenant = Resource<'Tenant', GeneratedKinds['TenantBody']>;
/** A ModelAccess object. */
export type ModelAccess = Resource<'ModelAccess', GeneratedKinds['ModelAccessBody']>;
/** Any of the three. */
export type AnyResource = TenantTier | Tenant | ModelAccess;
