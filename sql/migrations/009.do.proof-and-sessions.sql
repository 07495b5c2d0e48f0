-- Proof before a listing, squatting, and seller sessions that can end.

-- `unconfirmed`: registered with LISTING_REQUIRES_PHONE on, waiting for its phone to be
-- verified (not listed to dealers, no auction, no seller sign-in); `lapsed`: it never was
-- within 24 hours, or another registration of the plate was confirmed first (final).
ALTER TABLE "Bílar" DROP CONSTRAINT "Bílar_status_check";
ALTER TABLE "Bílar" ADD CONSTRAINT "Bílar_status_check"
  CHECK (status IN ('active', 'pending', 'sold', 'closed', 'declined', 'withdrawn', 'expired', 'unconfirmed', 'lapsed'));

-- A plate belongs to one car, but a registration nobody has proved yet holds nothing: it
-- never blocks another registration of the plate (the first one confirmed wins).
ALTER TABLE "Bílar" DROP CONSTRAINT "Bílar_car_plate_key";
CREATE UNIQUE INDEX "Bílar_car_plate_key" ON "Bílar" (car_plate) WHERE status NOT IN ('unconfirmed', 'lapsed');
-- confirmation looks for a number's waiting registrations; the sweep for the old ones
CREATE INDEX "Bílar_unconfirmed_idx" ON "Bílar" (phone, created_at) WHERE status = 'unconfirmed';
CREATE INDEX "Bílar_unconfirmed_plate_idx" ON "Bílar" (car_plate) WHERE status = 'unconfirmed';

-- Seller sessions: a token carries the version it was issued with and is good only while
-- the car still has it. A new sign-in and a logout move it on (the application); a changed
-- e-mail does too, here, however the e-mail is changed (import, by hand), because the
-- e-mail is what signs a seller in.
ALTER TABLE "Bílar" ADD COLUMN seller_session integer NOT NULL DEFAULT 0 CHECK (seller_session >= 0);
CREATE FUNCTION seller_session_on_email() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.email IS DISTINCT FROM OLD.email THEN
    NEW.seller_session := OLD.seller_session + 1;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER seller_session_on_email BEFORE UPDATE OF email ON "Bílar"
  FOR EACH ROW EXECUTE FUNCTION seller_session_on_email();

-- Dealers: a kennitala is held only by an approved dealer, so registering another company's
-- number blocks nobody; several pending registrations of one number wait side by side.
ALTER TABLE dealers DROP CONSTRAINT dealers_organization_number_key;
CREATE UNIQUE INDEX dealers_approved_kennitala_key ON dealers (organization_number) WHERE status = 'approved';
CREATE INDEX dealers_organization_number_idx ON dealers (organization_number);
