/**
 * Typed client for the Kaggi API, built on openapi-fetch and the types generated from
 * openapi.yaml (`npm run generate` → generated/api.d.ts). Paths, parameters, request
 * bodies and responses are all checked by the compiler:
 *
 *   const kaggi = createKaggiClient(process.env.NEXT_PUBLIC_BACKEND_URL ?? 'http://localhost:8004');
 *   const { data, error } = await kaggi.POST('/api/bids/create', {
 *     body: { car_id, dealer_name: 'Bílaland ehf.', dealer_email: 'sala@bilaland.is', bid_amount: 2_450_000 },
 *   });
 *   if (error) console.warn(error.error, error.message); // the one Error shape
 *   else console.log(data.bid.bid_amount);
 *
 * The seller's page ("Mín síða") signs in with plate, e-mail and a one-time code and then
 * sends the seller token the same way as a dealer's:
 *
 *   await kaggi.POST('/api/seller/login', { body: { car_plate: 'AB123', email } }); // always 202
 *   const { data: session } = await kaggi.POST('/api/seller/verify', { body: { car_plate: 'AB123', email, code } });
 *   const seller = createKaggiClient(baseUrl, { token: session!.token });
 *   const { data: page } = await seller.GET('/api/seller/car'); // car, bids, timeline
 *   await seller.POST('/api/seller/car/accept', { headers: { 'Idempotency-Key': crypto.randomUUID() } });
 *
 * After the sale, the seller gives the details for the papers and the contract is a PDF:
 *
 *   await seller.PUT('/api/seller/car/sale/details', { body: { kennitala, address, bank_account } });
 *   const { data: pdf } = await seller.GET('/api/cars/{car_id}/sale/contract.pdf', {
 *     params: { path: { car_id } },
 *     parseAs: 'blob',
 *   });
 *
 * A dealer signs in the same way, with the registered e-mail only, and sends Kaggi's dealer
 * token wherever a dealer token goes:
 *
 *   await kaggi.POST('/api/dealer/login', { body: { email } }); // always 202
 *   const { data: signedIn } = await kaggi.POST('/api/dealer/verify', { body: { email, code } });
 *   const dealer = createKaggiClient(baseUrl, { token: signedIn!.token });
 *   const { data: me } = await dealer.GET('/api/dealer/me'); // status: pending | approved | suspended
 *   const { data: bids } = await dealer.GET('/api/dealer/bids'); // each car's standing; cars carry my_bid
 *   const { data: bought } = await dealer.GET('/api/dealer/purchases');
 *
 * Dealers find cars with the list's filters and sorts (a repeatable filter takes a list), and
 * count a search for a filter panel:
 *
 *   const { data: page } = await dealer.GET('/api/cars', {
 *     params: { query: { make: ['Toyota', 'Kia'], fuel: ['Rafmagn'], region: 'capital', sort: 'ending_soon' } },
 *   }); // then pass page.next_cursor as `cursor`, with the same filters and sort
 *   const { data: panel } = await dealer.GET('/api/cars/facets', { params: { query: { region: 'capital' } } });
 *
 * and keep a search, to hear of new matches by e-mail (docs/alerts.md; at most 20 per dealer):
 *
 *   const { data: saved } = await dealer.POST('/api/dealer/searches', {
 *     body: { name: 'Rafbílar', filters: { fuel: ['Rafmagn'], region: 'capital' }, alert: 'instant' }, // or daily | off
 *   });
 *   const { data: mySearches } = await dealer.GET('/api/dealer/searches');
 *   await dealer.DELETE('/api/dealer/searches/{search_id}', { params: { path: { search_id: saved!.search.id } } });
 *
 * A person's data on request, and erased on request (docs/privacy.md):
 *
 *   const { data: mine } = await seller.GET('/api/seller/data-export'); // every section, empty or not
 *   await seller.POST('/api/seller/erasure'); // 409 erasure_blocked while a round runs
 *   const office = createKaggiClient(baseUrl, { adminKey });
 *   await office.GET('/api/admin/audit', { params: { query: { limit: 50 } } });
 *
 * Runs anywhere `fetch` exists (browsers, Node ≥ 18, Next.js server and client).
 */
