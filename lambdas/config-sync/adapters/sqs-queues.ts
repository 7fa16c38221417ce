/**
 * The consuming nodes' SQS FIFO queues and dead-letter queues: their depths (`GET /nodes`), the
 * redrive of a node's dead-letter queue (`POST /nodes/{node}/redrive`), and its listing and the
 * discard of the messages set aside in it (`GET /nodes/{node}/dead-letters`, `POST
 * /nodes/{node}/dead-letters/discard`), and the lag measure's catch-up nudge (../catch-up-nudge.ts).
 *
 * All go through the SDK's SQS client and its own retry strategy.
 */
import type { Message, MessageAttributeValue, SQSClient } from '@aws-sdk/client-sqs';
import { SET_ASIDE_GROUP_PREFIX } from '../../shared/cluster-names';
import type { ChangeKind, PublishedEvent } from '../events';
import type { Sqs, SqsSdk } from './deferred-sdk';
import { topicMessage } from './sns-event-topic';

export interface QueuePair {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

export interface QueueDepths {
  /** Messages waiting (delayed included) or in flight in the node's queue. */
  readonly queueDepth: number;
  /** Messages in the node's dead-letter queue (visible, held or delayed). */
  readonly deadLetterDepth: number;
}

export interface RedriveResult {
  readonly moved: number;
  /** True when the dead-letter queue may still hold messages (the time budget ran out). */
  readonly more: boolean;
}

/** Node name -> its queue and dead-letter queue (from `QUEUE_URL_PREFIX`); pure masters have none. */
export type NodeQueueMap = Readonly<Record<string, QueuePair>>;

export function queuesOf(queues: NodeQueueMap, node: string): QueuePair | undefined {
  return Object.hasOwn(queues, node) ? queues[node] : undefined;
}

/** Queue depths through `GetQueueAttributes`. */
export class SqsQueueDepths {
  constructor(
    private readonly queues: NodeQueueMap,
    protected readonly sqs: Sqs,
  ) {}

  async depths(node: string): Promise<QueueDepths | undefined> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return undefined;
    const [queueDepth, deadLetterDepth] = await Promise.all([queueMessages(this.sqs, pair.queueUrl), queueMessages(this.sqs, pair.deadLetterQueueUrl)]);
    return { queueDepth, deadLetterDepth };
  }

  protected queueUrlOf(node: string): string {
    const pair = queuesOf(this.queues, node);
    if (!pair) throw new Error(`Node ${node} has no queue`);
    return pair.queueUrl;
  }
}

/** Every message of a queue, as SQS approximates it: visible, in flight (not visible) and delayed. */
async function queueMessages(sqs: Sqs, queueUrl: string): Promise<number> {
  const { sdk, client } = sqs.connect();
  const { Attributes: attributes = {} } = await client.send(
    new sdk.GetQueueAttributesCommand({
      QueueUrl: queueUrl,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible', 'ApproximateNumberOfMessagesDelayed'],
    }),
  );
  return (
    Number(attributes.ApproximateNumberOfMessages ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0) +
    Number(attributes.ApproximateNumberOfMessagesDelayed ?? 0)
  );
}

/**
 * The lag measure's catch-up nudge (../catch-up-nudge.ts): the depths of a node's queues, and an
 * event sent to its queue as the topic delivers it (raw delivery: sns-event-topic.ts
 * `topicMessage`'s body, message group and attributes), with a deduplication id of its own.
 */
export class SqsCatchUpNudges extends SqsQueueDepths {
  async nudge(node: string, event: PublishedEvent, deduplicationId: string): Promise<void> {
    const { sdk, client } = this.sqs.connect();
    const message = topicMessage(event);
    await client.send(
      new sdk.SendMessageCommand({
        QueueUrl: this.queueUrlOf(node),
        MessageBody: message.Message,
        MessageGroupId: message.MessageGroupId,
        MessageDeduplicationId: deduplicationId,
        MessageAttributes: message.MessageAttributes,
      }),
    );
  }
}

/**
 * The message group of a message the apply function set aside in its node's dead-letter queue
 * (no event of the cluster's log: handlers/apply-events.ts), followed by its message id: a group
 * of its own, so a set-aside message held by a receive blocks no other. Defined with the cluster
 * names, none of which may start with it (the cluster's name is its events' group).
 */
export { SET_ASIDE_GROUP_PREFIX };

/** Whether a dead-letter message was set aside by the apply function (`SET_ASIDE_GROUP_PREFIX`). */
export function wasSetAside(message: Pick<Message, 'Attributes'>): boolean {
  return message.Attributes?.MessageGroupId?.startsWith(SET_ASIDE_GROUP_PREFIX) === true;
}

