/** IAM policy document types and comparison. */

/** One IAM statement. */
export interface Statement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Principal?: Record<string, string | string[]>;
  Action: string | string[];
  Resource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** An IAM policy document. */
export interface PolicyDocument {
  Version: '2012-10-17';
  Statement: Statement[];
}

/** A document from its statements. */
export function policy(...statements: Statement[]): PolicyDocument {
  return { Version: '2012-10-17', Statement: statements };
}

/** Parses a document as IAM returns it (URL-encoded JSON) or as given (JSON). */
export function parsePolicy(text: string | undefined): unknown {
  if (!text) return undefined;
  const decoded = text.trimStart().startsWith('{') ? text : decodeURIComponent(text);
  return JSON.parse(decoded) as unknown;
}

/** Canonical form for comparing documents: single values as one-element lists, keys sorted. */
export function canonical(doc: unknown): string {
  const norm = (v: unknown, key?: string): unknown => {
    if (Array.isArray(v)) {
      const items = v.map((x) => norm(x));
      return key === 'Statement'
        ? items
        : items
            .map((x) => JSON.stringify(x))
            .sort()
            .map((x) => JSON.parse(x) as unknown);
    }
    if (v && typeof v === 'object') {
      const out: Record<string, unknown> = {};
      for (const k of Object.keys(v).sort()) {
        const child = (v as Record<string, unknown>)[k];
        out[k] = ['Action', 'Resource', 'NotAction', 'NotResource'].includes(k) && typeof child === 'string' ? [child] : norm(child, k);
      }
      return out;
    }
    return v;
  };
  return JSON.stringify(norm(doc));
}

/** Whether two documents say the same thing. */
export function samePolicy(a: unknown, b: unknown): boolean {
  return canonical(a) === canonical(b);
}
