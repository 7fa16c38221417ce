/**
 * Every command of the CLI against answers of the right kind (a 2xx JSON object) but not the
 * shape the API declares for the route, from a stand-in server on 127.0.0.1 (another version of
 * the API, another service, a proxy at --url): one line names the route and the first wrong
 * member, exit 1, nothing printed as a result, and no TypeError, no endless polling.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { CannedScript } from '../../support/canned-server';
import { scriptedCli } from '../../support/scripted-cli';

/** What the stand-in answers (`CannedScript`). */
type Script = CannedScript;

const cli = scriptedCli('geocluster-shapes-');
const { run, requested } = cli;

beforeEach(() => {
  writeFileSync(path.join(cli.scratch, 'change.json'), JSON.stringify({ kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } }));
});

const at = '2026-12-04T03:00:00.000Z';
const runningJob = {
  id: 'j-1', node: 'slave-1', kind: 'drift', state: 'running', phase: 'scan-store',
  progress: { compared: 3 }, failures: [], createdAt: at, updatedAt: at, finishedAt: null, error: null,
};
const doneJob = { ...runningJob, state: 'succeeded', phase: 'done', finishedAt: at };
const execution = {
  executionId: 'e-1', processName: 'gs:Buffer', phase: 'RUNNING', progress: 40, nodeId: 'slave-1',
  creationTime: at, lastUpdated: at, version: 3,
};
const ok = (body: unknown) => ({ status: 200, body });

