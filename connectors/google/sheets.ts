import { sheets, type sheets_v4 } from '@googleapis/sheets';
import { z } from 'zod';
import { defineAction } from '../../core/connector.ts';
import { googleAuthFor, googleRootUrl, requireConnection } from './client.ts';
import { mapGoogleError } from './errors.ts';

/**
 * Google Sheets through the official client (@googleapis/sheets 14.0.0: the last major on
 * googleapis-common 8, which runs on Node 20; 17+ need Node 22). `rootUrl` is the connection's Google
 * base URL, so the sandbox serves Sheets on the same origin as the other APIs.
 */
export async function sheetsFor(conn: Parameters<typeof googleAuthFor>[0]): Promise<sheets_v4.Sheets> {
  return sheets({ version: 'v4', auth: await googleAuthFor(conn), rootUrl: googleRootUrl(conn) });
}

const cell = z.union([z.string(), z.number(), z.boolean(), z.null()]);

export const sheetsAppendValues = defineAction({
  id: 'google.sheets.append_values',
  title: 'Append rows to a Google Sheet',
  description:
    'Adds rows below the table in the range (spreadsheets.values.append). USER_ENTERED reads "0.93" as a number, as typing it would; RAW keeps text as text.',
  input: z.object({
    spreadsheetId: z.string().min(1),
    /** A1 notation: a sheet (`KPIs`), or a sheet and columns (`KPIs!A:G`). */
    range: z.string().min(1).default('Sheet1'),
    values: z.array(z.array(cell)).min(1).max(10_000),
    valueInputOption: z.enum(['USER_ENTERED', 'RAW']).default('USER_ENTERED'),
    insertDataOption: z.enum(['INSERT_ROWS', 'OVERWRITE']).default('INSERT_ROWS'),
  }),
  output: z.object({
    spreadsheetId: z.string(),
    tableRange: z.string().nullable(),
    updatedRange: z.string(),
    updatedRows: z.number(),
    updatedCells: z.number(),
  }),
  sampleOutput: { spreadsheetId: '1AbC…', tableRange: 'KPIs!A1:G12', updatedRange: 'KPIs!A13:G13', updatedRows: 1, updatedCells: 7 },
  async run(ctx, input) {
    const conn = requireConnection(ctx.connection, 'google.sheets.append_values');
    const api = await sheetsFor(conn);
    const values = input.values.map((row) => row.map((v) => (v === null ? '' : v)));
    ctx.trace({ request: { spreadsheetId: input.spreadsheetId, range: input.range, rows: values.length } });
    try {
      // POSTs are not retried by gaxios; the pipeline retries a retryable failure (the step's idempotency is the caller's: a retried append adds the rows again only when Google took the first).
      const res = await api.spreadsheets.values.append(
        {
          spreadsheetId: input.spreadsheetId,
          range: input.range,
          valueInputOption: input.valueInputOption,
          insertDataOption: input.insertDataOption,
          requestBody: { majorDimension: 'ROWS', values },
        },
        { retry: false, timeout: ctx.timeoutMs },
      );
      const out = {
        spreadsheetId: res.data.spreadsheetId ?? input.spreadsheetId,
        tableRange: res.data.tableRange ?? null,
        updatedRange: res.data.updates?.updatedRange ?? '',
        updatedRows: res.data.updates?.updatedRows ?? 0,
        updatedCells: res.data.updates?.updatedCells ?? 0,
      };
      ctx.trace({ response: out });
      return out;
    } catch (err) {
      throw mapGoogleError('spreadsheets.values.append', err);
    }
  },
});
