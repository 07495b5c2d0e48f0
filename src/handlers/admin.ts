import type { Handler } from '../api/types.js';
import { addContact, brevoDiagnostics, sendWelcome } from '../usecases/email.js';

/** Operator-only diagnostics for the Brevo integration (tag `admin`; the guard asks for the admin key). */

const debugBrevo: Handler<'debugBrevo'> = async ({ deps }) => ({ status: 200, body: await brevoDiagnostics(deps) });

const TEST_CONTACT = { name: 'Kaggi Prófun', email: 'test@kaggi.is' };

const testBrevoList: Handler<'testBrevoList'> = async ({ body, deps }) => {
  const added = await addContact(deps, { name: body?.name ?? TEST_CONTACT.name, email: body?.email ?? TEST_CONTACT.email });
  return {
    status: 200,
    body: { success: true, message: `Test contact ${added.email} is on list ${deps.services.brevo.listId}`, sandbox: added.sandbox },
  };
};

const testAutomationTrigger: Handler<'testAutomationTrigger'> = async ({ deps }) => {
  const added = await addContact(deps, TEST_CONTACT);
  return {
    status: 200,
    body: {
      success: true,
      message: 'Test contact added; the list automation should start for it',
      test_email: added.email,
      list_id: deps.services.brevo.listId,
      sandbox: added.sandbox,
    },
  };
};

const testRealEmail: Handler<'testRealEmail'> = async ({ body, deps }) => {
  const sent = await sendWelcome(deps, 'test', { name: body.name ?? TEST_CONTACT.name, email: body.email });
  return {
    status: 200,
    body: {
      success: true,
      message: sent.sandbox ? 'Sandbox: e-mail recorded, not sent' : 'Test e-mail sent',
      email: sent.email,
      sandbox: sent.sandbox,
    },
  };
};

export const adminHandlers = { debugBrevo, testBrevoList, testAutomationTrigger, testRealEmail };
