// One Lambda "container": loads a bundled handler once (its module scope is the cold start)
// and runs invocations sent by the parent thread. Plain JS so it needs no TypeScript loader.
'use strict';
const { parentPort, workerData } = require('node:worker_threads');

const { bundleFile, handlerExport, functionName, timeoutMs, functionArn } = workerData;
// The CPU this environment has spent so far (its cold start included), sent with every answer:
// the benches split a run's CPU by function with it (GET /__local/functions).
const cpuMs = () => {
  const usage = process.threadCpuUsage();
  return (usage.user + usage.system) / 1000;
};
let handler;
let initError;
try {
  handler = require(bundleFile)[handlerExport];
  if (typeof handler !== 'function') throw new Error(`${bundleFile} does not export a function '${handlerExport}'`);
} catch (error) {
  initError = error;
}

parentPort.on('message', async ({ id, event, requestId }) => {
  if (initError) {
    parentPort.postMessage({ id, error: { name: 'InitError', message: String(initError && initError.stack || initError) } });
    return;
  }
  const deadline = Date.now() + timeoutMs;
  const context = {
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: functionArn,
    memoryLimitInMB: '256',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: 'local',
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
  try {
    const result = await handler(event, context);
    parentPort.postMessage({ id, result, cpuMs: cpuMs() });
  } catch (error) {
    parentPort.postMessage({ id, error: { name: error && error.name, message: String(error && error.stack || error) }, cpuMs: cpuMs() });
  }
});
parentPort.postMessage({ ready: true, initError: initError ? String(initError.stack || initError) : undefined, cpuMs: cpuMs() });
