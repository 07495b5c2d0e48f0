import { Decimal128, Double, Int32, Long, Timestamp } from 'bson';
import type { ValidateFunction } from 'ajv';
import { createAjv } from '../api/ajv.js';
import { loadSpec } from '../api/spec.js';
import { kennitalaDigits, maxVehicleYear, normaliseEmail, normalisePlate, toE164 } from '../domain/normalise.js';
import { maskText } from '../domain/privacy.js';

/**
 * Reading one old document's fields with the API's own rules. The scalar
 * schemas (Plate, Email, PostalCode, Phone, Kennitala) are compiled from
 * openapi.yaml with the API's Ajv set-up, and the normalisation is
 * src/domain/normalise.ts: a value the API would refuse is refused here too.
 */

/** A document that cannot be imported, with the rule it broke. */
export class Rejection extends Error {
  constructor(
    readonly rule: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'Rejection';
  }
}

type SpecScalar = 'Plate' | 'Email' | 'PostalCode' | 'Phone' | 'Kennitala';
const validators = new Map<SpecScalar, ValidateFunction>();

/** A scalar schema of openapi.yaml (components.schemas), compiled once. */
export function specValidator(name: SpecScalar): ValidateFunction {
  let fn = validators.get(name);
  if (!fn) {
    const schemas = (loadSpec().document as { components: { schemas: Record<string, object> } }).components.schemas;
    const schema = schemas[name];
    if (!schema) throw new Error(`openapi.yaml has no components.schemas.${name}`);
    fn = createAjv().compile(schema);
    validators.set(name, fn);
  }
  return fn;
}

/**
 * A value for a reject reason. Text is masked as the logger masks it (e-mails,
 * phone numbers, kennitölur); numbers only when `personal` (a phone stored as a number).
 */
export function show(value: unknown, personal = false): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else if (value instanceof Date) text = value.toISOString();
  else if (typeof value === 'bigint') text = value.toString();
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  if (text.length > 80) text = `${text.slice(0, 77)}…`;
  return typeof value === 'string' || personal ? maskText(text) : text;
}

/** A BSON or JSON number as a JS number or bigint (Long); null when the value is not a number. */
export function numeric(value: unknown): number | bigint | null {
  if (typeof value === 'number') return value;
  if (typeof value === 'bigint') return value;
  if (value instanceof Int32 || value instanceof Double) return value.value;
  if (value instanceof Long) return value.toBigInt();
  if (value instanceof Decimal128) {
    const text = value.toString();
    if (/^-?\d+$/.test(text)) return BigInt(text);
    if (/^-?\d+\.0*$/.test(text)) return BigInt(text.replace(/\.0*$/, ''));
    const n = Number(text);
    return Number.isNaN(n) && !/nan/i.test(text) ? null : n;
  }
  return null;
}

const ISO_RE = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/** ISO 8601 text → Date. Without a zone it is UTC, which is what the old backend's `datetime.utcnow()` meant. */
export function parseIsoDate(text: string): Date | null {
  const m = ISO_RE.exec(text.trim());
  if (!m) return null;
  const [, y, mo, d, h = '0', mi = '0', s = '0', frac = '', zone] = m;
  const base = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number((frac + '000').slice(0, 3)));
  const check = new Date(base);
  // Date.UTC rolls 2024-02-31 over to March and 25:00 to the next day: refuse instead.
  if (
    Number.isNaN(base) ||
    check.getUTCFullYear() !== Number(y) ||
    check.getUTCMonth() !== Number(mo) - 1 ||
    check.getUTCDate() !== Number(d) ||
    check.getUTCHours() !== Number(h) ||
    check.getUTCMinutes() !== Number(mi)
  ) {
    return null;
  }
  let offsetMinutes = 0;
  if (zone && zone.toUpperCase() !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const digits = zone.slice(1).replace(':', '');
    offsetMinutes = sign * (Number(digits.slice(0, 2)) * 60 + Number(digits.slice(2, 4) || '0'));
  }
  return new Date(base - offsetMinutes * 60_000);
}

const FIRST_YEAR = 1900;
const LAST_YEAR = 9999;

/** A timestamp as Mongo or the old backend stored it: $date, ISO text, epoch seconds/milliseconds, BSON Timestamp. */
export function toDate(value: unknown): Date | null {
  let date: Date | null = null;
  if (value instanceof Date) date = value;
  else if (typeof value === 'string') date = parseIsoDate(value);
  else if (value instanceof Timestamp) date = new Date(value.getHighBitsUnsigned() * 1000);
  else {
    const n = numeric(value);
    if (n !== null) {
      const num = Number(n);
      if (Number.isFinite(num)) date = new Date(Math.abs(num) >= 1e11 ? num : num * 1000);
    }
  }
  if (!date || Number.isNaN(date.getTime())) return null;
  const year = date.getUTCFullYear();
  return year >= FIRST_YEAR && year <= LAST_YEAR ? date : null;
}

