-- Demo data for the embedded development database, so the dealer dashboard
-- has something to show on a fresh machine. Never loaded into DATABASE_URL.
INSERT INTO "Bílar" (id, seller_name, email, phone, postal_code, car_make, car_model, car_plate, year, mileage, status, created_at, updated_at) VALUES
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000001', 'Jón Jónsson',       'jon@example.is',     '+3547777777', '101', 'Toyota',        'Yaris',    'AB123', 2018,  84000, 'active',  now() - interval '6 hours', now() - interval '6 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000002', 'Guðrún Sigurðardóttir', 'gudrun@example.is', '+3548888888', '200', 'Volkswagen', 'Golf',     'GOP41', 2019,  61000, 'active',  now() - interval '5 hours', now() - interval '5 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000003', 'Ólafur Þórsson',    'olafur@example.is',  '+3546666666', '600', 'BMW',           '320i',     'HVF23', 2020,  45000, 'active',  now() - interval '4 hours', now() - interval '4 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000004', 'Anna Björnsdóttir', 'anna@example.is',    '+3545555555', '800', 'Kia',           'Ceed',     'YZA56', 2021,  23000, 'pending', now() - interval '3 hours', now() - interval '3 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000005', 'Sigurður Helgason', 'siggi@example.is',   '+3544444444', '220', 'Skoda',         'Octavia',  'EFG90', 2020,  99000, 'sold',    now() - interval '2 hours', now() - interval '1 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000006', 'Helga Kristjánsdóttir', 'helga@example.is', '+3543333333', '603', 'Nissan',      'Qashqai',  'VWX34', 2020,  72000, 'active',  now() - interval '1 hours', now() - interval '1 hours');

INSERT INTO "uppboð" (car_id, dealer_name, dealer_email, bid_amount, created_at, updated_at) VALUES
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000001', 'Bílaland ehf.',  'sala@bilaland.is',  1850000, now() - interval '5 hours', now() - interval '5 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000001', 'Brimborg',       'sala@brimborg.is',  1950000, now() - interval '4 hours', now() - interval '4 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000002', 'Bílaland ehf.',  'sala@bilaland.is',  2450000, now() - interval '3 hours', now() - interval '3 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000003', 'Hekla hf.',      'sala@hekla.is',     4200000, now() - interval '2 hours', now() - interval '2 hours'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000005', 'Bílaland ehf.',  'sala@bilaland.is',  2990000, now() - interval '90 minutes', now() - interval '90 minutes');

INSERT INTO favorites (car_id, dealer_email) VALUES
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000003', 'sala@bilaland.is'),
  ('0b7e4f1a-1c2d-4e5f-8a9b-000000000006', 'sala@bilaland.is');
