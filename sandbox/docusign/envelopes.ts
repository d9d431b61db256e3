import crypto from 'node:crypto';
import zlib from 'node:zlib';
import type { DsState, Envelope, Recipient, DsDocument, Tabs, EventNotification, Template } from './state.ts';
import { nowIso, guid } from './state.ts';
import { textPdf, documentText } from './pdf.ts';
import { publish, SIM_EVENTS } from './connect.ts';

/** A DocuSign error: HTTP status and `{errorCode, message}`. */
export class DsError extends Error {
  constructor(
    readonly status: number,
    readonly errorCode: string,
    message: string,
  ) {
    super(message);
  }
}
const fail = (errorCode: string, message: string, status = 400): never => {
  throw new DsError(status, errorCode, message);
};

type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): Obj[] => (Array.isArray(v) ? v.map(obj) : []);
const str = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
const truthy = (v: unknown) => v === true || v === 'true';
const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

function parseTabs(v: unknown): Tabs | undefined {
  const o = obj(v);
  const out: Tabs = {};
  for (const [k, list] of Object.entries(o)) if (Array.isArray(list)) out[k] = list.map(obj);
  return Object.keys(out).length ? out : undefined;
}

function parseDocuments(v: unknown): DsDocument[] {
  return arr(v).map((d, i) => {
    const documentId =
      str(d.documentId) ??
      fail('INVALID_REQUEST_PARAMETER', 'The request contained at least one invalid parameter. documentId is required.');
    const b64 = str(d.documentBase64);
    if (!b64)
      fail('INVALID_REQUEST_BODY', `The request body is missing or improperly formatted. Document ${documentId} has no documentBase64.`);
    const bytes = Buffer.from(b64!, 'base64');
    if (bytes.length === 0)
      fail('INVALID_REQUEST_BODY', `The request body is missing or improperly formatted. Document ${documentId} is empty.`);
    const name = str(d.name) ?? `Document ${documentId}`;
    const fileExtension = (str(d.fileExtension) ?? (name.includes('.') ? name.split('.').pop()! : 'pdf')).toLowerCase();
    return { documentId, name, fileExtension, bytes, order: Number(d.order ?? i + 1) };
  });
}

function parseRecipients(v: unknown): Recipient[] {
  const r = obj(v);
  const out: Recipient[] = [];
  for (const [key, type] of [
    ['signers', 'signer'],
    ['carbonCopies', 'carbonCopy'],
  ] as const) {
    for (const s of arr(r[key])) {
      const email = str(s.email) ?? '';
      const name = str(s.name) ?? '';
      const recipientId = str(s.recipientId) ?? fail('INVALID_RECIPIENT_ID', 'The recipient ID is invalid. recipientId is required.');
      if (!EMAIL.test(email))
        fail(
          'INVALID_EMAIL_ADDRESS_FOR_RECIPIENT',
          `The email address for the recipient is invalid. The recipient Id follows. ${recipientId}`,
        );
      if (!name)
        fail('INVALID_USERNAME_FOR_RECIPIENT', `The user name for the recipient is invalid. The recipient Id follows. ${recipientId}`);
      out.push({
        recipientId,
        recipientIdGuid: guid(),
        type,
        name,
        email,
        routingOrder: Number(s.routingOrder ?? 1),
        roleName: str(s.roleName),
        status: 'created',
        tabs: parseTabs(s.tabs),
      });
    }
  }
  return out;
}