import createClient, { type Client, type ClientOptions, type Middleware } from 'openapi-fetch';
import type { components, operations, paths } from '../generated/api.js';

export type { components, operations, paths };
export type { Middleware };

/** The client: `GET`, `POST`, `PUT`, `DELETE`, … on the spec's paths. */
export type KaggiClient = Client<paths>;

export type KaggiClientOptions = Omit<ClientOptions, 'baseUrl'> & {
  /**
   * A bearer token, sent as `Authorization: Bearer …`: a dealer's JSON Web Token (needed
   * only when the server runs with AUTH_MODE=jwt), Kaggi's dealer token from
   * `POST /api/dealer/verify`, or a seller's token from
   * `POST /api/seller/verify` for the `/api/seller/car…` operations. A function is called
   * before every request, so a refreshed token is picked up; returning undefined sends no header.
   */
  token?: string | (() => string | undefined | Promise<string | undefined>);
  /** Operator key for the admin operations (`X-Admin-Key`). Never ship it to a browser. */
  adminKey?: string;
  /** openapi-fetch middleware (logging, error reporting, …), run in order. */
  middleware?: Middleware[];
};

/**
 * A client for the Kaggi API at `baseUrl` (e.g. `http://localhost:8004`, or the mock at
 * `http://127.0.0.1:4010`). A trailing slash is ignored.
 */
export function createKaggiClient(baseUrl: string, options: KaggiClientOptions = {}): KaggiClient {
  const { token, adminKey, middleware = [], ...clientOptions } = options;
  const client = createClient<paths>({ ...clientOptions, baseUrl: baseUrl.replace(/\/+$/, '') });
  if (token !== undefined || adminKey !== undefined) {
    client.use({
      async onRequest({ request }) {
        const bearer = typeof token === 'function' ? await token() : token;
        if (bearer && !request.headers.has('authorization')) request.headers.set('authorization', `Bearer ${bearer}`);
        if (adminKey && !request.headers.has('x-admin-key')) request.headers.set('x-admin-key', adminKey);
        return request;
      },
    });
  }
  if (middleware.length > 0) client.use(...middleware);
  return client;
}

type Schemas = components['schemas'];

/** Any schema of openapi.yaml by name, e.g. `Schema<'CarList'>`. */
export type Schema<Name extends keyof Schemas> = Schemas[Name];

/** The one error body every failing operation answers (`success: false`, `error`, `message`, …). */
export type ApiError = Schemas['Error'];
/** Alias of ApiError under the spec's own name; import it as `type Error as KaggiError` to keep the global Error. */
export type { ApiError as Error };
export type FieldError = Schemas['FieldError'];

export type Car = Schemas['Car'];
export type DealerAccount = Schemas['DealerAccount'];
export type MyBid = Schemas['MyBid'];
export type MyBidEntry = Schemas['MyBidEntry'];
export type MyPurchase = Schemas['MyPurchase'];
export type DealerStanding = Schemas['DealerStanding'];
export type CarStatus = Schemas['CarStatus'];
export type CarSummary = Schemas['CarSummary'];
export type Bid = Schemas['Bid'];
export type DealerBid = Schemas['DealerBid'];
export type Favorite = Schemas['Favorite'];
export type Dealer = Schemas['Dealer'];
export type DashboardStats = Schemas['DashboardStats'];
export type VehicleData = Schemas['VehicleData'];
export type StatusCheck = Schemas['StatusCheck'];
export type CarBid = Schemas['CarBid'];
export type DealerStatus = Schemas['DealerStatus'];
export type Inspection = Schemas['Inspection'];
export type InspectionGrades = Schemas['InspectionGrades'];
export type InspectionDamage = Schemas['InspectionDamage'];
export type Grade = Schemas['Grade'];
export type PriceEstimate = Schemas['PriceEstimate'];

