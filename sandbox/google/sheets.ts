import crypto from 'node:crypto';
import type { Express, Request, Response } from 'express';
import { CONTROL } from './control.ts';
import { GoogleError } from './errors.ts';
import { body, qs, route, type Caller, type Fake } from './runtime.ts';
import type { GoogleData } from './state.ts';

/**
 * Sheets API v4 (`https://sheets.googleapis.com/v4/...`, here on the fake's one origin: the SDK's `rootUrl`):
 *
 * - `POST /v4/spreadsheets` (spreadsheets.create) `{properties: {title}, sheets: [{properties: {title}}]}`
 * - `GET /v4/spreadsheets/{id}` (spreadsheets.get): properties and sheets (no grid data)
 * - `GET /v4/spreadsheets/{id}/values/{range}` (values.get): `{range, majorDimension: "ROWS", values}`;
 *   `valueRenderOption` FORMATTED_VALUE (default: every cell a string) | UNFORMATTED_VALUE; trailing empty
 *   rows and cells are left out, and `values` is absent when the range is empty, as Google does.
 * - `POST /v4/spreadsheets/{id}/values/{range}:append` (values.append): `valueInputOption` RAW |
 *   USER_ENTERED is required; `insertDataOption` OVERWRITE (default) | INSERT_ROWS; body `{values,
 *   majorDimension?}`. The table is the range's rows from its first row down to the last row with a value;
 *   the new rows go below it, from the range's first column → `{spreadsheetId, tableRange?, updates:
 *   {spreadsheetId, updatedRange, updatedRows, updatedColumns, updatedCells}}`.
 *   USER_ENTERED turns number-looking text into numbers and TRUE/FALSE into booleans (formulas are kept as
 *   text: the fake does not compute).
 *
 * Errors in the Sheets API's shape (`{error: {code, message, status}}`): an unknown spreadsheet → 404
 * "Requested entity was not found.", a bad range → 400 "Unable to parse range: …". Scopes:
 * `spreadsheets` (everything), `spreadsheets.readonly` (reads), `drive` / `drive.file` (everything).
 *
 * Control: `POST /__sandbox/google/sheets {title?, sheets?: [title | {title, rows}]}` makes a spreadsheet owned by nobody
 * in particular → `{spreadsheetId}`; `GET /__sandbox/google/sheets/{id}` → every sheet's grid.
 */
type Cell = string | number | boolean;
interface Spreadsheet {
  spreadsheetId: string;
  title: string;
  sheets: { sheetId: number; title: string; rows: Cell[][] }[];
}

const books = new WeakMap<GoogleData, Map<string, Spreadsheet>>();
function booksOf(fake: Fake): Map<string, Spreadsheet> {
  const g = fake.state.google;
  let m = books.get(g);
  if (!m) {
    m = new Map();
    books.set(g, m);
  }
  return m;
}

class SheetsError extends GoogleError {}
const sheetsError = (code: number, message: string) => new SheetsError(code, '', message);
const STATUS: Record<number, string> = { 400: 'INVALID_ARGUMENT', 403: 'PERMISSION_DENIED', 404: 'NOT_FOUND' };

const colIndex = (letters: string) => [...letters.toUpperCase()].reduce((n, c) => n * 26 + c.charCodeAt(0) - 64, 0) - 1;
const colName = (i: number) => {
  let s = '';
  for (let n = i + 1; n > 0; n = Math.floor((n - 1) / 26)) s = String.fromCharCode(65 + ((n - 1) % 26)) + s;
  return s;
};
const quoteSheet = (t: string) => (/^[A-Za-z0-9_]+$/.test(t) ? t : `'${t.replaceAll("'", "''")}'`);

interface A1 {
  sheet: Spreadsheet['sheets'][number];
  c0: number;
  r0: number;
  c1: number | null;
  r1: number | null;
}
/** `Sheet1`, `Sheet1!A1:G`, `'My sheet'!A:C`, `A1:B2` (the first sheet). */
function parseRange(book: Spreadsheet, range: string): A1 {
  const bad = () => sheetsError(400, `Unable to parse range: ${range}`);
  const m = /^(?:'((?:[^']|'')+)'|([^!']+?))(?:!(.*))?$/.exec(range);
  if (!m) throw bad();
  let sheetTitle: string | undefined = m[1]?.replaceAll("''", "'") ?? m[2];
  let cells = m[3];
  if (
    m[3] === undefined &&
    sheetTitle &&
    !book.sheets.some((s) => s.title === sheetTitle) &&
    /^[A-Z]+\d*(:[A-Z]+\d*)?$/i.test(sheetTitle)
  ) {
    cells = sheetTitle;
    sheetTitle = undefined;
  }
  const sheet = sheetTitle === undefined ? book.sheets[0] : book.sheets.find((s) => s.title === sheetTitle);
  if (!sheet) throw bad();
  if (!cells) return { sheet, c0: 0, r0: 0, c1: null, r1: null };
  const c = /^([A-Z]+)(\d+)?(?::([A-Z]+)(\d+)?)?$/i.exec(cells);
  if (!c) throw bad();
  return {
    sheet,
    c0: colIndex(c[1]!),
    r0: c[2] ? Number(c[2]) - 1 : 0,
    c1: c[3] ? colIndex(c[3]) : c[2] && !c[3] ? colIndex(c[1]!) : null,
    r1: c[4] ? Number(c[4]) - 1 : c[2] && !c[3] ? Number(c[2]) - 1 : null,
  };
}
const a1 = (sheet: string, c0: number, r0: number, c1: number, r1: number) =>
  `${quoteSheet(sheet)}!${colName(c0)}${r0 + 1}:${colName(c1)}${r1 + 1}`;

