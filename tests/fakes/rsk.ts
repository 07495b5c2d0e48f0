import { BAD_JSON, json, startFake, type Fake } from './fake-server.js';

/** Fake RSK company registry: GET /{kennitala}. */
export type RskMode = 'ok' | 'not_found' | 'error500' | 'timeout' | 'bad_json' | 'unauthorized';

export const RSK_KEY = 'rsk-test-subscription-key';

/** One answers with `name`, one with `nafn`, as both shapes occur. */
export const RSK_COMPANIES: Record<string, Record<string, unknown>> = {
  '5402696029': { nationalId: '5402696029', name: 'Skatturinn', status: 'active' },
  '4710080280': { kennitala: '4710080280', nafn: 'Bílasalan Hraun ehf.' },
};

/** `requireKey`: answer 401 unless Ocp-Apim-Subscription-Key equals RSK_KEY. */
export async function startFakeRsk(opts: { requireKey?: boolean } = {}): Promise<Fake<RskMode>> {
  return startFake<RskMode>('ok', (req, mode) => {
    if (req.method !== 'GET') return json(405, { message: 'Method not allowed' });
    if (mode === 'timeout') return 'hang';
    if (mode === 'unauthorized' || (opts.requireKey && req.headers['ocp-apim-subscription-key'] !== RSK_KEY)) {
      return json(401, { statusCode: 401, message: 'Access denied due to missing subscription key.' });
    }
    if (mode === 'error500') return json(500, { message: 'Internal server error' });
    if (mode === 'bad_json') return BAD_JSON;
    const company = mode === 'not_found' ? undefined : RSK_COMPANIES[req.path.replace(/^\//, '')];
    return company ? json(200, company) : json(404, { message: 'Not found' });
  });
}
