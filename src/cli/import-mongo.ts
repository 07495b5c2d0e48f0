import { parseArgs } from 'node:util';
import { DEFAULT_BATCH_SIZE, ImportFailed, exitCodeFor, runImport } from '../import/importer.js';
import { formatReport } from '../import/report.js';

/**
 * `npm run import:mongo -- <dir> [--dry-run] [--report report.json] [--allow-rejects]
 *                          [--database-url URL] [--batch-size N]`
 *
 * Imports a mongoexport directory of the old backend into DATABASE_URL.
 * Exit codes: 0 complete · 1 documents rejected / files skipped (accepted rows
 * are kept; --allow-rejects turns this into 0) · 2 failed (usage, database,
 * interrupted: committed batches are kept, run again to finish) · 3 row counts
 * in PostgreSQL do not match what was accepted.
 */

const USAGE = `usage: npm run import:mongo -- <dir> [--dry-run] [--report report.json] [--allow-rejects]
                             [--database-url postgres://…] [--batch-size ${DEFAULT_BATCH_SIZE}]

  <dir>             a directory of mongoexport files, one <collection>.json each
                    (JSON lines or --jsonArray; canonical or relaxed Extended JSON)
  --dry-run         read, validate and compare with PostgreSQL; write nothing
  --report FILE     write the full report (every reject) as JSON
  --allow-rejects   exit 0 even when documents were rejected or files skipped
  --database-url    target database (default: the DATABASE_URL environment variable)
  --batch-size N    documents per transaction`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      allowPositionals: true,
      options: {
        'dry-run': { type: 'boolean', default: false },
        report: { type: 'string' },
        'allow-rejects': { type: 'boolean', default: false },
        'database-url': { type: 'string' },
        'batch-size': { type: 'string' },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
  } catch (e) {
    fail((e as Error).message);
  }
  const { values, positionals } = parsed;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (positionals.length !== 1) fail(positionals.length ? 'give exactly one directory' : 'the export directory is missing');
  const databaseUrl = values['database-url'] ?? process.env.DATABASE_URL;
  if (!databaseUrl?.trim()) fail('no target database: set DATABASE_URL or pass --database-url');
  if (!/^postgres(ql)?:\/\//.test(databaseUrl)) fail('the database URL must start with postgres:// or postgresql://');
  const batchSize = values['batch-size'] === undefined ? DEFAULT_BATCH_SIZE : Number(values['batch-size']);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 100_000) fail('--batch-size must be a whole number from 1 to 100000');
  // Only for testing the crash-and-rerun path of a real process.
  const failAfter = process.env.KAGGI_IMPORT_FAIL_AFTER_BATCHES ? Number(process.env.KAGGI_IMPORT_FAIL_AFTER_BATCHES) : undefined;

  try {
    const report = await runImport({
      dir: positionals[0],
      databaseUrl,
      dryRun: values['dry-run'],
      batchSize,
      reportPath: values.report,
      migrate: true,
      failAfterBatches: failAfter,
      log: (line) => process.stderr.write(`${line}\n`),
    });
    process.stdout.write(`${formatReport(report)}\n`);
    if (values.report) process.stdout.write(`report written to ${values.report}\n`);
    const code = exitCodeFor(report, values['allow-rejects']);
    if (code === 1)
      process.stdout.write(
        `exit 1: ${report.rejects_total} rejected, ${report.skipped.length} skipped (accepted rows are kept; --allow-rejects to accept this)\n`,
      );
    if (code === 3) process.stdout.write('exit 3: row counts in PostgreSQL do not match what was accepted\n');
    return code;
  } catch (e) {
    if (e instanceof ImportFailed) {
      process.stdout.write(`${formatReport(e.report)}\n`);
      return 2;
    }
    process.stderr.write(`import failed: ${(e as Error).message}\n`);
    return 2;
  }
}

process.exitCode = await main();
