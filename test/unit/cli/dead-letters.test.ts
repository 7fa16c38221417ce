/**
 * `geocluster dead-letters list <node>` and `geocluster dead-letters discard <node> <ids> --yes`
 * against a stand-in API: what each sends, what it prints, and a discard refused without --yes
 * (exit 2, nothing sent) or with bad ids; a discard that kept any message exits 1, naming why.
 */
import { scriptedCli } from '../../support/scripted-cli';

const cli = scriptedCli('geocluster-dead-letters-');
const { run, requested } = cli;

const setAside = {
  messageId: 'aaaa-1',
  setAside: true,
  reason: 'not an event: Unexpected token n',
  messageGroupId: 'set-aside-x',
  origin: 'master-1',
  sentAt: '2026-12-07T08:00:00.000Z',
  receiveCount: 1,
  size: 24,
  body: '{"this is": not an event',
  bodyTruncated: false,
  event: null,
};
const failed = {
  ...setAside,
  messageId: 'bbbb-2',
  setAside: false,
  reason: null,
  messageGroupId: 'geo',
  body: '{"sequence":7,\n"cluster":"geo"}',
  size: 29,
  event: { sequence: 7, kind: 'modify', object: { type: 'workspace', id: 'topp' } },
};

test('list: each message with its kind, reason, time, size and body, then what to run', async () => {
  cli.script = { 'GET /nodes/slave-1/dead-letters': { status: 200, body: { node: 'slave-1', deadLetterDepth: 2, messages: [setAside, failed], more: false } } };
  const result = await run('dead-letters', 'list', 'slave-1', '--limit', '5');
  expect({ code: result.code, err: result.err }).toEqual({ code: 0, err: '' });
  expect(cli.server.requests.map((request) => `${request.method} ${request.path}`)).toEqual(['GET /nodes/slave-1/dead-letters?limit=5']);
  expect(result.out.trimEnd().split('\n')).toEqual([
    'slave-1: 2 messages listed of 2 in the dead-letter queue',
    'aaaa-1  SET ASIDE  sent 2026-12-07T08:00:00.000Z  24 bytes  origin master-1',
    '  reason: not an event: Unexpected token n',
    '  body: {"this is": not an event',
    'bbbb-2  FAILED EVENT  sent 2026-12-07T08:00:00.000Z  29 bytes  origin master-1',
    '  event: #7 modify workspace/topp',
    // A line feed of the body stays on its line.
    '  body: {"sequence":7,\\u000a"cluster":"geo"}',
    'to delete those set aside: geocluster dead-letters discard slave-1 aaaa-1 --yes',
    'events that failed go back to the queue (after a fix): geocluster redrive slave-1',
  ]);
});

test('list: an empty queue, a pure master, and a --limit out of range (exit 2, nothing sent)', async () => {
  cli.script = { 'GET /nodes/slave-1/dead-letters': { status: 200, body: { node: 'slave-1', deadLetterDepth: 0, messages: [], more: false } } };
  expect((await run('dead-letters', 'list', 'slave-1')).out.trimEnd()).toBe('slave-1: no dead-letter messages');
  cli.script = { 'GET /nodes/master-1/dead-letters': { status: 200, body: { node: 'master-1', deadLetterDepth: null, messages: [], more: false } } };
  expect((await run('dead-letters', 'list', 'master-1')).out).toContain('has no dead-letter queue');
  cli.server.requests.length = 0;
  const bad = await run('dead-letters', 'list', 'slave-1', '--limit', '101');
  expect({ code: bad.code, err: bad.err.split('\n')[0] }).toEqual({ code: 2, err: "geocluster: --limit must be a whole number from 1 to 100, got '101'" });
  expect(requested()).toEqual([]);
});

test('discard: refused without --yes, nothing sent; with it, the ids are sent and what was kept is named (exit 1)', async () => {
  cli.script = {
    'POST /nodes/slave-1/dead-letters/discard': {
      status: 200,
      body: { node: 'slave-1', discarded: ['aaaa-1'], kept: [{ messageId: 'bbbb-2', cause: 'NOT_SET_ASIDE', reason: 'not set aside by the apply function' }], more: false },
    },
  };
  const refused = await run('dead-letters', 'discard', 'slave-1', 'aaaa-1,bbbb-2');
  expect(refused.code).toBe(2);
  expect(refused.err).toContain('geocluster dead-letters discard slave-1 aaaa-1,bbbb-2 --yes');
  expect(requested()).toEqual([]);

  const result = await run('dead-letters', 'discard', 'slave-1', 'aaaa-1,bbbb-2', '--yes');
  expect(cli.server.requests.map((request) => [request.method, request.path, JSON.parse(request.body)])).toEqual([
    ['POST', '/nodes/slave-1/dead-letters/discard', { messageIds: ['aaaa-1', 'bbbb-2'] }],
  ]);
  expect({ code: result.code, out: result.out.trimEnd().split('\n') }).toEqual({
    code: 1,
    out: ['slave-1: 1 message discarded (aaaa-1), 1 message kept', '  kept bbbb-2: not set aside by the apply function'],
  });

  cli.script = { 'POST /nodes/slave-1/dead-letters/discard': { status: 200, body: { node: 'slave-1', discarded: ['aaaa-1'], kept: [], more: false } } };
  expect(await run('dead-letters', 'discard', 'slave-1', 'aaaa-1', '--yes')).toMatchObject({ code: 0, out: 'slave-1: 1 message discarded (aaaa-1)\n' });
});

test('discard: bad usage is refused before any request', async () => {
  for (const argv of [
    ['dead-letters', 'discard', 'slave-1', '--yes'],
    ['dead-letters', 'discard', 'slave-1', 'a,,b', '--yes'],
    ['dead-letters', 'discard', 'slave-1', 'a', 'b', '--yes'],
    ['dead-letters', 'list', 'slave-1', '--yes'],
    ['dead-letters', 'discard', 'slave-1', 'a', '--limit', '3', '--yes'],
    ['dead-letters', 'purge', 'slave-1'],
  ]) {
    const result = await run(...argv);
    expect({ argv, code: result.code }).toEqual({ argv, code: 2 });
  }
  expect(requested()).toEqual([]);
});
