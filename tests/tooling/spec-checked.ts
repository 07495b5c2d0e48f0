import type { Middleware } from '../../client/index.js';
import { assertMatchesSpec } from '../helpers/contract.js';

export type CheckedResponse = { method: string; path: string; status: number; operationId: string | null };

/**
 * openapi-fetch middleware that judges every response the typed client receives against
 * openapi.yaml (status declared, body matching its schema) before the test sees it; a
 * mismatch rejects the call. `seen` lists what was checked, in order.
 */
export function specChecked(): { middleware: Middleware; seen: CheckedResponse[] } {
  const seen: CheckedResponse[] = [];
  const middleware: Middleware = {
    async onResponse({ request, response }) {
      const url = new URL(request.url);
      const path = `${url.pathname}${url.search}`;
      const contentType = response.headers.get('content-type');
      const text = await response.clone().text();
      let body: unknown = text;
      if (contentType?.includes('json') && text) {
        try {
          body = JSON.parse(text);
        } catch {
          throw new Error(`${request.method} ${path} → ${response.status}: ${contentType} body is not JSON: ${text.slice(0, 200)}`);
        }
      }
      const { operationId } = await assertMatchesSpec(request.method, path, response.status, contentType, body);
      seen.push({ method: request.method, path, status: response.status, operationId });
      return undefined;
    },
  };
  return { middleware, seen };
}
