/**
 * OPTIONS on the polling paths: the CORS preflight a browser sends before a poll with
 * If-None-Match or a POSTed XML request (lambdas/shared/cors.ts). The methods each path serves to
 * browsers come from the stack (CORS_PREFLIGHT_METHODS, a JSON object of route path to methods),
 * so the paths and the methods are declared once, beside the routes.
 */
import type { HttpEvent, HttpResult } from '../http';
import { CORS_ENV, corsOriginsFromEnv, preflightResponse } from '../cors';
import { requireEnv } from '../env';

const origins = corsOriginsFromEnv();
const methodsByPath = parseMethods(requireEnv(CORS_ENV.preflightMethods));

function parseMethods(raw: string): Map<string, string[]> {
  try {
    return new Map(Object.entries(JSON.parse(raw) as Record<string, string[]>));
  } catch {
    throw new Error(`Environment variable CORS_PREFLIGHT_METHODS must be a JSON object of path to methods, got '${raw}'`);
  }
}

export const handler = async (event: HttpEvent): Promise<HttpResult> => {
  // routeKey is "OPTIONS /jobs/{jobId}": the route this preflight was matched to.
  const path = event.routeKey.replace(/^OPTIONS /, '');
  return preflightResponse(event, origins, methodsByPath.get(path) ?? []);
};