type TextOptions = { required?: boolean; min?: number; max?: number };
type IntOptions = { required?: boolean; min: number; max: number; digitString?: RegExp };

/**
 * One document, read field by field under several accepted spellings
 * (snake_case first, camelCase aliases after). Remembers which fields were
 * used so that the rest can be reported as unmapped, and which defaults were applied.
 */
export class DocReader {
  private readonly used = new Set<string>(['_id', '__v']);
  readonly defaults: string[] = [];

  constructor(readonly doc: Record<string, unknown>) {}

  /** The first spelling present with a non-null value; every present spelling counts as used. */
  pick(names: readonly string[]): { name: string; value: unknown } | undefined {
    let found: { name: string; value: unknown } | undefined;
    for (const name of names) {
      if (!Object.hasOwn(this.doc, name)) continue;
      this.used.add(name);
      const value = this.doc[name];
      if (!found && value !== null && value !== undefined) found = { name, value };
    }
    return found;
  }

  /** Marks spellings as read without taking a value from them. */
  touch(...names: string[]): void {
    for (const n of names) if (Object.hasOwn(this.doc, n)) this.used.add(n);
  }

  unmapped(): string[] {
    return Object.keys(this.doc).filter((k) => !this.used.has(k));
  }

  noteDefault(what: string): void {
    this.defaults.push(what);
  }

  private missing(names: readonly string[]): Rejection {
    return new Rejection('missing_field', `${names[0]} is missing`, names[0]);
  }

  /** Trimmed text; numbers are not text. */
  text(names: readonly string[], opts: TextOptions & { required: true }): string;
  text(names: readonly string[], opts?: TextOptions): string | null;
  text(names: readonly string[], opts: TextOptions = {}): string | null {
    const hit = this.pick(names);
    if (!hit) {
      if (opts.required) throw this.missing(names);
      return null;
    }
    if (typeof hit.value !== 'string') {
      throw new Rejection('invalid_field', `${hit.name} must be text, not ${show(hit.value)}`, hit.name);
    }
    const value = hit.value.trim();
    if (value === '' && !opts.required && !opts.min) return null;
    const min = opts.min ?? (opts.required ? 1 : 0);
    if ([...value].length < min || (opts.max !== undefined && [...value].length > opts.max)) {
      const range = opts.max !== undefined ? `${min}–${opts.max}` : `at least ${min}`;
      throw new Rejection('invalid_field', `${hit.name} must be ${range} characters long`, hit.name);
    }
    return value;
  }

  /** The API's Email schema (format email, ≤ 254), then trimmed and lower-cased. */
  email(names: readonly string[], opts: { required: true }): string;
  email(names: readonly string[], opts?: { required?: boolean }): string | null;
  email(names: readonly string[], opts: { required?: boolean } = {}): string | null {
    const hit = this.pick(names);
    if (!hit || (typeof hit.value === 'string' && hit.value.trim() === '' && !opts.required)) {
      if (opts.required) throw this.missing(names);
      return null;
    }
    const value = typeof hit.value === 'string' ? hit.value.trim() : hit.value;
    if (typeof value !== 'string' || !specValidator('Email')(value)) {
      throw new Rejection('invalid_email', `${hit.name} ${show(value)} is not a valid e-mail address`, hit.name);
    }
    return normaliseEmail(value);
  }

  /** The API's Plate schema (2–10 letters incl. Icelandic, digits, spaces, hyphens), stored upper-case without spaces. */
  plate(names: readonly string[]): string {
    const hit = this.pick(names);
    if (!hit) throw this.missing(names);
    if (typeof hit.value !== 'string' || !specValidator('Plate')(hit.value) || normalisePlate(hit.value) === '') {
      throw new Rejection(
        'invalid_plate',
        `${hit.name} ${show(hit.value)} is not a plate (2–10 letters, digits, spaces or hyphens)`,
        hit.name,
      );
    }
    return normalisePlate(hit.value);
  }

  /** The API's Phone schema, then E.164 with libphonenumber-js (a bare 7-digit number is Icelandic). */
  phone(names: readonly string[], opts: { required?: boolean } = {}): string | null {
    const hit = this.pick(names);
    if (!hit || (typeof hit.value === 'string' && hit.value.trim() === '')) {
      if (opts.required) throw this.missing(names);
      return null;
    }
    const n = numeric(hit.value);
    const raw = typeof hit.value === 'string' ? hit.value : n !== null && Number.isInteger(Number(n)) ? String(n) : null;
    const e164 = raw !== null && specValidator('Phone')(raw) ? toE164(raw) : null;
    if (!e164) throw new Rejection('invalid_phone', `${hit.name} ${show(raw ?? hit.value, true)} is not a valid phone number`, hit.name);
    return e164;
  }

