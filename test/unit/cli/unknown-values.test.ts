/**
 * The CLI against answers of a newer cluster that hold a value the CLI does not know where the API
 * declares a set of them (a node role, a job's kind, state or phase, a consumption, an execution
 * phase, a difference's or an event's kind, an object type), from a stand-in server on 127.0.0.1:
 * each command reads the answer and prints the value as it is (no `undefined`, no label of a value
 * it knows); a wait stops at a state or phase it does not know. An answer of a wrong type is still
 * named by its route and member.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CannedScript } from '../../support/canned-server';
import { scriptedCli } from '../../support/scripted-cli';

/** What the stand-in answers (`CannedScript`). */
type Script = CannedScript;

const cli = scriptedCli('geocluster-unknown-');
const { run, requested } = cli;

const at = '2026-12-04T03:00:00.000Z';
const ok = (body: unknown) => ({ status: 200, body });
/** A job of a kind, in a state and phase this CLI does not know. */
const auditJob = {
  id: 'j-1', node: 'gs-1', kind: 'audit', state: 'paused', phase: 'scan-audit',
  progress: { compared: 3 }, failures: [], createdAt: at, updatedAt: at, finishedAt: null, error: null,
};
const doneJob = { ...auditJob, kind: 'drift', state: 'succeeded', phase: 'done', finishedAt: at };
const node = {
  name: 'ob-1', role: 'observer', lastAppliedSequence: 7, lag: 0, queueDepth: 0, deadLetterDepth: 0, paused: false,
  job: { ...auditJob, node: 'ob-1' }, resync: { job: 'j-9', state: 'verifying', storeIncomplete: false, error: null, resume: null },
};
const execution = {
  executionId: 'e-1', processName: 'gs:Buffer', phase: 'PAUSED', progress: 40, nodeId: 'slave-1', creationTime: at, lastUpdated: at, version: 3,
};
const event = { sequence: 3, cluster: 'demo', origin: 'master-1', publishedAt: at, kind: 'add', object: { type: 'wmtsstore', id: 'topp:tiles' }, properties: { name: 'tiles' } };

