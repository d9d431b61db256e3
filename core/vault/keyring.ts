import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The encryption keys of the vault. The first key encrypts; every key decrypts, so a rotation can
 * re-encrypt while old values stay readable. Keys come from DINGBRIDGE_ENCRYPTION_KEY (base64 of 32
 * bytes; a comma-separated list during a rotation, newest first) or, in the embedded default, from
 * DATA_DIR/encryption-keys (mode 0600), generated on first start.
 */
export interface VaultKey {
  id: string;
  key: Buffer;
}

export class KeyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'KeyError';
  }
}

export class KeyRing {
  constructor(
    readonly keys: VaultKey[],
    readonly source: { kind: 'env' } | { kind: 'file'; file: string },
  ) {
    if (keys.length === 0) throw new KeyError('the key ring is empty');
  }
  get current(): VaultKey {
    return this.keys[0]!;
  }
  find(id: string): VaultKey | undefined {
    return this.keys.find((k) => k.id === id);
  }
  ids(): string[] {
    return this.keys.map((k) => k.id);
  }
}

/** A key's id: a short hash of the key, stored beside each value so the right key is used to read it. */
export function keyId(key: Buffer): string {
  return crypto.createHash('sha256').update('dingbridge-key-id').update(key).digest('hex').slice(0, 12);
}

export function parseKey(text: string, where: string): VaultKey {
  const trimmed = text.trim();
  const key = Buffer.from(trimmed, 'base64');
  if (!/^[A-Za-z0-9+/_-]+={0,2}$/.test(trimmed) || key.length !== 32) {
    throw new KeyError(`${where} must be 32 random bytes in base64 (e.g. \`openssl rand -base64 32\`); it decodes to ${key.length} bytes`);
  }
  return { id: keyId(key), key };
}

export function generateKey(): VaultKey {
  const key = crypto.randomBytes(32);
  return { id: keyId(key), key };
}

export const KEY_FILE = 'encryption-keys';

export function loadKeyRing(opts: { envValue?: string; dataDir: string; allowGenerate: boolean }): KeyRing {
  if (opts.envValue) {
    const keys = opts.envValue.split(',').map((k, i) => parseKey(k, `DINGBRIDGE_ENCRYPTION_KEY (key ${i + 1})`));
    return new KeyRing(keys, { kind: 'env' });
  }
  const file = path.join(opts.dataDir, KEY_FILE);
  if (!fs.existsSync(file)) {
    if (!opts.allowGenerate) {
      throw new KeyError(
        'no encryption key: set DINGBRIDGE_ENCRYPTION_KEY (base64 of 32 bytes) — with DATABASE_URL every process must share the same key',
      );
    }
    fs.mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    writeKeyFile(file, [generateKey()]);
  }
  return readKeyFile(file);
}

export function readKeyFile(file: string): KeyRing {
  const mode = fs.statSync(file).mode & 0o777;
  if (mode & 0o077) fs.chmodSync(file, 0o600);
  const lines = fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  return new KeyRing(
    lines.map((l, i) => parseKey(l, `${file} line ${i + 1}`)),
    { kind: 'file', file },
  );
}

export function writeKeyFile(file: string, keys: VaultKey[]): void {
  const text = `# dingbridge encryption keys: the first encrypts, all decrypt. BACK THIS FILE UP: without it the stored credentials cannot be read.\n${keys.map((k) => k.key.toString('base64')).join('\n')}\n`;
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, text, { mode: 0o600 });
  fs.renameSync(tmp, file);
}

/** Adds a new key at the front of the data dir's key file (it encrypts from now on); returns the file. */
export function rotateKeyFile(dataDir: string): string {
  const file = path.join(dataDir, KEY_FILE);
  const ring = readKeyFile(file);
  writeKeyFile(file, [generateKey(), ...ring.keys]);
  return file;
}

/** Keeps only the current key in the key file, once every secret is sealed under it. */
export function pruneKeyFile(dataDir: string, keepId: string): number {
  const file = path.join(dataDir, KEY_FILE);
  const ring = readKeyFile(file);
  const keep = ring.keys.filter((k) => k.id === keepId);
  if (keep.length === 0) throw new KeyError(`key ${keepId} is not in ${file}`);
  writeKeyFile(file, keep);
  return ring.keys.length - keep.length;
}
