/**
 * A node's dead letters over the local runtime's HTTP API, on the emulator (fauxqs):
 * GET /nodes/{node}/dead-letters lists them without consuming them, and
 * POST /nodes/{node}/dead-letters/discard deletes those the apply function set aside (no event of
 * the cluster's log), never an event that failed, which a redrive moves back to the queue.
 * On the integration cluster (master-1, slave-1, slave-2, operator ops): slave-2's queues.
 */
import { SendMessageCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { api, tokenOf } from '../../support/cluster-client';
import { deadLetterEvent, nodeQueues } from '../../support/dead-letter-event';

jest.setTimeout(120_000);

const NODE = 'slave-2';
const MASTER = 'master-1';
const FORGED = '{"this is": not an event';

let sqs: SQSClient;
let queueUrl: string;
let deadLetterQueueUrl: string;

interface NodeView {
  name: string;
  lastAppliedSequence: number;
  queueDepth: number | null;
  deadLetterDepth: number | null;
  paused: boolean;
}

beforeAll(async () => {
  ({ sqs, queueUrl, deadLetterQueueUrl } = await nodeQueues(NODE));
});

afterAll(async () => {
  // Never leave the node paused for the next file, whatever failed.
  await api('POST', `/nodes/${NODE}/resume`, { node: MASTER });
  sqs?.destroy();
});

async function nodes(): Promise<{ head: number; nodes: NodeView[] }> {
  const answer = await api('GET', '/nodes', { node: MASTER });
  expect(answer.status).toBe(200);
  return answer.body as never;
}

async function waitForNode(what: string, done: (node: NodeView, head: number) => boolean, timeoutMs = 45_000): Promise<NodeView> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { head, nodes: all } = await nodes();
    const node = all.find((candidate) => candidate.name === NODE)!;
    if (done(node, head)) return node;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(node)} (head ${head})`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const list = (options: { node?: string; token?: string }, query = '') => api('GET', `/nodes/${NODE}/dead-letters${query}` as string, options);
const discard = (options: { node?: string; token?: string }, messageIds: unknown) =>
  api('POST', `/nodes/${NODE}/dead-letters/discard` as string, { ...options, invalidJson: { messageIds } });

let injected = 0;
async function injectForged(): Promise<void> {
  injected += 1;
  await sqs.send(
    new SendMessageCommand({
      QueueUrl: queueUrl,
      MessageBody: FORGED,
      MessageGroupId: 'geo',
      MessageDeduplicationId: `dead-letters-test-${injected}-${Date.now()}`,
      MessageAttributes: { origin: { DataType: 'String', StringValue: MASTER } },
    }),
  );
}

test('a forged message is set aside with its reason, listed without being consumed, discarded, and the dead-letter depth is back to 0', async () => {
  await waitForNode(`${NODE} has an empty dead-letter queue`, (node) => node.deadLetterDepth === 0 && node.queueDepth === 0);
  await injectForged();
  await waitForNode(`${NODE} set the forged message aside`, (node) => node.deadLetterDepth === 1 && node.queueDepth === 0);

  // An operator may list; twice, the same message: a listing consumes nothing.
  const first = await list({ token: tokenOf('ops') });
  expect(first.status).toBe(200);
  expect(first.body).toEqual({
    node: NODE,
    deadLetterDepth: 1,
    more: false,
    messages: [
      {
        messageId: expect.any(String),
        setAside: true,
        reason: expect.stringMatching(/^not an event: /),
        messageGroupId: expect.stringMatching(/^set-aside-/),
        origin: MASTER,
        sentAt: expect.any(String),
        receiveCount: expect.any(Number),
        size: Buffer.byteLength(FORGED),
        body: FORGED,
        bodyTruncated: false,
        event: null,
      },
    ],
  });
  expect(Date.now() - Date.parse(first.body.messages[0].sentAt)).toBeLessThan(60_000);
  const id = first.body.messages[0].messageId as string;
  const again = await list({ node: NODE });
  expect(again.body.messages.map((message: { messageId: string }) => message.messageId)).toEqual([id]);
  expect((await waitForNode('still there', () => true)).deadLetterDepth).toBe(1);

  // The operator may not discard (read-only); a slave may not touch another node's dead letters.
  const byOperator = await discard({ token: tokenOf('ops') }, [id]);
  expect(byOperator.status).toBe(403);
  expect(byOperator.body.message).toContain('read-only operator');
  const bySlave = await discard({ node: 'slave-1' }, [id]);
  expect(bySlave.status).toBe(403);
  expect(bySlave.body.message).toContain('only the node itself or a master');
  expect((await list({ node: 'slave-1' })).status).toBe(403);
  expect((await waitForNode('nothing discarded', () => true)).deadLetterDepth).toBe(1);

  // The node itself discards it.
  const discarded = await discard({ node: NODE }, [id]);
  expect(discarded.status).toBe(200);
  expect(discarded.body).toEqual({ node: NODE, discarded: [id], kept: [], more: false });
  await waitForNode(`${NODE}'s dead-letter queue emptied`, (node) => node.deadLetterDepth === 0);
  expect((await list({ node: MASTER })).body).toEqual({ node: NODE, deadLetterDepth: 0, messages: [], more: false });
  // Discarded already: nothing left to delete, and said so.
  const twice = await discard({ node: MASTER }, [id]);
  expect(twice.body).toEqual({ node: NODE, discarded: [], kept: [{ messageId: id, cause: 'NOT_FOUND', reason: expect.stringContaining("not in the node's dead-letter queue") }], more: false });
});

