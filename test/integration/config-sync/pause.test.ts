// Pause and resume over HTTP against the local cluster: consumption stops (the queue keeps
// the events), the node's publishes are refused, GET /nodes shows it, and resuming delivers
// what accumulated. Locally the switch is the apply function's event source mapping, driven
// through the Lambda API endpoint the runtime serves (local/lambda-api.ts).
import { randomUUID } from 'node:crypto';
import { api, tokenOf } from '../../support/cluster-client';
import { eventually } from '../../support/eventually';

interface NodeView {
  name: string;
  role: string;
  lastAppliedSequence: number;
  lag: number;
  queueDepth: number | null;
  paused: boolean;
  pausedSince?: string;
  pausedBy?: string;
}

const nodes = async (): Promise<{ head: number; nodes: NodeView[] }> => (await api('GET', '/nodes', { node: 'ops' })).body;
const nodeView = async (name: string) => (await nodes()).nodes.find((node) => node.name === name)!;


const style = (id: string) => ({
  kind: 'add' as const,
  object: { type: 'style' as const, id },
  properties: { format: 'sld', body: '<StyledLayerDescriptor version="1.0.0"/>' },
});

afterEach(async () => {
  // Never leave the shared cluster (or the next test) paused, whatever failed.
  for (const node of ['slave-1', 'master-1']) await api('POST', `/nodes/${node}/resume`, { node: 'master-1' });
});

/** Whether the local runtime's poller of a node's queue (its event source mapping) is consuming. */
const consuming = async (node: string): Promise<boolean> => {
  const pollers = (await api('GET', '/__local/pollers')).body as { name: string; running: boolean }[];
  const poller = pollers.find((candidate) => candidate.name === `ConfigSync/${node}/Apply`);
  if (!poller) throw new Error(`no poller for ${node}: ${JSON.stringify(pollers)}`);
  return poller.running;
};

