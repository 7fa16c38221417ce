/**
 * What the CLI's output says, read as a person reads it: counts in the singular for one and the
 * plural otherwise, a run of one number as that number ("change #1", not "changes #1-1"), the
 * "log head" line saying what it is. Answers come from a stand-in on 127.0.0.1.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { counted, numbered } from '../../../cli/wording';
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-wording-');
const { run } = cli;

const at = '2026-12-04T03:00:00.000Z';
const change = (id: string) => ({ kind: 'add', object: { type: 'workspace', id }, properties: { name: id } });
/** A change set's 201, as the API answers it: sequences first..first+count-1. */
const published = (first: number, count: number) => ({
  status: 201,
  body: { firstSequence: first, lastSequence: first + count - 1, count, origin: 'master-1', publishedAt: at, published: true, appliedLocally: false },
});

function publishFile(count: number): string {
  const file = path.join(cli.scratch, `changes-${count}.json`);
  writeFileSync(file, JSON.stringify(Array.from({ length: count }, (_, i) => change(`ws${i}`))));
  return file;
}

describe('counted and numbered', () => {
  it.each([
    [0, '0 statuses'],
    [1, '1 status'],
    [2, '2 statuses'],
    [11, '11 statuses'],
  ])('counts %i', (count, text) => {
    expect(counted(count, 'status', 'statuses')).toBe(text);
  });

  it('names a run of one number as that number, and a longer run by its ends', () => {
    expect(numbered(7, 7, 'sequence')).toBe('sequence 7');
    expect(numbered(7, 9, 'sequence')).toBe('sequences 7-9');
    expect(numbered(1, 1, 'change', 'changes', '#')).toBe('change #1');
    expect(numbered(3, 5, 'change', 'changes', '#')).toBe('changes #3-5');
  });
});

