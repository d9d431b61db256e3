import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decrypt, DecryptError, encrypt, keyIdOf } from '../../core/vault/cipher.ts';
import { generateKey, KeyError, KeyRing, parseKey } from '../../core/vault/keyring.ts';

describe('vault cipher (AES-256-GCM)', () => {
  const oldKey = generateKey();
  const newKey = generateKey();
  const ring = new KeyRing([oldKey], { kind: 'env' });

  test('round-trips, with a fresh IV each time and the key id in the value', () => {
    const a = encrypt(ring, 'refresh-token-1', 'connection:c1');
    const b = encrypt(ring, 'refresh-token-1', 'connection:c1');
    assert.notEqual(a, b);
    assert.match(a, /^v1\.[0-9a-f]{12}\./);
    assert.equal(keyIdOf(a), oldKey.id);
    assert.equal(decrypt(ring, a, 'connection:c1'), 'refresh-token-1');
    assert.doesNotMatch(a, /refresh-token/);
  });

  test('a value moved to another record, or tampered with, does not decrypt', () => {
    const sealed = encrypt(ring, 'secret', 'connection:c1');
    assert.throws(() => decrypt(ring, sealed, 'connection:c2'), DecryptError);
    const parts = sealed.split('.');
    parts[4] = Buffer.from('tampered').toString('base64url');
    assert.throws(() => decrypt(ring, parts.join('.'), 'connection:c1'), DecryptError);
    assert.throws(() => decrypt(ring, 'plain text', 'connection:c1'), DecryptError);
  });

  test('after a rotation the new key encrypts and the old one still decrypts; an unknown key is a KeyError', () => {
    const sealedOld = encrypt(ring, 'v', 'a');
    const rotated = new KeyRing([newKey, oldKey], { kind: 'env' });
    assert.equal(decrypt(rotated, sealedOld, 'a'), 'v');
    assert.equal(keyIdOf(encrypt(rotated, 'v', 'a')), newKey.id);
    assert.throws(() => decrypt(new KeyRing([newKey], { kind: 'env' }), sealedOld, 'a'), KeyError);
  });

  test('keys are 32 bytes of base64', () => {
    assert.equal(parseKey(Buffer.alloc(32, 1).toString('base64'), 'K').key.length, 32);
    assert.throws(() => parseKey(Buffer.alloc(16).toString('base64'), 'K'), /32 random bytes/);
  });
});
