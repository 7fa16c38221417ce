/**
 * The status map on DynamoDB.
 *
 * Table: partition key `executionId`. Two sparse, write-sharded global secondary indexes:
 * - `byCompletionTime`: only completed statuses; partition `completedShard` (one of N shards,
 *   from a hash of the id), sort `completedSort` = `<completionTime>#<executionId>`. Serves
 *   "completed before/after T" listings and cleanup without a scan.
 * - `byHeartbeat`: only active statuses; partition `activeShard`, sort `heartbeatSort` =
 *   `<lastUpdated>#<executionId>`. Serves the reaper and listings by active phase.
 * A single constant index partition would cap the cluster at about 1,000 index writes/s; N shards
 * raise that N-fold at the cost of N queries per read of an index (docs/architecture.md).
 * Putting the execution id in the sort key makes every sort value unique, so a page cursor is
 * just the last sort value seen, valid across all shards at once.
 */
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
  type QueryCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../../shared/errors';
import { COMPLETED_PHASES, ACTIVE_PHASES, isCompleted, type ActiveWrite, type ExecutionStatus } from '../execution';
import type { ListQuery, Page, StatusStore } from '../ports';

export const COMPLETION_INDEX = 'byCompletionTime';
export const HEARTBEAT_INDEX = 'byHeartbeat';

const INDEX_ATTRIBUTES = ['completedShard', 'completedSort', 'activeShard', 'heartbeatSort', 'expiresAt'] as const;

export interface DynamoStatusStoreOptions {
  tableName: string;
  shards: number;
  /** Seconds after the last update at which DynamoDB TTL may delete an item: a backstop only. */
  ttlBackstopSeconds: number;
  client?: DynamoDBClient;
}

type Item = Record<string, unknown>;

