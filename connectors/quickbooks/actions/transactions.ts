import { z } from 'zod';
import { defineAction, fileRef } from '../../../core/connector.ts';
import { permanent } from '../../../core/errors.ts';
import { getEntity, qboCall, query, realmOf, uploadAttachable, entityName, unwrap } from '../client.ts';
import { appLink } from '../fields.ts';
import {
  currencyAndRate,
  findOrCreateCustomer,
  findOrCreateVendor,
  money,
  need,
  qboConnection,
  qboPace,
  resolveAccount,
} from './common.ts';

/** Template-filled values arrive as strings (often empty when the form lacks the field): checked in `run` with clear errors. */
const loose = z.union([z.string(), z.number()]).optional();
const text = z.string().optional();
const line = z.object({
  amount: loose,
  account: text.describe('expense account (name or id)'),
  description: text,
});

const txnOutput = z.object({
  id: z.string(),
  type: z.string(),
  totalAmount: z.number(),
  currency: z.string(),
  exchangeRate: z.number(),
  homeTotalAmount: z.number(),
  vendorId: z.string().nullable(),
  docNumber: z.string().nullable(),
  txnDate: z.string().nullable(),
  memo: z.string().nullable(),
  link: z.string(),
  realmId: z.string(),
});
type TxnOutput = z.output<typeof txnOutput>;

function outputOf(type: string, e: Record<string, unknown>, settings: Record<string, unknown>, realmId: string): TxnOutput {
  const total = Number(e.TotalAmt ?? 0);
  const rate = Number(e.ExchangeRate ?? 1);
  return {
    id: String(e.Id),
    type,
    totalAmount: total,
    currency: String((e.CurrencyRef as { value?: string } | undefined)?.value ?? ''),
    exchangeRate: rate,
    homeTotalAmount: Number(e.HomeTotalAmt ?? Math.round(total * rate * 100) / 100),
    vendorId: ((e.EntityRef ?? e.VendorRef) as { value?: string } | undefined)?.value ?? null,
    docNumber: (e.DocNumber as string | undefined) ?? null,
    txnDate: (e.TxnDate as string | undefined) ?? null,
    memo: (e.PrivateNote as string | undefined) ?? null,
    link: appLink(settings, type, String(e.Id)),
    realmId,
  };
}
const sampleTxn: TxnOutput = {
  id: '145',
  type: 'Purchase',
  totalAmount: 420,
  currency: 'HKD',
  exchangeRate: 1,
  homeTotalAmount: 420,
  vendorId: '58',
  docNumber: null,
  txnDate: '2026-12-01',
  memo: 'DingTalk approval 202612011200000001: taxi to the airport',
  link: 'https://app.qbo.intuit.com/app/expense?txnId=145',
  realmId: '9341453050000001',
};

type Line = z.output<typeof line>;
async function expenseLines(conn: Parameters<typeof resolveAccount>[0], lines: Line[], action: string) {
  const out: Array<Record<string, unknown>> = [];
  for (const [i, l] of lines.entries()) {
    const field = lines.length > 1 ? `lines[${i}].` : '';
    const amount = money(l.amount, `${field}amount`, action);
    const account = await resolveAccount(
      conn,
      need(l.account, `${field}account`, action, 'the expense account, e.g. Travel'),
      `${field}account`,
      action,
    );
    out.push({
      Amount: amount,
      DetailType: 'AccountBasedExpenseLineDetail',
      ...(l.description ? { Description: l.description } : {}),
      AccountBasedExpenseLineDetail: { AccountRef: { value: account.Id, name: account.Name } },
    });
  }
  return out;
}

const party = {
  vendor: text.describe('payee: vendor display name (found or created)'),
  vendorEmail: text.describe("payee's email (finds the vendor, or the person in People)"),
  requesterUserId: text.describe("the requester's DingTalk user id: People gives their name and remembered vendor"),
};
const money_ = {
  currency: text.describe('ISO code; default the home currency'),
  exchangeRate: z.coerce.number().positive().optional().describe('home-currency units per foreign unit; default QuickBooks’ rate'),
};

