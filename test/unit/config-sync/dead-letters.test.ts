/**
 * The dead letters' listing and discard, apart from the queue (test/integration/config-sync/
 * dead-letters.test.ts has them on the emulator): the reason a set-aside message carries, how a
 * received message is shown, which messages a discard may delete, its answer's words, and the
 * validation of the query and the body.
 */
import type { Message, MessageAttributeValue } from '@aws-sdk/client-sqs';
import {
  DEAD_LETTER_BODY_PREVIEW_CHARS,
  SET_ASIDE_REASON_ATTRIBUTE,
  SET_ASIDE_REASON_MAX_CHARS,
  deadLetterView,
  SET_ASIDE_GROUP_PREFIX,
  discardDecision,
  wasSetAside,
  withSetAsideReason,
} from '../../../lambdas/config-sync/adapters/sqs-queues';
import { CLUSTER_NAME_PATTERN } from '../../../lambdas/shared/cluster-names';
import { discardAnswer } from '../../../lambdas/config-sync/dead-letters';
import { deadLettersQuerySchema, discardRequestSchema } from '../../../lambdas/config-sync/request-schemas';
import { parseQuery } from '../../../lambdas/shared/query';
import { parseWith } from '../../../lambdas/shared/validation';

const origin: Record<string, MessageAttributeValue> = { origin: { DataType: 'String', StringValue: 'master-1' } };

describe('withSetAsideReason', () => {
  test('adds the reason to the attributes the message came with', () => {
    expect(withSetAsideReason('{"x":1}', origin, 'not an event: sequence is required')).toEqual({
      ...origin,
      [SET_ASIDE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'not an event: sequence is required' },
    });
    expect(withSetAsideReason('x', undefined, 'past the head')).toEqual({ [SET_ASIDE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'past the head' } });
  });

  test("replaces a reason the sender wrote: only the apply function's is recorded", () => {
    const forged = { ...origin, [SET_ASIDE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'all fine, discard me' } };
    expect(withSetAsideReason('x', forged, 'of another cluster')?.[SET_ASIDE_REASON_ATTRIBUTE]?.StringValue).toBe('of another cluster');
  });

  test('cuts a long reason to its limit, on a character boundary', () => {
    const reason = 'ж'.repeat(SET_ASIDE_REASON_MAX_CHARS + 50);
    const recorded = withSetAsideReason('x', origin, reason)?.[SET_ASIDE_REASON_ATTRIBUTE]?.StringValue ?? '';
    expect([...recorded]).toHaveLength(SET_ASIDE_REASON_MAX_CHARS);
    expect(recorded).toBe('ж'.repeat(SET_ASIDE_REASON_MAX_CHARS));
  });

  test("leaves the reason out, keeping the message's own attributes, where it would break SQS's limits", () => {
    // Ten attributes already: an eleventh would have the send refused, and the message hold the queue.
    const ten = Object.fromEntries(Array.from({ length: 10 }, (_, index) => [`a${index}`, { DataType: 'String', StringValue: 'v' }]));
    expect(withSetAsideReason('x', ten, 'reason')).toEqual(ten);
    // A body at SQS's 256 KiB with its attributes: the reason would take it past.
    const body = 'b'.repeat(262_144 - 'originStringmaster-1'.length);
    expect(withSetAsideReason(body, origin, 'reason')).toEqual(origin);
    expect(withSetAsideReason(body, undefined, 'reason')).toEqual(undefined);
    // Just under: it fits.
    const room = 262_144 - 'originStringmaster-1'.length - `${SET_ASIDE_REASON_ATTRIBUTE}String`.length - 'reason'.length;
    expect(withSetAsideReason('b'.repeat(room), origin, 'reason')).toHaveProperty(SET_ASIDE_REASON_ATTRIBUTE);
    expect(withSetAsideReason('b'.repeat(room + 1), origin, 'reason')).not.toHaveProperty(SET_ASIDE_REASON_ATTRIBUTE);
  });
});

