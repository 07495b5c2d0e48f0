-- State the outside-service endpoints keep. Everything lives in PostgreSQL so
-- any number of instances can serve the same phone or e-mail.

-- Own SMS codes (Twilio Messaging or sandbox): only a hash is stored.
CREATE TABLE phone_verifications (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  phone       text NOT NULL CHECK (phone ~ '^\+[1-9][0-9]{6,14}$'),
  code_hash   text NOT NULL,
  attempts    integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
  expires_at  timestamptz NOT NULL,
  consumed_at timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now()
);
-- the newest open code of a phone
CREATE INDEX phone_verifications_phone_idx ON phone_verifications (phone, created_at DESC);

-- Every e-mail the API asked Brevo to send (or the sandbox pretended to).
CREATE TABLE email_logs (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kind        text NOT NULL,
  email       text NOT NULL,
  name        text,
  template_id integer,
  message_id  text,
  status      text NOT NULL CHECK (status IN ('sent', 'sandbox', 'failed')),
  error       text,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX email_logs_email_idx ON email_logs (email, created_at DESC);

-- Contacts added to the Brevo list.
CREATE TABLE list_additions (
  id              uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  email           text NOT NULL,
  name            text,
  phone           text,
  list_id         integer NOT NULL,
  already_on_list boolean NOT NULL DEFAULT false,
  status          text NOT NULL CHECK (status IN ('added', 'sandbox', 'failed')),
  created_at      timestamptz NOT NULL DEFAULT now()
);

-- Company checks against the registry.
CREATE TABLE company_validations (
  id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  kennitala    text NOT NULL CHECK (kennitala ~ '^[0-9]{10}$'),
  valid        boolean NOT NULL,
  company_name text,
  reason       text,
  client_ip    text,
  created_at   timestamptz NOT NULL DEFAULT now()
);
