import { Binary, Decimal128, Double, EJSON, Int32, Long, ObjectId } from 'bson';
import { describe, expect, it } from 'vitest';
import { COLLECTIONS, mapDocument, type CollectionSpec } from '../../src/import/collections.js';
import { Rejection, parseIsoDate } from '../../src/import/fields.js';
import { MONGO_ID_NAMESPACE, idFromMongoId, readReference, uuidV5 } from '../../src/import/ids.js';
import { maxVehicleYear } from '../../src/domain/normalise.js';

const spec = (name: string): CollectionSpec => COLLECTIONS.find((c) => c.collection === name)!;
const CAR = '3f6b1c2e-5a3f-4d6e-9a1b-0c4d5e6f7a01';
const OID = new ObjectId('65e1a0000000000000000001');

function rejection(name: string, doc: Record<string, unknown>): Rejection {
  try {
    mapDocument(spec(name), doc);
  } catch (e) {
    if (e instanceof Rejection) return e;
    throw e;
  }
  throw new Error('expected a rejection');
}

const car = (over: Record<string, unknown> = {}) => ({
  _id: OID,
  id: CAR,
  seller_name: 'Guðrún Þórðardóttir',
  email: ' Gudrun@Example.IS ',
  phone: '777-7777',
  postal_code: '101',
  car_make: 'Toyota',
  car_model: 'Yaris',
  car_plate: 'ab 123',
  year: new Int32(2018),
  mileage: new Int32(84000),
  status: 'active',
  created_at: new Date('2024-03-01T09:00:00Z'),
  ...over,
});

describe('keys', () => {
  it('derives version-5 uuids (RFC test vector) and a fixed namespace for _id keys', () => {
    expect(uuidV5('www.example.com', '6ba7b810-9dad-11d1-80b4-00c04fd430c8')).toBe('2ed6657d-e927-568b-95e1-2665a8aea6a2');
    expect(MONGO_ID_NAMESPACE).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(idFromMongoId(OID)).toBe(idFromMongoId(new ObjectId(OID.toHexString())));
    expect(idFromMongoId(OID)).not.toBe(idFromMongoId(new ObjectId('65e1a0000000000000000002')));
  });

  it('uses id when present, _id only without it, and maps a car_id given as ObjectId to that same key', () => {
    expect(mapDocument(spec('Bílar'), car()).row.id).toBe(CAR);
    const { id: _drop, ...withoutId } = car();
    const derived = mapDocument(spec('Bílar'), withoutId);
    expect(derived.row.id).toBe(idFromMongoId(OID));
    expect(derived.defaults).toContain('id from _id');
    expect(derived.sourceId).toBe(OID.toHexString());
    expect(readReference(OID)).toBe(derived.row.id);
    expect(readReference(OID.toHexString())).toBe(derived.row.id);
    expect(readReference(new Binary(Buffer.from(CAR.replace(/-/g, ''), 'hex'), 4))).toBe(CAR);
    expect(readReference(CAR.toUpperCase())).toBe(CAR);
  });

  it('rejects an id that is not a uuid, and a document with no id at all', () => {
    expect(rejection('Bílar', car({ id: 'car-17' }))).toMatchObject({ rule: 'invalid_id', field: 'id' });
    const { _id, id: _unusedId, ...bare } = car();
    expect(rejection('Bílar', bare)).toMatchObject({ rule: 'missing_id' });
  });
});

