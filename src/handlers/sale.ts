import { validationFailed } from '../errors.js';
import { principalOf } from '../api/principal.js';
import { sellerCarId, sellerCarIdOf } from '../api/seller-auth.js';
import type { Handler } from '../api/types.js';
import {
  adminSale,
  adminSales,
  answerSalePickup,
  cancelSale,
  dealerPurchase,
  proposeSalePickup,
  putSellerDetails,
  recordSaleStep,
  saleContract,
} from '../usecases/sale.js';

/**
 * The sale after the hammer (src/usecases/sale.ts): the back office records its steps and
 * cancels it, the seller gives their details and answers the pick-up, the buying dealer
 * follows the purchase and proposes the pick-up, the parties download the contract.
 * Nothing of the seller's details is logged.
 */

const getAdminSale: Handler<'getAdminSale'> = async ({ params, deps }) => ({
  status: 200,
  body: { success: true, sale: await adminSale(deps, params.car_id) },
});

const recordSaleStepHandler: Handler<'recordSaleStep'> = async ({ params, body, deps, log }) => {
  const sale = await recordSaleStep(deps, params.car_id, body.step, body.note?.trim() || null);
  log.info('sale step recorded', { car_id: params.car_id, sale_id: sale.id, step: body.step, state: sale.state });
  return { status: 200, body: { success: true, sale } };
};

const cancelSaleHandler: Handler<'cancelSale'> = async ({ params, body, deps, log }) => {
  const reason = body.reason.trim();
  if (!reason) throw validationFailed([{ path: 'body.reason', message: 'must not be blank' }]);
  const sale = await cancelSale(deps, params.car_id, reason);
  log.info('sale cancelled', { car_id: params.car_id, sale_id: sale.id });
  return { status: 200, body: { success: true, sale } };
};

const listAdminSales: Handler<'listAdminSales'> = async ({ query, deps }) => {
  const page = await adminSales(deps, { state: query.state, cursor: query.cursor, limit: query.limit ?? 100 });
  return { status: 200, body: { success: true, sales: page.items, count: page.items.length, next_cursor: page.next_cursor } };
};

const putSellerSaleDetails: Handler<'putSellerSaleDetails'> = async ({ req, body, deps, log }) => {
  const carId = sellerCarId(req);
  const sale = await putSellerDetails(deps, carId, body);
  log.info('seller details for the sale stored', { car_id: carId, sale_id: sale.id });
  return { status: 200, body: { success: true, sale } };
};

const answerSellerPickup: Handler<'answerSellerPickup'> = async ({ req, body, deps, log }) => {
  const carId = sellerCarId(req);
  const note = body.note?.trim() || null;
  if (!body.confirm && !note) {
    throw validationFailed([{ path: 'body.note', message: 'is required when asking for another time (confirm: false)' }]);
  }
  const sale = await answerSalePickup(deps, carId, body.confirm, note);
  log.info('pick-up answered', { car_id: carId, sale_id: sale.id, confirmed: body.confirm });
  return { status: 200, body: { success: true, sale } };
};

const getDealerPurchase: Handler<'getDealerPurchase'> = async ({ params, req, deps }) => ({
  status: 200,
  body: { success: true, sale: await dealerPurchase(deps, params.car_id, principalOf(req)) },
});

const putDealerPickup: Handler<'putDealerPickup'> = async ({ params, body, req, deps, log }) => {
  const sale = await proposeSalePickup(deps, params.car_id, principalOf(req), body.at, body.note?.trim() || null);
  log.info('pick-up proposed', { car_id: params.car_id, sale_id: sale.id });
  return { status: 200, body: { success: true, sale } };
};

const getSaleContract: Handler<'getSaleContract'> = async ({ params, req, deps, log }) => {
  const { pdf, plate } = await saleContract(deps, params.car_id, { sellerCarId: sellerCarIdOf(req), principal: principalOf(req) });
  log.info('contract rendered', { car_id: params.car_id, bytes: pdf.length });
  return {
    status: 200,
    body: pdf as never,
    contentType: 'application/pdf',
    headers: { 'Content-Disposition': `inline; filename="kaupsamningur-${plate}.pdf"`, 'Cache-Control': 'no-store' },
  };
};

export const saleHandlers = {
  getAdminSale,
  recordSaleStep: recordSaleStepHandler,
  cancelSale: cancelSaleHandler,
  listAdminSales,
  putSellerSaleDetails,
  answerSellerPickup,
  getDealerPurchase,
  putDealerPickup,
  getSaleContract,
};
