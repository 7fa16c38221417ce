/**
 * The executable contract of a GeoServer ProcessStatusStore backed by this cluster
 * (docs/geoserver-wps.md): replays test/fixtures/wps-store-contract/*.json, the HTTP calls such a
 * store makes for each of its methods, against the local cluster, and checks every answer. The
 * fixtures are plain JSON so a Java implementation can replay the same files.
 */
import { randomUUID } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { clusterUrl, tokenOf } from '../support/cluster-client';

const FIXTURES = join(__dirname, '..', 'fixtures', 'wps-store-contract');
const STORE_NODE = 'master-1';
const OTHER_NODE = 'slave-1';

interface Step {
  store: string;
  request: {
    method: string;
    path: string;
    auth: 'node' | 'otherNode' | 'none';
    query?: Record<string, string>;
    headers?: Record<string, string>;
    body?: unknown;
    paginate?: boolean;
  };
  expect: {
    status: number;
    headers?: Record<string, string>;
    body?: Record<string, unknown>;
    ids?: string[];
    maxPageSize?: number;
  };
  capture?: Record<string, string>;
}

interface Fixture {
  description: string;
  storeMethods: string[];
  steps: Step[];
}

const fixtures = readdirSync(FIXTURES)
  .filter((name) => name.endsWith('.json'))
  .sort()
  .map((name) => [name, JSON.parse(readFileSync(join(FIXTURES, name), 'utf8')) as Fixture] as const);

function substitute<T>(value: T, bindings: Map<string, string>): T {
  if (typeof value === 'string') {
    return value.replace(/\{(\w+)\}/g, (whole, name: string) => bindings.get(name) ?? whole) as T;
  }
  if (Array.isArray(value)) return value.map((item) => substitute(item, bindings)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, substitute(item, bindings)])) as T;
  }
  return value;
}

/** Checks `actual` against the fixture's subset `expected`, returning what differs. */
function differences(expected: unknown, actual: unknown, at: string): string[] {
  if (expected === '{present}') return actual === undefined || actual === null ? [`${at} is missing`] : [];
  if (expected !== null && typeof expected === 'object' && !Array.isArray(expected)) {
    if (actual === null || typeof actual !== 'object') return [`${at}: expected an object, got ${JSON.stringify(actual)}`];
    return Object.entries(expected).flatMap(([key, child]) => {
      const value = (actual as Record<string, unknown>)[key];
      if (child === '{absent}') return value === undefined ? [] : [`${at}.${key} should be absent, is ${JSON.stringify(value)}`];
      return differences(child, value, `${at}.${key}`);
    });
  }
  return JSON.stringify(expected) === JSON.stringify(actual) ? [] : [`${at}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`];
}

function pick(source: { headers: Headers; body: any }, from: string): string | undefined {
  if (from.startsWith('header:')) return source.headers.get(from.slice('header:'.length)) ?? undefined;
  const value = from
    .slice('body:'.length)
    .split('.')
    .reduce<any>((node, key) => (node == null ? undefined : node[key]), source.body);
  return value === undefined ? undefined : String(value);
}

async function send(step: Step, cursor?: string): Promise<{ status: number; headers: Headers; body: any }> {
  const { request } = step;
  const query = new URLSearchParams({ ...request.query, ...(cursor ? { cursor } : {}) }).toString();
  const headers: Record<string, string> = { ...request.headers };
  if (request.auth !== 'none') headers.authorization = `Bearer ${tokenOf(request.auth === 'node' ? STORE_NODE : OTHER_NODE)}`;
  if (request.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${clusterUrl()}${request.path}${query ? `?${query}` : ''}`, {
    method: request.method,
    headers,
    body: request.body === undefined ? undefined : JSON.stringify(request.body),
  });
  const text = await response.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = text;
  }
  return { status: response.status, headers: response.headers, body };
}

// A store that pages through a shared table may need many requests per list.
jest.setTimeout(60_000);

describe.each(fixtures)('%s', (_name, fixture) => {
  test(fixture.description, async () => {
    const run = randomUUID();
    const bindings = new Map<string, string>([
      ['process', `contract:${run}`],
      ['node', STORE_NODE],
      ...Array.from({ length: 9 }, (_, i) => [`id${i + 1}`, `${run}-${i + 1}`] as [string, string]),
    ]);
    expect(fixture.steps.length).toBeGreaterThan(0);

    for (const [index, rawStep] of fixture.steps.entries()) {
      const step = substitute(rawStep, bindings);
      const where = `step ${index + 1} (${rawStep.store})`;
      const problems: string[] = [];
      let answer = await send(step);
      const listed: string[] = [];
      let pages = 0;
      for (;;) {
        pages += 1;
        if (answer.status !== step.expect.status) {
          problems.push(`status ${answer.status}, expected ${step.expect.status}: ${JSON.stringify(answer.body)}`);
          break;
        }
        const executions = (answer.body?.executions ?? []) as { executionId: string }[];
        listed.push(...executions.map((execution) => execution.executionId));
        if (step.expect.maxPageSize !== undefined && executions.length > step.expect.maxPageSize) {
          problems.push(`a page held ${executions.length} executions, more than ${step.expect.maxPageSize}`);
        }
        const next = answer.body?.nextCursor as string | undefined;
        if (!step.request.paginate || !next) break;
        if (pages > 1000) {
          problems.push('more than 1000 pages');
          break;
        }
        answer = await send(step, next);
      }
      for (const [name, value] of Object.entries(step.expect.headers ?? {})) {
        const actual = answer.headers.get(name);
        if (value === '{present}' ? !actual : actual !== value) problems.push(`header ${name}: ${actual}, expected ${value}`);
      }
      if (step.expect.body && !step.request.paginate) problems.push(...differences(step.expect.body, answer.body, 'body'));
      if (step.expect.ids) {
        const want = [...step.expect.ids].sort();
        const got = [...listed].sort();
        if (JSON.stringify(want) !== JSON.stringify(got)) problems.push(`listed ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
      }
      if (problems.length > 0) throw new Error(`${where}: ${problems.join('; ')}`);
      for (const [name, from] of Object.entries(step.capture ?? {})) {
        const value = pick(answer, from);
        if (value === undefined) throw new Error(`${where}: nothing to capture as ${name} from ${from}`);
        bindings.set(name, value);
      }
    }
  });
});

test('the contract covers every ProcessStatusStore method', () => {
  const covered = new Set(fixtures.flatMap(([, fixture]) => fixture.storeMethods));
  for (const method of ['save', 'get', 'remove(executionId)', 'remove(filter)', 'list(query)', 'supportsPaging']) {
    expect(covered).toContain(method);
  }
});
