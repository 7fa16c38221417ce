/**
 * Every node's store on DynamoDB.
 *
 * Table: partition key `node` (S), sort key `key` (S). An object's item has the key
 * `objectStorageKey(object)` (`type/id`) and its fields as attributes, the properties as JSON
 * text (`properties`) or, above `offloadAboveBytes`, in S3 (`propertiesRef`; items are
 * limited to 400 KB). The node's cursor is the item with key `#cursor` (`#` sorts before
 * every type name, so object listings start above it).
 *
 * Every read and write of a node touches only that node's partition, so a function's IAM
 * policy can be limited to its own node's items (`dynamodb:LeadingKeys`). A snapshot read
 * touches the source node's partition and a bootstrap the target's.
 *
 * Two conditions keep each store exact under concurrency:
 * - The cursor moves by compare-and-swap (`commit`), so each sequence is applied once.
 * - An object is written only over an older version (`lastSequence` below the new one; a
 *   snapshot also over the same one). That is what lets a bootstrap run while the node's
 *   queue keeps delivering: the snapshot's objects and the applier's never replace a newer
 *   version of each other. So a resync keeps an object the node holds at a later version than
 *   the snapshot (its queue applied that event meanwhile) and repairs every other.
 */
import { randomUUID } from 'node:crypto';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  paginateQuery,
  PutItemCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type BatchGetItemCommandOutput,
  type KeysAndAttributes,
} from '@aws-sdk/client-dynamodb';
import { queryAll } from '../../shared/adapters/query-all';
import { AGAIN, retry, UNPROCESSED_ITEMS_BACKOFF, type Backoff } from '../../shared/retry';
import { objectStorageKey, PARKING_KEY_PREFIX, parkingKey, type ObjectRef, type ObjectType } from '../events';
import type { JsonObject } from '../merge-patch';
import type {
  BatchCommit,
  ApplyFailure,
  CatalogPage,
  CatalogQuery,
  CheckedCommitOutcome,
  CommitOutcome,
  LogItemCheck,
  NodeProgress,
  NodeStore,
  ParkCommit,
  ParkedApply,
  ParkedObject,
  ParkedRefill,
  ParkOutcome,
  Snapshot,
  StoreCommit,
  StoredObject,
} from '../ports';
import { HELD_CURSOR, PARKED_LIST_MAX } from '../ports';
import {
  bool,
  cancellationCodes,
  num,
  optionalNumber,
  optionalString,
  readBoolean,
  readNumber,
  readString,
  str,
  type Item,
} from './dynamo-attributes';
import { describeError, logger } from '../../shared/observability';
import type { Warn } from '../../shared/warn';
import { withoutSdkLogging } from '../../shared/sdk-client';
import type { ObjectBodies } from './s3-body-store';
import { NODE_STORE_TABLE } from '../tables';
import { notPausedCheck } from './dynamo-node-pauses';

/** Sort key of a node's cursor item. */
export const CURSOR_KEY = NODE_STORE_TABLE.cursorKey;
/**
 * Lower bound (exclusive) of object keys: above `#cursor`, below every type name (types
 * start with a lower-case letter).
 */
const OBJECTS_START = '$';
/** Properties above this size go to S3: the rest of an item stays far below DynamoDB's 400 KB. */
export const OFFLOAD_PROPERTIES_BYTES = 300_000;
/** Parallel writes while bootstrapping, and parallel S3 reads while listing. */
const CONCURRENCY = 16;
const MAX_TRANSACTION_CONFLICT_RETRIES = 8;
/** Between retries of a transaction cancelled by a conflict or throttling. */
const TRANSACTION_CONFLICT_BACKOFF: Backoff = { baseMs: 20, capMs: 1000 };
/** Reads of a batch's unprocessed keys before the invocation fails (and its queue retries it). */
const MAX_UNPROCESSED_ATTEMPTS = 10;
/** Rounds of a park whose record a concurrent redrive keeps changing before the invocation fails (its queue retries it). */
const MAX_PARK_ATTEMPTS = 5;

export interface DynamoNodeStoreOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /** Where properties too large for an item go. Without it, such an object fails to write. */
  readonly bodies?: ObjectBodies;
  /** @default OFFLOAD_PROPERTIES_BYTES */
  readonly offloadAboveBytes?: number;
  /**
   * Where a superseded body that could not be deleted is reported. @default the module's logger;
   * a function's job path, a module of its own (job-slices.ts), passes the function's.
   */
  readonly warn?: Warn;
  /**
   * The event log table: with it, `commit` takes a `logCheck` (a `ConditionCheck` on the log's
   * item in the commit's transaction; the caller needs `dynamodb:ConditionCheckItem` on it).
   */
  readonly logTableName?: string;
}

const logWarn: Warn = (message, fields) => logger.warn(message, fields);

export class DynamoNodeStore implements NodeStore {
  private readonly client: DynamoDBClient;
  /**
   * The S3 body each offloaded object had when this instance last read or wrote it, so that
   * a write replacing it can delete the body it superseded (best effort: a body missed here is
   * only storage, never a wrong read).
   */
  private readonly knownBodies = new Map<string, string>();

  readonly checksLog: boolean;
  /** The node's pause item is in this table (dynamo-node-pauses.ts): `commit` checks it in its transaction. */
  readonly checksPauses = true;

