// The operator console in a real headless browser (Debian's chromium, driven by playwright-core)
// against the local cluster: the page loads and shows the nodes, executions are listed once a
// token is entered (listings need one) and a progress bar follows what a node writes, and a
// redrive works with a node's token and is refused without one or with the read-only operator's;
// a message set aside in a node's dead-letter queue is listed and discarded from the page.
// CONSOLE_SCREENSHOT=docs/console.png also saves a screenshot of the page (for the README).
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import { SendMessageCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { chromium, type Browser, type Dialog, type Page, type Request } from 'playwright-core';
import type { components } from '../../../cli/api-types';
import { api, clusterUrl, tokenOf, type JsonBody } from '../../support/cluster-client';
import { deadLetterEvent, nodeQueues } from '../../support/dead-letter-event';

type NodeState = components['schemas']['NodeState'];
type NodeJob = components['schemas']['NodeJob'];

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
jest.setTimeout(60_000);
let browser: Browser;
/**
 * The one page every test drives. A test's routes are removed with `unrouteAll({ behavior: 'wait' })`:
 * the page polls on its own, and a handler still fetching when its route is removed would fulfil a
 * request Playwright has already let through ("Route is already handled"), failing the whole file.
 */
let page: Page;
const consoleErrors: string[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(String(error)));
});

afterAll(async () => {
  await browser?.close();
});

const put = (id: string, body: JsonBody<'PUT', `/executions/${string}`>) => api('PUT', `/executions/${id}`, { node: 'master-1', json: body });
const bar = (id: string) => page.locator(`tr[data-execution="${id}"] [role=progressbar]`);

