import { sql } from 'slonik';
import { recordingFailure } from '../errors.js';
import { normalisePlate } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';

type Outcome = { outcome: 'found' | 'not_found' | 'error'; reason: string | null; source: string | null };

const verifyVehicle: Handler<'verifyVehicle'> = async ({ body, req, deps }) => {
  const plate = normalisePlate(body.plate);
  const record = (o: Outcome) =>
    deps.db.query(sql.unsafe`
      INSERT INTO vehicle_verifications (plate, mileage, outcome, reason, source, client_ip)
      VALUES (${plate}, ${body.mileage}, ${o.outcome}, ${o.reason}, ${o.source}, ${req.ip ?? null})`);

  // Failed lookups are logged too: the log is how support answers "it said unavailable".
  const vehicle = await recordingFailure(
    () => deps.services.creditinfo.lookup(plate),
    (code) => record({ outcome: 'error', reason: code, source: null }),
  );
  if (!vehicle) {
    await record({
      outcome: 'not_found',
      reason: 'no vehicle with this plate',
      source: deps.services.creditinfo.mode === 'sandbox' ? 'sandbox' : 'creditinfo',
    });
    const message = `No vehicle found with plate ${plate}`;
    return { status: 200, body: { success: false, error: 'not_found', message, detail: message } };
  }
  await record({ outcome: 'found', reason: null, source: vehicle.source });
  return {
    status: 200,
    body: {
      success: true,
      message: 'Vehicle found',
      data: {
        registrationNumber: vehicle.registrationNumber,
        make: vehicle.make,
        model: vehicle.model,
        year: vehicle.year,
        vin: vehicle.vin,
        fuel: vehicle.fuel,
        engineSize: vehicle.engineSize,
        color: vehicle.color,
        mileage: body.mileage,
      },
      source: vehicle.source,
    },
  };
};

export const vehicleHandlers = { verifyVehicle };
