import type { HandlerMap } from '../api/types.js';
import { adminHandlers } from './admin.js';
import { backofficeHandlers } from './backoffice.js';
import { bidHandlers } from './bids.js';
import { companyHandlers } from './companies.js';
import { carHandlers } from './cars.js';
import { dashboardHandlers } from './dashboard.js';
import { dealerSessionHandlers } from './dealer.js';
import { dealerHandlers } from './dealers.js';
import { docsHandlers } from './docs.js';
import { emailHandlers } from './email.js';
import { estimateHandlers } from './estimates.js';
import { liveHandlers } from './live.js';
import { favoriteHandlers } from './favorites.js';
import { saleHandlers } from './sale.js';
import { privacyHandlers } from './privacy.js';
import { photoHandlers } from './photos.js';
import { sellerHandlers } from './seller.js';
import { smsHandlers } from './sms.js';
import { statusHandlers } from './status.js';
import { systemHandlers } from './system.js';
import { vehicleHandlers } from './vehicles.js';

/** Every operationId of openapi.yaml, bound to its handler; the type makes a missing one a compile error. */
export const handlers = {
  ...systemHandlers,
  ...statusHandlers,
  ...vehicleHandlers,
  ...emailHandlers,
  ...smsHandlers,
  ...companyHandlers,
  ...carHandlers,
  ...bidHandlers,
  ...favoriteHandlers,
  ...dashboardHandlers,
  ...dealerHandlers,
  ...dealerSessionHandlers,
  ...adminHandlers,
  ...backofficeHandlers,
  ...estimateHandlers,
  ...sellerHandlers,
  ...saleHandlers,
  ...docsHandlers,
  ...liveHandlers,
  ...privacyHandlers,
  ...photoHandlers,
} satisfies HandlerMap;
