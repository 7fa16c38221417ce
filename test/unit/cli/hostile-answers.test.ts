/**
 * The CLI against answers the cluster's API does not give, from a stand-in server on
 * 127.0.0.1: text a node, a WPS client or a GeoServer put in a status or a reason reaches the
 * terminal with its control characters escaped; an answer that is not the API's (a proxy's HTML
 * page, a gateway's error) is named as such, not as an unreachable cluster. And the files
 * `config publish` reads: one saved with a byte order mark, a path that is no file.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { runCli, type CliIo } from '../../../cli/main';
import { startCannedServer, type CannedAnswer, type CannedServer } from '../../support/canned-server';
import { runCliCollected, type CliRun } from '../../support/run-cli';

type Answer = CannedAnswer;

let server: CannedServer;
let url: string;
let scratch: string;
let answer: (method: string, path: string) => Answer;

beforeAll(async () => {
  scratch = mkdtempSync(path.join(tmpdir(), 'geocluster-hostile-'));
  server = await startCannedServer((request) => answer(request.method, request.path));
  url = server.url;
});

afterAll(async () => {
  await server.close();
  rmSync(scratch, { recursive: true, force: true });
});

beforeEach(() => {
  server.requests.length = 0;
});

function run(...argv: string[]): Promise<CliRun> {
  return runOn(false, ...argv);
}

function runOn(tty: boolean, ...argv: string[]): Promise<CliRun> {
  return runOnTerminal({ tty }, ...argv);
}

function runOnTerminal(terminal: { tty: boolean; columns?: number }, ...argv: string[]): Promise<CliRun> {
  return runCliCollected(argv, { ...terminal, env: { GEOCLUSTER_URL: url, GEOCLUSTER_TOKEN: 'master-1.abcdefghijklmnopqrstuvwxyz' }, cwd: scratch });
}

const json = (status: number, value: unknown): Answer => ({ status, body: JSON.stringify(value) });
/** What a terminal acts on: C0 controls (but the line breaks between lines) and C1 controls. */
const CONTROL = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F]/;

const hostileStatus = {
  executionId: 'e-1',
  processName: 'gs:Buffer\u001b]0;owned\u0007',
  phase: 'FAILED',
  progress: 40,
  task: 'buffering\u001b[2J\u001b[H',
  nodeId: 'slave-1',
  creationTime: '2026-12-04T03:00:00.000Z',
  lastUpdated: '2026-12-04T03:00:05.000Z',
  exception: { code: 'NoApplicableCode', message: 'bad geometry\rgeocluster: all good\u009b31m' },
  version: 4,
};

describe('text from an answer reaches the terminal with its control characters escaped', () => {
  it('executions get and watch: a status a node wrote', async () => {
    answer = () => json(200, hostileStatus);
    const got = await run('executions', 'get', 'e-1');
    expect(got.code).toBe(0);
    expect(got.out).not.toMatch(CONTROL);
    expect(got.out).toContain('task: buffering\\u001b[2J\\u001b[H');
    expect(got.out).toContain('error: NoApplicableCode bad geometry\\u000dgeocluster: all good\\u009b31m');
    const watched = await run('watch', 'e-1');
    expect(watched.code).toBe(4);
    expect(watched.out).not.toMatch(CONTROL);
    expect(watched.out).toContain('FAILED  buffering\\u001b[2J\\u001b[H');
    // On a terminal the bar redraws in place: its own carriage return and erase-line, no other control.
    const drawn = await runOn(true, 'watch', 'e-1');
    const [bar, ...after] = drawn.out.split('\n');
    expect(bar).toBe('\r[############------------------]  40% FAILED  buffering\\u001b[2J\\u001b[H\u001b[K');
    expect(after.join('\n')).not.toMatch(CONTROL);
  });

  it('nodes: a reason a GeoServer gave, under the table', async () => {
    const at = '2026-12-04T03:00:00.000Z';
    answer = () =>
      json(200, {
        head: 9,
        nodes: [
          {
            name: 'slave-1', role: 'slave', lastAppliedSequence: 7, lag: 2, queueDepth: 0, deadLetterDepth: 0, paused: false,
            failing: { sequence: 8, attempts: 2, reason: '500 from GeoServer: \u001b[8mhidden', at },
            parked: [{ object: { type: 'layer', id: 'topp:roads' }, sequences: [9], reason: 'refused\u001b[1A\u001b[2K', attempts: 3, parkedAt: at }],
          },
        ],
      });
    const nodes = await run('nodes');
    expect(nodes.code).toBe(0);
    expect(nodes.out).not.toMatch(CONTROL);
    expect(nodes.out).toContain('slave-1: retrying event 8 (attempt 2): 500 from GeoServer: \\u001b[8mhidden');
  });

  it('executions list: a line feed in a process name stays in its row of the table', async () => {
    answer = () => json(200, { executions: [{ ...hostileStatus, processName: 'gs:Buffer\ngs:Forged  RUNNING' }] });
    const listed = await run('executions', 'list');
    expect(listed.code).toBe(0);
    expect(listed.out.trim().split('\n')).toEqual([expect.stringMatching(/^EXECUTION/), expect.stringMatching(/^e-1 +gs:Buffer\\u000ags:Forged {2}RUNNING/)]);
  });

  it("an error's message, as the API (or what stands in its place) wrote it", async () => {
    answer = () => json(400, { code: 'INVALID_REQUEST', message: 'no such process \u001b[31mgs:X', field: 'processName' });
    const refused = await run('executions', 'get', 'e-1');
    expect(refused.code).toBe(1);
    expect(refused.err).not.toMatch(CONTROL);
    expect(refused.err).toContain('400 INVALID_REQUEST: no such process \\u001b[31mgs:X (field processName)');
  });
});

