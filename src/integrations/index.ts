import type { Config } from '../config.js';
import type { Logger } from '../logger.js';
import { createBrevo, type BrevoClient } from './brevo.js';
import { createCreditinfo, type CreditinfoClient } from './creditinfo.js';
import { createRsk, type RskClient } from './rsk.js';
import { createTwilio, type TwilioClient } from './twilio.js';

export type { BrevoAccount, BrevoClient, BrevoList, BrevoStatus, EmailRecipient, SendResult, UpsertResult } from './brevo.js';
export type { CreditinfoClient, CreditinfoStatus, VehicleInfo } from './creditinfo.js';
export type { IntegrationMode } from './mode.js';
export type { Company, RskClient, RskStatus } from './rsk.js';
export { RSK_TIMEOUT_MESSAGE, RSK_UNAVAILABLE_MESSAGE } from './rsk.js';
export type { SmsProvider, TwilioClient, TwilioStatus } from './twilio.js';
export { SMS_CODE_LENGTH } from './twilio.js';
export { UpstreamError } from './http.js';

/** The outside-service clients a handler may use (`deps.services`). */
export type Services = {
  creditinfo: CreditinfoClient;
  brevo: BrevoClient;
  twilio: TwilioClient;
  rsk: RskClient;
};

export function createServices(config: Config, logger: Logger): Services {
  return {
    creditinfo: createCreditinfo(config, logger),
    brevo: createBrevo(config, logger),
    twilio: createTwilio(config, logger),
    rsk: createRsk(config, logger),
  };
}