describe('cars ("Bílar")', () => {
  it('normalises like the API: plate upper-case without spaces, e-mail lower-case, phone E.164', () => {
    const { row, hash, unmapped } = mapDocument(spec('Bílar'), car({ images: ['a.jpg'] }));
    expect(row).toEqual({
      id: CAR,
      seller_name: 'Guðrún Þórðardóttir',
      email: 'gudrun@example.is',
      phone: '+3547777777',
      postal_code: '101',
      car_make: 'Toyota',
      car_model: 'Yaris',
      car_plate: 'AB123',
      year: 2018,
      mileage: 84000,
      status: 'active',
      created_at: '2024-03-01T09:00:00.000Z',
      updated_at: '2024-03-01T09:00:00.000Z',
    });
    expect(unmapped).toEqual(['images']);
    expect(mapDocument(spec('Bílar'), car()).hash).toBe(hash);
  });

  it('accepts the camelCase spellings, Icelandic plates, digit strings for year and mileage, and BSON number types', () => {
    const { row } = mapDocument(spec('Bílar'), {
      _id: OID,
      firstName: 'Jón',
      lastName: 'Þór',
      carMake: 'Škoda',
      carModel: 'Octavia',
      carPlate: 'þór-12',
      year: '2020',
      mileage: Long.fromNumber(120000),
      createdAt: '2024-03-02T10:30:00',
    });
    expect(row).toMatchObject({ seller_name: 'Jón Þór', car_plate: 'ÞÓR-12', year: 2020, mileage: 120000, status: 'active' });
    expect(row.created_at).toBe('2024-03-02T10:30:00.000Z');
    expect(row.email).toBeNull();
    expect(mapDocument(spec('Bílar'), car({ mileage: new Double(45000) })).row.mileage).toBe(45000);
    expect(mapDocument(spec('Bílar'), car({ mileage: Decimal128.fromString('45000') })).row.mileage).toBe(45000);
  });

  it('falls back to the ObjectId time for a missing created_at, and to created_at for updated_at', () => {
    const { created_at: _c, ...doc } = car();
    const mapped = mapDocument(spec('Bílar'), doc);
    expect(mapped.row.created_at).toBe(OID.getTimestamp().toISOString());
    expect(mapped.row.updated_at).toBe(mapped.row.created_at);
    expect(mapped.defaults).toContain('created_at from _id');
  });

  it.each([
    [{ email: 'not-an-email' }, 'invalid_email', 'email'],
    [{ phone: '123' }, 'invalid_phone', 'phone'],
    [{ postal_code: '1010' }, 'invalid_field', 'postal_code'],
    [{ car_plate: 'A' }, 'invalid_plate', 'car_plate'],
    [{ car_plate: 'AB_123' }, 'invalid_plate', 'car_plate'],
    [{ car_plate: 'ABCDEFGHIJK' }, 'invalid_plate', 'car_plate'],
    [{ year: new Int32(1899) }, 'out_of_range', 'year'],
    [{ year: new Int32(maxVehicleYear() + 1) }, 'out_of_range', 'year'],
    [{ year: '20x0' }, 'invalid_field', 'year'],
    [{ mileage: new Int32(-1) }, 'out_of_range', 'mileage'],
    [{ mileage: new Int32(10_000_000) }, 'out_of_range', 'mileage'],
    [{ mileage: new Double(1.5) }, 'invalid_field', 'mileage'],
    [{ status: 'available' }, 'invalid_field', 'status'],
    [{ car_make: '' }, 'invalid_field', 'car_make'],
    [{ car_model: 'x'.repeat(61) }, 'invalid_field', 'car_model'],
    [{ car_make: undefined }, 'missing_field', 'car_make'],
    [{ created_at: 'yesterday' }, 'invalid_field', 'created_at'],
  ])('rejects %o (%s)', (over, rule, field) => {
    const doc = car(over);
    if ('car_make' in over && over.car_make === undefined) delete (doc as Record<string, unknown>).car_make;
    expect(rejection('Bílar', doc)).toMatchObject({ rule, field });
  });

  it('masks personal data in reasons as the logger does', () => {
    const phone = rejection('Bílar', car({ phone: '123-4567' }));
    expect(phone.rule).toBe('invalid_phone');
    expect(phone.message).not.toContain('123-4567');
    const email = rejection('Bílar', car({ email: 'jón@example.is' }));
    expect(email.rule).toBe('invalid_email');
    expect(email.message).not.toContain('jón');
  });
});

describe('bids ("uppboð", "fyrir_bílasala")', () => {
  const bid = (over: Record<string, unknown> = {}) => ({
    _id: OID,
    id: '7c1e0d9a-2b3c-4d5e-8f90-a1b2c3d4e501',
    car_id: CAR,
    dealer_name: ' Bílaland ehf. ',
    dealer_email: 'Sala@Bilaland.IS',
    bid_amount: new Int32(1_500_000),
    created_at: new Date('2024-03-01T10:00:00Z'),
    ...over,
  });

  it('maps snake_case and camelCase alike, in both collections', () => {
    for (const name of ['uppboð', 'fyrir_bílasala']) {
      const { row } = mapDocument(spec(name), bid());
      expect(row).toMatchObject({ car_id: CAR, dealer_name: 'Bílaland ehf.', dealer_email: 'sala@bilaland.is', bid_amount: 1_500_000 });
    }
    const camel = mapDocument(spec('uppboð'), {
      _id: OID,
      carId: CAR,
      dealerName: 'Askja',
      dealerEmail: 'askja@example.is',
      bidAmount: 2_100_000,
      createdAt: new Date(0),
    });
    expect(camel.row).toMatchObject({ id: idFromMongoId(OID), car_id: CAR, bid_amount: 2_100_000 });
  });

  it.each([
    [{ bid_amount: new Int32(0) }, 'out_of_range'],
    [{ bid_amount: Long.fromNumber(3_000_000_000) }, 'out_of_range'],
    [{ bid_amount: Long.fromString('9007199254740993') }, 'out_of_range'],
    [{ bid_amount: new Double(1500000.5) }, 'invalid_field'],
    [{ bid_amount: '1500000' }, 'invalid_field'],
    [{ dealer_email: 'sala at hekla' }, 'invalid_email'],
    [{ dealer_name: '  ' }, 'invalid_field'],
    [{ car_id: 'not-a-car' }, 'invalid_field'],
  ])('rejects %o (%s)', (over, rule) => {
    expect(rejection('uppboð', bid(over)).rule).toBe(rule);
  });
});

