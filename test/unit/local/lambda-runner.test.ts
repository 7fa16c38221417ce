/**
 * The local runtime's function host (local/lambda-runner.ts): a function's execution
 * environment starts on its first invocation, as in Lambda, stays warm, and is replaced when it
 * dies. Each test writes a small CommonJS bundle and runs it in a real worker thread.
 */
import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { FunctionError, LocalFunctionHost, type InvocationListener } from '../../../local/lambda-runner';
import type { LocalFunction } from '../../../local/template';

let dir: string;
const hosts: LocalFunctionHost[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'lambda-runner-'));
});
afterEach(async () => {
  await Promise.all(hosts.splice(0).map((host) => host.stop()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A host for a bundle of `source`; the bundle leaves `<name>.loaded` behind when imported. */
function hostOf(name: string, source: string, timeoutMs = 5_000, onInvocation?: InvocationListener): { host: LocalFunctionHost; marker: string } {
  const bundleFile = path.join(dir, `${name}.js`);
  const marker = path.join(dir, `${name}.loaded`);
  writeFileSync(bundleFile, `require('node:fs').writeFileSync(${JSON.stringify(marker)}, 'x');\n${source}`);
  const fn: LocalFunction = { logicalId: name, name: `Test/${name}`, bundleFile, handlerExport: 'handler', environment: { GREETING: 'hello' }, timeoutMs, policy: [] };
  const host = new LocalFunctionHost(fn, { SHARED: 'shared' }, undefined, onInvocation);
  hosts.push(host);
  return { host, marker };
}

test('a function is not loaded until its first invocation, then stays warm with its module scope', async () => {
  const { host, marker } = hostOf(
    'counter',
    `let calls = 0;
     exports.handler = async (event) => ({ calls: ++calls, echo: event.n, env: process.env.GREETING + ' ' + process.env.SHARED });`,
  );
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(host.warm).toBe(false);
  expect(existsSync(marker)).toBe(false);

  const [first, second] = await Promise.all([host.invoke({ n: 1 }), host.invoke({ n: 2 })]);
  expect(host.warm).toBe(true);
  expect(existsSync(marker)).toBe(true);
  // One cold start for both concurrent invocations: one module scope counted both.
  expect([first, second]).toEqual([
    { calls: 1, echo: 1, env: 'hello shared' },
    { calls: 2, echo: 2, env: 'hello shared' },
  ]);
  expect(await host.invoke({ n: 3 })).toEqual({ calls: 3, echo: 3, env: 'hello shared' });
});

test('every invocation, answered or failed, is told to the listener with its start and end', async () => {
  const told: { fn: string; startedAt: number; endedAt: number }[] = [];
  const { host } = hostOf(
    'timed',
    `exports.handler = async (event) => { const until = Date.now() + event.ms; while (Date.now() < until) {} if (event.fail) throw new Error('refused'); return 'ok'; };`,
    5_000,
    (fn, startedAt, endedAt) => told.push({ fn, startedAt, endedAt }),
  );
  const before = performance.now();
  expect(await host.invoke({ ms: 50 })).toBe('ok');
  await expect(host.invoke({ ms: 0, fail: true })).rejects.toThrow(/refused/);
  const after = performance.now();
  expect(told.map((entry) => entry.fn)).toEqual(['Test/timed', 'Test/timed']);
  const [answered, failed] = told as [(typeof told)[0], (typeof told)[0]];
  // The first one's time holds its cold start and its 50 ms of work; both lie within the calls.
  expect(answered.startedAt).toBeGreaterThanOrEqual(before);
  expect(answered.endedAt - answered.startedAt).toBeGreaterThanOrEqual(49); // Date.now() ticks in whole ms
  expect(failed.startedAt).toBeGreaterThanOrEqual(answered.endedAt);
  expect(failed.endedAt).toBeLessThanOrEqual(after);
});

test("the cold start does not count against the invocation's timeout", async () => {
  // Module scope that takes 600 ms, a handler that answers at once, a timeout of 300 ms.
  const { host } = hostOf('slow-init', `const until = Date.now() + 600; while (Date.now() < until) {}\nexports.handler = async () => 'done';`, 300);
  expect(await host.invoke({})).toBe('done');
});

test('a bundle that throws at import fails its invocations with the init error', async () => {
  const { host } = hostOf('broken', `throw new Error('missing TABLE_NAME');`);
  await expect(host.invoke({})).rejects.toThrow(/Test\/broken failed: init failed: .*missing TABLE_NAME/);
  await expect(host.invoke({})).rejects.toThrow(/init failed/);
});

test('an execution environment that dies fails what it was running and is replaced by the next invocation', async () => {
  const { host } = hostOf(
    'dies',
    `let calls = 0;
     exports.handler = async (event) => {
       calls += 1;
       if (event.die) setTimeout(() => process.exit(3), 10);
       return event.die ? new Promise(() => {}) : calls;
     };`,
  );
  expect(await host.invoke({})).toBe(1);
  const dying = host.invoke({ die: true });
  await expect(dying).rejects.toThrow(FunctionError);
  await expect(dying).rejects.toThrow(/execution environment exited \(code 3\)/);
  // A new environment: its module scope starts again.
  expect(await host.invoke({})).toBe(1);
});

test('an execution environment that exits during its init fails the invocation waiting for it, and the next one starts again', async () => {
  const counter = path.join(dir, 'exits-at-init.count');
  writeFileSync(counter, '0');
  // Exits while its module scope runs the first time; the second environment starts normally.
  const { host } = hostOf(
    'exits-at-init',
    `const fs = require('node:fs');
     const starts = Number(fs.readFileSync(${JSON.stringify(counter)}, 'utf8')) + 1;
     fs.writeFileSync(${JSON.stringify(counter)}, String(starts));
     if (starts === 1) process.exit(4);
     exports.handler = async () => starts;`,
  );
  await expect(host.invoke({})).rejects.toThrow(/Test\/exits-at-init failed: its execution environment exited during its init \(code 4\)/);
  expect(await host.invoke({})).toBe(2);
});

test('a stopped host refuses invocations instead of starting a function', async () => {
  const { host, marker } = hostOf('stopped', `exports.handler = async () => 'ran';`);
  await host.stop();
  await expect(host.invoke({})).rejects.toThrow(/the local cluster is stopping/);
  expect(existsSync(marker)).toBe(false);
});

test("a function's CPU time and invocations are counted across its execution environments, a replaced one's kept", async () => {
  // Each invocation spends `ms` of its thread's CPU time (measured by that clock, so a busy machine does not move it).
  const { host } = hostOf(
    'cpu',
    `const spent = () => { const u = process.threadCpuUsage(); return (u.user + u.system) / 1000; };
     exports.handler = async (event) => {
       const end = spent() + event.ms; while (spent() < end) {}
       if (event.die) setTimeout(() => process.exit(5), 10);
       return 'ok';
     };`,
  );
  expect(host.usage).toEqual({ cpuMs: 0, invocations: 0 });
  await host.invoke({ ms: 100 });
  await host.invoke({ ms: 100, die: true });
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(host.warm).toBe(false);
  const afterFirst = host.usage;
  expect(afterFirst.invocations).toBe(2);
  expect(afterFirst.cpuMs).toBeGreaterThanOrEqual(200);
  // The next environment's CPU adds to the replaced one's.
  await host.invoke({ ms: 150 });
  expect(host.usage.invocations).toBe(3);
  expect(host.usage.cpuMs).toBeGreaterThanOrEqual(afterFirst.cpuMs + 150);
  expect(host.usage.cpuMs).toBeLessThan(afterFirst.cpuMs + 150 + 1_000);
});

test('an invocation that times out ends its execution environment, as in Lambda: a function that blocked its thread answers again', async () => {
  const { host } = hostOf(
    'blocks',
    `let calls = 0;
     exports.handler = async (event) => {
       calls += 1;
       if (event.block) for (;;) {}
       return calls;
     };`,
    500,
  );
  expect(await host.invoke({})).toBe(1);
  await expect(host.invoke({ block: true })).rejects.toThrow(/Test\/blocks failed: timed out after 500 ms/);
  // A new environment: its module scope starts again, where the blocked one would time out forever.
  expect(await host.invoke({})).toBe(1);
});

test("a timed-out invocation's work does not go on after its timeout", async () => {
  const late = path.join(dir, 'late.written');
  const { host } = hostOf(
    'late',
    `exports.handler = async () => {
       await new Promise((resolve) => setTimeout(resolve, 600));
       require('node:fs').writeFileSync(${JSON.stringify(late)}, 'x');
       return 'done';
     };`,
    200,
  );
  await expect(host.invoke({})).rejects.toThrow(/timed out after 200 ms/);
  await new Promise((resolve) => setTimeout(resolve, 800));
  expect(existsSync(late)).toBe(false);
});

test('a timeout leaves the invocations running beside it in their environment to finish', async () => {
  const { host } = hostOf(
    'beside',
    `exports.handler = async (event) => {
       await new Promise((resolve) => setTimeout(resolve, event.ms));
       return event.ms;
     };`,
    400,
  );
  await host.invoke({ ms: 0 });
  const slow = host.invoke({ ms: 5_000 });
  await new Promise((resolve) => setTimeout(resolve, 100));
  // Started 100 ms after the slow one, it ends 100 ms after the slow one timed out.
  const beside = host.invoke({ ms: 350 });
  await expect(slow).rejects.toThrow(/timed out/);
  expect(await beside).toBe(350);
});
