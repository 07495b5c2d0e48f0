/**
 * Writes docs/privacy.md from the register in src/domain/personal-data.ts: each table with
 * its categories of personal data, whose they are, why they are held, who sees them, how
 * long they are kept and how each column is erased. The register is the only place this is
 * written; this file only renders it.
 *
 *   npm run docs:privacy            write docs/privacy.md
 *   npm run docs:privacy -- --check exit 1 when docs/privacy.md is stale
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { ERASED, REGISTER, type ColumnErasure, type PersonalColumn } from '../src/domain/personal-data.js';
import { configSchema } from '../src/config.js';

export const PRIVACY_DOCS_PATH = fileURLToPath(new URL('../docs/privacy.md', import.meta.url));

const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');

function erasure(e: ColumnErasure): string {
  switch (e.kind) {
    case 'null':
      return 'removed (null)';
    case 'token':
      return `replaced by \`${ERASED}\``;
    case 'pseudonym':
      return e.form === 'email' ? 'pseudonym (`dealer-…@erased.invalid`)' : 'pseudonym (`dealer-…`)';
    case 'keep':
      return `kept: ${e.reason}`;
  }
}

function column(name: string, c: PersonalColumn): string {
  return `\`${name}\` (${c.category}): ${erasure(c.erase)}${c.keptUnderHold ? ', kept while under legal hold' : ''}`;
}

const RETENTION_VARIABLES = [
  'RETENTION_UNSOLD_DAYS',
  'SALE_RETENTION_YEARS',
  'RETENTION_LOGS_DAYS',
  'RETENTION_OUTBOX_SENT_DAYS',
  'RETENTION_ONE_TIME_CODES_HOURS',
  'RETENTION_IDEMPOTENCY_KEYS_HOURS',
  'RETENTION_RATE_LIMIT_HITS_HOURS',
] as const;

export function renderPrivacyDocs(): string {
  const shape = configSchema.shape as Record<
    string,
    { description?: string; safeParse: (v: unknown) => { success: boolean; data?: unknown } }
  >;
  const periods = RETENTION_VARIABLES.map((name) => {
    const parsed = shape[name].safeParse(undefined);
    return `| \`${name}\` | ${parsed.success ? String(parsed.data) : '—'} | ${cell(shape[name].description ?? '')} |`;
  });
  const tables = REGISTER.map((e) => {
    const columns = [
      ...(e.objects ? [`stored objects (${e.objects}): exported as URLs, deleted with their rows`] : []),
      ...Object.entries(e.columns).map(([n, c]) => column(n, c)),
    ];
    const how = e.uses.length
      ? e.uses
          .map(
            (u) =>
              `by ${u.find.by} (\`${u.find.column}\`): ${u.erase === 'delete' ? 'rows deleted' : u.erase === 'columns' ? 'columns erased' : 'kept'}`,
          )
          .join('; ')
      : 'not linked to a person: by retention only';
    return [
      `| \`${e.table}\` | ${e.whose.join(', ') || '—'} | ${cell(e.purpose)} | ${cell(e.basis)} | ${cell(e.seenBy)} | ${cell(e.retention)} | ${cell(columns.join('; ') || '—')} | ${cell(how)}${e.heldWhile ? `; legal hold while \`${e.heldWhile}\` is in the future` : ''}${e.objects ? `; the ${e.objects} in the object store named by the rows deleted go after the commit (the orphan sweep removes any a crash left)` : ''} |`,
    ].join('');
  });
  return [
    '# Privacy: the register of personal data',
    '',
    '<!-- Generated from src/domain/personal-data.ts by `npm run docs:privacy`; edit the register there, not this file. -->',
    '',
    'Every table that holds personal data, whose it is, why Kaggi holds it, who sees it, how long it is',
    'kept and how it is erased. The export (`GET /api/seller/data-export`, `GET /api/dealer/data-export`,',
    '`GET /api/admin/people/data-export`), the erasure (`POST /api/seller/erasure`, `POST /api/dealer/erasure`,',
    '`POST /api/admin/people/erasure`) and the retention job read the same register',
    '([`src/domain/personal-data.ts`](../src/domain/personal-data.ts)); a test fails when a column of the',
    'schema holds an e-mail, phone, name, address, kennitala or IP address the register does not list.',
    '',
    '## Erasure rules',
    '',
    '- A seller with a car in a running round (active, or closed and waiting for the decision) → 409 `erasure_blocked`: withdraw first.',
    '- Unsold cars: the seller’s name is replaced by a fixed token, e-mail, phone, postal code and the withdrawal reason removed; consents, sign-in codes and e-mails deleted; the bids stay as amounts.',
    '- Sold cars: the seller’s name (the party on the contract) is kept under legal hold for `SALE_RETENTION_YEARS` after the sale; the rest as unsold.',
    '- A dealer: the account is closed (tokens refused), favourites and consents deleted, the person’s name and e-mail on bids replaced by one stable pseudonym; the company record stays without the person’s name, e-mail or phone. Refused (409) while the dealer leads a running auction.',
    '- Every back-office export and erasure, and every dealer status change, is written to the append-only audit log (`GET /api/admin/audit`) with pseudonymous references only.',
    '',
    '## Retention periods',
    '',
    '| Variable | Default | Meaning |',
    '|---|---|---|',
    ...periods,
    '',
    '## The register',
    '',
    '| Table | Whose | Holds, and why | Legal basis | Who sees it | Retention | Personal columns and their erasure | How a person’s rows are found and erased |',
    '|---|---|---|---|---|---|---|---|',
    ...tables,
    '',
  ].join('\n');
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const text = renderPrivacyDocs();
  if (process.argv.includes('--check')) {
    let current = '';
    try {
      current = readFileSync(PRIVACY_DOCS_PATH, 'utf8');
    } catch {
      // a missing file is stale too
    }
    if (current !== text) {
      console.error('docs/privacy.md is stale: run npm run docs:privacy and commit it');
      process.exit(1);
    }
  } else {
    writeFileSync(PRIVACY_DOCS_PATH, text);
    console.log(`wrote ${PRIVACY_DOCS_PATH}`);
  }
}
