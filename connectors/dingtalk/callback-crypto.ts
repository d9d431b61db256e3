import crypto from 'node:crypto';

/**
 * DingTalk's HTTP callback crypto (the algorithm of its official DingCallbackCrypto libraries):
 * - signature: lowercase hex SHA-1 of token, timestamp, nonce and encrypt, sorted and concatenated
 * - key: base64-decode(EncodingAESKey + "="), exactly 43 characters → 32 bytes; AES-256-CBC, IV = key[0..16)
 * - plaintext: 16 random bytes + message length (uint32 BE) + message + owner key, PKCS#7-padded to 32
 *   bytes (any pad value 1..32 accepted when decrypting)
 */
export class CallbackCryptoError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'CallbackCryptoError';
  }
}

export function signature(token: string, timestamp: string, nonce: string, encrypt: string): string {
  return crypto.createHash('sha1').update([token, timestamp, nonce, encrypt].sort().join(''), 'utf8').digest('hex');
}

export function signatureMatches(expected: string, given: string | undefined): boolean {
  if (!given || !/^[0-9a-fA-F]{40}$/.test(given)) return false;
  return crypto.timingSafeEqual(Buffer.from(expected, 'hex'), Buffer.from(given.toLowerCase(), 'hex'));
}

export function aesKey(encodingAesKey: string): Buffer {
  if (encodingAesKey.length !== 43) throw new CallbackCryptoError(900004, 'the EncodingAESKey must be exactly 43 characters');
  const key = Buffer.from(`${encodingAesKey}=`, 'base64');
  if (key.length !== 32) throw new CallbackCryptoError(900004, 'the EncodingAESKey does not decode to 32 bytes');
  return key;
}

export function encryptMessage(encodingAesKey: string, message: string, ownerKey: string): string {
  const key = aesKey(encodingAesKey);
  const msg = Buffer.from(message, 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(msg.length, 0);
  const plain = Buffer.concat([crypto.randomBytes(16), length, msg, Buffer.from(ownerKey, 'utf8')]);
  const pad = 32 - (plain.length % 32);
  const cipher = crypto.createCipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
  return Buffer.concat([cipher.update(Buffer.concat([plain, Buffer.alloc(pad, pad)])), cipher.final()]).toString('base64');
}

export function decryptMessage(encodingAesKey: string, encrypt: string): { message: string; ownerKey: string } {
  const key = aesKey(encodingAesKey);
  const data = Buffer.from(encrypt, 'base64');
  if (data.length === 0 || data.length % 16 !== 0) throw new CallbackCryptoError(900005, 'the ciphertext is not whole AES blocks');
  let plain: Buffer;
  try {
    const decipher = crypto.createDecipheriv('aes-256-cbc', key, key.subarray(0, 16)).setAutoPadding(false);
    plain = Buffer.concat([decipher.update(data), decipher.final()]);
  } catch {
    throw new CallbackCryptoError(900005, 'the ciphertext does not decrypt');
  }
  const pad = plain[plain.length - 1]!;
  if (pad < 1 || pad > 32 || pad > plain.length) throw new CallbackCryptoError(900005, 'bad padding');
  const body = plain.subarray(0, plain.length - pad);
  if (body.length < 20) throw new CallbackCryptoError(900005, 'the plaintext is too short');
  const length = body.readUInt32BE(16);
  if (20 + length > body.length) throw new CallbackCryptoError(900005, 'the message length is wrong');
  return { message: body.subarray(20, 20 + length).toString('utf8'), ownerKey: body.subarray(20 + length).toString('utf8') };
}

/** The encrypted, signed answer DingTalk expects (`success` acknowledges a callback). */
export function encryptedReply(
  token: string,
  encodingAesKey: string,
  ownerKey: string,
  message = 'success',
): { msg_signature: string; timeStamp: string; nonce: string; encrypt: string } {
  const encrypt = encryptMessage(encodingAesKey, message, ownerKey);
  const timeStamp = String(Date.now());
  const nonce = crypto.randomBytes(6).toString('base64url').slice(0, 8);
  return { msg_signature: signature(token, timeStamp, nonce, encrypt), timeStamp, nonce, encrypt };
}
