/**
 * The typed client of the cluster API: openapi-fetch over the types generated from
 * `GET /openapi.json` (cli/api-types.ts), so a request or response that the API document does
 * not describe fails the type-check.
 */
import createClient from 'openapi-fetch';
import type { paths } from './api-types';

export type ClusterApi = ReturnType<typeof createClusterClient>;

export function createClusterClient(baseUrl: string, token?: string) {
  return createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: token ? { authorization: `Bearer ${token}` } : {},
  });
}
