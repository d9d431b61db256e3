import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decrypt, DecryptError, encrypt } from '../../core/vault/cipher.ts';
import { generateKey, KeyRing } from '../../core/vault/keyring.ts';

// Finding 14: GCM in Node accepts tags from 4 bytes up unless the length is fixed, so a sealed value
// with its tag cut to 4 bytes still decrypted (and a forgery needs only 2^32 tries).
test('the vault refuses a sealed value whose GCM tag was shortened, and still reads intact ones', () => {
  const ring = new KeyRing([generateKey()], { kind: 'env' });
  const sealed = encrypt(ring, 'refresh-token-value', 'connection:abc');
  assert.equal(decrypt(ring, sealed, 'connection:abc'), 'refresh-token-value');
  const parts = sealed.split('.');
  const tag = Buffer.from(parts[3]!, 'base64url');
  assert.equal(tag.length, 16, 'values are sealed with a full 16-byte tag');
  for (const bytes of [4, 8, 12, 15]) {
    const cut = [...parts.slice(0, 3), tag.subarray(0, bytes).toString('base64url'), parts[4]].join('.');
    assert.throws(() => decrypt(ring, cut, 'connection:abc'), DecryptError, `a ${bytes}-byte tag`);
  }
  const longer = [...parts.slice(0, 3), Buffer.concat([tag, Buffer.from([0])]).toString('base64url'), parts[4]].join('.');
  assert.throws(() => decrypt(ring, longer, 'connection:abc'), DecryptError, 'a 17-byte tag');
  const shortIv = [parts[0], parts[1], Buffer.alloc(8).toString('base64url'), ...parts.slice(3)].join('.');
  assert.throws(() => decrypt(ring, shortIv, 'connection:abc'), DecryptError, 'an 8-byte nonce');
});
