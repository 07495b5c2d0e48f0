import { kennitalaDigits } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { checkCompany, companyRegistryStatus } from '../usecases/lookups.js';

const MESSAGES = { check_digit: '❌ Ógild kennitala.', not_found: '❌ Kennitala fannst ekki.' } as const;

const validateCompany: Handler<'validateCompany'> = async ({ body, req, deps }) => {
  const kennitala = kennitalaDigits(body.kennitala)!; // the spec has checked the shape
  const sandbox = deps.services.rsk.mode === 'sandbox';
  const check = await checkCompany(deps, kennitala, req.ip ?? null);
  const message = check.reason ? MESSAGES[check.reason] : '✅ Staðfest fyrirtæki.';
  return { status: 200, body: { success: true, valid: check.valid, message, company_name: check.companyName, kennitala, sandbox } };
};

const getRskServiceStatus: Handler<'getRskServiceStatus'> = async ({ deps }) => {
  const status = await companyRegistryStatus(deps);
  const message = status.sandbox
    ? 'Fyrirtækjaskrá í prófunarham (sandbox).'
    : status.available
      ? '✅ Fyrirtækjaskrá svarar.'
      : '❌ Fyrirtækjaskrá svarar ekki.';
  return { status: 200, body: { success: true, ...status, message } };
};

export const companyHandlers = { validateCompany, getRskServiceStatus };
