import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isStoreUnavailable, STORE_RETRY_AFTER_S, toErrorResponse } from '../../app/server.ts';
import { HttpError } from '../../core/errors.ts';

describe('intake when the store is down', () => {
  test('a refused, reset or terminated database connection is a 503 store_unavailable, never a 200 or a 500', () => {
    const cases: unknown[] = [
      Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' }),
      Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' }),
      Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }),
      Object.assign(new Error('the database system is starting up'), { code: '57P03' }),
      Object.assign(new Error('connection failure'), { code: '08006' }),
      new Error('Connection terminated unexpectedly'),
      new Error('timeout exceeded when trying to connect'),
    ];
    for (const err of cases) {
      assert.equal(isStoreUnavailable(err), true, String(err));
      const { status, body } = toErrorResponse(err);
      assert.equal(status, 503);
      assert.equal(body.error.code, 'store_unavailable');
    }
    assert.ok(STORE_RETRY_AFTER_S > 0);
  });

  test('other failures keep their own answers', () => {
    assert.equal(isStoreUnavailable(Object.assign(new Error('duplicate key'), { code: '23505' })), false);
    assert.equal(toErrorResponse(new Error('boom')).status, 500);
    assert.equal(toErrorResponse(new HttpError(401, 'signature_invalid', 'no')).status, 401);
  });
});
