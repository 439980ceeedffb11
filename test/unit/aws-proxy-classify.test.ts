/**
 * The test proxy names EKS's REST-JSON operations by method and path, so the benchmark's EKS rate
 * (one budget per operation) and its call counts apply to each Pod Identity operation apart.
 */
import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { classify } from '../support/aws-proxy.js';

const eks = (method: string, url: string): IncomingMessage =>
  ({
    method,
    url,
    headers: { authorization: 'AWS4-HMAC-SHA256 Credential=AKID/20261205/us-east-1/eks/aws4_request, SignedHeaders=host, Signature=x' },
  }) as unknown as IncomingMessage;

describe('EKS operations in the test proxy', () => {
  it.each([
    ['POST', '/clusters/prod/pod-identity-associations', 'CreatePodIdentityAssociation'],
    ['GET', '/clusters/prod/pod-identity-associations?namespace=a&serviceAccount=app', 'ListPodIdentityAssociations'],
    ['GET', '/clusters/prod/pod-identity-associations/a-123', 'DescribePodIdentityAssociation'],
    ['POST', '/clusters/prod/pod-identity-associations/a-123', 'UpdatePodIdentityAssociation'],
    ['DELETE', '/clusters/prod/pod-identity-associations/a-123', 'DeletePodIdentityAssociation'],
    ['POST', '/tags/arn%3Aaws%3Aeks%3Aus-east-1%3A1%3Apodidentityassociation%2Fprod%2Fa-123', 'TagResource'],
  ])('%s %s is %s', (method, url, operation) => {
    expect(classify(eks(method, url), Buffer.alloc(0))).toEqual({ service: 'eks', operation });
  });
});
