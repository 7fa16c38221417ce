/**
 * The typed client of the cluster API: openapi-fetch over the types generated from
 * `GET /openapi.json` (cli/api-types.ts), so a request or response that the API document does
 * not describe fails the type-check; and at run time, each success is checked against the shape
 * the API declares for it (cli/answers.ts) before the CLI reads it.
 */
import createClient from 'openapi-fetch';
import { lazily } from '../lambdas/shared/lazily';
import type { paths } from './api-types';

/**
 * cli/answers.ts, required on the first answer checked: building the declarations it reads (every
 * route's schemas) takes about 50 ms, which `--help` and a usage error need not pay. `require`,
 * not `import()`, as the functions' deferred modules: Jest runs the sources without ES modules.
 */
const answers = lazily(() => require('./answers') as typeof import('./answers'));

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

/**
 * A success whose JSON object is not the shape the API declares for the route and status (another
 * version of the API, another service at the URL): `problem` names the first wrong member.
 */
export class UnexpectedAnswer extends Error {
  constructor(
    readonly method: string,
    readonly path: string,
    readonly status: number,
    problem: string,
  ) {
    super(`${method} ${path} answered ${status} with an unexpected body: ${problem}`);
  }
}

/** How long a request may wait for its answer by default: API Gateway ends every API request within 30 s. */
export const DEFAULT_REQUEST_TIMEOUT_S = 60;

/** The statuses a Response must be built without a body for. */
const NULL_BODY_STATUSES = new Set([101, 103, 204, 205, 304]);

/**
 * A request that got no answer within its time (a server that took the connection and never
 * answered, a network that drops packets): without a bound the CLI would wait for ever.
 */
export class RequestTimedOut extends Error {
  constructor(readonly seconds: number) {
    super(`timed out after ${seconds} s`);
  }
}

/**
 * `request` fetched and its body read within `timeoutSeconds`, or `RequestTimedOut`. The bound is
 * a timer raced against the work, not only an abort signal given to fetch: Node's fetch (undici)
 * loses the signal of a Request copied from another once the signal's holder is garbage collected
 * (nodejs/undici#4068), and a server that sent its headers and no body then held the CLI for good.
 * The signal still asks the fetch to stop, which frees its connection where it is honoured.
 */
async function bounded(request: Request, timeoutSeconds: number): Promise<Response> {
  const stop = new AbortController();
  const passOn = () => stop.abort(request.signal.reason);
  if (request.signal.aborted) passOn();
  else request.signal.addEventListener('abort', passOn, { once: true });
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new RequestTimedOut(timeoutSeconds);
      stop.abort(error);
      reject(error);
    }, timeoutSeconds * 1000);
  });
  const answered = (async () => {
    const response = await fetch(new Request(request, { signal: stop.signal }));
    // The body is read later (openapi-fetch, the answer check): read it here, under the same bound.
    const body = await response.arrayBuffer();
    return new Response(NULL_BODY_STATUSES.has(response.status) ? null : body, { status: response.status, statusText: response.statusText, headers: response.headers });
  })();
  // Lost to the timer, the work's own failure (the abort it asked for) is no one's to report.
  answered.catch(() => undefined);
  try {
    return await Promise.race([answered, timedOut]);
  } catch (error) {
    if (stop.signal.reason instanceof RequestTimedOut) throw stop.signal.reason;
    throw error;
  } finally {
    clearTimeout(timer);
    request.signal.removeEventListener('abort', passOn);
  }
}

export function createClusterClient(baseUrl: string, token?: string, timeoutSeconds = DEFAULT_REQUEST_TIMEOUT_S) {
  const client = createClient<paths>({
    baseUrl: baseUrl.replace(/\/+$/, ''),
    headers: token ? { authorization: `Bearer ${token}` } : {},
    // Each request (a page, a poll, a retry) has the whole bound to itself, its body's reading included.
    fetch: (request) => bounded(request, timeoutSeconds),
  });
  client.use({
    async onResponse({ request, response, schemaPath }) {
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
      const problem = answers().answerProblem(request.method, schemaPath, response.status, body);
      if (problem !== undefined) throw new UnexpectedAnswer(request.method, new URL(request.url).pathname, response.status, problem);
      return undefined;
    },
  });
  return client;
}
