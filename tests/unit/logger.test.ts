import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { describe, test } from 'node:test';
import { pinoHttp } from 'pino-http';
import { accessLogger, createLogger, lazyChild, registerSecretPath, requestSerializer, responseSerializer } from '../../core/logger.ts';

/** A pino destination that keeps every line. */
function captured(): { stream: Writable; lines: () => Record<string, unknown>[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk, _enc, done) {
      chunks.push(String(chunk));
      done();
    },
  });
  return {
    stream,
    lines: () =>
      chunks
        .join('')
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  };
}

describe('logger', () => {
  test('the access log keeps secret headers and path tokens out, with the lighter redaction of accessLogger', async () => {
    const out = captured();
    const log = createLogger('info', out.stream as never);
    registerSecretPath(/^(\/+unit-hooks\/+[^/]+\/+).+$/i);
    const middleware = pinoHttp({
      logger: accessLogger(log),
      serializers: { req: requestSerializer, res: responseSerializer },
    });
    // pino-http writes its line on the response's 'finish'; a listener added after it runs after it.
    let logged!: () => void;
    const accessLineWritten = new Promise<void>((resolve) => {
      logged = resolve;
    });
    const server = http.createServer((req, res) => {
      middleware(req, res);
      res.on('finish', () => logged());
      res.setHeader('set-cookie', 'sid=session-cookie-value');
      res.end('ok');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const answer = await fetch(`http://127.0.0.1:${port}/unit-hooks/h1/path-token-value?state=query-secret`, {
        method: 'POST',
        headers: { authorization: 'Bearer bearer-secret-value', 'x-signature': 'signature-value', 'content-type': 'application/json' },
        body: '{}',
      });
      assert.equal(answer.status, 200);
      await answer.text();
      await accessLineWritten;
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
    const text = out
      .lines()
      .map((l) => JSON.stringify(l))
      .join('\n');
    const access = out.lines().find((l) => l.msg === 'request completed');
    assert.ok(access, `an access line was written:\n${text}`);
    assert.equal((access.req as { method: string }).method, 'POST');
    assert.equal((access.req as { url: string }).url, '/unit-hooks/h1/[redacted]?[redacted]');
    assert.equal((access.res as { statusCode: number }).statusCode, 200);
    for (const secret of ['bearer-secret-value', 'signature-value', 'path-token-value', 'query-secret', 'session-cookie-value'])
      assert.equal(text.includes(secret), false, `${secret} reached the access log`);
  });

  test('lazyChild makes its child only when something is logged, with the bindings and the full redaction', () => {
    const out = captured();
    const log = createLogger('info', out.stream as never);
    let children = 0;
    log.onChild = () => {
      children += 1;
    };
    const step = lazyChild(log, { stepRunId: 'st_1', attempt: 2 });
    step.debug('not written at info');
    assert.equal(children, 0, 'no child before anything is written');
    assert.equal(step.isLevelEnabled('debug'), false);
    step.warn({ detail: { token: 'inner-token-value' } }, 'step said something');
    assert.equal(children, 1);
    step.info('again');
    assert.equal(children, 1, 'one child, made once');
    const lines = out.lines();
    assert.deepEqual(
      lines.map((l) => [l.msg, l.stepRunId, l.attempt]),
      [
        ['step said something', 'st_1', 2],
        ['again', 'st_1', 2],
      ],
    );
    assert.deepEqual(lines[0]!.detail, { token: '[redacted]' });
  });
});
