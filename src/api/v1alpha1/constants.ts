/** Every string of the operator's API: group, kinds, condition types and reasons, keys. */

/** API group of the custom resources. */
export const GROUP = 'rag.tenancy.dev';
/** API version served. */
export const VERSION = 'v1alpha1';
/** apiVersion field value. */
export const API_VERSION = `${GROUP}/${VERSION}`;

/** Kinds and their plural resource names. */
export const KINDS = {
  TenantTier: { kind: 'TenantTier', plural: 'tenanttiers' },
  Tenant: { kind: 'Tenant', plural: 'tenants' },
  ModelAccess: { kind: 'ModelAccess', plural: 'modelaccesses' },
} as const;
/** One of the three kinds. */
export type KindName = keyof typeof KINDS;

/** Finalizer that keeps an object until its AWS resources are gone or released. */
export const FINALIZER = `${GROUP}/cleanup`;
/** Field manager of every write the operator makes (status, finalizers). */
export const FIELD_MANAGER = 'tenant-rag-operator';

/** Annotations users set. */
export const ANNOTATIONS = {
  syncRequestedAt: `${GROUP}/sync-requested-at`,
  reconcileRequestedAt: `${GROUP}/reconcile-requested-at`,
  /** "true": take over the AWS resources a deleted object of the same name left (deletionPolicy Retain). */
  adoptRetained: `${GROUP}/adopt-retained`,
} as const;

/** Condition types. */
export const CONDITION = {
  Ready: 'Ready',
  StorageReady: 'StorageReady',
  IdentityReady: 'IdentityReady',
  VectorStoreReady: 'VectorStoreReady',
  KnowledgeBaseReady: 'KnowledgeBaseReady',
  IngestionReady: 'IngestionReady',
  ConnectionReady: 'ConnectionReady',
  ModelApproved: 'ModelApproved',
  ModelLifecycle: 'ModelLifecycle',
  QuotaExceeded: 'QuotaExceeded',
  Throttled: 'Throttled',
  /** ModelAccess: its inference profile and the tenant role's policy for it are in place. */
  AccessGranted: 'AccessGranted',
  /** Every kind: whether the last pass could do its job (False: an error from AWS or Kubernetes, named). */
  Synced: 'Synced',
  /** Tenant: its tier is being deleted and waits for its tenants; the tenant's stack still works. */
  TierDeleting: 'TierDeleting',
} as const;

