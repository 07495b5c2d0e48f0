/**
 * The register of personal data: every table and column that holds it, whose it is, why
 * Kaggi holds it, who sees it, how long it is kept and how it is erased. It is data, read by
 * the export and the erasure (src/usecases/privacy.ts), the retention job
 * (src/auctions/retention.ts), docs/privacy.md (`npm run docs:privacy`) and the test that
 * checks the schema against it (tests/privacy/register.test.ts): a column of the schema that
 * holds an e-mail, a phone, a name, an address, a kennitala or an IP address and is missing
 * here fails that test.
 *
 * A table that lands later (saved searches, the sale) is one entry more: its columns, how a
 * person's rows are found (`find`), and, for rows that name stored objects, which objects
 * (`objects`).
 */

export type Category =
  | 'name'
  | 'email'
  | 'phone'
  | 'postal_address'
  | 'kennitala'
  | 'bank_account'
  | 'ip_address'
  | 'free_text'
  | 'declarations'
  | 'photos'
  | 'bids'
  | 'consent'
  | 'sign_in'
  | 'correspondence'
  | 'company';

/** Whose data a table holds: a car's seller, a dealer, a contact of the newsletter list, a visitor of the site. */
export type Whose = 'seller' | 'dealer' | 'contact' | 'visitor';

/** How one column of a kept row is erased. */
export type ColumnErasure =
  | { kind: 'null' }
  /** Replaced by ERASED (for NOT NULL columns). */
  | { kind: 'token' }
  /** Replaced by the person's pseudonym, the same on every row, so histories stay consistent. */
  | { kind: 'pseudonym'; form: 'name' | 'email' }
  /** Kept: not the person's (a legal person's registry data, staff), or needed as it is. */
  | { kind: 'keep'; reason: string };

export type PersonalColumn = {
  category: Category;
  erase: ColumnErasure;
  /** Kept unchanged while its row is under legal hold (see `TableEntry.heldWhile`). */
  keptUnderHold?: boolean;
};

/**
 * How a person's rows of a table are found:
 * - `car`: the column is the id of one of the seller's cars;
 * - `dealer`: the id of the dealer's account;
 * - `dealer_email`: the e-mail a dealer bids and keeps favourites under;
 * - `email` / `phone`: any of the person's addresses or numbers;
 * - `mentions`: the column's text mentions the person's e-mail, phone or name (caches, free text).
 */
export type Finder = { by: 'car' | 'dealer' | 'dealer_email' | 'email' | 'phone' | 'mentions'; column: string };

/** Sections of a data export; every export lists each one, empty or not, so a missing one is visible. */
export const EXPORT_SECTIONS = [
  'cars',
  'bids_received',
  'bids_placed',
  'dealer_account',
  'favorites',
  'consents',
  'emails',
  'sign_in',
  'phone_verifications',
  'newsletter',
  'declarations',
  'photos',
  'saved_searches',
  'sales',
] as const;
export type ExportSection = (typeof EXPORT_SECTIONS)[number];

export type Use = {
  find: Finder;
  /** Where the rows go in an export; without, they are not exported (a cache, a counter). */
  section?: ExportSection;
  /** Only these columns in the export (default: every column of the row). */
  exportColumns?: readonly string[];
  /** `delete`: the row goes; `columns`: each personal column is erased as it says; `keep`: nothing is erased through this use. */
  erase: 'delete' | 'columns' | 'keep';
};

export type TableEntry = {
  table: string;
  whose: readonly Whose[];
  /** What the table holds and why, for docs/privacy.md. */
  purpose: string;
  basis: string;
  seenBy: string;
  retention: string;
  columns: Readonly<Record<string, PersonalColumn>>;
  /** Columns whose name looks personal but that are not, each with the reason. */
  notPersonal?: Readonly<Record<string, string>>;
  uses: readonly Use[];
  /** A timestamp column: while it is in the future the row is under legal hold. */
  heldWhile?: string;
  /**
   * The rows name objects in the store (src/storage) by their `id`: the export lists their
   * URLs, and an erasure deletes the objects of the rows it deleted once its transaction has
   * committed (a crash in between leaves objects no row names, which the orphan sweep removes).
   */
  objects?: ObjectKind;
};

/** Kinds of stored object a row can name; the use cases map each to its object names. */
export type ObjectKind = 'photos';

/** What an erased NOT NULL column holds from then on. */
export const ERASED = '[erased]';
/** The domain of a dealer's pseudonymous e-mail on bids (.invalid never resolves). */
export const PSEUDONYM_DOMAIN = 'erased.invalid';

