/**
 * What the controllers ask of AWS, outside the drivers, about data kept by tenants deleted with
 * `deletionPolicy: Retain`: whose documents are still in a tier's bucket, and marking a tier's
 * key as still encrypting a retained bucket.
 */

/** Questions and marks about retained tenant data. */
export interface RetainedData {
  /** Names of tenants whose documents are still in a shared tier bucket (under `tenants/<name>/`). */
  tenantsWithDocuments(bucket: string, signal: AbortSignal): Promise<string[]>;
  /** Records on a tier's KMS key that a tenant deleted with Retain left a bucket the key encrypts. */
  markKeyRetained(keyArn: string, tenant: string, bucket: string, signal: AbortSignal): Promise<void>;
}
