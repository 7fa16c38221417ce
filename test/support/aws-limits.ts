/**
 * AWS's documented request limits, checked on what an adapter sends, for unit tests that drive
 * the adapters with a fake client. The emulators the integration tests run on (DynamoDB Local,
 * fauxqs) do not enforce every one of these (docs/architecture.md, "Limits the emulators do not
 * enforce"), so code that passes on them may still be refused in AWS.
 *
 * Sizes follow the DynamoDB developer guide ("DynamoDB item sizes and formats", "Constraints":
 * 1 KB = 1,024 bytes) and the SNS API reference (Publish, PublishBatch).
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/** DynamoDB's largest item, attribute names and values together. */
export const DYNAMO_MAX_ITEM_BYTES = 400 * 1024;
/** TransactWriteItems: at most 100 actions, 4 MB of items in all, no item targeted twice; TransactGetItems: at most 100 items. */
export const DYNAMO_MAX_TRANSACTION_ACTIONS = 100;
export const DYNAMO_MAX_TRANSACTION_BYTES = 4 * 1024 * 1024;
/** BatchGetItem: at most 100 keys; BatchWriteItem: at most 25 requests. */
export const DYNAMO_MAX_BATCH_GET_KEYS = 100;
export const DYNAMO_MAX_BATCH_WRITE_REQUESTS = 25;
/** Any expression string (condition, update, key condition, projection, filter). */
export const DYNAMO_MAX_EXPRESSION_BYTES = 4 * 1024;
/** SNS: a message with its attributes, and all the messages of a batch, at most 256 KB. */
export const SNS_MAX_PAYLOAD_BYTES = 256 * 1024;
export const SNS_MAX_BATCH_ENTRIES = 10;
export const SNS_MAX_MESSAGE_ATTRIBUTES = 10;
/** MessageGroupId and MessageDeduplicationId: 1-128 alphanumeric or punctuation characters. */
const FIFO_ID = /^[A-Za-z0-9!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]{1,128}$/;
/** A batch entry's Id: 1-80 alphanumeric, hyphen or underscore characters. */
const BATCH_ENTRY_ID = /^[A-Za-z0-9_-]{1,80}$/;

const utf8 = (value: string) => Buffer.byteLength(value, 'utf8');

/** The size DynamoDB counts for one attribute value (its name not included). */
export function dynamoValueBytes(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) {
    const digits = value.N.replace(/^[-+]/, '').replace(/[eE].*$/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
    return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
  }
  if (value.B !== undefined) return value.B.length;
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.SS !== undefined) return value.SS.reduce((sum, s) => sum + utf8(s), 0);
  if (value.NS !== undefined) return value.NS.reduce((sum, n) => sum + dynamoValueBytes({ N: n }), 0);
  if (value.BS !== undefined) return value.BS.reduce((sum, b) => sum + b.length, 0);
  // A list or a map: 3 bytes, and 1 byte per element besides the element's own size.
  if (value.L !== undefined) return 3 + value.L.reduce((sum, element) => sum + 1 + dynamoValueBytes(element), 0);
  if (value.M !== undefined) return 3 + dynamoItemBytes(value.M) + Object.keys(value.M).length;
  return 0;
}

/** The size DynamoDB counts for an item: every attribute's name and value. */
export function dynamoItemBytes(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + dynamoValueBytes(value), 0);
}

interface Expressions {
  readonly ConditionExpression?: string;
  readonly UpdateExpression?: string;
  readonly KeyConditionExpression?: string;
  readonly ProjectionExpression?: string;
  readonly FilterExpression?: string;
}

function expressionProblems(where: string, request: Expressions): string[] {
  const problems: string[] = [];
  for (const field of ['ConditionExpression', 'UpdateExpression', 'KeyConditionExpression', 'ProjectionExpression', 'FilterExpression'] as const) {
    const expression = request[field];
    if (expression !== undefined && utf8(expression) > DYNAMO_MAX_EXPRESSION_BYTES) {
      problems.push(`${where}: ${field} is ${utf8(expression)} bytes, over ${DYNAMO_MAX_EXPRESSION_BYTES}`);
    }
  }
  return problems;
}

type Key = Record<string, AttributeValue>;
interface TransactAction extends Expressions {
  readonly TableName?: string;
  readonly Item?: Key;
  readonly Key?: Key;
}

