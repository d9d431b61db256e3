import { z } from 'zod';
import { defineAction, fileRef, type ActionContext, type ConnectionHandle } from '../../core/connector.ts';
import { permanent } from '../../core/errors.ts';
import { docusign, esign } from './client.ts';
import { IDEMPOTENCY_FIELD } from './fields.ts';
import type { EnvelopeJson } from './normalise.ts';

function conn(ctx: ActionContext, action: string): ConnectionHandle {
  if (!ctx.connection) throw permanent(`${action} needs a DocuSign connection (set \`connection:\` on the step)`);
  if (ctx.connection.connectorId !== 'docusign')
    throw permanent(`${action} needs a docusign connection; ${ctx.connection.id} is ${ctx.connection.connectorId}`);
  return ctx.connection;
}

const person = { name: z.string().min(1).max(100), email: z.string().email() };
/** Events an envelope's own Connect notification asks for (when the connection has a connectUrl). */
const NOTIFY_EVENTS = [
  'envelope-sent',
  'envelope-delivered',
  'envelope-completed',
  'envelope-declined',
  'envelope-voided',
  'recipient-completed',
];

const sendInput = z
  .object({
    emailSubject: z.string().min(1).max(100),
    emailBlurb: z.string().max(10_000).optional(),
    /** From a template: its id, and the roles filled with names and emails. */
    templateId: z.string().min(1).optional(),
    roles: z
      .array(z.object({ roleName: z.string().min(1), ...person }))
      .default([])
      .describe('template roles: roleName, name, email'),
    /** Or from a document (a fileRef of an earlier step), with signature tabs placed by anchor text. */
    document: fileRef.optional(),
    documentName: z.string().max(100).optional(),
    signers: z
      .array(
        z.object({
          ...person,
          routingOrder: z.coerce.number().int().min(1).max(99).optional(),
          anchor: z.string().min(1).max(100).default('/sn1/').describe('text in the document where this signer signs'),
        }),
      )
      .default([]),
    carbonCopies: z.array(z.object(person)).default([]),
    customFields: z.record(z.string().min(1).max(50), z.string().max(100)).default({}),
    status: z.enum(['sent', 'created']).default('sent'),
  })
  .superRefine((v, c) => {
    if (Boolean(v.templateId) === Boolean(v.document))
      c.addIssue({ code: 'custom', path: ['templateId'], message: 'give either templateId (with roles) or document (with signers)' });
    if (v.templateId && v.roles.length === 0) c.addIssue({ code: 'custom', path: ['roles'], message: 'a template needs its roles filled' });
    if (v.document && v.signers.length === 0)
      c.addIssue({ code: 'custom', path: ['signers'], message: 'a document needs at least one signer' });
  });

const envelopeOutput = z.object({
  envelopeId: z.string(),
  status: z.string(),
  uri: z.string().optional(),
  statusDateTime: z.string().optional(),
  /** True when an earlier attempt of this step had created it already (found by its idempotency field). */
  reused: z.boolean(),
});

export const sendEnvelope = defineAction({
  id: 'docusign.envelope.send',
  title: 'Send a DocuSign envelope (from a template, or a document with anchor tabs)',
  input: sendInput,
  output: envelopeOutput,
  sampleOutput: { envelopeId: '4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b', status: 'sent', reused: false },
  outputRef: (o) => ({ kind: 'docusign.envelope', id: o.envelopeId }),
  async run(ctx, input) {
    const c = conn(ctx, 'docusign.envelope.send');
    const key = ctx.idempotencyKey.slice(0, 100);
    // A retry first looks for the envelope an earlier attempt may have made (its answer lost).
    if (ctx.attempt > 1) {
      const { data } = await esign<{ envelopes?: EnvelopeJson[] }>(c, ctx.timeoutMs, 'find an earlier attempt', (cl, acc, cb) =>
        new (docusign().EnvelopesApi)(cl).listStatusChanges(
          acc,
          { fromDate: new Date(Date.now() - 30 * 86_400_000).toISOString(), customField: `${IDEMPOTENCY_FIELD}=${key}` },
          cb,
        ),
      );
      const found = data.envelopes?.[0];
      if (found?.envelopeId) {
        ctx.trace({ response: { reused: found.envelopeId } });
        return { envelopeId: found.envelopeId, status: String(found.status ?? 'sent'), reused: true };
      }
    }
    const textCustomFields = [
      { name: IDEMPOTENCY_FIELD, value: key, show: 'false', required: 'false' },
      ...Object.entries(input.customFields).map(([name, value]) => ({ name, value, show: 'false', required: 'false' })),
    ];
    const definition: Record<string, unknown> = {
      emailSubject: input.emailSubject,
      ...(input.emailBlurb ? { emailBlurb: input.emailBlurb } : {}),
      status: input.status,
      customFields: { textCustomFields },
    };
    if (input.templateId) {
      definition.templateId = input.templateId;
      definition.templateRoles = input.roles.map((r) => ({ roleName: r.roleName, name: r.name, email: r.email }));
    } else {
      if (!ctx.files) throw permanent('files are not available to this step');
      const chunks: Buffer[] = [];
      for await (const chunk of await ctx.files.open(input.document!)) chunks.push(Buffer.from(chunk));
      const ext = (/\.([A-Za-z0-9]{1,5})$/.exec(input.document!.name)?.[1] ?? 'pdf').toLowerCase();
      definition.documents = [
        {
          documentBase64: Buffer.concat(chunks).toString('base64'),
          name: input.documentName ?? input.document!.name,
          fileExtension: ext,
          documentId: '1',
        },
      ];
      definition.recipients = {
        signers: input.signers.map((s, i) => ({
          name: s.name,
          email: s.email,
          recipientId: String(i + 1),
          routingOrder: String(s.routingOrder ?? i + 1),
          tabs: { signHereTabs: [{ anchorString: s.anchor, anchorUnits: 'pixels', anchorXOffset: '0', anchorYOffset: '0' }] },
        })),
        carbonCopies: input.carbonCopies.map((cc, i) => ({
          name: cc.name,
          email: cc.email,
          recipientId: String(input.signers.length + i + 1),
          routingOrder: String(input.signers.length + 1),
        })),
      };
    }
    const connectUrl = typeof c.settings.connectUrl === 'string' && /^https?:\/\//.test(c.settings.connectUrl) ? c.settings.connectUrl : '';
    if (connectUrl)
      definition.eventNotification = {
        url: connectUrl,
        requireAcknowledgment: 'true',
        includeHMAC: 'true',
        events: NOTIFY_EVENTS,
        eventData: { version: 'restv2.1', format: 'json', includeData: ['custom_fields', 'recipients'] },
      };
    ctx.trace({
      request: { ...definition, documents: input.document ? [{ name: input.document.name, size: input.document.size }] : undefined },
    });
    const { data } = await esign<{ envelopeId: string; status: string; uri?: string; statusDateTime?: string }>(
      c,
      ctx.timeoutMs,
      'create envelope',
      (cl, acc, cb) => new (docusign().EnvelopesApi)(cl).createEnvelope(acc, { envelopeDefinition: definition }, cb),
    );
    ctx.trace({ response: data });
    return { envelopeId: data.envelopeId, status: data.status, uri: data.uri, statusDateTime: data.statusDateTime, reused: false };
  },
});

