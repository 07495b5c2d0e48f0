import type { RequestHandler } from 'express';
import { ApiError } from '../errors.js';
import { principalOf } from './principal.js';
import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import type { Db } from '../db/pool.js';
import { createAuthGuards } from './auth.js';
import { createSellerGuards } from './seller-auth.js';
import { dealerSignInGuard } from './session-tokens.js';
import { operationLimits, type LimiterFactory } from './rate-limits.js';
import type { OperationGuards } from './router.js';
import { photoEditorGuard } from './photo-guards.js';

/**
 * What runs after routing and before validation, per operation, in order:
 * rate limits first (so failed logins count too), then who may call it.
 */
export function operationGuards(config: Config, logger: Logger, limiter: LimiterFactory, db: Db): OperationGuards {
  const { adminKey, dealer, adminOrAdminToken, admin: backOffice, identify, dealerSession } = createAuthGuards(config, logger, db);
  const admin = [adminKey];
  const { seller, sellerSignIn } = createSellerGuards(config, logger, db);
  // The contract's parties: the admin key, else a seller token, else a dealer's (or admin's)
  // token; the use case decides whether this caller is a party to this car's sale.
  const saleParty: RequestHandler = (req, res, next) => {
    if (req.get('x-admin-key')) {
      backOffice(req, res, next);
      return;
    }
    if (!/^Bearer\s+\S+$/i.test(req.get('authorization') ?? '')) {
      next(new ApiError(401, 'unauthorized', 'A seller, dealer or admin token is required (Authorization: Bearer <token>)'));
      return;
    }
    seller(req, res, (error?: unknown) => {
      if (!error) {
        next();
        return;
      }
      identify(req, res, (failed?: unknown) => {
        const who = principalOf(req);
        // AUTH_MODE=off identifies a caller with Kaggi's dealer token as that dealer (`open` with `dealer`)
        if (failed || who.kind === 'admin' || who.kind === 'dealer' || (who.kind === 'open' && who.dealer)) next(failed);
        else next(new ApiError(401, 'unauthorized', 'A valid seller, dealer or admin token is required'));
      });
    });
  };
  const dealerSignIn = dealerSignInGuard(config, logger);
  const photoEditor = photoEditorGuard(seller, backOffice);
  const access: OperationGuards = {
    debugBrevo: admin,
    testBrevoList: admin,
    testAutomationTrigger: admin,
    testRealEmail: admin,
    acceptBid: admin,
    updateCarStatus: [adminOrAdminToken],
    createBid: [dealer],
    listDealerBids: [dealer],
    addFavorite: [dealer],
    removeFavorite: [dealer],
    listFavorites: [dealer],
    getDashboardStats: [dealer],
    listCars: [identify],
    getCarFacets: [identify],
    getCar: [identify],
    listCarBids: [identify],
    listAdminDealers: [backOffice],
    updateDealerStatus: [backOffice],
    putCarInspection: [backOffice],
    sellerLogin: [sellerSignIn],
    sellerVerify: [sellerSignIn],
    getSellerCar: [seller],
    sellerAccept: [seller],
    sellerDecline: [seller],
    sellerWithdraw: [seller],
    sellerLogout: [seller],
    getAdminSale: [backOffice],
    recordSaleStep: [backOffice],
    cancelSale: [backOffice],
    listAdminSales: [backOffice],
    putSellerSaleDetails: [seller],
    answerSellerPickup: [seller],
    getDealerPurchase: [dealer],
    putDealerPickup: [dealer],
    getSaleContract: [saleParty],
    dealerLogin: [dealerSignIn],
    dealerVerify: [dealerSignIn],
    getDealerMe: [dealerSession({ approved: false })],
    listMyBids: [dealerSession({ approved: false })],
    listMyPurchases: [dealerSession({ approved: false })],
    listSavedSearches: [dealerSession({ approved: false })],
    createSavedSearch: [dealerSession({ approved: false })],
    deleteSavedSearch: [dealerSession({ approved: false })],
    sellerDataExport: [seller],
    sellerErasure: [seller],
    dealerDataExport: [dealerSession({ approved: false, unregistered: true })],
    dealerErasure: [dealerSession({ approved: false, unregistered: true })],
    adminPersonDataExport: [backOffice],
    adminPersonErasure: [backOffice],
    listAuditLog: [backOffice],
    sellerConsent: [seller],
    dealerConsent: [dealerSession({ approved: false, unregistered: true })],
    uploadCarPhoto: [photoEditor],
    reorderCarPhotos: [photoEditor],
    updateCarPhoto: [photoEditor],
    deleteCarPhoto: [photoEditor],
  };
  const limits: OperationGuards = config.RATE_LIMIT_ENABLED ? operationLimits(config, limiter) : {};
  const guards: OperationGuards = {};
  for (const op of new Set([...Object.keys(limits), ...Object.keys(access)]) as Set<keyof OperationGuards>) {
    guards[op] = [...(limits[op] ?? []), ...(access[op] ?? [])] as RequestHandler[];
  }
  return guards;
}