/** The DynamoDB limits `input` (the input of a command named `name`) breaks, one line each. */
export function dynamoProblems(name: string, input: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const itemProblem = (where: string, item: Key) => {
    const bytes = dynamoItemBytes(item);
    if (bytes > DYNAMO_MAX_ITEM_BYTES) problems.push(`${where}: item of ${bytes} bytes, over DynamoDB's ${DYNAMO_MAX_ITEM_BYTES}`);
  };
  switch (name) {
    case 'PutItemCommand':
      itemProblem('PutItem', input.Item as Key);
      problems.push(...expressionProblems('PutItem', input as Expressions));
      break;
    case 'UpdateItemCommand':
    case 'DeleteItemCommand':
    case 'QueryCommand':
      problems.push(...expressionProblems(name.replace(/Command$/, ''), input as Expressions));
      break;
    case 'TransactWriteItemsCommand': {
      const actions = (input.TransactItems ?? []) as Record<string, TransactAction | undefined>[];
      if (actions.length > DYNAMO_MAX_TRANSACTION_ACTIONS) {
        problems.push(`TransactWriteItems: ${actions.length} actions, over ${DYNAMO_MAX_TRANSACTION_ACTIONS}`);
      }
      const targets = new Set<string>();
      let bytes = 0;
      actions.forEach((wrapper, index) => {
        const [kind, action] = Object.entries(wrapper).find(([, value]) => value !== undefined) ?? [];
        if (!kind || !action) return;
        const where = `TransactWriteItems action ${index} (${kind})`;
        // A put's whole item counts; of the others only the key is known here, a lower bound.
        const item = action.Item ?? action.Key ?? {};
        if (action.Item) itemProblem(where, action.Item);
        bytes += dynamoItemBytes(item);
        const keyOf = action.Key ?? action.Item ?? {};
        const target = `${action.TableName}|${JSON.stringify(Object.entries(keyOf).filter(([attribute]) => ['node', 'key', 'cluster', 'sequence', 'executionId'].includes(attribute)).sort())}`;
        if (targets.has(target)) problems.push(`${where}: targets an item an earlier action of the transaction targets`);
        targets.add(target);
        problems.push(...expressionProblems(where, action));
      });
      if (bytes > DYNAMO_MAX_TRANSACTION_BYTES) problems.push(`TransactWriteItems: ${bytes} bytes of items, over ${DYNAMO_MAX_TRANSACTION_BYTES}`);
      break;
    }
    case 'TransactGetItemsCommand': {
      const gets = (input.TransactItems ?? []) as unknown[];
      if (gets.length > DYNAMO_MAX_TRANSACTION_ACTIONS) problems.push(`TransactGetItems: ${gets.length} items, over ${DYNAMO_MAX_TRANSACTION_ACTIONS}`);
      break;
    }
    case 'BatchGetItemCommand': {
      const tables = Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>);
      const keys = tables.reduce((sum, table) => sum + (table.Keys?.length ?? 0), 0);
      if (keys > DYNAMO_MAX_BATCH_GET_KEYS) problems.push(`BatchGetItem: ${keys} keys, over ${DYNAMO_MAX_BATCH_GET_KEYS}`);
      break;
    }
    case 'BatchWriteItemCommand': {
      const tables = Object.values((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: Key } }[]>);
      const requests = tables.flat();
      if (requests.length > DYNAMO_MAX_BATCH_WRITE_REQUESTS) problems.push(`BatchWriteItem: ${requests.length} requests, over ${DYNAMO_MAX_BATCH_WRITE_REQUESTS}`);
      requests.forEach((request, index) => request.PutRequest && itemProblem(`BatchWriteItem request ${index}`, request.PutRequest.Item));
      break;
    }
  }
  return problems;
}

interface SnsAttribute {
  readonly DataType?: string;
  readonly StringValue?: string;
  readonly BinaryValue?: Uint8Array;
}
interface SnsMessage {
  readonly Id?: string;
  readonly Message?: string;
  readonly MessageGroupId?: string;
  readonly MessageDeduplicationId?: string;
  readonly MessageAttributes?: Record<string, SnsAttribute>;
}

