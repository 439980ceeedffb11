import { createHash } from 'node:crypto';
import {
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type PutObjectCommandInput,
  type S3Client,
} from '@aws-sdk/client-s3';
import { describe, expect, it } from 'vitest';
import { awsError } from './fake-port.js';
import { checkSidecar, planPage, sidecarBody, type ListedObject, type PagePlan } from './sidecar-plan.js';
import { writeSidecars, type SidecarOptions } from './sidecars.js';

/** An in-memory S3 bucket speaking the five commands writeSidecars uses, with conditional puts. */
class FakeBucket {
  readonly objects = new Map<string, { body: string; etag: string; contentType?: string }>();
  readonly calls: string[] = [];
  /** Simulates SSE-KMS, where ETags are not the MD5 of the body. */
  kmsEtags = false;
  /** Runs before each put, to race a concurrent writer. */
  beforePut: ((key: string) => void) | undefined;
  private n = 0;

  put(key: string, body: string, contentType?: string): void {
    const md5 = createHash('md5').update(body).digest('hex');
    const etag = `"${this.kmsEtags ? `kms${this.n++}` : md5}"`;
    this.objects.set(key, { body, etag, ...(contentType ? { contentType } : {}) });
  }

  body(key: string): string | undefined {
    return this.objects.get(key)?.body;
  }

  readonly client = {
    send: (cmd: object): Promise<unknown> => {
      this.calls.push(cmd.constructor.name);
      if (cmd instanceof ListObjectsV2Command) {
        const { Prefix = '', StartAfter, MaxKeys = 1000 } = cmd.input;
        const keys = [...this.objects.keys()].filter((k) => k.startsWith(Prefix) && (StartAfter === undefined || k > StartAfter)).sort();
        const page = keys.slice(0, MaxKeys);
        return Promise.resolve({
          Contents: page.map((k) => ({ Key: k, ETag: this.objects.get(k)?.etag, Size: this.objects.get(k)?.body.length })),
          IsTruncated: keys.length > MaxKeys,
        });
      }
      if (cmd instanceof HeadObjectCommand || cmd instanceof GetObjectCommand) {
        const o = this.objects.get(cmd.input.Key ?? '');
        if (!o) return Promise.reject(awsError(cmd instanceof HeadObjectCommand ? 'NotFound' : 'NoSuchKey', 404));
        return Promise.resolve({ ETag: o.etag, ContentLength: o.body.length, Body: { transformToString: () => Promise.resolve(o.body) } });
      }
      if (cmd instanceof PutObjectCommand) {
        const input: PutObjectCommandInput = cmd.input;
        const key = input.Key ?? '';
        this.beforePut?.(key);
        const existing = this.objects.get(key);
        if (input.IfNoneMatch === '*' && existing) return Promise.reject(awsError('PreconditionFailed', 412));
        if (input.IfMatch !== undefined && existing?.etag !== input.IfMatch) return Promise.reject(awsError('PreconditionFailed', 412));
        // writeSidecars always sends a string body.
        if (typeof input.Body !== 'string') return Promise.reject(new TypeError('fake S3 takes string bodies only'));
        this.put(key, input.Body, input.ContentType);
        return Promise.resolve({});
      }
      if (cmd instanceof DeleteObjectCommand) {
        this.objects.delete(cmd.input.Key ?? '');
        return Promise.resolve({});
      }
      return Promise.reject(new Error(`unexpected command ${cmd.constructor.name}`));
    },
  };

  get s3(): S3Client {
    return this.client as unknown as S3Client;
  }
}

const signal = new AbortController().signal;
const P = 'tenants/acme/';
const ours = sidecarBody('acme');

/** Calls writeSidecars until the scan is done, summing the counts. */
async function fullRound(b: FakeBucket, options: SidecarOptions = {}) {
  const total = { scanned: 0, written: 0, repaired: 0, removed: 0, calls: 0 };
  let startAfter: string | undefined;
  do {
    const r = await writeSidecars(b.s3, 'bucket', P, 'acme', signal, { ...options, ...(startAfter ? { startAfter } : {}) });
    total.scanned += r.scanned;
    total.written += r.written;
    total.repaired += r.repaired;
    total.removed += r.removed;
    total.calls++;
    startAfter = r.startAfter;
  } while (startAfter !== undefined && total.calls < 100);
  return total;
}

