import { parse } from 'csv-parse/sync';
import iconv from 'iconv-lite';
import { z } from 'zod';
import { normaliseMobile } from './mobile.ts';
import type { IncomingPerson, RowError } from './plan.ts';

/** Larger files are refused with 413 before they are read (a 2,000-person export is about 200 kB). */
export const MAX_CSV_BYTES = 5 * 1024 * 1024;
export const CSV_COLUMNS = ['name', 'email', 'mobile', 'department', 'title', 'manager_email'] as const;
/** title and manager_email may be left out of the header; the others must be there. */
const REQUIRED = ['name', 'email', 'mobile', 'department'] as const;

/**
 * Bytes → text the way HR exports arrive: a UTF-8 BOM is stripped; text that is not valid UTF-8 is
 * read as Big5 (Hong Kong and Taiwan Excel's "ANSI" CSV), through iconv-lite.
 */
export function decodeCsv(buf: Buffer): { text: string; encoding: 'utf-8' | 'big5' } {
  let b = buf;
  if (b.length >= 3 && b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) b = b.subarray(3);
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(b), encoding: 'utf-8' };
  } catch {
    return { text: iconv.decode(b, 'big5'), encoding: 'big5' };
  }
}

const emailSchema = z.email();
/** "Sales / Hong Kong/" → "Sales/Hong Kong". */
export const normaliseDepartment = (v: string) =>
  v
    .split('/')
    .map((s) => s.trim())
    .filter(Boolean)
    .join('/') || null;

export interface ParsedCsv {
  people: IncomingPerson[];
  errors: RowError[];
  encoding: string;
}

/**
 * Parses an HR export: a header row (line 1) naming the columns in any order (extra ones ignored),
 * then one person per row. Every problem is reported with its line number; duplicates (same email or
 * mobile twice) are errors on the later row.
 */
export function parsePeopleCsv(buf: Buffer): ParsedCsv {
  const { text, encoding } = decodeCsv(buf);
  const errors: RowError[] = [];
  let records: Array<{ record: string[]; info: { lines: number } }>;
  try {
    records = parse(text, { info: true, relax_column_count: true, skip_empty_lines: true, trim: true }) as unknown as typeof records;
  } catch (err) {
    const e = err as Error & { lines?: number };
    return { people: [], errors: [{ row: e.lines ?? 1, message: `not a readable CSV file: ${e.message}` }], encoding };
  }
  if (records.length === 0) return { people: [], errors: [{ row: 1, message: 'the file is empty: expected a header row' }], encoding };
  const header = records[0]!.record.map((h) =>
    h
      .trim()
      .toLowerCase()
      .replace(/[\s-]+/g, '_'),
  );
  const col = Object.fromEntries(CSV_COLUMNS.map((c) => [c, header.indexOf(c)])) as Record<(typeof CSV_COLUMNS)[number], number>;
  const missing = REQUIRED.filter((c) => col[c] < 0);
  if (missing.length)
    return {
      people: [],
      errors: [
        {
          row: records[0]!.info.lines,
          message: `missing column${missing.length > 1 ? 's' : ''}: ${missing.join(', ')} (the header must name ${CSV_COLUMNS.join(', ')})`,
        },
      ],
      encoding,
    };

  const people: IncomingPerson[] = [];
  const seenEmail = new Map<string, number>();
  const seenMobile = new Map<string, number>();
  for (const { record, info } of records.slice(1)) {
    const row = info.lines;
    const cell = (c: (typeof CSV_COLUMNS)[number]) => (col[c] >= 0 ? (record[col[c]] ?? '').trim() : undefined);
    const problems: string[] = [];
    const name = cell('name')!;
    if (!name) problems.push('name is empty');
    const emailRaw = cell('email')!;
    let email: string | null = null;
    if (emailRaw) {
      if (emailSchema.safeParse(emailRaw).success) email = emailRaw.toLowerCase();
      else problems.push(`email "${emailRaw}" is not a valid address`);
    }
    const mobileRaw = cell('mobile')!;
    const mobile = normaliseMobile(mobileRaw);
    if (mobile === null) problems.push(`mobile "${mobileRaw}" is not a phone number`);
    if (!emailRaw && !mobileRaw) problems.push('give an email or a mobile');
    if (email) {
      const first = seenEmail.get(email);
      if (first) problems.push(`duplicate: email ${email} is also on row ${first}`);
      else seenEmail.set(email, row);
    }
    if (mobile) {
      const first = seenMobile.get(mobile);
      if (first) problems.push(`duplicate: mobile ${mobile} is also on row ${first}`);
      else seenMobile.set(mobile, row);
    }
    const managerRaw = cell('manager_email');
    if (managerRaw && !emailSchema.safeParse(managerRaw).success) problems.push(`manager_email "${managerRaw}" is not a valid address`);
    if (problems.length) {
      errors.push({ row, message: problems.join('; ') });
      continue;
    }
    const title = cell('title');
    people.push({
      row,
      name,
      email,
      mobile: mobile ?? null,
      department: normaliseDepartment(cell('department')!),
      title: title === undefined ? undefined : title || null,
      managerEmail: managerRaw === undefined ? undefined : managerRaw ? managerRaw.toLowerCase() : null,
    });
  }
  return { people, errors, encoding };
}

const csvCell = (v: unknown) => {
  let s = v === null || v === undefined ? '' : String(v);
  // Cells a spreadsheet would run as a formula are quoted as text.
  if (/^[=+\-@\t\r]/.test(s) && !/^\+\d+$/.test(s)) s = `'${s}`;
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** The export: the import's columns first (so an export imports back unchanged), then the identities. */
export function peopleCsv(
  people: Array<{
    id: string;
    name: string;
    email: string | null;
    mobile: string | null;
    department: string | null;
    title: string | null;
    managerEmail: string | null;
    active: boolean;
    identities: Record<string, Record<string, string>>;
  }>,
): string {
  const services = [
    ...new Set(people.flatMap((p) => Object.entries(p.identities).flatMap(([s, kinds]) => Object.keys(kinds).map((k) => `${s}.${k}`)))),
  ].sort();
  const header = [...CSV_COLUMNS, 'active', 'id', ...services];
  const lines = people.map((p) =>
    [
      p.name,
      p.email,
      p.mobile,
      p.department,
      p.title,
      p.managerEmail,
      p.active,
      p.id,
      ...services.map((sk) => {
        const [s, k] = sk.split('.') as [string, string];
        return p.identities[s]?.[k] ?? '';
      }),
    ]
      .map(csvCell)
      .join(','),
  );
  return `\ufeff${header.join(',')}\r\n${lines.join('\r\n')}${lines.length ? '\r\n' : ''}`;
}
