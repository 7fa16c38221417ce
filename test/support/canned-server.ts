/**
 * An HTTP server on 127.0.0.1 that answers what a test tells it to, for the CLI's tests against
 * answers the cluster's API does not give: each request is kept (method, path with its query,
 * body) and answered with what `answer` returns for it.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface CannedRequest {
  readonly method: string;
  readonly path: string;
  readonly body: string;
}

export interface CannedAnswer {
  readonly status: number;
  readonly body: string;
  /** Content type; `application/json` unless given. */
  readonly type?: string;
}

export interface CannedServer {
  readonly url: string;
  /** Every request so far, in order (empty it between tests). */
  readonly requests: CannedRequest[];
  close(): Promise<void>;
}

export async function startCannedServer(answer: (request: CannedRequest, earlier: readonly CannedRequest[]) => CannedAnswer): Promise<CannedServer> {
  const requests: CannedRequest[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const received = { method: request.method ?? 'GET', path: request.url ?? '/', body: Buffer.concat(chunks).toString('utf8') };
      const earlier = [...requests];
      requests.push(received);
      const { status, body, type } = answer(received, earlier);
      response.writeHead(status, { 'content-type': type ?? 'application/json' }).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

/** A scripted server's answers: by `METHOD /path` (query left out), in turn when a list (the last one again after that). */
export type CannedScript = Record<string, { status: number; body: unknown } | { status: number; body: unknown }[]>;

/** `METHOD /path` of a request, its query left out: the key of a `CannedScript`. */
export const routeOf = (request: CannedRequest): string => `${request.method} ${request.path.split('?')[0]}`;

/** Answers from the script `current()` returns at each request, as JSON; 404 for a route it lacks. */
export function scriptedAnswers(current: () => CannedScript): (request: CannedRequest, earlier: readonly CannedRequest[]) => CannedAnswer {
  return (request, earlier) => {
    const route = routeOf(request);
    const seen = earlier.filter((before) => routeOf(before) === route).length;
    const entry = current()[route];
    const answer = Array.isArray(entry) ? entry[Math.min(seen, entry.length - 1)] : entry;
    return answer === undefined ? { status: 404, body: '{"message":"Not Found"}' } : { status: answer.status, body: JSON.stringify(answer.body) };
  };
}
