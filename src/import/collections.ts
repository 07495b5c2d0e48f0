import { createHash } from 'node:crypto';
import { EJSON } from 'bson';
import { maxVehicleYear } from '../domain/normalise.js';
import { DocReader, Rejection, show } from './fields.js';
import { idFromMongoId, mongoIdText, readReference, readUuid, timeFromMongoId } from './ids.js';

/**
 * Where each collection of the old MongoDB goes, and how a document becomes a row.
 * Field spellings: the snake_case names the old backend wrote first, then the
 * camelCase (and a few other plausible) aliases. A field that none of these
 * cover is reported as unmapped; a value that breaks the API's rules rejects
 * the document with a reason.
 */

export type ColumnType = 'uuid' | 'text' | 'int' | 'bool' | 'timestamptz' | 'jsonb';
export type Column = { name: string; type: ColumnType };
export type RowValue = string | number | boolean | null | object;
export type Row = Record<string, RowValue>;

export type TableSpec = {
  /** PostgreSQL table name (unquoted). */
  name: string;
  /** `id` first. */
  columns: Column[];
  /** `car_id` must name a car in "Bílar" (in PostgreSQL or accepted earlier in this import). */
  carRef?: boolean;
  /**
   * A unique key besides `id`. `reject`: another row holding it makes this document a reject
   * (a plate belongs to one car). `duplicate`: it is the same thing under another id (a favourite).
   */
  naturalKey?: { columns: string[]; onConflict: 'reject' | 'duplicate'; key: (row: Row) => string };
};

const col = (name: string, type: ColumnType): Column => ({ name, type });
const ts = (name: string) => col(name, 'timestamptz');

export const TABLES = {
  cars: {
    name: 'Bílar',
    columns: [
      col('id', 'uuid'),
      col('seller_name', 'text'),
      col('email', 'text'),
      col('phone', 'text'),
      col('postal_code', 'text'),
      col('car_make', 'text'),
      col('car_model', 'text'),
      col('car_plate', 'text'),
      col('year', 'int'),
      col('mileage', 'int'),
      col('status', 'text'),
      ts('created_at'),
      ts('updated_at'),
    ],
    naturalKey: { columns: ['car_plate'], onConflict: 'reject', key: (row) => String(row.car_plate) },
  },
  bids: {
    name: 'uppboð',
    columns: [
      col('id', 'uuid'),
      col('car_id', 'uuid'),
      col('dealer_name', 'text'),
      col('dealer_email', 'text'),
      col('bid_amount', 'int'),
      ts('created_at'),
      ts('updated_at'),
    ],
    carRef: true,
  },
  favorites: {
    name: 'favorites',
    columns: [col('id', 'uuid'), col('car_id', 'uuid'), col('dealer_email', 'text'), ts('created_at')],
    carRef: true,
    naturalKey: {
      columns: ['car_id', 'dealer_email'],
      onConflict: 'duplicate',
      key: (row) => `${String(row.car_id)} ${String(row.dealer_email)}`,
    },
  },
  statusChecks: {
    name: 'status_checks',
    columns: [col('id', 'uuid'), col('client_name', 'text'), col('message', 'text'), col('details', 'jsonb'), ts('timestamp')],
  },
  vehicleVerifications: {
    name: 'vehicle_verifications',
    columns: [
      col('id', 'uuid'),
      col('plate', 'text'),
      col('mileage', 'int'),
      col('outcome', 'text'),
      col('reason', 'text'),
      col('source', 'text'),
      col('client_ip', 'text'),
      ts('created_at'),
    ],
  },
  emailLogs: {
    name: 'email_logs',
    columns: [
      col('id', 'uuid'),
      col('kind', 'text'),
      col('email', 'text'),
      col('name', 'text'),
      col('template_id', 'int'),
      col('message_id', 'text'),
      col('status', 'text'),
      col('error', 'text'),
      ts('created_at'),
    ],
  },
  listAdditions: {
    name: 'list_additions',
    columns: [
      col('id', 'uuid'),
      col('email', 'text'),
      col('name', 'text'),
      col('phone', 'text'),
      col('list_id', 'int'),
      col('already_on_list', 'bool'),
      col('status', 'text'),
      ts('created_at'),
    ],
  },
  companyValidations: {
    name: 'company_validations',
    columns: [
      col('id', 'uuid'),
      col('kennitala', 'text'),
      col('valid', 'bool'),
      col('company_name', 'text'),
      col('reason', 'text'),
      col('client_ip', 'text'),
      ts('created_at'),
    ],
  },
} satisfies Record<string, TableSpec>;