test('an event that failed is listed as one, refused for discard, and goes back to the queue with a redrive', async () => {
  await waitForNode(`${NODE} has an empty dead-letter queue`, (node) => node.deadLetterDepth === 0 && node.queueDepth === 0);
  // The event's message moved to the dead-letter queue as the queue's redrive policy moves one
  // that failed maxReceiveCount times: same body, message group and attributes.
  expect((await api('POST', `/nodes/${NODE}/pause`, { node: MASTER })).status).toBe(200);
  let event: Message | undefined;
  let sequence: number;
  try {
    const published = await api('POST', '/config/events', {
      node: MASTER,
      json: { kind: 'add', object: { type: 'style', id: `dead-letter-${Date.now()}` }, properties: { format: 'sld', body: '<StyledLayerDescriptor version="1.0.0"/>' } },
    });
    expect({ status: published.status, text: published.status === 201 ? '' : published.text }).toEqual({ status: 201, text: '' });
    sequence = (published.body as { sequence: number }).sequence;
    event = await deadLetterEvent(sqs, { queueUrl, deadLetterQueueUrl }, sequence, 'dead-letters-test-event');
  } finally {
    expect((await api('POST', `/nodes/${NODE}/resume`, { node: MASTER })).status).toBe(200);
  }
  // And a forged one beside it.
  await injectForged();
  await waitForNode(`${NODE} holds both dead letters`, (node) => node.deadLetterDepth === 2 && node.queueDepth === 0);

  const listed = await list({ node: MASTER });
  expect(listed.status).toBe(200);
  expect(listed.body.deadLetterDepth).toBe(2);
  const failed = listed.body.messages.find((message: { setAside: boolean }) => !message.setAside);
  const forged = listed.body.messages.find((message: { setAside: boolean }) => message.setAside);
  expect(failed).toMatchObject({ setAside: false, reason: null, messageGroupId: 'geo', origin: MASTER, body: event!.Body, size: Buffer.byteLength(event!.Body!) });
  expect(failed.event).toEqual({ sequence: sequence!, kind: 'add', object: { type: 'style', id: JSON.parse(event!.Body!).object.id } });
  expect(forged).toMatchObject({ setAside: true, body: FORGED, reason: expect.stringMatching(/^not an event: /), event: null });
  // A listing bounded to one message says more remain.
  const one = await list({ node: MASTER }, '?limit=1');
  expect({ status: one.status, listed: one.body.messages.length, more: one.body.more }).toEqual({ status: 200, listed: 1, more: true });

  // The event is kept, with why; the forged message goes; an id the queue does not hold is named.
  const answer = await discard({ node: MASTER }, [failed.messageId, forged.messageId, 'no-such-message']);
  expect(answer.status).toBe(200);
  expect(answer.body).toEqual({
    node: NODE,
    discarded: [forged.messageId],
    kept: [
      { messageId: failed.messageId, cause: 'NOT_SET_ASIDE', reason: expect.stringContaining(`POST /nodes/${NODE}/redrive`) },
      { messageId: 'no-such-message', cause: 'NOT_FOUND', reason: expect.any(String) },
    ],
    more: false,
  });
  expect((await waitForNode('the event stays', (node) => node.deadLetterDepth === 1)).deadLetterDepth).toBe(1);
  expect((await list({ node: NODE })).body.messages.map((message: { messageId: string }) => message.messageId)).toEqual([failed.messageId]);

  // A redrive moves it back, the node applies it, and the dead-letter queue is empty.
  const redrive = await api('POST', `/nodes/${NODE}/redrive`, { node: NODE });
  expect(redrive.status).toBe(200);
  expect(redrive.body.moved).toBe(1);
  await waitForNode(`${NODE} applied the redriven event`, (node, head) => node.deadLetterDepth === 0 && node.queueDepth === 0 && node.lastAppliedSequence >= sequence && node.lastAppliedSequence === head);
});

