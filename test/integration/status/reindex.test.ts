/**
 * POST /executions/reindex over real HTTP on the local cluster: statuses stored the way a version
 * without the owner, process and node indexes stored them (heartbeat and completion keys only)
 * are missing from those listings until a reindex pass keys them; the pass goes on across
 * requests by its cursor, changes nothing else of a status (version, fields, TTL), rewrites
 * nothing on a second pass, and refuses bad input before reading anything.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand, ListTablesCommand, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { clusterConfigFromContext } from '../../../cdk/cluster-config';
import { BY_ATTRIBUTE, BY_USER_PROCESS, indexAttributes } from '../../../lambdas/status/adapters/status-table';
import type { ExecutionStatus } from '../../../lambdas/status/execution';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '../../../local/emulators';
import { api } from '../../support/cluster-client';
import { LISTING_TOKEN, ids, listAll, uniqueProcess } from './support';

jest.setTimeout(120_000);

const dynamo = new DynamoDBClient({ endpoint: process.env.CLUSTER_DYNAMO_ENDPOINT, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const cdkJson = JSON.parse(readFileSync(path.join(__dirname, '..', '..', '..', 'cdk.json'), 'utf8')) as { context?: Record<string, unknown> };
const shards = clusterConfigFromContext((key) => cdkJson.context?.[key]).status.indexShards;
const ATTRIBUTE_KEYS = [...Object.values(BY_ATTRIBUTE).map((index) => index.partitionAttribute), BY_USER_PROCESS.partitionAttribute];

const reindex = (json?: unknown, token: string | undefined = LISTING_TOKEN()) => api('POST', '/executions/reindex', json === undefined ? { token } : { token, invalidJson: json });

/** Every request of one pass, the first reading `firstLimit` statuses at most. */
async function pass(firstLimit?: number) {
  const answers: Array<{ status: number; body: any }> = [];
  let cursor: string | undefined;
  do {
    const body = { ...(cursor ? { cursor } : {}), ...(answers.length === 0 && firstLimit ? { limit: firstLimit } : {}) };
    const answer = await reindex(Object.keys(body).length ? body : undefined);
    expect([200, 202]).toContain(answer.status);
    answers.push(answer);
    cursor = answer.body.cursor;
    expect(answer.body.done).toBe(cursor === undefined);
    if (answers.length > 100) throw new Error('the reindex pass did not end after 100 requests');
  } while (cursor !== undefined);
  const sum = (field: 'scanned' | 'rewritten' | 'skipped') => answers.reduce((total, answer) => total + answer.body[field], 0);
  return { answers, scanned: sum('scanned'), rewritten: sum('rewritten'), skipped: sum('skipped') };
}

let table: string;

beforeAll(async () => {
  const names = (await dynamo.send(new ListTablesCommand({}))).TableNames ?? [];
  table = names.find((name) => /Executions/.test(name)) as string;
  expect(table).toBeDefined();
});

afterAll(() => dynamo.destroy());

