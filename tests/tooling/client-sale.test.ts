import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createKaggiClient, type Sale, type SaleList } from '../../client/index.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { startFakeBrevo, type BrevoMode } from '../fakes/brevo.js';
import { startFakeTwilio, type TwilioMode } from '../fakes/twilio.js';
import type { Fake } from '../fakes/fake-server.js';
import { ADMIN_KEY } from '../api/seller-helpers.js';
import { VALID_DETAILS, dealer, saleEnv, soldCar } from '../sale/helpers.js';
import { specChecked } from './spec-checked.js';

/** The sale through the typed client: the back office, the seller and the buying dealer each on their own side. */
let brevo: Fake<BrevoMode>;
let twilio: Fake<TwilioMode>;
let app: TestApp;
beforeAll(async () => {
  brevo = await startFakeBrevo();
  twilio = await startFakeTwilio();
  app = await startTestApp(saleEnv(brevo, twilio));
});
afterAll(async () => {
  await app?.close();
  await brevo?.close();
  await twilio?.close();
});

describe('typed client: the sale', () => {
  it('records a step, shows it to seller and buyer, and downloads the contract', async () => {
    const buyer = await dealer(app, 'klient');
    const { carId, sellerToken } = await soldCar(app, brevo, [[buyer, 1_200_000]]);
    const checked = specChecked();
    const backOffice = createKaggiClient(app.url, { adminKey: ADMIN_KEY, middleware: [checked.middleware] });
    const seller = createKaggiClient(app.url, { token: sellerToken, middleware: [checked.middleware] });
    const dealerClient = createKaggiClient(app.url, { token: buyer.token, middleware: [checked.middleware] });

    const recorded = await backOffice.POST('/api/admin/cars/{car_id}/sale/steps', {
      params: { path: { car_id: carId } },
      body: { step: 'contract_signed' },
    });
    const sale: Sale | undefined = recorded.data?.sale;
    expect(sale?.steps.map((s) => s.step)).toEqual(['contract_signed']);
    const refused = await backOffice.POST('/api/admin/cars/{car_id}/sale/steps', {
      params: { path: { car_id: carId } },
      body: { step: 'contract_signed' },
    });
    expect(refused.error?.error).toBe('step_already_recorded');

    expect((await seller.PUT('/api/seller/car/sale/details', { body: VALID_DETAILS })).data?.sale.seller_details_given).toBe(true);
    expect((await seller.GET('/api/seller/car')).data?.sale?.steps).toHaveLength(1);
    const mine = await dealerClient.GET('/api/dealer/purchases/{car_id}', { params: { path: { car_id: carId } } });
    expect(mine.data?.sale.pickup_address).toBe(VALID_DETAILS.address);
    const list: SaleList | undefined = (await backOffice.GET('/api/admin/sales', { params: { query: { state: 'open' } } })).data;
    expect(list?.sales.map((s) => s.car_id)).toContain(carId);
    const pdf = await seller.GET('/api/cars/{car_id}/sale/contract.pdf', { params: { path: { car_id: carId } }, parseAs: 'arrayBuffer' });
    expect(
      Buffer.from(pdf.data as ArrayBuffer)
        .subarray(0, 5)
        .toString(),
    ).toBe('%PDF-');
  });
});
