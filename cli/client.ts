/**
 * The typed client of the cluster API: openapi-fetch over the types generated from
 * `GET /openapi.json` (cli/api-types.ts), so a request or response that the API document does
 * not describe fails the type-check.
 */
import createClient from 'openapi-fetch';
import type { paths } from './api-types';

export type ClusterApi = ReturnType<typeof createClusterClient>;

/**
 * A success (2xx but 204) whose body is not a JSON object, as every route the CLI calls answers: what
 * answered is not the cluster's API (a proxy's sign-in page, another server at the URL), and
 * reading it as an answer would end in an error that names nothing.
 */
export class NotAnApiAnswer extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    problem: string,
  ) {
    super(`${method} ${path}: the answer (${status}) ${problem}`);
  }
}

export function createClusterClient(baseUrl: string, token?: string) {
  const client = createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
  client.use({
    async onResponse({ request, response }) {
      if (!response.ok || response.status === 204) return undefined;
      const text = await response.clone().text();
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new NotAnApiAnswer(request.method, new URL(request.url).pathname, response.status, 'is not JSON');
      }
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new NotAnApiAnswer(request.method, new URL(request.url).pathname, response.status, 'is not a JSON object');
      }
      return undefined;
    },
  });
  return client;
}