function parseEventNotification(v: unknown): EventNotification | undefined {
  const e = obj(v);
  if (!e.url) return undefined;
  const events = new Set<string>(Array.isArray(e.events) ? e.events.map(String) : []);
  // Legacy shape: envelopeEvents [{envelopeEventStatusCode: 'completed'}], recipientEvents [{recipientEventStatusCode: 'Completed'}].
  for (const x of arr(e.envelopeEvents)) events.add(`envelope-${String(x.envelopeEventStatusCode ?? '').toLowerCase()}`);
  for (const x of arr(e.recipientEvents)) events.add(`recipient-${String(x.recipientEventStatusCode ?? '').toLowerCase()}`);
  for (const ev of events)
    if (!SIM_EVENTS.includes(ev))
      fail('INVALID_REQUEST_PARAMETER', `The request contained at least one invalid parameter. Unknown event '${ev}'.`);
  const ed = obj(e.eventData);
  return {
    url: String(e.url),
    requireAcknowledgment: truthy(e.requireAcknowledgment),
    includeHMAC: truthy(e.includeHMAC),
    events: [...events],
    includeData: Array.isArray(ed.includeData) ? ed.includeData.map(String) : [],
  };
}

/** Anchor tabs must find their text in at least one document unless anchorIgnoreIfNotPresent. */
function checkAnchors(docs: DsDocument[], recipients: Recipient[]): void {
  const texts = docs.map((d) => documentText(d.bytes, (b) => zlib.inflateSync(b)));
  for (const r of recipients) {
    for (const list of Object.values(r.tabs ?? {})) {
      for (const t of list) {
        const anchor = str(t.anchorString);
        if (!anchor || truthy(t.anchorIgnoreIfNotPresent)) continue;
        const caseSensitive = !(t.anchorCaseSensitive === false || t.anchorCaseSensitive === 'false');
        const found = texts.some((x) => (caseSensitive ? x.includes(anchor) : x.toLowerCase().includes(anchor.toLowerCase())));
        if (!found)
          fail(
            'ANCHOR_TAB_STRING_NOT_FOUND',
            `The specified Anchor Tab string was not found in the document. Anchor Tab String: ${anchor}`,
          );
      }
    }
  }
}

export interface EnvelopeOps {
  create(accountId: string, senderUserId: string, body: unknown): Envelope;
  send(e: Envelope): void;
  deliver(e: Envelope, recipientId?: string): Recipient;
  sign(e: Envelope, recipientId?: string): Recipient;
  decline(e: Envelope, reason: string, recipientId?: string): Recipient;
  void(e: Envelope, reason: string): void;
  resend(e: Envelope): void;
  summary(e: Envelope, includeData: string[]): Record<string, unknown>;
  json(e: Envelope, include: string[]): Record<string, unknown>;
  recipientsJson(e: Envelope): Record<string, unknown>;
  /** One PDF of every document (and the certificate page when asked), the same bytes while the envelope does not change. */
  combinedPdf(e: Envelope, withCertificate?: boolean): Buffer;
  certificatePdf(e: Envelope): Buffer;
  documentPdf(e: Envelope, d: DsDocument): Buffer;
}