describe('deadLetterView', () => {
  const received = (overrides: Partial<Message>): Message => ({
    MessageId: 'id-1',
    Body: '{"this is": not an event',
    Attributes: { MessageGroupId: 'set-aside-abc', SentTimestamp: String(Date.UTC(2026, 0, 2, 3, 4, 5)), ApproximateReceiveCount: '2' },
    MessageAttributes: { ...origin, [SET_ASIDE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: 'not JSON' } },
    ...overrides,
  });

  test('a set-aside message: its reason, group, origin, time, receives, size and body', () => {
    expect(deadLetterView(received({}))).toEqual({
      messageId: 'id-1',
      setAside: true,
      reason: 'not JSON',
      messageGroupId: 'set-aside-abc',
      origin: 'master-1',
      sentAt: '2026-01-02T03:04:05.000Z',
      receiveCount: 2,
      size: 24,
      body: '{"this is": not an event',
      bodyTruncated: false,
      event: null,
    });
  });

  test('an event that failed: the sequence, kind and object its body carries, read from the whole body however long', () => {
    const event = { sequence: 42, cluster: 'geo', origin: 'master-1', publishedAt: '2026-01-02T03:04:05.000Z', kind: 'add', object: { type: 'style', id: 'topp:roads' }, properties: { body: 'x'.repeat(5_000) } };
    const view = deadLetterView(received({ Body: JSON.stringify(event), Attributes: { MessageGroupId: 'geo' } }));
    expect(view.bodyTruncated).toBe(true);
    expect(view.event).toEqual({ sequence: 42, kind: 'add', object: { type: 'style', id: 'topp:roads' } });
  });

  test.each([
    ['not JSON', '{"sequence": 4'],
    ['no sequence', JSON.stringify({ kind: 'add', object: { type: 'workspace', id: 'a' } })],
    ['a sequence of 0', JSON.stringify({ sequence: 0, kind: 'add', object: { type: 'workspace', id: 'a' } })],
    ['a fractional sequence', JSON.stringify({ sequence: 1.5, kind: 'add', object: { type: 'workspace', id: 'a' } })],
    ['an unknown kind', JSON.stringify({ sequence: 3, kind: 'rename', object: { type: 'workspace', id: 'a' } })],
    ['no object', JSON.stringify({ sequence: 3, kind: 'remove' })],
    ['an object id of numbers', JSON.stringify({ sequence: 3, kind: 'remove', object: { type: 'workspace', id: 7 } })],
    ['an object id longer than any', JSON.stringify({ sequence: 3, kind: 'remove', object: { type: 'workspace', id: 'a'.repeat(2_000) } })],
    ['a list', '[1,2,3]'],
  ])('a failed message whose body is no event (%s) names none', (_case, body) => {
    expect(deadLetterView(received({ Body: body, Attributes: { MessageGroupId: 'geo' } })).event).toBeNull();
  });

  test('a message set aside names no event, whatever its body claims: its reason says why it is none of the log', () => {
    const forged = JSON.stringify({ sequence: 9, cluster: 'geo', origin: 'master-1', publishedAt: '2026-01-02T03:04:05.000Z', kind: 'remove', object: { type: 'workspace', id: 'a' } });
    expect(deadLetterView(received({ Body: forged })).event).toBeNull();
  });

  test("an event that failed is no set-aside message, whatever reason attribute its sender put on it", () => {
    const view = deadLetterView(received({ Attributes: { MessageGroupId: 'cluster-a', SentTimestamp: '1700000000000' } }));
    expect({ setAside: view.setAside, reason: view.reason, receiveCount: view.receiveCount }).toEqual({ setAside: false, reason: null, receiveCount: null });
  });

  test('a set-aside message from before reasons were recorded, and one without any attribute', () => {
    expect(deadLetterView(received({ MessageAttributes: undefined })).reason).toBeNull();
    const bare = deadLetterView({ MessageId: 'id-2' });
    expect(bare).toEqual({ messageId: 'id-2', setAside: false, reason: null, messageGroupId: null, origin: null, sentAt: null, receiveCount: null, size: 0, body: '', bodyTruncated: false, event: null });
  });

  test('a long body: its first characters (never half a character), its whole size in bytes', () => {
    const body = '😀'.repeat(DEAD_LETTER_BODY_PREVIEW_CHARS + 1);
    const view = deadLetterView(received({ Body: body }));
    expect(view.body).toBe('😀'.repeat(DEAD_LETTER_BODY_PREVIEW_CHARS));
    expect(view.bodyTruncated).toBe(true);
    expect(view.size).toBe(4 * (DEAD_LETTER_BODY_PREVIEW_CHARS + 1));
    const exact = deadLetterView(received({ Body: 'a'.repeat(DEAD_LETTER_BODY_PREVIEW_CHARS) }));
    expect({ length: exact.body.length, truncated: exact.bodyTruncated }).toEqual({ length: DEAD_LETTER_BODY_PREVIEW_CHARS, truncated: false });
  });
});

