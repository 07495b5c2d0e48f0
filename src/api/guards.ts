import type { RequestHandler } from 'express';
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
    dealerLogin: [dealerSignIn],
    dealerVerify: [dealerSignIn],
    getDealerMe: [dealerSession({ approved: false })],
    listMyBids: [dealerSession({ approved: false })],
    listMyPurchases: [dealerSession({ approved: false })],
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
