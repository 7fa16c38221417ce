/**
 * Telling a process by its pid and start time: a later process given the same pid is not the one
 * that recorded it. The start time comes from Linux's /proc; elsewhere only the pid is checked.
 */
import { spawnSync } from 'node:child_process';
import { processRuns, processRunsAs, processStart } from '../../../local/process-runs';

const onLinux = processStart() !== undefined;
/** A process that has ended: its pid is free. */
const ended = spawnSync(process.execPath, ['-e', '0']).pid as number;

(onLinux ? test : test.skip)("a process's start time is read, fixed for its life, and another process's differs", () => {
  const own = processStart() as number;
  expect(Number.isSafeInteger(own)).toBe(true);
  expect(processStart(process.pid)).toBe(own);
  // The parent started this process, so at or before it; a child spawned now starts later.
  expect(processStart(process.ppid) as number).toBeLessThanOrEqual(own);
  expect(processStart(ended)).toBeUndefined();
});

(onLinux ? test : test.skip)('a running pid with another start time than the recorded one is not the recorder', () => {
  expect(processRuns(process.ppid)).toBe(true);
  expect(processRunsAs(process.ppid, (processStart(process.ppid) as number) + 1)).toBe(false);
  expect(processRunsAs(process.ppid, processStart(process.ppid))).toBe(true);
});

test('without a recorded start time the pid probe alone decides', () => {
  expect(processRunsAs(process.pid, undefined)).toBe(true);
  expect(processRunsAs(ended, undefined)).toBe(false);
  expect(processRunsAs(ended, 12345)).toBe(false);
});