/** Condition reasons. Each names a state a user can act on. */
export const REASON = {
  Reconciled: 'Reconciled',
  PrincipalNotAllowed: 'PrincipalNotAllowed',
  /** A resource with this object's name was left by a deleted predecessor (Retain); not adopted without the annotation. */
  RetainedResourcesFound: 'RetainedResourcesFound',
  /** The bucket with this object's name belongs to another AWS account (or S3 refuses it to this one). */
  BucketOwnedElsewhere: 'BucketOwnedElsewhere',
  /** Status records resources named by an earlier version under another name prefix; nothing is touched. */
  ResourceNamesChanged: 'ResourceNamesChanged',
  /** Another Tenant already uses this namespace and service account for Pod Identity. */
  IdentityConflict: 'IdentityConflict',
  /** spec.access.podIdentity needs the operator's eksClusterArn setting. */
  ClusterArnRequired: 'ClusterArnRequired',
  /** A tier with tenantRoles Shared gives its tenants access through Pod Identity only, not spec.access.principals. */
  SharedRoleNeedsPodIdentity: 'SharedRoleNeedsPodIdentity',
  /** A Shared tier's tenant's session policy (its prefix, key and model grants) is over EKS's size. */
  SessionPolicyTooLarge: 'SessionPolicyTooLarge',
  ResourceReady: 'Ready',
  Creating: 'Creating',
  Updating: 'Updating',
  Deleting: 'Deleting',
  Deleted: 'Deleted',
  TierDeleting: 'TierDeleting',
  TierMissing: 'TierMissing',
  Suspended: 'Suspended',
  TierNotFound: 'TierNotFound',
  TierNotReady: 'TierNotReady',
  TierFull: 'TierFull',
  TierInUse: 'TierInUse',
  RetainedTenantData: 'RetainedTenantData',
  NamespaceNotFound: 'NamespaceNotFound',
  /** Tenant: the outputs ConfigMap exists and is not this tenant's; the operator leaves it alone. */
  ConfigMapConflict: 'ConfigMapConflict',
  /** Tenant: spec.connection.namespace is neither the tenant's own nor allowed by the operator's config. */
  ConnectionNamespaceNotAllowed: 'ConnectionNamespaceNotAllowed',
  Published: 'Published',
  OverrideNotAllowed: 'OverrideNotAllowed',
  /** Tenant: its dimensions are not an output of its embedding model (its own or its tier's). */
  DimensionsNotSupported: 'DimensionsNotSupported',
  TenantNotFound: 'TenantNotFound',
  TenantDeleting: 'TenantDeleting',
  TenantNotReady: 'TenantNotReady',
  ModelNotApproved: 'ModelNotApproved',
  ModelApproved: 'ModelApproved',
  // ModelAccess: lifecycle, duplicates, revocation, quota and throttling.
  ModelActive: 'Active',
  ModelLegacy: 'Legacy',
  ModelEndOfLife: 'ModelEndOfLife',
  LifecycleUnknown: 'LifecycleUnknown',
  DuplicateGrant: 'DuplicateGrant',
  AccessRevoked: 'AccessRevoked',
  NoQuota: 'NoQuota',
  WithinQuota: 'WithinQuota',
  DailyQuotaExceeded: 'DailyQuotaExceeded',
  MonthlyQuotaExceeded: 'MonthlyQuotaExceeded',
  NotThrottled: 'NotThrottled',
  AlertOnly: 'AlertOnly',
  TenantSuspended: 'TenantSuspended',
  InferenceProfileQuotaReached: 'InferenceProfileQuotaReached',
  InvalidModelSource: 'InvalidModelSource',
  RoleNotFound: 'RoleNotFound',
  PolicySizeExceeded: 'PolicySizeExceeded',
  /** A vector index exists with settings fixed at creation (dimension, metric, metadata keys, key) other than wanted. */
  IndexMismatch: 'IndexMismatch',
  /** An S3 Vectors bucket exists with an encryption (fixed at creation) other than wanted. */
  VectorBucketMismatch: 'VectorBucketMismatch',
  /** An S3 Vectors bucket cannot be deleted yet: it still holds vector indexes. */
  VectorBucketNotEmpty: 'VectorBucketNotEmpty',
  /** Synced=True: the last pass ran without an error. */
  ReconcileSuccess: 'ReconcileSuccess',
  /** Synced=False: an error the operator does not know (a bug: see its log). */
  ReconcileError: 'ReconcileError',
  /** Synced=False: AWS denied a call (IAM policy, permissions boundary, SCP, key or resource policy). */
  AccessDenied: 'AccessDenied',
  /** Synced=False: AWS refused a request as invalid. */
  InvalidRequest: 'InvalidRequest',
  /** Synced=False: another AWS error, or a retryable one that persisted. */
  AWSError: 'AWSError',
  /** Synced=False: the Kubernetes API refused or failed a call. */
  KubernetesError: 'KubernetesError',
} as const;

/** Event reasons. Events are emitted on mutations and transitions only. */
export const EVENT_REASON = {
  Ready: 'Ready',
  NotReady: 'NotReady',
  Deleted: 'Deleted',
  RetainedInAWS: 'RetainedInAWS',
  ModelLegacy: 'ModelLegacy',
  ModelEndOfLife: 'ModelEndOfLife',
  AccessRevoked: 'AccessRevoked',
  QuotaExceeded: 'QuotaExceeded',
  QuotaRestored: 'QuotaRestored',
  Throttled: 'Throttled',
  Unthrottled: 'Unthrottled',
} as const;

/**
 * The embedding models the operator knows: the vector dimensions each can output and the one it
 * outputs by default. The schema's enum and CEL rules, tenant admission and the default settings
 * all read this table.
 */
export const EMBEDDING_MODELS: Readonly<Record<string, { readonly default: number; readonly outputs: readonly number[] }>> = {
  'amazon.titan-embed-text-v2:0': { default: 1024, outputs: [256, 512, 1024] },
  'amazon.titan-embed-text-v1': { default: 1536, outputs: [1536] },
  'cohere.embed-english-v3': { default: 1024, outputs: [1024] },
  'cohere.embed-multilingual-v3': { default: 1024, outputs: [1024] },
};

/** Bedrock's own metadata keys: its chunk text and metadata exceed S3 Vectors' 2 KB of filterable metadata. */
export const BEDROCK_NON_FILTERABLE = ['AMAZON_BEDROCK_TEXT', 'AMAZON_BEDROCK_METADATA'] as const;

/** The embedding model used when neither tier nor tenant names one. */
export const DEFAULT_EMBEDDING_MODEL = 'amazon.titan-embed-text-v2:0';

/** Labels and tag keys the operator sets. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  tenant: `${GROUP}/tenant`,
} as const;