  constructor(private readonly options: DynamoNodeStoreOptions) {
    this.client = options.client ?? withoutSdkLogging(new DynamoDBClient({}));
    this.checksLog = options.logTableName !== undefined;
  }

  async readCursor(node: string): Promise<number> {
    const item = await this.readCursorItem(node);
    return heldBy(item) === undefined ? (optionalNumber(item, 'cursor') ?? 0) : HELD_CURSOR;
  }

  async readProgress(node: string): Promise<NodeProgress> {
    const item = await this.readCursorItem(node);
    const cursor = optionalNumber(item, 'cursor') ?? 0;
    const job = heldBy(item);
    const held = job === undefined ? {} : { heldBy: job, ...(item.holdIncomplete?.BOOL === true ? { storeIncomplete: true } : {}) };
    const sequence = optionalNumber(item, 'failingSequence');
    if (sequence === undefined || sequence <= cursor) return { cursor, ...held };
    return {
      cursor,
      failing: {
        sequence,
        attempts: optionalNumber(item, 'failingAttempts') ?? 0,
        reason: optionalString(item, 'failingReason') ?? '',
        at: optionalString(item, 'failingAt') ?? '',
      },
      ...held,
    };
  }

  /** The node's cursor item (empty before its first event). */
  private async readCursorItem(node: string): Promise<Item> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { node: str(node), key: str(CURSOR_KEY) },
        ConsistentRead: true,
      }),
    );
    return result.Item ?? {};
  }

  async readApplyState(
    node: string,
    objects: readonly ObjectRef[],
    parkingKeys: readonly string[],
    withCursor: boolean,
  ): Promise<{ objects: StoredObject[]; parked: ParkedObject[]; cursor?: number }> {
    // The cursor first, then the rest. A commit writes its objects and moves the cursor in one
    // transaction, but a BatchGetItem is no snapshot: it may read an object before such a commit
    // and the cursor after it, and the applier would then apply the next event on top of a state
    // the store never held, which the cursor's compare-and-swap cannot catch. Read in this
    // order, an object can only be newer than the cursor, and that the compare-and-swap catches.
    // (TransactGetItems would be one request, but it refuses more than 4 MB of items and fails
    // on conflicts with the very commits it must read past.)
    const cursor = withCursor ? await this.readCursor(node) : undefined;
    const rest = await this.batchGet(node, [...objects.map(objectStorageKey), ...parkingKeys]);
    const parked = rest.filter((item) => readString(item, 'key').startsWith(PARKING_KEY_PREFIX)).map(toParked);
    const stored = rest.filter((item) => !readString(item, 'key').startsWith(PARKING_KEY_PREFIX));
    return {
      objects: await mapConcurrently(stored, CONCURRENCY, (item) => this.toObject(node, item)),
      parked,
      ...(cursor === undefined ? {} : { cursor }),
    };
  }

  async recordFailure(node: string, expectedCursor: number, failure: Omit<ApplyFailure, 'attempts'>): Promise<number | 'cursor-moved'> {
    const cursorIs = expectedCursor === 0 ? '(attribute_not_exists(#cursor) OR #cursor = :expected)' : '#cursor = :expected';
    const names = { '#cursor': 'cursor', '#sequence': 'failingSequence', '#attempts': 'failingAttempts', '#reason': 'failingReason', '#at': 'failingAt' };
    const values = { ':expected': num(expectedCursor), ':sequence': num(failure.sequence), ':reason': str(failure.reason), ':at': str(failure.at), ':one': num(1) };
    const key = { node: str(node), key: str(CURSOR_KEY) };
    try {
      const counted = await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression: 'SET #attempts = #attempts + :one, #reason = :reason, #at = :at',
          ConditionExpression: `${cursorIs} AND #sequence = :sequence`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'UPDATED_NEW',
        }),
      );
      return optionalNumber(counted.Attributes ?? {}, 'failingAttempts') ?? 1;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: key,
          UpdateExpression: 'SET #sequence = :sequence, #attempts = :one, #reason = :reason, #at = :at',
          ConditionExpression: cursorIs,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 1;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'cursor-moved';
      throw error;
    }
  }

  async park(node: string, commit: ParkCommit): Promise<ParkOutcome> {
    if (commit.sequence !== commit.expectedCursor + 1) {
      throw new Error(`park must advance the cursor by one (from ${commit.expectedCursor} to ${commit.sequence})`);
    }
    // The list while it has room and no overflow, else the overflow: which one holds is known
    // only to the condition (a redrive may refill or empty the record meanwhile).
    for (let attempt = 1; attempt <= MAX_PARK_ATTEMPTS; attempt += 1) {
      for (const into of ['list', 'overflow'] as const) {
        const outcome = await this.parkInto(node, commit, into);
        if (outcome !== 'refused') return outcome;
      }
      // A follower only joins a record that exists: once a redrive removed it, it applies.
      if (!commit.cause && (await this.readParked(node, commit.key)) === undefined) return 'unparked';
    }
    throw new Error(`Node ${node}: parking record ${commit.key} changed under ${MAX_PARK_ATTEMPTS} attempts to park event ${commit.sequence}`);
  }

  private async parkInto(node: string, commit: ParkCommit, into: 'list' | 'overflow'): Promise<'committed' | 'cursor-moved' | 'refused'> {
    const names: Record<string, string> = { '#sequences': 'sequences', '#overflowFrom': 'overflowFrom' };
    const values: Item = { ':max': num(PARKED_LIST_MAX) };
    const sets: string[] = [];
    let condition: string;
    if (into === 'list') {
      Object.assign(values, { ':sequence': { L: [num(commit.sequence)] }, ':empty': { L: [] } });
      sets.push('#sequences = list_append(if_not_exists(#sequences, :empty), :sequence)');
      const room = 'attribute_not_exists(#overflowFrom) AND size(#sequences) < :max';
      condition = commit.cause ? `attribute_not_exists(#sequences) OR (${room})` : `attribute_exists(#sequences) AND ${room}`;
    } else {
      names['#overflowThrough'] = 'overflowThrough';
      values[':sequence'] = num(commit.sequence);
      sets.push('#overflowFrom = if_not_exists(#overflowFrom, :sequence)', '#overflowThrough = :sequence');
      condition = 'attribute_exists(#sequences) AND (attribute_exists(#overflowFrom) OR size(#sequences) >= :max)';
    }
    if (commit.cause) {
      Object.assign(names, { '#reason': 'reason', '#attempts': 'attempts', '#parkedAt': 'parkedAt' });
      Object.assign(values, { ':reason': str(commit.cause.reason), ':attempts': num(commit.cause.attempts), ':parkedAt': str(commit.cause.parkedAt) });
      sets.push('#reason = if_not_exists(#reason, :reason)', '#attempts = if_not_exists(#attempts, :attempts)', '#parkedAt = if_not_exists(#parkedAt, :parkedAt)');
    }
    if (commit.object) {
      Object.assign(names, { '#objectType': 'objectType', '#objectId': 'objectId' });
      Object.assign(values, { ':objectType': str(commit.object.type), ':objectId': str(commit.object.id) });
      sets.push('#objectType = :objectType', '#objectId = :objectId');
    }
    const recordUpdate = {
      TableName: this.options.tableName,
      Key: { node: str(node), key: str(commit.key) },
      UpdateExpression: `SET ${sets.join(', ')}`,
      ConditionExpression: condition,
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
    const cursorUpdate = this.cursorUpdate(node, commit.expectedCursor, commit.sequence);
    const outcome = await this.transact([{ Update: cursorUpdate }, { Update: recordUpdate }], (codes) => {
      if (codes[0] === 'ConditionalCheckFailed') return 'cursor-moved' as const;
      if (codes[1] === 'ConditionalCheckFailed') return 'refused' as const;
      return undefined;
    });
    return outcome ?? 'committed';
  }

  async listParked(node: string): Promise<ParkedObject[]> {
    const { items } = await queryAll(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#node = :node AND begins_with(#key, :prefix)',
          ExpressionAttributeNames: { '#node': 'node', '#key': 'key' },
          ExpressionAttributeValues: { ':node': str(node), ':prefix': str(PARKING_KEY_PREFIX) },
        },
      ),
    );
    return items.map(toParked);
  }

  async readParked(node: string, key: string): Promise<ParkedObject | undefined> {
    const { Item } = await this.client.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: { node: str(node), key: str(key) }, ConsistentRead: true }),
    );
    return Item === undefined ? undefined : toParked(Item);
  }

  async refillParked(node: string, refill: ParkedRefill): Promise<'committed' | 'moved'> {
    const ends = refill.next > refill.through;
    const names: Record<string, string> = { '#sequences': 'sequences', '#overflowFrom': 'overflowFrom' };
    const values: Item = { ':sequences': { L: refill.sequences.map(num) }, ':from': num(refill.from), ':zero': num(0) };
    let update: string;
    let condition = 'size(#sequences) = :zero AND #overflowFrom = :from';
    if (ends) {
      names['#overflowThrough'] = 'overflowThrough';
      values[':through'] = num(refill.through);
      update = 'SET #sequences = :sequences REMOVE #overflowFrom, #overflowThrough';
      condition += ' AND #overflowThrough = :through';
    } else {
      values[':next'] = num(refill.next);
      update = 'SET #sequences = :sequences, #overflowFrom = :next';
    }
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { node: str(node), key: str(refill.key) },
          UpdateExpression: update,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
      return 'committed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'moved';
      throw error;
    }
  }

  async applyParked(node: string, apply: ParkedApply): Promise<'committed' | 'moved'> {
    const pop = {
      TableName: this.options.tableName,
      Key: { node: str(node), key: str(apply.key) },
      UpdateExpression: 'REMOVE #sequences[0]',
      ConditionExpression: '#sequences[0] = :sequence',
      ExpressionAttributeNames: { '#sequences': 'sequences' },
      ExpressionAttributeValues: { ':sequence': num(apply.sequence) },
    };
    if (apply.object) {
      const item = await this.toItem(node, apply.object);
      const outcome = await this.transact([{ Update: pop }, { Put: this.versionPut(item, apply.object.lastSequence, 'older') }], (codes) => {
        if (codes[0] === 'ConditionalCheckFailed') return 'moved' as const;
        // The store holds this or a newer version (a resync wrote it): only the pop remains.
        if (codes[1] === 'ConditionalCheckFailed') return 'stale' as const;
        return undefined;
      });
      if (outcome === 'moved') return 'moved';
      if (outcome === undefined) {
        await this.supersede(node, item);
        return 'committed';
      }
    }
    try {
      await this.client.send(new UpdateItemCommand(pop));
      return 'committed';
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return 'moved';
      throw error;
    }
  }

  async noteParkedFailure(node: string, key: string, sequence: number | undefined, reason: string): Promise<void> {
    const head: { condition: string; names: Record<string, string>; values: Item } =
      sequence === undefined
        ? { condition: 'size(#sequences) = :zero AND attribute_exists(#overflowFrom)', names: { '#overflowFrom': 'overflowFrom' }, values: { ':zero': num(0) } }
        : { condition: '#sequences[0] = :sequence', names: {}, values: { ':sequence': num(sequence) } };
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { node: str(node), key: str(key) },
          UpdateExpression: 'SET #reason = :reason, #attempts = #attempts + :one',
          ConditionExpression: head.condition,
          ExpressionAttributeNames: { '#sequences': 'sequences', '#reason': 'reason', '#attempts': 'attempts', ...head.names },
          ExpressionAttributeValues: { ':reason': str(reason), ':one': num(1), ...head.values },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async removeParked(node: string, key: string): Promise<boolean> {
    try {
      await this.client.send(
        new DeleteItemCommand({
          TableName: this.options.tableName,
          Key: { node: str(node), key: str(key) },
          ConditionExpression: 'attribute_not_exists(#overflowFrom) AND (attribute_not_exists(#sequences) OR size(#sequences) = :zero)',
          ExpressionAttributeNames: { '#sequences': 'sequences', '#overflowFrom': 'overflowFrom' },
          ExpressionAttributeValues: { ':zero': num(0) },
        }),
      );
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  async readObjects(node: string, objects: readonly ObjectRef[]): Promise<StoredObject[]> {
    const items = await this.batchGet(node, objects.map(objectStorageKey));
    return mapConcurrently(items, CONCURRENCY, (item) => this.toObject(node, item));
  }

  /** The items of `keys` in the node's partition (consistent reads, unprocessed keys retried). */
  private async batchGet(node: string, wantedKeys: readonly string[]): Promise<Item[]> {
    const keys = [...new Set(wantedKeys)];
    const items: Item[] = [];
    for (let start = 0; start < keys.length; start += 100) {
      let request: Record<string, KeysAndAttributes> | undefined = {
        [this.options.tableName]: {
          Keys: keys.slice(start, start + 100).map((key) => ({ node: str(node), key: str(key) })),
          ConsistentRead: true,
        },
      };
      await retry(
        async () => {
          const result: BatchGetItemCommandOutput = await this.client.send(new BatchGetItemCommand({ RequestItems: request }));
          items.push(...(result.Responses?.[this.options.tableName] ?? []));
          request = result.UnprocessedKeys;
          return request && Object.keys(request).length > 0 ? AGAIN : undefined;
        },
        {
          maxAttempts: MAX_UNPROCESSED_ATTEMPTS,
          backoff: UNPROCESSED_ITEMS_BACKOFF,
          exhausted: (attempts) => new Error(`BatchGetItem left keys of node ${node} unprocessed after ${attempts} attempts`),
        },
      );
    }
    return items;
  }

  /**
   * The cursor's compare-and-swap from `expected` to `next`; it also clears the failure record
   * (which concerned `next` or an earlier sequence). It fails while a resync holds the node
   * (`holdForResync`): an applier that took the cursor from its previous batch, not from a read,
   * learns of the hold from the failure, reads the cursor again, and applies nothing.
   */
  private cursorUpdate(node: string, expected: number, next: number) {
    const cursorIs = expected === 0 ? '(attribute_not_exists(#cursor) OR #cursor = :expected)' : '#cursor = :expected';
    return {
      TableName: this.options.tableName,
      Key: { node: str(node), key: str(CURSOR_KEY) },
      UpdateExpression: 'SET #cursor = :next REMOVE failingSequence, failingAttempts, failingReason, failingAt',
      ConditionExpression: `${cursorIs} AND (attribute_not_exists(#holdUntil) OR #holdUntil <= :now) AND attribute_not_exists(#holdIncomplete)`,
      ExpressionAttributeNames: { '#cursor': 'cursor', '#holdUntil': 'holdUntil', '#holdIncomplete': 'holdIncomplete' },
      ExpressionAttributeValues: { ':next': num(next), ':expected': num(expected), ':now': num(Date.now()) },
    };
  }

  /**
   * One TransactWriteItems, retried on conflicts and throttling; `onCancel` maps a cancellation
   * to an outcome (or `undefined` to retry it as a conflict).
   */
  private async transact<T>(
    items: NonNullable<ConstructorParameters<typeof TransactWriteItemsCommand>[0]['TransactItems']>,
    onCancel: (codes: string[]) => T | undefined,
  ): Promise<T | undefined> {
    return retry(
      async () => {
        try {
          await this.client.send(new TransactWriteItemsCommand({ ClientRequestToken: randomUUID(), TransactItems: items }));
          return undefined;
        } catch (error) {
          const codes = cancellationCodes(error);
          if (codes === undefined) throw error;
          const outcome = onCancel(codes);
          if (outcome !== undefined) return outcome;
          throw error;
        }
      },
      { maxAttempts: MAX_TRANSACTION_CONFLICT_RETRIES + 1, backoff: TRANSACTION_CONFLICT_BACKOFF, retryable: (error) => cancellationCodes(error) !== undefined },
    );
  }

  async commitBatch(node: string, commit: BatchCommit): Promise<CommitOutcome> {
    if (commit.objects.length > 99) throw new Error(`commitBatch takes at most 99 objects, not ${commit.objects.length}`);
    const cursorUpdate = this.cursorUpdate(node, commit.expectedCursor, commit.sequence);
    const items = await Promise.all(commit.objects.map(({ object }) => this.toItem(node, object)));
    const puts = items.map((item, index) => {
      const { since, unread } = commit.objects[index] as BatchCommit['objects'][number];
      return { Put: this.versionPut(item, since, 'older', unread) };
    });
    const unparked = commit.objects.flatMap(({ object, unread }) => (unread ? [this.unparkedCheck(node, object)] : []));
    if (1 + puts.length + unparked.length > 100) throw new Error(`commitBatch takes at most 100 items in one transaction, not ${1 + puts.length + unparked.length}`);
    const outcome = await this.transact<CommitOutcome>([{ Update: cursorUpdate }, ...puts, ...unparked], (codes) => {
      // Nothing was written. Bodies stored for these versions stay: a concurrent invocation
      // committing the same sequences records the same keys.
      if (codes[0] === 'ConditionalCheckFailed') return 'cursor-moved';
      if (codes.slice(1).includes('ConditionalCheckFailed')) return 'object-moved';
      return undefined;
    });
    if (outcome !== undefined) return outcome;
    for (const item of items) await this.supersede(node, item);
    return 'committed';
  }

  async commit(node: string, commit: StoreCommit): Promise<CheckedCommitOutcome> {
    if (commit.sequence !== commit.expectedCursor + 1) {
      throw new Error(`commit must advance the cursor by one (from ${commit.expectedCursor} to ${commit.sequence})`);
    }
    const cursorUpdate = this.cursorUpdate(node, commit.expectedCursor, commit.sequence);
    // Last in the transaction: its cancellation reason is the last one.
    const logChecks = commit.logCheck ? [this.logItemCheck(commit.logCheck)] : [];
    const pauseChecks = commit.unlessPaused ? [notPausedCheck(this.options.tableName, node)] : [];
    if (!commit.object && logChecks.length === 0 && pauseChecks.length === 0) {
      try {
        await this.client.send(new UpdateItemCommand(cursorUpdate));
        return 'committed';
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return 'cursor-moved';
        throw error;
      }
    }

    const item = commit.object ? await this.toItem(node, commit.object) : undefined;
    const writes = commit.object && item ? [{ Put: this.versionPut(item, commit.object.lastSequence, 'older', commit.unread) }] : [];
    const checks = commit.object && commit.unread ? [this.unparkedCheck(node, commit.object)] : [];
    const pauseAt = pauseChecks.length > 0 ? 1 + writes.length + checks.length : -1;
    const moved = await this.transact([{ Update: cursorUpdate }, ...writes, ...checks, ...pauseChecks, ...logChecks], (codes) => {
      // Nothing was written. The body stored for this version stays: a concurrent invocation
      // committing the same sequence records the same key. A failed log check is answered
      // first, whatever else failed: the caller reads the log's event before anything else;
      // then a pause.
      if (logChecks.length > 0 && codes[codes.length - 1] === 'ConditionalCheckFailed') return 'log-differs' as const;
      if (pauseAt >= 0 && codes[pauseAt] === 'ConditionalCheckFailed') return 'paused' as const;
      if (codes[0] === 'ConditionalCheckFailed') return 'cursor-moved' as const;
      if (codes.slice(1).includes('ConditionalCheckFailed')) return 'object-moved' as const;
      return undefined;
    });
    if (moved !== undefined) return moved;
    if (item) await this.supersede(node, item);
    return 'committed';
  }

  /** `check` as a `ConditionCheck` of the event log's item (its `digest` attribute, absent on items written before digests). */
  private logItemCheck(check: LogItemCheck) {
    const tableName = this.options.logTableName;
    if (tableName === undefined) throw new Error('This node store checks no log item: it was made without logTableName');
    return {
      ConditionCheck: {
        TableName: tableName,
        Key: { cluster: str(check.cluster), sequence: num(check.sequence) },
        ConditionExpression: '#digest = :digest',
        ExpressionAttributeNames: { '#digest': 'digest' },
        ExpressionAttributeValues: { ':digest': str(check.digest) },
      },
    };
  }

  async replaceWithSnapshot(node: string, snapshot: Snapshot): Promise<void> {
    const existing = (await this.queryObjects(node, { projection: true })).map((item) => readString(item, 'key'));
    await this.putSnapshotObjects(node, snapshot.objects);
    // Objects the snapshot does not know, unless a later event than the snapshot wrote them.
    const wanted = new Set(snapshot.objects.map(objectStorageKey));
    const stale = existing.filter((key) => !wanted.has(key)).map(refOfKey);
    await this.removeUnlessNewer(node, stale, snapshot.sequence);
    await this.finishSnapshot(node, snapshot.sequence);
  }

  async readSnapshot(node: string, cluster: string): Promise<Snapshot> {
    // The stored cursor, held or not: the objects reflect it whatever the node applies now.
    const { cursor: sequence } = await this.readProgress(node);
    const items = await this.queryObjects(node, {});
    const objects = await mapConcurrently(items, CONCURRENCY, (item) => this.toObject(node, item));
    return { cluster, sourceNode: node, sequence, objects };
  }

  async holdForResync(node: string, job: string, until: number, copying = false): Promise<void> {
    await this.client.send(this.holdUpdate(node, job, until, copying, false));
  }

  async renewResyncHold(node: string, job: string, until: number, copying: boolean): Promise<boolean> {
    try {
      await this.client.send(this.holdUpdate(node, job, until, copying, true));
      return true;
    } catch (error) {
      // No hold (a finish ended it) or another job's: nothing of this job's to renew.
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /** The cursor item's update that holds the node for `job`; `renewal`: only while the hold is that job's. */
  private holdUpdate(node: string, job: string, until: number, copying: boolean, renewal: boolean): UpdateItemCommand {
    return new UpdateItemCommand({
      TableName: this.options.tableName,
      Key: { node: str(node), key: str(CURSOR_KEY) },
      UpdateExpression: copying ? 'SET #holdJob = :job, #holdUntil = :until, #holdIncomplete = :incomplete' : 'SET #holdJob = :job, #holdUntil = :until',
      ...(renewal ? { ConditionExpression: '#holdJob = :job' } : {}),
      ExpressionAttributeNames: { '#holdJob': 'holdJob', '#holdUntil': 'holdUntil', ...(copying ? { '#holdIncomplete': 'holdIncomplete' } : {}) },
      ExpressionAttributeValues: { ':job': str(job), ':until': num(until), ...(copying ? { ':incomplete': { BOOL: true } } : {}) },
    });
  }

  async releaseResyncHold(node: string, job: string): Promise<void> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { node: str(node), key: str(CURSOR_KEY) },
          UpdateExpression: 'REMOVE #holdJob, #holdUntil',
          // A store the job left half-copied stays held until a resync finishes.
          ConditionExpression: '#holdJob = :job AND attribute_not_exists(#holdIncomplete)',
          ExpressionAttributeNames: { '#holdJob': 'holdJob', '#holdUntil': 'holdUntil', '#holdIncomplete': 'holdIncomplete' },
          ExpressionAttributeValues: { ':job': str(job) },
        }),
      );
    } catch (error) {
      // Another job's hold, none, or a half-copied store's: nothing of this job's to end.
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async putSnapshotObjects(node: string, objects: readonly StoredObject[]): Promise<void> {
    await mapConcurrently(objects, CONCURRENCY, async (object) => {
      const item = await this.toItem(node, object);
      let replaced: Item | undefined;
      try {
        replaced = (await this.client.send(new PutItemCommand({ ...this.versionPut(item, object.lastSequence, 'same-or-older'), ReturnValues: 'ALL_OLD' }))).Attributes;
      } catch (error) {
        // The node already holds a newer version (its queue kept applying). A body stored
        // for this write is only storage: the bucket's lifecycle rules bound it.
        if (error instanceof ConditionalCheckFailedException) return;
        throw error;
      }
      const before = replaced === undefined ? undefined : optionalString(replaced, 'propertiesRef');
      if (before !== undefined) this.knownBodies.set(bodyKey(node, objectStorageKey(object)), before);
      await this.supersede(node, item);
    });
  }

  async removeUnlessNewer(node: string, objects: readonly ObjectRef[], sequence: number): Promise<number> {
    const removed = await mapConcurrently(objects, CONCURRENCY, async (object) => {
      let old: Item | undefined;
      try {
        old = (
          await this.client.send(
            new DeleteItemCommand({
              TableName: this.options.tableName,
              Key: { node: str(node), key: str(objectStorageKey(object)) },
              ConditionExpression: '#lastSequence <= :snapshot',
              ExpressionAttributeNames: { '#lastSequence': 'lastSequence' },
              ExpressionAttributeValues: { ':snapshot': num(sequence) },
              ReturnValues: 'ALL_OLD',
            }),
          )
        ).Attributes;
      } catch (error) {
        // Written by a later event than the snapshot, or already gone.
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
      const ref = old === undefined ? undefined : optionalString(old, 'propertiesRef');
      if (ref !== undefined) await this.deleteBody(ref);
      return true;
    });
    return removed.filter(Boolean).length;
  }

  async finishSnapshot(node: string, sequence: number, parked: readonly ParkedObject[] = []): Promise<void> {
    // The node's own parking records go (the snapshot holds their events' effect, or the log
    // after it replays them); the source's, which the snapshot's objects are as of, come.
    const carried = new Set(parked.map((record) => record.key));
    await mapConcurrently(
      (await this.listParked(node)).filter((record) => !carried.has(record.key)),
      CONCURRENCY,
      (record) => this.client.send(new DeleteItemCommand({ TableName: this.options.tableName, Key: { node: str(node), key: str(record.key) } })),
    );
    await mapConcurrently(parked, CONCURRENCY, (record) => this.client.send(new PutItemCommand({ TableName: this.options.tableName, Item: parkedItem(node, record) })));
    // Last (a put: the failure record and any hold go too): an interrupted replacement leaves
    // the old cursor, and is simply run again.
    await this.client.send(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: { node: str(node), key: str(CURSOR_KEY), cursor: num(sequence) },
      }),
    );
  }

  async listObjects(node: string, query: CatalogQuery): Promise<CatalogPage> {
    const names: Record<string, string> = { '#node': 'node', '#key': 'key' };
    const values: Item = { ':node': str(node) };
    // A position below the listed range starts the listing at its beginning, never below it
    // (the cursor item, or keys of another type).
    const rangeStart = query.type === undefined ? OBJECTS_START : `${query.type}/`;
    const after = query.after !== undefined && query.after > rangeStart ? query.after : undefined;
    let keyCondition: string;
    if (query.type === undefined) {
      keyCondition = '#node = :node AND #key > :after';
      values[':after'] = str(after ?? OBJECTS_START);
    } else if (after === undefined) {
      keyCondition = '#node = :node AND begins_with(#key, :prefix)';
      values[':prefix'] = str(`${query.type}/`);
    } else {
      // BETWEEN is inclusive: the item equal to `after` is dropped below. `type0` follows
      // every `type/...` key (`0` is the character after `/`).
      if (after >= `${query.type}0`) return { objects: [] };
      keyCondition = '#node = :node AND #key BETWEEN :after AND :end';
      values[':after'] = str(after);
      values[':end'] = str(`${query.type}0`);
    }
    let filter: string | undefined;
    if (query.includeDeleted !== true) {
      filter = '#deleted = :false';
      names['#deleted'] = 'deleted';
      values[':false'] = bool(false);
    }
    // One more than a page tells whether another page follows.
    const { items: matching } = await queryAll(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: keyCondition,
          FilterExpression: filter,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          Limit: query.limit + 1,
        },
      ),
      {
        keep: (item) => after === undefined || readString(item, 'key') !== after,
        enough: (items) => items.length > query.limit,
      },
    );
    const pageItems = matching.slice(0, query.limit);
    const objects = await mapConcurrently(pageItems, CONCURRENCY, (item) => this.toObject(node, item));
    const last = objects[objects.length - 1];
    return matching.length > query.limit && last ? { objects, next: objectStorageKey(last) } : { objects };
  }

  // -------------------------------------------------------------------------------------------

  /**
   * A put that replaces only an older version of the object (or none). A snapshot also
   * replaces the same version: in a sound store it is identical, and a store in doubt is
   * repaired. An applier never does: the same version means the event is already applied.
   *
   * `unread`: the caller wrote the object without reading it, so the version it replaces must
   * also hold its properties inline: the reference to a body in S3, which must be deleted once
   * superseded, is what a read would have given (`supersede`); and it must not carry a
   * `cascadedAt`, which the new version keeps.
   */
  private versionPut(item: Item, lastSequence: number, replaces: 'older' | 'same-or-older', unread = false) {
    const newer = `attribute_not_exists(#lastSequence) OR #lastSequence ${replaces === 'older' ? '<' : '<='} :sequence`;
    return {
      TableName: this.options.tableName,
      Item: item,
      ConditionExpression: unread ? `(${newer}) AND attribute_not_exists(#propertiesRef) AND attribute_not_exists(#cascadedAt)` : newer,
      ExpressionAttributeNames: { '#lastSequence': 'lastSequence', ...(unread ? { '#propertiesRef': 'propertiesRef', '#cascadedAt': 'cascadedAt' } : {}) },
      ExpressionAttributeValues: { ':sequence': num(lastSequence) },
    };
  }

  /** An object written unread must have no parking record: an earlier event of it parked here. */
  private unparkedCheck(node: string, object: ObjectRef) {
    return {
      ConditionCheck: {
        TableName: this.options.tableName,
        Key: { node: str(node), key: str(parkingKey(object, 0)) },
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': 'key' },
      },
    };
  }

  private async toItem(node: string, object: StoredObject): Promise<Item> {
    const key = objectStorageKey(object);
    const properties = JSON.stringify(object.properties);
    const item: Item = {
      node: str(node),
      key: str(key),
      type: str(object.type),
      id: str(object.id),
      lastSequence: num(object.lastSequence),
      lastOrigin: str(object.lastOrigin),
      updatedAt: str(object.updatedAt),
      deleted: bool(object.deleted),
      incomplete: bool(object.incomplete),
      ...(object.sentThrough === undefined ? {} : { sentThrough: num(object.sentThrough) }),
      ...(object.cascadedAt === undefined ? {} : { cascadedAt: num(object.cascadedAt) }),
    };
    if (Buffer.byteLength(properties, 'utf8') <= (this.options.offloadAboveBytes ?? OFFLOAD_PROPERTIES_BYTES)) {
      item.properties = str(properties);
      return item;
    }
    const bodies = this.options.bodies;
    if (!bodies) throw new Error(`Properties of ${key} on node ${node} need the S3 body store, which is not configured`);
    item.propertiesRef = str(await bodies.put(node, key, object.lastSequence, properties));
    return item;
  }

  private async toObject(node: string, item: Item): Promise<StoredObject> {
    const key = readString(item, 'key');
    let properties: JsonObject;
    const ref = optionalString(item, 'propertiesRef');
    if (ref === undefined) {
      this.knownBodies.delete(bodyKey(node, key));
      properties = JSON.parse(readString(item, 'properties')) as JsonObject;
    } else {
      // A body deleted since the item was read answers 404 NoSuchKey (`undefined`) only to a
      // caller that may list the bucket; the functions may not (s3:GetObject on object keys
      // alone), so in AWS it is a 403 AccessDenied: either way the item is read again.
      let text: string | undefined;
      let failure: unknown;
      try {
        text = await this.options.bodies?.get(ref);
      } catch (error) {
        failure = error;
      }
      if (text === undefined) {
        // Replaced by a newer version between reading the item and its body: read again.
        const fresh = await this.client.send(
          new GetItemCommand({ TableName: this.options.tableName, Key: { node: str(node), key: str(key) }, ConsistentRead: true }),
        );
        if (!fresh.Item || optionalString(fresh.Item, 'propertiesRef') === ref) {
          // Still this body: a refusal is what it says (a missing grant, a KMS or network error).
          if (failure !== undefined) throw failure;
          throw new Error(`Properties of ${key} on node ${node} are missing from S3 (${ref})`);
        }
        return this.toObject(node, fresh.Item);
      }
      this.rememberBody(node, key, ref);
      properties = JSON.parse(text) as JsonObject;
    }
    return {
      type: readString(item, 'type') as ObjectType,
      id: readString(item, 'id'),
      properties,
      lastSequence: readNumber(item, 'lastSequence'),
      lastOrigin: readString(item, 'lastOrigin'),
      updatedAt: readString(item, 'updatedAt'),
      deleted: readBoolean(item, 'deleted'),
      incomplete: readBoolean(item, 'incomplete'),
      ...(item.sentThrough === undefined ? {} : { sentThrough: readNumber(item, 'sentThrough') }),
      ...(item.cascadedAt === undefined ? {} : { cascadedAt: readNumber(item, 'cascadedAt') }),
    };
  }

  /** After `item` replaced its object: deletes the S3 body of the version it replaced, if known. */
  private async supersede(node: string, item: Item): Promise<void> {
    const key = readString(item, 'key');
    const previous = this.knownBodies.get(bodyKey(node, key));
    const current = optionalString(item, 'propertiesRef');
    if (current === undefined) this.knownBodies.delete(bodyKey(node, key));
    else this.rememberBody(node, key, current);
    if (previous !== undefined && previous !== current) await this.deleteBody(previous);
  }

  private async deleteBody(ref: string): Promise<void> {
    try {
      await this.options.bodies?.delete(ref);
    } catch (error) {
      // Only storage is lost: the bucket's lifecycle rules bound it.
      (this.options.warn ?? logWarn)('could not delete a superseded object body', { ref, error: describeError(error) });
    }
  }

  private rememberBody(node: string, key: string, ref: string): void {
    if (this.knownBodies.size >= 10_000) this.knownBodies.clear();
    this.knownBodies.set(bodyKey(node, key), ref);
  }

  /** All object items of a node, tombstones included, in key order. */
  private async queryObjects(node: string, { projection }: { projection?: boolean }): Promise<Item[]> {
    const { items } = await queryAll(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#node = :node AND #key > :start',
          ExpressionAttributeNames: {
            '#node': 'node',
            '#key': 'key',
            ...(projection ? { '#lastSequence': 'lastSequence', '#ref': 'propertiesRef' } : {}),
          },
          ExpressionAttributeValues: { ':node': str(node), ':start': str(OBJECTS_START) },
          ProjectionExpression: projection ? '#key, #lastSequence, #ref' : undefined,
        },
      ),
    );
    return items;
  }
}

