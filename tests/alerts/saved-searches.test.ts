import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { insertDealer, nextPlate, registerCar } from '../helpers/fixtures.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import type { Fake } from '../fakes/fake-server.js';
import { signIn } from '../api/seller-helpers.js';
import { bearer, dealerEnv, dealerSignIn } from '../dealer/helpers.js';

/** GET/POST/DELETE /api/dealer/searches: who may, the limit (also under two saves at once), the filters' checks, export and erasure. */

let brevo: Fake<BrevoMode>;
let app: TestApp;

beforeAll(async () => {
  brevo = await startFakeBrevo();
  app = await startTestApp(dealerEnv(brevo, { AUTH_MODE: 'off' }));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
});

const save = (token: string, body: unknown) => app.request('POST', '/api/dealer/searches', { headers: bearer(token), body });
const list = (token: string) => app.request('GET', '/api/dealer/searches', { headers: bearer(token) });

describe('saved searches', () => {
  it('a pending dealer saves, lists and deletes searches; filters are stored in canonical form', async () => {
    const id = await insertDealer(app, 'leit@bilar.is', 'pending');
    const token = await dealerSignIn(app, brevo, 'leit@bilar.is');
    const created = await save(token, {
      name: '  Rafbílar  ',
      filters: { make: ['Tesla', ' Kia', 'Tesla'], fuel: ['Rafmagn'], price_max: 4_000_000, model: '  ', q: ' model 3 ' },
      alert: 'instant',
    });
    expect(created.status, created.text).toBe(201);
    expect(created.body.search).toMatchObject({
      name: 'Rafbílar',
      filters: { make: ['Kia', 'Tesla'], price_max: 4_000_000, fuel: ['Rafmagn'], q: 'model 3' },
      alert: 'instant',
    });
    const { rows } = await app.sql.query('SELECT dealer_id, q_words, filters FROM saved_searches WHERE id = $1', [created.body.search.id]);
    expect(rows).toEqual([
      {
        dealer_id: id,
        q_words: ['model', '3'],
        filters: { make: ['Kia', 'Tesla'], price_max: 4_000_000, fuel: ['Rafmagn'], q: 'model 3' },
      },
    ]);
    const second = await save(token, { name: 'Allt', filters: {}, alert: 'off' });
    expect(second.status).toBe(201);

    const listed = await list(token);
    expect(listed.status).toBe(200);
    expect(listed.body.count).toBe(2);
    expect(listed.body.searches.map((s: { name: string }) => s.name)).toEqual(['Rafbílar', 'Allt']);

    const gone = await app.request('DELETE', `/api/dealer/searches/${second.body.search.id}`, { headers: bearer(token) });
    expect(gone.status).toBe(204);
    expect((await list(token)).body.searches.map((s: { id: string }) => s.id)).toEqual([created.body.search.id]);
    const again = await app.request('DELETE', `/api/dealer/searches/${second.body.search.id}`, { headers: bearer(token) });
    expect([again.status, again.body.error]).toEqual([404, 'not_found']);
  });

  it("another dealer's search is a 404, and stays", async () => {
    await insertDealer(app, 'a-leit@bilar.is');
    await insertDealer(app, 'b-leit@bilar.is');
    const a = await dealerSignIn(app, brevo, 'a-leit@bilar.is');
    const b = await dealerSignIn(app, brevo, 'b-leit@bilar.is');
    const mine = await save(a, { name: 'Mín', filters: { year_min: 2018 }, alert: 'daily' });
    const theirs = await app.request('DELETE', `/api/dealer/searches/${mine.body.search.id}`, { headers: bearer(b) });
    expect([theirs.status, theirs.body.error]).toEqual([404, 'not_found']);
    expect((await list(b)).body.searches).toEqual([]);
    expect((await list(a)).body.searches).toHaveLength(1);
    const unknown = await app.request('DELETE', '/api/dealer/searches/8c7b6a59-4e3d-4c2b-9a1f-0e9d8c7b6a59', { headers: bearer(a) });
    expect(unknown.status).toBe(404);
  });

  it('needs a dealer token: none, or a seller token, is a 401 even with AUTH_MODE=off', async () => {
    expect((await app.request('GET', '/api/dealer/searches')).status).toBe(401);
    const anonymous = await app.request('POST', '/api/dealer/searches', { body: { name: 'x', filters: {}, alert: 'off' } });
    expect([anonymous.status, anonymous.body.error]).toEqual([401, 'unauthorized']);
    const car = await registerCar(app, { carPlate: nextPlate('SS'), email: 'seljandi@example.is' });
    const seller = await signIn(app, brevo, car.car_plate, 'seljandi@example.is');
    expect((await list(seller)).status).toBe(401);
    expect((await save(seller, { name: 'x', filters: {}, alert: 'off' })).status).toBe(401);
    expect(
      (await app.request('DELETE', '/api/dealer/searches/8c7b6a59-4e3d-4c2b-9a1f-0e9d8c7b6a59', { headers: bearer(seller) })).status,
    ).toBe(401);
  });

  it('bad filters are a 422 in the one error shape, as the list answers them', async () => {
    await insertDealer(app, 'villa@bilar.is');
    const token = await dealerSignIn(app, brevo, 'villa@bilar.is');
    const bounds = await save(token, { name: 'Öfugt', filters: { year_min: 2020, year_max: 2010 }, alert: 'instant' });
    expect(bounds.status).toBe(422);
    expect(bounds.body).toMatchObject({ success: false, error: 'validation_failed' });
    expect(bounds.body.errors).toEqual([
      { path: 'body.filters.year_min', message: 'body.filters.year_min is above body.filters.year_max' },
    ]);
    const listSays = await app.request('GET', '/api/cars?year_min=2020&year_max=2010');
    expect(listSays.body.errors).toEqual([{ path: 'query.year_min', message: 'query.year_min is above query.year_max' }]);
    for (const filters of [{ region: 'mars' }, { colour: 'red' }, { make: 'Toyota' }, { year_min: 'new' }]) {
      const res = await save(token, { name: 'Röng', filters, alert: 'instant' });
      expect([res.status, res.body.error], JSON.stringify(filters)).toEqual([422, 'validation_failed']);
    }
    expect((await save(token, { name: 'x', filters: {}, alert: 'sometimes' })).status).toBe(422);
    expect((await save(token, { name: '   ', filters: {}, alert: 'off' })).status).toBe(422);
    expect((await list(token)).body.searches).toEqual([]);
  });

  it('at most 20 per dealer (409 saved_search_limit), also when the last ones arrive at once', async () => {
    await insertDealer(app, 'mikid@bilar.is');
    const token = await dealerSignIn(app, brevo, 'mikid@bilar.is');
    for (let i = 0; i < 18; i++)
      expect((await save(token, { name: `Leit ${i}`, filters: { year_min: 2000 + i }, alert: 'off' })).status).toBe(201);
    // 19th and 20th and 21st and 22nd at once: two fit, two are refused
    const racing = await Promise.all(
      [18, 19, 20, 21].map((i) => save(token, { name: `Leit ${i}`, filters: { year_min: 2000 + i }, alert: 'off' })),
    );
    expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 409, 409]);
    for (const r of racing.filter((x) => x.status === 409)) expect(r.body.error).toBe('saved_search_limit');
    const { rows } = await app.sql.query(
      `SELECT count(*)::int AS n FROM saved_searches s JOIN dealers d ON d.id = s.dealer_id WHERE d.email = 'mikid@bilar.is'`,
    );
    expect(rows[0].n).toBe(20);
    expect((await list(token)).body.count).toBe(20);
  });

  it("the dealer's export lists their saved searches, and erasure deletes them", async () => {
    await insertDealer(app, 'flytja@bilar.is');
    const token = await dealerSignIn(app, brevo, 'flytja@bilar.is');
    const saved = await save(token, { name: 'Jeppar', filters: { make: ['Toyota'], q: 'land cruiser' }, alert: 'daily' });
    const exported = await app.request('GET', '/api/dealer/data-export', { headers: bearer(token) });
    expect(exported.status).toBe(200);
    expect(exported.body.sections.saved_searches).toEqual([
      expect.objectContaining({
        id: saved.body.search.id,
        name: 'Jeppar',
        alert: 'daily',
        filters: { make: ['Toyota'], q: 'land cruiser' },
      }),
    ]);
    const erased = await app.request('POST', '/api/dealer/erasure', { headers: bearer(token) });
    expect(erased.status, erased.text).toBe(200);
    const { rows } = await app.sql.query('SELECT count(*)::int AS n FROM saved_searches WHERE id = $1', [saved.body.search.id]);
    expect(rows[0].n).toBe(0);
  });
});