export type Identity = { id: string; sourceId: string | null; idTime: Date | null };

export type CollectionSpec = {
  collection: string;
  table: TableSpec;
  map: (r: DocReader, identity: Identity) => Row;
};

const INT4_MAX = 2_147_483_647;
const iso = (d: Date) => d.toISOString();

/** `id` (a uuid) is the key; only without it does `_id` give one (uuid v5 of the ObjectId hex). */
export function resolveIdentity(r: DocReader): Identity {
  const rawId = r.doc._id;
  const idTime = timeFromMongoId(rawId);
  const hit = r.pick(['id']);
  if (hit) {
    const id = readUuid(hit.value);
    const sourceId = typeof hit.value === 'string' ? hit.value : rawId !== undefined ? mongoIdText(rawId) : show(hit.value);
    if (!id) throw new Rejection('invalid_id', `id ${show(hit.value)} is not a uuid`, 'id');
    return { id, sourceId, idTime };
  }
  if (rawId === undefined || rawId === null) throw new Rejection('missing_id', 'the document has neither id nor _id', 'id');
  r.noteDefault('id from _id');
  return { id: idFromMongoId(rawId), sourceId: mongoIdText(rawId), idTime };
}

function carRefOf(r: DocReader): string {
  const hit = r.pick(['car_id', 'carId']);
  if (!hit) throw new Rejection('missing_field', 'car_id is missing', 'car_id');
  const ref = readReference(hit.value);
  if (!ref) throw new Rejection('invalid_field', `${hit.name} ${show(hit.value)} is not a car id (uuid)`, hit.name);
  return ref;
}

const CREATED = ['created_at', 'createdAt'] as const;
const LOG_TIME = ['created_at', 'createdAt', 'timestamp'] as const;
const CLIENT_IP = ['client_ip', 'clientIp', 'ip', 'ip_address', 'ipAddress'] as const;

function sellerName(r: DocReader): string {
  const name = r.text(['seller_name', 'sellerName', 'name'], { max: 200 });
  if (name) return name;
  const first = r.text(['first_name', 'firstName']);
  const last = r.text(['last_name', 'lastName']);
  const joined = [first, last].filter(Boolean).join(' ');
  if (!joined) throw new Rejection('missing_field', 'seller_name is missing', 'seller_name');
  if ([...joined].length > 200) throw new Rejection('invalid_field', 'seller_name must be 1–200 characters long', 'seller_name');
  return joined;
}

const cars: CollectionSpec = {
  collection: 'Bílar',
  table: TABLES.cars,
  map(r, { id, idTime }) {
    const createdAt = r.date(CREATED, { fromId: idTime });
    let status = r.oneOf(['status'], ['active', 'pending', 'sold'] as const);
    if (!status) {
      status = 'active';
      r.noteDefault('status=active');
    }
    const updated = r.pick(['updated_at', 'updatedAt']);
    return {
      id,
      seller_name: sellerName(r),
      email: r.email(['email', 'seller_email', 'sellerEmail']),
      phone: r.phone(['phone', 'seller_phone', 'sellerPhone', 'phone_number', 'phoneNumber']),
      postal_code: r.postalCode(['postal_code', 'postalCode']),
      car_make: r.text(['car_make', 'carMake', 'make'], { required: true, max: 60 }),
      car_model: r.text(['car_model', 'carModel', 'model'], { required: true, max: 60 }),
      car_plate: r.plate(['car_plate', 'carPlate', 'plate', 'registration_number', 'registrationNumber']),
      year: r.int(['year'], { required: true, min: 1900, max: maxVehicleYear(), digitString: /^[0-9]{4}$/ }),
      mileage: r.int(['mileage'], { required: true, min: 0, max: 9_999_999, digitString: /^[0-9]{1,7}$/ }),
      status,
      created_at: iso(createdAt),
      updated_at: iso(updated ? r.date(['updated_at', 'updatedAt']) : createdAt),
    };
  },
};