/** A parking record as `toParked` reads it back. */
function parkedItem(node: string, record: ParkedObject): Item {
  return {
    node: str(node),
    key: str(record.key),
    ...(record.object ? { objectType: str(record.object.type), objectId: str(record.object.id) } : {}),
    sequences: { L: record.sequences.map((sequence) => num(sequence)) },
    ...(record.overflow ? { overflowFrom: num(record.overflow.from), overflowThrough: num(record.overflow.through) } : {}),
    reason: str(record.reason),
    attempts: num(record.attempts),
    parkedAt: str(record.parkedAt),
  };
}

function toParked(item: Item): ParkedObject {
  const type = optionalString(item, 'objectType');
  const id = optionalString(item, 'objectId');
  const from = optionalNumber(item, 'overflowFrom');
  const through = optionalNumber(item, 'overflowThrough');
  return {
    key: readString(item, 'key'),
    ...(type !== undefined && id !== undefined ? { object: { type: type as ObjectType, id } } : {}),
    sequences: (item.sequences?.L ?? []).map((value) => Number(value.N)),
    ...(from !== undefined && through !== undefined ? { overflow: { from, through } } : {}),
    reason: optionalString(item, 'reason') ?? '',
    attempts: optionalNumber(item, 'attempts') ?? 0,
    parkedAt: optionalString(item, 'parkedAt') ?? '',
  };
}

/** The job holding the node: its hold has not lapsed, or it left the store half-copied (which never lapses). */
function heldBy(cursorItem: Item): string | undefined {
  const until = optionalNumber(cursorItem, 'holdUntil');
  const held = cursorItem.holdIncomplete?.BOOL === true || (until !== undefined && until > Date.now());
  return held ? optionalString(cursorItem, 'holdJob') : undefined;
}

/** The object an object item's key names (`type/id`; an id may hold further slashes). */
function refOfKey(key: string): ObjectRef {
  const slash = key.indexOf('/');
  return { type: key.slice(0, slash) as ObjectType, id: key.slice(slash + 1) } as ObjectRef;
}

function bodyKey(node: string, key: string): string {
  return `${node}\n${key}`;
}

/** `map` with at most `limit` calls in flight; results in input order. */
async function mapConcurrently<T, R>(inputs: readonly T[], limit: number, map: (input: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < inputs.length) {
      const index = next;
      next += 1;
      results[index] = await map(inputs[index] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  return results;
}
