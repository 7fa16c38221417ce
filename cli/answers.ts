/**
 * The shape of each answer the CLI reads, as the API declares it: the zod schema of the route's
 * response for that status, taken from the service manifests (the declarations the OpenAPI
 * document and cli/api-types.ts are built from), never restated here. An answer of another shape
 * (another version of the API, another service at --url) is named by its first wrong member
 * before any command reads it.
 *
 * The manifests and their answer schemas import zod and the services' pure modules only (no
 * AWS SDK, no handler): what the CLI already loads, plus the declarations.
 */
import * as z from 'zod/mini';
import { CONFIG_SYNC_MANIFEST } from '../lambdas/config-sync/manifest';
import { routesOf } from '../lambdas/shared/manifest';
import { memberAt } from '../lambdas/shared/validation';
import { STATUS_MANIFEST } from '../lambdas/status/manifest';

const ROUTES = [...routesOf(CONFIG_SYNC_MANIFEST), ...routesOf(STATUS_MANIFEST)];

/**
 * What is wrong with `body` as the answer of `method path` with `status` (a success with a JSON
 * body), naming the first wrong member (`nodes: Invalid input: expected array, received object`,
 * `nodes.0.role: is required`), or a status the route does not answer with; undefined when it
 * fits, or for a route the manifests do not declare.
 */
export function answerProblem(method: string, path: string, status: number, body: unknown): string | undefined {
  const route = ROUTES.find((candidate) => candidate.method === method && candidate.path === path);
  if (route === undefined) return undefined;
  const declared = route.api.responses[status] ?? route.api.responses.default;
  if (declared === undefined) {
    const successes = Object.keys(route.api.responses).filter((code) => /^2\d\d$/.test(code));
    return `the route answers ${successes.join(' or ')}, not ${status}`;
  }
  const schema = declared.content?.['application/json']?.schema;
  if (schema === undefined) return undefined;
  const result = schema.safeParse(body);
  return result.success ? undefined : firstProblem(result.error.issues, body, []);
}

/**
 * The first issue in words. Of a union (one change's answer or a change set's), the member that
 * went wrong in the branch the body came closest to: the one with the fewest issues.
 */
function firstProblem(issues: readonly z.core.$ZodIssue[], body: unknown, prefix: readonly PropertyKey[]): string {
  const issue = issues[0];
  if (issue === undefined) return 'invalid value';
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = issue.errors.reduce((best, branch) => (branch.length < best.length ? branch : best));
    return firstProblem(closest, body, path);
  }
  if (path.length === 0) return issue.message;
  // zod says of a missing member what it says of a wrong one ("expected number, received undefined").
  return `${path.map(String).join('.')}: ${memberAt(body, path) === undefined ? 'is required' : issue.message}`;
}
