import { ApiError, notConfigured } from '../errors.js';
import { toE164 } from '../domain/normalise.js';
import type { Handler } from '../api/types.js';
import { addContact, sendWelcomeOncePerCar } from '../usecases/email.js';
import { recordListConsent } from '../usecases/consent.js';

function phoneOrReject(phone: string | undefined, path: string): string | undefined {
  if (phone === undefined || phone.trim() === '') return undefined;
  const e164 = toE164(phone);
  if (!e164) {
    throw new ApiError(422, 'invalid_phone', `${path} is not a valid phone number`, {
      errors: [{ path, message: `${path} is not a valid phone number` }],
    });
  }
  return e164;
}

const sendWelcomeEmail: Handler<'sendWelcomeEmail'> = async ({ body, deps }) => {
  const phone = phoneOrReject(body.phone, 'body.phone');
  if (deps.services.brevo.mode === 'disabled') throw notConfigured('Brevo email service');
  const sent = await sendWelcomeOncePerCar(deps, { name: body.name.trim(), email: body.email, phone });
  return {
    status: 200,
    body: {
      success: true,
      message: sent.sandbox ? 'Welcome e-mail recorded (sandbox: not sent)' : 'Welcome e-mail sent',
      messageId: sent.messageId,
      sandbox: sent.sandbox,
    },
  };
};

const addToBrevoList: Handler<'addToBrevoList'> = async ({ body, deps }) => {
  const phone = phoneOrReject(body.phone, 'body.phone');
  const added = await addContact(deps, { name: body.name.trim(), email: body.email, phone }, { doubleOptIn: true });
  await recordListConsent(deps, added.email);
  const message = 'Confirmation e-mail sent; the contact joins the list once confirmed';
  return {
    status: 200,
    body: {
      success: true,
      message: added.sandbox ? `${message} (sandbox)` : message,
      already_on_list: added.alreadyOnList,
      sandbox: added.sandbox,
    },
  };
};

export const emailHandlers = { sendWelcomeEmail, addToBrevoList };