describe('logs', () => {
  it('status_checks: the old template shape; details keep their JSON with Extended JSON values relaxed', () => {
    const doc = EJSON.parse(
      '{"_id":{"$oid":"65e1a0000000000000000301"},"clientName":"deploy","details":{"version":{"$numberLong":"42"},"at":{"$date":"2024-05-02T00:00:00Z"}},"timestamp":"2024-05-01T12:00:00.123456"}',
      { relaxed: false },
    );
    const { row } = mapDocument(spec('status_checks'), doc);
    expect(row).toMatchObject({ client_name: 'deploy', message: null, timestamp: '2024-05-01T12:00:00.123Z' });
    expect(row.details).toEqual({ version: 42, at: { $date: '2024-05-02T00:00:00Z' } });
    expect(rejection('status_checks', { _id: OID }).rule).toBe('missing_field');
  });

  it('vehicle_verifications: outcome from outcome, found or success', () => {
    const base = { _id: OID, plate: 'ab 123', timestamp: new Date(0) };
    expect(mapDocument(spec('vehicle_verifications'), { ...base, found: true, message: 'Vehicle found' }).row).toMatchObject({
      plate: 'AB123',
      outcome: 'found',
      reason: null,
    });
    expect(mapDocument(spec('vehicle_verifications'), { ...base, success: false, message: 'No vehicle' }).row).toMatchObject({
      outcome: 'not_found',
      reason: 'No vehicle',
    });
    expect(mapDocument(spec('vehicle_verifications'), { ...base, success: false, error: 'timeout' }).row).toMatchObject({
      outcome: 'error',
      reason: 'timeout',
    });
    expect(mapDocument(spec('vehicle_verifications'), { ...base, outcome: 'not found', mileage: '12000' }).row).toMatchObject({
      outcome: 'not_found',
      mileage: 12000,
    });
    expect(rejection('vehicle_verifications', base)).toMatchObject({ rule: 'missing_field', field: 'outcome' });
  });

  it('email_logs and list_additions: status inferred and defaults noted', () => {
    const mail = mapDocument(spec('email_logs'), {
      _id: OID,
      to: 'Jon@Example.is',
      success: false,
      error: 'Brevo 401',
      sent_at: new Date(0),
    });
    expect(mail.row).toMatchObject({ kind: 'legacy', email: 'jon@example.is', status: 'failed', error: 'Brevo 401' });
    expect(mail.defaults).toEqual(['id from _id', 'kind=legacy']);
    const added = mapDocument(spec('list_additions'), {
      _id: OID,
      email: 'a@example.is',
      phone: '777 7777',
      alreadyExists: true,
      timestamp: new Date(0),
    });
    expect(added.row).toMatchObject({ list_id: 3, already_on_list: true, status: 'added', phone: '+3547777777' });
    expect(added.defaults).toContain('list_id=3');
  });

  it('company_validations: kennitala with or without hyphen, valid required', () => {
    const { row } = mapDocument(spec('company_validations'), {
      _id: OID,
      organizationNumber: '650119-2070',
      isValid: true,
      createdAt: new Date(0),
    });
    expect(row).toMatchObject({ kennitala: '6501192070', valid: true });
    expect(rejection('company_validations', { _id: OID, kennitala: '12345', valid: false }).rule).toBe('invalid_field');
    expect(rejection('company_validations', { _id: OID, kennitala: '6501192070' }).rule).toBe('missing_field');
  });
});

describe('timestamps', () => {
  it('reads ISO text with and without a zone (UTC), and refuses impossible dates', () => {
    expect(parseIsoDate('2024-03-01T09:00:00Z')?.toISOString()).toBe('2024-03-01T09:00:00.000Z');
    expect(parseIsoDate('2024-03-01T09:00:00+02:00')?.toISOString()).toBe('2024-03-01T07:00:00.000Z');
    expect(parseIsoDate('2024-03-01 09:00:00.5')?.toISOString()).toBe('2024-03-01T09:00:00.500Z');
    expect(parseIsoDate('2024-02-30T00:00:00Z')).toBeNull();
    expect(parseIsoDate('1 March 2024')).toBeNull();
  });
});