function userEntered(v: unknown): Cell {
  if (typeof v === 'number' || typeof v === 'boolean') return v;
  const s = v === null || v === undefined ? '' : String(v);
  if (/^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i.test(s.trim())) return Number(s);
  if (/^(true|false)$/i.test(s.trim())) return s.trim().toUpperCase() === 'TRUE';
  return s;
}
const raw = (v: unknown): Cell => (typeof v === 'number' || typeof v === 'boolean' ? v : v === null || v === undefined ? '' : String(v));
const formatted = (v: Cell) => (typeof v === 'boolean' ? (v ? 'TRUE' : 'FALSE') : String(v));

export function setupSheets(app: Express, fake: Fake): void {
  const wrap = (fn: (req: Request, res: Response, caller: Caller) => unknown) =>
    route(fake, (req, res, caller) => {
      try {
        return fn(req, res, caller);
      } catch (err) {
        if (err instanceof SheetsError)
          return void res.status(err.code).json({ error: { code: err.code, message: err.message, status: STATUS[err.code] ?? 'UNKNOWN' } });
        throw err;
      }
    });
  const book = (id: string) => {
    const b = booksOf(fake).get(id);
    if (!b) throw sheetsError(404, 'Requested entity was not found.');
    return b;
  };
  const make = (title: string, sheetTitles: string[]): Spreadsheet => {
    const id = crypto.randomBytes(33).toString('base64url').slice(0, 44);
    const b: Spreadsheet = {
      spreadsheetId: id,
      title,
      sheets: (sheetTitles.length ? sheetTitles : ['Sheet1']).map((t, i) => ({ sheetId: i === 0 ? 0 : 100000 + i, title: t, rows: [] })),
    };
    booksOf(fake).set(id, b);
    return b;
  };
  const view = (b: Spreadsheet) => ({
    spreadsheetId: b.spreadsheetId,
    properties: { title: b.title, locale: 'en_US', timeZone: 'Etc/GMT', autoRecalc: 'ON_CHANGE' },
    sheets: b.sheets.map((s, i) => ({
      properties: { sheetId: s.sheetId, title: s.title, index: i, sheetType: 'GRID', gridProperties: { rowCount: 1000, columnCount: 26 } },
    })),
    spreadsheetUrl: `https://docs.google.com/spreadsheets/d/${b.spreadsheetId}/edit`,
  });

  app.post(
    '/v4/spreadsheets',
    wrap((req, res) => {
      const b = body(req) as { properties?: { title?: string }; sheets?: { properties?: { title?: string } }[] };
      const made = make(
        b.properties?.title || 'Untitled spreadsheet',
        (b.sheets ?? []).map((s, i) => s.properties?.title || `Sheet${i + 1}`),
      );
      res.json(view(made));
    }),
  );
  app.get(
    '/v4/spreadsheets/:id',
    wrap((req, res) => void res.json(view(book(String(req.params.id))))),
  );

  // values.get and values.append share the path: express sees `{range}:append` as one segment.
  app.get(
    '/v4/spreadsheets/:id/values/:range',
    wrap((req, res) => {
      const b = book(String(req.params.id));
      const range = String(req.params.range);
      const r = parseRange(b, range);
      const rows = r.sheet.rows;
      const lastRow = r.r1 ?? Math.max(rows.length - 1, r.r0);
      const unformatted = qs(req, 'valueRenderOption') === 'UNFORMATTED_VALUE';
      const out: (string | number | boolean)[][] = [];
      for (let i = r.r0; i <= lastRow; i++) {
        const row = rows[i] ?? [];
        const end = r.c1 === null ? row.length - 1 : Math.min(r.c1, row.length - 1);
        const cells = row.slice(r.c0, end + 1).map((v) => (unformatted ? v : formatted(v)));
        while (cells.length && cells.at(-1) === '') cells.pop();
        out.push(cells);
      }
      while (out.length && out.at(-1)!.length === 0) out.pop();
      const width = Math.max(1, ...out.map((x) => x.length));
      res.json({
        range: a1(r.sheet.title, r.c0, r.r0, r.c1 ?? r.c0 + width - 1, r.r1 ?? Math.max(r.r0, r.r0 + out.length - 1)),
        majorDimension: 'ROWS',
        ...(out.length ? { values: out } : {}),
      });
    }),
  );
  app.post(
    '/v4/spreadsheets/:id/values/:rangeAppend',
    wrap((req, res) => {
      const m = /^(.*):append$/.exec(String(req.params.rangeAppend));
      if (!m) throw sheetsError(404, 'Requested entity was not found.');
      const b = book(String(req.params.id));
      const option = qs(req, 'valueInputOption');
      if (!option) throw sheetsError(400, "'valueInputOption' is required but not specified");
      if (option !== 'RAW' && option !== 'USER_ENTERED')
        throw sheetsError(
          400,
          `Invalid value at 'value_input_option' (type.googleapis.com/google.apps.sheets.v4.ValueInputOption), "${option}"`,
        );
      const insert = qs(req, 'insertDataOption') ?? 'OVERWRITE';
      if (insert !== 'OVERWRITE' && insert !== 'INSERT_ROWS')
        throw sheetsError(
          400,
          `Invalid value at 'insert_data_option' (type.googleapis.com/google.apps.sheets.v4.InsertDataOption), "${insert}"`,
        );
      const input = body(req) as { values?: unknown[][]; majorDimension?: string };
      if (!Array.isArray(input.values) || input.values.some((row) => !Array.isArray(row)))
        throw sheetsError(400, "Invalid value at 'data.values' (type.googleapis.com/google.protobuf.ListValue)");
      let values = input.values as unknown[][];
      if (input.majorDimension === 'COLUMNS') {
        const h = Math.max(0, ...values.map((c) => c.length));
        values = Array.from({ length: h }, (_, i) => values.map((c) => c[i] ?? ''));
      }
      const r = parseRange(b, m[1]!);
      const rows = r.sheet.rows;
      // The table: from the range's first row down to the last row holding a value in the range's columns.
      let last = -1;
      for (let i = r.r0; i < rows.length; i++) {
        const cells = rows[i] ?? [];
        const slice = cells.slice(r.c0, r.c1 === null ? undefined : r.c1 + 1);
        if (slice.some((v) => v !== '')) last = i;
      }
      const start = last < 0 ? r.r0 : last + 1;
      const conv = option === 'RAW' ? raw : userEntered;
      const width = Math.max(1, ...values.map((row) => row.length));
      if (insert === 'INSERT_ROWS') rows.splice(start, 0, ...values.map(() => [] as Cell[]));
      values.forEach((row, k) => {
        const target = rows[start + k] ?? [];
        while (target.length < r.c0) target.push('');
        row.forEach((v, j) => {
          target[r.c0 + j] = conv(v);
        });
        rows[start + k] = target;
      });
      for (let i = 0; i < rows.length; i++) rows[i] ??= [];
      const tableWidth = Math.max(width, ...rows.slice(r.r0, start).map((row) => row.length - r.c0));
      res.json({
        spreadsheetId: b.spreadsheetId,
        ...(last >= 0 ? { tableRange: a1(r.sheet.title, r.c0, r.r0, r.c0 + tableWidth - 1, last) } : {}),
        updates: {
          spreadsheetId: b.spreadsheetId,
          updatedRange: a1(r.sheet.title, r.c0, start, r.c0 + width - 1, start + values.length - 1),
          updatedRows: values.length,
          updatedColumns: width,
          updatedCells: values.reduce((n, row) => n + row.length, 0),
        },
      });
    }),
  );

  app.post(`${CONTROL}/sheets`, (req: Request, res: Response) => {
    const b = body(req) as { title?: string; sheets?: (string | { title: string; rows?: Cell[][] })[] };
    const list = Array.isArray(b.sheets) ? b.sheets : [];
    const made = make(
      b.title || 'Untitled spreadsheet',
      list.map((x) => (typeof x === 'string' ? x : String(x.title))),
    );
    list.forEach((x, i) => {
      if (typeof x === 'object' && Array.isArray(x.rows)) made.sheets[i]!.rows = x.rows.map((r) => r.map(raw));
    });
    res.status(201).json({ spreadsheetId: made.spreadsheetId });
  });
  app.get(`${CONTROL}/sheets/:id`, (req: Request, res: Response) => {
    const b = booksOf(fake).get(String(req.params.id));
    if (!b) return void res.status(404).json({ error: 'no such spreadsheet' });
    res.json({ spreadsheetId: b.spreadsheetId, title: b.title, sheets: b.sheets.map((s) => ({ title: s.title, rows: s.rows })) });
  });
}