export const createPurchase = defineAction({
  id: 'quickbooks.purchase.create',
  title: 'Create a QuickBooks expense (Purchase)',
  description:
    'An expense paid from a bank or credit-card account: one line from amount + account (or several `lines`), the payee found or created, memo, and the currency with its exchange rate when it is not the home currency. Idempotent: the step key is sent as requestid.',
  input: z.object({
    amount: loose.describe('the total, when there is one line'),
    account: text.describe('expense account (category) by name, e.g. Travel'),
    description: text,
    lines: z.array(line).optional(),
    paymentAccount: text.describe('the bank or credit-card account it was paid from (name or id)'),
    ...party,
    ...money_,
    memo: text,
    txnDate: text.describe('YYYY-MM-DD; default today'),
    docNumber: text,
  }),
  output: txnOutput,
  sampleOutput: sampleTxn,
  pace: qboPace,
  outputRef: (out) => ({ kind: 'quickbooks.purchase', id: out.id }),
  async run(ctx, input) {
    const A = 'quickbooks.purchase.create';
    const conn = qboConnection(ctx, A);
    const realm = realmOf(conn);
    // The form's fields first, so a missing one is named before anything is sent.
    const lines: Line[] = input.lines?.length
      ? input.lines
      : [{ amount: input.amount, account: input.account, description: input.description }];
    if (!input.lines?.length) {
      money(input.amount, 'amount', A);
      need(input.account, 'account', A, 'the expense category, e.g. Travel');
    }
    need(input.vendor || input.vendorEmail || input.requesterUserId, 'vendor', A, 'the payee name, email or the requester');
    const paymentName = need(input.paymentAccount, 'paymentAccount', A, 'the bank or credit-card account it was paid from');
    const cur = await currencyAndRate(conn, input.currency, input.exchangeRate, A, input.txnDate);
    const Line = await expenseLines(conn, lines, A);
    const pay = await resolveAccount(conn, paymentName, 'paymentAccount', A, ['Bank', 'Credit Card']);
    if (pay.AccountType && !['Bank', 'Credit Card'].includes(pay.AccountType))
      throw permanent(`${A}: paymentAccount "${paymentName}" is a ${pay.AccountType} account, not a bank or credit card`, {
        code: 'invalid_field',
      });
    const vendor = await findOrCreateVendor(
      ctx,
      conn,
      { name: input.vendor, email: input.vendorEmail, dingtalkUserId: input.requesterUserId, currency: cur.currency },
      A,
      `${ctx.idempotencyKey}:vendor`,
    );
    const purchase: Record<string, unknown> = {
      PaymentType: pay.AccountType === 'Credit Card' ? 'CreditCard' : 'Cash',
      AccountRef: { value: pay.Id, name: pay.Name },
      EntityRef: { value: vendor.id, type: 'Vendor' },
      CurrencyRef: { value: cur.currency },
      ...(cur.currency !== cur.home ? { ExchangeRate: cur.exchangeRate } : {}),
      ...(input.memo ? { PrivateNote: input.memo.slice(0, 4000) } : {}),
      ...(input.txnDate ? { TxnDate: input.txnDate } : {}),
      ...(input.docNumber ? { DocNumber: input.docNumber.slice(0, 21) } : {}),
      Line,
    };
    ctx.trace({ request: purchase });
    const body = await qboCall<unknown>(
      conn,
      'create purchase',
      // node-quickbooks moves requestId to ?requestid= and deletes it from the object: a fresh copy per try.
      (qbo, cb) => qbo.createPurchase({ ...purchase, requestId: ctx.idempotencyKey }, cb),
      { idempotent: true },
    );
    const out = outputOf('Purchase', unwrap(body, 'Purchase'), conn.settings, realm);
    await ctx.ownChange?.(`quickbooks.purchase:${out.id}:created`);
    ctx.trace({ response: out });
    return out;
  },
});

