/**
 * Talks real HTTP to the local cluster started by the integration suite's global setup. Every
 * answer is held to the OpenAPI document the cluster serves (answer-check.ts).
 */
import { appendFileSync } from 'node:fs';
import { answerProblem } from './answer-check';

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

export interface RequestOptions {
  node?: string;
  token?: string;
  json?: unknown;
  body?: string;
  headers?: Record<string, string>;
}

export async function api<T = any>(method: string, path: string, options: RequestOptions = {}): Promise<ApiResponse<T>> {
  return request<T>(clusterUrl(), tokenOf, method, path, options);
}

/** A client of one cluster given by its base URL and node tokens (e.g. a cluster a test file spawned itself). */
export interface ClusterClient {
  readonly url: string;
  api<T = any>(method: string, path: string, options?: RequestOptions): Promise<ApiResponse<T>>;
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
    api: (method, path, options = {}) => request(url, tokenOfNode, method, path, options),
  };
}

async function request<T>(
  baseUrl: string,
  tokenOfNode: (node: string) => string,
  method: string,
  path: string,
  options: RequestOptions,
): Promise<ApiResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  const token = options.token ?? (options.node ? tokenOfNode(options.node) : undefined);
  if (token) headers.authorization = `Bearer ${token}`;
  let body = options.body;
  if (options.json !== undefined) {
    body = JSON.stringify(options.json);
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
  return { status: response.status, headers: response.headers, body: parsed as T, text };
}

/** Fires a schedule of the local cluster with its own clock. */
export async function runSchedule(name: string, time: Date): Promise<any[]> {
  const response = await api('POST', `/__local/schedules/${name}`, { json: { time: time.toISOString() } });
  if (response.status !== 200) throw new Error(`schedule ${name}: ${response.status} ${response.text}`);
  return response.body.results;
}
