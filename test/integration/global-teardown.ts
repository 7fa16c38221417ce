import type { ChildProcess } from 'node:child_process';
import { stopSpawned } from '../../local/spawn';

export default async function globalTeardown(): Promise<void> {
  const child = (globalThis as { __clusterProcess?: ChildProcess }).__clusterProcess;
  if (child) await stopSpawned(child);
}