export function makeEnvelopeOps(getState: () => DsState): EnvelopeOps {
  const emit = (e: Envelope, event: string, recipientId?: string) => {
    const st = getState();
    publish(getState, st, { event, envelope: e, recipientId, summary: (inc) => ops.summary(e, inc) });
  };
  const touch = (e: Envelope) => {
    const t = nowIso();
    e.lastModifiedDateTime = t;
    e.statusChangedDateTime = t;
    return t;
  };
  const currentOrder = (e: Envelope) => {
    const open = e.recipients.filter((r) => r.type === 'signer' && r.status !== 'completed');
    return open.length ? Math.min(...open.map((r) => r.routingOrder)) : undefined;
  };
  const activate = (e: Envelope) => {
    // Recipients of the lowest routing order still open get the envelope; carbon copies with them.
    const order = currentOrder(e);
    const t = nowIso();
    for (const r of e.recipients) {
      if (r.status !== 'created') continue;
      if (order === undefined || r.routingOrder <= order) {
        r.status = r.type === 'carbonCopy' && order === undefined ? 'completed' : 'sent';
        r.sentDateTime = t;
        if (r.type === 'signer') emit(e, 'recipient-sent', r.recipientId);
      }
    }
  };
  const pick = (e: Envelope, recipientId: string | undefined, statuses: string[]): Recipient => {
    if (e.status === 'completed' || e.status === 'declined' || e.status === 'voided')
      fail('ENVELOPE_INVALID_STATUS', `Invalid envelope status. Envelope status: ${e.status}`);
    if (e.status === 'created') fail('ENVELOPE_INVALID_STATUS', 'Invalid envelope status. Envelope status: created (send it first)');
    const r = recipientId
      ? (e.recipients.find((x) => x.recipientId === recipientId) ??
        fail('INVALID_RECIPIENT_ID', `The recipient ID is invalid. ${recipientId}`))
      : (e.recipients.find((x) => x.type === 'signer' && statuses.includes(x.status)) ??
        fail('INVALID_RECIPIENT_ID', 'No recipient of this envelope can do that now.'));
    if (r.type !== 'signer' || !statuses.includes(r.status))
      fail('RECIPIENT_NOT_IN_SEQUENCE', `Recipient ${r.recipientId} is ${r.status}, not ${statuses.join(' or ')}.`);
    return r;
  };

  const certificateLines = (e: Envelope): string[] => {
    const lines = [
      'Certificate Of Completion',
      '',
      `Envelope Id: ${e.envelopeId}`,
      `Subject: ${e.emailSubject}`,
      `Status: ${e.status}`,
      `Envelope Originator: ${getState().users.get(e.senderUserId)?.name ?? ''}`,
      `Sent: ${e.sentDateTime ?? '-'}`,
      `Completed: ${e.completedDateTime ?? '-'}`,
      '',
      'Signer Events',
    ];
    for (const r of e.recipients) {
      lines.push(`${r.name} <${r.email}> (${r.type}, routing order ${r.routingOrder}): ${r.status}`);
      if (r.sentDateTime) lines.push(`  Sent ${r.sentDateTime}`);
      if (r.deliveredDateTime) lines.push(`  Viewed ${r.deliveredDateTime}`);
      if (r.signedDateTime) lines.push(`  Signed ${r.signedDateTime}`);
      if (r.declinedDateTime) lines.push(`  Declined ${r.declinedDateTime}: ${r.declinedReason ?? ''}`);
    }
    if (e.voidedDateTime) lines.push('', `Voided ${e.voidedDateTime}: ${e.voidedReason ?? ''}`);
    return lines;
  };

  const ops: EnvelopeOps = {
    create(accountId, senderUserId, input) {
      const st = getState();
      const b = obj(input);
      const status = str(b.status) ?? 'created';
      if (status !== 'sent' && status !== 'created')
        fail('INVALID_ENVELOPE_STATUS', `Invalid envelope status. Only 'sent' or 'created' may be given on create, not '${status}'.`);
      let documents = parseDocuments(b.documents);
      const recipients = parseRecipients(b.recipients);
      let emailSubject = str(b.emailSubject) ?? '';
      let templateId: string | undefined;
      if (b.templateId !== undefined) {
        templateId = String(b.templateId);
        const tpl: Template =
          st.accounts.get(accountId)?.templates.get(templateId) ?? fail('TEMPLATE_ID_INVALID', `Invalid template ID. ${templateId}`);
        documents = tpl.documents.map((d) => ({ ...d }));
        emailSubject ||= tpl.emailSubject;
        const roles = arr(b.templateRoles);
        for (const role of tpl.roles) {
          const fill = roles.find((x) => x.roleName === role.roleName);
          if (!fill) continue; // an unfilled role is dropped, as DocuSign does
          const email = str(fill.email) ?? '';
          if (!EMAIL.test(email))
            fail(
              'INVALID_EMAIL_ADDRESS_FOR_RECIPIENT',
              `The email address for the recipient is invalid. The recipient Id follows. ${role.recipientId}`,
            );
          if (!str(fill.name))
            fail(
              'INVALID_USERNAME_FOR_RECIPIENT',
              `The user name for the recipient is invalid. The recipient Id follows. ${role.recipientId}`,
            );
          recipients.push({
            recipientId: role.recipientId,
            recipientIdGuid: guid(),
            type: role.type,
            name: String(fill.name),
            email,
            routingOrder: Number(fill.routingOrder ?? role.routingOrder),
            roleName: role.roleName,
            status: 'created',
            tabs: parseTabs(fill.tabs) ?? role.tabs,
          });
        }
        for (const r of roles) {
          if (!tpl.roles.some((x) => x.roleName === r.roleName))
            fail('TEMPLATE_ROLE_NAME_NOT_FOUND', `The role name was not found in the template. ${String(r.roleName)}`);
        }
      }
      const ids = new Set<string>();
      for (const r of recipients) {
        if (ids.has(r.recipientId)) fail('INVALID_RECIPIENT_ID', `The recipient ID is invalid. Duplicate recipientId ${r.recipientId}`);
        ids.add(r.recipientId);
      }
      if (status === 'sent') {
        if (!emailSubject)
          fail(
            'ENVELOPE_IS_INCOMPLETE',
            'The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line. Subject missing.',
          );
        if (documents.length === 0)
          fail(
            'ENVELOPE_IS_INCOMPLETE',
            'The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line. Documents missing.',
          );
        if (!recipients.some((r) => r.type === 'signer'))
          fail(
            'ENVELOPE_IS_INCOMPLETE',
            'The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line. Recipients missing.',
          );
      }
      checkAnchors(documents, recipients);
      const cf = obj(b.customFields);
      const textCustomFields = arr(cf.textCustomFields).map((f, i) => ({
        fieldId: String(f.fieldId ?? 10_000 + i),
        name: String(f.name ?? ''),
        value: String(f.value ?? ''),
        show: String(f.show ?? 'false'),
        required: String(f.required ?? 'false'),
      }));
      const t = nowIso();
      const e: Envelope = {
        envelopeId: guid(),
        accountId,
        senderUserId,
        status: 'created',
        emailSubject,
        emailBlurb: str(b.emailBlurb),
        templateId,
        documents,
        recipients,
        textCustomFields,
        eventNotification: parseEventNotification(b.eventNotification),
        createdDateTime: t,
        statusChangedDateTime: t,
        lastModifiedDateTime: t,
        resendCount: 0,
        polls: { hour: 0, count: 0 },
      };
      st.envelopes.set(e.envelopeId, e);
      if (status === 'sent') ops.send(e);
      return e;
    },
    send(e) {
      if (e.status !== 'created') fail('ENVELOPE_INVALID_STATUS', `Invalid envelope status. Envelope status: ${e.status}`);
      if (e.documents.length === 0 || !e.recipients.some((r) => r.type === 'signer') || !e.emailSubject) {
        fail(
          'ENVELOPE_IS_INCOMPLETE',
          'The Envelope is not Complete. A Complete Envelope Requires Documents, Recipients, Tabs, and a Subject Line.',
        );
      }
      const t = touch(e);
      e.status = 'sent';
      e.sentDateTime = t;
      emit(e, 'envelope-sent');
      activate(e);
    },
    deliver(e, recipientId) {
      const r = pick(e, recipientId, ['sent']);
      const t = nowIso();
      r.status = 'delivered';
      r.deliveredDateTime = t;
      emit(e, 'recipient-delivered', r.recipientId);
      if (e.status === 'sent') {
        touch(e);
        e.status = 'delivered';
        e.deliveredDateTime = t;
        emit(e, 'envelope-delivered');
      }
      return r;
    },
    sign(e, recipientId) {
      const r = pick(e, recipientId, ['sent', 'delivered']);
      const order = currentOrder(e);
      if (order !== undefined && r.routingOrder > order)
        fail(
          'RECIPIENT_NOT_IN_SEQUENCE',
          `Recipient ${r.recipientId} is not in sequence (routing order ${r.routingOrder}, current ${order}).`,
        );
      if (r.status === 'sent') ops.deliver(e, r.recipientId);
      const t = nowIso();
      r.status = 'completed';
      r.signedDateTime = t;
      touch(e);
      emit(e, 'recipient-completed', r.recipientId);
      activate(e);
      if (e.recipients.every((x) => x.type !== 'signer' || x.status === 'completed')) {
        for (const x of e.recipients)
          if (x.type === 'carbonCopy') {
            x.status = 'completed';
            x.sentDateTime ??= t;
          }
        e.status = 'completed';
        e.completedDateTime = t;
        e.deliveredDateTime ??= t;
        emit(e, 'envelope-completed');
      }
      return r;
    },
    decline(e, reason, recipientId) {
      const r = pick(e, recipientId, ['sent', 'delivered']);
      const t = touch(e);
      r.status = 'declined';
      r.declinedDateTime = t;
      r.declinedReason = reason;
      e.status = 'declined';
      e.declinedDateTime = t;
      emit(e, 'recipient-declined', r.recipientId);
      emit(e, 'envelope-declined');
      return r;
    },
    void(e, reason) {
      if (e.status !== 'sent' && e.status !== 'delivered')
        fail('ENVELOPE_CANNOT_VOID_INVALID_STATE', 'Only sent or delivered envelopes may be voided.');
      if (!reason)
        fail(
          'INVALID_REQUEST_PARAMETER',
          'The request contained at least one invalid parameter. voidedReason is required to void an envelope.',
        );
      const t = touch(e);
      e.status = 'voided';
      e.voidedDateTime = t;
      e.voidedReason = reason;
      emit(e, 'envelope-voided');
    },
    resend(e) {
      if (e.status !== 'sent' && e.status !== 'delivered')
        fail('ENVELOPE_INVALID_STATUS', `Invalid envelope status. Envelope status: ${e.status}`);
      e.resendCount += 1;
      e.lastModifiedDateTime = nowIso();
      emit(e, 'envelope-resent');
    },
    summary(e, includeData) {
      const out = ops.json(e, []);
      if (includeData.includes('recipients')) out.recipients = ops.recipientsJson(e);
      if (includeData.includes('custom_fields')) out.customFields = { textCustomFields: e.textCustomFields, listCustomFields: [] };
      if (includeData.includes('documents')) {
        out.envelopeDocuments = e.documents.map((d) => ({
          documentId: d.documentId,
          name: d.name,
          type: 'content',
          order: String(d.order),
          PDFBytes: ops.documentPdf(e, d).toString('base64'),
        }));
      }
      return out;
    },
    json(e, include) {
      const st = getState();
      const sender = st.users.get(e.senderUserId);
      const base = `/envelopes/${e.envelopeId}`;
      const out: Record<string, unknown> = {
        envelopeId: e.envelopeId,
        status: e.status,
        emailSubject: e.emailSubject,
        emailBlurb: e.emailBlurb,
        envelopeUri: base,
        documentsUri: `${base}/documents`,
        recipientsUri: `${base}/recipients`,
        customFieldsUri: `${base}/custom_fields`,
        attachmentsUri: `${base}/attachments`,
        notificationUri: `${base}/notification`,
        templatesUri: `${base}/templates`,
        createdDateTime: e.createdDateTime,
        sentDateTime: e.sentDateTime,
        deliveredDateTime: e.deliveredDateTime,
        completedDateTime: e.completedDateTime,
        declinedDateTime: e.declinedDateTime,
        voidedDateTime: e.voidedDateTime,
        voidedReason: e.voidedReason,
        statusChangedDateTime: e.statusChangedDateTime,
        lastModifiedDateTime: e.lastModifiedDateTime,
        initialSentDateTime: e.sentDateTime,
        sender: sender ? { userName: sender.name, userId: sender.userId, accountId: e.accountId, email: sender.email } : undefined,
        purgeState: 'unpurged',
        envelopeIdStamping: 'true',
        is21CFRPart11: 'false',
        signerCanSignOnMobile: 'true',
        autoNavigation: 'true',
        isSignatureProviderEnvelope: 'false',
        hasFormDataChanged: 'false',
        allowComments: 'true',
        anySigner: null,
        envelopeLocation: 'current_site',
        templateId: e.templateId,
      };
      if (include.includes('recipients')) out.recipients = ops.recipientsJson(e);
      if (include.includes('custom_fields')) out.customFields = { textCustomFields: e.textCustomFields, listCustomFields: [] };
      if (include.includes('documents'))
        out.envelopeDocuments = e.documents.map((d) => ({
          documentId: d.documentId,
          name: d.name,
          type: 'content',
          order: String(d.order),
          uri: `${base}/documents/${d.documentId}`,
        }));
      for (const k of Object.keys(out)) if (out[k] === undefined) delete out[k];
      return out;
    },
    recipientsJson(e) {
      const one = (r: Recipient) => {
        const o: Record<string, unknown> = {
          recipientId: r.recipientId,
          recipientIdGuid: r.recipientIdGuid,
          name: r.name,
          email: r.email,
          routingOrder: String(r.routingOrder),
          roleName: r.roleName,
          status: r.status,
          recipientType: r.type,
          sentDateTime: r.sentDateTime,
          deliveredDateTime: r.deliveredDateTime,
          signedDateTime: r.signedDateTime,
          declinedDateTime: r.declinedDateTime,
          declinedReason: r.declinedReason,
          tabs: r.tabs,
          deliveryMethod: 'email',
          completedCount: r.status === 'completed' ? '1' : '0',
        };
        for (const k of Object.keys(o)) if (o[k] === undefined) delete o[k];
        return o;
      };
      const signers = e.recipients.filter((r) => r.type === 'signer').map(one);
      const carbonCopies = e.recipients.filter((r) => r.type === 'carbonCopy').map(one);
      const open = e.recipients.filter((r) => r.type === 'signer' && r.status !== 'completed');
      return {
        signers,
        agents: [],
        editors: [],
        intermediaries: [],
        carbonCopies,
        certifiedDeliveries: [],
        inPersonSigners: [],
        seals: [],
        witnesses: [],
        notaries: [],
        recipientCount: String(e.recipients.length),
        currentRoutingOrder: String(
          open.length ? Math.min(...open.map((r) => r.routingOrder)) : Math.max(1, ...e.recipients.map((r) => r.routingOrder)),
        ),
      };
    },
    documentPdf(e, d) {
      if (d.fileExtension === 'pdf' && d.bytes.subarray(0, 5).toString('latin1') === '%PDF-') return d.bytes;
      // DocuSign converts other formats to PDF; the fake renders the text.
      return textPdf([[d.name, '', ...d.bytes.toString('utf8').split(/\r?\n/)]], `${e.emailSubject} - ${d.name}`);
    },
    combinedPdf(e, withCertificate = false) {
      const pages = e.documents.map((d) => {
        const h = crypto.createHash('sha256').update(d.bytes).digest('hex');
        return [
          d.name,
          '',
          `Envelope ${e.envelopeId}`,
          `Document ${d.documentId} (${d.fileExtension}, ${d.bytes.length} bytes)`,
          `sha256 ${h}`,
          '',
          ...documentText(d.bytes, (b) => zlib.inflateSync(b))
            .split(/\r?\n/)
            .filter((l) => /[A-Za-z]/.test(l) && l.length < 200)
            .slice(0, 20),
        ];
      });
      const signed = e.recipients
        .filter((r) => r.type === 'signer')
        .map((r) => `${r.name} <${r.email}>: ${r.status}${r.signedDateTime ? ` ${r.signedDateTime}` : ''}`);
      pages.push([`${e.emailSubject}`, '', `Status: ${e.status}`, ...signed]);
      if (withCertificate) pages.push(certificateLines(e));
      return textPdf(pages, e.emailSubject);
    },
    certificatePdf(e) {
      return textPdf([certificateLines(e)], `Certificate of Completion ${e.envelopeId}`);
    },
  };
  return ops;
}
