import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { describe, test } from 'node:test';
import {
  aesKey,
  CallbackCryptoError,
  decryptMessage,
  encryptedReply,
  encryptMessage,
  signature,
  signatureMatches,
} from '../../connectors/dingtalk/callback-crypto.ts';
import { robotSignature } from '../../connectors/dingtalk/robot-send.ts';

// A 43-character EncodingAESKey, as the DingTalk developer console issues them.
const AES_KEY = 'o1w0aum42yaptlz8alnhwikjd3jenzt9cb9wmzptgus';
const OWNER = 'dingappkey0123';

/** DingTalk's plaintext layout, built by hand: 16 random bytes, length (uint32 BE), message, owner key, PKCS#7 to 32. */
function sealByHand(message: string, owner: string, padTo = 32): string {
  const key = Buffer.from(`${AES_KEY}=`, 'base64');
  const msg = Buffer.from(message);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length);
  const plain = Buffer.concat([crypto.randomBytes(16), len, msg, Buffer.from(owner)]);
  const pad = padTo - (plain.length % padTo);
  const c = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([c.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), c.final()]).toString('base64');
}

describe('DingTalk callback crypto', () => {
  test('the signature is hex SHA-1 of token, timestamp, nonce and encrypt sorted and joined', () => {
    const parts = ['mytoken', '1733300000000', 'nonce123', 'ENCRYPTED=='];
    assert.equal(
      signature('mytoken', '1733300000000', 'nonce123', 'ENCRYPTED=='),
      crypto
        .createHash('sha1')
        .update([...parts].sort().join(''))
        .digest('hex'),
    );
    const sig = signature('t', '1', 'n', 'e');
    assert.ok(signatureMatches(sig, sig.toUpperCase()), 'hex case does not matter');
    assert.equal(signatureMatches(sig, undefined), false);
    assert.equal(signatureMatches(sig, 'zz'), false);
    assert.equal(signatureMatches(sig, signature('t', '2', 'n', 'e')), false);
  });

  test('decrypts what DingTalk encrypts (any PKCS#7 block size up to 32), and round-trips its own', () => {
    const text = JSON.stringify({ EventType: 'bpms_instance_change', processInstanceId: 'PI-1', title: '報銷 HKD 250' });
    assert.deepEqual(decryptMessage(AES_KEY, sealByHand(text, OWNER)), { message: text, ownerKey: OWNER });
    assert.deepEqual(decryptMessage(AES_KEY, sealByHand(text, OWNER, 16)), { message: text, ownerKey: OWNER });
    assert.deepEqual(decryptMessage(AES_KEY, encryptMessage(AES_KEY, 'success', OWNER)), { message: 'success', ownerKey: OWNER });
  });

  test('the encrypted reply is signed over its own timestamp and nonce and says success', () => {
    const reply = encryptedReply('mytoken', AES_KEY, OWNER);
    assert.equal(reply.msg_signature, signature('mytoken', reply.timeStamp, reply.nonce, reply.encrypt));
    assert.equal(decryptMessage(AES_KEY, reply.encrypt).message, 'success');
  });

  test('a bad key, a truncated or foreign ciphertext are refused with DingTalk error codes', () => {
    assert.throws(
      () => aesKey('short'),
      (e: unknown) => e instanceof CallbackCryptoError && e.code === 900004,
    );
    assert.throws(
      () => decryptMessage(AES_KEY, Buffer.alloc(15).toString('base64')),
      (e: unknown) => e instanceof CallbackCryptoError && e.code === 900005,
    );
    const other = 'abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG';
    assert.throws(() => decryptMessage(other, sealByHand('hello', OWNER)), CallbackCryptoError);
  });
});

describe('DingTalk custom robot signature', () => {
  test('is URL-encoded base64 HMAC-SHA256 of "timestamp\\nsecret" keyed by the secret', () => {
    const secret = 'SEC0123456789abcdef';
    const ts = '1733300000000';
    const raw = crypto.createHmac('sha256', secret).update(`${ts}\n${secret}`).digest('base64');
    assert.equal(robotSignature(secret, ts), encodeURIComponent(raw));
    assert.doesNotMatch(robotSignature(secret, ts), /[+/=]/, 'base64 specials are escaped for the query string');
  });
});
