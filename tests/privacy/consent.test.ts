import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { camelCar, nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { flushOutbox } from '../../src/auctions/outbox.js';
import { createBrevo } from '../../src/integrations/brevo.js';
import { bearer, sellerEnv, signIn } from '../api/seller-helpers.js';

let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  app = await startTestApp(sellerEnv(brevo, twilio, { CONSENT_REQUIRED: 'true', BREVO_DOI_TEMPLATE_ID: '7' }));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await twilio?.close();
});

const flush = () => flushOutbox({ db: app.db, brevo: createBrevo(app.config, app.logger), config: app.config, logger: app.logger });
const listCalls = (path: string, email: string) => brevo.requests.filter((r) => r.path === path && JSON.stringify(r.body).includes(email));

describe('consent on record', () => {
  it('refuses a registration without the terms where consent is required, and stores nothing', async () => {
    const plate = nextPlate('PC');
    const res = await app.request('POST', '/api/cars/register', { body: camelCar({ carPlate: plate }) });
    expect(res.status).toBe(422);
    expect(res.body.errors[0].path).toBe('body.consent.terms_version');
    expect((await app.sql.query('SELECT count(*)::int AS n FROM "Bílar" WHERE car_plate = $1', [plate])).rows[0].n).toBe(0);
  });

  it('joins the list only with newsletter: true, records each change as a new row and leaves the list on withdrawal', async () => {
    const quiet = await registerCar(app, { email: 'quiet.seller@example.is', consent: { terms_version: '2025-11' } });
    const keen = await registerCar(app, { email: 'keen.seller@example.is', consent: { terms_version: '2025-11', newsletter: true } });
    await flush();
    expect(listCalls('/contacts', 'quiet.seller@example.is')).toEqual([]);
    expect(listCalls('/contacts', 'keen.seller@example.is')).toHaveLength(1);
    expect(quiet.id).toBeTruthy();

    const token = await signIn(app, brevo, keen.car_plate, 'keen.seller@example.is');
    const withdrawn = await app.request('POST', '/api/seller/consent', { headers: bearer(token), body: { newsletter: false } });
    expect(withdrawn.status).toBe(200);
    expect(withdrawn.body).toEqual({ success: true, newsletter: false, changed: true });
    await flush();
    expect(listCalls('/contacts/lists/3/contacts/remove', 'keen.seller@example.is')).toHaveLength(1);
    // The list change leaves no row naming the contact in the outbox.
    expect((await app.sql.query(`SELECT count(*)::int AS n FROM email_outbox WHERE kind LIKE 'newsletter%'`)).rows[0].n).toBe(0);

    const { rows } = await app.sql.query('SELECT terms_version, newsletter, source FROM consents WHERE car_id = $1 ORDER BY created_at', [
      keen.id,
    ]);
    expect(rows).toEqual([
      { terms_version: '2025-11', newsletter: true, source: 'car_registration' },
      { terms_version: '2025-11', newsletter: false, source: 'change' },
    ]);
    await expect(app.sql.query('UPDATE consents SET newsletter = true')).rejects.toThrow(/append-only/);
  });

  it('records the consent of a list sign-up', async () => {
    const res = await app.request('POST', '/api/add-to-brevo-list', { body: { name: 'Lísa Listi', email: 'lisa.list@example.is' } });
    expect(res.status).toBe(200);
    const { rows } = await app.sql.query(`SELECT subject_kind, newsletter, source FROM consents WHERE email = 'lisa.list@example.is'`);
    expect(rows).toEqual([{ subject_kind: 'contact', newsletter: true, source: 'brevo_list' }]);
  });
});

describe('the dealer operations with AUTH_MODE=off', () => {
  it('identify no dealer: 401, nothing exported or erased', async () => {
    const open = await startTestApp();
    try {
      for (const [method, path] of [
        ['GET', '/api/dealer/data-export'],
        ['POST', '/api/dealer/erasure'],
      ] as const) {
        const res = await open.request(method, path);
        expect(res.status, path).toBe(401);
        expect(res.body.error).toBe('unauthorized');
      }
    } finally {
      await open.close();
    }
  });
});
