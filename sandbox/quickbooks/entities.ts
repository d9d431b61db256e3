import { faults } from './faults.ts';
import {
  type Company,
  type Entity,
  type EntityType,
  type ChangeRecord,
  NAME_LIST,
  DELETABLE,
  VOIDABLE,
  classification,
  exchangeRate,
  qboDate,
  qboTime,
} from './state.ts';

type Obj = Record<string, unknown>;
export type OnChange = (c: Company, type: EntityType, id: string, operation: ChangeRecord['operation']) => void;

const READ_ONLY = ['Id', 'SyncToken', 'MetaData', 'domain', 'sparse', 'status'];
const isObj = (v: unknown): v is Obj => !!v && typeof v === 'object' && !Array.isArray(v);
const refValue = (v: unknown): string | undefined => (isObj(v) && v.value !== undefined && v.value !== null ? String(v.value) : undefined);
const round2 = (n: number) => Math.round(n * 100) / 100;
const DAY = 86_400_000;

function table(c: Company, type: EntityType) {
  return c.entities.get(type)!;
}

function mustRef(c: Company, type: EntityType, v: unknown, element: string, required = true): Entity | undefined {
  const id = refValue(v);
  if (id === undefined) {
    if (required) throw faults.required(element);
    return undefined;
  }
  const e = table(c, type).get(id);
  if (!e) throw faults.badRef(element, id);
  return e;
}

function amount(v: unknown, element: string): number {
  const n = typeof v === 'string' ? Number(v) : v;
  if (typeof n !== 'number' || Number.isNaN(n)) throw faults.required(element);
  return n;
}

/** CurrencyRef and ExchangeRate on a transaction, checked against the company's home currency and multicurrency switch. */
function currency(c: Company, e: Obj, party?: Entity): void {
  const code = refValue(e.CurrencyRef) ?? (party ? refValue(party.CurrencyRef) : undefined) ?? c.homeCurrency;
  if (code !== c.homeCurrency && !c.multiCurrency)
    throw faults.business(`Multicurrency is not turned on for this company, so the currency must be ${c.homeCurrency}`, 'CurrencyRef');
  const partyCur = party ? (refValue(party.CurrencyRef) ?? c.homeCurrency) : undefined;
  if (partyCur !== undefined && partyCur !== code)
    throw faults.business(
      `The currency of the transaction (${code}) must match the currency of ${party!.DisplayName} (${partyCur})`,
      'CurrencyRef',
    );
  e.CurrencyRef = { value: code, name: code };
  if (code === c.homeCurrency) {
    e.ExchangeRate = 1;
  } else {
    const rate = e.ExchangeRate === undefined ? exchangeRate(code, c.homeCurrency) : Number(e.ExchangeRate);
    if (!(rate > 0)) throw faults.business('ExchangeRate must be greater than 0', 'ExchangeRate');
    e.ExchangeRate = rate;
  }
}

function totals(e: Obj, c: Company): void {
  const lines = (e.Line as Obj[]).filter((l) => l.DetailType !== 'SubTotalLineDetail');
  const total = round2(lines.reduce((s, l) => s + Number(l.Amount), 0));
  if (total < 0) throw faults.business('The transaction total cannot be negative', 'TotalAmt');
  e.TotalAmt = total;
  if (refValue(e.CurrencyRef) !== c.homeCurrency) e.HomeTotalAmt = round2(total * Number(e.ExchangeRate));
  else delete e.HomeTotalAmt;
}

function linesOf(e: Obj): Obj[] {
  if (!Array.isArray(e.Line) || e.Line.length === 0) throw faults.required('Line');
  return e.Line.map((l, i) => {
    if (!isObj(l)) throw faults.invalidValue('Line', `Line[${i}]`);
    return l;
  });
}

function expenseLines(c: Company, e: Obj): void {
  linesOf(e).forEach((l, i) => {
    amount(l.Amount, `Line[${i}].Amount`);
    l.Id ??= String(i + 1);
    if (l.DetailType === 'ItemBasedExpenseLineDetail') {
      mustRef(c, 'Item', (l.ItemBasedExpenseLineDetail as Obj | undefined)?.ItemRef, 'ItemRef');
    } else {
      l.DetailType = 'AccountBasedExpenseLineDetail';
      const d = isObj(l.AccountBasedExpenseLineDetail) ? l.AccountBasedExpenseLineDetail : undefined;
      const acc = mustRef(c, 'Account', d?.AccountRef, 'AccountRef');
      (d!.AccountRef as Obj).name ??= acc!.Name;
    }
  });
}