/** Dead-letter redrive with the SDK's SQS client. */
export class SqsRedrive {
  constructor(
    private readonly queues: NodeQueueMap,
    private readonly sqs: Sqs,
  ) {}

  hasQueues(node: string): boolean {
    return queuesOf(this.queues, node) !== undefined;
  }

  /**
   * Moves the node's dead-letter messages back to its queue, oldest first: each is sent again
   * with its message group, its attributes (`origin`) and a new deduplication id (the original
   * one is still remembered by the queue for 5 minutes), then deleted from the dead-letter
   * queue. A crash between the two sends a message twice, which the applier ignores as a
   * duplicate sequence. A message the apply function set aside (`wasSetAside`: no event of the
   * cluster's log) stays: back in the queue it would only be set aside again, so a redrive would
   * move it to and fro until its deadline. Received, it is left in flight (the receive's
   * visibility timeout) in its own message group, holding back no other message.
   * @param deadline epoch milliseconds after which no new batch is started
   */
  async redrive(node: string, deadline: number): Promise<RedriveResult> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return { moved: 0, more: false };
    const { sdk, client } = this.sqs.connect();
    let moved = 0;
    let emptyReceives = 0;
    while (Date.now() < deadline) {
      const { Messages: messages = [] } = await client.send(
        new sdk.ReceiveMessageCommand({
          QueueUrl: pair.deadLetterQueueUrl,
          MaxNumberOfMessages: 10,
          // Short polls sample the queue's servers; a second, waiting poll confirms it is empty.
          WaitTimeSeconds: emptyReceives === 0 ? 0 : 1,
          VisibilityTimeout: 60,
          MessageSystemAttributeNames: ['MessageGroupId', 'MessageDeduplicationId', 'ApproximateReceiveCount'],
          MessageAttributeNames: ['All'],
        }),
      );
      if (messages.length === 0) {
        emptyReceives += 1;
        if (emptyReceives >= 2) return { moved, more: false };
        continue;
      }
      emptyReceives = 0;
      for (const message of messages) {
        if (wasSetAside(message)) continue;
        await client.send(
          new sdk.SendMessageCommand({
            QueueUrl: pair.queueUrl,
            MessageBody: message.Body ?? '',
            MessageGroupId: message.Attributes?.MessageGroupId,
            MessageDeduplicationId: redriveDeduplicationId(message),
            MessageAttributes: sendableAttributes(message.MessageAttributes),
          }),
        );
        await client.send(new sdk.DeleteMessageCommand({ QueueUrl: pair.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
        moved += 1;
      }
    }
    return { moved, more: true };
  }
}

/** `<original>-redrive-<receive count>`: distinct per redrive, within SQS's 128 characters. */
export function redriveDeduplicationId(message: Message): string {
  const original = message.Attributes?.MessageDeduplicationId ?? message.MessageId ?? 'message';
  const count = message.Attributes?.ApproximateReceiveCount ?? '0';
  return `${original.slice(0, 100)}-redrive-${count}`;
}

/** Received attributes in the shape SendMessage accepts (string or binary values only). */
function sendableAttributes(
  attributes: Record<string, MessageAttributeValue> | undefined,
): Record<string, MessageAttributeValue> | undefined {
  if (!attributes) return undefined;
  const sendable: Record<string, MessageAttributeValue> = {};
  for (const [name, value] of Object.entries(attributes)) {
    if (value.StringValue !== undefined) sendable[name] = { DataType: value.DataType, StringValue: value.StringValue };
    else if (value.BinaryValue !== undefined) sendable[name] = { DataType: value.DataType, BinaryValue: value.BinaryValue };
  }
  return Object.keys(sendable).length > 0 ? sendable : undefined;
}

/**
 * The message attribute in which the apply function records why it set a message aside (apply.ts
 * `SetAsideMessage.reason`), read back by `GET /nodes/{node}/dead-letters`.
 */
export const SET_ASIDE_REASON_ATTRIBUTE = 'setAsideReason';
/** The most characters of a set-aside reason kept in its attribute. */
export const SET_ASIDE_REASON_MAX_CHARS = 1_000;
/** SQS's limits on a message sent: its attributes, and its size (body, attribute names, types and values). */
const SQS_MAX_MESSAGE_ATTRIBUTES = 10;
const SQS_MAX_MESSAGE_BYTES = 262_144;

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

/** What a message's attributes add to its size, as SQS counts it. */
function attributesBytes(attributes: Readonly<Record<string, MessageAttributeValue>>): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(attributes)) {
    bytes += utf8(name) + utf8(value.DataType ?? '');
    if (value.StringValue !== undefined) bytes += utf8(value.StringValue);
    else if (value.BinaryValue !== undefined) bytes += value.BinaryValue.byteLength;
  }
  return bytes;
}

