/**
 * Readiness of a supervised emulator child (local/supervisor.ts waitUntilReady): a child that
 * exits is reported as soon as it goes, even while a probe waits on a port that something else
 * (another process that took the port first) accepted and never answers.
 */
import { spawn } from 'node:child_process';
import { LocalStartError } from '../../../local/errors';
import { ManagedChild, waitUntilReady } from '../../../local/supervisor';

test('a child that exits ends a probe that never answers, with its exit and last output', async () => {
  const child = new ManagedChild(
    'stand-in emulator',
    spawn('/bin/sh', ['-c', 'echo "cannot bind its port" >&2; exit 3'], { detached: true, stdio: ['pipe', 'pipe', 'pipe'] }),
  );
  try {
    const ready = waitUntilReady('stand-in emulator', 'http://127.0.0.1:1', 60_000, child, () => new Promise<never>(() => undefined));
    await expect(ready).rejects.toBeInstanceOf(LocalStartError);
    await expect(ready).rejects.toThrow(
      'stand-in emulator exited with code 3 before it was ready on http://127.0.0.1:1; last output: cannot bind its port',
    );
  } finally {
    await child.stop();
  }
});