export type RegisterCarRequest = Schemas['RegisterCarRequest'];
export type RegisterCarCamel = Schemas['RegisterCarCamel'];
export type RegisterDealerRequest = Schemas['RegisterDealerRequest'];
export type CreateBidRequest = Schemas['CreateBidRequest'];
export type FavoriteRequest = Schemas['FavoriteRequest'];
export type ContactRequest = Schemas['ContactRequest'];
export type VerifyVehicleRequest = Schemas['VerifyVehicleRequest'];
export type SendVerificationCodeRequest = Schemas['SendVerificationCodeRequest'];
export type VerifyCodeRequest = Schemas['VerifyCodeRequest'];
export type ValidateCompanyRequest = Schemas['ValidateCompanyRequest'];
export type UpdateDealerStatusRequest = Schemas['UpdateDealerStatusRequest'];
export type InspectionRequest = Schemas['InspectionRequest'];

export type VehicleVerified = Schemas['VehicleVerified'];
export type VehicleNotFound = Schemas['VehicleNotFound'];
export type CompanyValidation = Schemas['CompanyValidation'];
export type DealerRegistered = Schemas['DealerRegistered'];
export type CarRegistered = Schemas['CarRegistered'];
export type CarList = Schemas['CarList'];
export type CarSort = Schemas['CarSort'];
export type Region = Schemas['Region'];
export type CarFacets = Schemas['CarFacets'];
export type SearchFilters = Schemas['SearchFilters'];
export type SavedSearch = Schemas['SavedSearch'];
export type SavedSearchAlert = Schemas['SavedSearchAlert'];
export type SavedSearchRequest = Schemas['SavedSearchRequest'];
export type SavedSearchList = Schemas['SavedSearchList'];
export type BidCreated = Schemas['BidCreated'];
export type VerificationCodeSent = Schemas['VerificationCodeSent'];
export type VerificationCodeChecked = Schemas['VerificationCodeChecked'];
export type DealerList = Schemas['DealerList'];
export type DealerStatusUpdated = Schemas['DealerStatusUpdated'];
export type InspectionResponse = Schemas['InspectionResponse'];
export type InspectionRecorded = Schemas['InspectionRecorded'];
export type PriceEstimateResponse = Schemas['PriceEstimateResponse'];

export type SellerLoginRequest = Schemas['SellerLoginRequest'];
export type SellerVerifyRequest = Schemas['SellerVerifyRequest'];
export type SellerWithdrawRequest = Schemas['SellerWithdrawRequest'];
export type SellerSession = Schemas['SellerSession'];
export type SellerCar = Schemas['SellerCar'];
export type SellerBid = Schemas['SellerBid'];
export type TimelineEntry = Schemas['TimelineEntry'];
export type Sale = Schemas['Sale'];
export type SaleState = Schemas['SaleState'];
export type SaleStepName = Schemas['SaleStepName'];
export type SaleStepEntry = Schemas['SaleStepEntry'];
export type SaleReply = Schemas['SaleReply'];
export type SaleList = Schemas['SaleList'];
export type SaleStepRequest = Schemas['SaleStepRequest'];
export type SaleCancelRequest = Schemas['SaleCancelRequest'];
export type SellerSaleDetailsRequest = Schemas['SellerSaleDetailsRequest'];
export type SellerPickupRequest = Schemas['SellerPickupRequest'];
export type DealerPickupRequest = Schemas['DealerPickupRequest'];
export type CarSaleEvent = Schemas['CarSaleEvent'];
export type SellerCarPage = Schemas['SellerCarPage'];
export type SellerDecision = Schemas['SellerDecision'];
export type SellerSale = Schemas['SellerSale'];

/** A live auction event, typed by its name (`GET /api/cars/{car_id}/events`, `GET /api/events`). */
export type LiveEvent =
  | { event: 'snapshot'; id: string | undefined; data: Schemas['CarSnapshotEvent'] }
  | { event: 'bid'; id: string | undefined; data: Schemas['CarBidEvent'] }
  | { event: 'status'; id: string | undefined; data: Schemas['CarStatusEvent'] }
  | { event: 'sale'; id: string | undefined; data: Schemas['CarSaleEvent'] }
  | { event: 'reset'; id: string | undefined; data: Schemas['AllEventsReset'] };

