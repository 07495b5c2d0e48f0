import { sql } from 'slonik';
import { recordingFailure } from '../errors.js';
import { kennitalaChecksumHolds, kennitalaDigits } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';

const validateCompany: Handler<'validateCompany'> = async ({ body, req, deps }) => {
  const { rsk } = deps.services;
  const kennitala = kennitalaDigits(body.kennitala)!; // the spec has checked the shape
  const sandbox = rsk.mode === 'sandbox';
  const record = (valid: boolean, companyName: string | null, reason: string | null) =>
    deps.db.query(sql.unsafe`
      INSERT INTO company_validations (kennitala, valid, company_name, reason, client_ip)
      VALUES (${kennitala}, ${valid}, ${companyName}, ${reason}, ${req.ip ?? null})`);
  const answer = (valid: boolean, message: string, company_name: string | null) => ({
    status: 200 as const,
    body: { success: true as const, valid, message, company_name, kennitala, sandbox },
  });

  // A failing check digit is answered here; the registry is never asked about it.
  if (!kennitalaChecksumHolds(kennitala)) {
    await record(false, null, 'check_digit');
    return answer(false, '❌ Ógild kennitala.', null);
  }
  const company = await recordingFailure(
    () => rsk.lookup(kennitala),
    (code) => record(false, null, code),
  );
  if (!company) {
    await record(false, null, 'not_found');
    return answer(false, '❌ Kennitala fannst ekki.', null);
  }
  await record(true, company.name, null);
  return answer(true, '✅ Staðfest fyrirtæki.', company.name);
};

const getRskServiceStatus: Handler<'getRskServiceStatus'> = async ({ deps }) => {
  const status = await deps.services.rsk.status();
  const message = status.sandbox
    ? 'Fyrirtækjaskrá í prófunarham (sandbox).'
    : status.available
      ? '✅ Fyrirtækjaskrá svarar.'
      : '❌ Fyrirtækjaskrá svarar ekki.';
  return { status: 200, body: { success: true, ...status, message } };
};

export const companyHandlers = { validateCompany, getRskServiceStatus };