export class DynamoStatusStore implements StatusStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(private readonly options: DynamoStatusStoreOptions) {
    this.doc = DynamoDBDocumentClient.from(options.client ?? new DynamoDBClient({}), {
      marshallOptions: { removeUndefinedValues: true },
    });
  }

  async get(executionId: string): Promise<ExecutionStatus | undefined> {
    const result = await this.doc.send(
      new GetCommand({ TableName: this.options.tableName, Key: { executionId }, ConsistentRead: true }),
    );
    return result.Item ? fromItem(result.Item) : undefined;
  }

  async put(next: ExecutionStatus, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new PutCommand({
        TableName: this.options.tableName,
        Item: this.toItem(next),
        ...versionCondition(expectedVersion),
      }),
    );
  }

  async applyActiveWrite(executionId: string, write: ActiveWrite): Promise<ExecutionStatus | undefined> {
    const names: Record<string, string> = { '#phase': 'phase', '#version': 'version', '#dismissed': 'dismissed' };
    const values: Record<string, unknown> = { ':one': 1, ':true': true };
    const sets = ['#version = #version + :one'];
    const set = (attribute: string, value: unknown) => {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = value;
      sets.push(`#${attribute} = :${attribute}`);
    };
    for (const [attribute, value] of Object.entries(write.set)) set(attribute, value);
    // The written phase is active, so the item stays in the heartbeat index, under its new beat.
    set('heartbeatSort', heartbeatSort(write.set.lastUpdated, executionId));
    set('expiresAt', this.expiresAt(write.set.lastUpdated));

    const from = write.from.map((phase, index) => {
      values[`:from${index}`] = phase;
      return `:from${index}`;
    });
    const conditions = [`#phase IN (${from.join(', ')})`, '(attribute_not_exists(#dismissed) OR #dismissed <> :true)'];
    if (write.processName !== undefined) {
      names['#processName'] = 'processName';
      values[':processName'] = write.processName;
      conditions.push('#processName = :processName');
    }
    if (write.userName !== undefined) {
      names['#userName'] = 'userName';
      values[':userName'] = write.userName;
      conditions.push('(attribute_not_exists(#userName) OR #userName = :userName)');
      sets.push('#userName = if_not_exists(#userName, :userName)');
    }
    try {
      const result = await this.doc.send(
        new UpdateCommand({
          TableName: this.options.tableName,
          Key: { executionId },
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? fromItem(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async remove(executionId: string, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new DeleteCommand({
        TableName: this.options.tableName,
        Key: { executionId },
        ...versionCondition(expectedVersion),
      }),
    );
  }

  async list(query: ListQuery): Promise<Page> {
    const phases = query.phases;
    const filters = attributeFilters(query);
    const byCompletion =
      query.completedBefore !== undefined ||
      query.completedAfter !== undefined ||
      (phases !== undefined && phases.every((phase) => COMPLETED_PHASES.includes(phase)));
    if (byCompletion) {
      let upper = query.completedBefore;
      const cursor = query.cursor ? decodeCursor(query.cursor, 'c') : undefined;
      if (cursor !== undefined && (upper === undefined || cursor < upper)) upper = cursor;
      return this.queryShards({
        ...BY_COMPLETION,
        below: upper,
        // Strictly after T: skip every `T#id`, whatever the id.
        above: query.completedAfter === undefined ? undefined : `${query.completedAfter}#\uffff`,
        newestFirst: true,
        limit: query.limit,
        filters,
      });
    }
    if (phases !== undefined && phases.every((phase) => ACTIVE_PHASES.includes(phase))) {
      return this.queryShards({
        ...BY_HEARTBEAT,
        below: query.cursor ? decodeCursor(query.cursor, 'a') : undefined,
        newestFirst: true,
        limit: query.limit,
        filters,
      });
    }
    return this.scan(query.limit, filters, query.cursor);
  }

  completedBefore(cutoff: string, limit: number, cursor?: string): Promise<Page> {
    return this.queryShards({
      ...BY_COMPLETION,
      below: cutoff,
      above: cursor ? decodeCursor(cursor, 'c') : undefined,
      newestFirst: false,
      limit,
      filters: noFilters,
    });
  }

  silentSince(cutoff: string, limit: number, cursor?: string): Promise<Page> {
    return this.queryShards({
      ...BY_HEARTBEAT,
      below: cutoff,
      above: cursor ? decodeCursor(cursor, 'a') : undefined,
      newestFirst: false,
      limit,
      filters: noFilters,
    });
  }

  private toItem(status: ExecutionStatus): Item {
    const shard = `s${shardOf(status.executionId, this.options.shards)}`;
    const expiresAt = this.expiresAt(status.lastUpdated);
    if (isCompleted(status.phase)) {
      return { ...status, completedShard: shard, completedSort: `${status.completionTime}#${status.executionId}`, expiresAt };
    }
    return { ...status, activeShard: shard, heartbeatSort: heartbeatSort(status.lastUpdated, status.executionId), expiresAt };
  }

  /** The TTL backstop: epoch seconds after the last update. */
  private expiresAt(lastUpdated: string): number {
    return Math.floor(Date.parse(lastUpdated) / 1000) + this.options.ttlBackstopSeconds;
  }

  private async conditional(command: PutCommand | DeleteCommand): Promise<boolean> {
    try {
      await this.doc.send(command as PutCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * Reads one ordered page across every shard of an index: each shard is queried (in parallel)
   * for up to `limit` matching items past the cursor, then the results are merged and cut.
   */
  private async queryShards(spec: ShardQuery): Promise<Page> {
    const perShard = await Promise.all(
      Array.from({ length: this.options.shards }, (_, shard) => this.queryShard(spec, `s${shard}`)),
    );
    const sortKey = (item: Item) => item[spec.sortAttribute] as string;
    const merged = perShard
      .flatMap((result) => result.items)
      .sort((a, b) => (sortKey(a) < sortKey(b) ? -1 : 1) * (spec.newestFirst ? -1 : 1));
    const page = merged.slice(0, spec.limit);
    const more = merged.length > spec.limit || perShard.some((result) => result.more);
    const last = page.at(-1);
    return {
      items: page.map(fromItem),
      cursor: more && last ? encodeCursor(spec.cursorKind, sortKey(last)) : undefined,
    };
  }

  private async queryShard(spec: ShardQuery, shard: string): Promise<{ items: Item[]; more: boolean }> {
    const names: Record<string, string> = { '#shard': spec.shardAttribute, ...spec.filters.names };
    // DynamoDB rejects declared names that no expression uses.
    if (spec.below !== undefined || spec.above !== undefined) names['#sort'] = spec.sortAttribute;
    const values: Record<string, unknown> = { ':shard': shard, ...spec.filters.values };
    let keyCondition = '#shard = :shard';
    if (spec.below !== undefined && spec.above !== undefined) {
      keyCondition += ' AND #sort BETWEEN :above AND :below';
      values[':above'] = spec.above;
      values[':below'] = spec.below;
    } else if (spec.below !== undefined) {
      keyCondition += ' AND #sort < :below';
      values[':below'] = spec.below;
    } else if (spec.above !== undefined) {
      keyCondition += ' AND #sort > :above';
      values[':above'] = spec.above;
    }
    const items: Item[] = [];
    let exclusiveStartKey: QueryCommandInput['ExclusiveStartKey'];
    do {
      const result = await this.doc.send(
        new QueryCommand({
          TableName: this.options.tableName,
          IndexName: spec.index,
          KeyConditionExpression: keyCondition,
          FilterExpression: spec.filters.expression,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ScanIndexForward: !spec.newestFirst,
          // One more than a page tells whether another page exists without an empty extra read.
          Limit: spec.limit + 1,
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      // BETWEEN is inclusive; the bounds here are exclusive cursors and cut-offs.
      for (const item of result.Items ?? []) {
        const sort = item[spec.sortAttribute] as string;
        if (sort !== spec.above && sort !== spec.below) items.push(item);
      }
      exclusiveStartKey = result.LastEvaluatedKey;
    } while (exclusiveStartKey && items.length <= spec.limit);
    return { items: items.slice(0, spec.limit), more: items.length > spec.limit || exclusiveStartKey !== undefined };
  }

  /**
   * Listings that no index serves (mixed phases, no completion bounds) read the table in pages.
   * DynamoDB's Limit counts items read, not matches, so each read takes a full page and the
   * result is cut at `limit`; the cursor is then the last item returned, which DynamoDB accepts
   * as a start key like any other.
   */
  private async scan(limit: number, filters: Filters, cursor?: string): Promise<Page> {
    let exclusiveStartKey: Record<string, unknown> | undefined = cursor
      ? { executionId: decodeCursor(cursor, 's') }
      : undefined;
    const items: Item[] = [];
    while (items.length < limit) {
      const result = await this.doc.send(
        new ScanCommand({
          TableName: this.options.tableName,
          FilterExpression: filters.expression,
          ExpressionAttributeNames: filters.expression ? filters.names : undefined,
          ExpressionAttributeValues: filters.expression ? filters.values : undefined,
          Limit: Math.max(SCAN_PAGE_ITEMS, limit),
          ExclusiveStartKey: exclusiveStartKey,
        }),
      );
      items.push(...(result.Items ?? []));
      exclusiveStartKey = result.LastEvaluatedKey;
      if (!exclusiveStartKey) break;
    }
    const page = items.slice(0, limit);
    const more = items.length > limit || exclusiveStartKey !== undefined;
    const last = page.at(-1);
    return {
      items: page.map(fromItem),
      cursor: more && last ? encodeCursor('s', last.executionId as string) : undefined,
    };
  }
}

/** Items one scan request reads; filters are applied after the read. */
const SCAN_PAGE_ITEMS = 500;

interface Filters {
  expression?: string;
  names: Record<string, string>;
  values: Record<string, unknown>;
}

const noFilters: Filters = { names: {}, values: {} };

/** One sharded index: its name, key attributes, and the tag of its page cursors. */
interface ShardedIndex {
  index: string;
  shardAttribute: string;
  sortAttribute: string;
  cursorKind: CursorKind;
}

const BY_COMPLETION: ShardedIndex = { index: COMPLETION_INDEX, shardAttribute: 'completedShard', sortAttribute: 'completedSort', cursorKind: 'c' };
const BY_HEARTBEAT: ShardedIndex = { index: HEARTBEAT_INDEX, shardAttribute: 'activeShard', sortAttribute: 'heartbeatSort', cursorKind: 'a' };

interface ShardQuery extends ShardedIndex {
  /** Exclusive upper bound of the sort key. */
  below?: string;
  /** Exclusive lower bound of the sort key. */
  above?: string;
  newestFirst: boolean;
  limit: number;
  filters: Filters;
}

function attributeFilters(query: ListQuery): Filters {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  if (query.phases?.length) {
    names['#phase'] = 'phase';
    const placeholders = query.phases.map((phase, i) => {
      values[`:phase${i}`] = phase;
      return `:phase${i}`;
    });
    clauses.push(`#phase IN (${placeholders.join(', ')})`);
  }
  for (const field of ['processName', 'userName', 'nodeId'] as const) {
    const value = query[field];
    if (value !== undefined) {
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      clauses.push(`#${field} = :${field}`);
    }
  }
  return { expression: clauses.length ? clauses.join(' AND ') : undefined, names, values };
}

function versionCondition(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(executionId)' }
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': expectedVersion },
      };
}

function heartbeatSort(lastUpdated: string, executionId: string): string {
  return `${lastUpdated}#${executionId}`;
}

function fromItem(item: Item): ExecutionStatus {
  const status = { ...item };
  for (const attribute of INDEX_ATTRIBUTES) delete status[attribute];
  return status as unknown as ExecutionStatus;
}

/** FNV-1a: stable, fast and evenly spread over UUIDs; any node computes the same shard. */
export function shardOf(executionId: string, shards: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < executionId.length; i++) {
    hash ^= executionId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % shards;
}

type CursorKind = 'c' | 'a' | 's';

function encodeCursor(kind: CursorKind, position: string): string {
  return Buffer.from(JSON.stringify({ k: kind, p: position })).toString('base64url');
}

function decodeCursor(cursor: string, kind: CursorKind): string {
  try {
    const parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { k?: unknown; p?: unknown };
    if (parsed.k === kind && typeof parsed.p === 'string') return parsed.p;
  } catch {
    // fall through to the validation error
  }
  throw new ValidationError('cursor', 'is not a cursor returned by this listing with the same filters');
}