describe('config publish', () => {
  it.each([
    [1, ['change #1: sequence 7', '1 change published']],
    [2, ['changes #1-2: sequences 7-8', '2 changes published']],
    [3, ['changes #1-3: sequences 7-9', '3 changes published']],
  ] as const)('of a list of %i change(s) says which changes got which sequences', async (count, lines) => {
    cli.script = { 'POST /config/events': published(7, count) };
    expect(await run('config', 'publish', publishFile(count))).toEqual({ code: 0, out: lines.map((line) => `${line}\n`).join(''), err: '' });
  });

  it("says what the API took along: a partner's flags after a change, counted apart from the file's changes", async () => {
    const derived = [{ sequence: 8, derivedFrom: 0, object: { type: 'featureType', id: 'topp:roads' }, patch: { enabled: false } }];
    cli.script = { 'POST /config/events': { status: 201, body: { ...published(7, 3).body, derived } } };
    expect(await run('config', 'publish', publishFile(2))).toEqual({
      code: 0,
      out:
        'changes #1-2: sequences 7-9\n' +
        '  sequence 8: featureType topp:roads takes enabled: false along from change #1 (GeoServer holds them once for a layer and its resource)\n' +
        '2 changes published, 1 partner change taken along\n',
      err: '',
    });
  });

  it('of one refused change says that change was not published', async () => {
    cli.script = { 'POST /config/events': { status: 400, body: { code: 'INVALID_REQUEST', message: 'changes[0].object.type: unknown type', field: 'changes[0].object.type' } } };
    const { code, err } = await run('config', 'publish', publishFile(1));
    expect(code).toBe(1);
    expect(err).toMatch(/^geocluster: change #1 of 1 refused, not published \(0 published before it\): 400 INVALID_REQUEST: change #1 object\.type/);
  });

  it('of several refused changes says none of them was published', async () => {
    cli.script = { 'POST /config/events': { status: 400, body: { code: 'INVALID_REQUEST', message: 'changes[1].object.type: unknown type', field: 'changes[1].object.type' } } };
    const { code, err } = await run('config', 'publish', publishFile(2));
    expect(code).toBe(1);
    expect(err).toMatch(/^geocluster: changes #1-2 of 2 refused, none of them published \(0 published before them\): 400 INVALID_REQUEST: change #2 object\.type/);
  });

  it('of a set still being committed by an earlier attempt after every retry does not say it was refused or not published', async () => {
    const inProgress = { code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', message: 'The request with Idempotency-Key k committed sequence 7 and is still finishing; retry in a second', field: 'Idempotency-Key', sequence: 7 };
    cli.script = { 'POST /config/events': { status: 409, body: inProgress } };
    const { code, err } = await run('config', 'publish', publishFile(2));
    expect(code).toBe(1);
    expect(cli.requested()).toHaveLength(5);
    expect(err).not.toMatch(/refused|none of them published/);
    expect(err.split('\n').at(-2)).toMatch(/^geocluster: changes #1-2 committed, but the request that committed them had not finished after 5 attempts: see geocluster config log \(0 published before them\): 409 IDEMPOTENT_REQUEST_IN_PROGRESS: /);
  }, 20_000);

  it('of one change (not a list) still being committed after every retry says it was committed, not to send it again', async () => {
    const inProgress = { code: 'IDEMPOTENT_REQUEST_IN_PROGRESS', message: 'The request with Idempotency-Key k committed sequence 7 and is still finishing; retry in a second', field: 'Idempotency-Key', sequence: 7 };
    cli.script = { 'POST /config/events': { status: 409, body: inProgress } };
    const file = path.join(cli.scratch, 'one-change.json');
    writeFileSync(file, JSON.stringify(change('ws0')));
    const { code, err } = await run('config', 'publish', file);
    expect(code).toBe(1);
    expect(err.split('\n').at(-2)).toMatch(/^geocluster: the change committed, but the request that committed it had not finished after 5 attempts: see geocluster config log: 409 IDEMPOTENT_REQUEST_IN_PROGRESS: /);
  }, 20_000);

  it("of a set refused after one that took a partner along counts the file's changes published before it apart from the partner's", async () => {
    // 1,001 changes: a first set of 1,000 (its range holding one derived event more), then one refused.
    const derived = [{ sequence: 8, derivedFrom: 0, object: { type: 'featureType', id: 'topp:roads' }, patch: { enabled: false } }];
    cli.script = {
      'POST /config/events': [
        { status: 201, body: { ...published(7, 1001).body, derived } },
        { status: 400, body: { code: 'INVALID_REQUEST', message: 'changes[0].object.type: unknown type', field: 'changes[0].object.type' } },
      ],
    };
    const { code, err } = await run('config', 'publish', publishFile(1001));
    expect(code).toBe(1);
    expect(err).toMatch(/^geocluster: change #1001 of 1001 refused, not published \(1000 published before it, 1 partner change taken along\): 400 INVALID_REQUEST/);
  });
});

describe('executions reindex', () => {
  it.each([
    [1, 'reindex done: 1 status read, 0 rewritten, 0 written by a node meanwhile (already keyed)'],
    [2, 'reindex done: 2 statuses read, 0 rewritten, 0 written by a node meanwhile (already keyed)'],
  ])('counts %i status(es) read', async (scanned, line) => {
    cli.script = { 'POST /executions/reindex': { status: 200, body: { scanned, rewritten: 0, skipped: 0, done: true } } };
    expect(await run('executions', 'reindex')).toEqual({ code: 0, out: `${line}\n`, err: '' });
  });
});

describe('the log head line', () => {
  it('says what the head is above the nodes table', async () => {
    cli.script = { 'GET /nodes': { status: 200, body: { head: 42, nodes: [] } } };
    const { code, out } = await run('nodes');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('log head 42 (the newest sequence in the configuration event log; CURSOR: the last one a node applied)');
  });

  it('says what the head is above the config log table', async () => {
    cli.script = { 'GET /config/events': { status: 200, body: { head: 42, events: [], next: null } } };
    const { code, out } = await run('config', 'log');
    expect(code).toBe(0);
    expect(out.split('\n')[0]).toBe('log head 42 (the newest sequence in the configuration event log)');
  });

  it.each([[[]], [['--json']]])('config log --since past the head says where the log ends, not an empty table (%j)', async (more) => {
    cli.script = { 'GET /config/events': { status: 200, body: { head: 42, events: [], next: null } } };
    const { code, out, err } = await run('config', 'log', '--since', '50', ...more);
    expect({ code, out, err }).toEqual({ code: 2, out: '', err: 'geocluster: --since 50 is past the end of the log: it ends at sequence 42 (log head); give --since 42 or lower\n' });
  });

  it('config log --since the head itself says nothing came after it yet', async () => {
    cli.script = { 'GET /config/events': { status: 200, body: { head: 42, events: [], next: null } } };
    const { code, out } = await run('config', 'log', '--since', '42');
    expect(code).toBe(0);
    expect(out.split('\n').slice(1, -1)).toEqual(['no events after sequence 42 yet']);
  });

  it('config log of an empty log says so, rather than printing headings alone', async () => {
    cli.script = { 'GET /config/events': { status: 200, body: { head: 0, events: [], next: null } } };
    const { code, out } = await run('config', 'log');
    expect({ code, out }).toEqual({ code: 0, out: 'log head 0 (the newest sequence in the configuration event log)\nno events yet\n' });
  });

  it.each([
    [[], 'no execution statuses stored'],
    [['--phase', 'failed'], 'no execution status matches these filters'],
  ])('executions list %j with nothing to list says so, rather than printing headings alone', async (more, said) => {
    cli.script = { 'GET /executions': { status: 200, body: { executions: [] } } };
    const { code, out } = await run('executions', 'list', ...more);
    expect({ code, out }).toEqual({ code: 0, out: `${said}\n` });
  });
});
