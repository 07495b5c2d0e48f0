import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

/**
 * Sensitive fields at rest (the seller's kennitala, address and bank account): AES-256-GCM,
 * each value sealed with a fresh 12-byte IV and stored as `v1.<key id>.<iv>.<tag>.<ciphertext>`
 * (base64url). The key id travels with the value, so a key can rotate: new values are sealed
 * with the first key of the ring, and a value sealed with an older key opens as long as that
 * key is still in the ring (docs/sale.md, "Key rotation"). `aad` binds a value to its place
 * (e.g. `sales.seller_bank:<sale id>`): a sealed value copied into another row or column does
 * not open there.
 */

export type Keyring = { current: string; keys: ReadonlyMap<string, Buffer> };

const KEY_ID = /^[A-Za-z0-9_-]{1,32}$/;

/**
 * `DATA_ENCRYPTION_KEY`: `<id>:<32 bytes in base64>`, several separated by commas, the one to
 * seal with first. Throws on anything else.
 */
export function parseKeyring(value: string): Keyring {
  const keys = new Map<string, Buffer>();
  let current: string | undefined;
  for (const part of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [id, encoded, ...rest] = part.split(':');
    if (!id || !encoded || rest.length > 0 || !KEY_ID.test(id)) throw new Error('each key is <id>:<base64 key>');
    const key = Buffer.from(encoded, 'base64');
    if (key.length !== 32) throw new Error(`key ${id} is not 32 bytes (AES-256)`);
    if (keys.has(id)) throw new Error(`key id ${id} appears twice`);
    keys.set(id, key);
    current ??= id;
  }
  if (!current) throw new Error('no key');
  return { current, keys };
}

/** A ring of one random key, for a process that has no configured key (never in production). */
export function randomKeyring(): Keyring {
  const id = `tmp${randomBytes(4).toString('hex')}`;
  return { current: id, keys: new Map([[id, randomBytes(32)]]) };
}

const b64 = (b: Buffer) => b.toString('base64url');

export function seal(ring: Keyring, plaintext: string, aad: string): string {
  const key = ring.keys.get(ring.current)!;
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad, 'utf8'));
  const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
  return ['v1', ring.current, b64(iv), b64(cipher.getAuthTag()), b64(ciphertext)].join('.');
}

/** The key id a sealed value was sealed with (for re-sealing after a rotation). */
export const sealedWith = (sealed: string): string | null => (sealed.startsWith('v1.') ? (sealed.split('.')[1] ?? null) : null);

/** The plaintext of a sealed value; throws when the key is not in the ring or the value was tampered with. */
export function unseal(ring: Keyring, sealed: string, aad: string): string {
  const [version, id, iv, tag, ciphertext] = sealed.split('.');
  if (version !== 'v1' || !id || iv === undefined || tag === undefined || ciphertext === undefined) {
    throw new Error('not a sealed value');
  }
  const key = ring.keys.get(id);
  if (!key) throw new Error(`key ${id} is not in the ring`);
  const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
  decipher.setAAD(Buffer.from(aad, 'utf8'));
  decipher.setAuthTag(Buffer.from(tag, 'base64url'));
  return Buffer.concat([decipher.update(Buffer.from(ciphertext, 'base64url')), decipher.final()]).toString('utf8');
}
