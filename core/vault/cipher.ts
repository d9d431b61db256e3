import crypto from 'node:crypto';
import { KeyError, type KeyRing } from './keyring.ts';

/**
 * AES-256-GCM with a fresh 96-bit IV per value. Stored as `v1.<keyId>.<iv>.<tag>.<ciphertext>`
 * (base64url). The associated data binds a value to where it is stored (e.g. a connection id), so a
 * ciphertext copied to another row does not decrypt.
 */
export class DecryptError extends Error {
  constructor(message: string) { super(message); this.name = 'DecryptError'; }
}

export function encrypt(ring: KeyRing, plaintext: string, aad: string): string {
  const { id, key } = ring.current;
  const iv = crypto.randomBytes(12);
  const cipher = crypto.createCipheriv('aes-256-gcm', key, iv);
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
  if (!key) throw new KeyError(`a value is encrypted with key ${id}, which is not among the configured keys (${ring.ids().join(', ')}): wrong DINGBRIDGE_ENCRYPTION_KEY or key file`);
  try {
    const decipher = crypto.createDecipheriv('aes-256-gcm', key.key, Buffer.from(iv, 'base64url'));
    decipher.setAAD(Buffer.from(aad, 'utf8'));
    decipher.setAuthTag(Buffer.from(tag, 'base64url'));
    return Buffer.concat([decipher.update(Buffer.from(body, 'base64url')), decipher.final()]).toString('utf8');
  } catch {
    throw new DecryptError('a stored secret failed its integrity check (tampered with, or stored under another record)');
  }
}
