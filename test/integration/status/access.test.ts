/**
 * Who may do what, over real HTTP through the authorizer the stack deploys: listings need a node
 * or operator token (they hand out the ids that let anyone poll or dismiss), and so do the nodes'
 * state and catalogs (failure reasons, stores' connection parameters); polls of one id stay open; the read-only operator `ops` of cdk.json lists and reads but every write refuses it.
 */
import { randomUUID } from 'node:crypto';
import { api, tokenOf } from '../../support/cluster-client';
import { executionIn, executionPath, expectUnchanged, uniqueProcess } from './support';

jest.setTimeout(30_000);

const OPERATOR = 'ops';
/** A token of the right shape for a name the cluster does not declare. */
const UNDECLARED = `stranger.${'x'.repeat(43)}`;

describe('listings need a token', () => {
  test.each(['/executions', '/executions?limit=1000', '/jobs', '/jobs?limit=10000', '/nodes', '/nodes/slave-1/catalog', '/nodes/slave-1/catalog/workspace/topp'])(
    '%s: 401 without a token, 403 with a bad one',
    async (path) => {
    expect((await api('GET', path)).status).toBe(401);
    expect((await api('GET', path, { token: UNDECLARED })).status).toBe(403);
    // A declared name with a secret that is not its own.
    expect((await api('GET', path, { token: `${OPERATOR}.${'y'.repeat(43)}` })).status).toBe(403);
    },
  );

  test("a node and the operator read the nodes' state and a node's catalog", async () => {
    for (const token of [tokenOf('slave-2'), tokenOf(OPERATOR)]) {
      const nodes = await api('GET', '/nodes', { token });
      expect(nodes.status).toBe(200);
      expect(nodes.body.nodes.map((node: { name: string }) => node.name)).toEqual(expect.arrayContaining(['master-1', 'slave-1', 'slave-2']));
      const catalog = await api('GET', '/nodes/slave-1/catalog?limit=1', { token });
      expect([catalog.status, catalog.body.node]).toEqual([200, 'slave-1']);
    }
  });

  test('a node and the operator both list every execution, whoever owns it', async () => {
    const processName = uniqueProcess('access');
    const { id: alices } = await executionIn('RUNNING', { processName, userName: 'alice' });
    const { id: bobs } = await executionIn('SUCCEEDED', { processName, userName: 'bob' });
    for (const token of [tokenOf('slave-1'), tokenOf(OPERATOR)]) {
      const listed = await api('GET', `/executions?processName=${encodeURIComponent(processName)}`, { token });
      expect(listed.status).toBe(200);
      expect(listed.body.executions.map((status: { executionId: string }) => status.executionId).sort()).toEqual([alices, bobs].sort());
      const jobs = await api('GET', `/jobs?processID=${encodeURIComponent(processName)}`, { token });
      expect(jobs.status).toBe(200);
      expect(jobs.body.jobs).toHaveLength(2);
    }
  });

  test('polling one execution by its id stays open', async () => {
    const { id } = await executionIn('RUNNING');
    expect((await api('GET', executionPath(id))).status).toBe(200);
    expect((await api('GET', `/jobs/${id}`)).status).toBe(200);
    expect((await api('GET', `/ows?service=WPS&version=2.0.0&request=GetStatus&jobID=${id}`)).status).toBe(200);
  });
});

describe('the operator reads but never writes', () => {
  test('PUT of a new execution: 403, nothing stored', async () => {
    const id = randomUUID();
    const response = await api('PUT', executionPath(id), { token: tokenOf(OPERATOR), json: { phase: 'QUEUED', processName: 'gs:Buffer' } });
    expect(response.status).toBe(403);
    expect(response.body).toMatchObject({ code: 'FORBIDDEN' });
    expect(response.body.message).toContain('read-only operator');
    expect((await api('GET', executionPath(id))).status).toBe(404);
  });

  test('PUT and DELETE of an existing execution: 403, unchanged', async () => {
    const { id, status } = await executionIn('RUNNING');
    const write = await api('PUT', executionPath(id), { token: tokenOf(OPERATOR), json: { phase: 'RUNNING', progress: 99 } });
    expect(write.status).toBe(403);
    const dismiss = await api('DELETE', executionPath(id), { token: tokenOf(OPERATOR) });
    expect(dismiss.status).toBe(403);
    await expectUnchanged(id, status);
  });

  test('config publish, resync and redrive: 403', async () => {
    const token = tokenOf(OPERATOR);
    const publish = await api('POST', '/config/events', {
      token,
      json: { kind: 'add', object: { type: 'workspace', id: `ws-${randomUUID().slice(0, 8)}` }, properties: {} },
    });
    expect(publish.status).toBe(403);
    expect((await api('POST', '/nodes/slave-1/resync', { token, json: {} })).status).toBe(403);
    expect((await api('POST', '/nodes/slave-1/redrive', { token })).status).toBe(403);
  });
});
