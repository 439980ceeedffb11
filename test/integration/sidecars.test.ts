/**
 * Pool-tenant metadata sidecars over the real S3 SDK against moto: written with the right body
 * and content type, orphans removed, a wrong tenant repaired, other tenants' prefixes untouched,
 * and a paged scan converging.
 */
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, ListObjectsV2Command, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { writeSidecars } from '../../src/ingestion/sidecars.js';
import { clientsFor } from '../support/aws.js';
import { type Moto, startMoto } from '../support/moto.js';
import { withModelCheck } from '../support/cluster.js';

let moto: Moto;
let s3: S3Client;
const bucket = 'pool-bucket';
const signal = new AbortController().signal;

beforeAll(async () => {
  moto = await withModelCheck(await startMoto(join(await mkdtemp(join(tmpdir(), 'tro-moto-')), 'moto.log')), 'moto');
  s3 = clientsFor(moto).s3;
});
beforeEach(async () => {
  await moto.reset();
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
});
afterAll(async () => {
  await moto?.stop();
});

async function put(key: string, body: string): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
}

async function get(key: string): Promise<{ body: string | undefined; type: string | undefined }> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  return { body: await out.Body?.transformToString(), type: out.ContentType };
}

async function keys(): Promise<string[]> {
  const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
  return (out.Contents ?? []).flatMap((c) => (c.Key ? [c.Key] : []));
}

describe('writeSidecars against moto', () => {
  it('writes, repairs and removes sidecars inside the tenant prefix only', async () => {
    await put('tenants/acme/a.pdf', 'A');
    await put('tenants/acme/docs/b.txt', 'B');
    await put('tenants/acme/docs/b.txt.metadata.json', '{"metadataAttributes":{"tenantId":"globex","dept":"hr"}}');
    await put('tenants/acme/gone.pdf.metadata.json', '{"metadataAttributes":{"tenantId":"acme"}}');
    await put('tenants/acme2/c.pdf', 'C');

    const r = await writeSidecars(s3, bucket, 'tenants/acme/', 'acme', signal);
    expect(r).toEqual({ scanned: 4, written: 1, repaired: 1, removed: 1 });
    expect(await get('tenants/acme/a.pdf.metadata.json')).toEqual({
      body: '{"metadataAttributes":{"tenantId":"acme"}}',
      type: 'application/json',
    });
    expect(JSON.parse((await get('tenants/acme/docs/b.txt.metadata.json')).body ?? '')).toEqual({
      metadataAttributes: { tenantId: 'acme', dept: 'hr' },
    });
    expect(await keys()).toEqual([
      'tenants/acme/a.pdf',
      'tenants/acme/a.pdf.metadata.json',
      'tenants/acme/docs/b.txt',
      'tenants/acme/docs/b.txt.metadata.json',
      'tenants/acme2/c.pdf',
    ]);
    // Converged: nothing more to do.
    expect(await writeSidecars(s3, bucket, 'tenants/acme/', 'acme', signal)).toEqual({ scanned: 4, written: 0, repaired: 0, removed: 0 });
  });

  it('converges a page at a time', async () => {
    for (const k of ['a.pdf', 'a.pdf-2', 'b.pdf', 'c.pdf', 'd.pdf']) await put(`tenants/acme/${k}`, k);
    await put('tenants/acme/a.pdf.metadata.json', '{"metadataAttributes":{"tenantId":"acme","dept":"legal"}}');
    let startAfter: string | undefined;
    let written = 0;
    let calls = 0;
    do {
      const r = await writeSidecars(s3, bucket, 'tenants/acme/', 'acme', signal, { pageSize: 2, ...(startAfter ? { startAfter } : {}) });
      written += r.written;
      startAfter = r.startAfter;
      calls++;
    } while (startAfter && calls < 20);
    expect(written).toBe(4);
    expect(calls).toBeGreaterThan(2);
    expect((await get('tenants/acme/a.pdf.metadata.json')).body).toBe('{"metadataAttributes":{"tenantId":"acme","dept":"legal"}}');
    expect((await keys()).filter((k) => k.endsWith('.metadata.json'))).toHaveLength(5);
  });
});