describe('planPage', () => {
  const o = (...keys: string[]): ListedObject[] => keys.map((key) => ({ key }));
  const empty: PagePlan = { create: [], verify: [], lookupSidecar: [], lookupSource: [], orphans: [] };
  it.each([
    { name: 'a document without a sidecar gets one', objects: o('a.pdf'), after: undefined, more: false, want: { create: ['a.pdf'] } },
    {
      name: 'a sidecar next to its document is verified',
      objects: o('a.pdf', 'a.pdf.metadata.json'),
      after: undefined,
      more: false,
      want: { verify: [{ key: 'a.pdf.metadata.json' }] },
    },
    {
      name: 'a sidecar without its document is an orphan',
      objects: o('b.pdf.metadata.json'),
      after: undefined,
      more: false,
      want: { orphans: ['b.pdf.metadata.json'] },
    },
    { name: 'folder markers are skipped', objects: o('dir/'), after: undefined, more: false, want: {} },
    {
      name: 'documents whose sidecar sorts after the page look it up when more pages remain',
      objects: o('a.pdf', 'a.pdf-2'),
      after: undefined,
      more: true,
      want: { lookupSidecar: ['a.pdf', 'a.pdf-2'] },
    },
    {
      name: 'a key between a document and its sidecar does not split the pair',
      objects: o('a.pdf', 'a.pdf-2', 'a.pdf.metadata.json'),
      after: undefined,
      more: false,
      want: { create: ['a.pdf-2'], verify: [{ key: 'a.pdf.metadata.json' }] },
    },
    {
      name: 'a sidecar whose document is on an earlier page looks it up',
      objects: o('a.pdf.metadata.json', 'z.pdf'),
      after: 'a.pdf-2',
      more: false,
      want: { lookupSource: ['a.pdf.metadata.json'], create: ['z.pdf'] },
    },
  ])('$name', ({ objects, after, more, want }) => {
    expect(planPage(objects, after, more)).toEqual({ ...empty, ...want });
  });
});

describe('checkSidecar', () => {
  it.each([
    { name: 'ours', text: ours, want: { ok: true } },
    { name: 'the tenant with extra attributes', text: '{"metadataAttributes":{"tenantId":"acme","year":2026}}', want: { ok: true } },
    {
      name: 'typed form naming the tenant',
      text: '{"metadataAttributes":{"tenantId":{"value":{"type":"STRING","stringValue":"acme"}}}}',
      want: { ok: true },
    },
    {
      name: 'another tenant (kept attributes)',
      text: '{"metadataAttributes":{"tenantId":"evil","dept":"hr"}}',
      want: { ok: false, body: '{"metadataAttributes":{"tenantId":"acme","dept":"hr"}}' },
    },
    {
      name: 'typed form naming another tenant',
      text: '{"metadataAttributes":{"tenantId":{"value":{"type":"STRING","stringValue":"evil"}}}}',
      want: {
        ok: false,
        body: '{"metadataAttributes":{"tenantId":{"value":{"type":"STRING","stringValue":"acme"},"includeForEmbedding":false}}}',
      },
    },
    {
      name: 'no tenant attribute',
      text: '{"metadataAttributes":{"dept":"hr"}}',
      want: { ok: false, body: '{"metadataAttributes":{"dept":"hr","tenantId":"acme"}}' },
    },
    { name: 'not JSON', text: 'hello', want: { ok: false, body: ours } },
    { name: 'JSON but not a sidecar', text: '[1,2]', want: { ok: false, body: ours } },
    { name: 'unread (too large)', text: undefined, want: { ok: false, body: ours } },
  ])('$name', ({ text, want }) => {
    expect(checkSidecar(text, 'acme')).toEqual(want);
  });
});

