import crypto from 'node:crypto';
import { KeyError, type KeyRing } from './keyring.ts';

/**
 * AES-256-GCM with a fresh 96-bit IV per value. Stored as `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url). The associated data binds a value to where it is stored (e.g. a connection id), so a
 * ciphertext copied to another row does not decrypt.
 */
export class DecryptError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DecryptError';
  }
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

export function encrypt(ring: KeyRing, plaintext: string, aad: string): string {
  const { id, key } = ring.current;
  const iv = crypto.randomBytes(IV_BYTES);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', id, iv.toString('base64url'), cipher.getAuthTag().toString('base64url'), body.toString('base64url')].join('.');
}

export function keyIdOf(sealed: string): string {
  const parts = sealed.split('.');
  if (parts.length !== 5 || parts[0] !== 'v1') throw new DecryptError('not a dingbridge ciphertext');
  return parts[1]!;
}

export function decrypt(ring: KeyRing, sealed: string, aad: string): string {
  const [version, id, iv, tag, body] = sealed.split('.');
  if (version !== 'v1' || !id || !iv || !tag || body === undefined) throw new DecryptError('not a dingbridge ciphertext');
  const key = ring.find(id);
  if (!key)
    throw new KeyError(
      `a value is encrypted with key ${id}, which is not among the configured keys (${ring.ids().join(', ')}): wrong DINGBRIDGE_ENCRYPTION_KEY or key file`,
    );
  const ivBytes = Buffer.from(iv, 'base64url');
  const tagBytes = Buffer.from(tag, 'base64url');
  // GCM accepts tags down to 4 bytes unless told otherwise; a shortened tag is a forgery made easier.
  if (ivBytes.length !== IV_BYTES || tagBytes.length !== TAG_BYTES)
    throw new DecryptError('a stored secret failed its integrity check (its nonce or tag has the wrong length)');
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key.key, ivBytes, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(tagBytes);
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptError('a stored secret failed its integrity check (tampered with, or stored under another record)');
  }
}
