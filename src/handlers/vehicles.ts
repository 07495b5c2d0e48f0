import { normalisePlate } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { lookUpVehicle } from '../usecases/lookups.js';

const verifyVehicle: Handler<'verifyVehicle'> = async ({ body, req, deps }) => {
  const plate = normalisePlate(body.plate);
  const vehicle = await lookUpVehicle(deps, plate, body.mileage, req.ip ?? null);
  if (!vehicle) {
    const message = `No vehicle found with plate ${plate}`;
    return { status: 200, body: { success: false, error: 'not_found', message, detail: message } };
  }
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