const keepCompany = { kind: 'keep', reason: "the company's registry data (a legal person), kept with the account" } as const;
const NULL = { kind: 'null' } as const;
const TOKEN = { kind: 'token' } as const;

export const REGISTER: readonly TableEntry[] = [
  {
    table: 'Bílar',
    whose: ['seller'],
    purpose: "The seller's car and their contact details, to run its auction and reach them.",
    basis: 'Contract (the listing the seller asked for)',
    seenBy: 'The seller; approved dealers (name, e-mail, postal code); admins',
    retention:
      'Unsold: RETENTION_UNSOLD_DAYS after the round ended. Sold: the seller on the contract (name) for SALE_RETENTION_YEARS (legal hold), the rest as unsold.',
    columns: {
      seller_name: { category: 'name', erase: TOKEN, keptUnderHold: true },
      email: { category: 'email', erase: NULL },
      phone: { category: 'phone', erase: NULL },
      postal_code: { category: 'postal_address', erase: NULL },
      withdraw_reason: { category: 'free_text', erase: NULL },
      declarations: { category: 'declarations', erase: NULL },
    },
    notPersonal: { car_plate: "the vehicle's registration, kept so every dealer's bid history stays true" },
    uses: [{ find: { by: 'car', column: 'id' }, section: 'cars', erase: 'columns' }],
    heldWhile: 'legal_hold_until',
  },
  {
    table: 'uppboð',
    whose: ['dealer'],
    purpose: 'Bids: amount, time and the bidding dealer.',
    basis: 'Contract (the auction terms); legitimate interest in a true bid history',
    seenBy: 'The bidding dealer; admins; the seller sees amounts and times only',
    retention: 'Kept as amounts for good: the bidder is replaced by a pseudonym on erasure.',
    columns: {
      dealer_name: { category: 'name', erase: { kind: 'pseudonym', form: 'name' } },
      dealer_email: { category: 'email', erase: { kind: 'pseudonym', form: 'email' } },
    },
    uses: [
      {
        find: { by: 'car', column: 'car_id' },
        section: 'bids_received',
        exportColumns: ['car_id', 'bid_amount', 'created_at'],
        erase: 'keep',
      },
      { find: { by: 'dealer_email', column: 'dealer_email' }, section: 'bids_placed', erase: 'columns' },
    ],
  },
  {
    table: 'favorites',
    whose: ['dealer'],
    purpose: 'Cars a dealer keeps an eye on.',
    basis: 'Contract (the dealer account)',
    seenBy: 'The dealer; admins',
    retention: 'Until removed or the account is erased.',
    columns: { dealer_email: { category: 'email', erase: NULL } },
    uses: [{ find: { by: 'dealer_email', column: 'dealer_email' }, section: 'favorites', erase: 'delete' }],
  },
  {
    table: 'dealers',
    whose: ['dealer'],
    purpose: "The dealer's account: the person who registered it and the company (from the RSK registry).",
    basis: 'Contract (the dealer account); the company data is a legal person’s',
    seenBy: 'The dealer; admins',
    retention: 'While the account is open; on erasure the person’s name, e-mail and phone go, the company record stays.',
    columns: {
      first_name: { category: 'name', erase: TOKEN },
      surname: { category: 'name', erase: TOKEN },
      email: { category: 'email', erase: NULL },
      mobile_number: { category: 'phone', erase: TOKEN },
      status_reason: { category: 'free_text', erase: NULL },
      organization_number: { category: 'company', erase: keepCompany },
      dealer_name: { category: 'company', erase: keepCompany },
      company_name: { category: 'company', erase: keepCompany },
      street_address: { category: 'company', erase: keepCompany },
      postal_code: { category: 'company', erase: keepCompany },
      city: { category: 'company', erase: keepCompany },
    },
    notPersonal: { pseudonym: 'the random stand-in for an erased dealer on bids' },
    uses: [{ find: { by: 'dealer', column: 'id' }, section: 'dealer_account', erase: 'columns' }],
  },
  {
    table: 'saved_searches',
    whose: ['dealer'],
    purpose:
      "A dealer's saved searches of the car list (its filters, the dealer's name for it) and how they want to hear of new matches (docs/alerts.md).",
    basis: 'Contract (the dealer account)',
    seenBy: 'The dealer; admins (operators)',
    retention: 'Until the dealer deletes it or the account is erased.',
    columns: {
      name: { category: 'free_text', erase: NULL },
      filters: { category: 'free_text', erase: NULL },
    },
    notPersonal: { q_words: "the words of the filters' free text, as the list splits them" },
    uses: [
      {
        find: { by: 'dealer', column: 'dealer_id' },
        section: 'saved_searches',
        exportColumns: ['id', 'name', 'filters', 'alert', 'created_at'],
        erase: 'delete',
      },
    ],
  },
  {
    table: 'saved_search_matches',
    whose: ['dealer'],
    purpose: "Which car's opening round matched which of a dealer's saved searches, for the daily digest.",
    basis: 'Contract (the dealer account)',
    seenBy: 'Nobody (the digest job)',
    retention: 'MATCH_RETENTION_DAYS (8) after the match (src/domain/alerts.ts), by the retention job; deleted on erasure.',
    columns: {},
    uses: [{ find: { by: 'dealer', column: 'dealer_id' }, erase: 'delete' }],
  },
  {
    table: 'alert_digests',
    whose: ['dealer'],
    purpose: "That a dealer's daily digest of saved-search matches went on a day (so it goes once), and how many cars it listed.",
    basis: 'Contract (the dealer account)',
    seenBy: 'Nobody (the digest job)',
    retention: 'DIGEST_RETENTION_DAYS (30) after the day (src/domain/alerts.ts), by the retention job; deleted on erasure.',
    columns: {},
    uses: [{ find: { by: 'dealer', column: 'dealer_id' }, erase: 'delete' }],
  },
  {
    table: 'consents',
    whose: ['seller', 'dealer', 'contact'],
    purpose: 'Consent to the terms and to the newsletter, as given: one row per change.',
    basis: 'Legal obligation (proof of consent, GDPR art. 7(1))',
    seenBy: 'The person; admins',
    retention: 'With the person’s data: deleted on erasure.',
    columns: { email: { category: 'email', erase: NULL } },
    notPersonal: { terms_version: 'the version of the terms accepted' },
    uses: [
      { find: { by: 'car', column: 'car_id' }, section: 'consents', erase: 'delete' },
      { find: { by: 'dealer', column: 'dealer_id' }, section: 'consents', erase: 'delete' },
      { find: { by: 'email', column: 'email' }, section: 'consents', erase: 'delete' },
    ],
  },
  {
    table: 'email_outbox',
    whose: ['seller', 'dealer'],
    purpose: 'E-mails about auctions and accounts, queued and sent.',
    basis: 'Contract',
    seenBy: 'Admins (operators)',
    retention: 'Sent e-mails RETENTION_OUTBOX_DAYS after sending.',
    columns: {
      to_email: { category: 'email', erase: NULL },
      to_name: { category: 'name', erase: NULL },
      params: { category: 'correspondence', erase: NULL },
      last_error: { category: 'free_text', erase: NULL },
    },
    uses: [
      {
        find: { by: 'email', column: 'to_email' },
        section: 'emails',
        exportColumns: ['kind', 'car_id', 'status', 'created_at', 'sent_at', 'params'],
        erase: 'delete',
      },
      { find: { by: 'mentions', column: 'params' }, erase: 'delete' },
    ],
  },
  {
    table: 'email_logs',
    whose: ['seller', 'dealer', 'contact'],
    purpose: 'Welcome and test e-mails sent outside the outbox.',
    basis: 'Legitimate interest (knowing what was sent)',
    seenBy: 'Admins',
    retention: 'RETENTION_LOGS_DAYS.',
    columns: {
      email: { category: 'email', erase: NULL },
      name: { category: 'name', erase: NULL },
      error: { category: 'free_text', erase: NULL },
    },
    uses: [{ find: { by: 'email', column: 'email' }, section: 'emails', exportColumns: ['kind', 'status', 'created_at'], erase: 'delete' }],
  },
  {
    table: 'list_additions',
    whose: ['contact'],
    purpose: 'Sign-ups handed to the Brevo newsletter list.',
    basis: 'Consent',
    seenBy: 'Admins',
    retention: 'Until consent is withdrawn or the person erased.',
    columns: {
      email: { category: 'email', erase: NULL },
      name: { category: 'name', erase: NULL },
      phone: { category: 'phone', erase: NULL },
    },
    uses: [
      {
        find: { by: 'email', column: 'email' },
        section: 'newsletter',
        exportColumns: ['list_id', 'status', 'created_at'],
        erase: 'delete',
      },
      {
        find: { by: 'phone', column: 'phone' },
        section: 'newsletter',
        exportColumns: ['list_id', 'status', 'created_at'],
        erase: 'delete',
      },
    ],
  },
  {
    table: 'seller_login_codes',
    whose: ['seller'],
    purpose: "Sign-in codes of the seller's page (hashed).",
    basis: 'Contract',
    seenBy: 'Nobody (hashes)',
    retention: 'RETENTION_ONE_TIME_CODES_HOURS after use or expiry.',
    columns: {},
    uses: [
      {
        find: { by: 'car', column: 'car_id' },
        section: 'sign_in',
        exportColumns: ['created_at', 'expires_at', 'consumed_at'],
        erase: 'delete',
      },
    ],
  },
  {
    table: 'phone_verifications',
    whose: ['seller', 'dealer', 'visitor'],
    purpose: 'SMS verification codes (hashed) and the number they went to.',
    basis: 'Legitimate interest (proving a number before a listing goes live)',
    seenBy: 'Nobody (operators through the database)',
    retention: 'RETENTION_ONE_TIME_CODES_HOURS after use or expiry, at most RETENTION_LOGS_DAYS.',
    columns: { phone: { category: 'phone', erase: NULL } },
    uses: [
      {
        find: { by: 'phone', column: 'phone' },
        section: 'phone_verifications',
        exportColumns: ['created_at', 'expires_at', 'consumed_at'],
        erase: 'delete',
      },
    ],
  },
  {
    table: 'vehicle_verifications',
    whose: ['visitor'],
    purpose: 'Plate look-ups in the vehicle registry, with the asking IP address (abuse control).',
    basis: 'Legitimate interest (abuse control, cost of the registry)',
    seenBy: 'Admins (operators)',
    retention: 'RETENTION_LOGS_DAYS.',
    columns: { client_ip: { category: 'ip_address', erase: NULL } },
    uses: [],
  },
  {
    table: 'company_validations',
    whose: ['visitor'],
    purpose: 'Kennitala checks against the RSK registry, with the asking IP address.',
    basis: 'Legitimate interest (abuse control)',
    seenBy: 'Admins (operators)',
    retention: 'RETENTION_LOGS_DAYS.',
    columns: {
      kennitala: { category: 'kennitala', erase: NULL },
      company_name: { category: 'company', erase: NULL },
      client_ip: { category: 'ip_address', erase: NULL },
    },
    uses: [],
  },
  {
    table: 'idempotency_keys',
    whose: ['seller', 'dealer'],
    purpose: 'Stored answers replayed for a repeated Idempotency-Key; an answer may name the caller.',
    basis: 'Legitimate interest (safe retries)',
    seenBy: 'The caller who repeats the request',
    retention: 'RETENTION_IDEMPOTENCY_KEYS_HOURS.',
    columns: { response_body: { category: 'correspondence', erase: NULL } },
    uses: [{ find: { by: 'mentions', column: 'response_body' }, erase: 'delete' }],
  },
  {
    table: 'rate_limit_hits',
    whose: ['visitor'],
    purpose: 'Rate-limit counters; a key may hold a phone number or an e-mail.',
    basis: 'Legitimate interest (abuse control)',
    seenBy: 'Nobody',
    retention: 'RETENTION_RATE_LIMIT_HITS_HOURS after the window resets.',
    columns: { key: { category: 'free_text', erase: NULL } },
    uses: [{ find: { by: 'mentions', column: 'key' }, erase: 'delete' }],
  },
  {
    table: 'status_checks',
    whose: ['visitor'],
    purpose: 'Connectivity checks clients post; free text that might name someone.',
    basis: 'Legitimate interest (operations)',
    seenBy: 'Anyone (a public list)',
    retention: 'RETENTION_LOGS_DAYS.',
    columns: {
      client_name: { category: 'free_text', erase: NULL },
      message: { category: 'free_text', erase: NULL },
      details: { category: 'free_text', erase: NULL },
    },
    uses: [
      { find: { by: 'mentions', column: 'client_name' }, erase: 'delete' },
      { find: { by: 'mentions', column: 'message' }, erase: 'delete' },
      { find: { by: 'mentions', column: 'details' }, erase: 'delete' },
    ],
  },
  {
    table: 'car_photos',
    whose: ['seller'],
    purpose: "Photos of the seller's car (the image variants in the object store, without metadata) and the seller's captions.",
    basis: 'Contract (the listing the seller asked for)',
    seenBy: 'Everyone who sees the car',
    retention: "With the seller's data: rows and stored objects deleted on erasure, sold or unsold, and by the retention job.",
    columns: { caption: { category: 'free_text', erase: NULL } },
    uses: [{ find: { by: 'car', column: 'car_id' }, section: 'photos', erase: 'delete' }],
    objects: 'photos',
  },
  {
    table: 'car_inspections',
    whose: [],
    purpose: "Kaggi's inspection of a car: grades, damages, remarks and photo links.",
    basis: 'Contract',
    seenBy: 'Everyone who sees the car',
    retention: 'With the car.',
    columns: {
      inspector: { category: 'name', erase: { kind: 'keep', reason: "a member of Kaggi's staff, not the seller" } },
    },
    notPersonal: {
      photos: "links to photos of the car's condition (or ids of its car_photos, which drop out when those are erased), not of a person",
    },
    uses: [],
  },
  {
    table: 'sales',
    whose: ['seller', 'dealer'],
    purpose:
      "The sale after the hammer (docs/sale.md): the buying dealer, the seller's details for the bill of sale (kennitala, address, bank account, each encrypted at rest) and the pick-up arrangements.",
    basis: 'Contract (the sale); legal obligation (bookkeeping of the bill of sale)',
    seenBy: "Admins (details in clear); the seller (masked); the buying dealer (the pick-up address, the seller's contact)",
    retention: "With the car: the bill of sale's data is kept under the sold car's legal hold (SALE_RETENTION_YEARS).",
    columns: {
      dealer_email: { category: 'email', erase: { kind: 'pseudonym', form: 'email' } },
      dealer_name: { category: 'name', erase: { kind: 'pseudonym', form: 'name' } },
      seller_kennitala: { category: 'kennitala', erase: { kind: 'keep', reason: 'the bill of sale, kept for the legal hold' } },
      seller_address: { category: 'postal_address', erase: { kind: 'keep', reason: 'the bill of sale, kept for the legal hold' } },
      seller_bank: { category: 'bank_account', erase: { kind: 'keep', reason: "the seller's payment record, kept for the legal hold" } },
      pickup_note: { category: 'free_text', erase: NULL },
      pickup_answer: { category: 'free_text', erase: NULL },
      cancel_reason: { category: 'free_text', erase: NULL },
    },
    uses: [
      {
        find: { by: 'car', column: 'car_id' },
        section: 'sales',
        // the sealed columns are ciphertext: the seller sees their details masked on their page
        exportColumns: ['car_id', 'price', 'state', 'payment_due_at', 'pickup_due_at', 'pickup_at', 'created_at', 'completed_at'],
        erase: 'keep',
      },
      { find: { by: 'dealer_email', column: 'dealer_email' }, section: 'sales', erase: 'columns' },
    ],
  },
  {
    table: 'sale_steps',
    whose: [],
    purpose: "The steps of a sale, who recorded them (a role) and the staff's note.",
    basis: 'Contract (the sale)',
    seenBy: 'Admins (notes); the seller and the buyer (steps and times)',
    retention: 'With the sale.',
    columns: {
      note: { category: 'free_text', erase: { kind: 'keep', reason: "the back office's own note on the sale, not the person's" } },
    },
    uses: [],
  },
];

