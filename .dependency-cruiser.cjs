/**
 * The layers of src/ (docs/architecture.md explains them). Each rule names what a layer
 * may not import, with the reason; `npm run lint:layers` runs them and CI fails on any.
 * "Foundation" is config.ts, errors.ts and logger.ts: every layer may use them.
 */
const foundation = '^src/(config|errors|logger)\\.ts$';

/** A rule: files under `from` may import only `allowed` (besides foundation, themselves and npm packages). */
const only = (name, comment, from, allowed) => ({
  name,
  comment,
  severity: 'error',
  from: { path: `^src/${from}/` },
  to: { path: '^src/', pathNot: [foundation, `^src/${from}/`, ...allowed.map((a) => `^src/${a}`)] },
});

module.exports = {
  forbidden: [
    {
      name: 'no-cycles',
      comment: 'A cycle makes two modules one: neither can be read, tested or replaced alone.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    only('domain-is-pure', 'Business rules are pure functions: no database, HTTP, e-mail or clock of ours.', 'domain', []),
    only('db-is-sql', 'Data access holds SQL only; it knows the rules it stores, never the callers above it.', 'db', ['domain/']),
    only('integrations-stand-alone', 'An outside service client knows its service, not the product that calls it.', 'integrations', [
      'domain/',
      'observability/tracing\\.ts$',
    ]),
    only('storage-stands-alone', 'A photo store keeps bytes under names it is given; it knows no car, row or caller.', 'storage', [
      'domain/',
    ]),
    only('media-stands-alone', 'Image processing turns bytes into variants by pure rules; it knows no store, row or caller.', 'media', [
      'domain/',
    ]),
    only(
      'notifications-render-and-queue',
      'E-mail kinds and templates render from data and queue through the outbox table; they call no use case.',
      'notifications',
      ['domain/', 'db/'],
    ),
    only('events-read-the-log', 'The live-event hub reads car_events and streams them; it speaks no HTTP.', 'events', ['db/', 'domain/']),
    only(
      'usecases-tell-the-story',
      'A use case uses data access, rules, notifications, outside services, the photo store and image processing, and the live-event hub; never the HTTP layer or a handler.',
      'usecases',
      ['db/', 'domain/', 'notifications/', 'integrations/', 'events/', 'storage/', 'media/', 'deps\\.ts$'],
    ),
    only(
      'handlers-are-thin',
      'A handler reads validated input, calls a use case and shapes the reply: no SQL, no other handler.',
      'handlers',
      ['usecases/', 'api/', 'domain/', 'deps\\.ts$'],
    ),
    only('jobs-run-use-cases', 'The worker and its sweeps run use cases and queries on a schedule; they answer no request.', 'auctions', [
      'usecases/',
      'db/',
      'domain/',
      'notifications/',
      'integrations/',
      'storage/',
      'observability/',
      'deps\\.ts$',
    ]),
    only(
      'http-layer-below-handlers',
      'Routing, validation, guards and serializers serve every handler, so they know none of them (nor a use case).',
      'api',
      ['db/', 'domain/', 'observability/', 'integrations/', 'events/', 'storage/', 'deps\\.ts$'],
    ),
    {
      name: 'no-sql-in-handlers',
      comment: 'SQL lives in src/db; a handler that builds a query has skipped two layers.',
      severity: 'error',
      from: { path: '^src/handlers/' },
      to: { path: 'node_modules/(slonik|pg|@slonik)/' },
    },
    {
      name: 'handlers-do-not-call-handlers',
      comment: 'Shared behaviour belongs in a use case, not in another handler file.',
      severity: 'error',
      from: { path: '^src/handlers/(?!index\\.ts$)' },
      to: { path: '^src/handlers/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    exclude: { path: '^generated/' },
  },
};
