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
 * fits (values it does not know included: see unknownValue), or for a route the manifests do not
 * declare.
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
  if (result.success) return undefined;
  return firstProblem(result.error.issues, body, []);
}

/**
 * Whether `issue` is only a value this CLI does not know: a string where the API declares a set of
 * strings (an enum, a string literal: `invalid_value`), or where it picks the shape of a member by
 * such a string and has none for it (a discriminated union's `No matching discriminator`). A newer
 * server adds values to these sets (a job state, a node role, a consumption, an execution phase,
 * an object type), and an older CLI that refused them would fail every command that reads them:
 * they are let through, and each command prints such a value as it is (cli/main.ts). A value of
 * another type (a number for a phase), a missing one, anything else stays a wrong shape.
 *
 * The issues of the declared schemas are sorted, rather than a copy of the schemas derived with
 * every enum a string: the manifests stay the one declaration the CLI reads (a derived copy would
 * have to rebuild each kind of zod schema they use, and a discriminated union cannot be rebuilt
 * over a member that is any string). What that costs: zod does not run the refinements of an
 * object that holds such a value (of the answers the CLI reads, only a published event's, which
 * it does not read), and the member of a discriminated union with an unknown discriminator is not
 * checked beyond it, as the CLI knows no shape for it.
 */
function unknownValue(issue: z.core.$ZodIssue, body: unknown, prefix: readonly PropertyKey[]): boolean {
  const member = memberAt(body, [...prefix, ...issue.path]);
  if (typeof member !== 'string') return false;
  if (issue.code === 'invalid_value') return issue.values.every((value) => typeof value === 'string');
  return (
    issue.code === 'invalid_union' &&
    issue.errors.length === 0 &&
    issue.discriminator !== undefined &&
    'options' in issue &&
    (issue.options ?? []).length > 0 &&
    (issue.options ?? []).every((value) => typeof value === 'string')
  );
}

/**
 * The issues that make `body` a wrong shape: those of `issues` but the unknown values, and a
 * union's only when none of its branches is left without any.
 */
function wrongShape(issues: readonly z.core.$ZodIssue[], body: unknown, prefix: readonly PropertyKey[]): z.core.$ZodIssue[] {
  return issues.filter((issue) => {
    if (unknownValue(issue, body, prefix)) return false;
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const path = [...prefix, ...issue.path];
      return issue.errors.every((branch) => wrongShape(branch, body, path).length > 0);
    }
    return true;
  });
}

/**
 * The first issue that makes `body` a wrong shape, in words; undefined when there is none. Of a
 * union (one change's answer or a change set's), the member that went wrong in the branch the body
 * came closest to: the one with the fewest such issues.
 */
function firstProblem(issues: readonly z.core.$ZodIssue[], body: unknown, prefix: readonly PropertyKey[]): string | undefined {
  const issue = wrongShape(issues, body, prefix)[0];
  if (issue === undefined) return undefined;
  const path = [...prefix, ...issue.path];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    const closest = issue.errors.reduce((best, branch) => (wrongShape(branch, body, path).length < wrongShape(best, body, path).length ? branch : best));
    return firstProblem(closest, body, path) ?? issue.message;
  }
  if (path.length === 0) return issue.message;
  // zod says of a missing member what it says of a wrong one ("expected number, received undefined").
  return `${path.map(String).join('.')}: ${memberAt(body, path) === undefined ? 'is required' : issue.message}`;
}