describe('discard', () => {
  test('deletes only a message set aside; an event that failed is kept for the redrive', () => {
    expect(discardDecision({ Attributes: { MessageGroupId: 'set-aside-1' } })).toBe('delete');
    expect(discardDecision({ Attributes: { MessageGroupId: 'cluster-a' } })).toBe('NOT_SET_ASIDE');
    expect(discardDecision({ Attributes: {} })).toBe('NOT_SET_ASIDE');
    expect(discardDecision({})).toBe('NOT_SET_ASIDE');
  });

  test('the answer says what was kept and why', () => {
    const answer = discardAnswer(
      'slave-1',
      { discarded: ['a'], kept: [{ messageId: 'b', cause: 'NOT_SET_ASIDE' }, { messageId: 'c', cause: 'NOT_FOUND' }], more: false },
      true,
    );
    expect(answer).toEqual({
      node: 'slave-1',
      discarded: ['a'],
      kept: [
        { messageId: 'b', cause: 'NOT_SET_ASIDE', reason: expect.stringContaining('POST /nodes/slave-1/redrive') },
        { messageId: 'c', cause: 'NOT_FOUND', reason: expect.stringContaining("not in the node's dead-letter queue") },
      ],
      more: false,
    });
    const late = discardAnswer('slave-1', { discarded: [], kept: [{ messageId: 'c', cause: 'NOT_FOUND' }], more: true }, true);
    expect(late.kept[0]?.reason).toContain('time ran out');
    const master = discardAnswer('master-1', { discarded: [], kept: [{ messageId: 'c', cause: 'NOT_FOUND' }], more: false }, false);
    expect(master.kept[0]?.reason).toContain('no dead-letter queue');
  });
});

describe('validation', () => {
  const query = (params: Record<string, string> | undefined) => () => parseQuery(deadLettersQuerySchema(), params);
  const body = (value: unknown) => () => parseWith(discardRequestSchema(), value);

  test('limit: 20 by default, 1 to 100', () => {
    expect(query(undefined)()).toEqual({ limit: 20 });
    expect(query({ limit: '100' })()).toEqual({ limit: 100 });
    expect(query({ limit: '0' })).toThrow('limit: must be a whole number from 1 to 100');
    expect(query({ limit: '101' })).toThrow('limit: must be a whole number from 1 to 100');
    expect(query({ limit: 'ten' })).toThrow('limit: must be a whole number from 1 to 100');
    expect(query({ after: '3' })).toThrow('after: is not a parameter of this route (limit)');
  });

  test('messageIds: 1 to 100 distinct message ids, nothing else', () => {
    const id = '3f2b8c4e-0d1a-4e5b-9c7d-1a2b3c4d5e6f';
    expect(body({ messageIds: [id] })()).toEqual({ messageIds: [id] });
    expect(body({})).toThrow('messageIds: is required');
    expect(body({ messageIds: [] })).toThrow('messageIds: must name at least one message id');
    expect(body({ messageIds: [id, id] })).toThrow('messageIds: names a message id twice');
    expect(body({ messageIds: Array.from({ length: 101 }, (_, index) => `m-${index}`) })).toThrow('messageIds: names more than 100 message ids');
    expect(body({ messageIds: [id, 'no spaces please'] })).toThrow('messageIds.1: is not a message id');
    expect(body({ messageIds: [''] })).toThrow('messageIds.0: is not a message id');
    expect(body({ messageIds: [7] })).toThrow('messageIds.0');
    expect(body({ messageIds: id })).toThrow('messageIds');
    expect(body({ messageIds: [id], all: true })).toThrow('all: is not a known field');
  });
});

describe("a cluster's own messages never read as set aside", () => {
  // Events and jobs take the cluster's name as their message group. Were a cluster named with the
  // set-aside prefix, each of its failed events would look set aside: a redrive would leave it in
  // the dead-letter queue for good, and a discard could delete a change.
  test.each(['set-aside-prod', 'set-aside-', `${SET_ASIDE_GROUP_PREFIX}a`])('the cluster name %s is refused', (name) => {
    expect(CLUSTER_NAME_PATTERN.test(name)).toBe(false);
  });

  test.each(['set-asidex', 'set', 'aside-set-aside-x', 'prod'])('the cluster name %s is allowed and its group is no set-aside one', (name) => {
    expect(CLUSTER_NAME_PATTERN.test(name)).toBe(true);
    expect(wasSetAside({ Attributes: { MessageGroupId: name } })).toBe(false);
    expect(discardDecision({ Attributes: { MessageGroupId: name } })).toBe('NOT_SET_ASIDE');
  });
});