/** A message's size as SNS counts it: the body and each attribute's name, type and value. */
export function snsMessageBytes(message: SnsMessage): number {
  let bytes = utf8(message.Message ?? '');
  for (const [name, attribute] of Object.entries(message.MessageAttributes ?? {})) {
    bytes += utf8(name) + utf8(attribute.DataType ?? '') + utf8(attribute.StringValue ?? '') + (attribute.BinaryValue?.length ?? 0);
  }
  return bytes;
}

function snsMessageProblems(where: string, message: SnsMessage, fifo: boolean): string[] {
  const problems: string[] = [];
  const bytes = snsMessageBytes(message);
  if (bytes > SNS_MAX_PAYLOAD_BYTES) problems.push(`${where}: ${bytes} bytes with its attributes, over ${SNS_MAX_PAYLOAD_BYTES}`);
  const attributes = Object.keys(message.MessageAttributes ?? {}).length;
  if (attributes > SNS_MAX_MESSAGE_ATTRIBUTES) problems.push(`${where}: ${attributes} message attributes, over ${SNS_MAX_MESSAGE_ATTRIBUTES}`);
  if (fifo) {
    for (const field of ['MessageGroupId', 'MessageDeduplicationId'] as const) {
      const value = message[field];
      if (value === undefined || !FIFO_ID.test(value)) problems.push(`${where}: ${field} ${JSON.stringify(value)} is not 1-128 alphanumeric or punctuation characters`);
    }
  }
  return problems;
}

/** The SNS limits `input` breaks (a FIFO topic's when `fifo`), one line each. */
export function snsProblems(name: string, input: Record<string, unknown>, fifo = true): string[] {
  if (name === 'PublishCommand') return snsMessageProblems('Publish', input as SnsMessage, fifo);
  if (name !== 'PublishBatchCommand') return [];
  const entries = (input.PublishBatchRequestEntries ?? []) as SnsMessage[];
  const problems: string[] = [];
  if (entries.length === 0 || entries.length > SNS_MAX_BATCH_ENTRIES) problems.push(`PublishBatch: ${entries.length} entries, not 1-${SNS_MAX_BATCH_ENTRIES}`);
  const ids = new Set<string>();
  let bytes = 0;
  entries.forEach((entry, index) => {
    const where = `PublishBatch entry ${index}`;
    if (entry.Id === undefined || !BATCH_ENTRY_ID.test(entry.Id)) problems.push(`${where}: Id ${JSON.stringify(entry.Id)} is not 1-80 alphanumeric, - or _ characters`);
    else if (ids.has(entry.Id)) problems.push(`${where}: Id ${entry.Id} repeats an earlier entry's`);
    if (entry.Id !== undefined) ids.add(entry.Id);
    bytes += snsMessageBytes(entry);
    problems.push(...snsMessageProblems(where, entry, fifo));
  });
  if (bytes > SNS_MAX_PAYLOAD_BYTES) problems.push(`PublishBatch: ${bytes} bytes in all, over ${SNS_MAX_PAYLOAD_BYTES}`);
  return problems;
}

/** A request refused as AWS would refuse it (the SDK names the error `ValidationException`). */
export class LimitExceeded extends Error {
  override readonly name = 'ValidationException';
}

export interface LimitCheckingClient<C> {
  /** Pass as the adapter's SDK client. */
  readonly client: C;
  /** Every limit any request broke, in the order sent. */
  readonly problems: string[];
  /** Every request, by command name, in the order sent. */
  readonly sent: { name: string; input: Record<string, unknown> }[];
}

/**
 * A fake SDK client that checks each command against `check` and refuses one that breaks a limit
 * (as AWS does, with a ValidationException), recording the problem whether or not the caller
 * catches the error; otherwise it answers with `answer` (an empty output by default).
 */
export function limitCheckingClient<C>(
  check: (name: string, input: Record<string, unknown>) => string[],
  answer: (name: string, input: Record<string, unknown>) => unknown = () => ({}),
): LimitCheckingClient<C> {
  const problems: string[] = [];
  const sent: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: async (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name;
      sent.push({ name, input: command.input });
      const found = check(name, command.input);
      if (found.length > 0) {
        problems.push(...found);
        throw new LimitExceeded(found.join('; '));
      }
      return answer(name, command.input);
    },
  } as unknown as C;
  return { client, problems, sent };
}