export const createBill = defineAction({
  id: 'quickbooks.bill.create',
  title: 'Create a QuickBooks bill',
  input: z.object({
    ...party,
    dueDate: text.describe('YYYY-MM-DD'),
    amount: loose,
    account: text,
    description: text,
    lines: z.array(line).optional(),
    ...money_,
    memo: text,
    txnDate: text,
    docNumber: text,
  }),
  output: txnOutput,
  sampleOutput: { ...sampleTxn, type: 'Bill', link: 'https://app.qbo.intuit.com/app/bill?txnId=146' },
  pace: qboPace,
  outputRef: (out) => ({ kind: 'quickbooks.bill', id: out.id }),
  async run(ctx, input) {
    const A = 'quickbooks.bill.create';
    const conn = qboConnection(ctx, A);
    const lines: Line[] = input.lines?.length
      ? input.lines
      : [{ amount: input.amount, account: input.account, description: input.description }];
    if (!input.lines?.length) {
      money(input.amount, 'amount', A);
      need(input.account, 'account', A);
    }
    need(input.vendor || input.vendorEmail || input.requesterUserId, 'vendor', A);
    const cur = await currencyAndRate(conn, input.currency, input.exchangeRate, A, input.txnDate);
    const Line = await expenseLines(conn, lines, A);
    const vendor = await findOrCreateVendor(
      ctx,
      conn,
      { name: input.vendor, email: input.vendorEmail, dingtalkUserId: input.requesterUserId, currency: cur.currency },
      A,
      `${ctx.idempotencyKey}:vendor`,
    );
    const bill: Record<string, unknown> = {
      VendorRef: { value: vendor.id },
      CurrencyRef: { value: cur.currency },
      ...(cur.currency !== cur.home ? { ExchangeRate: cur.exchangeRate } : {}),
      ...(input.dueDate ? { DueDate: input.dueDate } : {}),
      ...(input.memo ? { PrivateNote: input.memo.slice(0, 4000) } : {}),
      ...(input.txnDate ? { TxnDate: input.txnDate } : {}),
      ...(input.docNumber ? { DocNumber: input.docNumber.slice(0, 21) } : {}),
      Line,
    };
    ctx.trace({ request: bill });
    const body = await qboCall<unknown>(conn, 'create bill', (qbo, cb) => qbo.createBill({ ...bill, requestId: ctx.idempotencyKey }, cb), {
      idempotent: true,
    });
    const out = outputOf('Bill', unwrap(body, 'Bill'), conn.settings, realmOf(conn));
    ctx.trace({ response: out });
    return out;
  },
});

export const createInvoice = defineAction({
  id: 'quickbooks.invoice.create',
  title: 'Create a QuickBooks invoice',
  input: z.object({
    customer: text.describe('customer display name (found or created)'),
    lines: z
      .array(z.object({ amount: loose, description: text, item: text.describe('product/service name; default Services') }))
      .optional(),
    amount: loose,
    description: text,
    dueDate: text,
    docNumber: text,
    ...money_,
    memo: text,
    email: text.describe("the customer's billing email"),
  }),
  output: txnOutput,
  sampleOutput: { ...sampleTxn, type: 'Invoice', link: 'https://app.qbo.intuit.com/app/invoice?txnId=147' },
  pace: qboPace,
  outputRef: (out) => ({ kind: 'quickbooks.invoice', id: out.id }),
  async run(ctx, input) {
    const A = 'quickbooks.invoice.create';
    const conn = qboConnection(ctx, A);
    const customerName = need(input.customer, 'customer', A);
    const lines = input.lines?.length ? input.lines : [{ amount: input.amount, description: input.description, item: undefined }];
    const cur = await currencyAndRate(conn, input.currency, input.exchangeRate, A);
    const items = await query(conn, 'Item', 'maxresults 1000');
    const Line = lines.map((l, i) => {
      const field = lines.length > 1 ? `lines[${i}].` : '';
      const amount = money(l.amount, `${field}amount`, A);
      const itemName = l.item?.trim() || 'Services';
      const item = items.find((it) => String(it.Name).toLowerCase() === itemName.toLowerCase() || String(it.Id) === itemName);
      if (!item) throw permanent(`${A}: ${field}item "${itemName}" is not a product or service of this company`, { code: 'unknown_item' });
      return {
        Amount: amount,
        DetailType: 'SalesItemLineDetail',
        ...(l.description ? { Description: l.description } : {}),
        SalesItemLineDetail: { ItemRef: { value: String(item.Id), name: String(item.Name) }, Qty: 1, UnitPrice: amount },
      };
    });
    const customer = await findOrCreateCustomer(conn, customerName, cur.currency, cur.home, `${ctx.idempotencyKey}:customer`);
    const invoice: Record<string, unknown> = {
      CustomerRef: { value: customer.id },
      CurrencyRef: { value: cur.currency },
      ...(cur.currency !== cur.home ? { ExchangeRate: cur.exchangeRate } : {}),
      ...(input.dueDate ? { DueDate: input.dueDate } : {}),
      ...(input.docNumber ? { DocNumber: input.docNumber.slice(0, 21) } : {}),
      ...(input.memo ? { PrivateNote: input.memo.slice(0, 4000) } : {}),
      ...(input.email ? { BillEmail: { Address: input.email } } : {}),
      Line,
    };
    ctx.trace({ request: invoice });
    const body = await qboCall<unknown>(
      conn,
      'create invoice',
      (qbo, cb) => qbo.createInvoice({ ...invoice, requestId: ctx.idempotencyKey }, cb),
      { idempotent: true },
    );
    const out = outputOf('Invoice', unwrap(body, 'Invoice'), conn.settings, realmOf(conn));
    ctx.trace({ response: out });
    return out;
  },
});