describe('the console at /console', () => {
  it('loads, asks for a token, and then shows every node with its cursor, lag, queue and dead-letter depth', async () => {
    const response = await page.goto(`${clusterUrl()}/console`);
    expect(response?.status()).toBe(200);
    // The page takes a token: its own script only (by hash), not framed, not sniffed, no referrer.
    const headers = response?.headers() ?? {};
    expect(headers['content-security-policy']).toContain("default-src 'none'");
    expect(headers['content-security-policy']).toMatch(/script-src 'sha256-[A-Za-z0-9+/]+=*';/);
    expect(headers['content-security-policy']).not.toContain('unsafe-');
    expect(headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(headers['content-security-policy']).toContain("form-action 'none'");
    expect(headers).toMatchObject({ 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer' });
    // Not framed by a browser that predates frame-ancestors either, and no other window keeps a handle on the tab that holds the token.
    expect(headers).toMatchObject({ 'x-frame-options': 'DENY', 'cross-origin-opener-policy': 'same-origin', 'cross-origin-resource-policy': 'same-origin' });
    // The nodes' state needs a token, as GET /nodes does.
    await page.locator('#nodes-hint').waitFor();
    expect(await page.locator('#nodes tbody tr').count()).toBe(0);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    await page.locator('#nodes tbody tr').nth(2).waitFor();
    expect(await page.locator('#nodes-hint').isHidden()).toBe(true);
    const rows = await page.locator('#nodes tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].slice(0, 6).map((td) => td.textContent)));
    expect(rows.map((row) => row.slice(0, 2))).toEqual([
      ['master-1', 'master'],
      ['slave-1', 'slave'],
      ['slave-2', 'slave'],
    ]);
    // A pure master has no queue: shown as a dash, numbers for the slaves.
    expect(rows[0]![4]).toBe('–');
    expect(rows[1]![4]).toMatch(/^\d+$/);
    // The head says what it is, and what the Cursor column beside it is.
    expect(await page.locator('#head').textContent()).toMatch(/^log head \d+ \(the newest sequence in the configuration event log; Cursor: the last one a node applied\)$/);
    await expectText('#events-updated', /^log head \d+ \(the newest sequence in the configuration event log\)$/);
  });

  it('shows what holds a node back and, in a cluster with GeoServers, how each GeoServer is and its latest job', async () => {
    // The shared cluster has no GeoServer node and nothing failing: the page's reads of
    // GET /nodes are answered with the real answer, two nodes given what such nodes report.
    const now = new Date().toISOString();
    const job: NodeJob = {
      id: 'job-7', node: 'slave-1', kind: 'reconcile', state: 'running', phase: 'fix', progress: { toFix: 6, fixed: 2, failed: 0 },
      failures: [], createdAt: now, updatedAt: now, finishedAt: null, error: null,
    };
    const slave1: Partial<NodeState> = {
      failing: { sequence: 41, attempts: 3, reason: 'GeoServer answered 503', at: now },
      parked: [
        { object: { type: 'layer', id: 'topp:roads' }, sequences: [38, 40], reason: '400 from GeoServer: no such style', attempts: 3, parkedAt: now },
        // A redrive applied its listed sequences and stopped before reading its overflow back.
        { object: { type: 'layer', id: 'topp:big' }, sequences: [], overflow: { from: 1051, through: 2000 }, reason: 'refused', attempts: 3, parkedAt: now },
        // An overflow of one event is named as that one event, not as a run.
        { object: { type: 'layer', id: 'topp:lakes' }, sequences: [], overflow: { from: 2001, through: 2001 }, reason: 'refused', attempts: 3, parkedAt: now },
      ],
      geoserver: {
        url: 'http://10.0.3.21:8080/geoserver', reachable: false, version: '2.26.2', checkedAt: now,
        lastError: { message: 'connect ECONNREFUSED 10.0.3.21:8080', status: null, sequence: 41, at: now }, rejected: [], unclearedProperties: [],
      },
      job,
    };
    const slave2: Partial<NodeState> = {
      geoserver: {
        url: 'http://10.0.3.22:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now, lastError: null,
        // A change whose call the GeoServer never answered (no status), as a refused one is listed.
        rejected: [{ sequence: 7, type: 'dataStore', id: 'topp:slow', request: 'POST /workspaces/topp/datastores', status: null, answer: 'no answer within the call\'s time', at: now }],
        unclearedProperties: [],
      },
      job: { ...job, id: 'job-8', node: 'slave-2', kind: 'drift', state: 'succeeded', phase: 'done', progress: { compared: 12, missing: 2, extra: 0, different: 1 }, finishedAt: now },
      resync: { job: 'job-9', state: 'incomplete', storeIncomplete: true, error: 'source unreachable', resume: 'POST /nodes/slave-2/resync' },
    };
    // A pure master whose resync failed before its copy began: nothing holds it, the failed job says why.
    const master1: Partial<NodeState> = {
      job: {
        ...job, id: 'job-6', node: 'master-1', kind: 'resync', state: 'failed', phase: 'bootstrap', source: 'master-2', progress: { missing: 0, copied: 0 },
        finishedAt: now, error: 'Error: source node master-2 is being resynced itself (job job-5)',
      },
    };
    const overrides: Record<string, Partial<NodeState>> = { 'master-1': master1, 'slave-1': slave1, 'slave-2': slave2 };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      const nodes = answer.nodes.map((node) => ({ ...node, ...overrides[node.name] }));
      await route.fulfill({ response, json: { ...answer, nodes } });
    });
    try {
      await page.locator('#nodes-geoserver').waitFor();
      const row = (name: string) => page.locator(`#nodes tr[data-node="${name}"] td`);
      await page.locator('#nodes tr[data-node="slave-1"] .pill', { hasText: 'retrying #41' }).waitFor({ timeout: 10_000 });
      expect(await row('slave-1').nth(6).textContent()).toBe('active retrying #41 4+ parked');
      expect(await row('slave-1').nth(6).locator('.pill').nth(1).getAttribute('title')).toBe('attempt 3: GeoServer answered 503');
      expect(await row('slave-1').nth(6).locator('.pill').nth(2).getAttribute('title')).toBe(
        'layer/topp:roads #38, #40: 400 from GeoServer: no such style\nlayer/topp:big its events #1051-2000: refused\nlayer/topp:lakes its event #2001: refused\n' +
          'redrive after a fix',
      );
      expect(await row('slave-1').nth(7).textContent()).toBe('unreachable reconcile running (fix) 2/6');
      expect(await row('slave-1').nth(7).locator('.pill').getAttribute('title')).toBe('http://10.0.3.21:8080/geoserver: connect ECONNREFUSED 10.0.3.21:8080');
      expect(await row('slave-2').nth(6).textContent()).toBe('active resync incomplete');
      expect(await row('slave-2').nth(7).textContent()).toBe('reachable 2.26.2 1 refused drift succeeded · 2 missing, 0 extra, 1 different');
      expect(await row('slave-2').nth(7).locator('.pill', { hasText: 'refused' }).getAttribute('title')).toBe("#7 POST /workspaces/topp/datastores: no answer within the call's time");
      expect(await row('master-1').nth(6).textContent()).toBe('active resync failed');
      expect(await row('master-1').nth(6).locator('.pill').nth(1).getAttribute('title')).toBe(
        'job job-6: Error: source node master-2 is being resynced itself (job job-5)\nafter a fix: resync again',
      );
      // A node without a GeoServer shows a dash there; its actions stay in the last column (no "differences": it has no GeoServer to check).
      expect(await row('master-1').nth(7).textContent()).toBe('–');
      expect(await row('master-1').nth(8).locator('button').allTextContents()).toEqual(['pause']);
      // A GeoServer node also gets its jobs (no capture on a slave), and "differences" once a check found some.
      expect(await row('slave-1').nth(8).locator('button').allTextContents()).toEqual(['pause', 'redrive', 'resync', 'check drift', 'reconcile']);
      expect(await row('slave-2').nth(8).locator('button').allTextContents()).toEqual(['pause', 'redrive', 'resync', 'check drift', 'reconcile', 'differences']);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    // Without GeoServer nodes, no GeoServer column.
    await page.locator('#nodes-geoserver').waitFor({ state: 'hidden', timeout: 10_000 });
    expect(await page.locator('#nodes tr[data-node="slave-1"] td').nth(6).textContent()).toBe('active');
    // Forgetting the token empties the table: what the nodes hold is not left on the page.
    await page.click('#token-clear');
    await page.locator('#nodes-hint').waitFor();
    await page.locator('#nodes tbody tr').first().waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('marks a node whose latest job succeeded but left objects unfixed: how many, the first, and where they are listed', async () => {
    const now = new Date().toISOString();
    const job: NodeJob = {
      id: 'job-11', node: 'slave-1', kind: 'reconcile', state: 'succeeded', phase: 'done', progress: { toFix: 30, fixed: 5, failed: 25 },
      failures: [{ type: 'layer', id: 'topp:roads', message: 'PUT /rest/layers/topp:roads: 400 no such style' }],
      createdAt: now, updatedAt: now, finishedAt: now, error: null,
    };
    const geoserver: NodeState['geoserver'] = { url: 'http://10.0.3.21:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now, lastError: null, rejected: [], unclearedProperties: [] };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'slave-1' ? { ...node, geoserver, job } : node)) } });
    });
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      const unfixed = page.locator('#nodes tr[data-node="slave-1"] td').nth(6).locator('.pill', { hasText: 'unfixed' });
      await unfixed.waitFor({ timeout: 10_000 });
      expect(await page.locator('#nodes tr[data-node="slave-1"] td').nth(6).textContent()).toBe('active reconcile: 25 unfixed');
      expect(await unfixed.getAttribute('title')).toBe(
        'job job-11 succeeded but could not fix 25 objects; first layer/topp:roads: PUT /rest/layers/topp:roads: 400 no such style\n' +
          'the first 1 listed: geocluster job slave-1 job-11\nafter a fix: reconcile again',
      );
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.locator('#nodes tr[data-node="slave-1"] td .pill', { hasText: 'unfixed' }).waitFor({ state: 'detached', timeout: 10_000 });
    // As the test before it left the page: no token.
    await page.click('#token-clear');
    await page.locator('#nodes-hint').waitFor();
  });

  /** Opens the console as an operator, with slave-1's row of GET /nodes answered as `slave1` says; waits for its parked pill. */
  async function showSlave1As(slave1: Partial<NodeState>): Promise<void> {
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'slave-1' ? { ...node, ...slave1 } : node)) } });
    });
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    await page.locator('#nodes tr[data-node="slave-1"] td').nth(6).locator('.pill', { hasText: 'parked' }).waitFor({ timeout: 10_000 });
  }
  it("shows text a GeoServer, a node or a master wrote as text: its markup is not drawn, and its line breaks start no line of a node's tooltip", async () => {
    const now = new Date().toISOString();
    // Markup that would draw an element and run a handler if the page built HTML from it.
    const markup = '<img src=x onerror="document.title=1"><b id="injected">x</b>';
    const job: NodeJob = {
      id: 'job-12', node: 'slave-1', kind: 'reconcile', state: 'failed', phase: 'fix', progress: { toFix: 3, fixed: 0, failed: 3 },
      failures: [], createdAt: now, updatedAt: now, finishedAt: now, error: `PUT /rest/layers/x: 500 ${markup}\r\nafter a fix: capture again`,
    };
    const geoserver: NodeState['geoserver'] = {
      url: 'http://10.0.3.21:8080/geoserver', reachable: false, version: null, checkedAt: now, unclearedProperties: [],
      lastError: { message: `reset ${markup}\nhttp://10.0.3.22:8080/geoserver: ok`, status: null, sequence: 41, at: now },
      rejected: [{ sequence: 40, type: 'layer', id: 'topp:roads', request: 'PUT /rest/layers/topp:roads', status: 400, answer: `no such style ${markup}\n#39 PUT /rest/layers/topp:lakes: 200 ok`, at: now }],
    };
    const slave1: Partial<NodeState> = {
      geoserver, job,
      failing: { sequence: 41, attempts: 3, reason: `GeoServer answered 503 ${markup}\rattempt 1: fine`, at: now },
      parked: [{ object: { type: 'layer', id: `topp:${markup}` }, sequences: [38], reason: 'refused\nlayer/topp:lakes #39: nothing to redrive', attempts: 3, parkedAt: now }],
    };
    try {
      await showSlave1As(slave1);
      const state = page.locator('#nodes tr[data-node="slave-1"] td').nth(6);
      expect(await page.locator('#injected, main img').count()).toBe(0);
      expect(await page.title()).toBe('GeoServer cluster console');
      const title = async (cell: ReturnType<Page['locator']>, text: string) => cell.locator('.pill', { hasText: text }).getAttribute('title');
      // Each tooltip holds the lines the page wrote: what an answer brought stays on its own.
      expect(await title(state, 'retrying')).toBe(`attempt 3: GeoServer answered 503 ${markup}↵attempt 1: fine`);
      expect(await title(state, 'parked')).toBe(`layer/topp:${markup} #38: refused↵layer/topp:lakes #39: nothing to redrive\nredrive after a fix`);
      expect(await title(state, 'reconcile failed')).toBe(`job job-12: PUT /rest/layers/x: 500 ${markup}↵after a fix: capture again\nafter a fix: reconcile again`);
      const geoServer = page.locator('#nodes tr[data-node="slave-1"] td').nth(7);
      expect(await title(geoServer, 'unreachable')).toBe(`http://10.0.3.21:8080/geoserver: reset ${markup}↵http://10.0.3.22:8080/geoserver: ok`);
      expect(await title(geoServer, 'refused')).toBe(`#40 PUT /rest/layers/topp:roads: 400 no such style ${markup}↵#39 PUT /rest/layers/topp:lakes: 200 ok`);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.click('#token-clear');
    await page.locator('#nodes-hint').waitFor();
  });

  // The CLI writes these characters as \u escapes (cli/main.ts `printable`); the page wrote them
  // into its tooltips as they came, where an object id ending in U+202E showed the page's own
  // " #38: refused" after it right to left.
  it("shows the characters that reorder text in what an answer brought as escapes: none turns the page's own words around", async () => {
    const now = new Date().toISOString();
    const slave1: Partial<NodeState> = {
      failing: { sequence: 41, attempts: 3, reason: 'GeoServer answered \u2067503\u2069 \u200fok', at: now },
      parked: [{ object: { type: 'layer', id: 'topp:roads\u202e' }, sequences: [38], reason: 'refused', attempts: 3, parkedAt: now }],
    };
    try {
      await showSlave1As(slave1);
      const state = page.locator('#nodes tr[data-node="slave-1"] td').nth(6);
      const title = async (text: string) => state.locator('.pill', { hasText: text }).getAttribute('title');
      expect(await title('parked')).toBe('layer/topp:roads\\u202e #38: refused\nredrive after a fix');
      expect(await title('retrying')).toBe('attempt 3: GeoServer answered \\u2067503\\u2069 \\u200fok');
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.click('#token-clear');
    await page.locator('#nodes-hint').waitFor();
  });

  it('lists executions once an operator token is entered, and a progress bar moves as the node writes progress', async () => {
    const id = randomUUID();
    await put(id, { processName: 'gs:Buffer', phase: 'QUEUED' });
    await put(id, { phase: 'RUNNING', progress: 20, task: 'buffering' });
    // Without a token the page asks for one and lists nothing.
    await page.locator('#executions-hint').waitFor();
    expect(await page.locator('#executions tbody tr').count()).toBe(0);
    expect(await page.locator('#events-hint').isVisible()).toBe(true);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    await bar(id).waitFor();
    expect(await page.locator('#executions-hint').isHidden()).toBe(true);
    await expectAttribute(id, '20');
    await put(id, { phase: 'RUNNING', progress: 75, task: 'writing' });
    await expectAttribute(id, '75');
    expect(await page.locator(`tr[data-execution="${id}"]`).textContent()).toContain('writing');
    if (process.env.CONSOLE_SCREENSHOT) {
      await put(randomUUID(), { processName: 'gs:Clip', phase: 'QUEUED' });
      await page.waitForTimeout(1500);
      await page.screenshot({ path: path.resolve(process.env.CONSOLE_SCREENSHOT), fullPage: true });
    }
    await put(id, { phase: 'SUCCEEDED', progress: 100 });
    // Finished executions leave the default filter (active phases)...
    await bar(id).waitFor({ state: 'detached' });
    // ...and show with the succeeded filter on.
    await page.locator('#phases input[value=SUCCEEDED]').check();
    await expectAttribute(id, '100');
  });

  it('shows a change in the recent event log as soon as a master publishes it', async () => {
    // The operator token entered in the test before reads the log.
    const id = `console-${randomUUID().slice(0, 8)}`;
    const published = await api('POST', '/config/events', { node: 'master-1', json: { kind: 'add', object: { type: 'workspace', id }, properties: { workspace: { name: id } } } });
    expect(published.status).toBe(201);
    const row = page.locator(`#events tr[data-sequence="${published.body.sequence}"]`);
    await row.waitFor({ timeout: 10_000 });
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 4)).toEqual([String(published.body.sequence), 'add', `workspace/${id}`, 'master-1']);
    // Newest on top.
    expect(await page.locator('#events tbody tr').first().getAttribute('data-sequence')).toBe(String(published.body.sequence));
  });

  it('shows a void (a sequence given up, nothing under it) as such, not as an unreadable event', async () => {
    // A void comes from a publisher that lost a race; making one here would leave it at the end of
    // the log the other test files share. The page's reads of the log are answered with the real
    // answer plus a void after its last event, as GET /config/events summarizes one.
    await page.route('**/config/events?*', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { head: number; events: { sequence: number }[] };
      const voided = answer.head + 1;
      const void_ = { sequence: voided, origin: 'log', publishedAt: new Date().toISOString(), kind: null, object: null, offloaded: false, voided: true };
      await route.fulfill({ response, json: { ...answer, head: voided, events: [...answer.events, void_] } });
    });
    try {
      await page.locator('#events tbody tr .pill.void').first().waitFor({ timeout: 10_000 });
      const cells = await page.locator('#events tbody tr').first().locator('td').allTextContents();
      expect(Number(cells[0])).toBeGreaterThan(1);
      expect([cells[1], cells[2], cells[5]]).toEqual(['void', '–', 'sequence given up, nothing committed']);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it("a redrive is refused with the operator's token and a wrong one, and works with the node's; the token stays in session storage", async () => {
    // The operator token of the test before lists and reads, but writes nothing.
    await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
    await expectMessage(/redrive slave-1 refused: 403 FORBIDDEN: ops is a read-only operator/);

    // A refused token: the panels, refreshed every second or two, say so beside their titles, and
    // an action still on the page is refused by the API, its answer left in place.
    await page.fill('#token', 'slave-1.not-the-secret');
    await page.click('#token-save');
    await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
    await expectMessage(/redrive slave-1 refused: 403/);
    await expectText('#nodes-updated', /^not refreshed: 40[13] /);
    await expectText('#executions-updated', /^not refreshed: 40[13] /);
    await expectText('#events-updated', /^not refreshed: 40[13] /);
    await page.waitForTimeout(2_500);
    expect(await page.locator('#message').textContent()).toMatch(/^redrive slave-1 refused: 403/);

    await page.fill('#token', tokenOf('slave-1'));
    await page.click('#token-save');
    expect(await page.inputValue('#token')).toBe('');
    await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
    await expectMessage(/^slave-1: \d+ events? moved back to the queue$/);
    // The count is worded for the number it holds: the API's answer, one event moved.
    await page.route('**/nodes/slave-1/redrive', async (route) => {
      const response = await route.fetch();
      await route.fulfill({ response, json: { ...((await response.json()) as object), moved: 1 } });
    });
    try {
      // The real answer's message above may have said one event already: cleared, so the one read below is this answer's.
      await page.evaluate(() => ((globalThis as unknown as { document: Doc }).document.querySelector('#message')!.textContent = ''));
      await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
      await expectMessage(/^slave-1: 1 event moved back to the queue$/);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    expect(await page.evaluate(() => sessionStorage.getItem('geocluster.token'))).toBe(tokenOf('slave-1'));
    expect(await page.evaluate(() => localStorage.length)).toBe(0);
    expect(page.url()).not.toContain(tokenOf('slave-1').split('.')[1]!);

    // A slave's token may not act on another node: the API's refusal is shown.
    await page.locator('tr[data-node="slave-2"] button[data-action=redrive]').click();
    await expectMessage(/redrive slave-2 refused: 403 FORBIDDEN/);
    expect(consoleErrors.filter((error) => !/status of 40[13]/.test(error))).toEqual([]);
  });

  it("pauses and resumes a node with its own token: the answer, the node's state and its button follow", async () => {
    // The token of the test before: slave-1's.
    const slave1 = page.locator('tr[data-node="slave-1"]');
    // A pure master has no queue: pause and resume only.
    expect(await page.locator('tr[data-node="master-1"] button').allTextContents()).toEqual(['pause']);
    // A pause asks first (the test after "asks before a pause" holds what it asks).
    page.once('dialog', (dialog) => void dialog.accept());
    await slave1.locator('button[data-action=pause]').click();
    try {
      // A pause is answered once the node's batch in flight has finished (as in AWS). Right after
      // the redrive above, that batch holds the dead letters put back, and it can run past 10 s: in
      // a CI run (2026-12-05) it took 15 s, and the pause's answer came with its end.
      await expectMessage(/^slave-1 paused: its queue keeps every event; consumption disabled$/, 30_000);
      await slave1.locator('.pill.paused', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
      // Since when, as a time of today.
      expect(await slave1.locator('.pill.paused').getAttribute('title')).toMatch(/^by slave-1 since \d{1,2}:\d{2}:\d{2}/);
      expect((await api('GET', '/nodes', { node: 'ops' })).body.nodes.find((node: { name: string }) => node.name === 'slave-1')).toMatchObject({ paused: true, pausedBy: 'slave-1' });
      await slave1.locator('button[data-action=resume]').click();
      await expectMessage(/^slave-1 resumed: its queue delivers what accumulated, in order; consumption enabled$/);
    } finally {
      // Whatever happened above, the node consumes again for the tests after this one.
      await api('POST', '/nodes/slave-1/resume', { node: 'slave-1' });
    }
    await slave1.locator('button[data-action=pause]').waitFor({ timeout: 10_000 });
    expect(await slave1.locator('td').nth(6).textContent()).toBe('active');
  });

  it('after a pause, the nodes are read again at once: a read on its way from before it neither holds that back nor is drawn over it', async () => {
    // The token of the tests before: slave-1's. The timer's next read of the nodes is answered
    // with the state before the pause, and only once the pause has been answered.
    let holding = false;
    let held: Promise<void> | undefined;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/nodes', async (route) => {
      if (holding) return route.continue();
      holding = true;
      const before = await route.fetch();
      held = released.then(() => route.fulfill({ response: before }));
      return held;
    });
    const slave1 = page.locator('tr[data-node="slave-1"]');
    try {
      for (const deadline = Date.now() + 10_000; held === undefined && Date.now() < deadline; ) await page.waitForTimeout(50);
      expect(held).toBeDefined();
      page.once('dialog', (dialog) => void dialog.accept());
      await slave1.locator('button[data-action=pause]').click();
      await expectMessage(/^slave-1 paused: /, 30_000);
      // Read after the pause, while the read from before it is still on its way.
      await slave1.locator('.pill.paused', { hasText: 'paused' }).waitFor({ timeout: 5_000 });
      release();
      await held;
      await page.waitForTimeout(500);
      // The answer from before the pause, given last, is not drawn over it.
      expect(await slave1.locator('td').nth(6).textContent()).toBe('paused');
    } finally {
      release();
      await held;
      await page.unrouteAll({ behavior: 'wait' });
      await api('POST', '/nodes/slave-1/resume', { node: 'slave-1' });
    }
    await slave1.locator('button[data-action=pause]').waitFor({ timeout: 10_000 });
  });

  it('an answer on its way when the token is forgotten is dropped: what the nodes, executions and log hold does not come back', async () => {
    // The token of the tests before (slave-1's) reads every panel. Their reads are held until
    // each panel has one on its way; the token is forgotten; then they are answered.
    const held: { kind: string; done: Promise<void> }[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route(PANEL_READS, (route) => {
      const kind = new URL(route.request().url()).pathname;
      const done = released.then(async () => route.fulfill({ response: await route.fetch() }));
      held.push({ kind, done });
      return done;
    });
    try {
      const kinds = () => new Set(held.map((request) => request.kind)).size;
      for (const deadline = Date.now() + 10_000; kinds() < 3 && Date.now() < deadline; ) await page.waitForTimeout(50);
      expect(kinds()).toBe(3);
      await page.click('#token-clear');
      await watchRows();
      release();
      await Promise.all(held.map((request) => request.done));
      await page.waitForTimeout(500);
      expect(await rowsSeen()).toEqual({ nodes: 0, executions: 0, events: 0 });
      expect(await page.locator('#nodes-hint').isVisible()).toBe(true);
    } finally {
      // Every held read answered before the route goes: one still held would be left unhandled.
      release();
      await Promise.allSettled(held.map((request) => request.done));
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('a slow API is not asked again by a panel before it has answered', async () => {
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    // The executions panel refreshes every second: its reads go unanswered for three and a half.
    const reads: Promise<void>[] = [];
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/executions?*', (route) => {
      const done = released.then(async () => route.fulfill({ response: await route.fetch() }));
      reads.push(done);
      return done;
    });
    try {
      await page.waitForTimeout(3_500);
      expect(reads).toHaveLength(1);
    } finally {
      release();
      await Promise.allSettled(reads);
      await page.unrouteAll({ behavior: 'wait' });
    }
    await expectText('#executions-updated', /^updated /);
  });

  it("names an answer it did not expect: a gateway's throttle by its message, a 200 that is not JSON as such", async () => {
    // An operator's token reads both panels (the test before may have forgotten its own); what
    // answers is a gateway, then a proxy's page.
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    await page.route('**/nodes', (route) => route.fulfill({ status: 429, json: { message: 'Too Many Requests' } }));
    await page.route('**/config/events?*', (route) => route.fulfill({ status: 200, contentType: 'text/html', body: '<html>sign in</html>' }));
    try {
      // A throttle that names no Retry-After: the panel waits a few seconds all the same.
      await expectText('#nodes-updated', /^not refreshed: 429 Too Many Requests; next try in 5 s$/);
      await expectText('#events-updated', /^not refreshed: the answer \(200\) is not JSON$/);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('forgetting the token closes the differences a check found', async () => {
    const now = new Date().toISOString();
    const job: NodeJob = {
      id: 'job-8', node: 'slave-2', kind: 'drift', state: 'succeeded', phase: 'done', progress: { compared: 12, missing: 1, extra: 0, different: 0 },
      failures: [], createdAt: now, updatedAt: now, finishedAt: now, error: null,
    };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      // A drift check is a GeoServer node's: slave-2 is given one.
      const geoserver = { url: 'http://10.0.3.22:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now, lastError: null, rejected: [], unclearedProperties: [] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'slave-2' ? { ...node, geoserver, job } : node)) } });
    });
    await page.route('**/nodes/slave-2/drift?*', (route) =>
      route.fulfill({ json: { job, complete: true, counts: { missing: 1, extra: 0, different: 0 }, differences: [{ kind: 'missing', type: 'featureType', id: 'topp:secret-roads' }] } }),
    );
    try {
      await page.locator('tr[data-node="slave-2"] button[data-action=differences]').click();
      await page.locator('#drift-table tbody tr').first().waitFor();
      await page.click('#token-clear');
      expect(await page.locator('#drift').isHidden()).toBe(true);
      expect(await page.locator('#drift-table tbody tr').count()).toBe(0);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it("shows a role, resync hold, job kind, state or phase that a newer cluster has and this page does not know as the API names it, in no colour, with no button that may not apply", async () => {
    // The generated types hold the values this page knows; a newer cluster's answer may hold others.
    const unknown = <T>(value: string) => value as T;
    const now = new Date().toISOString();
    const geoserver: NodeState['geoserver'] = { url: 'http://10.0.3.21:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now, lastError: null, rejected: [], unclearedProperties: [] };
    const job: NodeJob = {
      id: 'job-21', node: 'slave-1', kind: 'reconcile', state: unknown('paused'), phase: unknown('scan-audit'), progress: { toFix: 6, fixed: 2, failed: 0 },
      failures: [], createdAt: now, updatedAt: now, finishedAt: null, error: null,
    };
    const overrides: Record<string, Partial<NodeState>> = {
      // A capture is a publishing node's: a role not known to publish gets none.
      'master-1': {
        role: unknown('observer'), geoserver,
        job: { ...job, id: 'job-20', node: 'master-1', kind: unknown('audit'), state: 'succeeded', phase: 'done', failures: [{ type: 'layer', id: 'topp:roads', message: 'refused' }], finishedAt: now },
      },
      'slave-1': { geoserver, job, resync: { job: 'job-22', state: unknown('verifying'), storeIncomplete: false, error: null, resume: null } },
      'slave-2': { role: 'both', geoserver, job: { ...job, id: 'job-23', node: 'slave-2', kind: unknown('audit'), state: 'failed', phase: 'fix', finishedAt: now, error: 'boom' } },
    };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => ({ ...node, ...overrides[node.name] })) } });
    });
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      const row = (name: string) => page.locator(`#nodes tr[data-node="${name}"] td`);
      await page.locator('#nodes tr[data-node="slave-2"] .pill', { hasText: 'audit failed' }).waitFor({ timeout: 10_000 });
      expect(await row('master-1').nth(1).textContent()).toBe('observer');
      expect(await row('master-1').nth(8).locator('button').allTextContents()).toEqual(['pause', 'check drift', 'reconcile']);
      expect(await row('slave-2').nth(8).locator('button').allTextContents()).toEqual(['pause', 'redrive', 'resync', 'check drift', 'reconcile', 'capture']);
      // A hold this page does not know is not read as a stopped resync, nor coloured as one.
      expect(await row('slave-1').nth(6).textContent()).toBe('active resync verifying');
      expect(await pillColours(row('slave-1').nth(6).locator('.pill').nth(1))).toEqual(await pillColours(row('slave-1').nth(6).locator('.pill').nth(0)));
      // The phase of a job in a state this page does not know: whether it has ended is not known here.
      expect(await row('slave-1').nth(7).textContent()).toBe('reachable 2.26.2 reconcile paused (scan-audit) 2/6');
      // No button to suggest after a fix for a kind this page does not know.
      expect(await row('slave-2').nth(6).locator('.pill', { hasText: 'audit failed' }).getAttribute('title')).toBe('job job-23: boom');
      expect(await row('master-1').nth(6).locator('.pill', { hasText: 'unfixed' }).getAttribute('title')).toBe(
        'job job-20 succeeded but could not fix 1 object; first layer/topp:roads: refused\nall of them: geocluster job master-1 job-20',
      );
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.locator('#nodes tr[data-node="slave-1"] .pill', { hasText: 'verifying' }).waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('lists differences of a kind a newer cluster has and this page does not know as the API names them, counted and in no colour', async () => {
    const now = new Date().toISOString();
    const job: NodeJob = {
      id: 'job-31', node: 'slave-2', kind: 'drift', state: 'succeeded', phase: 'done', progress: { compared: 12, missing: 1, extra: 0, different: 0 },
      failures: [], createdAt: now, updatedAt: now, finishedAt: now, error: null,
    };
    const geoserver: NodeState['geoserver'] = { url: 'http://10.0.3.22:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now, lastError: null, rejected: [], unclearedProperties: [] };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'slave-2' ? { ...node, geoserver, job } : node)) } });
    });
    // The counts leave the newer kind out, and more differences follow the ones listed.
    await page.route('**/nodes/slave-2/drift?*', (route) =>
      route.fulfill({
        json: {
          node: 'slave-2', job, complete: true, counts: { missing: 1, extra: 0, different: 0 }, next: 'after-3',
          differences: [
            { kind: 'missing', type: 'featureType', id: 'topp:roads' },
            { kind: 'moved', type: 'featureType', id: 'topp:rivers', store: 'pg' },
            { kind: 'moved', type: 'featureType', id: 'topp:lakes', store: 'pg' },
          ],
        },
      }),
    );
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      await page.locator('tr[data-node="slave-2"] button[data-action=differences]').click();
      await page.locator('#drift-updated', { hasText: /^read / }).waitFor({ timeout: 10_000 });
      expect(await page.locator('#drift-note').textContent()).toBe(
        'drift job job-31 found 1 missing, 0 extra, 0 different, 2+ moved; the first 3 are listed (npx geocluster drift slave-2 --last lists all)',
      );
      const rows = page.locator('#drift-table tbody tr');
      expect(await rows.nth(1).locator('td').allTextContents()).toEqual(['moved', 'featureType', 'topp:rivers', 'store pg']);
      const plain = page.locator('#nodes tr[data-node="slave-2"] td').nth(6).locator('.pill', { hasText: 'active' });
      expect(await pillColours(rows.nth(1).locator('.pill'))).toEqual(await pillColours(plain));
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.click('#drift-close');
  });

  it('shows an execution phase and an event kind a newer cluster has and this page does not know as the API names them, in no colour', async () => {
    const now = new Date().toISOString();
    const execution = (executionId: string, phase: string) => ({ executionId, processName: 'gs:Buffer', phase, progress: 40, task: 'buffering', nodeId: 'master-1', lastUpdated: now });
    await page.route('**/executions?*', (route) =>
      route.fulfill({ json: { executions: [execution('exec-queued', 'QUEUED'), execution('exec-running', 'RUNNING'), execution('exec-paused', 'PAUSED')] } }),
    );
    // A kind that shares its name with a state the page colours takes no colour from it.
    await page.route('**/config/events?*', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { head: number; events: { sequence: number }[] };
      const event = (sequence: number, kind: string) => ({ sequence, kind, object: { type: 'workspace', id: 'topp' }, origin: 'master-1', publishedAt: now, offloaded: false });
      await route.fulfill({ response, json: { ...answer, head: answer.head + 2, events: [...answer.events, event(answer.head + 1, 'add'), event(answer.head + 2, 'paused')] } });
    });
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      const execRow = (id: string) => page.locator(`#executions tr[data-execution="${id}"]`);
      await execRow('exec-paused').waitFor({ timeout: 10_000 });
      expect(await execRow('exec-paused').locator('td').nth(2).textContent()).toBe('PAUSED');
      expect(await pillColours(execRow('exec-paused').locator('.pill'))).toEqual(await pillColours(execRow('exec-queued').locator('.pill')));
      // Its bar in the muted colour, not in the colour of a queued or running one.
      const fill = (id: string) => execRow(id).locator('[role=progressbar] > span').evaluate((element) =>
        (globalThis as unknown as { getComputedStyle(element: unknown): { backgroundColor: string } }).getComputedStyle(element).backgroundColor);
      const muted = await page.locator('#executions-updated').evaluate((element) => (globalThis as unknown as { getComputedStyle(element: unknown): { color: string } }).getComputedStyle(element).color);
      expect(await fill('exec-paused')).toBe(muted);
      expect(await fill('exec-running')).not.toBe(muted);

      const eventRows = page.locator('#events tbody tr');
      await eventRows.first().locator('.pill', { hasText: 'paused' }).waitFor({ timeout: 10_000 });
      expect(await pillColours(eventRows.nth(0).locator('.pill'))).toEqual(await pillColours(eventRows.nth(1).locator('.pill', { hasText: 'add' })));
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('says when more executions match the phases than the panel lists', async () => {
    const now = new Date().toISOString();
    const execution = (executionId: string) => ({ executionId, processName: 'gs:Buffer', phase: 'RUNNING', progress: 40, nodeId: 'master-1', lastUpdated: now });
    let more = true;
    await page.route('**/executions?*', (route) =>
      route.fulfill({ json: { executions: [execution('exec-1'), execution('exec-2')], ...(more ? { nextCursor: 'signed-cursor' } : {}) } }),
    );
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      await expectText('#executions-updated', /^updated .+; the newest 2 shown: more match the phases ticked$/);
      more = false;
      await expectText('#executions-updated', /^updated [^;]+$/);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it("says what a redrive did to the node's parked events, and that more remain to move", async () => {
    const record = { object: { type: 'workspace', id: 'topp' }, sequences: [9], reason: 'GeoServer answered 500', attempts: 3, parkedAt: new Date().toISOString() };
    await page.route('**/nodes/slave-1/redrive', (route) => route.fulfill({ json: { node: 'slave-1', moved: 2, more: true, parked: { cleared: [7, 8], stillParked: [record], more: false } } }));
    await page.route('**/nodes/slave-2/redrive', (route) =>
      route.fulfill({ status: 202, json: { node: 'slave-2', moved: 0, more: false, parked: { retriedBy: 'apply function', cleared: [], stillParked: [record], more: false } } }),
    );
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
      await expectMessage(/^slave-1: 2 events moved back to the queue; 2 parked events applied, 1 record still parked; more remain: redrive again$/);
      await page.locator('tr[data-node="slave-2"] button[data-action=redrive]').click();
      await expectMessage(/^slave-2: 0 events moved back to the queue; its apply function retries 1 parked record$/);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('offers a redrive for a pure master whose events are parked, as its parked pill asks for one', async () => {
    const record = { object: { type: 'workspace', id: 'topp' }, sequences: [9], reason: 'store write failed', attempts: 3, parkedAt: new Date().toISOString() };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'master-1' ? { ...node, parked: [record] } : node)) } });
    });
    await page.route('**/nodes/master-1/redrive', (route) => route.fulfill({ json: { node: 'master-1', moved: 0, more: false, parked: { cleared: [9], stillParked: [], more: false } } }));
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      await page.locator('tr[data-node="master-1"] .pill', { hasText: '1 parked' }).waitFor();
      await page.locator('tr[data-node="master-1"] button[data-action=redrive]').click();
      await expectMessage(/^master-1: 0 events moved back to the queue; 1 parked event applied$/);
      // A pure master has no queue to resync from: still no resync button.
      expect(await page.locator('tr[data-node="master-1"] button[data-action=resync]').count()).toBe(0);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('names a pause\'s consumption as the API does when this page does not know it, and says a pure master has no queue', async () => {
    const outcome = (node: string, consumption: string) => ({ node, paused: true, since: new Date().toISOString(), by: node, consumption });
    await page.route('**/nodes/slave-1/pause', (route) => route.fulfill({ json: outcome('slave-1', 'draining') }));
    await page.route('**/nodes/master-1/pause', (route) => route.fulfill({ json: outcome('master-1', 'none') }));
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
    try {
      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator('tr[data-node="slave-1"] button[data-action=pause]').click();
      await expectMessage(/^slave-1 paused; consumption draining$/);
      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator('tr[data-node="master-1"] button[data-action=pause]').click();
      await expectMessage(/^master-1 paused: a pure master has no queue to stop or restart: a pause refuses its publishes only; consumption none$/);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });
});

describe('the console, for an operator who needs to know what a click does and what an answer means', () => {
  const now = () => new Date().toISOString();
  const driftJob = (): NodeJob => ({
    id: 'job-41', node: 'slave-2', kind: 'drift', state: 'succeeded', phase: 'done', progress: { compared: 12, missing: 3, extra: 0, different: 0 },
    failures: [], createdAt: now(), updatedAt: now(), finishedAt: now(), error: null,
  });
  const withGeoServer = async (name: string, job: NodeJob | null) => {
    const geoserver: NodeState['geoserver'] = { url: 'http://10.0.3.22:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now(), lastError: null, rejected: [], unclearedProperties: [] };
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === name ? { ...node, geoserver, job } : node)) } });
    });
  };
  /**
   * GET /nodes answered with `change` applied to each read's nodes and slave-2's lag counting the
   * reads, so that every read brings a change to the table.
   */
  const changingNodes = async (change: (node: NodeState) => NodeState = (node) => node) => {
    let reads = 0;
    await page.route('**/nodes', async (route) => {
      reads += 1;
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      const nodes = answer.nodes.map(change).map((node) => (node.name === 'slave-2' ? { ...node, lag: reads } : node));
      await route.fulfill({ response, json: { ...answer, nodes } });
    });
  };
  const open = async () => {
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf('ops'));
    await page.click('#token-save');
  };

  it('asks before a resync, saying what it replaces, and sends nothing when the operator declines', async () => {
    const sent: string[] = [];
    await withGeoServer('slave-2', null);
    await page.route('**/nodes/slave-2/resync', (route) => {
      sent.push(route.request().method());
      return route.fulfill({ status: 202, json: { node: 'slave-2', source: 'master-1', job: { ...driftJob(), id: 'job-42', kind: 'resync', state: 'queued', phase: 'bootstrap', progress: {} } } });
    });
    await open();
    try {
      const dialogs: string[] = [];
      page.once('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await page.locator('tr[data-node="slave-2"] button[data-action=resync]').click();
      await expectMessage(/^resync slave-2 not started$/, 5_000);
      expect(dialogs).toHaveLength(1);
      // What a resync replaces, and that on a GeoServer node it ends with a reconcile that deletes.
      expect(dialogs[0]).toMatch(/^Resync slave-2: replace its store with a copy of another master's store/);
      expect(dialogs[0]).toContain('deleted from the GeoServer');
      expect(sent).toEqual([]);
      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator('tr[data-node="slave-2"] button[data-action=resync]').click();
      await expectMessage(/^slave-2: resync started as job job-42$/, 5_000);
      expect(sent).toEqual(['POST']);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('asks before a pause, naming the node and what a pause stops, and sends nothing when the operator declines; a resume asks nothing', async () => {
    const sent: string[] = [];
    const outcome = (node: string, paused: boolean, consumption: string) => ({ node, paused, since: now(), by: node, consumption });
    await page.route('**/nodes/*/pause', (route) => {
      const node = new URL(route.request().url()).pathname.split('/').at(-2)!;
      sent.push(`pause ${node}`);
      return route.fulfill({ json: outcome(node, true, node === 'master-1' ? 'none' : 'disabled') });
    });
    await page.route('**/nodes/slave-1/resume', (route) => {
      sent.push('resume slave-1');
      return route.fulfill({ json: outcome('slave-1', false, 'enabled') });
    });
    // The nodes as the pause and resume sent above leave them (the cluster itself is not paused).
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      const paused = (name: string) => sent.filter((action) => action.endsWith(` ${name}`)).at(-1) === `pause ${name}`;
      // slave-2 a `both` node with a GeoServer: it consumes, and publishes through its GeoServer.
      const geoserver: NodeState['geoserver'] = { url: 'http://10.0.3.22:8080/geoserver', reachable: true, version: '2.26.2', checkedAt: now(), lastError: null, rejected: [], unclearedProperties: [] };
      const nodes = answer.nodes
        .map((node) => (node.name === 'slave-2' ? { ...node, role: 'both' as const, geoserver } : node))
        .map((node) => (paused(node.name) ? { ...node, paused: true, pausedBy: node.name, pausedSince: now() } : node));
      await route.fulfill({ response, json: { ...answer, nodes } });
    });
    const dialogs: string[] = [];
    let accept = false;
    const answer = (dialog: Dialog) => {
      dialogs.push(dialog.message());
      void (accept ? dialog.accept() : dialog.dismiss());
    };
    page.on('dialog', answer);
    await open();
    try {
      const slave1 = page.locator('tr[data-node="slave-1"]');
      await slave1.locator('button[data-action=pause]').click();
      await expectMessage(/^pause slave-1 not sent$/, 5_000);
      expect(sent).toEqual([]);
      // The node, what stops and what its queue does meanwhile.
      expect(dialogs).toEqual([
        'Pause slave-1: stop it applying events until a resume?\n\nIts queue keeps every event meanwhile; the resume delivers what accumulated, in order.',
      ]);
      accept = true;
      await slave1.locator('button[data-action=pause]').click();
      await expectMessage(/^slave-1 paused: its queue keeps every event; consumption disabled$/, 5_000);
      expect(sent).toEqual(['pause slave-1']);
      expect(dialogs).toHaveLength(2);
      // A pure master's pause stops its publishes: the question says so, and that it has no queue.
      accept = false;
      await page.locator('tr[data-node="master-1"] button[data-action=pause]').click();
      await expectMessage(/^pause master-1 not sent$/, 5_000);
      expect(dialogs[2]).toBe('Pause master-1: refuse its publishes until a resume?\n\nIt has no queue to stop. Its publishes (POST /config/events) are refused (409 NODE_PAUSED).');
      // A `both` node with a GeoServer: both, and what its GeoServer's writes and capture do.
      await page.locator('tr[data-node="slave-2"] button[data-action=pause]').click();
      await expectMessage(/^pause slave-2 not sent$/, 5_000);
      expect(dialogs[3]).toBe(
        'Pause slave-2: stop it applying events and refuse its publishes until a resume?\n\n' +
          'Its queue keeps every event meanwhile; the resume delivers what accumulated, in order. Its publishes are refused (409 NODE_PAUSED): ' +
          'a write sent through the GeoServer REST gateway is not forwarded, and a capture job it is running stops where it got to (a capture after the resume publishes the rest).',
      );
      // A resume is sent at once.
      await slave1.locator('button[data-action=resume]').click();
      await expectMessage(/^slave-1 resumed: its queue delivers what accumulated, in order; consumption enabled$/, 5_000);
      expect(sent).toEqual(['pause slave-1', 'resume slave-1']);
      expect(dialogs).toHaveLength(4);
    } finally {
      page.off('dialog', answer);
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('says when to try an action again, and that an action without a clear answer may have been done', async () => {
    const busy = "Node slave-1's pause is recorded (its publishes are refused), but its queue consumption could not be disabled yet";
    await page.route('**/nodes/slave-1/pause', (route) => route.fulfill({ status: 409, headers: { 'retry-after': '5' }, json: { code: 'CONSUMPTION_SWITCH_BUSY', message: busy } }));
    await page.route('**/nodes/slave-1/redrive', (route) => route.fulfill({ status: 502, json: { message: 'Internal Server Error' } }));
    await page.route('**/nodes/slave-2/redrive', (route) => route.abort('connectionreset'));
    await open();
    try {
      page.once('dialog', (dialog) => void dialog.accept());
      await page.locator('tr[data-node="slave-1"] button[data-action=pause]').click();
      await expectMessage(new RegExp(`^pause slave-1: 409 CONSUMPTION_SWITCH_BUSY: ${busy.replace(/[()]/g, '\\$&')}; try again in 5 s$`), 5_000);
      await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').click();
      await expectMessage(/^redrive slave-1: no clear answer \(502 Internal Server Error\): it may have been done; the nodes table shows the node as it is now$/, 5_000);
      await page.locator('tr[data-node="slave-2"] button[data-action=redrive]').click();
      await expectMessage(/^redrive slave-2: no clear answer \(the API could not be reached: .+\): it may have been done; the nodes table shows the node as it is now$/, 5_000);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('shows a time of another day with its date, and the time as the API gave it in its tooltip', async () => {
    const old = new Date(Date.now() - 3 * 86_400_000).toISOString();
    await page.route('**/config/events?*', (route) =>
      route.fulfill({ json: { head: 7, next: null, events: [{ sequence: 7, kind: 'add', object: { type: 'workspace', id: 'topp' }, origin: 'master-1', publishedAt: old, offloaded: false }] } }),
    );
    await page.route('**/executions?*', (route) =>
      route.fulfill({ json: { executions: [{ executionId: 'exec-old', processName: 'gs:Buffer', phase: 'RUNNING', progress: 10, nodeId: 'master-1', lastUpdated: old }] } }),
    );
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === 'slave-1' ? { ...node, paused: true, pausedBy: 'master-1', pausedSince: old } : node)) } });
    });
    await open();
    try {
      const shown = await page.evaluate((iso) => new Date(iso).toLocaleString(), old);
      const published = page.locator('#events tr[data-sequence="7"] td').nth(4);
      await published.waitFor({ timeout: 10_000 });
      expect(await published.textContent()).toBe(shown);
      expect(await published.locator('span').getAttribute('title')).toBe(old);
      const updated = page.locator('#executions tr[data-execution="exec-old"] td').nth(6);
      await updated.waitFor({ timeout: 10_000 });
      expect(await updated.textContent()).toBe(shown);
      const paused = page.locator('#nodes tr[data-node="slave-1"] .pill.paused', { hasText: 'paused' });
      await paused.waitFor({ timeout: 10_000 });
      expect(await paused.getAttribute('title')).toBe(`by master-1 since ${shown}`);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('says when a panel is reading, and when it has nothing to list', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: Promise<void>[] = [];
    await page.route('**/executions?*', (route) => {
      const done = released.then(() => route.fulfill({ json: { executions: [] } }));
      held.push(done);
      return done;
    });
    await page.route('**/config/events?*', (route) => route.fulfill({ json: { head: 0, next: null, events: [] } }));
    await open();
    try {
      await expectText('#executions-updated', /^reading…$/, 5_000);
      release();
      await expectText('#executions tbody', /^No execution is in the phases ticked$/, 5_000);
      await expectText('#events tbody', /^The event log is empty$/, 5_000);
      // Every phase unticked (unticking one that is not ticked changes nothing).
      for (const box of await page.locator('#phases input').all()) await box.uncheck();
      await expectText('#executions tbody', /^Tick a phase to list its executions$/, 5_000);
    } finally {
      release();
      await Promise.allSettled(held);
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('names each action button and progress bar by what it acts on, for a screen reader', async () => {
    await page.route('**/executions?*', (route) =>
      route.fulfill({ json: { executions: [{ executionId: 'exec-a11y', processName: 'gs:Buffer', phase: 'RUNNING', progress: 10, nodeId: 'master-1', lastUpdated: now() }] } }),
    );
    await open();
    try {
      await page.getByRole('button', { name: 'pause slave-1', exact: true }).waitFor({ timeout: 10_000 });
      expect(await page.getByRole('button', { name: 'redrive slave-2', exact: true }).count()).toBe(1);
      await page.getByRole('progressbar', { name: 'progress of exec-a11y', exact: true }).waitFor({ timeout: 10_000 });
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('pages through the differences a check found, and through more executions than one page holds', async () => {
    const job = driftJob();
    await withGeoServer('slave-2', job);
    const difference = (id: string) => ({ kind: 'missing', type: 'featureType', id });
    const driftAsked: string[] = [];
    await page.route('**/nodes/slave-2/drift?*', (route) => {
      const url = new URL(route.request().url());
      driftAsked.push(url.search);
      return url.searchParams.get('after') === '2'
        ? route.fulfill({ json: { node: 'slave-2', job, complete: true, counts: { missing: 3 }, differences: [difference('topp:c')] } })
        : route.fulfill({ json: { node: 'slave-2', job, complete: true, counts: { missing: 3 }, differences: [difference('topp:a'), difference('topp:b')], next: '2' } });
    });
    // 120 executions match: a page of `limit`, and a cursor while more follow.
    const execution = (n: number) => ({ executionId: `exec-${String(n).padStart(3, '0')}`, processName: 'gs:Buffer', phase: 'RUNNING', progress: 10, nodeId: 'master-1', lastUpdated: now() });
    const executionReads: { at: number; limit: number }[] = [];
    await page.route('**/executions?*', (route) => {
      const limit = Number(new URL(route.request().url()).searchParams.get('limit'));
      executionReads.push({ at: Date.now(), limit });
      const shown = Math.min(limit, 120);
      return route.fulfill({ json: { executions: Array.from({ length: shown }, (_, n) => execution(n)), ...(shown < 120 ? { nextCursor: 'signed' } : {}) } });
    });
    await open();
    try {
      await page.locator('tr[data-node="slave-2"] button[data-action=differences]').click();
      await page.locator('#drift-table tbody tr').nth(1).waitFor({ timeout: 10_000 });
      await page.locator('#drift-more').click();
      await page.locator('#drift-table tbody tr').nth(2).waitFor({ timeout: 10_000 });
      expect(await page.locator('#drift-table tbody tr td:nth-child(3)').allTextContents()).toEqual(['topp:a', 'topp:b', 'topp:c']);
      expect(await page.locator('#drift-more').isHidden()).toBe(true);
      expect(driftAsked).toEqual(['?limit=200', '?limit=200&after=2']);
      expect(await page.locator('#drift-note').textContent()).toBe('drift job job-41 found 3 missing, 0 extra, 0 different');

      await page.locator('#executions tbody tr').nth(49).waitFor({ timeout: 10_000 });
      await page.locator('#executions-more').click();
      await page.locator('#executions tbody tr').nth(99).waitFor({ timeout: 10_000 });
      await page.locator('#executions-more').click();
      await page.locator('#executions tbody tr').nth(119).waitFor({ timeout: 10_000 });
      await expectText('#executions-updated', /^updated [^;]+$/, 5_000);
      expect(await page.locator('#executions-more').isHidden()).toBe(true);
      // A longer list is read less often (a page's worth a second): 150 asked every 3 s, not every second.
      const from = Date.now();
      await page.waitForTimeout(4_500);
      const reads = executionReads.filter((read) => read.at >= from);
      expect(reads.every((read) => read.limit === 150)).toBe(true);
      expect(reads.length).toBeGreaterThanOrEqual(1);
      expect(reads.length).toBeLessThanOrEqual(2);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
    await page.click('#drift-close');
  });

  it("keeps an action's button unavailable and focused until its answer, through reads that change the table", async () => {
    let sent = 0;
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    await page.route('**/nodes/slave-1/redrive', async (route) => {
      sent += 1;
      await released;
      await route.fulfill({ json: { node: 'slave-1', moved: 0, more: false, parked: { cleared: [], stillParked: [], more: false } } });
    });
    await changingNodes();
    await open();
    const isFocused = (handle: { evaluate<R>(fn: (element: unknown) => R): Promise<R> }) =>
      handle.evaluate((element) => element === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement);
    try {
      const button = page.locator('tr[data-node="slave-1"] button[data-action=redrive]');
      const handle = (await button.elementHandle())!;
      // Sent from the keyboard: the button has the focus when its action starts.
      await button.focus();
      await page.keyboard.press('Enter');
      // The nodes are read, changed, every 2 s while the answer is on its way.
      await page.waitForTimeout(2_500);
      // It keeps the focus while its action is pending (a `disabled` button loses it), shows as
      // unavailable, and a second press sends nothing more.
      expect(await isFocused(handle)).toBe(true);
      expect(await button.getAttribute('aria-disabled')).toBe('true');
      await page.keyboard.press('Enter');
      await button.click({ force: true }); // Playwright holds an aria-disabled button unavailable too: the click is forced
      await page.waitForTimeout(300);
      expect(sent).toBe(1);
      release();
      await expectMessage(/^slave-1: 0 events moved back to the queue$/, 5_000);
      await page.waitForFunction(() => {
        const doc = (globalThis as unknown as { document: { querySelector(selector: string): { getAttribute(name: string): string | null } | null } }).document;
        const answered = doc.querySelector('tr[data-node="slave-1"] button[data-action=redrive]');
        return answered !== null && answered.getAttribute('aria-disabled') === null;
      }, undefined, { timeout: 5_000 });
      expect(await isFocused(handle)).toBe(true);
    } finally {
      release();
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('keeps a token only in the form a token has: "Bearer " before it is dropped, a character no header carries refused', async () => {
    await open();
    await page.fill('#token', `Bearer ${tokenOf('slave-1')}`);
    await page.click('#token-save');
    await expectMessage(/^token kept for this tab$/, 5_000);
    expect(await page.evaluate(() => sessionStorage.getItem('geocluster.token'))).toBe(tokenOf('slave-1'));
    await page.fill('#token', 'ops.sécret');
    await page.click('#token-save');
    await expectMessage(/^not a token \(<node>\.<secret>, letters, digits, - and _\): nothing kept$/, 5_000);
    expect(await page.evaluate(() => sessionStorage.getItem('geocluster.token'))).toBe(tokenOf('slave-1'));
  });

  it("patches the nodes table in place: a node's row and buttons stay the same elements through reads that change them, a row comes and goes with its node", async () => {
    // slave-1's lag counts the reads (each read changes the row); slave-2 is left out of the reads while `dropped`.
    let reads = 0;
    let dropped = false;
    await page.route('**/nodes', async (route) => {
      reads += 1;
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      const nodes = answer.nodes.filter((node) => !(dropped && node.name === 'slave-2')).map((node) => (node.name === 'slave-1' ? { ...node, lag: reads } : node));
      await route.fulfill({ response, json: { ...answer, nodes } });
    });
    await open();
    try {
      await page.locator('tr[data-node="slave-2"]').waitFor({ timeout: 10_000 });
      const handles = {
        master1: await page.locator('tr[data-node="master-1"]').elementHandle(),
        slave1: await page.locator('tr[data-node="slave-1"]').elementHandle(),
        slave2: await page.locator('tr[data-node="slave-2"]').elementHandle(),
        redrive: await page.locator('tr[data-node="slave-1"] button[data-action=redrive]').elementHandle(),
        lag: await page.locator('tr[data-node="slave-1"] td').nth(3).elementHandle(),
      };
      const attached = async (name: keyof typeof handles) => handles[name]!.evaluate((element) => (element as unknown as { isConnected: boolean }).isConnected);
      // Two reads that change slave-1's lag: shown, in the same row, cell and button as before.
      await nextLag('slave-1');
      await nextLag('slave-1');
      for (const name of Object.keys(handles) as (keyof typeof handles)[]) expect([name, await attached(name)]).toEqual([name, true]);
      // A node left out of a read loses its row, and only it.
      dropped = true;
      await page.locator('tr[data-node="slave-2"]').waitFor({ state: 'detached', timeout: 10_000 });
      expect([await attached('master1'), await attached('slave1'), await attached('redrive'), await attached('slave2')]).toEqual([true, true, true, false]);
      // Back in a read: a row of its own again, in the order the API lists the nodes.
      dropped = false;
      await page.locator('tr[data-node="slave-2"]').waitFor({ timeout: 10_000 });
      expect(await page.locator('#nodes tbody tr').evaluateAll((rows) => rows.map((row) => (row as unknown as { dataset: { node: string } }).dataset.node))).toEqual([
        'master-1',
        'slave-1',
        'slave-2',
      ]);
      expect([await attached('master1'), await attached('slave1'), await attached('redrive')]).toEqual([true, true, true]);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('acts on a click whose press and release fall on either side of a read that changes the table, and keeps a focused button focused', async () => {
    let sent = 0;
    await page.route('**/nodes/slave-1/redrive', (route) => {
      sent += 1;
      return route.fulfill({ json: { node: 'slave-1', moved: 0, more: false, parked: { cleared: [], stillParked: [], more: false } } });
    });
    // slave-2's lag counts the reads: every read (every 2 s) changes the table.
    await changingNodes();
    await open();
    try {
      const button = page.locator('tr[data-node="slave-1"] button[data-action=redrive]');
      await button.hover();
      await page.mouse.down();
      await nextLag('slave-2');
      await page.mouse.up();
      await expectMessage(/^slave-1: 0 events moved back to the queue$/, 5_000);
      expect(sent).toBe(1);
      // Focused, the same button keeps the focus through reads that change the table.
      await button.focus();
      const handle = await button.elementHandle();
      await nextLag('slave-2');
      await nextLag('slave-2');
      expect(await handle!.evaluate((element) => element === (globalThis as unknown as { document: { activeElement: unknown } }).document.activeElement)).toBe(true);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it("keeps the keyboard's place in the nodes table through reads that change it, and shows a pill's tooltip to the keyboard", async () => {
    const failing = { sequence: 41, attempts: 3, reason: 'GeoServer answered 503', at: now() };
    await changingNodes((node) => (node.name === 'slave-1' ? { ...node, failing } : node));
    await open();
    const focused = (attribute: string) => page.evaluate((name) => (globalThis as unknown as Focused).document.activeElement?.getAttribute(name) ?? null, attribute);
    try {
      await page.getByRole('button', { name: 'redrive slave-2', exact: true }).focus();
      // The nodes are read, changed, every 2 s: the focus stays on the same button of the same row.
      await page.waitForTimeout(4_500);
      expect(await focused('aria-label')).toBe('redrive slave-2');
      // What holds a node back is in a pill's tooltip: the keyboard reaches it, and it shows its text.
      const pill = page.locator('#nodes tr[data-node="slave-1"] .pill', { hasText: 'retrying #41' });
      await pill.focus();
      const shown = await pill.evaluate((element) =>
        (globalThis as unknown as { getComputedStyle(element: unknown, pseudo: string): { content: string } }).getComputedStyle(element, '::after').content);
      expect(shown).toBe('"attempt 3: GeoServer answered 503"');
      await page.waitForTimeout(2_500);
      expect(await focused('title')).toBe('attempt 3: GeoServer answered 503');
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });

  it('asks a throttled API again only after the wait its answer names, not every second or two', async () => {
    let asked = 0;
    await page.route('**/nodes', (route) => {
      asked += 1;
      return route.fulfill({ status: 429, headers: { 'retry-after': '8' }, json: { message: 'Too Many Requests' } });
    });
    await open();
    try {
      await expectText('#nodes-updated', /^not refreshed: 429 Too Many Requests; next try in 8 s$/, 5_000);
      // The page's load and the token's save each read once (the second may still be on its way);
      // the timer (every 2 s) then waits.
      await page.waitForTimeout(500);
      const before = asked;
      await page.waitForTimeout(5_000);
      expect(asked).toBe(before);
    } finally {
      await page.unrouteAll({ behavior: 'wait' });
    }
  });
});

describe("the console's dead letters: what a node's dead-letter queue holds, a discard of those set aside, a redrive for the events that failed", () => {
  // slave-2's queue and dead-letter queue on the emulator, as test/integration/config-sync/dead-letters.test.ts reaches them.
  const NODE = 'slave-2';
  // A message no publisher of the cluster sends, with markup that must be shown as text.
  const FORGED = '{"this is": <img src=x id=forged-markup> not an event';
  let sqs: SQSClient;
  let queueUrl: string;
  let deadLetterQueueUrl: string;
  let sent = 0;

  beforeAll(async () => {
    ({ sqs, queueUrl, deadLetterQueueUrl } = await nodeQueues(NODE));
  });

  afterAll(async () => {
    await api('POST', `/nodes/${NODE}/resume`, { node: 'master-1' });
    sqs?.destroy();
  });

  /** slave-2 as GET /nodes answers it, once `done` holds (or fails naming what it waited for). */
  async function waitForNode(what: string, done: (node: NodeState) => boolean): Promise<NodeState> {
    const deadline = Date.now() + 45_000;
    for (;;) {
      const answer = await api('GET', '/nodes', { node: 'master-1' });
      const node = answer.body.nodes.find((candidate) => candidate.name === NODE)!;
      if (done(node)) return node;
      if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(node)}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }
  /** A forged message sent to slave-2's queue, which its apply function sets aside in its dead-letter queue. */
  async function forge(): Promise<void> {
    sent += 1;
    await sqs.send(
      new SendMessageCommand({
        QueueUrl: queueUrl,
        MessageBody: FORGED,
        MessageGroupId: 'geo',
        MessageDeduplicationId: `console-dead-letters-${sent}-${Date.now()}`,
        MessageAttributes: { origin: { DataType: 'String', StringValue: 'master-1' } },
      }),
    );
  }
  const openAs = async (node: string) => {
    await page.goto(`${clusterUrl()}/console`);
    await page.fill('#token', tokenOf(node));
    await page.click('#token-save');
  };
  const deadLettersButton = () => page.locator(`tr[data-node="${NODE}"] button[data-action="dead-letters"]`);
  const rows = () => page.locator('#dead-letters-table tbody tr');

  it("offers a node's dead letters once its queue holds some, lists one set aside with its reason and its body as text, and refuses the operator's discard", async () => {
    await waitForNode(`${NODE} has an empty dead-letter queue`, (node) => node.deadLetterDepth === 0 && node.queueDepth === 0);
    await openAs('ops');
    await page.locator(`tr[data-node="${NODE}"] button[data-action=pause]`).waitFor({ timeout: 10_000 });
    // Nothing to look at: no button.
    expect(await deadLettersButton().count()).toBe(0);
    await forge();
    await waitForNode(`${NODE} set the forged message aside`, (node) => node.deadLetterDepth === 1 && node.queueDepth === 0);
    await deadLettersButton().waitFor({ timeout: 10_000 });
    expect(await deadLettersButton().getAttribute('aria-label')).toBe(`dead letters ${NODE}`);
    await deadLettersButton().click();

    await expectText('#dead-letters-title', new RegExp(`^${NODE}$`));
    await expectText('#dead-letters-updated', /^read \d/);
    await expectText('#dead-letters-note', /^1 message listed of 1 in the dead-letter queue$/);
    expect(await rows().count()).toBe(1);
    const cells = await rows().first().locator('td').allTextContents();
    // Sent, kind, why or which event, size, origin, body.
    expect(cells[1]).toBe('set aside');
    expect(cells[2]).toMatch(/^not an event: /);
    expect(cells[3]).toBe(`${Buffer.byteLength(FORGED)} bytes`);
    expect(cells[4]).toBe('master-1');
    // The body in full on request, as text: its markup is not drawn.
    await rows().first().locator('summary').click();
    expect(await rows().first().locator('pre').textContent()).toBe(FORGED);
    expect(await page.locator('#forged-markup').count()).toBe(0);
    // The time it was sent as the API gave it, in its tooltip.
    expect(Date.now() - Date.parse((await rows().first().locator('td').first().locator('span').getAttribute('title'))!)).toBeLessThan(60_000);

    // The operator's token reads but writes nothing: the confirmation, then the API's refusal said as such.
    const discard = page.locator('#dead-letters-discard');
    expect(await discard.textContent()).toBe('discard 1 set aside');
    const dialogs: string[] = [];
    page.once('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await discard.click();
    await expectMessage(new RegExp(`^discard of ${NODE}'s dead letters refused: 403 FORBIDDEN: ops is a read-only operator`));
    expect(dialogs).toEqual([expect.stringMatching(new RegExp(`^Discard 1 message of ${NODE}'s dead-letter queue, set aside by its apply function`))]);
    expect(await discard.getAttribute('aria-disabled')).toBeNull();
    expect((await waitForNode('nothing discarded', () => true)).deadLetterDepth).toBe(1);
    expect(await rows().count()).toBe(1);
  });

  it('discards the set-aside messages with the node\'s token after a confirmation naming the node and how many, and the depth goes back to 0', async () => {
    await waitForNode(`${NODE} holds the forged message`, (node) => node.deadLetterDepth === 1);
    await openAs(NODE);
    await deadLettersButton().click();
    await expectText('#dead-letters-note', /^1 message listed of 1 in the dead-letter queue$/);
    const discard = page.locator('#dead-letters-discard');

    // Declined: nothing is sent.
    const posted: string[] = [];
    const watch = (request: Request) => {
      if (request.method() === 'POST' && request.url().endsWith('/dead-letters/discard')) posted.push(request.postData() ?? '');
    };
    page.on('request', watch);
    try {
      const dialogs: string[] = [];
      page.once('dialog', (dialog) => {
        dialogs.push(dialog.message());
        void dialog.dismiss();
      });
      await discard.click();
      await expectMessage(new RegExp(`^discard of ${NODE}'s dead letters not sent$`), 5_000);
      expect(posted).toEqual([]);
      expect(dialogs[0]).toMatch(new RegExp(`^Discard 1 message of ${NODE}'s dead-letter queue, set aside by its apply function \\(no event of the cluster's log\\)\\?`));
      expect(dialogs[0]).toContain('deleted for good');

      page.once('dialog', (dialog) => void dialog.accept());
      await discard.click();
      await expectMessage(new RegExp(`^${NODE}: 1 message discarded$`));
      expect(posted).toHaveLength(1);
      expect(JSON.parse(posted[0]!)).toEqual({ messageIds: [expect.any(String)] });
      // The panel is read again, and the nodes table follows: depth 0, nothing more to look at.
      await expectText('#dead-letters-table tbody', /^The dead-letter queue is empty$/);
      expect(await discard.isHidden()).toBe(true);
      await waitForNode(`${NODE}'s dead-letter queue emptied`, (node) => node.deadLetterDepth === 0);
      await expectText(`#nodes tr[data-node="${NODE}"] td:nth-child(6)`, /^0$/);
      await deadLettersButton().waitFor({ state: 'detached', timeout: 10_000 });
    } finally {
      page.off('request', watch);
    }
  });

  it('lists an event that failed by its sequence and object, offers no discard for it, and points to the redrive button', async () => {
    await waitForNode(`${NODE} has an empty dead-letter queue`, (node) => node.deadLetterDepth === 0 && node.queueDepth === 0);
    // The event's message moved to the dead-letter queue as the queue's redrive policy moves one
    // that failed maxReceiveCount times: same body, message group and attributes.
    expect((await api('POST', `/nodes/${NODE}/pause`, { node: 'master-1' })).status).toBe(200);
    const id = `console-dead-letter-${Date.now()}`;
    let sequence = 0;
    try {
      const published = await api('POST', '/config/events', {
        node: 'master-1',
        // Longer than the listing shows of a body: the API names the event from the whole body.
        json: { kind: 'add', object: { type: 'style', id }, properties: { format: 'sld', body: `<StyledLayerDescriptor version="1.0.0"><!-- ${'x'.repeat(1_200)} --></StyledLayerDescriptor>` } },
      });
      expect(published.status).toBe(201);
      sequence = (published.body as { sequence: number }).sequence;
      await deadLetterEvent(sqs, { queueUrl, deadLetterQueueUrl }, sequence, 'console-dead-letters-event');
    } finally {
      expect((await api('POST', `/nodes/${NODE}/resume`, { node: 'master-1' })).status).toBe(200);
    }
    await waitForNode(`${NODE} holds the failed event`, (node) => node.deadLetterDepth === 1 && node.queueDepth === 0);

    await openAs(NODE);
    await deadLettersButton().click();
    await expectText('#dead-letters-note', /^1 message listed of 1 in the dead-letter queue; events that failed go back to the queue with the redrive button, after a fix$/);
    const cells = await rows().first().locator('td').allTextContents();
    expect(cells[1]).toBe('failed event');
    expect(cells[2]).toBe(`#${sequence} add style/${id}`);
    // Nothing set aside: no discard.
    expect(await page.locator('#dead-letters-discard').isHidden()).toBe(true);

    // The redrive the panel points to moves it back, and it is applied.
    await page.locator(`tr[data-node="${NODE}"] button[data-action=redrive]`).click();
    await expectMessage(new RegExp(`^${NODE}: 1 event moved back to the queue`));
    await waitForNode(`${NODE} applied the redriven event`, (node) => node.deadLetterDepth === 0 && node.lastAppliedSequence >= sequence);
  });

  it('says when more are in the queue than listed, keeps the discard button unavailable and focused until its answer, and waits out a throttle before reading again', async () => {
    const message = { messageId: 'm-1', setAside: true, reason: 'not an event: x', messageGroupId: 'set-aside-m-1', origin: null, sentAt: new Date().toISOString(), receiveCount: 1, size: 1, body: 'x', bodyTruncated: false };
    let reads = 0;
    await page.route('**/nodes', async (route) => {
      const response = await route.fetch();
      const answer = (await response.json()) as { nodes: NodeState[] };
      await route.fulfill({ response, json: { ...answer, nodes: answer.nodes.map((node) => (node.name === NODE ? { ...node, deadLetterDepth: 250 } : node)) } });
    });
    await page.route(`**/nodes/${NODE}/dead-letters?*`, (route) => {
      reads += 1;
      return reads === 1
        ? route.fulfill({ json: { node: NODE, deadLetterDepth: 250, messages: [message], more: true } })
        : route.fulfill({ status: 429, headers: { 'retry-after': '30' }, json: { message: 'Too Many Requests' } });
    });
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => (release = resolve));
    let discards = 0;
    await page.route(`**/nodes/${NODE}/dead-letters/discard`, async (route) => {
      discards += 1;
      await released;
      await route.fulfill({ json: { node: NODE, discarded: [], kept: [{ messageId: 'm-1', cause: 'NOT_FOUND', reason: 'not in the node\'s dead-letter queue' }], more: false } });
    });
    await openAs('ops');
    try {
      await deadLettersButton().click();
      await expectText('#dead-letters-note', /^1 message listed of 250 in the dead-letter queue; more are in it than listed/);
      // A discard on its way: its button is unavailable, keeps the focus, and a second press sends nothing.
      const discard = page.locator('#dead-letters-discard');
      page.once('dialog', (dialog) => void dialog.accept());
      await discard.focus();
      await page.keyboard.press('Enter');
      await page.waitForFunction(() => (globalThis as unknown as { document: Doc }).document.querySelector('#dead-letters-discard')?.getAttribute('aria-disabled') === 'true', undefined, { timeout: 5_000 });
      await page.keyboard.press('Enter');
      expect(await page.evaluate(() => (globalThis as unknown as Focused).document.activeElement?.getAttribute('id'))).toBe('dead-letters-discard');
      release();
      // What it kept is named with the API's cause and reason.
      await expectMessage(new RegExp(`^${NODE}: 0 messages discarded; 1 message kept: m-1 NOT_FOUND: not in the node's dead-letter queue$`));
      expect(discards).toBe(1);
      await expectText('#dead-letters-updated', /^not read: 429 Too Many Requests; read again in 30 s$/);
      // Read again after the discard: throttled, and the wait it names is kept.
      expect(reads).toBe(2);
      await page.locator('#dead-letters-read').click();
      await expectText('#dead-letters-updated', /^not read: the API asked for a wait; read again in \d+ s$/);
      await page.waitForTimeout(500);
      expect(reads).toBe(2);
    } finally {
      release();
      await page.unrouteAll({ behavior: 'wait' });
    }
  });
});

/** The reads of the three panels that refresh on a timer (GET /nodes, /executions, /config/events). */
const PANEL_READS = /\/(nodes|executions|config\/events)(\?.*)?$/;

// What a panel's table held at most since watchRows(), its rows counted at each change.
type Watched = {
  document: { querySelector(selector: string): { childElementCount: number } | null };
  MutationObserver: new (callback: () => void) => { observe(target: unknown, options: { childList: boolean }): void };
  rowsSeen?: Record<string, number>;
};
async function watchRows(): Promise<void> {
  await page.evaluate(() => {
    const window = globalThis as unknown as Watched;
    const seen: Record<string, number> = { nodes: 0, executions: 0, events: 0 };
    window.rowsSeen = seen;
    for (const panel of Object.keys(seen)) {
      const body = window.document.querySelector(`#${panel} tbody`);
      new window.MutationObserver(() => (seen[panel] = Math.max(seen[panel] ?? 0, body?.childElementCount ?? 0))).observe(body, { childList: true });
    }
  });
}
async function rowsSeen(): Promise<Record<string, number> | undefined> {
  return page.evaluate(() => (globalThis as unknown as Watched).rowsSeen);
}

/** A pill's text and background colours as the page draws them. */
async function pillColours(pill: ReturnType<Page['locator']>): Promise<[string, string]> {
  for (let attempt = 0; ; attempt += 1) {
    const colours = await pill.evaluate((element): [string, string] => {
      const style = (globalThis as unknown as { getComputedStyle(element: unknown): { color: string; backgroundColor: string } }).getComputedStyle(element);
      return [style.color, style.backgroundColor];
    });
    // The page redraws its tables as it polls: a pill replaced between being found and being read
    // has no computed style (empty strings); the locator finds the new one on the next read.
    if (colours[0] !== '' || attempt >= 40) return colours;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

// Page-side predicates run in the browser (as functions: the page's CSP forbids evaluating
// strings); this project compiles without DOM types, hence the casts.
type Doc = { querySelector(selector: string): { getAttribute(name: string): string | null; textContent: string | null } | null };
type Focused = { document: { activeElement: { getAttribute(name: string): string | null; textContent: string | null } | null } };
async function expectAttribute(id: string, value: string): Promise<void> {
  await page.waitForFunction(
    ([selector, expected]) => (globalThis as unknown as { document: Doc }).document.querySelector(selector)?.getAttribute('aria-valuenow') === expected,
    [`tr[data-execution="${id}"] [role=progressbar]`, value] as const,
    { timeout: 10_000 },
  );
}

/** Waits for a read that changes the Lag the nodes table shows for `node`. */
async function nextLag(node: string): Promise<void> {
  const selector = `#nodes tr[data-node="${node}"] td:nth-child(4)`;
  const before = await page.locator(selector).textContent();
  await page.waitForFunction(
    ([where, shown]) => {
      const now = (globalThis as unknown as { document: Doc }).document.querySelector(where)?.textContent;
      return now !== undefined && now !== shown;
    },
    [selector, before] as const,
    { timeout: 10_000 },
  );
}

async function expectMessage(pattern: RegExp, timeout = 10_000): Promise<void> {
  await expectText('#message', pattern, timeout);
}

async function expectText(selector: string, pattern: RegExp, timeout = 10_000): Promise<void> {
  await page.waitForFunction(
    ([where, source]) => new RegExp(source).test((globalThis as unknown as { document: Doc }).document.querySelector(where)?.textContent ?? ''),
    [selector, pattern.source] as const,
    { timeout },
  );
}
