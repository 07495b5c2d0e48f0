import type { Config } from '../config.js';
import { ApiError, notConfigured, upstreamUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import { field, requestJson, stringField, UpstreamError } from './http.js';
import { normalisePlate } from '../domain/normalise.js';
import { resolveMode, type IntegrationMode } from './mode.js';

/**
 * Creditinfo vehicle registry (Icelandic plates → make, model, year …).
 *
 * OAuth2 password grant against CREDITINFO_TOKEN_URL; the token is cached until 60 s
 * before it expires and concurrent callers share one in-flight token request. A 401 from
 * the vehicle endpoint drops the token, fetches a new one and retries once. A whole
 * `lookup()` (token + vehicle request + the one retry) is bounded by CREDITINFO_TIMEOUT_MS.
 */

const SERVICE = 'Creditinfo';
const TOKEN_MARGIN_MS = 60_000;

export type VehicleInfo = {
  registrationNumber: string;
  make: string;
  model: string;
  year: number | null;
  vin: string | null;
  fuel: string | null;
  engineSize: number | null;
  color: string | null;
  /** The day of first registration (YYYY-MM-DD) when the registry gives a whole date. */
  firstRegistration: string | null;
  source: 'creditinfo' | 'sandbox';
};

export type CreditinfoStatus = {
  mode: IntegrationMode;
  configured: boolean;
  sandbox: boolean;
};

export interface CreditinfoClient {
  readonly mode: IntegrationMode;
  /** null = the registry has no such plate. Throws ApiError 503 when the service fails. */
  lookup(plate: string): Promise<VehicleInfo | null>;
  status(): CreditinfoStatus;
}

type SandboxCar = [make: string, model: string, year: number, fuel: string, engineSize: number | null, color: string];
const YARIS: SandboxCar = ['Toyota', 'Yaris', 2018, 'Bensín', 1496, 'Hvítur'];
const SANDBOX_VEHICLES: Record<string, SandboxCar> = {
  AB123: YARIS,
  'IS-AB123': YARIS,
  TEST123: YARIS,
  DAK71: YARIS,
  GOP41: ['Volkswagen', 'Golf', 2019, 'Bensín', 1498, 'Grár'],
  HVF23: ['BMW', '320i', 2020, 'Bensín', 1998, 'Svartur'],
  JKL45: ['Mercedes-Benz', 'C-Class', 2017, 'Dísel', 2143, 'Silfurgrár'],
  MNO67: ['Audi', 'A4', 2021, 'Bensín', 1984, 'Blár'],
  PQR89: ['Honda', 'Civic', 2019, 'Bensín', 1498, 'Rauður'],
  STU12: ['Ford', 'Focus', 2018, 'Bensín', 999, 'Hvítur'],
  VWX34: ['Nissan', 'Qashqai', 2020, 'Dísel', 1461, 'Grár'],
  YZA56: ['Kia', 'Ceed', 2021, 'Bensín', 1353, 'Svartur'],
  BCD78: ['Hyundai', 'i30', 2019, 'Bensín', 1368, 'Blár'],
  EFG90: ['Skoda', 'Octavia', 2020, 'Dísel', 1968, 'Grár'],
};

function sandboxLookup(plate: string): VehicleInfo | null {
  const car = SANDBOX_VEHICLES[plate];
  if (!car) return null;
  const [make, model, year, fuel, engineSize, color] = car;
  return { registrationNumber: plate, make, model, year, vin: null, fuel, engineSize, color, firstRegistration: null, source: 'sandbox' };
}

/** Maps one entry of `vehicles[]` to VehicleInfo. */
export function toVehicleInfo(raw: unknown, requestedPlate: string): VehicleInfo {
  const firstReg = stringField(raw, 'firstRegistrationDate');
  const year = firstReg && /^\d{4}/.test(firstReg) ? Number.parseInt(firstReg.slice(0, 4), 10) : null;
  const technical = field(raw, 'technical');
  const displacement = Number(field(technical, 'engineDisplacement'));
  return {
    registrationNumber: stringField(raw, 'registrationNumber') ?? requestedPlate,
    make: stringField(raw, 'type') ?? '',
    model: stringField(raw, 'subtype') ?? '',
    year,
    vin: stringField(raw, 'vehicleIdentificationNumber'),
    fuel: stringField(technical, 'energySource'),
    engineSize: Number.isFinite(displacement) && displacement > 0 ? Math.round(displacement) : null,
    color: stringField(raw, 'color'),
    firstRegistration: firstReg && /^\d{4}-\d{2}-\d{2}/.test(firstReg) ? firstReg.slice(0, 10) : null,
    source: 'creditinfo',
  };
}

/** Rejects with `onAbort()` as soon as `signal` fires, whatever `promise` does. */
function raceSignal<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => Error): Promise<T> {
  if (signal.aborted) return Promise.reject(onAbort());
  return new Promise<T>((resolve, reject) => {
    const abort = () => reject(onAbort());
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (v) => {
        signal.removeEventListener('abort', abort);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(e);
      },
    );
  });
}