function uniqueName(c: Company, type: EntityType, e: Obj, selfId?: string): void {
  const key = String(type === 'Account' || type === 'Item' ? e.Name : e.DisplayName)
    .trim()
    .toLowerCase();
  const pool: EntityType[] = NAME_LIST.has(type) ? ['Vendor', 'Customer', 'Employee'] : [type];
  for (const t of pool) {
    for (const other of table(c, t).values()) {
      if (other.Id === selfId && t === type) continue;
      const name = String(t === 'Account' || t === 'Item' ? other.Name : other.DisplayName)
        .trim()
        .toLowerCase();
      if (name === key) throw faults.duplicateName(type === 'Account' ? 'account' : type === 'Item' ? 'item' : 'name-list');
    }
  }
}

/** Validates and completes an entity's fields (create or update); throws QboFault. */
function prepare(c: Company, type: EntityType, e: Obj, now: number, selfId?: string): void {
  switch (type) {
    case 'Account': {
      if (!e.Name || typeof e.Name !== 'string') throw faults.required('Name');
      if (!e.AccountType && !e.AccountSubType) throw faults.required('AccountType');
      e.AccountType ??= 'Expense';
      e.FullyQualifiedName = e.Name;
      e.Classification = classification(String(e.AccountType));
      e.Active ??= true;
      e.CurrentBalance ??= 0;
      const cur = refValue(e.CurrencyRef) ?? c.homeCurrency;
      if (cur !== c.homeCurrency && !c.multiCurrency)
        throw faults.business(`Multicurrency is not turned on for this company, so the currency must be ${c.homeCurrency}`, 'CurrencyRef');
      e.CurrencyRef = { value: cur, name: cur };
      uniqueName(c, type, e, selfId);
      return;
    }
    case 'Vendor':
    case 'Customer':
    case 'Employee': {
      if (!e.DisplayName) {
        const given = [e.Title, e.GivenName, e.MiddleName, e.FamilyName, e.Suffix].filter(Boolean).join(' ');
        e.DisplayName = given || e.CompanyName || undefined;
      }
      if (!e.DisplayName || typeof e.DisplayName !== 'string') throw faults.required(type === 'Employee' ? 'GivenName' : 'DisplayName');
      e.PrintOnCheckName ??= e.DisplayName;
      e.Active ??= true;
      if (type !== 'Employee') {
        const cur = refValue(e.CurrencyRef) ?? c.homeCurrency;
        if (cur !== c.homeCurrency && !c.multiCurrency)
          throw faults.business(
            `Multicurrency is not turned on for this company, so the currency must be ${c.homeCurrency}`,
            'CurrencyRef',
          );
        e.CurrencyRef = { value: cur, name: cur };
        e.Balance ??= 0;
      }
      if (type === 'Customer') e.FullyQualifiedName = e.DisplayName;
      uniqueName(c, type, e, selfId);
      return;
    }
    case 'Item': {
      if (!e.Name || typeof e.Name !== 'string') throw faults.required('Name');
      e.Type ??= 'Service';
      e.FullyQualifiedName = e.Name;
      e.Active ??= true;
      if (e.IncomeAccountRef !== undefined) mustRef(c, 'Account', e.IncomeAccountRef, 'IncomeAccountRef');
      if (e.ExpenseAccountRef !== undefined) mustRef(c, 'Account', e.ExpenseAccountRef, 'ExpenseAccountRef');
      uniqueName(c, type, e, selfId);
      return;
    }
    case 'Purchase': {
      if (!['Cash', 'Check', 'CreditCard'].includes(String(e.PaymentType))) {
        if (e.PaymentType === undefined) throw faults.required('PaymentType');
        throw faults.invalidValue('PaymentType', `PaymentType ${String(e.PaymentType)} (Cash, Check or CreditCard)`);
      }
      const acc = mustRef(c, 'Account', e.AccountRef, 'AccountRef')!;
      (e.AccountRef as Obj).name ??= acc.Name;
      if (e.PaymentType === 'CreditCard' && acc.AccountType !== 'Credit Card')
        throw faults.business('A credit card purchase must be paid from a Credit Card account', 'AccountRef');
      if (e.PaymentType !== 'CreditCard' && acc.AccountType !== 'Bank')
        throw faults.business('A cash or check purchase must be paid from a Bank account', 'AccountRef');
      let party: Entity | undefined;
      if (e.EntityRef !== undefined) {
        const t = String((e.EntityRef as Obj).type ?? 'Vendor');
        const ty = (['Vendor', 'Customer', 'Employee'].find((x) => x.toLowerCase() === t.toLowerCase()) ?? 'Vendor') as EntityType;
        party = mustRef(c, ty, e.EntityRef, 'EntityRef');
        e.EntityRef = { value: party!.Id, name: party!.DisplayName, type: ty };
      }
      expenseLines(c, e);
      currency(c, e, party);
      e.TxnDate ??= qboDate(now);
      totals(e, c);
      return;
    }
    case 'Bill': {
      const vendor = mustRef(c, 'Vendor', e.VendorRef, 'VendorRef')!;
      (e.VendorRef as Obj).name = vendor.DisplayName;
      expenseLines(c, e);
      currency(c, e, vendor);
      e.TxnDate ??= qboDate(now);
      e.DueDate ??= e.TxnDate;
      const ap = [...table(c, 'Account').values()].find((a) => a.AccountType === 'Accounts Payable');
      e.APAccountRef ??= ap ? { value: ap.Id, name: ap.Name } : undefined;
      const paid = selfId ? Number(table(c, 'Bill').get(selfId)?.TotalAmt ?? 0) - Number(table(c, 'Bill').get(selfId)?.Balance ?? 0) : 0;
      totals(e, c);
      e.Balance = round2(Number(e.TotalAmt) - paid);
      return;
    }
    case 'Invoice': {
      const customer = mustRef(c, 'Customer', e.CustomerRef, 'CustomerRef')!;
      (e.CustomerRef as Obj).name = customer.DisplayName;
      linesOf(e).forEach((l, i) => {
        if (l.DetailType === 'SubTotalLineDetail') return;
        amount(l.Amount, `Line[${i}].Amount`);
        l.Id ??= String(i + 1);
        l.DetailType = 'SalesItemLineDetail';
        const d = (isObj(l.SalesItemLineDetail) ? l.SalesItemLineDetail : (l.SalesItemLineDetail = {})) as Obj;
        if (d.ItemRef === undefined) {
          const services = [...table(c, 'Item').values()].find((x) => x.Name === 'Services');
          d.ItemRef = { value: services?.Id ?? '1', name: 'Services' };
        } else {
          const item = mustRef(c, 'Item', d.ItemRef, 'ItemRef')!;
          (d.ItemRef as Obj).name = item.Name;
        }
      });
      currency(c, e, customer);
      e.TxnDate ??= qboDate(now);
      e.DueDate ??= qboDate(Date.parse(String(e.TxnDate)) + 30 * DAY);
      if (!selfId) e.DocNumber ??= String(1000 + table(c, 'Invoice').size + 1);
      const before = selfId ? table(c, 'Invoice').get(selfId) : undefined;
      const paid = before ? Number(before.TotalAmt ?? 0) - Number(before.Balance ?? 0) : 0;
      totals(e, c);
      e.Balance = round2(Number(e.TotalAmt) - paid);
      return;
    }
    case 'Payment': {
      const customer = mustRef(c, 'Customer', e.CustomerRef, 'CustomerRef')!;
      (e.CustomerRef as Obj).name = customer.DisplayName;
      const total = amount(e.TotalAmt, 'TotalAmt');
      if (total < 0) throw faults.business('The payment amount cannot be negative', 'TotalAmt');
      currency(c, e, customer);
      e.TxnDate ??= qboDate(now);
      let applied = 0;
      for (const l of (Array.isArray(e.Line) ? e.Line : []) as Obj[]) {
        const a = amount(l.Amount, 'Line.Amount');
        for (const link of (Array.isArray(l.LinkedTxn) ? l.LinkedTxn : []) as Obj[]) {
          if (link.TxnType !== 'Invoice') continue;
          const inv = table(c, 'Invoice').get(String(link.TxnId));
          if (!inv) throw faults.badRef('LinkedTxn', String(link.TxnId));
          if (refValue(inv.CustomerRef) !== customer.Id)
            throw faults.business(`Invoice ${inv.Id} belongs to another customer`, 'LinkedTxn');
        }
        applied += a;
      }
      if (applied > total + 1e-9) throw faults.business('The amount applied to invoices is more than the payment amount', 'Line');
      e.UnappliedAmt = round2(total - applied);
      return;
    }
    case 'Attachable': {
      const refs = e.AttachableRef === undefined ? [] : e.AttachableRef;
      if (!Array.isArray(refs)) throw faults.invalidValue('AttachableRef', 'AttachableRef must be a list');
      for (const r of refs as Obj[]) {
        const er = isObj(r.EntityRef) ? r.EntityRef : undefined;
        const t = ['Purchase', 'Bill', 'Invoice', 'Payment', 'Vendor', 'Customer', 'Employee', 'Item', 'Account'].find(
          (x) => x.toLowerCase() === String(er?.type ?? '').toLowerCase(),
        );
        if (!er || !t) throw faults.required('AttachableRef.EntityRef');
        mustRef(c, t as EntityType, er, 'AttachableRef.EntityRef');
        er.type = t;
      }
      if (!e.FileName && !e.Note && !selfId) throw faults.required('FileName or Note');
      return;
    }
  }
}

