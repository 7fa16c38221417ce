import type { ChildProcess } from 'node:child_process';
import { stopSpawned } from '../../local/spawn';

export default async function globalTeardown(): Promise<void> {
  const children = (globalThis as { __clusterProcesses?: ChildProcess[] }).__clusterProcesses ?? [];
  await Promise.all(children.map((child) => stopSpawned(child)));
}