/**
 * A set-aside message's attributes with its reason (`SET_ASIDE_REASON_ATTRIBUTE`, cut to
 * SET_ASIDE_REASON_MAX_CHARS), replacing any value the message came with (a sender's, not the
 * apply function's). The reason is left out when it would take the message past SQS's limits (ten
 * attributes, 256 KiB): a send refused for it would leave the message holding the node's queue.
 */
export function withSetAsideReason(
  body: string,
  attributes: Readonly<Record<string, MessageAttributeValue>> | undefined,
  reason: string,
): Record<string, MessageAttributeValue> | undefined {
  const others = Object.fromEntries(Object.entries(attributes ?? {}).filter(([name]) => name !== SET_ASIDE_REASON_ATTRIBUTE));
  const recorded: Record<string, MessageAttributeValue> = {
    ...others,
    [SET_ASIDE_REASON_ATTRIBUTE]: { DataType: 'String', StringValue: [...reason].slice(0, SET_ASIDE_REASON_MAX_CHARS).join('') },
  };
  const fits = Object.keys(recorded).length <= SQS_MAX_MESSAGE_ATTRIBUTES && utf8(body) + attributesBytes(recorded) <= SQS_MAX_MESSAGE_BYTES;
  if (fits) return recorded;
  return Object.keys(others).length > 0 ? others : undefined;
}

/** The most characters of a dead letter's body that a listing shows. */
export const DEAD_LETTER_BODY_PREVIEW_CHARS = 1_000;

/** A dead-letter message as `GET /nodes/{node}/dead-letters` shows it. */
export interface DeadLetterView {
  readonly messageId: string;
  /** Set aside by the apply function (no event of the cluster's log): a redrive leaves it, a discard may delete it. */
  readonly setAside: boolean;
  /** Why it was set aside, when the apply function recorded it (`SET_ASIDE_REASON_ATTRIBUTE`); null otherwise. */
  readonly reason: string | null;
  readonly messageGroupId: string | null;
  /** The `origin` message attribute: the node that published it, as its sender said. */
  readonly origin: string | null;
  /** When it was sent to the queue it was received from (SentTimestamp). */
  readonly sentAt: string | null;
  /** How many times it was received from this queue, the listings' receives included. */
  readonly receiveCount: number | null;
  /** The body's size in bytes (UTF-8). */
  readonly size: number;
  /** Its first DEAD_LETTER_BODY_PREVIEW_CHARS characters. */
  readonly body: string;
  readonly bodyTruncated: boolean;
  /**
   * Of a message not set aside (an event that failed), what its whole body says of the event it
   * carries, unchecked against the log; null for a message set aside (its `reason` says why it is
   * none of the log's) or a body that reads as no event.
   */
  readonly event: DeadLetterEvent | null;
}

/** A failed event's sequence, kind and object, as its message's body gives them. */
export interface DeadLetterEvent {
  readonly sequence: number;
  readonly kind: ChangeKind;
  readonly object: { readonly type: string; readonly id: string };
}

/** Every change kind (the type `ChangeKind` checks that none is missing). */
const EVENT_KINDS = { add: true, modify: true, remove: true } as const satisfies Record<ChangeKind, true>;

/**
 * The event a body carries, read leniently (a message of the queue is at most 256 KiB, so the
 * parse is bounded): a positive integer `sequence`, a known `kind`, and an `object` whose `type`
 * and `id` are strings no longer than what a listing shows of a body. Nothing else is checked:
 * the listing only names the event.
 */
function eventOfBody(body: string): DeadLetterEvent | null {
  if (!body.trimStart().startsWith('{')) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return null;
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return null;
  const { sequence, kind, object } = parsed as Record<string, unknown>;
  if (!Number.isSafeInteger(sequence) || (sequence as number) < 1 || typeof kind !== 'string' || !Object.hasOwn(EVENT_KINDS, kind)) return null;
  if (typeof object !== 'object' || object === null) return null;
  const { type, id } = object as Record<string, unknown>;
  const shown = (value: unknown): value is string => typeof value === 'string' && value.length > 0 && value.length <= DEAD_LETTER_BODY_PREVIEW_CHARS;
  if (!shown(type) || !shown(id)) return null;
  return { sequence: sequence as number, kind: kind as ChangeKind, object: { type, id } };
}

