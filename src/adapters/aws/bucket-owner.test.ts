/**
 * Every S3 command the operator sends carries the operator's account as the expected bucket
 * owner, as S3 receives it (the header on the wire), so a bucket of another account is refused.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readdir, readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import * as s3sdk from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pinBucketOwner } from './bucket-owner.js';

const seen: { method?: string; url?: string; headers: IncomingHttpHeaders }[] = [];
let server: Server;
let endpoint = '';

beforeAll(async () => {
  server = createServer((req, res) => {
    seen.push({ method: req.method, url: req.url, headers: req.headers });
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'content-type': 'application/xml' });
      res.end();
    });
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((ok) => server.close(() => ok())));

/** The S3 commands the operator's source sends (every file importing the S3 client). */
async function sentCommands(): Promise<string[]> {
  const dir = fileURLToPath(new URL('../../', import.meta.url));
  const files = (await readdir(dir, { recursive: true })).filter((f) => f.endsWith('.ts') && !f.endsWith('.test.ts'));
  const names = new Set<string>();
  for (const f of files) {
    const text = await readFile(`${dir}${f}`, 'utf8');
    if (!text.includes("from '@aws-sdk/client-s3'")) continue;
    // Files building several clients (clients.ts) send other services' commands too.
    for (const m of text.matchAll(/new (\w+Command)\(/g)) if (m[1] && m[1] in s3sdk) names.add(m[1]);
  }
  return [...names].sort();
}

/** An S3 client aimed at the recording server, pinned to account 111122223333. */
function pinnedClient(): s3sdk.S3Client {
  const s3 = new s3sdk.S3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    maxAttempts: 1,
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
  });
  pinBucketOwner(s3, () => Promise.resolve('111122223333'));
  return s3;
}

describe('pinBucketOwner', () => {
  it('sends x-amz-expected-bucket-owner with every S3 command the operator uses but CreateBucket', async () => {
    const s3 = pinnedClient();
    const commands = await sentCommands();
    expect(commands.length).toBeGreaterThan(15);
    const missing: string[] = [];
    for (const name of commands) {
      const Command = (s3sdk as unknown as Record<string, new (input: object) => s3sdk.HeadBucketCommand>)[name];
      if (!Command) throw new Error(`${name} is not an S3 command`);
      seen.length = 0;
      const input = { Bucket: 'rag-prod-t-acme', Key: 'tenants/acme/a.txt', Delete: { Objects: [{ Key: 'x' }] }, Body: 'x' };
      await s3.send(new Command(input)).catch(() => undefined);
      const owner = seen[0]?.headers['x-amz-expected-bucket-owner'];
      // Every command reached the server: a header missing because nothing was sent counts for nothing.
      expect(seen, name).toHaveLength(1);
      if (name === 'CreateBucketCommand') expect(owner, name).toBeUndefined();
      else if (owner !== '111122223333') missing.push(name);
    }
    expect(missing).toEqual([]);
    s3.destroy();
  });

  it('leaves a caller-set owner to the pinned one: the account cannot be widened per call', async () => {
    const s3 = pinnedClient();
    seen.length = 0;
    await s3.send(new s3sdk.HeadBucketCommand({ Bucket: 'b', ExpectedBucketOwner: '999999999999' })).catch(() => undefined);
    expect(seen[0]?.headers['x-amz-expected-bucket-owner']).toBe('111122223333');
    s3.destroy();
  });
});