test('statuses stored before the owner, process and node indexes are listed after a reindex pass, and nothing else changes', async () => {
  const userName = `legacy-${randomUUID()}`;
  const processName = uniqueProcess('reindex');
  const base = Date.parse('2026-11-20T10:00:00.000Z');
  const at = (seconds: number) => new Date(base + seconds * 1000).toISOString();
  const older: ExecutionStatus[] = [0, 1, 2, 3].map((i) => ({
    executionId: randomUUID(),
    processName,
    phase: i === 3 ? 'RUNNING' : i === 2 ? 'FAILED' : 'SUCCEEDED',
    progress: i === 3 ? 40 : 100,
    nodeId: 'slave-2',
    userName,
    creationTime: at(i),
    lastUpdated: at(100 + i),
    ...(i === 3 ? {} : { completionTime: at(100 + i) }),
    ...(i === 2 ? { exception: { code: 'Boom', message: 'it failed' } } : {}),
    version: 3,
  }));
  for (const status of older) {
    // The old shape: the heartbeat and completion keys, none of the attribute indexes' keys.
    const keys = indexAttributes(status, shards);
    for (const attribute of ATTRIBUTE_KEYS) delete keys[attribute];
    await dynamo.send(
      new PutItemCommand({ TableName: table, Item: marshall({ ...status, ...keys, expiresAt: 4_100_000_000 }, { removeUndefinedValues: true }) }),
    );
  }
  const newestFirst = [older[3], older[2], older[1], older[0]].map((status) => status!.executionId);
  const listings: Array<Record<string, string>> = [{ userName }, { processName }, { nodeId: 'slave-2', processName }, { userName, processName }, { userName, phase: 'SUCCEEDED,FAILED' }];
  for (const query of listings) expect({ query, ids: ids((await listAll({ ...query, limit: 2 })).items) }).toEqual({ query, ids: [] });

  // A first request of one status, then on by the cursor until the pass is done.
  const first = await pass(1);
  expect(first.answers[0]).toMatchObject({ status: 202, body: { scanned: 1, done: false } });
  expect(first.answers.length).toBeGreaterThan(1);
  expect(first.answers.at(-1)?.status).toBe(200);
  // Other test files' statuses are current; the old-shape ones here are rewritten at least.
  expect(first.rewritten).toBeGreaterThanOrEqual(older.length);
  expect(first.skipped).toBe(0);

  const expected = (query: Record<string, string>) =>
    newestFirst.filter((id) => {
      const status = older.find((s) => s.executionId === id) as ExecutionStatus;
      return query.phase === undefined || query.phase.split(',').includes(status.phase);
    });
  for (const query of listings) {
    // The running one is listed by creation time within its group, the completed ones by completion.
    const listed = ids((await listAll({ ...query, limit: 2 })).items);
    expect({ query, ids: [...listed].sort() }).toEqual({ query, ids: [...expected(query)].sort() });
  }
  expect(ids((await listAll({ userName, phase: 'SUCCEEDED,FAILED', limit: 1 })).items)).toEqual([older[2], older[1], older[0]].map((s) => s!.executionId));

  for (const status of older) {
    const polled = await api('GET', `/executions/${status.executionId}`);
    expect(polled.status).toBe(200);
    expect(polled.body).toEqual(status);
    const raw = await dynamo.send(new GetItemCommand({ TableName: table, Key: marshall({ executionId: status.executionId }), ConsistentRead: true }));
    expect(unmarshall(raw.Item ?? {}).expiresAt).toBe(4_100_000_000);
  }

  // A second pass finds nothing left to key.
  const second = await pass();
  expect(second).toMatchObject({ rewritten: 0, skipped: 0 });
  expect(second.scanned).toBeGreaterThanOrEqual(first.scanned);
});

test('a reindex request needs a token and a valid body, and refuses a cursor it did not issue', async () => {
  expect((await reindex(undefined, '')).status).toBe(401);
  const cases: Array<[unknown, string]> = [
    [{ limit: 0 }, 'limit'],
    [{ limit: 1.5 }, 'limit'],
    [{ limit: '5' }, 'limit'],
    [{ cursor: '' }, 'cursor'],
    [{ cursor: 'not-a-cursor' }, 'cursor'],
    [{ since: 1 }, 'since'],
  ];
  for (const [body, field] of cases) {
    const answer = await reindex(body);
    expect({ body, status: answer.status, field: answer.body.field }).toEqual({ body, status: 400, field });
  }
  // A listing's cursor is signed by the same key, for another purpose: refused.
  const page = await api('GET', '/executions?limit=1', { token: LISTING_TOKEN() });
  expect(page.body.nextCursor).toBeDefined();
  const foreign = await reindex({ cursor: page.body.nextCursor });
  expect(foreign).toMatchObject({ status: 400, body: { field: 'cursor' } });
  const notJson = await api('POST', '/executions/reindex', { token: LISTING_TOKEN(), body: 'limit=1', headers: { 'content-type': 'text/plain' } });
  expect(notJson.status).toBe(415);
});