function bid(collection: string): CollectionSpec {
  return {
    collection,
    table: TABLES.bids,
    map(r, { id, idTime }) {
      const createdAt = r.date(CREATED, { fromId: idTime });
      const updated = r.pick(['updated_at', 'updatedAt']);
      return {
        id,
        car_id: carRefOf(r),
        dealer_name: r.text(['dealer_name', 'dealerName'], { required: true, max: 200 }),
        dealer_email: r.email(['dealer_email', 'dealerEmail'], { required: true }),
        // like the API: a whole number of krónur, never a digit string
        bid_amount: r.int(['bid_amount', 'bidAmount', 'amount'], { required: true, min: 1, max: 2_000_000_000 }),
        created_at: iso(createdAt),
        updated_at: iso(updated ? r.date(['updated_at', 'updatedAt']) : createdAt),
      };
    },
  };
}

const favorites: CollectionSpec = {
  collection: 'favorites',
  table: TABLES.favorites,
  map(r, { id, idTime }) {
    return {
      id,
      car_id: carRefOf(r),
      dealer_email: r.email(['dealer_email', 'dealerEmail'], { required: true }),
      created_at: iso(r.date(CREATED, { fromId: idTime })),
    };
  },
};

const statusChecks: CollectionSpec = {
  collection: 'status_checks',
  table: TABLES.statusChecks,
  map(r, { id, idTime }) {
    const clientName = r.text(['client_name', 'clientName'], { max: 200 });
    const message = r.text(['message'], { max: 2000 });
    const details = r.pick(['details']);
    if (clientName === null && message === null && !details) {
      throw new Rejection('missing_field', 'client_name, message and details are all missing (the API requires one)', 'client_name');
    }
    return {
      id,
      client_name: clientName,
      message,
      // Extended JSON values (dates, ObjectIds) become their relaxed JSON form inside jsonb.
      details: details ? EJSON.serialize(details.value, { relaxed: true }) : null,
      timestamp: iso(r.date(['timestamp', 'created_at', 'createdAt'], { fromId: idTime })),
    };
  },
};

const vehicleVerifications: CollectionSpec = {
  collection: 'vehicle_verifications',
  table: TABLES.vehicleVerifications,
  map(r, { id, idTime }) {
    const error = r.pick(['error', 'error_message', 'errorMessage']);
    let outcome = r.oneOf(['outcome'], ['found', 'not_found', 'error'] as const, { 'not found': 'not_found', notfound: 'not_found' });
    if (!outcome) {
      const found = r.bool(['found']);
      const success = found === null ? r.bool(['success']) : null;
      if (found !== null) outcome = found ? 'found' : 'not_found';
      else if (success !== null) outcome = success ? 'found' : error ? 'error' : 'not_found';
      else throw new Rejection('missing_field', 'outcome is missing (no outcome, found or success field)', 'outcome');
    } else {
      r.touch('found', 'success');
    }
    return {
      id,
      plate: r.plate(['plate', 'car_plate', 'carPlate', 'registration_number', 'registrationNumber']),
      mileage: r.int(['mileage'], { min: 0, max: 9_999_999, digitString: /^[0-9]{1,7}$/ }),
      outcome,
      // `message` of a found vehicle is a greeting ("Vehicle found"), not a reason
      reason:
        r.text(['reason', 'error', 'error_message', 'errorMessage'], { max: 2000 }) ??
        (outcome === 'found' ? (r.touch('message'), null) : r.text(['message'], { max: 2000 })),
      source: r.text(['source']),
      client_ip: r.text(CLIENT_IP),
      created_at: iso(r.date([...LOG_TIME, 'verified_at', 'verifiedAt'], { fromId: idTime })),
    };
  },
};

const emailLogs: CollectionSpec = {
  collection: 'email_logs',
  table: TABLES.emailLogs,
  map(r, { id, idTime }) {
    let kind = r.text(['kind', 'type', 'email_type', 'emailType']);
    if (!kind) {
      kind = 'legacy';
      r.noteDefault('kind=legacy');
    }
    const error = r.text(['error', 'error_message', 'errorMessage'], { max: 2000 });
    const messageId = r.pick(['message_id', 'messageId']);
    let status = r.oneOf(['status'], ['sent', 'sandbox', 'failed'] as const, {
      success: 'sent',
      ok: 'sent',
      delivered: 'sent',
      error: 'failed',
      failure: 'failed',
    });
    if (!status) {
      const success = r.bool(['success']);
      status = success !== null ? (success ? 'sent' : 'failed') : error ? 'failed' : 'sent';
      if (success === null) r.noteDefault(`status=${status} (inferred)`);
    } else {
      r.touch('success');
    }
    return {
      id,
      kind,
      email: r.email(['email', 'to', 'to_email', 'toEmail', 'recipient'], { required: true }),
      name: r.text(['name', 'to_name', 'toName', 'recipient_name']),
      template_id: r.int(['template_id', 'templateId'], { min: 1, max: INT4_MAX }),
      message_id: messageId ? r.text(['message_id', 'messageId']) : null,
      status,
      error,
      created_at: iso(r.date([...LOG_TIME, 'sent_at', 'sentAt'], { fromId: idTime })),
    };
  },
};