export function respondEntity(e: Entity): Entity {
  return JSON.parse(JSON.stringify(e)) as Entity;
}

function strip(body: Obj): Obj {
  const out: Obj = {};
  for (const [k, v] of Object.entries(body)) if (!READ_ONLY.includes(k)) out[k] = v;
  return JSON.parse(JSON.stringify(out)) as Obj;
}

export function createEntity(c: Company, type: EntityType, body: Obj, now: number, onChange: OnChange): Entity {
  const fields = strip(body);
  prepare(c, type, fields, now);
  const id = String(c.nextId++);
  const e = {
    ...fields,
    domain: 'QBO',
    sparse: false,
    Id: id,
    SyncToken: '0',
    MetaData: { CreateTime: qboTime(now), LastUpdatedTime: qboTime(now) },
  } as Entity;
  table(c, type).set(id, e);
  if (type === 'Payment') applyPayment(c, e, 1, now, onChange);
  onChange(c, type, id, 'Create');
  return e;
}

function current(c: Company, type: EntityType, body: Obj): Entity {
  if (body.Id === undefined || body.Id === null || body.Id === '') throw faults.required('Id');
  const e = table(c, type).get(String(body.Id));
  if (!e) throw faults.notFound(type, String(body.Id));
  if (body.SyncToken === undefined || body.SyncToken === null || body.SyncToken === '') throw faults.required('SyncToken');
  if (String(body.SyncToken) !== e.SyncToken) throw faults.stale();
  return e;
}