describe('a 2xx answer not of the shape the API declares for its route', () => {
  it.each<[string, string[], Script, string]>([
    ['nodes: an object for the list', ['nodes'], { 'GET /nodes': ok({ head: 3, nodes: {} }) }, 'GET /nodes answered 200 with an unexpected body: nodes: Invalid input: expected array, received object'],
    ['nodes: {}', ['nodes'], { 'GET /nodes': ok({}) }, 'GET /nodes answered 200 with an unexpected body: head: is required'],
    ['nodes: a node without its role', ['nodes'], { 'GET /nodes': ok({ head: 3, nodes: [{ name: 'slave-1', lastAppliedSequence: 3 }] }) }, 'GET /nodes answered 200 with an unexpected body: nodes.0.role: is required'],
    ['pause', ['pause', 'slave-1'], { 'POST /nodes/slave-1/pause': ok({ node: 'slave-1', paused: 'yes', consumption: 'disabled' }) }, 'POST /nodes/slave-1/pause answered 200 with an unexpected body: paused: Invalid input: expected boolean, received string'],
    ['resume', ['resume', 'slave-1'], { 'POST /nodes/slave-1/resume': ok({}) }, 'POST /nodes/slave-1/resume answered 200 with an unexpected body: node: is required'],
    ['redrive', ['redrive', 'slave-1'], { 'POST /nodes/slave-1/redrive': ok({ node: 'slave-1', moved: 1, more: false }) }, 'POST /nodes/slave-1/redrive answered 200 with an unexpected body: parked: is required'],
    ['resync: a job of null', ['resync', 'slave-1', '--yes'], { 'POST /nodes/slave-1/resync': { status: 202, body: { node: 'slave-1', source: 'master-1', job: null } } }, 'POST /nodes/slave-1/resync answered 202 with an unexpected body: job: Invalid input: expected object, received null'],
    ['drift: a job without its id', ['drift', 'slave-1'], { 'POST /nodes/slave-1/drift': { status: 202, body: { job: {} } } }, 'POST /nodes/slave-1/drift answered 202 with an unexpected body: job.id: is required'],
    ['reconcile --detach', ['reconcile', 'slave-1', '--yes', '--detach'], { 'POST /nodes/slave-1/reconcile': { status: 202, body: { job: [] } } }, 'POST /nodes/slave-1/reconcile answered 202 with an unexpected body: job: Invalid input: expected object, received array'],
    [
      'capture: the job it waits for, in a state that is not a string',
      ['capture', 'slave-1', '--interval', '50'],
      { 'POST /nodes/slave-1/capture': { status: 202, body: { job: { ...runningJob, kind: 'capture' } } }, 'GET /nodes/slave-1/jobs/j-1': ok({ job: { ...runningJob, state: 3 } }) },
      'GET /nodes/slave-1/jobs/j-1 answered 200 with an unexpected body: job.state: Invalid option: expected one of "queued"|"running"|"succeeded"|"failed"|"cancelled"',
    ],
    [
      'drift: a page of differences that is not a list',
      ['drift', 'slave-1'],
      { 'POST /nodes/slave-1/drift': { status: 202, body: { job: doneJob } }, 'GET /nodes/slave-1/drift': ok({ node: 'slave-1', job: doneJob, complete: true, counts: {}, differences: {} }) },
      'GET /nodes/slave-1/drift answered 200 with an unexpected body: differences: Invalid input: expected array, received object',
    ],
    ['drift --last', ['drift', 'slave-1', '--last'], { 'GET /nodes/slave-1/drift': ok({ node: 'slave-1', job: null, complete: true, counts: {}, differences: [] }) }, 'GET /nodes/slave-1/drift answered 200 with an unexpected body: job: Invalid input: expected object, received null'],
    ['job', ['job', 'slave-1', 'j-1'], { 'GET /nodes/slave-1/jobs/j-1': ok({ job: { ...runningJob, progress: null } }) }, 'GET /nodes/slave-1/jobs/j-1 answered 200 with an unexpected body: job.progress: Invalid input: expected object, received null'],
    [
      'job --wait: the second answer',
      ['job', 'slave-1', 'j-1', '--wait', '--interval', '50'],
      { 'GET /nodes/slave-1/jobs/j-1': [ok({ job: runningJob }), ok({ job: {} })] },
      'GET /nodes/slave-1/jobs/j-1 answered 200 with an unexpected body: job.id: is required',
    ],
    ['executions get', ['executions', 'get', 'e-1'], { 'GET /executions/e-1': ok({}) }, 'GET /executions/e-1 answered 200 with an unexpected body: executionId: is required'],
    ['executions list', ['executions', 'list'], { 'GET /executions': ok({ executions: {} }) }, 'GET /executions answered 200 with an unexpected body: executions: Invalid input: expected array, received object'],
    ['executions reindex', ['executions', 'reindex'], { 'POST /executions/reindex': ok({ scanned: '3', rewritten: 0, skipped: 0, done: true }) }, 'POST /executions/reindex answered 200 with an unexpected body: scanned: Invalid input: expected number, received string'],
    ['watch: no phase (it polled for ever)', ['watch', 'e-1', '--interval', '50'], { 'GET /executions/e-1': ok({ ...execution, phase: undefined }) }, 'GET /executions/e-1 answered 200 with an unexpected body: phase: is required'],
    ['config log', ['config', 'log'], { 'GET /config/events': ok({ head: 1, events: null, next: null }) }, 'GET /config/events answered 200 with an unexpected body: events: Invalid input: expected array, received null'],
    ['config log --since', ['config', 'log', '--since', '1'], { 'GET /config/events': ok({ head: 1, events: [{ sequence: 2 }], next: null }) }, 'GET /config/events answered 200 with an unexpected body: events.0.kind: is required'],
    ['reconcile: a status the route does not answer with', ['reconcile', 'slave-1', '--yes', '--detach'], { 'POST /nodes/slave-1/reconcile': ok({ job: {} }) }, 'POST /nodes/slave-1/reconcile answered 200 with an unexpected body: the route answers 202, not 200'],
    ['config publish: a status the route does not answer with', ['config', 'publish', 'change.json'], { 'POST /config/events': ok({}) }, 'POST /config/events answered 200 with an unexpected body: the route answers 201, not 200'],
  ])('%s: one line naming the route and the member, exit 1', async (_case, argv, answers, message) => {
    cli.script = answers;
    const result = await run(...argv);
    expect(result).toEqual({ code: 1, out: '', err: `geocluster: ${message} (is --url the cluster's API, of this CLI's version?)\n` });
  });

  it.each<[string, string[], Script, string]>([
    // (next 4 after 4 with nothing listed says the sequence after it is still being written: asked again a while.)
    ['config log --since', ['config', 'log', '--since', '4'], { 'GET /config/events': ok({ head: 9, events: [], next: 3 }) }, 'GET /config/events answered a page that does not move on: next 3 after 4'],
    [
      'drift --last',
      ['drift', 'slave-1', '--last'],
      { 'GET /nodes/slave-1/drift': ok({ node: 'slave-1', job: doneJob, complete: true, counts: {}, differences: [], next: 'more' }) },
      "GET /nodes/slave-1/drift answered a page that does not move on: next 'more' after 0",
    ],
  ])('%s: a page whose next does not move past the one asked for ends the paging (it asked for ever)', async (_case, argv, answers, message) => {
    cli.script = answers;
    expect(await run(...argv)).toEqual({ code: 1, out: '', err: `geocluster: ${message} (is --url the cluster's API, of this CLI's version?)\n` });
    expect(requested()).toHaveLength(1);
  });

  it('executions reindex: an answer with the cursor it was sent ends the pass (it asked for ever)', async () => {
    cli.script = { 'POST /executions/reindex': { status: 202, body: { scanned: 0, rewritten: 0, skipped: 0, done: false, cursor: 'c-1' } } };
    expect(await run('executions', 'reindex')).toEqual({
      code: 1,
      out: '',
      err: "geocluster: POST /executions/reindex answered a page that does not move on: next 'c-1' after 'c-1' (is --url the cluster's API, of this CLI's version?)\n",
    });
    expect(requested()).toEqual(['POST /executions/reindex', 'POST /executions/reindex']);
  });

  const change = { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } };
  const unexpected = "POST /config/events answered 201 with an unexpected body: sequence: Invalid input: expected number, received string (is --url the cluster's API, of this CLI's version?)";
  it.each([
    ['one change', change, `geocluster: ${unexpected}\n`],
    ['a list: not said to be refused, as a 201 was committed', [change], `geocluster: change #1 may or may not be published (see geocluster config log; 0 published before it): ${unexpected}\n`],
  ])('config publish (%s): a 201 of another shape is named at once, not retried', async (_case, changes, err) => {
    const file = path.join(cli.scratch, 'changes.json');
    writeFileSync(file, JSON.stringify(changes));
    cli.script = { 'POST /config/events': { status: 201, body: { sequence: 'twelve', published: true } } };
    expect(await run('config', 'publish', file)).toEqual({ code: 1, out: '', err });
    expect(requested()).toEqual(['POST /config/events']);
  });
});