/** The Brevo list the old backend added contacts to (BREVO_LIST_ID's default). */
export const DEFAULT_LIST_ID = 3;

const listAdditions: CollectionSpec = {
  collection: 'list_additions',
  table: TABLES.listAdditions,
  map(r, { id, idTime }) {
    let listId = r.int(['list_id', 'listId'], { min: 1, max: INT4_MAX });
    if (listId === null) {
      listId = DEFAULT_LIST_ID;
      r.noteDefault(`list_id=${DEFAULT_LIST_ID}`);
    }
    const error = r.pick(['error', 'error_message', 'errorMessage']);
    let status = r.oneOf(['status'], ['added', 'sandbox', 'failed'] as const, {
      success: 'added',
      ok: 'added',
      error: 'failed',
      failure: 'failed',
    });
    if (!status) {
      const success = r.bool(['success']);
      status = success !== null ? (success ? 'added' : 'failed') : error ? 'failed' : 'added';
      if (success === null) r.noteDefault(`status=${status} (inferred)`);
    } else {
      r.touch('success');
    }
    return {
      id,
      email: r.email(['email'], { required: true }),
      name: r.text(['name']),
      phone: r.phone(['phone', 'phone_number', 'phoneNumber']),
      list_id: listId,
      already_on_list: r.bool(['already_on_list', 'alreadyOnList', 'already_exists', 'alreadyExists']) ?? false,
      status,
      created_at: iso(r.date(LOG_TIME, { fromId: idTime })),
    };
  },
};

const companyValidations: CollectionSpec = {
  collection: 'company_validations',
  table: TABLES.companyValidations,
  map(r, { id, idTime }) {
    const valid = r.bool(['valid', 'is_valid', 'isValid', 'success']);
    if (valid === null) throw new Rejection('missing_field', 'valid is missing', 'valid');
    return {
      id,
      kennitala: r.kennitala(['kennitala', 'organization_number', 'organizationNumber', 'kt', 'ssn']),
      valid,
      company_name: r.text(['company_name', 'companyName', 'name']),
      reason: r.text(['reason', 'error', 'message'], { max: 2000 }),
      client_ip: r.text(CLIENT_IP),
      created_at: iso(r.date(LOG_TIME, { fromId: idTime })),
    };
  },
};

/**
 * Import order: cars before the bids and favourites that point at them, so a
 * bid whose car is nowhere is recognised as an orphan.
 */
export const COLLECTIONS: readonly CollectionSpec[] = [
  cars,
  bid('uppboð'),
  bid('fyrir_bílasala'),
  favorites,
  statusChecks,
  vehicleVerifications,
  emailLogs,
  listAdditions,
  companyValidations,
];

export const TARGET_TABLES: readonly TableSpec[] = [...new Set(COLLECTIONS.map((c) => c.table))];

export type Mapped = { row: Row; hash: string; sourceId: string | null; defaults: string[]; unmapped: string[] };

/** One document → its row (or a Rejection), with what was defaulted and which fields went unused. */
export function mapDocument(spec: CollectionSpec, doc: Record<string, unknown>): Mapped {
  const r = new DocReader(doc);
  const identity = resolveIdentity(r);
  try {
    const row = spec.map(r, identity);
    return { row, hash: rowHash(spec.table, row), sourceId: identity.sourceId, defaults: r.defaults, unmapped: r.unmapped() };
  } catch (e) {
    if (e instanceof Rejection) (e as Rejection & { sourceId?: string | null }).sourceId = identity.sourceId;
    throw e;
  }
}

/** Source id of a document that could not even be mapped (for the reject list). */
export function sourceIdOf(doc: Record<string, unknown>): string | null {
  if (typeof doc.id === 'string') return doc.id;
  if (doc._id !== undefined && doc._id !== null) return mongoIdText(doc._id);
  return null;
}

/** Content fingerprint of a row, to tell a repeated document from a conflicting one. */
export function rowHash(table: TableSpec, row: Row): string {
  const values = table.columns.map((c) => row[c.name] ?? null);
  return createHash('sha1').update(JSON.stringify(values)).digest('base64url');
}