describe('a value the CLI does not know where the API declares a set of them', () => {
  it.each<[string, string[], Script, string[]]>([
    [
      'nodes: a role, a job kind and state, a resync hold',
      ['nodes'],
      { 'GET /nodes': ok({ head: 7, nodes: [node] }) },
      ['ob-1  observer', 'ob-1: held by resync job j-9 (verifying)', 'ob-1: audit job j-1 paused (scan-audit): compared 3'],
    ],
    [
      'pause: a consumption',
      ['pause', 'slave-1'],
      { 'POST /nodes/slave-1/pause': ok({ node: 'slave-1', paused: true, since: at, by: 'master-1', consumption: 'draining' }) },
      [`slave-1 paused (since ${at}, by master-1); its queue consumption: draining`],
    ],
    [
      'job: a kind, a state and a phase',
      ['job', 'gs-1', 'j-1'],
      { 'GET /nodes/gs-1/jobs/j-1': ok({ job: auditJob }) },
      ['gs-1: audit job j-1 paused (scan-audit): compared 3', '  state paused is not one this geocluster knows'],
    ],
    [
      'executions list: a phase',
      ['executions', 'list'],
      { 'GET /executions': ok({ executions: [execution] }) },
      ['e-1        gs:Buffer  PAUSED  40%'],
    ],
    ['executions get: a phase', ['executions', 'get', 'e-1'], { 'GET /executions/e-1': ok(execution) }, ['e-1  gs:Buffer  PAUSED  40%']],
    [
      'drift --last: a kind of difference',
      ['drift', 'gs-1', '--last'],
      { 'GET /nodes/gs-1/drift': ok({ node: 'gs-1', job: doneJob, complete: true, counts: {}, differences: [{ kind: 'moved', type: 'layer', id: 'topp:roads' }] }) },
      ['1 difference: 0 missing, 0 extra, 0 different, 1 moved', 'moved  layer  topp:roads'],
    ],
    [
      'config log: an event kind',
      ['config', 'log'],
      { 'GET /config/events': ok({ head: 3, next: null, events: [{ sequence: 3, kind: 'rename', object: { type: 'layer', id: 'topp:roads' }, origin: 'master-1', publishedAt: at, offloaded: false }] }) },
      ['3    rename  layer/topp:roads'],
    ],
  ])('%s: read and printed as it is, exit 0', async (_case, argv, answers, printed) => {
    cli.script = answers;
    const result = await run(...argv);
    expect(result).toMatchObject({ code: 0, err: '' });
    for (const text of printed) expect(result.out).toContain(text);
    expect(result.out).not.toContain('undefined');
  });

  it('config publish: an object type in the published event (a change this CLI sent, of a type a newer cluster takes)', async () => {
    writeFileSync(path.join(cli.scratch, 'change.json'), JSON.stringify({ kind: 'add', object: event.object, properties: event.properties }));
    cli.script = { 'POST /config/events': { status: 201, body: { sequence: 3, event, published: true, appliedLocally: false } } };
    expect(await run('config', 'publish', 'change.json')).toEqual({ code: 0, out: 'sequence 3\n', err: '' });
  });

  it('job --wait: a state it does not know ends the waiting (it may be an end), exit 4', async () => {
    cli.script = { 'GET /nodes/gs-1/jobs/j-1': [ok({ job: auditJob }), ok({ job: doneJob })] };
    const result = await run('job', 'gs-1', 'j-1', '--wait', '--interval', '50');
    expect(result).toEqual({
      code: 4,
      out: 'gs-1: audit job j-1 paused (scan-audit): compared 3\n  state paused is not one this geocluster knows: whether the job has ended is not known here\n',
      err: '',
    });
    expect(requested()).toEqual(['GET /nodes/gs-1/jobs/j-1']);
  });

  it('watch: a phase it does not know ends the watch (it may be an end), exit 4', async () => {
    cli.script = { 'GET /executions/e-1': [ok(execution), ok({ ...execution, phase: 'SUCCEEDED', progress: 100 })] };
    const result = await run('watch', 'e-1', '--interval', '50');
    expect(result).toEqual({
      code: 4,
      out: '[############------------------]  40% PAUSED\nstopped watching: phase PAUSED is not one this geocluster knows (geocluster executions get e-1)\n',
      err: '',
    });
    expect(requested()).toEqual(['GET /executions/e-1']);
  });

  it.each<[string, string[], Script, string]>([
    ['nodes: a role that is not a string', ['nodes'], { 'GET /nodes': ok({ head: 7, nodes: [{ ...node, role: 7 }] }) }, 'GET /nodes answered 200 with an unexpected body: nodes.0.role: Invalid option: expected one of "master"|"slave"|"both"'],
    ['pause: no consumption', ['pause', 'slave-1'], { 'POST /nodes/slave-1/pause': ok({ node: 'slave-1', paused: true }) }, 'POST /nodes/slave-1/pause answered 200 with an unexpected body: consumption: is required'],
    ['job: a state of null', ['job', 'gs-1', 'j-1'], { 'GET /nodes/gs-1/jobs/j-1': ok({ job: { ...auditJob, state: null } }) }, 'GET /nodes/gs-1/jobs/j-1 answered 200 with an unexpected body: job.state: Invalid option: expected one of "queued"|"running"|"succeeded"|"failed"|"cancelled"'],
    ['job: a phase it does not know beside an id that is not a string', ['job', 'gs-1', 'j-1'], { 'GET /nodes/gs-1/jobs/j-1': ok({ job: { ...auditJob, id: 1 } }) }, 'GET /nodes/gs-1/jobs/j-1 answered 200 with an unexpected body: job.id: Invalid input: expected string, received number'],
    ['executions list: a phase that is not a string', ['executions', 'list'], { 'GET /executions': ok({ executions: [{ ...execution, phase: 5 }] }) }, 'GET /executions answered 200 with an unexpected body: executions.0.phase: Invalid option: expected one of "QUEUED"|"RUNNING"|"SUCCEEDED"|"DISMISSING"|"FAILED"'],
    [
      'config publish: an event kind that is not a string',
      ['config', 'publish', 'change.json'],
      { 'POST /config/events': { status: 201, body: { sequence: 3, event: { ...event, kind: 1 }, published: true, appliedLocally: false } } },
      "POST /config/events answered 201 with an unexpected body: event.kind: Invalid discriminator value. Expected 'add' | 'modify' | 'remove'",
    ],
  ])('%s: still a wrong shape, one line naming the route and the member, exit 1', async (_case, argv, answers, message) => {
    writeFileSync(path.join(cli.scratch, 'change.json'), JSON.stringify({ kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } }));
    cli.script = answers;
    expect(await run(...argv)).toEqual({ code: 1, out: '', err: `geocluster: ${message} (is --url the cluster's API, of this CLI's version?)\n` });
  });
});
