/**
 * Server-side SigV4 verification for the fakes: the request is signed again with the caller's
 * secret, the date and scope it claims and exactly the headers it says it signed, and the
 * signatures must match.
 */
import { Sha256 } from '@aws-crypto/sha256-js';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import type { FakeRequest } from './http.js';

/** A known caller: its secret and the IAM principal its requests act as. */
export interface FakeCredential {
  secretAccessKey: string;
  /** e.g. `arn:aws:iam::123456789012:role/rag-operator` (the role an assumed-role session maps to). */
  principalArn: string;
}

/** The callers the fakes accept by default: moto's dummy `testing` key acting as the operator role. */
export const DEFAULT_CREDENTIALS: Record<string, FakeCredential> = {
  testing: { secretAccessKey: 'testing', principalArn: 'arn:aws:iam::123456789012:role/rag-operator' },
};

/** The outcome of verifying one request. */
export type SigV4Result =
  | { ok: true; accessKeyId: string; principalArn: string; region: string; service: string }
  | { ok: false; reason: 'missing' | 'malformed' | 'unknown-key' | 'wrong-service' | 'bad-signature'; message: string };

const AUTH_RE =
  /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([^/]+)\/([^/]+)\/aws4_request, ?SignedHeaders=([^,]+), ?Signature=([0-9a-f]{64})$/;

/** SHA-256 hex of a body, as in `x-amz-content-sha256`. */
export function sha256Hex(body: Buffer | string): string {
  return createHash('sha256').update(body).digest('hex');
}

/** Verifies the SigV4 `Authorization` header of `req` for `service`. */
export async function verifySigV4(req: FakeRequest, service: string, creds: Record<string, FakeCredential>): Promise<SigV4Result> {
  const auth = req.headers.authorization;
  if (!auth) return { ok: false, reason: 'missing', message: 'Missing Authentication Token' };
  const m = AUTH_RE.exec(auth);
  const amzDate = req.headers['x-amz-date'];
  if (!m || !amzDate || !/^\d{8}T\d{6}Z$/.test(amzDate))
    return { ok: false, reason: 'malformed', message: 'Authorization header requires SigV4' };
  const [, accessKeyId = '', , region = '', signedService = '', signedList = '', signature = ''] = m;
  if (signedService !== service) {
    return { ok: false, reason: 'wrong-service', message: `Credential should be scoped to correct service: '${service}'.` };
  }
  const cred = creds[accessKeyId];
  if (!cred) return { ok: false, reason: 'unknown-key', message: 'The security token included in the request is invalid.' };
  const names = signedList.split(';');
  const headers: Record<string, string> = {};
  for (const n of names) headers[n] = req.headers[n] ?? '';
  const signingDate = new Date(
    `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`,
  );
  const signer = new SignatureV4({
    service,
    region,
    sha256: Sha256,
    applyChecksum: false,
    credentials: { accessKeyId, secretAccessKey: cred.secretAccessKey },
  });
  const host = headers.host ?? '';
  const signed = await signer.sign(
    {
      method: req.method,
      protocol: 'http:',
      hostname: host.split(':')[0] ?? '',
      path: req.rawPath,
      query: req.query,
      headers,
      body: req.body,
    },
    { signingDate, signingRegion: region, signingService: service, signableHeaders: new Set(names) },
  );
  const expected = /Signature=([0-9a-f]{64})/.exec(String(signed.headers.authorization))?.[1];
  if (expected !== signature) {
    return {
      ok: false,
      reason: 'bad-signature',
      message: 'The request signature we calculated does not match the signature you provided.',
    };
  }
  return { ok: true, accessKeyId, principalArn: cred.principalArn, region, service };
}
