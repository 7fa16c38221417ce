/**
 * Helpers of the status API integration tests: they talk real HTTP to a local cluster through
 * test/support/cluster-client.ts (the suite's shared cluster, or whichever CLUSTER_URL the test
 * file points at). Every test uses its own execution ids, and its own processName where it lists,
 * because the shared cluster's table is shared with every other integration test file.
 */
import { randomUUID } from 'node:crypto';
import type { components } from '../../../cli/api-types';
import { api, tokenOf, type ApiResponse, type JsonBody } from '../../support/cluster-client';

/** A status as the API documents it. */
export type ExecutionStatus = components['schemas']['ExecutionStatus'];
/** A status write as the API documents it. */
export type StatusWrite = JsonBody<'PUT', `/executions/${string}`>;

export type Phase = 'QUEUED' | 'RUNNING' | 'SUCCEEDED' | 'DISMISSING' | 'FAILED';
export const PHASES: Phase[] = ['QUEUED', 'RUNNING', 'SUCCEEDED', 'DISMISSING', 'FAILED'];

/** cdk.json: status.retentionMinutes and status.heartbeatTimeoutSeconds. */
export const RETENTION_MS = 1440 * 60_000;
export const HEARTBEAT_TIMEOUT_MS = 300 * 1000;

export const executionPath = (id: string): `/executions/${string}` => `/executions/${encodeURIComponent(id)}`;
export const uniqueProcess = (label: string) => `test:${label}-${randomUUID()}`;
export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Any body, valid or not (tests of refused writes send it too); the answer is typed. */
export function put(id: string, json: unknown, node = 'master-1', headers?: Record<string, string>) {
  return api('PUT', executionPath(id), { node, invalidJson: json, headers });
}

export function read(id: string, headers?: Record<string, string>) {
  return api('GET', executionPath(id), { headers });
}

export function dismiss(id: string, node = 'master-1') {
  return api('DELETE', executionPath(id), { node });
}

/** Makes a write that must succeed, and says what came back when it does not. */
export async function write(id: string, json: StatusWrite, node = 'master-1', expected = 200): Promise<ExecutionStatus> {
  const response = await put(id, json, node);
  if (response.status !== expected) {
    throw new Error(`PUT ${id} ${JSON.stringify(json)} as ${node}: expected ${expected}, got ${response.status} ${response.text}`);
  }
  return response.body as ExecutionStatus;
}

export async function create(id: string, fields: Partial<StatusWrite> = {}, node = 'master-1'): Promise<ExecutionStatus> {
  return write(id, { phase: 'QUEUED', processName: 'gs:Buffer', ...fields }, node, 201);
}

export async function stored(id: string): Promise<ExecutionStatus> {
  const response = await read(id);
  if (response.status !== 200) throw new Error(`GET ${id}: expected 200, got ${response.status} ${response.text}`);
  return response.body as ExecutionStatus;
}

/** A fresh execution brought to `phase` the way a cluster would get it there. */
export async function executionIn(phase: Phase, fields: Partial<StatusWrite> = {}, node = 'master-1'): Promise<{ id: string; status: ExecutionStatus }> {
  const id = randomUUID();
  await create(id, fields, node);
  if (phase === 'RUNNING' || phase === 'SUCCEEDED' || phase === 'DISMISSING') {
    await write(id, { phase: 'RUNNING', progress: 10 }, node);
  }
  if (phase === 'SUCCEEDED') await write(id, { phase: 'SUCCEEDED', resultLocation: `https://results.example/${id}` }, node);
  if (phase === 'FAILED') await write(id, { phase: 'FAILED', exception: { code: 'NoApplicableCode', message: 'boom' } }, node);
  if (phase === 'DISMISSING') {
    const dismissed = await dismiss(id);
    expect(dismissed.status).toBe(202);
  }
  const status = await stored(id);
  expect(status.phase).toBe(phase);
  return { id, status };
}

/** Asserts the stored status is exactly what it was: a refused request wrote nothing. */
export async function expectUnchanged(id: string, before: any): Promise<void> {
  expect(await stored(id)).toEqual(before);
}

/** Listings need a token; these helpers list as the read-only operator `ops` of cdk.json. */
export const LISTING_TOKEN = () => tokenOf('ops');

export async function listPage(query: Record<string, string | number>): Promise<ApiResponse> {
  const search = new URLSearchParams(Object.entries(query).map(([key, value]): [string, string] => [key, String(value)]));
  return api('GET', `/executions?${search.toString()}`, { token: LISTING_TOKEN() });
}

/** GET /executions with a query string written as is. */
export function listRaw(queryString: string): Promise<ApiResponse> {
  return api('GET', `/executions?${queryString}`, { token: LISTING_TOKEN() });
}

/** Follows nextCursor to the end; returns every page's items in order and the page count. */
export async function listAll(query: Record<string, string | number>): Promise<{ items: any[]; pages: number }> {
  const items: any[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const response = await listPage(cursor ? { ...query, cursor } : query);
    if (response.status !== 200) throw new Error(`list ${JSON.stringify(query)}: ${response.status} ${response.text}`);
    expect(Array.isArray(response.body.executions)).toBe(true);
    expect(response.body.executions.length).toBeLessThanOrEqual(Number(query.limit ?? 100));
    items.push(...response.body.executions);
    cursor = response.body.nextCursor;
    pages += 1;
    if (pages > 200) throw new Error('listing did not end after 200 pages');
  } while (cursor !== undefined);
  return { items, pages };
}

export const ids = (items: any[]) => items.map((item) => item.executionId as string);
