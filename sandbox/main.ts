import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSandbox } from './index.ts';

// `npm run sandbox`: every fake on 127.0.0.1, ports SANDBOX_PORT (default 4100) + offset.
// The last line printed is one JSON object with each fake's base URL.
const basePort = Number(process.env.SANDBOX_PORT ?? 4100);
if (!Number.isInteger(basePort) || basePort < 0 || basePort > 65_000) {
  process.stderr.write(`SANDBOX_PORT must be a port number, not ${process.env.SANDBOX_PORT}\n`);
  process.exit(2);
}
const sandbox = await startSandbox({ basePort });
process.stdout.write(`DingTalk page: ${sandbox.urls.dingtalk}/__sandbox/dingtalk/\n`);
// The HTTPS fakes (DocuSign) use a certificate made at start: a product started separately trusts it
// with NODE_EXTRA_CA_CERTS=<this file> (read by Node at process start only).
const pem = Object.values(sandbox.fakes)
  .map((f) => f.certificatePem)
  .find(Boolean);
if (pem) {
  const certFile = process.env.SANDBOX_CERT_FILE ?? path.join(os.tmpdir(), 'dingbridge-sandbox-cert.pem');
  fs.writeFileSync(certFile, pem);
  process.stdout.write(`Sandbox TLS certificate (for NODE_EXTRA_CA_CERTS): ${certFile}\n`);
}
process.stdout.write(`${JSON.stringify(sandbox.urls)}\n`);
const stop = () => {
  void sandbox.stop().then(() => process.exit(0));
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