export const findOrCreateVendorAction = defineAction({
  id: 'quickbooks.vendor.find_or_create',
  title: 'Find or create a QuickBooks vendor (by name or email, through People)',
  input: z.object({ name: text, email: text, requesterUserId: text, currency: text }),
  output: z.object({ id: z.string(), name: z.string(), created: z.boolean(), currency: z.string(), personId: z.string().nullable() }),
  sampleOutput: { id: '58', name: 'Chan Tai Man', created: false, currency: 'HKD', personId: null },
  pace: qboPace,
  outputRef: (out) => ({ kind: 'quickbooks.vendor', id: out.id }),
  async run(ctx, input) {
    const A = 'quickbooks.vendor.find_or_create';
    const conn = qboConnection(ctx, A);
    need(input.name || input.email || input.requesterUserId, 'name', A, 'a name, an email or a requester known to People');
    return findOrCreateVendor(
      ctx,
      conn,
      { name: input.name, email: input.email, dingtalkUserId: input.requesterUserId, currency: input.currency },
      A,
      ctx.idempotencyKey,
    );
  },
});

export const attachFile = defineAction({
  id: 'quickbooks.attach',
  title: 'Attach a file to a QuickBooks transaction',
  description: 'Uploads a file from an earlier step (fileRef) as an Attachable linked to the transaction, in one request with a requestid.',
  input: z.object({
    entityType: z.string().min(1).default('Purchase').describe('Purchase, Bill, Invoice, …'),
    entityId: z.union([z.string(), z.number()]).transform(String).optional(),
    file: fileRef.nullable().optional(),
    note: text,
    skipWhenNoFile: z.boolean().default(false).describe('no file (e.g. a claim without a receipt): do nothing instead of failing'),
  }),
  output: z.object({
    id: z.string().nullable(),
    fileName: z.string().nullable(),
    size: z.number(),
    entityType: z.string(),
    entityId: z.string(),
    skipped: z.boolean(),
  }),
  sampleOutput: { id: '301', fileName: 'receipt.jpg', size: 48213, entityType: 'Purchase', entityId: '145', skipped: false },
  pace: qboPace,
  outputRef: (out) => (out.id ? { kind: 'quickbooks.attachable', id: out.id } : undefined),
  async run(ctx, input) {
    const A = 'quickbooks.attach';
    const conn = qboConnection(ctx, A);
    const entityId = need(input.entityId, 'entityId', A, 'the transaction to attach to, e.g. {{ steps[1].output.id }}');
    if (!input.file && input.skipWhenNoFile)
      return { id: null, fileName: null, size: 0, entityType: input.entityType, entityId, skipped: true };
    const ref = need(input.file, 'file', A, 'a file from an earlier step, e.g. {{ steps[0].output.file }}');
    const type = entityName(input.entityType) ?? input.entityType;
    if (!ctx.files) throw permanent(`${A}: files are not available in this hub`);
    const chunks: Buffer[] = [];
    for await (const c of await ctx.files.open(ref)) chunks.push(Buffer.from(c as Uint8Array));
    const bytes = Buffer.concat(chunks);
    const name = ref.name || 'attachment';
    const contentType = ref.contentType || 'application/octet-stream';
    ctx.trace({ request: { entityType: type, entityId, fileName: name, size: bytes.length } });
    const a = await uploadAttachable(conn, { name, contentType, bytes }, { type, id: entityId }, ctx.idempotencyKey, input.note);
    const out = {
      id: String(a.Id),
      fileName: String(a.FileName ?? name),
      size: Number(a.Size ?? bytes.length),
      entityType: type,
      entityId,
      skipped: false,
    };
    ctx.trace({ response: out });
    return out;
  },
});

export const getEntityAction = defineAction({
  id: 'quickbooks.get',
  title: 'Get a QuickBooks entity by id',
  input: z.object({
    entity: z.string().min(1).describe('Invoice, Bill, Purchase, Vendor, …'),
    id: z.union([z.string(), z.number()]).transform(String),
  }),
  sampleOutput: { entity: { Id: '130', DocNumber: '1037', TotalAmt: 12500, Balance: 0 } },
  pace: qboPace,
  async run(ctx, input) {
    const A = 'quickbooks.get';
    const conn = qboConnection(ctx, A);
    const name = entityName(input.entity);
    if (!name) throw permanent(`${A}: unknown entity "${input.entity}"`);
    const found = await getEntity(conn, name, input.id);
    if (!found) throw permanent(`${A}: ${name} ${input.id} does not exist`, { code: 'not_found', status: 404 });
    return { entity: found };
  },
});

