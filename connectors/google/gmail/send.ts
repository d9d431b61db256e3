import crypto from 'node:crypto';
import { z } from 'zod';
import { defineAction } from '../../../core/connector.ts';
import { gmailFor, requireConnection } from '../client.ts';
import { mapGoogleError } from '../errors.ts';
import { buildMessage, toRaw } from './mime.ts';

const addresses = z
  .union([z.string().min(3), z.array(z.string().min(3)).min(1)])
  .transform((v) => (Array.isArray(v) ? v : v.split(',')).map((s) => s.trim()).filter(Boolean));

export const gmailSend = defineAction({
  id: 'google.gmail.send',
  title: 'Send an email with Gmail',
  description: 'Sends a message from the connected Google account (UTF-8 subjects and names encoded as RFC 2047 words).',
  input: z
    .object({
      to: addresses.describe('one address or a list ("Name <a@b.com>" allowed)'),
      cc: addresses.optional(),
      bcc: addresses.optional(),
      subject: z.string().max(998),
      text: z.string().optional().describe('plain-text body'),
      html: z.string().optional().describe('HTML body (sent with the text one as alternatives when both are given)'),
      fromName: z.string().max(200).optional().describe("display name; Gmail sends from the account's own address"),
      replyTo: z.string().optional(),
      threadId: z.string().optional().describe('to reply in a thread'),
      inReplyTo: z.string().optional().describe('the Message-ID replied to'),
    })
    .refine((v) => v.text !== undefined || v.html !== undefined, { message: 'give text or html', path: ['text'] }),
  output: z.object({ id: z.string(), threadId: z.string(), labelIds: z.array(z.string()), messageId: z.string() }),
  sampleOutput: {
    id: '18c3f0a1b2c3d4e5',
    threadId: '18c3f0a1b2c3d4e5',
    labelIds: ['SENT'],
    messageId: '<dingbridge.abc@dingbridge.local>',
  },
  async run(ctx, input) {
    const gm = await gmailFor(requireConnection(ctx.connection, 'google.gmail.send'));
    // The Message-ID is derived from the step's idempotency key: a retried step sends the same message id.
    const messageId = `<dingbridge.${crypto.createHash('sha256').update(ctx.idempotencyKey).digest('hex').slice(0, 32)}@dingbridge.local>`;
    let from: string | undefined;
    if (input.fromName) {
      try {
        const profile = await gm.users.getProfile({ userId: 'me' }, { retry: false });
        from = `${input.fromName} <${profile.data.emailAddress}>`;
      } catch (err) {
        throw mapGoogleError('Gmail users.getProfile', err);
      }
    }
    const raw = toRaw(
      buildMessage({
        to: input.to,
        cc: input.cc,
        bcc: input.bcc,
        from,
        replyTo: input.replyTo,
        subject: input.subject,
        text: input.text,
        html: input.html,
        inReplyTo: input.inReplyTo,
        messageId,
      }),
    );
    try {
      const res = await gm.users.messages.send(
        { userId: 'me', requestBody: { raw, ...(input.threadId ? { threadId: input.threadId } : {}) } },
        { retry: false, timeout: ctx.timeoutMs },
      );
      return { id: res.data.id ?? '', threadId: res.data.threadId ?? '', labelIds: res.data.labelIds ?? [], messageId };
    } catch (err) {
      throw mapGoogleError('Gmail users.messages.send', err);
    }
  },
});