/** Columns of tables without personal data whose name nonetheless looks personal, each with the reason. */
export const NOT_PERSONAL: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  schemaversion: { name: 'the name of a database migration' },
};

/** The register's entry of a table, if any. */
export function registerEntry(table: string): TableEntry | undefined {
  return REGISTER.find((e) => e.table === table);
}

/**
 * A column whose name says it holds personal data: the schema test finds these in the
 * catalogue and fails for each one the register lists neither as personal nor as not.
 */
export const PERSONAL_NAME =
  /e_?mail|phone|mobile|sms|(^|_)name$|surname|first_?name|address|street|city|postal|zip|kennitala|ssn|organization_number|(^|_)ip($|_)|iban|bank|account_no|birth|photo|declaration|inspector/i;

/** The statuses in which a car's round runs: its seller's data cannot be erased until it ends. */
export const RUNNING_STATUSES = ['active', 'closed'] as const;

/** Why a seller's data cannot be erased now, or null: one place for the rule. */
export function sellerErasureBlocker(cars: readonly { id: string; status: string; open_sale?: boolean }[]): string | null {
  const running = cars.find((c) => (RUNNING_STATUSES as readonly string[]).includes(c.status));
  if (running) {
    return running.status === 'active'
      ? 'A car of yours is in a running auction: withdraw it first'
      : 'A car of yours has a result waiting for your decision: accept, decline or withdraw first';
  }
  // The sale's papers (the contract, the transfer of ownership) still need the seller.
  if (cars.some((c) => c.open_sale)) return 'A car of yours has a sale in progress: it must complete or be cancelled first';
  return null;
}

/** Why a dealer's data cannot be erased now, or null. */
export function dealerErasureBlocker(leadingRunning: number): string | null {
  return leadingRunning > 0 ? 'You hold the highest bid in a running auction: erasure is possible once it has ended' : null;
}
