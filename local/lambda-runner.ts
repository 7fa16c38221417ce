/**
 * Runs bundled functions the way Lambda does: each in its own isolated environment (a worker
 * thread with its own process.env), started on its first invocation (its cold start: module
 * scope initialised once, before the invocation's timeout starts), warm for later invocations,
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

/** Told of a function's invocation when it ended: its name, when it was asked for and when it ended (`performance.now()`). */
export type InvocationListener = (functionName: string, startedAt: number, endedAt: number) => void;

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  timer: NodeJS.Timeout;
  /** The execution environment running the invocation. */
  worker: Worker;
}

export class LocalFunctionHost {
  private worker: Worker | undefined;
  /** The worker once its module scope is initialised; set by the first invocation. */
  private started: Promise<Worker> | undefined;
  private stopped = false;
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  /** CPU of the environments replaced so far, and of the current one as of its latest answer. */
  private retiredCpuMs = 0;
  private currentCpuMs = 0;
  private answered = 0;

  /**
   * `output` receives what the function writes to stdout and stderr (its log lines); by default this process's own.
   * `onInvocation` is told of every invocation once it ended, answered or not (`performance.now()` times).
   */
  constructor(
    readonly fn: LocalFunction,
    private readonly sharedEnvironment: Record<string, string>,
    private readonly output?: Writable,
    private readonly onInvocation?: InvocationListener,
  ) {}

  /**
   * The CPU time the function's execution environments have spent (cold starts included), as of
   * each one's latest answer, and how many invocations they answered.
   */
  get usage(): { cpuMs: number; invocations: number } {
    return { cpuMs: this.retiredCpuMs + this.currentCpuMs, invocations: this.answered };
  }

  /** Whether the function has had its cold start (a worker is running it). */
  get warm(): boolean {
    return this.worker !== undefined;
  }

  invoke<T = unknown>(event: unknown): Promise<T> {
    const listener = this.onInvocation;
    if (!listener) return this.invokeOnce<T>(event);
    const startedAt = performance.now();
    const invocation = this.invokeOnce<T>(event);
    const told = () => listener(this.fn.name, startedAt, performance.now());
    invocation.then(told, told);
    return invocation;
  }

  private invokeOnce<T>(event: unknown): Promise<T> {
    return this.start().then(
      (worker) =>
        new Promise<T>((resolve, reject) => {
          const id = this.nextId++;
          const timer = setTimeout(() => {
            this.pending.delete(id);
            reject(new FunctionError(this.fn.name, `timed out after ${this.fn.timeoutMs} ms`));
            this.retire(worker);
          }, this.fn.timeoutMs);
          this.pending.set(id, { resolve: resolve as (value: unknown) => void, reject, timer, worker });
          worker.postMessage({ id, event, requestId: randomUUID() });
        }),
    );
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const pending of this.pending.values()) clearTimeout(pending.timer);
    await Promise.all([this.worker, ...this.retired].map((worker) => worker?.terminate()));
  }

  /** Environments an invocation timed out in, ended once the invocations still running in them end. */
  private readonly retired = new Set<Worker>();

  /**
   * Lambda ends an execution environment whose invocation timed out (the next invocation has a
   * cold start), so a function that blocked its thread or left work running cannot go on. Here
   * one environment runs a function's concurrent invocations: the others running in it may
   * still finish (each in Lambda has its own environment), then it ends; new invocations start
   * a new one.
   */
  private retire(worker: Worker): void {
    if (this.worker === worker) {
      this.worker = undefined;
      this.started = undefined;
      this.retiredCpuMs += this.currentCpuMs;
      this.currentCpuMs = 0;
    }
    this.retired.add(worker);
    this.endIfIdle(worker);
  }

  private endIfIdle(worker: Worker): void {
    if (!this.retired.has(worker) || [...this.pending.values()].some((pending) => pending.worker === worker)) return;
    this.retired.delete(worker);
    void worker.terminate();
  }

  /**
   * The worker, started on first use as Lambda starts an execution environment on a
   * function's first invocation. An init failure (the bundle throws at import) fails that
   * invocation and every later one, as Lambda's would keep failing.
   */
  private start(): Promise<Worker> {
    if (this.stopped) return Promise.reject(new FunctionError(this.fn.name, 'the local cluster is stopping'));
    this.started ??= new Promise<Worker>((resolve, reject) => {
      const { fn, output } = this;
      const worker = new Worker(path.join(__dirname, 'lambda-worker.cjs'), {
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
          ...this.sharedEnvironment,
          ...fn.environment,
        },
        stdout: output !== undefined,
        stderr: output !== undefined,
      });
      this.worker = worker;
      if (output) {
        worker.stdout.pipe(output, { end: false });
        worker.stderr.pipe(output, { end: false });
      }
      worker.once('message', (message: { ready?: boolean; initError?: string; cpuMs?: number }) => {
        this.currentCpuMs = message.cpuMs ?? 0;
        if (message.initError) reject(new FunctionError(fn.name, `init failed: ${message.initError}`));
        else resolve(worker);
      });
      worker.once('error', reject);
      // A worker that dies (an uncaught error in a function's background work, or an exit
      // during its init) is replaced on the next invocation, as Lambda replaces a failed
      // execution environment. Dying before it was ready fails the invocations waiting for it
      // (once ready, the rejection changes nothing).
      worker.once('exit', (code) => {
        reject(new FunctionError(fn.name, `its execution environment exited during its init (code ${code})`));
        this.retired.delete(worker);
        if (this.worker === worker) {
          this.worker = undefined;
          this.started = undefined;
          this.retiredCpuMs += this.currentCpuMs;
          this.currentCpuMs = 0;
        }
        for (const [id, pending] of this.pending) {
          if (pending.worker !== worker) continue;
          clearTimeout(pending.timer);
          pending.reject(new FunctionError(fn.name, `its execution environment exited (code ${code})`));
          this.pending.delete(id);
        }
      });
      worker.on('message', (message: { id?: number; result?: unknown; error?: { message: string }; cpuMs?: number }) => {
        if (message.id === undefined) return;
        if (this.worker === worker && message.cpuMs !== undefined) this.currentCpuMs = message.cpuMs;
        this.answered += 1;
        const pending = this.pending.get(message.id);
        if (!pending) return;
        this.pending.delete(message.id);
        clearTimeout(pending.timer);
        if (message.error) pending.reject(new FunctionError(fn.name, message.error.message));
        else pending.resolve(message.result);
        this.endIfIdle(worker);
      });
      worker.unref();
    });
    return this.started;
  }
}
