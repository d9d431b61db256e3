import assert from 'node:assert/strict';
import https from 'node:https';
import tls from 'node:tls';
import type { RunningFake } from '../../sandbox/framework/index.ts';
import type { DocusignFakeState } from '../../sandbox/docusign/index.ts';

export interface HttpsAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json: any;
}

/** Plain HTTPS to the DocuSign fake with its certificate (the control API, following a consent link). */
export function httpsCall(
  fake: RunningFake<DocusignFakeState>,
  method: string,
  url: string,
  opts: { body?: unknown; form?: Record<string, string>; headers?: Record<string, string> } = {},
): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const payload = opts.form ? new URLSearchParams(opts.form).toString() : opts.body === undefined ? undefined : JSON.stringify(opts.body);
    const req = https.request(
      url,
      {
        method,
        ca: fake.certificatePem,
        headers: {
          ...(payload
            ? {
                'content-type': opts.form ? 'application/x-www-form-urlencoded' : 'application/json',
                'content-length': String(Buffer.byteLength(payload)),
              }
            : {}),
          ...opts.headers,
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c) => chunks.push(c));
        res.on('end', () => {
          const body = Buffer.concat(chunks);
          let json: any;
          try {
            json = JSON.parse(body.toString('utf8'));
          } catch {
            json = undefined;
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on('error', (err) => reject(new Error(`${method} ${url}: ${err.message}`)));
    req.end(payload);
  });
}

/** The fake's control API under /__sandbox/docusign; fails the test on an error answer. */
export function dsControl(fake: RunningFake<DocusignFakeState>) {
  return async (method: string, path: string, body?: unknown): Promise<any> => {
    const res = await httpsCall(fake, method, `${fake.baseUrl()}/__sandbox/docusign${path}`, { body });
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${res.body.toString()}`);
    return res.json;
  };
}

/** axios under docusign-esign uses https.globalAgent: trust the fake's self-signed certificate there (in this process). */
export function trustFake(fake: RunningFake<DocusignFakeState>): void {
  https.globalAgent.options.ca = [...tls.rootCertificates, fake.certificatePem!];
}