export const queryAction = defineAction({
  id: 'quickbooks.query',
  title: 'Query QuickBooks (select * from … where …)',
  description: "QuickBooks' query language: `select * from Invoice where Balance > '0' and DueDate < '2026-12-01' maxresults 100`.",
  input: z.object({ query: z.string().min(1) }),
  output: z.object({ entity: z.string(), count: z.number(), items: z.array(z.record(z.string(), z.unknown())) }),
  sampleOutput: { entity: 'Invoice', count: 1, items: [{ Id: '130', DocNumber: '1037', Balance: 500 }] },
  pace: qboPace,
  async run(ctx, input) {
    const A = 'quickbooks.query';
    const conn = qboConnection(ctx, A);
    const m = /^\s*select\s+\*\s+from\s+(\w+)\s*(.*)$/is.exec(input.query);
    if (!m) throw permanent(`${A}: only "select * from <Entity> …" queries are supported`, { code: 'invalid_field' });
    const name = entityName(m[1]!);
    if (!name) throw permanent(`${A}: unknown entity "${m[1]}"`);
    const items = await query(conn, name, m[2] ?? '');
    return { entity: name, count: items.length, items };
  },
});

/** For the digest: open invoices due before a date and bills due by a date, in one action. */
export const overdueDigest = defineAction({
  id: 'quickbooks.digest',
  title: 'Overdue invoices and bills due soon (for a digest message)',
  input: z.object({
    billsWithinDays: z.coerce.number().int().min(0).max(60).default(7),
    today: text.describe('YYYY-MM-DD; default today (UTC)'),
  }),
  output: z.object({
    today: z.string(),
    overdueInvoices: z.array(z.record(z.string(), z.unknown())),
    billsDue: z.array(z.record(z.string(), z.unknown())),
    overdueTotal: z.number(),
    billsTotal: z.number(),
    text: z.string(),
  }),
  sampleOutput: { today: '2026-12-07', overdueInvoices: [], billsDue: [], overdueTotal: 0, billsTotal: 0, text: 'No overdue invoices.' },
  pace: qboPace,
  async run(ctx, input) {
    const conn = qboConnection(ctx, 'quickbooks.digest');
    const today = input.today?.trim() || new Date().toISOString().slice(0, 10);
    const until = new Date(Date.parse(`${today}T00:00:00Z`) + input.billsWithinDays * 86_400_000).toISOString().slice(0, 10);
    const invoices = await query(conn, 'Invoice', `where Balance > '0' and DueDate < '${today}' maxresults 1000`);
    const bills = await query(conn, 'Bill', `where Balance > '0' and DueDate <= '${until}' maxresults 1000`);
    const pick = (e: Record<string, unknown>) => ({
      id: String(e.Id),
      docNumber: (e.DocNumber as string) ?? null,
      party: ((e.CustomerRef ?? e.VendorRef) as { name?: string } | undefined)?.name ?? null,
      balance: Number(e.Balance ?? 0),
      currency: (e.CurrencyRef as { value?: string } | undefined)?.value ?? null,
      dueDate: (e.DueDate as string) ?? null,
      link: appLink(conn.settings, e.VendorRef ? 'Bill' : 'Invoice', String(e.Id)),
    });
    const overdueInvoices = invoices.map(pick);
    const billsDue = bills.map(pick);
    const sum = (l: Array<{ balance: number }>) => Math.round(l.reduce((s, x) => s + x.balance, 0) * 100) / 100;
    const lines = [
      `**Overdue invoices: ${overdueInvoices.length}** (${sum(overdueInvoices)})`,
      ...overdueInvoices
        .slice(0, 20)
        .map((i) => `- ${i.docNumber ?? i.id} ${i.party ?? ''}: ${i.currency ?? ''} ${i.balance} due ${i.dueDate}`),
      `**Bills due by ${until}: ${billsDue.length}** (${sum(billsDue)})`,
      ...billsDue.slice(0, 20).map((b) => `- ${b.docNumber ?? b.id} ${b.party ?? ''}: ${b.currency ?? ''} ${b.balance} due ${b.dueDate}`),
    ];
    return { today, overdueInvoices, billsDue, overdueTotal: sum(overdueInvoices), billsTotal: sum(billsDue), text: lines.join('\n') };
  },
});