const envelopeId = z.string().min(1).max(64).describe('envelope id');

export const getEnvelope = defineAction({
  id: 'docusign.envelope.get',
  title: 'Get a DocuSign envelope (status, recipients, custom fields)',
  input: z.object({ envelopeId }),
  sampleOutput: { envelopeId: '4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b', status: 'completed', emailSubject: 'Services Agreement' },
  async run(ctx, input) {
    const c = conn(ctx, 'docusign.envelope.get');
    const { data } = await esign<EnvelopeJson>(c, ctx.timeoutMs, 'get envelope', (cl, acc, cb) =>
      new (docusign().EnvelopesApi)(cl).getEnvelope(acc, input.envelopeId, { include: 'recipients,custom_fields' }, cb),
    );
    return {
      envelopeId: data.envelopeId ?? input.envelopeId,
      status: data.status ?? null,
      emailSubject: data.emailSubject ?? null,
      completedDateTime: data.completedDateTime ?? null,
      voidedReason: data.voidedReason ?? null,
      customFields: Object.fromEntries((data.customFields?.textCustomFields ?? []).map((f) => [String(f.name), String(f.value ?? '')])),
      recipients: [...(data.recipients?.signers ?? []), ...(data.recipients?.carbonCopies ?? [])].map((r) => ({
        id: r.recipientId,
        name: r.name,
        email: r.email,
        status: r.status,
        declinedReason: r.declinedReason ?? null,
      })),
    };
  },
});

export const voidEnvelope = defineAction({
  id: 'docusign.envelope.void',
  title: 'Void a DocuSign envelope',
  input: z.object({ envelopeId, reason: z.string().min(1).max(200) }),
  sampleOutput: { envelopeId: '4e8f1a2b-3c4d-4e5f-8a9b-0c1d2e3f4a5b', status: 'voided' },
  async run(ctx, input) {
    const c = conn(ctx, 'docusign.envelope.void');
    await esign(c, ctx.timeoutMs, 'void envelope', (cl, acc, cb) =>
      new (docusign().EnvelopesApi)(cl).update(acc, input.envelopeId, { envelope: { status: 'voided', voidedReason: input.reason } }, cb),
    );
    return { envelopeId: input.envelopeId, status: 'voided' };
  },
});

export const downloadDocuments = defineAction({
  id: 'docusign.envelope.download',
  title: 'Download the combined signed PDF (and the certificate) as files',
  input: z.object({
    envelopeId,
    name: z.string().min(1).max(200).optional().describe('file name of the combined PDF (default: <envelope id>.pdf)'),
    certificate: z.boolean().default(false).describe('also download the certificate of completion'),
  }),
  output: z.object({ file: fileRef, certificate: fileRef.optional() }),
  sampleOutput: {
    file: { fileId: 'file_abcdefghijkl', name: 'Services Agreement — signed.pdf', contentType: 'application/pdf', size: 2048, sha256: '…' },
  },
  async run(ctx, input) {
    const c = conn(ctx, 'docusign.envelope.download');
    if (!ctx.files) throw permanent('files are not available to this step');
    const fetchDoc = async (documentId: string) => {
      const { data } = await esign<Buffer | string>(c, ctx.timeoutMs, `download ${documentId}`, (cl, acc, cb) =>
        new (docusign().EnvelopesApi)(cl).getDocument(acc, input.envelopeId, documentId, {}, cb),
      );
      return Buffer.isBuffer(data) ? data : Buffer.from(String(data), 'binary');
    };
    const combined = await fetchDoc('combined');
    const file = await ctx.files.put(combined, { name: input.name ?? `${input.envelopeId}.pdf`, contentType: 'application/pdf' });
    const out: { file: typeof file; certificate?: typeof file } = { file };
    if (input.certificate) {
      const cert = await fetchDoc('certificate');
      out.certificate = await ctx.files.put(cert, { name: `${input.envelopeId} — certificate.pdf`, contentType: 'application/pdf' });
    }
    ctx.trace({ response: { file: { name: file.name, size: file.size, sha256: file.sha256 } } });
    return out;
  },
});
