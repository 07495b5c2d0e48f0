import { BAD_JSON, json, startFake, type Fake, type FakeReply, type RecordedRequest } from './fake-server.js';

/**
 * Fake Creditinfo: OAuth2 token endpoint `POST /connect/token` and vehicle endpoint
 * `POST /vehicleregistrycore/Vehicle/GetVehicleInformationBasic`.
 * Point CREDITINFO_TOKEN_URL at `${url}/connect/token` and VEHICLE_API_BASE at
 * `${url}/vehicleregistrycore` (see `creditinfoEnv`).
 */
export type CreditinfoMode =
  | 'ok'
  | 'not_found' // vehicle endpoint 404
  | 'no_content' // vehicle endpoint 204
  | 'error500'
  | 'timeout' // vehicle endpoint never answers
  | 'token_timeout' // token endpoint never answers
  | 'bad_json'
  | 'expired_token' // vehicle endpoint answers 401 once (and forgets every issued token)
  | 'bad_credentials'; // token endpoint 400 invalid_grant

export const CREDITINFO_CREDENTIALS = {
  CREDITINFO_USERNAME: 'kaggi-user',
  CREDITINFO_PASSWORD: 'kaggi-pass',
  CREDITINFO_CLIENT_ID: 'kaggi-client',
  CREDITINFO_CLIENT_SECRET: 'kaggi-secret',
};

export const creditinfoEnv = (url: string) => ({
  ...CREDITINFO_CREDENTIALS,
  CREDITINFO_TOKEN_URL: `${url}/connect/token`,
  VEHICLE_API_BASE: `${url}/vehicleregistrycore`,
});

const VEHICLES: Record<string, unknown> = {
  AB123: {
    registrationNumber: 'AB123',
    type: 'TOYOTA',
    subtype: 'YARIS',
    firstRegistrationDate: '2018-05-14T00:00:00',
    vehicleIdentificationNumber: 'VNKKTUD3X0A123456',
    color: 'Hvítur',
    technical: { energySource: 'Bensín', engineDisplacement: 1496 },
  },
  XY987: {
    registrationNumber: 'XY987',
    type: 'TESLA',
    subtype: 'MODEL 3',
    firstRegistrationDate: '2021',
    vehicleIdentificationNumber: null,
    color: 'Rauður',
    technical: { energySource: 'Rafmagn', engineDisplacement: null },
  },
};

export type CreditinfoFake = Fake<CreditinfoMode> & {
  tokenRequests(): RecordedRequest[];
  vehicleRequests(): RecordedRequest[];
};

export async function startFakeCreditinfo(): Promise<CreditinfoFake> {
  const valid = new Set<string>();
  let issued = 0;
  let expiredOnce = false;

  const token = (req: RecordedRequest, mode: CreditinfoMode): FakeReply => {
    if (mode === 'token_timeout') return 'hang';
    const form = req.body as Record<string, string>;
    const ok =
      form?.grant_type === 'password' &&
      form.username === CREDITINFO_CREDENTIALS.CREDITINFO_USERNAME &&
      form.password === CREDITINFO_CREDENTIALS.CREDITINFO_PASSWORD &&
      form.client_id === CREDITINFO_CREDENTIALS.CREDITINFO_CLIENT_ID &&
      form.client_secret === CREDITINFO_CREDENTIALS.CREDITINFO_CLIENT_SECRET;
    if (mode === 'bad_credentials' || !ok) return json(400, { error: 'invalid_grant' });
    const accessToken = `token-${++issued}`;
    valid.add(accessToken);
    return json(200, { access_token: accessToken, expires_in: 3600, token_type: 'Bearer', scope: 'vehicleregistry' });
  };

  const vehicle = (req: RecordedRequest, mode: CreditinfoMode): FakeReply => {
    if (mode === 'timeout') return 'hang';
    if (mode === 'error500') return json(500, { message: 'An error has occurred.' });
    if (mode === 'expired_token' && !expiredOnce) {
      expiredOnce = true;
      valid.clear();
    }
    const bearer = /^Bearer (.+)$/.exec(String(req.headers.authorization ?? ''))?.[1];
    if (!bearer || !valid.has(bearer)) return { status: 401, raw: '', headers: { 'www-authenticate': 'Bearer error="invalid_token"' } };
    if (mode === 'bad_json') return BAD_JSON;
    if (mode === 'not_found') return json(404, { message: 'Vehicle not found' });
    if (mode === 'no_content') return { status: 204 };
    const plate = String((req.body as { registrationNumber?: unknown })?.registrationNumber ?? '');
    const found = VEHICLES[plate];
    return json(200, { vehicles: found ? [found] : [] });
  };

  const fake = await startFake<CreditinfoMode>('ok', (req, mode) => {
    if (req.method === 'POST' && req.path === '/connect/token') return token(req, mode);
    if (req.method === 'POST' && req.path === '/vehicleregistrycore/Vehicle/GetVehicleInformationBasic') return vehicle(req, mode);
    return json(404, { message: `No route ${req.method} ${req.path}` });
  });
  const behave = fake.behave.bind(fake);
  return {
    ...fake,
    behave(mode) {
      expiredOnce = false;
      behave(mode);
    },
    tokenRequests: () => fake.requests.filter((r) => r.path === '/connect/token'),
    vehicleRequests: () => fake.requests.filter((r) => r.path.endsWith('/GetVehicleInformationBasic')),
  };
}
