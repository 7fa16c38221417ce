/**
 * The IAM gate's own HTTP handling, in front of a stand-in for DynamoDB Local: whatever a client
 * on this machine sends it, or however it hangs up, the gate keeps serving (an error thrown in its
 * request handler would end `npm start` with an unhandled rejection).
 */
import * as http from 'node:http';
import * as net from 'node:net';
import { startDynamoGate, type DynamoGate } from '../../../local/dynamo-gate';

let upstream: http.Server;
let gate: DynamoGate;
const unhandled: unknown[] = [];
const onUnhandled = (reason: unknown) => unhandled.push(reason);

beforeEach(async () => {
  unhandled.length = 0;
  process.on('unhandledRejection', onUnhandled);
  upstream = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' });
    response.end('{"TableNames":[]}');
  });
  await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
  gate = await startDynamoGate(`http://127.0.0.1:${(upstream.address() as net.AddressInfo).port}`, new Map([['Fn', []]]));
});

afterEach(async () => {
  process.off('unhandledRejection', onUnhandled);
  await gate.close();
  upstream.closeAllConnections();
  await new Promise<void>((resolve) => upstream.close(() => resolve()));
});

/** Sends the start of a request whose body never comes in full, then hangs up. */
function abortMidBody(endpoint: string): Promise<void> {
  const { port } = new URL(endpoint);
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1', () => {
      socket.write('POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 1000\r\n\r\n{"Tab');
      setTimeout(() => socket.destroy(), 50);
    });
    socket.on('close', () => resolve());
    socket.on('error', () => undefined);
  });
}

it('keeps serving, with no unhandled rejection, when a client hangs up in the middle of its request body', async () => {
  await abortMidBody(gate.endpoint);
  await new Promise((resolve) => setTimeout(resolve, 200));
  expect(unhandled).toEqual([]);
  const answer = await fetch(gate.endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, body: '{}' });
  expect(answer.status).toBe(200);
});

it('answers a function whose request body is JSON but not an object, with no unhandled rejection, and keeps serving', async () => {
  const headers = { 'x-amz-target': 'DynamoDB_20120810.GetItem', authorization: 'AWS4-HMAC-SHA256 Credential=LOCALFNFn/20260101/us-east-1/dynamodb/aws4_request' };
  const odd = await fetch(gate.endpoint, { method: 'POST', headers, body: 'null' });
  expect(odd.status).toBeGreaterThanOrEqual(400);
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(unhandled).toEqual([]);
  const answer = await fetch(gate.endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.ListTables' }, body: '{}' });
  expect(answer.status).toBe(200);
});

it('ends its answer at once when DynamoDB Local dies in the middle of its own, instead of leaving the caller waiting', async () => {
  const dying = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'application/x-amz-json-1.0', 'content-length': '1000' });
    response.write('{"Items":[');
    setTimeout(() => response.socket?.destroy(), 50);
  });
  await new Promise<void>((resolve) => dying.listen(0, '127.0.0.1', resolve));
  const dyingGate = await startDynamoGate(`http://127.0.0.1:${(dying.address() as net.AddressInfo).port}`, new Map());
  try {
    const started = Date.now();
    const outcome = await fetch(dyingGate.endpoint, { method: 'POST', headers: { 'x-amz-target': 'DynamoDB_20120810.Scan' }, body: '{}', signal: AbortSignal.timeout(5_000) })
      .then((response) => response.text())
      .then(
        () => 'answered in full',
        (error: Error) => (error.name === 'TimeoutError' ? 'still waiting after 5 s' : 'cut short'),
      );
    expect(outcome).toBe('cut short');
    expect(Date.now() - started).toBeLessThan(3_000);
  } finally {
    await dyingGate.close();
    dying.closeAllConnections();
    await new Promise<void>((resolve) => dying.close(() => resolve()));
  }
});