describe('an answer that is not the API\'s is named as such', () => {
  it('a 200 that is not JSON (a proxy\'s page, another server at --url): exit 1, not "cannot reach the API"', async () => {
    answer = () => ({ status: 200, body: '<html><body>Sign in to continue</body></html>', type: 'text/html' });
    const run1 = await run('nodes');
    expect(run1.code).toBe(1);
    expect(run1.err).not.toContain('cannot reach');
    expect(run1.err).toMatch(/^geocluster: GET \/nodes: the answer \(200\) is not JSON: is --url the cluster's API\?/);
  });

  it('a 200 whose JSON is not an object (null)', async () => {
    answer = () => ({ status: 200, body: 'null' });
    const run1 = await run('executions', 'get', 'e-1');
    expect(run1.code).toBe(1);
    expect(run1.err).toMatch(/^geocluster: GET \/executions\/e-1: the answer \(200\) is not a JSON object: is --url the cluster's API\?/);
  });

  it('config publish: a 201 that is not JSON is named at once, not retried as if no answer came', async () => {
    const file = path.join(scratch, 'change.json');
    writeFileSync(file, JSON.stringify({ kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } }));
    answer = () => ({ status: 201, body: '<html><body>Sign in to continue</body></html>', type: 'text/html' });
    const published = await run('config', 'publish', file);
    expect({ code: published.code, err: published.err }).toEqual({
      code: 1,
      err: "geocluster: POST /config/events: the answer (201) is not JSON: is --url the cluster's API?\n",
    });
    expect(server.requests).toHaveLength(1);
    // Room for the code before, which retried it as "no answer": 5 requests, 10 s of waits.
  }, 20_000);

  it.each([
    [429, 'Too Many Requests', /^geocluster: 429 Too Many Requests \(throttled: try again in a while\)$/m],
    [500, 'Internal Server Error', /^geocluster: 500 Internal Server Error$/m],
    [413, 'Request Entity Too Large', /^geocluster: 413 Request Entity Too Large$/m],
    [404, 'Not Found', /^geocluster: 404 Not Found \(no such route: is --url the cluster's API, with its stage\?\)$/m],
  ])('an error answer without a code (%i, a gateway\'s) is named by its message', async (status, message, expected) => {
    answer = () => json(status, { message });
    const refused = await run('nodes');
    expect(refused.code).toBe(1);
    expect(refused.err).toMatch(expected);
  });
});

describe('config publish <file>', () => {
  it('a file that starts with a byte order mark (as some editors save JSON) is read as the JSON it holds', async () => {
    const file = path.join(scratch, 'bom.json');
    const change = { kind: 'add', object: { type: 'workspace', id: 'topp' }, properties: { name: 'topp' } };
    writeFileSync(file, `\uFEFF${JSON.stringify(change)}`);
    answer = () => json(201, { sequence: 12, event: { sequence: 12, cluster: 'demo', origin: 'master-1', publishedAt: '2026-12-04T03:00:00.000Z', ...change }, published: true, appliedLocally: true });
    const published = await run('config', 'publish', file);
    expect({ code: published.code, err: published.err, out: published.out }).toEqual({ code: 0, err: '', out: 'sequence 12\n' });
    expect(server.requests.map((request) => [request.method, request.path, JSON.parse(request.body)])).toEqual([['POST', '/config/events', change]]);
  });

  it('a directory is named as one that cannot be read, not as a file that is not JSON (exit 2, nothing sent)', async () => {
    const refused = await run('config', 'publish', scratch);
    expect(refused.code).toBe(2);
    expect(refused.err).toBe(`geocluster: cannot read ${scratch}: it is a directory\n`);
    expect(server.requests).toEqual([]);
  });
});

describe('what the CLI says and refuses, beyond control characters', () => {
  it('escapes the characters that reorder text on screen (a right-to-left override in a task)', async () => {
    answer = () => json(200, { ...hostileStatus, task: 'step \u202Edesufer\u202C done' });
    const got = await run('executions', 'get', 'e-1');
    expect(got.out).toContain('task: step \\u202edesufer\\u202c done');
    expect(got.out).not.toMatch(/[\u202A-\u202E\u2066-\u2069]/);
  });

  it('refuses a token the authorizer could not read, without sending it', async () => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (text) => (out += text), err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: url, GEOCLUSTER_TOKEN: 'bad' }, cwd: scratch };
    expect(await runCli(['nodes'], io)).toBe(2);
    expect(err).toMatch(/the token in GEOCLUSTER_TOKEN is not <name>\.<secret>/);
    expect(err).not.toContain('bad\n');
    expect(out).toBe('');
    expect(server.requests).toEqual([]);
  });

  // A token pasted short, or a name mistyped, reads as a token to the eye: the refusal says which
  // part is wrong, never the secret itself.
  it.each([
    ['cut short', 'master-1.abc', /secret is 3 characters: a token's secret is at least 20 \(token issue prints 43\); was it cut short\?/],
    ['without the name', 'tJMv8bGMhKn1VR23sYGfB256z9b3Dx25LvIVCpQ46U', /has no '\.': a token is the node or operator name, a dot, then the secret/],
    ['with a name no node can have', 'Master_1.tJMv8bGMhKn1VR23sYGfB256z9b3Dx25LvIVCpQ46U', /name 'Master_1' must be 1-31 lowercase letters/],
    ['with a character no secret holds', 'master-1.tJMv8bGMhKn1VR23sYGfB256z9b3Dx25+vIVCpQ46U', /secret holds a character other than letters, digits, - and _/],
  ])('says what is wrong with a token %s, without sending or printing it', async (_label, token, reason) => {
    let err = '';
    const io: CliIo = { out: () => undefined, err: (text) => (err += text), tty: false, env: { GEOCLUSTER_URL: url }, cwd: scratch };
    expect(await runCli(['nodes', '--token', token], io)).toBe(2);
    expect(err).toMatch(/the token in --token is not <name>\.<secret>/);
    expect(err).toMatch(reason);
    expect(err).not.toContain(token.slice(token.indexOf('.') + 1, token.indexOf('.') + 12));
    expect(server.requests).toEqual([]);
  });

  it("says what a pause did to the node's queue, a pure master's included", async () => {
    const since = '2026-12-05T10:00:00.000Z';
    answer = (_method, where) => json(200, where.endsWith('/pause') ? { node: 'master-1', paused: true, since, by: 'master-1', consumption: 'none' } : { node: 'slave-1', paused: false, consumption: 'enabled' });
    const paused = await run('pause', 'master-1');
    expect(paused.out).toBe(`master-1 paused (since ${since}, by master-1); a pure master has no queue to stop or restart: a pause refuses its publishes only\n`);
    const resumed = await run('resume', 'slave-1');
    expect(resumed.out).toBe('slave-1 resumed; its queue delivers what it kept, in order\n');
  });
});

describe('a line feed in text from an answer does not start a line of its own', () => {
  // A line that text from an answer began: what a terminal shows as the CLI's own line.
  const forged = /^(geocluster: all good|slave-2: |succeeded: http|  node: master-1)/m;
  const at = '2026-12-04T03:00:00.000Z';
  const failedJob = {
    id: 'j-1', node: 'slave-1', kind: 'reconcile', state: 'failed', phase: 'done', progress: {}, createdAt: at, updatedAt: at, finishedAt: at,
    error: 'GeoServer refused\nslave-2: RESYNC INCOMPLETE',
    failures: [{ type: 'layer', id: 'topp:roads', message: 'refused\ngeocluster: all good' }],
  };

  it('nodes: each note under the table stays one line', async () => {
    answer = () =>
      json(200, {
        head: 9,
        nodes: [
          {
            name: 'slave-1', role: 'slave', lastAppliedSequence: 7, lag: 2, queueDepth: 0, deadLetterDepth: 0, paused: false,
            failing: { sequence: 8, attempts: 2, reason: '500 from GeoServer\ngeocluster: all good', at },
            parked: [{ object: { type: 'layer', id: 'topp:roads' }, sequences: [9], reason: 'refused\nslave-2: PARKED nothing', attempts: 3, parkedAt: at }],
            geoserver: {
              url: 'http://gs-1:8080/geoserver', reachable: false, version: null, checkedAt: at, rejected: [], unclearedProperties: [],
              lastError: { message: 'connection reset\nslave-2: GeoServer fine', status: null, sequence: 8, at },
            },
            job: failedJob,
          },
        ],
      });
    const nodes = await run('nodes');
    expect(nodes.err).toBe('');
    expect(nodes.code).toBe(0);
    expect(nodes.out).not.toMatch(forged);
    expect(nodes.out).toContain('slave-1: retrying event 8 (attempt 2): 500 from GeoServer\\u000ageocluster: all good');
    expect(nodes.out).toContain('refused\\u000aslave-2: PARKED nothing; after a fix: geocluster redrive slave-1');
  });

  it('job: its error and each failure stay one line', async () => {
    answer = () => json(200, { job: failedJob });
    const job = await run('job', 'slave-1', 'j-1');
    expect(job.err).toBe('');
    expect(job.out).not.toMatch(forged);
    expect(job.out).toContain('  failed: layer/topp:roads: refused\\u000ageocluster: all good');
  });

  it('executions get and watch: a task and an exception a node wrote', async () => {
    answer = () => json(200, { ...hostileStatus, task: 'buffering\n  node: master-1', exception: { code: 'NoApplicableCode', message: 'bad geometry\nsucceeded: http://example.com/result' } });
    const got = await run('executions', 'get', 'e-1');
    expect(got.out).not.toMatch(forged);
    expect(got.out).toContain('  task: buffering\\u000a  node: master-1');
    const watched = await run('watch', 'e-1');
    expect(watched.code).toBe(4);
    expect(watched.out).not.toMatch(forged);
    expect(watched.out).toContain('failed: NoApplicableCode bad geometry\\u000asucceeded: http://example.com/result');
  });

  it("an error's message", async () => {
    answer = () => json(400, { code: 'INVALID_REQUEST', message: 'no such process gs:X\ngeocluster: all good', field: 'processName' });
    const refused = await run('executions', 'get', 'e-1');
    expect(refused.code).toBe(1);
    expect(refused.err).not.toMatch(forged);
    expect(refused.err).toContain('400 INVALID_REQUEST: no such process gs:X\\u000ageocluster: all good (field processName)');
  });
});

describe('watch on a terminal', () => {
  it("cuts the progress bar's line to the terminal's width: a longer task would wrap, and each redraw leave a copy on screen", async () => {
    answer = () => json(200, { ...hostileStatus, task: `tiling ${'level '.repeat(150)}`, exception: undefined, phase: 'SUCCEEDED', progress: 100 });
    const drawn = await runOnTerminal({ tty: true, columns: 60 }, 'watch', 'e-1');
    expect(drawn.code).toBe(0);
    const [bar] = drawn.out.split('\n');
    expect(bar).toBe(`\r[##############################] 100% SUCCEEDED  tiling le…\u001b[K`);
    // The line within the width: the cursor never reaches the last column, where a terminal wraps.
    expect([...bar!.slice(1, -'\u001b[K'.length)].length).toBe(59);
    // Without a width (not known), the line is written whole.
    const whole = await runOn(true, 'watch', 'e-1');
    expect(whole.out.split('\n')[0]).toContain(`tiling ${'level '.repeat(150).trimEnd()}`);
  });
});