test('the query and the body are validated with a 400 naming the problem, and nothing is deleted', async () => {
  await injectForged();
  await waitForNode(`${NODE} set the forged message aside`, (node) => node.deadLetterDepth === 1 && node.queueDepth === 0);
  for (const [query, message] of [
    ['?limit=0', 'limit: must be a whole number from 1 to 100'],
    ['?limit=101', 'limit: must be a whole number from 1 to 100'],
    ['?limit=many', 'limit: must be a whole number from 1 to 100'],
    ['?after=1', 'after: is not a parameter of this route (limit)'],
  ] as const) {
    const answer = await list({ node: MASTER }, query);
    expect({ query, status: answer.status, code: answer.body.code, message: answer.body.message }).toEqual({ query, status: 400, code: 'INVALID_REQUEST', message });
  }
  const [id] = (await list({ node: MASTER })).body.messages.map((message: { messageId: string }) => message.messageId);
  const url = `/nodes/${NODE}/dead-letters/discard` as string;
  const bad: [RequestInit['body'] | undefined, Record<string, string>, number, string][] = [
    [undefined, {}, 400, 'body: a JSON object {"messageIds": [...]} is required'],
    ['{}', { 'content-type': 'application/json' }, 400, 'messageIds: is required'],
    ['{"messageIds": []}', { 'content-type': 'application/json' }, 400, 'messageIds: must name at least one message id'],
    [JSON.stringify({ messageIds: [id, id] }), { 'content-type': 'application/json' }, 400, 'messageIds: names a message id twice'],
    [JSON.stringify({ messageIds: [id, 'not an id'] }), { 'content-type': 'application/json' }, 400, 'messageIds.1: is not a message id'],
    [JSON.stringify({ messageIds: [id], all: true }), { 'content-type': 'application/json' }, 400, 'all: is not a known field'],
    ['{"messageIds": [', { 'content-type': 'application/json' }, 400, 'Request body is not valid JSON'],
    [JSON.stringify({ messageIds: [id] }), { 'content-type': 'text/plain' }, 415, ''],
    // Past the 64 KiB every JSON body of the API may hold: a 413, as the document now says.
    [JSON.stringify({ messageIds: [id], pad: 'x'.repeat(70 * 1024) }), { 'content-type': 'application/json' }, 413, 'Request body exceeds the limit of 65536 bytes'],
  ];
  for (const [body, headers, status, message] of bad) {
    const answer = await api('POST', url, { node: MASTER, body: body as string | undefined, headers });
    expect({ body, status: answer.status, message: (answer.body?.message ?? '').slice(0, message.length) }).toEqual({ body, status, message });
  }
  expect((await waitForNode('nothing discarded', () => true)).deadLetterDepth).toBe(1);
  expect((await discard({ node: MASTER }, [id])).body.discarded).toEqual([id]);
  await waitForNode(`${NODE}'s dead-letter queue emptied`, (node) => node.deadLetterDepth === 0);
  // A pure master has no dead-letter queue.
  const master = await api('GET', `/nodes/${MASTER}/dead-letters` as string, { node: MASTER });
  expect(master.body).toEqual({ node: MASTER, deadLetterDepth: null, messages: [], more: false });
  expect((await api('GET', `/nodes/no-such-node/dead-letters` as string, { node: MASTER })).body.code).toBe('NODE_NOT_FOUND');
  expect((await api('GET', `/nodes/${NODE}/dead-letters` as string)).status).toBe(401);
});