describe('POST /nodes/{node}/pause and /resume', () => {
  it('a pause and a resume sent together: one at a time, so the node consumes exactly when no pause is recorded', async () => {
    for (let round = 0; round < 8; round += 1) {
      const answers = await Promise.all([
        api('POST', '/nodes/slave-1/pause', { node: 'slave-1' }),
        api('POST', '/nodes/slave-1/resume', { node: 'master-1' }),
      ]);
      // Each is applied whole or refused whole (409, nothing changed).
      for (const answer of answers) {
        expect([200, 409]).toContain(answer.status);
        if (answer.status === 409) expect(answer.body.code).toBe('SWITCH_IN_PROGRESS');
      }
      expect(answers.some((answer) => answer.status === 200)).toBe(true);
      expect(await consuming('slave-1')).toBe(!(await nodeView('slave-1')).paused);
    }
    // Eight rounds of four requests each: a bound for a loaded machine, not a speed check.
  }, 60_000);

  it('refuses a body (these routes take none), changing nothing; none or {} is accepted', async () => {
    // A long body is the same mistake, not a 413 the routes do not declare.
    for (const body of ['{"reason":"maintenance"}', 'garbage', '[1]', JSON.stringify({ reason: 'x'.repeat(2000) })]) {
      const refused = await api('POST', '/nodes/slave-1/pause', { node: 'master-1', body, headers: { 'content-type': 'application/json' } });
      expect([refused.status, refused.body.field]).toEqual([400, 'body']);
      const redrive = await api('POST', '/nodes/slave-1/redrive', { node: 'master-1', body, headers: { 'content-type': 'application/json' } });
      expect([redrive.status, redrive.body.field]).toEqual([400, 'body']);
    }
    expect((await nodeView('slave-1')).paused).toBe(false);
    expect((await api('POST', '/nodes/slave-1/pause', { node: 'master-1', body: '{}', headers: { 'content-type': 'application/json' } })).status).toBe(200);
    expect((await api('POST', '/nodes/slave-1/resume', { node: 'master-1' })).status).toBe(200);
  });

  it('a paused slave consumes nothing while its queue keeps the events; resumed, it catches up in order', async () => {
    const paused = await api('POST', '/nodes/slave-1/pause', { node: 'master-1' });
    expect(paused.status).toBe(200);
    expect(paused.body).toMatchObject({ node: 'slave-1', paused: true, by: 'master-1', consumption: 'disabled' });
    expect(await nodeView('slave-1')).toMatchObject({ paused: true, pausedBy: 'master-1', pausedSince: paused.body.since });

    const before = (await nodeView('slave-1')).lastAppliedSequence;
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) expect((await api('POST', '/config/events', { node: 'master-1', json: style(`pause-${id}`) })).status).toBe(201);
    // The unpaused slave gets them all; the paused one's queue holds them.
    const head = (await nodes()).head;
    await eventually('slave-2 applies the events', () => nodeView('slave-2'), (node) => node.lastAppliedSequence >= head);
    const held = await eventually('slave-1 queue holds the events', () => nodeView('slave-1'), (node) => (node.queueDepth ?? 0) >= ids.length);
    expect(held.lastAppliedSequence).toBe(before);
    expect(held.lag).toBeGreaterThanOrEqual(ids.length);
    // Repeating the pause keeps the first one's time and author.
    expect((await api('POST', '/nodes/slave-1/pause', { node: 'slave-1' })).body).toMatchObject({ paused: true, since: paused.body.since, by: 'master-1' });

    const resumed = await api('POST', '/nodes/slave-1/resume', { node: 'slave-1' });
    expect(resumed.status).toBe(200);
    expect(resumed.body).toEqual({ node: 'slave-1', paused: false, consumption: 'enabled' });
    // The apply reads ahead from the log, so its cursor can reach the head before the queue drains.
    const caughtUp = await eventually('slave-1 catches up and drains its queue', () => nodeView('slave-1'), (node) => node.lastAppliedSequence >= head && node.queueDepth === 0);
    expect(caughtUp).toMatchObject({ paused: false, lag: 0, queueDepth: 0 });
    expect(caughtUp).not.toHaveProperty('pausedSince');
    for (const id of ids) expect((await api('GET', `/nodes/slave-1/catalog/style/pause-${id}`, { node: 'ops' })).status).toBe(200);
    // Catching up waits for the poller (`eventually`), longer than Jest's 5 s default on a busy machine.
  }, 60_000);

  it("a paused node's publishes are refused with 409 NODE_PAUSED and write nothing; resumed, they are accepted", async () => {
    expect((await api('POST', '/nodes/master-1/pause', { node: 'master-1' })).body).toMatchObject({ paused: true, consumption: 'none' });
    const headBefore = (await nodes()).head;
    const refused = await api('POST', '/config/events', { node: 'master-1', json: style(`refused-${randomUUID()}`) });
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ code: 'NODE_PAUSED', pausedBy: 'master-1', message: expect.stringContaining('/nodes/master-1/resume') });
    expect((await nodes()).head).toBe(headBefore);

    expect((await api('POST', '/nodes/master-1/resume', { node: 'master-1' })).status).toBe(200);
    expect((await api('POST', '/config/events', { node: 'master-1', json: style(`accepted-${randomUUID()}`) })).status).toBe(201);
  });

  it('only the node itself or a master may switch a node; unknown nodes and missing tokens are refused', async () => {
    const bySlave = await api('POST', '/nodes/slave-1/pause', { node: 'slave-2' });
    expect(bySlave.status).toBe(403);
    expect(bySlave.body.message).toContain('only the node itself or a master');
    expect((await nodeView('slave-1')).paused).toBe(false);
    expect((await api('POST', '/nodes/no-such-node/pause', { node: 'master-1' })).body).toMatchObject({ code: 'NODE_NOT_FOUND' });
    expect((await api('POST', '/nodes/slave-1/pause')).status).toBe(401);
    expect((await api('POST', '/nodes/slave-1/resume', { token: 'slave-1.wrong-secret' })).status).toBe(403);
  });

  it('a read-only operator token (cdk.json operator ops) may neither pause nor resume', async () => {
    const token = tokenOf('ops');
    const pause = await api('POST', '/nodes/slave-1/pause', { token });
    expect(pause.status).toBe(403);
    expect(pause.body).toMatchObject({ code: 'FORBIDDEN', message: expect.stringContaining('read-only operator') });
    expect((await nodeView('slave-1')).paused).toBe(false);

    expect((await api('POST', '/nodes/slave-1/pause', { node: 'master-1' })).status).toBe(200);
    const resume = await api('POST', '/nodes/slave-1/resume', { token });
    expect(resume.status).toBe(403);
    expect(await nodeView('slave-1')).toMatchObject({ paused: true, pausedBy: 'master-1' });
    expect((await api('POST', '/nodes/slave-1/resume', { node: 'master-1' })).status).toBe(200);
  });
});
