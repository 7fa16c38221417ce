/**
 * Concurrent writers on one execution, over real HTTP: compare-and-swap with retry never loses an
 * update or produces an invalid phase sequence; If-Match asks for strict compare-and-swap.
 */
import { randomUUID } from 'node:crypto';
import { create, dismiss, executionIn, expectUnchanged, put, read, stored } from './support';

jest.setTimeout(30_000);

describe('concurrent writers', () => {
  test('20 parallel RUNNING writes from two nodes all succeed; no update is lost', async () => {
    const id = randomUUID();
    await create(id);
    const writes = 20;
    const responses = await Promise.all(
      Array.from({ length: writes }, (_, i) =>
        put(id, { phase: 'RUNNING', progress: i + 1, task: `step ${i + 1}` }, i % 2 === 0 ? 'master-1' : 'slave-1'),
      ),
    );
    const failures = responses.filter((response) => response.status !== 200).map((response) => `${response.status} ${response.text}`);
    expect(failures).toEqual([]);
    // Each write got its own version: none overwrote another.
    const versions = responses.map((response) => response.body.version as number).sort((a, b) => a - b);
    expect(versions).toEqual(Array.from({ length: writes }, (_, i) => i + 2));

    const final = await stored(id);
    expect(final.version).toBe(1 + writes);
    expect(final.phase).toBe('RUNNING');
    // The stored state is exactly what the write that got the last version produced.
    const last = responses.find((response) => response.body.version === final.version)!;
    expect(final).toEqual(last.body);
    expect(['master-1', 'slave-1']).toContain(final.nodeId);
  });

  test('20 progress writers racing a completer: lastUpdated never decreases, completionTime <= lastUpdated', async () => {
    // Several rounds: a backwards step needs an unlucky interleaving, and each round is cheap.
    for (let round = 0; round < 4; round++) {
      const { id } = await executionIn('RUNNING');
      const responses = await Promise.all([
        ...Array.from({ length: 20 }, (_, i) =>
          put(id, { phase: 'RUNNING', progress: i + 1 }, i % 2 === 0 ? 'master-1' : 'slave-1'),
        ),
        put(id, { phase: 'SUCCEEDED' }, 'slave-2'),
      ]);
      const completer = responses[20]!;
      expect(completer.status).toBe(200);
      // Writers that lost to the completion are refused; every accepted write is a version.
      const accepted = responses.filter((response) => response.status === 200).map((response) => response.body);
      for (const response of responses) expect([200, 409]).toContain(response.status);
      accepted.sort((a, b) => a.version - b.version);
      for (let i = 1; i < accepted.length; i++) {
        expect({ version: accepted[i]!.version, lastUpdated: accepted[i]!.lastUpdated >= accepted[i - 1]!.lastUpdated }).toEqual({
          version: accepted[i]!.version,
          lastUpdated: true,
        });
      }
      const final = await stored(id);
      expect(final.phase).toBe('SUCCEEDED');
      expect(final.completionTime! <= final.lastUpdated).toBe(true);
      expect(final.lastUpdated >= accepted[accepted.length - 1]!.lastUpdated).toBe(true);
    }
  });

  test('racing SUCCEEDED against FAILED from two nodes: exactly one wins, the other gets 409', async () => {
    for (let round = 0; round < 5; round++) {
      const { id, status } = await executionIn('RUNNING');
      const [succeeded, failed] = await Promise.all([
        put(id, { phase: 'SUCCEEDED' }, 'master-1'),
        put(id, { phase: 'FAILED', exception: { code: 'NoApplicableCode', message: 'lost the race' } }, 'slave-1'),
      ]);
      const statuses = [succeeded.status, failed.status].sort();
      expect(statuses).toEqual([200, 409]);
      const [winner, loser, winnerPhase, loserPhase] =
        succeeded.status === 200
          ? [succeeded, failed, 'SUCCEEDED', 'FAILED']
          : [failed, succeeded, 'FAILED', 'SUCCEEDED'];
      expect(loser.body).toMatchObject({
        code: 'INVALID_TRANSITION',
        message: `Cannot switch process status from ${winnerPhase} to ${loserPhase}`,
      });
      const final = await stored(id);
      expect(final).toEqual(winner.body);
      expect(final).toMatchObject({ phase: winnerPhase, version: status.version + 1 });
    }
  });

  test('racing the same completed phase from two nodes: both succeed, completionTime set once', async () => {
    const { id, status } = await executionIn('RUNNING');
    const [a, b] = await Promise.all([put(id, { phase: 'SUCCEEDED' }, 'master-1'), put(id, { phase: 'SUCCEEDED' }, 'slave-1')]);
    expect([a.status, b.status]).toEqual([200, 200]);
    expect(a.body.completionTime).toBe(b.body.completionTime);
    const final = await stored(id);
    expect(final.version).toBe(status.version + 2);
    expect(final.completionTime).toBe(a.body.completionTime);
  });

  test('If-Match: the current ETag writes; a stale one is 412 and writes nothing', async () => {
    const id = randomUUID();
    const created = await put(id, { phase: 'QUEUED', processName: 'gs:Buffer' });
    const staleTag = created.headers.get('etag')!;

    const strict = await put(id, { phase: 'RUNNING', progress: 10 }, 'master-1', { 'if-match': staleTag });
    expect(strict.status).toBe(200);
    expect(strict.body.version).toBe(2);

    const before = await stored(id);
    const stale = await put(id, { phase: 'RUNNING', progress: 20 }, 'slave-1', { 'if-match': staleTag });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ code: 'PRECONDITION_FAILED', currentVersion: 2 });
    await expectUnchanged(id, before);

    const garbage = await put(id, { phase: 'RUNNING' }, 'slave-1', { 'if-match': 'not-an-etag' });
    expect(garbage.status).toBe(400);
    expect(garbage.body.field).toBe('If-Match');
    await expectUnchanged(id, before);
  });

  test('If-Match compares the whole ETag: a tag of the same version from before a removal, or made up, is 412; * needs an existing status', async () => {
    const id = randomUUID();
    await put(id, { phase: 'QUEUED', processName: 'gs:Buffer' });
    const oldTag = (await put(id, { phase: 'RUNNING' })).headers.get('etag')!;
    expect(oldTag).toMatch(/^"2-[0-9a-z]+"$/);
    await put(id, { phase: 'SUCCEEDED', progress: 100 });
    expect((await dismiss(id)).status).toBe(200);
    // The id is used again: a new execution, at version 2 again, with another tag.
    await put(id, { phase: 'QUEUED', processName: 'gs:Other', userName: 'bob' });
    const current = await put(id, { phase: 'RUNNING' });
    expect(current.body.version).toBe(2);
    const currentTag = current.headers.get('etag')!;
    expect(currentTag).not.toBe(oldTag);

    const before = await stored(id);
    const stale = await put(id, { phase: 'FAILED', exception: { code: 'x', message: 'stale writer' } }, 'slave-1', { 'if-match': oldTag });
    expect([stale.status, stale.body.code]).toEqual([412, 'PRECONDITION_FAILED']);
    const madeUp = await put(id, { phase: 'RUNNING', progress: 5 }, 'slave-1', { 'if-match': '"2-zzzzzzzz"' });
    expect(madeUp.status).toBe(412);
    await expectUnchanged(id, before);

    // A list holding the current tag, the tag without its quotes, and *: each holds.
    expect((await put(id, { phase: 'RUNNING', progress: 10 }, 'slave-1', { 'if-match': `${oldTag}, ${currentTag}` })).status).toBe(200);
    const versionBefore = (await stored(id)).version;
    const tag = (await read(id)).headers.get('etag')!;
    expect((await put(id, { phase: 'RUNNING', progress: 20 }, 'slave-1', { 'if-match': tag.slice(1, -1) })).body.version).toBe(versionBefore + 1);
    expect((await put(id, { phase: 'RUNNING', progress: 30 }, 'slave-1', { 'if-match': '*' })).status).toBe(200);
    // * on an execution that does not exist: 412, nothing created.
    const missing = randomUUID();
    expect((await put(missing, { phase: 'QUEUED', processName: 'gs:Buffer' }, 'slave-1', { 'if-match': '*' })).status).toBe(412);
    expect((await read(missing)).status).toBe(404);
    // A weak tag (the protocol documents' form, or this route's made weak by a proxy) never passes
    // the strong comparison: 412, saying so, and nothing written.
    const before40 = await stored(id);
    const weak = await put(id, { phase: 'RUNNING', progress: 40 }, 'slave-1', { 'if-match': `W/${(await read(id)).headers.get('etag')!}` });
    expect([weak.status, weak.body.code, weak.body.message]).toEqual([412, 'PRECONDITION_FAILED', expect.stringContaining('weak ETags only')]);
    await expectUnchanged(id, before40);
  });

  test('If-None-Match: * creates only where nothing is stored, never over another node\'s execution; a listed ETag refuses the write', async () => {
    const id = randomUUID();
    const created = await put(id, { phase: 'QUEUED', processName: 'gs:Buffer' }, 'master-1', { 'if-none-match': '*' });
    expect(created.status).toBe(201);
    const before = await stored(id);
    const taken = await put(id, { phase: 'QUEUED', processName: 'gs:Buffer' }, 'slave-1', { 'if-none-match': '*' });
    expect([taken.status, taken.body.code]).toEqual([412, 'PRECONDITION_FAILED']);
    expect(taken.body.message).toContain('If-None-Match');
    const named = await put(id, { phase: 'RUNNING' }, 'master-1', { 'if-none-match': `"0-0", ${created.headers.get('etag')}` });
    expect(named.status).toBe(412);
    await expectUnchanged(id, before);
    // A tag it does not name: the write goes on; a malformed header is a 400 naming it.
    expect((await put(id, { phase: 'RUNNING' }, 'master-1', { 'if-none-match': '"0-0"' })).status).toBe(200);
    const malformed = await put(id, { phase: 'RUNNING', progress: 3 }, 'master-1', { 'if-none-match': 'not-a-tag' });
    expect([malformed.status, malformed.body.field]).toEqual([400, 'If-None-Match']);
  });

  test('If-Match racing: of two writers holding the same ETag exactly one wins', async () => {
    const id = randomUUID();
    const created = await put(id, { phase: 'QUEUED', processName: 'gs:Buffer' });
    const tag = created.headers.get('etag')!;
    const responses = await Promise.all([
      put(id, { phase: 'RUNNING', progress: 1 }, 'master-1', { 'if-match': tag }),
      put(id, { phase: 'RUNNING', progress: 2 }, 'slave-1', { 'if-match': tag }),
    ]);
    expect(responses.map((response) => response.status).sort()).toEqual([200, 412]);
    const winner = responses.find((response) => response.status === 200)!;
    expect(await stored(id)).toEqual(winner.body);
  });
});