function bump(e: Entity, now: number): void {
  e.SyncToken = String(Number(e.SyncToken) + 1);
  e.MetaData = { ...e.MetaData, LastUpdatedTime: qboTime(now) };
}

export function updateEntity(c: Company, type: EntityType, body: Obj, now: number, onChange: OnChange): Entity {
  const e = current(c, type, body);
  const sparse = body.sparse === true || body.sparse === 'true';
  const fields = strip(body);
  const keep: Obj = {};
  for (const k of READ_ONLY) if (k in e) keep[k] = e[k];
  const merged = sparse ? { ...strip(e), ...fields } : fields;
  if (type === 'Payment') applyPayment(c, e, -1, now, onChange);
  try {
    prepare(c, type, merged, now, e.Id);
  } catch (err) {
    if (type === 'Payment') applyPayment(c, e, 1, now, onChange);
    throw err;
  }
  for (const k of Object.keys(e)) delete (e as Obj)[k];
  Object.assign(e, merged, keep);
  bump(e, now);
  if (type === 'Payment') applyPayment(c, e, 1, now, onChange);
  onChange(c, type, e.Id, 'Update');
  return e;
}

export function deleteEntity(c: Company, type: EntityType, body: Obj, now: number, onChange: OnChange): Obj {
  if (!DELETABLE.has(type)) throw faults.unsupported('Delete');
  const e = current(c, type, body);
  if (type === 'Invoice' && Number(e.Balance) < Number(e.TotalAmt) - 1e-9)
    throw faults.business('This invoice has payments applied; delete or void the payments first');
  if (type === 'Payment') applyPayment(c, e, -1, now, onChange);
  table(c, type).delete(e.Id);
  onChange(c, type, e.Id, 'Delete');
  return { domain: 'QBO', status: 'Deleted', Id: e.Id };
}

export function voidEntity(c: Company, type: EntityType, body: Obj, now: number, onChange: OnChange): Entity {
  if (!VOIDABLE.has(type)) throw faults.unsupported('Void');
  const e = current(c, type, body);
  if (type === 'Invoice' && Number(e.Balance) < Number(e.TotalAmt) - 1e-9)
    throw faults.business('This invoice has payments applied; void the payments first');
  if (type === 'Payment') applyPayment(c, e, -1, now, onChange);
  for (const l of (Array.isArray(e.Line) ? e.Line : []) as Obj[]) l.Amount = 0;
  e.TotalAmt = 0;
  if ('Balance' in e) e.Balance = 0;
  if (type === 'Payment') e.UnappliedAmt = 0;
  e.PrivateNote = 'Voided';
  bump(e, now);
  onChange(c, type, e.Id, 'Void');
  return e;
}

/** Applies (sign 1) or reverses (sign -1) a payment's amounts on the invoices it links. */
function applyPayment(c: Company, p: Entity, sign: 1 | -1, now: number, onChange: OnChange): void {
  for (const l of (Array.isArray(p.Line) ? p.Line : []) as Obj[]) {
    for (const link of (Array.isArray(l.LinkedTxn) ? l.LinkedTxn : []) as Obj[]) {
      if (link.TxnType !== 'Invoice') continue;
      const inv = table(c, 'Invoice').get(String(link.TxnId));
      if (!inv) continue;
      inv.Balance = round2(Math.min(Number(inv.TotalAmt), Math.max(0, Number(inv.Balance) - sign * Number(l.Amount))));
      bump(inv, now);
      onChange(c, 'Invoice', inv.Id, 'Update');
    }
  }
}