export function deadLetterView(message: Message): DeadLetterView {
  const body = message.Body ?? '';
  const characters = [...body];
  const sent = Number(message.Attributes?.SentTimestamp);
  const received = Number(message.Attributes?.ApproximateReceiveCount);
  const setAside = wasSetAside(message);
  return {
    messageId: message.MessageId ?? '',
    setAside,
    reason: setAside ? (message.MessageAttributes?.[SET_ASIDE_REASON_ATTRIBUTE]?.StringValue ?? null) : null,
    messageGroupId: message.Attributes?.MessageGroupId ?? null,
    origin: message.MessageAttributes?.origin?.StringValue ?? null,
    sentAt: Number.isFinite(sent) && sent > 0 ? new Date(sent).toISOString() : null,
    receiveCount: Number.isInteger(received) && received > 0 ? received : null,
    size: utf8(body),
    body: characters.length > DEAD_LETTER_BODY_PREVIEW_CHARS ? characters.slice(0, DEAD_LETTER_BODY_PREVIEW_CHARS).join('') : body,
    bodyTruncated: characters.length > DEAD_LETTER_BODY_PREVIEW_CHARS,
    event: setAside ? null : eventOfBody(body),
  };
}

export interface DeadLetterPage {
  /** Oldest sent first. */
  readonly messages: readonly DeadLetterView[];
  /** The listing stopped at its limit or its time before the queue had no other message to show. */
  readonly more: boolean;
}

/** Why a message named to a discard was kept. */
export type KeptCause = 'NOT_SET_ASIDE' | 'NOT_FOUND';
export interface DiscardResult {
  readonly discarded: readonly string[];
  readonly kept: readonly { readonly messageId: string; readonly cause: KeptCause }[];
  /** The time ran out before the queue was read through: a message `NOT_FOUND` may still be in it. */
  readonly more: boolean;
}

/**
 * What a discard does with a message named to it: only one the apply function set aside is
 * deleted; any other dead letter is an event a redrive moves back to the queue, and deleting it
 * could lose a change.
 */
export function discardDecision(message: Pick<Message, 'Attributes'>): 'delete' | 'NOT_SET_ASIDE' {
  return wasSetAside(message) ? 'delete' : 'NOT_SET_ASIDE';
}

/**
 * A node's dead-letter messages, read without consuming them, and the discard of those the apply
 * function set aside. SQS has no "peek": each receive makes its messages invisible; they are held
 * for the call (a visibility timeout just past its deadline) and made visible again at its end
 * (ChangeMessageVisibilityBatch to 0), or, should that fail, when the timeout passes. Of a FIFO
 * message group, a receive hands out the first messages only, and no more of the group while
 * they are held: the events that failed share the cluster's group, so a listing shows the
 * oldest of them (up to ten on AWS, one on the emulator); each set-aside message has a group of
 * its own. A redrive running meanwhile does not see the held messages.
 */
export class SqsDeadLetters {
  constructor(
    private readonly queues: NodeQueueMap,
    private readonly sqs: Sqs,
  ) {}

  hasQueues(node: string): boolean {
    return queuesOf(this.queues, node) !== undefined;
  }