  /** The API's PostalCode schema (3 digits); a number such as 101 counts as its digits. */
  postalCode(names: readonly string[]): string | null {
    const hit = this.pick(names);
    if (!hit || (typeof hit.value === 'string' && hit.value.trim() === '')) return null;
    const n = numeric(hit.value);
    const raw = typeof hit.value === 'string' ? hit.value.trim() : n !== null ? String(n) : null;
    if (raw === null || !specValidator('PostalCode')(raw)) {
      throw new Rejection('invalid_field', `${hit.name} ${show(hit.value)} is not a postal code (3 digits)`, hit.name);
    }
    return raw;
  }

  /** Kennitala: 10 digits, optional hyphen after the sixth (the API's Kennitala schema), stored as digits. */
  kennitala(names: readonly string[]): string {
    const hit = this.pick(names);
    if (!hit) throw this.missing(names);
    const n = numeric(hit.value);
    const raw = typeof hit.value === 'string' ? hit.value.trim() : n !== null ? String(n).padStart(10, '0') : null;
    const digits = raw !== null && specValidator('Kennitala')(raw) ? kennitalaDigits(raw) : null;
    if (!digits) throw new Rejection('invalid_field', `${hit.name} ${show(hit.value, true)} is not a kennitala (10 digits)`, hit.name);
    return digits;
  }

  /** A whole number in [min, max]; digit strings only where the API takes them (year, mileage). */
  int(names: readonly string[], opts: IntOptions & { required: true }): number;
  int(names: readonly string[], opts: IntOptions): number | null;
  int(names: readonly string[], opts: IntOptions): number | null {
    const hit = this.pick(names);
    if (!hit) {
      if (opts.required) throw this.missing(names);
      return null;
    }
    let n = numeric(hit.value);
    if (n === null && typeof hit.value === 'string' && opts.digitString?.test(hit.value.trim())) n = Number(hit.value.trim());
    const whole = typeof n === 'bigint' || (typeof n === 'number' && Number.isInteger(n));
    if (n === null || !whole) {
      throw new Rejection('invalid_field', `${hit.name} must be a whole number, not ${show(hit.value)}`, hit.name);
    }
    if (n < opts.min || n > opts.max) {
      throw new Rejection('out_of_range', `${hit.name} ${show(n)} is outside ${opts.min}..${opts.max}`, hit.name);
    }
    return Number(n);
  }

  bool(names: readonly string[]): boolean | null {
    const hit = this.pick(names);
    if (!hit) return null;
    if (typeof hit.value === 'boolean') return hit.value;
    const n = numeric(hit.value);
    if (n !== null && (Number(n) === 0 || Number(n) === 1)) return Number(n) === 1;
    if (typeof hit.value === 'string' && /^(true|false)$/i.test(hit.value.trim())) return hit.value.trim().toLowerCase() === 'true';
    throw new Rejection('invalid_field', `${hit.name} must be true or false, not ${show(hit.value)}`, hit.name);
  }

  /** A timestamp; when absent, the creation time inside an ObjectId `_id` (noted as a default). */
  date(names: readonly string[], fallback: { fromId?: Date | null; value?: Date; required?: boolean } = {}): Date {
    const hit = this.pick(names);
    if (hit) {
      const date = toDate(hit.value);
      if (!date) throw new Rejection('invalid_field', `${hit.name} ${show(hit.value)} is not a date`, hit.name);
      return date;
    }
    if (fallback.value) return fallback.value;
    if (fallback.fromId) {
      this.noteDefault(`${names[0]} from _id`);
      return fallback.fromId;
    }
    throw new Rejection('missing_field', `${names[0]} is missing (and _id is not an ObjectId to take the time from)`, names[0]);
  }

  /** One of a fixed set of words; `map` translates the old spellings. */
  oneOf<T extends string>(names: readonly string[], allowed: readonly T[], map: Record<string, T> = {}): T | null {
    const hit = this.pick(names);
    if (!hit) return null;
    const raw = typeof hit.value === 'string' ? hit.value.trim() : hit.value;
    const value = typeof raw === 'string' ? (map[raw.toLowerCase()] ?? raw) : raw;
    if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
      throw new Rejection('invalid_field', `${hit.name} ${show(hit.value)} is not one of ${allowed.join(', ')}`, hit.name);
    }
    return value as T;
  }
}

export const currentMaxYear = (): number => maxVehicleYear();
