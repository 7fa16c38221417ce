/**
 * An execution's life through the status API over real HTTP: a node creates and updates it, a
 * client polls it, every phase pair is tried, and a client dismisses it.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { api } from '../../support/cluster-client';
import {
  PHASES,
  create,
  dismiss,
  executionIn,
  executionPath,
  expectUnchanged,
  put,
  read,
  sleep,
  stored,
  write,
  type Phase,
} from './support';

jest.setTimeout(30_000);

describe('writing a status (PUT /executions/{executionId})', () => {
  test('create: 201, version 1, the calling node recorded, server times set', async () => {
    const id = randomUUID();
    const before = Date.now();
    const response = await put(id, { phase: 'QUEUED', processName: 'gs:Buffer', userName: 'alice', task: 'accepted' }, 'slave-2');
    expect(response.status).toBe(201);
    expect(response.headers.get('content-type')).toMatch(/^application\/json/);
    expect(response.body).toMatchObject({
      executionId: id,
      processName: 'gs:Buffer',
      phase: 'QUEUED',
      progress: 0,
      task: 'accepted',
      nodeId: 'slave-2',
      userName: 'alice',
      version: 1,
    });
    expect(response.body.completionTime).toBeUndefined();
    expect(Date.parse(response.body.lastUpdated)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(response.body.creationTime)).toBeGreaterThanOrEqual(before - 1000);
    expect(response.headers.get('etag')).toBeTruthy();
    // What was answered is what is stored.
    expect(await stored(id)).toEqual(response.body);
  });

  test('create keeps a creationTime the node sends, normalised to UTC', async () => {
    const id = randomUUID();
    const body = await create(id, { creationTime: '2024-05-01T12:00:00+02:00' });
    expect(body.creationTime).toBe('2024-05-01T10:00:00.000Z');
  });

  test('create without processName: 400 naming processName, nothing stored', async () => {
    const id = randomUUID();
    const response = await put(id, { phase: 'QUEUED' });
    expect(response.status).toBe(400);
    expect(response.body).toMatchObject({ code: 'INVALID_REQUEST', field: 'processName' });
    expect(response.body.message).toMatch(/processName/);
    expect((await read(id)).status).toBe(404);
  });

  test.each(['RUNNING', 'SUCCEEDED', 'DISMISSING', 'FAILED'] as const)(
    'create in phase %s: 409 (a new execution starts QUEUED), nothing stored',
    async (phase) => {
      const id = randomUUID();
      const response = await put(id, { phase, processName: 'gs:Buffer' });
      expect(response.status).toBe(409);
      expect(response.body.code).toBe('INVALID_TRANSITION');
      expect(response.body.message).toContain(`phase ${phase}`);
      expect((await read(id)).status).toBe(404);
    },
  );

  test('progress updates: 200, the version increments by one per write, progress and task stored', async () => {
    const id = randomUUID();
    await create(id);
    let expectedVersion = 1;
    for (const [progress, task] of [
      [0, 'starting'],
      [25, 'reading input'],
      [60, 'buffering'],
      [99, 'encoding'],
    ] as const) {
      const response = await put(id, { phase: 'RUNNING', progress, task }, 'slave-1');
      expectedVersion += 1;
      expect(response.status).toBe(200);
      expect(response.body).toMatchObject({ phase: 'RUNNING', progress, task, version: expectedVersion, nodeId: 'slave-1' });
    }
    // Omitted fields keep their stored value.
    const heartbeat = await write(id, { phase: 'RUNNING' }, 'slave-1');
    expect(heartbeat).toMatchObject({ progress: 99, task: 'encoding', processName: 'gs:Buffer', version: expectedVersion + 1 });
    expect(heartbeat.completionTime).toBeUndefined();
  });

  test('succeed: progress 100, completionTime set once and never changed by later same-phase writes', async () => {
    const id = randomUUID();
    await create(id);
    await write(id, { phase: 'RUNNING', progress: 40 });
    const before = Date.now();
    const succeeded = await write(id, { phase: 'SUCCEEDED', resultLocation: `https://results.example/${id}` });
    expect(succeeded).toMatchObject({ phase: 'SUCCEEDED', progress: 100, version: 3, resultLocation: `https://results.example/${id}` });
    expect(Date.parse(succeeded.completionTime!)).toBeGreaterThanOrEqual(before - 1000);
    expect(succeeded.exception).toBeUndefined();

    await sleep(20);
    const again = await write(id, { phase: 'SUCCEEDED', task: 'outputs uploaded', progress: 50 });
    expect(again.version).toBe(4);
    expect(again.completionTime).toBe(succeeded.completionTime);
    expect(again.progress).toBe(100);
    expect(again.task).toBe('outputs uploaded');
    expect(Date.parse(again.lastUpdated)).toBeGreaterThan(Date.parse(succeeded.lastUpdated));
    expect((await stored(id)).completionTime).toBe(succeeded.completionTime);
  });

  test('a succeeded execution keeps its result: a write naming another resultLocation is 409, nothing written; a repeat is accepted', async () => {
    const { id, status } = await executionIn('SUCCEEDED');
    const replaced = await put(id, { phase: 'SUCCEEDED', resultLocation: `https://elsewhere.example/${id}` }, 'slave-1');
    expect(replaced.status).toBe(409);
    expect(replaced.body).toMatchObject({ code: 'IMMUTABLE_FIELD', message: expect.stringContaining('resultLocation') });
    await expectUnchanged(id, status);

    const repeated = await write(id, { phase: 'SUCCEEDED', resultLocation: status.resultLocation });
    expect(repeated.resultLocation).toBe(status.resultLocation);
  });

  test('fail with an exception: FAILED, exception stored, completionTime set once', async () => {
    const id = randomUUID();
    await create(id);
    await write(id, { phase: 'RUNNING', progress: 70 });
    const exception = { code: 'NoApplicableCode', message: 'Process failed during execution: out of memory' };
    const failed = await write(id, { phase: 'FAILED', exception }, 'slave-1');
    expect(failed).toMatchObject({ phase: 'FAILED', exception, progress: 70, nodeId: 'slave-1', version: 3 });
    expect(failed.completionTime).toEqual(expect.any(String));

    await sleep(20);
    const again = await write(id, { phase: 'FAILED' }, 'slave-1');
    expect(again.completionTime).toBe(failed.completionTime);
    expect(again.exception).toEqual(exception);
  });

  test('a later write cannot change processName: 409, nothing written', async () => {
    const { id, status } = await executionIn('RUNNING');
    const response = await put(id, { phase: 'RUNNING', processName: 'gs:Other' });
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('IMMUTABLE_FIELD');
    await expectUnchanged(id, status);
  });
});

describe('polling (GET /executions/{executionId})', () => {
  test('ETag; If-None-Match with it answers 304 with no body; a write changes the tag', async () => {
    const id = randomUUID();
    await create(id);
    await write(id, { phase: 'RUNNING', progress: 5 });

    const first = await read(id);
    expect(first.status).toBe(200);
    const etag = first.headers.get('etag');
    expect(etag).toMatch(/^"[^"]+"$/);
    expect(first.body).toMatchObject({ executionId: id, phase: 'RUNNING', progress: 5, version: 2 });

    const again = await read(id);
    expect(again.headers.get('etag')).toBe(etag);

    const notModified = await read(id, { 'if-none-match': etag! });
    expect(notModified.status).toBe(304);
    expect(notModified.text).toBe('');
    expect(notModified.headers.get('etag')).toBe(etag);

    // A list of tags, one of them weak, still matches.
    const listed = await read(id, { 'if-none-match': `"nope", W/${etag}` });
    expect(listed.status).toBe(304);

    await write(id, { phase: 'RUNNING', progress: 6 });
    const changed = await read(id, { 'if-none-match': etag! });
    expect(changed.status).toBe(200);
    expect(changed.body.progress).toBe(6);
    expect(changed.headers.get('etag')).not.toBe(etag);
    expect(changed.headers.get('etag')).toBeTruthy();
  });

  test('the ETag a write returns is the one a poll returns', async () => {
    const id = randomUUID();
    await create(id);
    const written = await put(id, { phase: 'RUNNING', progress: 1 });
    const polled = await read(id, { 'if-none-match': written.headers.get('etag')! });
    expect(polled.status).toBe(304);
  });

  test('Retry-After on an active status, none once completed', async () => {
    const { id } = await executionIn('RUNNING');
    const running = await read(id);
    // cdk.json status.defaultRetryAfterSeconds
    expect(running.headers.get('retry-after')).toBe('5');
    expect(running.headers.get('cache-control')).toBe('no-cache');

    const queued = await executionIn('QUEUED');
    expect((await read(queued.id)).headers.get('retry-after')).toBe('5');

    await write(id, { phase: 'SUCCEEDED' });
    const done = await read(id);
    expect(done.status).toBe(200);
    expect(done.headers.get('retry-after')).toBeNull();
  });

  test("Retry-After follows the node's nextPoll hint", async () => {
    const id = randomUUID();
    await create(id);
    await write(id, { phase: 'RUNNING', nextPoll: new Date(Date.now() + 30_000).toISOString() });
    const seconds = Number((await read(id)).headers.get('retry-after'));
    expect(seconds).toBeGreaterThanOrEqual(25);
    expect(seconds).toBeLessThanOrEqual(30);
  });

  test('unknown id: 404 JSON error', async () => {
    const response = await read(randomUUID());
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'NOT_FOUND' });
    expect(response.body.message).toEqual(expect.any(String));
  });

  test('polls need no token (requireAuthForReads is off)', async () => {
    const { id } = await executionIn('QUEUED');
    const response = await api('GET', executionPath(id));
    expect(response.status).toBe(200);
    expect(response.body.executionId).toBe(id);
  });
});

describe('phase transitions through the API (REFERENCE.md 1)', () => {
  // Written out from the reference table, not imported from the product code.
  const allowed: Record<Exclude<Phase, 'DISMISSING'>, Phase[]> = {
    QUEUED: ['QUEUED', 'RUNNING', 'DISMISSING', 'FAILED'],
    RUNNING: ['RUNNING', 'SUCCEEDED', 'DISMISSING', 'FAILED'],
    SUCCEEDED: ['SUCCEEDED'],
    FAILED: ['FAILED'],
  };
  const pairs = (Object.keys(allowed) as Array<keyof typeof allowed>).flatMap((from) =>
    PHASES.map((to) => [from, to, allowed[from].includes(to)] as const),
  );

  test.each(pairs)('%s -> %s allowed: %s', async (from, to, ok) => {
    const { id, status } = await executionIn(from);
    const response = await put(id, { phase: to, exception: to === 'FAILED' ? { code: 'X', message: 'y' } : undefined }, 'slave-1');
    if (ok) {
      expect(response.status).toBe(200);
      // A dismiss recorded by another node keeps the node running the execution (GeoServer's cancel
      // saves DISMISSING from whichever node the client reached); any other write is its writer's.
      expect(response.body).toMatchObject({ phase: to, version: status.version + 1, nodeId: to === 'DISMISSING' ? status.nodeId : 'slave-1' });
      expect(await stored(id)).toEqual(response.body);
    } else {
      expect(response.status).toBe(409);
      expect(response.body).toMatchObject({
        code: 'INVALID_TRANSITION',
        message: `Cannot switch process status from ${from} to ${to}`,
        from,
        to,
      });
      await expectUnchanged(id, status);
    }
  });

  test.each(['QUEUED', 'RUNNING'] as const)('DISMISSING -> %s: 409 EXECUTION_DISMISSED, nothing written', async (to) => {
    const { id, status } = await executionIn('DISMISSING');
    const response = await put(id, { phase: to }, 'slave-1');
    expect(response.status).toBe(409);
    expect(response.body.code).toBe('EXECUTION_DISMISSED');
    await expectUnchanged(id, status);
  });

  test('DISMISSING -> DISMISSING and -> FAILED are accepted', async () => {
    const a = await executionIn('DISMISSING');
    expect(await write(a.id, { phase: 'DISMISSING' })).toMatchObject({ phase: 'DISMISSING', version: a.status.version + 1 });
    const b = await executionIn('DISMISSING');
    const failed = await write(b.id, { phase: 'FAILED', exception: { code: 'Cancelled', message: 'stopped' } });
    expect(failed).toMatchObject({ phase: 'FAILED', exception: { code: 'Cancelled', message: 'stopped' } });
    expect(failed.completionTime).toEqual(expect.any(String));
  });

  test('DISMISSING -> SUCCEEDED ends FAILED (a job that succeeds after a dismiss)', async () => {
    const { id } = await executionIn('DISMISSING');
    const response = await put(id, { phase: 'SUCCEEDED' });
    expect(response.status).toBe(200);
    expect(response.body).toMatchObject({ phase: 'FAILED', exception: { code: 'Dismissed' } });
  });

  test('a node may itself write DISMISSING from RUNNING, and then only stop it', async () => {
    const { id, status } = await executionIn('RUNNING');
    expect(await write(id, { phase: 'DISMISSING' }, 'slave-1')).toMatchObject({ phase: 'DISMISSING', version: status.version + 1 });
    const refused = await put(id, { phase: 'RUNNING' }, 'slave-1');
    expect(refused.status).toBe(409);
    expect((await stored(id)).phase).toBe('DISMISSING');
  });
});

describe('dismiss (DELETE /executions/{executionId})', () => {
  test('while running: 202 DISMISSING, the node is told to stop, its success is stored FAILED, then 410', async () => {
    const { id } = await executionIn('RUNNING', {}, 'slave-1');

    const dismissed = await dismiss(id, 'master-1');
    expect(dismissed.status).toBe(202);
    expect(dismissed.body).toMatchObject({ executionId: id, phase: 'DISMISSING', version: 3 });
    expect(dismissed.headers.get('etag')).toBeTruthy();

    const polled = await stored(id);
    expect(polled.phase).toBe('DISMISSING');

    // The node's next progress write is refused and says why, with the status it should stop.
    const progress = await put(id, { phase: 'RUNNING', progress: 80 }, 'slave-1');
    expect(progress.status).toBe(409);
    expect(progress.body.code).toBe('EXECUTION_DISMISSED');
    expect(progress.body.message).toContain(id);
    expect(progress.body.status).toMatchObject({ executionId: id, phase: 'DISMISSING', version: 3 });
    await expectUnchanged(id, polled);

    // It finished anyway: GeoServer's rule, a job that succeeds after a dismiss ends FAILED.
    const finished = await put(id, { phase: 'SUCCEEDED' }, 'slave-1');
    expect(finished.status).toBe(200);
    expect(finished.headers.get('x-execution-dismissed')).toBe('true');
    expect(finished.body).toMatchObject({ phase: 'FAILED', exception: { code: 'Dismissed' }, version: 4 });
    expect(finished.body.completionTime).toEqual(expect.any(String));
    expect(await stored(id)).toMatchObject({ phase: 'FAILED', exception: { code: 'Dismissed' } });

    const second = await dismiss(id, 'slave-2');
    expect(second.status).toBe(410);
    expect(second.body.code).toBe('ALREADY_DISMISSED');
    expect((await stored(id)).version).toBe(4);
  });

  test('a second DELETE while still DISMISSING: 410, nothing written', async () => {
    const { id, status } = await executionIn('DISMISSING');
    const second = await dismiss(id);
    expect(second.status).toBe(410);
    await expectUnchanged(id, status);
  });

  test('a queued execution becomes DISMISSING; a FAILED write without exception records Dismissed', async () => {
    const { id } = await executionIn('QUEUED');
    expect((await dismiss(id)).body.phase).toBe('DISMISSING');
    const failed = await write(id, { phase: 'FAILED' }, 'slave-1');
    expect(failed).toMatchObject({ phase: 'FAILED', exception: { code: 'Dismissed' } });
  });

  test.each(['SUCCEEDED', 'FAILED'] as const)('a %s execution: 200 removed, then GET 404', async (phase) => {
    const { id, status } = await executionIn(phase);
    const response = await dismiss(id, 'slave-2');
    expect(response.status).toBe(200);
    expect(response.body).toEqual({ removed: true, status });
    expect((await read(id)).status).toBe(404);
    expect((await dismiss(id)).status).toBe(404);
  });

  test('unknown id: 404', async () => {
    const response = await dismiss(randomUUID());
    expect(response.status).toBe(404);
    expect(response.body.code).toBe('NOT_FOUND');
  });

  test('needs a node token: 401 without, 403 with a bad one, and nothing changes', async () => {
    const { id, status } = await executionIn('RUNNING');
    const anonymous = await api('DELETE', executionPath(id));
    expect(anonymous.status).toBe(401);
    const forged = await api('DELETE', executionPath(id), { token: `master-1.${randomBytes(32).toString('base64url')}` });
    expect(forged.status).toBe(403);
    await expectUnchanged(id, status);
  });
});
