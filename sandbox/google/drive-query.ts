import { GoogleError } from './errors.ts';
import type { DriveFile } from './state.ts';

/**
 * Drive's `q` search language, the subset integrations use: `'<id>' in parents`, `'<email>' in owners|writers|readers`,
 * `name = | != | contains '...'`, `mimeType = | != '...'`, `trashed = true|false`, `starred`, `modifiedTime`/`createdTime`
 * with = != < <= > >= and an RFC 3339 value, `fullText contains`, `properties has { key='k' and value='v' }`
 * (also appProperties), combined with and / or / not and parentheses.
 */

type Tok = { t: 'str' | 'word' | 'op' | 'lp' | 'rp' | 'lb' | 'rb'; v: string };
export type FilePredicate = (f: DriveFile) => boolean;

const invalid = (why: string) =>
  new GoogleError(400, 'invalid', `Invalid Value`, { location: 'q', locationType: 'parameter', message: `Invalid Value: ${why}` });

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const c = q[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (c === "'") {
      let s = '';
      i++;
      while (i < q.length && q[i] !== "'") {
        if (q[i] === '\\' && i + 1 < q.length) i++;
        s += q[i++];
      }
      if (q[i] !== "'") throw invalid('unterminated string');
      i++;
      out.push({ t: 'str', v: s });
    } else if (c === '(') {
      out.push({ t: 'lp', v: c });
      i++;
    } else if (c === ')') {
      out.push({ t: 'rp', v: c });
      i++;
    } else if (c === '{') {
      out.push({ t: 'lb', v: c });
      i++;
    } else if (c === '}') {
      out.push({ t: 'rb', v: c });
      i++;
    } else if (/[=!<>]/.test(c)) {
      const two = q.slice(i, i + 2);
      const op = ['!=', '<=', '>='].includes(two) ? two : c;
      if (op === '!') throw invalid('bad operator');
      out.push({ t: 'op', v: op });
      i += op.length;
    } else {
      let w = '';
      while (i < q.length && /[A-Za-z0-9_.\-:]/.test(q[i]!)) w += q[i++];
      if (!w) throw invalid(`unexpected ${c}`);
      out.push({ t: 'word', v: w });
    }
  }
  return out;
}

export function parseDriveQuery(q: string, helpers: { resolveParent: (id: string) => string }): FilePredicate {
  const toks = tokenize(q);
  let i = 0;
  const peek = () => toks[i];
  const next = () => {
    const t = toks[i++];
    if (!t) throw invalid('unexpected end');
    return t;
  };
  const isWord = (w: string) => peek()?.t === 'word' && peek()!.v.toLowerCase() === w;

  const expr = (): FilePredicate => {
    let left = conj();
    while (isWord('or')) {
      i++;
      const l = left,
        r = conj();
      left = (f) => l(f) || r(f);
    }
    return left;
  };
  const conj = (): FilePredicate => {
    let left = unary();
    while (isWord('and')) {
      i++;
      const l = left,
        r = unary();
      left = (f) => l(f) && r(f);
    }
    return left;
  };
  const unary = (): FilePredicate => {
    if (isWord('not')) {
      i++;
      const p = unary();
      return (f) => !p(f);
    }
    if (peek()?.t === 'lp') {
      i++;
      const p = expr();
      if (next().t !== 'rp') throw invalid('missing )');
      return p;
    }
    return comparison();
  };
  const literal = (t: Tok): string | boolean => {
    if (t.t === 'str') return t.v;
    if (t.t === 'word' && (t.v === 'true' || t.v === 'false')) return t.v === 'true';
    throw invalid(`expected a value, got ${t.v}`);
  };
  const comparison = (): FilePredicate => {
    const a = next();
    if (a.t === 'str') {
      const op = next();
      if (op.t !== 'word' || op.v.toLowerCase() !== 'in') throw invalid('expected in');
      const field = next().v;
      const v = a.v;
      if (field === 'parents') {
        const id = helpers.resolveParent(v);
        return (f) => f.parents.includes(id);
      }
      if (field === 'owners') return (f) => !f.driveId && f.owner === v.toLowerCase();
      if (field === 'writers')
        return (f) =>
          f.owner === v.toLowerCase() ||
          f.permissions.some(
            (p) => p.emailAddress === v.toLowerCase() && ['writer', 'organizer', 'fileOrganizer', 'owner'].includes(p.role),
          );
      if (field === 'readers') return (f) => f.permissions.some((p) => p.emailAddress === v.toLowerCase());
      throw invalid(`unknown collection ${field}`);
    }
    if (a.t !== 'word') throw invalid(`unexpected ${a.v}`);
    const field = a.v;
    const opTok = next();
    const op = opTok.v.toLowerCase();
    if (op === 'has' && (field === 'properties' || field === 'appProperties')) {
      if (next().t !== 'lb') throw invalid('expected {');
      const want: Record<string, string> = {};
      while (peek() && peek()!.t !== 'rb') {
        const k = next().v;
        if (next().v !== '=') throw invalid('expected =');
        want[k] = String(literal(next()));
        if (isWord('and')) i++;
      }
      next();
      return (f) => (f[field] ?? {})[want.key!] === want.value;
    }
    const val = literal(next());
    const cmp = (x: string | number, y: string | number): boolean => {
      switch (op) {
        case '=':
          return x === y;
        case '!=':
          return x !== y;
        case '<':
          return x < y;
        case '<=':
          return x <= y;
        case '>':
          return x > y;
        case '>=':
          return x >= y;
        default:
          throw invalid(`operator ${op} not allowed for ${field}`);
      }
    };
    switch (field) {
      case 'name':
        if (op === 'contains') return (f) => f.name.toLowerCase().includes(String(val).toLowerCase());
        return (f) => cmp(f.name, String(val));
      case 'mimeType':
        if (op === 'contains') return (f) => f.mimeType.includes(String(val));
        return (f) => cmp(f.mimeType, String(val));
      case 'fullText':
        if (op !== 'contains') throw invalid('fullText supports contains only');
        return (f) =>
          `${f.name} ${f.description ?? ''} ${f.content?.subarray(0, 100_000).toString('utf8') ?? ''}`
            .toLowerCase()
            .includes(String(val).toLowerCase());
      case 'trashed':
      case 'starred':
        if (typeof val !== 'boolean' || (op !== '=' && op !== '!=')) throw invalid(`${field} takes = or != and true/false`);
        return field === 'trashed'
          ? (f) => (op === '=' ? f.trashed === val : f.trashed !== val)
          : (f) => (op === '=' ? val === false : val !== false);
      case 'modifiedTime':
      case 'createdTime': {
        const t = Date.parse(String(val));
        if (Number.isNaN(t)) throw invalid(`bad date ${String(val)}`);
        return (f) => cmp(Date.parse(f[field]), t);
      }
      default:
        throw invalid(`unknown field ${field}`);
    }
  };
  const p = expr();
  if (i !== toks.length) throw invalid(`unexpected ${toks[i]!.v}`);
  return p;
}