export function createCreditinfo(config: Config, logger: Logger): CreditinfoClient {
  const credentials = {
    CREDITINFO_USERNAME: config.CREDITINFO_USERNAME,
    CREDITINFO_PASSWORD: config.CREDITINFO_PASSWORD,
    CREDITINFO_CLIENT_ID: config.CREDITINFO_CLIENT_ID,
    CREDITINFO_CLIENT_SECRET: config.CREDITINFO_CLIENT_SECRET,
  };
  const missing = Object.entries(credentials)
    .filter(([, v]) => !v)
    .map(([k]) => k);
  const configured = missing.length === 0;
  const mode = resolveMode(configured, config);
  if (!configured && missing.length < 4) {
    // Names only, never values.
    logger.warn('creditinfo partly configured, treated as not configured', { missing });
  }
  logger.info('creditinfo mode', { mode });

  const timeoutMs = config.CREDITINFO_TIMEOUT_MS;
  const vehicleUrl = `${config.VEHICLE_API_BASE.replace(/\/+$/, '')}/Vehicle/GetVehicleInformationBasic`;
  const tokenUrl = config.CREDITINFO_TOKEN_URL;
  const status = (): CreditinfoStatus => ({ mode, configured, sandbox: mode === 'sandbox' });
  const timedOut = () => new UpstreamError(SERVICE, 'timeout', { timeoutMs });

  let cached: { token: string; expiresAt: number } | null = null;
  let inflight: Promise<string> | null = null;

  async function fetchToken(): Promise<string> {
    const res = await requestJson({
      service: SERVICE,
      url: tokenUrl,
      method: 'POST',
      form: {
        grant_type: 'password',
        client_id: credentials.CREDITINFO_CLIENT_ID!,
        client_secret: credentials.CREDITINFO_CLIENT_SECRET!,
        username: credentials.CREDITINFO_USERNAME!,
        password: credentials.CREDITINFO_PASSWORD!,
      },
      timeoutMs,
    });
    if (res.status !== 200) {
      // OAuth error codes such as "invalid_grant" / "invalid_client" carry no secret.
      logger.error('creditinfo token request refused', { status: res.status, error: stringField(res.body, 'error') });
      throw upstreamUnavailable(
        SERVICE,
        res.status === 400 || res.status === 401 ? 'Creditinfo refused the configured credentials, try again later' : undefined,
      );
    }
    const token = stringField(res.body, 'access_token');
    if (!token) throw new UpstreamError(SERVICE, 'bad_json', { upstreamStatus: res.status });
    const expiresIn = Number(field(res.body, 'expires_in'));
    cached = {
      token,
      // Without a usable expires_in the token serves only the request that fetched it.
      expiresAt: Number.isFinite(expiresIn) && expiresIn > 0 ? Date.now() + expiresIn * 1000 - TOKEN_MARGIN_MS : 0,
    };
    return token;
  }

  function getToken(deadline: AbortSignal): Promise<string> {
    if (cached && Date.now() < cached.expiresAt) return Promise.resolve(cached.token);
    if (!inflight) {
      inflight = fetchToken().finally(() => {
        inflight = null;
      });
    }
    return raceSignal(inflight, deadline, timedOut);
  }

  async function requestVehicle(token: string, plate: string, deadline: AbortSignal) {
    return requestJson({
      service: SERVICE,
      url: vehicleUrl,
      method: 'POST',
      headers: { Authorization: `Bearer ${token}` },
      json: { registrationNumber: plate },
      timeoutMs,
      signal: deadline,
    });
  }

  async function liveLookup(plate: string): Promise<VehicleInfo | null> {
    const deadline = AbortSignal.timeout(timeoutMs);
    let token = await getToken(deadline);
    let res = await requestVehicle(token, plate, deadline);
    if (res.status === 401) {
      // Expired or revoked token: drop it (unless someone already replaced it) and retry once.
      if (cached?.token === token) cached = null;
      token = await getToken(deadline);
      res = await requestVehicle(token, plate, deadline);
      if (res.status === 401) {
        logger.error('creditinfo refused a freshly issued token', { status: 401 });
        throw upstreamUnavailable(SERVICE, 'Creditinfo refused the access token, try again later');
      }
    }
    if (res.status === 204 || res.status === 404) return null;
    if (res.status !== 200) {
      logger.warn('creditinfo vehicle lookup failed', { status: res.status });
      throw upstreamUnavailable(SERVICE);
    }
    const body = res.body;
    if (body === null) return null; // 200 with an empty body
    const vehicles = Array.isArray(body) ? body : field(body, 'vehicles');
    if (!Array.isArray(vehicles)) throw new UpstreamError(SERVICE, 'bad_json', { upstreamStatus: 200 });
    if (vehicles.length === 0) return null;
    const match = vehicles.find((v) => normalisePlate(stringField(v, 'registrationNumber') ?? '') === plate) ?? vehicles[0];
    return toVehicleInfo(match, plate);
  }

  return {
    mode,
    status,
    async lookup(rawPlate: string): Promise<VehicleInfo | null> {
      const plate = normalisePlate(rawPlate);
      if (mode === 'disabled') throw notConfigured('Creditinfo vehicle registry');
      if (mode === 'sandbox') return sandboxLookup(plate);
      try {
        return await liveLookup(plate);
      } catch (err) {
        if (err instanceof ApiError) {
          if (err instanceof UpstreamError) logger.warn('creditinfo unavailable', { kind: err.kind, status: err.upstreamStatus });
          throw err;
        }
        logger.error('creditinfo lookup failed unexpectedly', { err: err instanceof Error ? err.message : String(err) });
        throw upstreamUnavailable(SERVICE, undefined, err);
      }
    },
  };
}