  /** Messages in the node's dead-letter queue (visible and held), as SQS approximates it; undefined for a node without queues. */
  async depth(node: string): Promise<number | undefined> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return undefined;
    const { sdk, client } = this.sqs.connect();
    const { Attributes: attributes = {} } = await client.send(
      new sdk.GetQueueAttributesCommand({
        QueueUrl: pair.deadLetterQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
      }),
    );
    return Number(attributes.ApproximateNumberOfMessages ?? 0) + Number(attributes.ApproximateNumberOfMessagesNotVisible ?? 0);
  }

  /**
   * Up to `limit` of the node's dead-letter messages, oldest sent first.
   * @param deadline epoch milliseconds after which no new receive is sent
   */
  async list(node: string, limit: number, deadline: number): Promise<DeadLetterPage> {
    const pair = queuesOf(this.queues, node);
    if (!pair) return { messages: [], more: false };
    const views: DeadLetterView[] = [];
    const { exhausted } = await this.hold(pair.deadLetterQueueUrl, deadline, (received) => {
      views.push(...received.map(deadLetterView));
      return views.length >= limit;
    });
    const ordered = views.sort((a, b) => (a.sentAt ?? '').localeCompare(b.sentAt ?? '') || a.messageId.localeCompare(b.messageId));
    return { messages: ordered.slice(0, limit), more: !exhausted || views.length > limit };
  }

  /**
   * Deletes the named messages the apply function set aside (`discardDecision`); keeps every
   * other, with why: not set aside, or not found (not in the queue, or held by another reader).
   * @param deadline epoch milliseconds after which no new receive is sent
   */
  async discard(node: string, messageIds: readonly string[], deadline: number): Promise<DiscardResult> {
    const pair = queuesOf(this.queues, node);
    const wanted = new Set(messageIds);
    const discarded: string[] = [];
    const kept: { messageId: string; cause: KeptCause }[] = [];
    let more = false;
    if (pair) {
      const { exhausted } = await this.hold(pair.deadLetterQueueUrl, deadline, async (received, client, sdk) => {
        for (const message of received) {
          const id = message.MessageId ?? '';
          if (!wanted.has(id)) continue;
          wanted.delete(id);
          if (discardDecision(message) === 'NOT_SET_ASIDE') {
            kept.push({ messageId: id, cause: 'NOT_SET_ASIDE' });
            continue;
          }
          await client.send(new sdk.DeleteMessageCommand({ QueueUrl: pair.deadLetterQueueUrl, ReceiptHandle: message.ReceiptHandle }));
          message.ReceiptHandle = undefined;
          discarded.push(id);
        }
        return wanted.size === 0;
      });
      more = !exhausted && wanted.size > 0;
    }
    const order = new Map(messageIds.map((id, index) => [id, index]));
    const byRequest = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
    return {
      discarded: discarded.sort(byRequest),
      kept: [...kept, ...[...wanted].map((messageId) => ({ messageId, cause: 'NOT_FOUND' as const }))].sort((a, b) => byRequest(a.messageId, b.messageId)),
      more,
    };
  }

  /**
   * Receives the queue's messages batch by batch, holding each, and hands every batch to `visit`
   * until it answers true, the queue shows no other message (a short poll, then a waiting one,
   * answered empty) or the deadline passes; then makes every message still held (with a receipt
   * handle) visible again.
   * @returns whether the queue showed no other message
   */
  private async hold(
    queueUrl: string,
    deadline: number,
    visit: (received: Message[], client: SQSClient, sdk: SqsSdk) => boolean | Promise<boolean>,
  ): Promise<{ exhausted: boolean }> {
    const { sdk, client } = this.sqs.connect();
    const held: Message[] = [];
    let emptyReceives = 0;
    try {
      while (Date.now() < deadline) {
        const { Messages: messages = [] } = await client.send(
          new sdk.ReceiveMessageCommand({
            QueueUrl: queueUrl,
            MaxNumberOfMessages: 10,
            WaitTimeSeconds: emptyReceives === 0 ? 0 : 1,
            // Held until just past the call's deadline, so that no later receive of it sees them again.
            VisibilityTimeout: Math.min(HOLD_MAX_SECONDS, Math.max(1, Math.ceil((deadline - Date.now()) / 1000) + HOLD_MARGIN_SECONDS)),
            MessageSystemAttributeNames: ['MessageGroupId', 'SentTimestamp', 'ApproximateReceiveCount'],
            MessageAttributeNames: ['All'],
          }),
        );
        if (messages.length === 0) {
          emptyReceives += 1;
          if (emptyReceives >= 2) return { exhausted: true };
          continue;
        }
        emptyReceives = 0;
        held.push(...messages);
        if (await visit(messages, client, sdk)) return { exhausted: false };
      }
      return { exhausted: false };
    } finally {
      await release(client, sdk, queueUrl, held.filter((message) => message.ReceiptHandle !== undefined));
    }
  }
}

/** A listing's or discard's hold on the messages it received, past its deadline (seconds). */
const HOLD_MARGIN_SECONDS = 5;
const HOLD_MAX_SECONDS = 120;

/**
 * Makes held messages visible again, the last received first (the emulator puts each back at the
 * head of its group); best effort: those it fails on come back when their hold passes.
 */
async function release(client: SQSClient, sdk: SqsSdk, queueUrl: string, held: readonly Message[]): Promise<void> {
  const reversed = [...held].reverse();
  for (let start = 0; start < reversed.length; start += 10) {
    const entries = reversed.slice(start, start + 10).map((message, index) => ({ Id: String(index), ReceiptHandle: message.ReceiptHandle!, VisibilityTimeout: 0 }));
    await client.send(new sdk.ChangeMessageVisibilityBatchCommand({ QueueUrl: queueUrl, Entries: entries })).catch(() => undefined);
  }
}
