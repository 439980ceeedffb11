/**
 * botocore's `pattern` values are Java regular expressions, matched by AWS against the whole
 * value (IAM refuses the role name `a b` for `[\w+=,.@-]+`). They are translated to JavaScript
 * once each and cached; one that cannot be translated faithfully is reported as unchecked rather
 * than guessed at.
 */

/** Java's POSIX-style classes, as JavaScript class bodies (ASCII, as Java's defaults are). */
const POSIX: Record<string, string> = {
  Lower: 'a-z',
  Upper: 'A-Z',
  ASCII: '\\x00-\\x7F',
  Alpha: 'a-zA-Z',
  Digit: '0-9',
  Alnum: 'a-zA-Z0-9',
  Punct: '!-\\/:-@\\[-`{-~',
  Graph: '!-~',
  Print: ' -~',
  Blank: ' \\t',
  Cntrl: '\\x00-\\x1F\\x7F',
  XDigit: '0-9a-fA-F',
  Space: ' \\t\\n\\x0B\\f\\r',
};

/** Why a pattern could not be used, or the compiled expression. */
export type CompiledPattern = { re: RegExp } | { unchecked: string };

const cache = new Map<string, CompiledPattern>();

/** Rewrites the Java-only parts of a pattern into JavaScript; throws when it cannot. */
export function translateJavaRegex(java: string): string {
  let out = '';
  let inClass = 0;
  for (let i = 0; i < java.length; i++) {
    const c = java[i] ?? '';
    if (c === '\\') {
      const n = java[i + 1] ?? '';
      i++;
      if (n === 'p' || n === 'P') {
        const m = /^\{(?:Is)?([A-Za-z_]+)\}/.exec(java.slice(i + 1));
        if (!m?.[1]) throw new Error(`\\${n} without a name`);
        const name = m[1];
        i += m[0].length;
        const posix = POSIX[name];
        if (posix) {
          out += inClass ? posix : `[${n === 'P' ? '^' : ''}${posix}]`;
          if (inClass && n === 'P') throw new Error(`negated POSIX class \\P{${name}} inside a class`);
        } else if (/^(L|Lu|Ll|Lt|Lm|Lo|M|Mn|Mc|Me|N|Nd|Nl|No|P|Pc|Pd|Ps|Pe|Pi|Pf|Po|S|Sm|Sc|Sk|So|Z|Zs|Zl|Zp|C|Cc|Cf|Co|Cn)$/.test(name)) {
          out += `\\${n}{${name}}`;
        } else if (/^(Alphabetic|Letter|Digit|Punctuation|White_Space|Ideographic)$/.test(name)) {
          const map: Record<string, string> = {
            Alphabetic: 'Alphabetic',
            Letter: 'L',
            Digit: 'Nd',
            Punctuation: 'P',
            White_Space: 'White_Space',
            Ideographic: 'Ideographic',
          };
          out += `\\${n}{${map[name] ?? name}}`;
        } else {
          throw new Error(`unknown class \\${n}{${name}}`);
        }
        continue;
      }
      if (n === 'A') out += '^';
      else if (n === 'z' || n === 'Z') out += '$';
      else if (n === 'h') out += inClass ? ' \\t\\xA0' : '[ \\t\\xA0]';
      else if (n === 'Q') {
        const end = java.indexOf('\\E', i + 1);
        const lit = java.slice(i + 1, end < 0 ? undefined : end);
        out += lit.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');
        i = end < 0 ? java.length : end + 1;
      } else if (/[dDwWsSbBtnrfvu0xcek1-9]/.test(n)) out += `\\${n}`;
      else if (/[\\^$.*+?()[\]{}|/]/.test(n) || (n === '-' && inClass)) out += `\\${n}`;
      // Java allows escaping any other punctuation; JavaScript's unicode mode does not.
      else if (/[^A-Za-z0-9]/.test(n)) out += n === '-' ? '\\x2D' : n;
      else throw new Error(`unknown escape \\${n}`);
      continue;
    }
    if (c === '[') {
      if (inClass) throw new Error('nested class (Java union)');
      inClass++;
      out += c;
      continue;
    }
    if (c === ']' && inClass) {
      inClass--;
      out += c;
      continue;
    }
    if (inClass && c === '&' && java[i + 1] === '&') throw new Error('class intersection (&&)');
    if (!inClass && (c === '+' || c === '*' || c === '?' || c === '}') && java[i + 1] === '+') throw new Error('possessive quantifier');
    if (!inClass && c === '(' && java[i + 1] === '?' && /[a-zA-Z]/.test(java[i + 2] ?? '') && !/^\(\?<[A-Za-z]/.test(java.slice(i)))
      throw new Error('inline flags');
    out += c;
  }
  return out;
}

/** The pattern compiled to match whole values, or why it is left unchecked. */
export function compilePattern(java: string): CompiledPattern {
  const hit = cache.get(java);
  if (hit) return hit;
  let compiled: CompiledPattern;
  try {
    const js = translateJavaRegex(java);
    let re: RegExp;
    try {
      re = new RegExp(`^(?:${js})$`, 'u');
    } catch (e) {
      // Without the unicode flag JavaScript takes lone braces and odd escapes as Java does.
      if (/\\[pP]\{/.test(js)) throw e;
      re = new RegExp(`^(?:${js})$`);
    }
    compiled = { re };
  } catch (e) {
    compiled = { unchecked: (e as Error).message };
  }
  cache.set(java, compiled);
  return compiled;
}
