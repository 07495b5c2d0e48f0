import { createHash } from 'node:crypto';
import { Binary, EJSON, ObjectId } from 'bson';

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const HEX24_RE = /^[0-9a-f]{24}$/i;

function formatUuid(bytes: Buffer): string {
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** RFC 9562 version 5 (SHA-1, name-based) UUID. */
export function uuidV5(name: string, namespace: string): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  const bytes = Buffer.from(hash.subarray(0, 16));
  bytes[6] = (bytes[6] & 0x0f) | 0x50;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  return formatUuid(bytes);
}

/**
 * The namespace of keys derived from Mongo `_id`s: uuidV5('https://kaggi.is/import/mongo/_id',
 * the RFC URL namespace). Fixed forever, so that a re-run derives the same keys.
 */
export const MONGO_ID_NAMESPACE = uuidV5('https://kaggi.is/import/mongo/_id', '6ba7b811-9dad-11d1-80b4-00c04fd430c8');

/** A uuid given as a string or as BSON Binary (subtype 3 or 4), lower-cased; null when it is neither. */
export function readUuid(value: unknown): string | null {
  if (typeof value === 'string') {
    const trimmed = value.trim();
    return UUID_RE.test(trimmed) ? trimmed.toLowerCase() : null;
  }
  if (value instanceof Binary && (value.sub_type === 4 || value.sub_type === 3) && value.position === 16) {
    return formatUuid(Buffer.from(value.buffer.subarray(0, 16)));
  }
  return null;
}

/** The stable text of a Mongo `_id`: the hex of an ObjectId, otherwise its canonical Extended JSON. */
export function mongoIdText(value: unknown): string {
  if (value instanceof ObjectId) return value.toHexString();
  if (typeof value === 'string') return value;
  return EJSON.stringify(value, { relaxed: false });
}

/**
 * The primary key of a document that has no `id`: a version-5 UUID of its
 * `_id` (ObjectId hex). Deterministic, so a re-run finds the row it wrote.
 */
export function idFromMongoId(value: unknown): string {
  return uuidV5(mongoIdText(value), MONGO_ID_NAMESPACE);
}

/**
 * A reference to another document (`car_id`): a uuid, or — for a car that had no `id`
 * — its ObjectId (or 24-hex string), which maps to the same derived key as the car.
 */
export function readReference(value: unknown): string | null {
  const uuid = readUuid(value);
  if (uuid) return uuid;
  if (value instanceof ObjectId) return idFromMongoId(value);
  if (typeof value === 'string' && HEX24_RE.test(value.trim())) return idFromMongoId(value.trim().toLowerCase());
  return null;
}

/** When the `_id` is an ObjectId: the time it was made (second precision), used when a document has no timestamp. */
export function timeFromMongoId(value: unknown): Date | null {
  return value instanceof ObjectId ? value.getTimestamp() : null;
}
