import { faults } from './faults.ts';
import { entityType, type EntityType } from './state.ts';

/**
 * Intuit's query language, the subset real clients send:
 * `select * | count(*) from Entity [where f op v (and f op v)*] [orderby f [asc|desc][, …]] [startposition n] [maxresults n]`
 * with op one of = < > <= >= IN LIKE (LIKE with % wildcards). No OR, no joins, like Intuit.
 */
export type Op = '=' | '<' | '>' | '<=' | '>=' | 'IN' | 'LIKE';
export interface Condition {
  field: string;
  op: Op;
  value: unknown;
}
export interface Query {
  entity: EntityType;
  count: boolean;
  where: Condition[];
  orderBy: { field: string; desc: boolean }[];
  startPosition: number;
  maxResults: number;
}

type Tok = { kind: 'word' | 'str' | 'num' | 'op' | 'punct'; text: string; value?: unknown };

function tokenize(q: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < q.length) {
    const ch = q[i]!;
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    if (ch === "'") {
      let s = '';
      i++;
      for (;;) {
        if (i >= q.length) throw faults.badQuery('unterminated string literal');
        const c = q[i]!;
        if (c === '\\' && q[i + 1] === "'") {
          s += "'";
          i += 2;
          continue;
        }
        if (c === "'" && q[i + 1] === "'") {
          s += "'";
          i += 2;
          continue;
        }
        if (c === "'") {
          i++;
          break;
        }
        s += c;
        i++;
      }
      out.push({ kind: 'str', text: s, value: s });
      continue;
    }
    const op = /^(<=|>=|!=|<>|=|<|>)/.exec(q.slice(i));
    if (op) {
      out.push({ kind: 'op', text: op[1]! });
      i += op[1]!.length;
      continue;
    }
    if ('(),*'.includes(ch)) {
      out.push({ kind: 'punct', text: ch });
      i++;
      continue;
    }
    const num = /^-?\d+(\.\d+)?/.exec(q.slice(i));
    if (num && !/[A-Za-z_]/.test(q[i + num[0].length] ?? '')) {
      out.push({ kind: 'num', text: num[0], value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_.]*/.exec(q.slice(i));
    if (word) {
      out.push({ kind: 'word', text: word[0] });
      i += word[0].length;
      continue;
    }
    throw faults.badQuery(`unexpected character ${ch} at ${i}`);
  }
  return out;
}

export function parseQuery(text: string): Query {
  const t = tokenize(text);
  let i = 0;
  const peek = () => t[i];
  const kw = (w: string) => peek()?.kind === 'word' && peek()!.text.toLowerCase() === w;
  const expectKw = (w: string) => {
    if (!kw(w)) throw faults.badQuery(`expected ${w.toUpperCase()} near ${peek()?.text ?? 'end of query'}`);
    i++;
  };
  const punct = (p: string) => peek()?.kind === 'punct' && peek()!.text === p;

  expectKw('select');
  let count = false;
  if (punct('*')) i++;
  else if (kw('count')) {
    i++;
    if (!punct('(')) throw faults.badQuery('expected ( after COUNT');
    i++;
    if (!punct('*')) throw faults.badQuery('only COUNT(*) is supported');
    i++;
    if (!punct(')')) throw faults.badQuery('expected )');
    i++;
    count = true;
  } else {
    // A field list: accepted, all fields are returned (Intuit returns the listed ones plus Id, SyncToken, MetaData).
    while (peek() && !kw('from')) i++;
  }
  expectKw('from');
  const name = peek();
  if (name?.kind !== 'word') throw faults.badQuery('expected an entity name after FROM');
  const entity = entityType(name.text);
  if (!entity) throw faults.badQuery(`Invalid entity: ${name.text}`);
  i++;

  const where: Condition[] = [];
  if (kw('where')) {
    i++;
    for (;;) {
      const f = peek();
      if (f?.kind !== 'word') throw faults.badQuery('expected a property name in WHERE');
      i++;
      const o = peek();
      let op: Op;
      if (o?.kind === 'op') {
        if (o.text === '!=' || o.text === '<>') throw faults.badQuery(`operator ${o.text} is not supported`);
        op = o.text as Op;
        i++;
      } else if (o?.kind === 'word' && ['in', 'like'].includes(o.text.toLowerCase())) {
        op = o.text.toUpperCase() as Op;
        i++;
      } else throw faults.badQuery(`expected an operator after ${f.text}`);
      let value: unknown;
      if (op === 'IN') {
        if (!punct('(')) throw faults.badQuery('expected ( after IN');
        i++;
        const vals: unknown[] = [];
        while (!punct(')')) {
          const v = t[i++];
          if (!v) throw faults.badQuery('unterminated IN list');
          if (v.kind === 'punct' && v.text === ',') continue;
          vals.push(literal(v));
        }
        i++;
        value = vals;
      } else {
        const v = t[i++];
        if (!v) throw faults.badQuery(`expected a value after ${f.text} ${op}`);
        value = literal(v);
      }
      where.push({ field: f.text, op, value });
      if (kw('and')) {
        i++;
        continue;
      }
      if (kw('or')) throw faults.badQuery('OR is not supported');
      break;
    }
  }
  const orderBy: Query['orderBy'] = [];
  if (kw('orderby') || kw('order')) {
    if (kw('order')) {
      i++;
      expectKw('by');
    } else i++;
    for (;;) {
      const f = peek();
      if (f?.kind !== 'word') throw faults.badQuery('expected a property name in ORDERBY');
      i++;
      let desc = false;
      if (kw('desc')) {
        desc = true;
        i++;
      } else if (kw('asc')) i++;
      orderBy.push({ field: f.text, desc });
      if (punct(',')) {
        i++;
        continue;
      }
      break;
    }
  }
  let startPosition = 1;
  let maxResults = 100;
  while (peek()) {
    if (kw('startposition')) {
      i++;
      startPosition = intLiteral(t[i++], 'STARTPOSITION');
      continue;
    }
    if (kw('maxresults')) {
      i++;
      maxResults = intLiteral(t[i++], 'MAXRESULTS');
      continue;
    }
    throw faults.badQuery(`unexpected ${peek()!.text}`);
  }
  if (startPosition < 1) throw faults.badQuery('STARTPOSITION must be 1 or more');
  if (maxResults < 1 || maxResults > 1000) throw faults.badQuery('MAXRESULTS must be between 1 and 1000');
  return { entity, count, where, orderBy, startPosition, maxResults };
}

function literal(v: Tok): unknown {
  if (v.kind === 'str' || v.kind === 'num') return v.value;
  if (v.kind === 'word' && /^(true|false)$/i.test(v.text)) return v.text.toLowerCase() === 'true';
  throw faults.badQuery(`expected a value, found ${v.text}`);
}
function intLiteral(v: Tok | undefined, what: string): number {
  if (v?.kind !== 'num' || !Number.isInteger(v.value)) throw faults.badQuery(`${what} needs an integer`);
  return v.value as number;
}

/** The values of a (possibly dotted) property, through lists (AttachableRef.EntityRef.value); a *Ref compares by its value, like Intuit. */
export function fieldValues(obj: Record<string, unknown>, field: string): unknown[] {
  let cur: unknown[] = [obj];
  for (const part of field.split('.')) {
    const next: unknown[] = [];
    for (const c of cur.flatMap((x) => (Array.isArray(x) ? x : [x]))) {
      if (c === null || typeof c !== 'object') continue;
      const rec = c as Record<string, unknown>;
      const key = Object.keys(rec).find((k) => k.toLowerCase() === part.toLowerCase());
      if (key !== undefined && rec[key] !== undefined) next.push(rec[key]);
    }
    cur = next;
  }
  return cur
    .flatMap((x) => (Array.isArray(x) ? x : [x]))
    .map((v) => (v && typeof v === 'object' && 'value' in (v as Record<string, unknown>) ? (v as Record<string, unknown>).value : v));
}
export const fieldValue = (obj: Record<string, unknown>, field: string): unknown => fieldValues(obj, field)[0];

function compare(a: unknown, b: unknown): number {
  if (typeof a === 'number' || typeof b === 'number') {
    const x = Number(a);
    const y = Number(b);
    if (!Number.isNaN(x) && !Number.isNaN(y)) return x - y;
  }
  const da = typeof a === 'string' && /^\d{4}-\d{2}-\d{2}/.test(a) ? Date.parse(a) : NaN;
  const db = typeof b === 'string' && /^\d{4}-\d{2}-\d{2}/.test(b) ? Date.parse(b) : NaN;
  if (!Number.isNaN(da) && !Number.isNaN(db)) return da - db;
  if (typeof a === 'string' && typeof b === 'string' && /^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b);
  return String(a ?? '').localeCompare(String(b ?? ''));
}

function matches(obj: Record<string, unknown>, c: Condition): boolean {
  return fieldValues(obj, c.field).some((v) => matchOne(v, c));
}

function matchOne(v: unknown, c: Condition): boolean {
  switch (c.op) {
    case '=':
      if (v === undefined) return false;
      if (typeof c.value === 'boolean') return v === c.value || String(v) === String(c.value);
      return String(v).toLowerCase() === String(c.value).toLowerCase() || (typeof v === 'number' && v === Number(c.value));
    case '<':
      return v !== undefined && compare(v, c.value) < 0;
    case '>':
      return v !== undefined && compare(v, c.value) > 0;
    case '<=':
      return v !== undefined && compare(v, c.value) <= 0;
    case '>=':
      return v !== undefined && compare(v, c.value) >= 0;
    case 'IN':
      return (c.value as unknown[]).some((x) => v !== undefined && String(v).toLowerCase() === String(x).toLowerCase());
    case 'LIKE': {
      const pattern =
        '^' +
        String(c.value)
          .split('%')
          .map((s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
          .join('.*') +
        '$';
      return v !== undefined && new RegExp(pattern, 'i').test(String(v));
    }
  }
}

export function runQuery(q: Query, rows: Record<string, unknown>[]): { rows: Record<string, unknown>[]; total: number } {
  let out = rows.filter((r) => q.where.every((c) => matches(r, c)));
  // Intuit lists inactive name-list entities only when asked for Active = false.
  if (!q.where.some((c) => c.field.toLowerCase() === 'active')) out = out.filter((r) => r.Active !== false);
  const total = out.length;
  const order = q.orderBy.length ? q.orderBy : [{ field: 'Id', desc: false }];
  out = [...out].sort((a, b) => {
    for (const o of order) {
      const d = compare(fieldValue(a, o.field), fieldValue(b, o.field));
      if (d !== 0) return o.desc ? -d : d;
    }
    return 0;
  });
  return { rows: out.slice(q.startPosition - 1, q.startPosition - 1 + q.maxResults), total };
}
