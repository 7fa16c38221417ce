/**
 * Talks real HTTP to the local cluster started by the integration suite's global setup. Every
 * answer is held to the OpenAPI document the cluster serves (answer-check.ts).
 *
 * Typed from the generated API types (cli/api-types.ts, `paths`): a call to a documented route
 * with a literal or template path (`/executions/${id}?phase=RUNNING`) gets that route's request
 * body type for `json` and, as `body`, every member any of its documented JSON answers carries
 * (the test's status assertion says which answer came), so a test reading or sending a field the
 * API does not document fails the type-check. A path no route documents (the local runtime's
 * `/__local/...`, deliberately unknown paths, a path computed as a plain string) is untyped:
 * `body` is `any`, as is `invalidJson`, the escape for tests that send bodies the API refuses.
 *
 * Hand-written over fetch rather than the CLI's openapi-fetch: jest (CommonJS through ts-jest)
 * cannot load openapi-fetch's ES module build, and the tests need what openapi-fetch hides on
 * purpose: any path string as sent, raw text bodies and headers, the answer's text beside its JSON.
 */
import { appendFileSync } from 'node:fs';
import type { paths } from '../../cli/api-types';
import { answerProblem } from './answer-check';

type Method = 'GET' | 'PUT' | 'POST' | 'DELETE' | 'OPTIONS' | 'PATCH' | 'HEAD';

/** A path template as the strings that reach it: each `{param}` any text. */
type Filled<P extends string> = P extends `${infer Head}{${string}}${infer Tail}` ? `${Head}${string}${Filled<Tail>}` : P;
/** ... with or without a query string. */
type Sent<P extends string> = Filled<P> | `${Filled<P>}?${string}`;
type OperationAt<P extends keyof paths, M extends Method> = Exclude<paths[P][Lowercase<M> & keyof paths[P]], undefined>;
/** The documented paths that have an operation for the method. */
type RoutesOf<M extends Method> = { [P in keyof paths]: [OperationAt<P, M>] extends [never] ? never : P }[keyof paths];
/** Every path string a documented route of the method answers. */
export type DocumentedPath<M extends Method> = { [P in RoutesOf<M>]: Sent<P & string> }[RoutesOf<M>];
/** The operations a sent path may reach (a few when templates overlap, e.g. /jobs/{id} and /jobs/{id}/results). */
type OperationsFor<M extends Method, S extends string> = { [P in RoutesOf<M>]: S extends Sent<P & string> ? OperationAt<P, M> : never }[RoutesOf<M>];

/** An answer's body: its JSON schema's type, text for other media types, nothing without content. */
type BodyOfResponse<R> = R extends { content: infer C }
  ? { [K in keyof C]: K extends `${string}json` | `${string}json;${string}` ? C[K] : string }[keyof C]
  : undefined;
type AnswerBodies<Op> = Op extends { responses: infer R } ? { [S in keyof R]: BodyOfResponse<R[S]> }[keyof R] : never;
/** Named members only: an error's open `[key: string]: unknown` must not make every name valid. */
type Named<T> = { [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K] };
type KeysOf<U> = U extends object ? keyof Named<U> : never;
type MemberOf<U, K extends PropertyKey> = U extends object ? (K extends keyof Named<U> ? Named<U>[K] : never) : never;
/** One object with every member any of the answers has (each typed as the union of its types). */
type Merged<U> = [Extract<U, object>] extends [never] ? U : { [K in KeysOf<Extract<U, object>>]: MemberOf<Extract<U, object>, K> };
export type DocumentedBody<M extends Method, S extends string> = Merged<AnswerBodies<OperationsFor<M, S>>>;
/** The JSON request body a documented route takes, e.g. JsonBody<'PUT', `/executions/${string}`>. */
export type JsonBody<M extends Method, S extends DocumentedPath<M>> = RequestJson<OperationsFor<M, S>>;
type RequestJson<Op> = Op extends { requestBody?: { content: infer C } } ? (C extends { 'application/json': infer B } ? B : never) : never;

export const clusterUrl = (): string => {
  const url = process.env.CLUSTER_URL;
  if (!url) throw new Error('CLUSTER_URL is not set: integration tests run under the integration project');
  return url;
};

export const tokens = (): Record<string, string> => JSON.parse(process.env.CLUSTER_TOKENS ?? '{}');

export function tokenOf(node: string): string {
  const token = tokens()[node];
  if (!token) throw new Error(`No token for node ${node}`);
  return token;
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface RequestOptions<J = unknown> {
  node?: string;
  token?: string;
  /** A JSON body, of the type the route documents. */
  json?: J;
  /** A JSON body sent as is, whatever its type: for tests of what the API refuses. */
  invalidJson?: unknown;
  body?: string | Uint8Array;
  headers?: Record<string, string>;
}

/** The typed call: a documented route's request and answers; anything else is untyped. */
export interface TypedApi {
  <M extends Method, S extends DocumentedPath<M>>(
    method: M,
    path: S,
    options?: RequestOptions<RequestJson<OperationsFor<M, S>>>,
  ): Promise<ApiResponse<DocumentedBody<M, S>>>;
  /** A path no route documents (or a plain string): untyped. A documented literal path never lands here. */
  <S extends string>(method: Method, path: S extends DocumentedPath<Method> ? never : S, options?: RequestOptions<any>): Promise<ApiResponse<any>>;
}

export const api: TypedApi = (method: string, path: string, options: RequestOptions<any> = {}) => request(clusterUrl(), tokenOf, method, path, options);

/** A client of one cluster given by its base URL and node tokens (e.g. a cluster a test file spawned itself). */
export interface ClusterClient {
  readonly url: string;
  api: TypedApi;
  tokenOf(node: string): string;
}

export function clusterClient(url: string, nodeTokens: Record<string, string>): ClusterClient {
  const tokenOfNode = (node: string): string => {
    const token = nodeTokens[node];
    if (!token) throw new Error(`No token for node ${node}`);
    return token;
  };
  return {
    url,
    tokenOf: tokenOfNode,
    api: ((method: string, path: string, options: RequestOptions<any> = {}) => request(url, tokenOfNode, method, path, options)) as TypedApi,
  };
}

async function request(
  baseUrl: string,
  tokenOfNode: (node: string) => string,
  method: string,
  path: string,
  options: RequestOptions<any>,
): Promise<ApiResponse<any>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token ?? (options.node ? tokenOfNode(options.node) : undefined);
  if (token) headers.authorization = `Bearer ${token}`;
  let body = options.body;
  const json = options.json !== undefined ? options.json : options.invalidJson;
  if (json !== undefined) {
    body = JSON.stringify(json);
    headers['content-type'] ??= 'application/json';
  }
  const response = await fetch(`${baseUrl}${path}`, { method, headers, body });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text (XML documents, for instance)
  }
  const problem = await answerProblem(baseUrl, method, path, response.status, response.headers.get('content-type'), parsed);
  if (problem !== undefined) {
    if (process.env.ANSWER_CHECK_REPORT) appendFileSync(process.env.ANSWER_CHECK_REPORT, `${problem}\n`);
    else throw new Error(`The answer is not what the cluster's OpenAPI document says: ${problem}`);
  }
  return { status: response.status, headers: response.headers, body: parsed, text };
}

/** Fires a schedule of the local cluster with its own clock. */
export async function runSchedule(name: string, time: Date): Promise<any[]> {
  const response = await api('POST', `/__local/schedules/${name}`, { json: { time: time.toISOString() } });
  if (response.status !== 200) throw new Error(`schedule ${name}: ${response.status} ${response.text}`);
  return response.body.results;
}