describe('writeSidecars', () => {
  it('writes a JSON sidecar for each document once', async () => {
    const b = new FakeBucket();
    b.put(`${P}a.pdf`, 'A');
    b.put(`${P}docs/b.txt`, 'B');
    const first = await writeSidecars(b.s3, 'bucket', P, 'acme', signal);
    expect(first).toEqual({ scanned: 2, written: 2, repaired: 0, removed: 0 });
    expect(b.objects.get(`${P}a.pdf.metadata.json`)).toMatchObject({ body: ours, contentType: 'application/json' });
    expect(b.body(`${P}docs/b.txt.metadata.json`)).toBe('{"metadataAttributes":{"tenantId":"acme"}}');
    b.calls.length = 0;
    expect(await writeSidecars(b.s3, 'bucket', P, 'acme', signal)).toEqual({ scanned: 4, written: 0, repaired: 0, removed: 0 });
    // Our own sidecars are recognised by their ETag: one list, no reads or writes.
    expect(b.calls).toEqual(['ListObjectsV2Command']);
  });

  it('repairs a sidecar naming another tenant and removes orphans, leaving other files alone', async () => {
    const b = new FakeBucket();
    b.put(`${P}a.pdf`, 'A');
    b.put(`${P}a.pdf.metadata.json`, '{"metadataAttributes":{"tenantId":"globex","dept":"hr"}}');
    b.put(`${P}gone.pdf.metadata.json`, ours);
    b.put(`${P}notes.metadata.json`, 'plain text that happens to end in .metadata.json');
    const r = await writeSidecars(b.s3, 'bucket', P, 'acme', signal);
    expect(r).toMatchObject({ written: 0, repaired: 1, removed: 1 });
    expect(JSON.parse(b.body(`${P}a.pdf.metadata.json`) ?? '')).toEqual({ metadataAttributes: { tenantId: 'acme', dept: 'hr' } });
    expect(b.objects.has(`${P}gone.pdf.metadata.json`)).toBe(false);
    expect(b.objects.has(`${P}notes.metadata.json`)).toBe(true);
  });

  it('stays inside the tenant prefix', async () => {
    const b = new FakeBucket();
    b.put('tenants/acme2/x.pdf', 'X');
    b.put('tenants/acme/y.pdf', 'Y');
    await writeSidecars(b.s3, 'bucket', 'tenants/acme', 'acme', signal);
    expect([...b.objects.keys()].sort()).toEqual(['tenants/acme/y.pdf', 'tenants/acme/y.pdf.metadata.json', 'tenants/acme2/x.pdf']);
    await expect(writeSidecars(b.s3, 'bucket', '', 'acme', signal)).rejects.toThrow(RangeError);
  });

  it('reads sidecars whose ETag is not an MD5 (SSE-KMS) and leaves correct ones alone', async () => {
    const b = new FakeBucket();
    b.kmsEtags = true;
    b.put(`${P}a.pdf`, 'A');
    b.put(`${P}a.pdf.metadata.json`, ours);
    expect(await writeSidecars(b.s3, 'bucket', P, 'acme', signal)).toEqual({ scanned: 2, written: 0, repaired: 0, removed: 0 });
    expect(b.calls).toEqual(['ListObjectsV2Command', 'GetObjectCommand']);
  });

  it('does not clobber a sidecar a tenant writes at the same moment', async () => {
    const b = new FakeBucket();
    b.put(`${P}a.pdf`, 'A');
    const theirs = '{"metadataAttributes":{"tenantId":"acme","dept":"legal"}}';
    b.beforePut = (key) => {
      if (key === `${P}a.pdf.metadata.json` && !b.objects.has(key)) b.put(key, theirs);
    };
    expect(await writeSidecars(b.s3, 'bucket', P, 'acme', signal)).toMatchObject({ written: 0 });
    expect(b.body(`${P}a.pdf.metadata.json`)).toBe(theirs);
  });

  it.each([1, 2, 3, 4, 5, 7, 1000])('converges one page at a time with %i keys per page', async (pageSize) => {
    const b = new FakeBucket();
    const docs = ['a.pdf', 'a.pdf-2', 'a.pdf-3', 'b.pdf', 'c/d.txt', 'e.md', 'f.pdf', 'g.pdf'].map((k) => P + k);
    for (const d of docs) b.put(d, 'x');
    const theirs = '{"metadataAttributes":{"tenantId":"acme","dept":"legal"}}';
    b.put(`${P}a.pdf.metadata.json`, theirs); // valid, straddles pages for small sizes
    b.put(`${P}b.pdf.metadata.json`, '{"metadataAttributes":{"tenantId":"globex"}}');
    b.put(`${P}zz-gone.pdf.metadata.json`, ours);
    b.put(`${P}e.md.metadata.json`, ours);

    const total = await fullRound(b, { pageSize });
    expect(total.written).toBe(5); // all 8 but a.pdf, b.pdf and e.md
    expect(total.repaired).toBe(1); // b.pdf
    expect(total.removed).toBe(1); // zz-gone
    for (const d of docs) expect(b.objects.has(`${d}.metadata.json`)).toBe(true);
    expect(b.body(`${P}a.pdf.metadata.json`)).toBe(theirs);
    expect(b.body(`${P}b.pdf.metadata.json`)).toBe(ours);
    expect(b.objects.has(`${P}zz-gone.pdf.metadata.json`)).toBe(false);

    // A second round changes nothing.
    expect(await fullRound(b, { pageSize })).toMatchObject({ written: 0, repaired: 0, removed: 0 });
  });

  it('handles several pages in one call when asked', async () => {
    const b = new FakeBucket();
    for (let i = 0; i < 10; i++) b.put(`${P}doc${i}.txt`, 'x');
    const r = await writeSidecars(b.s3, 'bucket', P, 'acme', signal, { pageSize: 4, maxPages: 2 });
    expect(r.scanned).toBe(8);
    expect(r.startAfter).toBeDefined();
    const rest = await writeSidecars(b.s3, 'bucket', P, 'acme', signal, {
      pageSize: 4,
      maxPages: 10,
      ...(r.startAfter ? { startAfter: r.startAfter } : {}),
    });
    expect(rest.startAfter).toBeUndefined();
    expect(r.written + rest.written).toBe(10);
  });
});
