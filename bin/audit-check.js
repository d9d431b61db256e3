#!/usr/bin/env node
// CI's dependency audit: `npm audit --omit=dev` must report no high or critical advisory in the
// production dependencies. When the registry the machine uses does not serve npm's advisory endpoint
// (some mirrors answer the bulk POST with 405), nothing can be checked: that is said loudly, and the
// run goes on, because it is not a finding about our dependencies. Any advisory found fails the run.
import { spawnSync } from 'node:child_process';

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  process.stderr.write(`npm audit printed no JSON report (exit ${run.status}):\n${run.stderr}\n`);
  process.exit(1);
}
const counts = report.metadata?.vulnerabilities;
if (!counts) {
  const status = report.statusCode ?? report.error?.code ?? 'unknown';
  process.stdout.write(
    `WARNING: npm audit could not reach the advisory database (${status}: ${report.message ?? report.error?.summary ?? 'no message'}); production dependencies NOT audited on this machine\n`,
  );
  process.exit(0);
}
const serious = (counts.high ?? 0) + (counts.critical ?? 0);
process.stdout.write(`npm audit (production dependencies): ${JSON.stringify(counts)}\n`);
if (serious > 0) {
  for (const [name, v] of Object.entries(report.vulnerabilities ?? {})) {
    if (v.severity === 'high' || v.severity === 'critical')
      process.stdout.write(
        `  ${v.severity}: ${name} ${v.range ?? ''} ${(v.via ?? []).map((x) => (typeof x === 'string' ? x : x.title)).join('; ')}\n`,
      );
  }
  process.exit(1);
}