export type StreamEventsOptions = {
  /** A car's stream; without it, every car's. */
  carId?: string;
  /** Resume after this event (the `id` of the last event handled). */
  lastEventId?: string;
  /** Stops the stream (the iterator then ends). */
  signal?: AbortSignal;
  /** Extra headers (e.g. `Authorization`). */
  headers?: Record<string, string>;
};

/**
 * The live stream as an async iterator of typed events, for code without `EventSource`
 * (Node, React Native, tests) or that wants the types. A browser can use
 * `new EventSource(url)` instead, which also reconnects by itself; here reconnecting is the
 * caller's: keep the last `id` and pass it as `lastEventId`.
 *
 *   for await (const e of streamEvents(baseUrl, { carId })) {
 *     if (e.event === 'bid') show(e.data.amount, e.data.min_next_bid);
 *   }
 *
 * A refused stream (404 no such car, 429/503 too many streams) throws with the error body.
 */
export async function* streamEvents(baseUrl: string, options: StreamEventsOptions = {}): AsyncGenerator<LiveEvent> {
  const path = options.carId ? `/api/cars/${encodeURIComponent(options.carId)}/events` : '/api/events';
  const res = await fetch(baseUrl.replace(/\/+$/, '') + path, {
    headers: {
      accept: 'text/event-stream',
      ...(options.lastEventId ? { 'last-event-id': options.lastEventId } : {}),
      ...options.headers,
    },
    signal: options.signal,
  });
  if (!res.ok || !res.body) {
    const body = (await res.json().catch(() => null)) as ApiError | null;
    throw Object.assign(new Error(body?.message ?? `stream refused: ${res.status}`), { status: res.status, body });
  }
  const decoder = new TextDecoder();
  let buffer = '';
  let id: string | undefined;
  let event = '';
  let data: string[] = [];
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (line === '') {
          if (data.length > 0 && event) yield { event, id, data: JSON.parse(data.join('\n')) } as LiveEvent;
          event = '';
          data = [];
          continue;
        }
        if (line.startsWith(':')) continue;
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        const fieldValue = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
        if (field === 'id') id = fieldValue;
        else if (field === 'event') event = fieldValue;
        else if (field === 'data') data.push(fieldValue);
      }
    }
  } catch (error) {
    if (options.signal?.aborted) return;
    throw error;
  } finally {
    reader.cancel().catch(() => undefined);
  }
}

export type Photo = Schemas['Photo'];
export type PhotoKind = Schemas['PhotoKind'];

/**
 * Uploads one photo of a car (`POST /api/cars/{car_id}/photos`, multipart/form-data) with
 * the seller's token (from `POST /api/cars/register` or `POST /api/seller/verify`) or an
 * admin's credentials, as set on the client:
 *
 *   const seller = createKaggiClient(baseUrl, { token: registered.seller_token });
 *   const { data, error } = await uploadPhoto(seller, carId, fileInput.files[0], { kind: 'exterior', caption: 'Front' });
 *
 * The file's type is read from its bytes by the server; its name and type here do not matter.
 */
export function uploadPhoto(
  client: KaggiClient,
  carId: string,
  file: Blob,
  options: { kind?: PhotoKind; caption?: string; filename?: string } = {},
) {
  return client.POST('/api/cars/{car_id}/photos', {
    params: { path: { car_id: carId } },
    body: {
      photo: 'file',
      ...(options.caption !== undefined ? { caption: options.caption } : {}),
      ...(options.kind ? { kind: options.kind } : {}),
    },
    bodySerializer: () => {
      const form = new FormData();
      form.append('photo', file, options.filename ?? 'photo');
      if (options.caption !== undefined) form.append('caption', options.caption);
      if (options.kind) form.append('kind', options.kind);
      return form;
    },
  });
}
