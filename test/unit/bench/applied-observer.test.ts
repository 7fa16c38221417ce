import { AppliedObserver } from '../../../bench/applied-observer';

const line = (node: string, sequence: number, timestamp: string) =>
  JSON.stringify({ level: 'INFO', message: 'batch applied', timestamp, node, sequence, applied: 1 });

describe('AppliedObserver (when every node applied, from the apply functions\' log lines)', () => {
  it('answers with the instant the last node reached the sequence, from the lines\' own timestamps', async () => {
    const observer = new AppliedObserver(['a', 'b'], async () => [0, 0]);
    const waited = observer.applied(2, 5000);
    observer.line(line('a', 2, '2026-12-03T06:00:00.010Z'));
    observer.line('{"level":"INFO","message":"configuration change published","sequence":2}');
    observer.line('not json "batch applied"');
    observer.line(line('b', 1, '2026-12-03T06:00:00.020Z'));
    observer.line(line('b', 3, '2026-12-03T06:00:00.045Z'));
    await expect(waited).resolves.toBe(Date.parse('2026-12-03T06:00:00.045Z'));
    // An earlier sequence is answered from what was already seen: the first line at or past it.
    await expect(observer.applied(1, 5000)).resolves.toBe(Date.parse('2026-12-03T06:00:00.020Z'));
    expect(observer.fallbacks).toBe(0);
  });

  it('ignores a line that moves a node backwards (a re-delivered, already applied batch)', async () => {
    const observer = new AppliedObserver(['a'], async () => [0]);
    observer.line(line('a', 5, '2026-12-03T06:00:00.000Z'));
    observer.line(line('a', 4, '2026-12-03T06:00:01.000Z'));
    await expect(observer.applied(5, 5000)).resolves.toBe(Date.parse('2026-12-03T06:00:00.000Z'));
  });

  it('falls back to reading the cursors when no line comes, and counts it', async () => {
    let reads = 0;
    const observer = new AppliedObserver(['a'], async () => [++reads >= 2 ? 7 : 6], 20);
    const before = Date.now();
    const at = await observer.applied(7, 5000);
    expect(at).toBeGreaterThanOrEqual(before);
    expect(reads).toBe(2);
    expect(observer.fallbacks).toBe(1);
  });

  it('gives up at the deadline', async () => {
    const observer = new AppliedObserver(['a'], async () => [0], 10);
    await expect(observer.applied(1, 150)).rejects.toThrow('sequence 1 not applied on every node within 150 ms');
  });
});
