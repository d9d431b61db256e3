import crypto from 'node:crypto';

/**
 * DingTalk's callback crypto (the algorithm of the official DingCallbackCrypto libraries):
 * - signature = hex SHA-1 of [token, timestamp, nonce, encrypt] sorted and concatenated
 * - key = base64decode(aesKey + '='), AES-256-CBC, IV = key[0..16), no library padding
 * - plaintext = 16 random bytes + uint32 BE length + message + ownerKey, PKCS#7 padded to 32 bytes
 */
export function callbackSignature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return crypto.createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join('')).digest('hex');
}

export function aesKeyBytes(aesKey: string): Buffer {
  if (aesKey.length !== 43) throw new Error('aesKey must be exactly 43 characters (900004)');
  const key = Buffer.from(aesKey + '=', 'base64');
  if (key.length !== 32) throw new Error('aesKey does not decode to 32 bytes (900004)');
  return key;
}

export function encryptCallback(aesKey: string, message: string, ownerKey: string): string {
  const key = aesKeyBytes(aesKey);
  const msg = Buffer.from(message, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(msg.length, 0);
  const body = Buffer.concat([crypto.randomBytes(16), len, msg, Buffer.from(ownerKey, 'utf8')]);
  const pad = 32 - (body.length % 32);
  const padded = Buffer.concat([body, Buffer.alloc(pad, pad)]);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16));
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(padded), cipher.final()]).toString('base64');
}

export function decryptCallback(aesKey: string, encrypt: string): { message: string; ownerKey: string } {
  const key = aesKeyBytes(aesKey);
  const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16));
  decipher.setAutoPadding(false);
  const plain = Buffer.concat([decipher.update(Buffer.from(encrypt, 'base64')), decipher.final()]);
  const pad = plain[plain.length - 1] ?? 0;
  if (pad < 1 || pad > 32) throw new Error('bad padding (900005)');
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new Error('plaintext too short (900005)');
  const len = body.readUInt32BE(16);
  if (20 + len > body.length) throw new Error('bad message length (900005)');
  return {
    message: body.subarray(20, 20 + len).toString('utf8'),
    ownerKey: body.subarray(20 + len).toString('utf8'),
  };
}

/** Custom robot / outgoing robot signature: base64(HmacSHA256(key=secret, timestamp + "\n" + secret)). */
export function robotSign(secret: string, timestamp: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`).digest('base64');
}

export function randomHex(bytes = 16): string {
  return crypto.randomBytes(bytes).toString('hex');
}

/** DingTalk-style request id: uppercase UUID. */
export function requestId(): string {
  return crypto.randomUUID().toUpperCase();
}

export function randomNonce(len = 8): string {
  const chars = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let s = '';
  for (const b of crypto.randomBytes(len)) s += chars[b % chars.length];
  return s;
}
