/**
 * Runs bundled functions the way Lambda does: each in its own isolated environment (a worker
 * thread with its own process.env), module scope initialised once, warm for later invocations,
 * with the function's timeout enforced.
 */
import { randomUUID } from 'node:crypto';
import * as path from 'node:path';
import type { Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { LOCAL_ACCOUNT_ID, LOCAL_REGION } from './account';
import type { LocalFunction } from './template';

export class FunctionError extends Error {
  constructor(readonly functionName: string, message: string) {
    super(`${functionName} failed: ${message}`);
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
}

export class LocalFunctionHost {
  private readonly worker: Worker;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  readonly ready: Promise<void>;

  /** `output` receives what the function writes to stdout and stderr (its log lines); by default this process's own. */
  constructor(readonly fn: LocalFunction, sharedEnvironment: Record<string, string>, output?: Writable) {
    this.worker = new Worker(path.join(__dirname, 'lambda-worker.cjs'), {
      workerData: {
        bundleFile: fn.bundleFile,
        handlerExport: fn.handlerExport,
        functionName: fn.logicalId,
        timeoutMs: fn.timeoutMs,
        functionArn: `arn:aws:lambda:${LOCAL_REGION}:${LOCAL_ACCOUNT_ID}:function:${fn.logicalId}`,
      },
      env: {
        PATH: process.env.PATH ?? '',
        TZ: 'UTC',
        AWS_LAMBDA_FUNCTION_NAME: fn.logicalId,
        ...sharedEnvironment,
        ...fn.environment,
      },
      stdout: output !== undefined,
      stderr: output !== undefined,
    });
    if (output) {
      this.worker.stdout.pipe(output, { end: false });
      this.worker.stderr.pipe(output, { end: false });
    }
    this.ready = new Promise((resolve, reject) => {
      this.worker.once('message', (message: { ready?: boolean; initError?: string }) => {
        if (message.initError) reject(new FunctionError(fn.name, `init failed: ${message.initError}`));
        else resolve();
      });
      this.worker.once('error', reject);
    });
    this.worker.on('message', (message: { id?: number; result?: unknown; error?: { message: string } }) => {
      if (message.id === undefined) return;
      const pending = this.pending.get(message.id);
      if (!pending) return;
      this.pending.delete(message.id);
      clearTimeout(pending.timer);
      if (message.error) pending.reject(new FunctionError(fn.name, message.error.message));
      else pending.resolve(message.result);
    });
    this.worker.unref();
  }

  invoke<T = unknown>(event: unknown): Promise<T> {
    const id = this.nextId++;
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new FunctionError(this.fn.name, `timed out after ${this.fn.timeoutMs} ms`));
      }, this.fn.timeoutMs);
      this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer });
      this.worker.postMessage({ id, event, requestId: randomUUID() });
    });
  }

  async stop(): Promise<void> {
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    await this.worker.terminate();
  }
}
