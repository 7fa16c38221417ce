/**
 * The status map on DynamoDB.
 *
 * Table: partition key `executionId`; every poll and write is one item. Listings read sparse,
 * write-sharded global secondary indexes (their layout: ./status-table.ts; which partitions a
 * listing reads: ./listing-plan.ts): each partition is queried in parallel for one page past the
 * cursor, newest first, and the results merged. A page cursor is the last sort value returned,
 * valid across every partition at once, signed with the cluster's cursor key
 * (../../shared/signed-cursor.ts) and bound to the listing's filters. Only a listing with no
 * filter at all scans, one page per request. Reads per listing shape: docs/architecture.md.
 */
import { createHash } from 'node:crypto';
import {
  BatchGetItemCommand,
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import type { CursorSigner } from '../../shared/signed-cursor';
import { ValidationError } from '../../shared/errors';
import { AGAIN, retry, UNPROCESSED_ITEMS_BACKOFF } from '../../shared/retry';
import { type ActiveWrite, type ExecutionStatus, type Phase } from '../execution';
import type { ListQuery, Page, StatusStore } from '../ports';
import { listingFingerprint, planListing, processNamesOf, type PartitionSource } from './listing-plan';
import { attributeOf, num, statusAttributes, statusOf, str, type Item } from './status-item';
import { withoutSdkLogging } from '../../shared/sdk-client';
import {
  BY_ATTRIBUTE,
  BY_USER_PROCESS,
  COMPLETION,
  HEARTBEAT,
  INDEX_ATTRIBUTES,
  attributePartition,
  userProcessValue,
  completedPartition,
  indexAttributes,
  shardName,
  shardOf,
  sortValue,
  type ListingAttribute,
} from './status-table';

export interface DynamoStatusStoreOptions {
  tableName: string;
  shards: number;
  /** Seconds after the last update at which DynamoDB TTL may delete an item: a backstop only. */
  ttlBackstopSeconds: number;
  /**
   * Signs and checks page cursors. Only functions that list or sweep need it; the others never
   * see a cursor.
   */
  cursors?: CursorSigner;
  /** Items one filtered index read evaluates at most. @default 200 */
  filteredReadItems?: number;
  client?: DynamoDBClient;
}

export interface ReindexPage {
  readonly scanned: number;
  /** Statuses whose index keys were rewritten. */
  readonly rewritten: number;
  /** Stale statuses written by someone else meanwhile (their keys are fresh from that write). */
  readonly skipped: number;
  /** Where the next page starts; absent after the last. */
  readonly next?: Record<string, AttributeValue>;
}

/** What one request of a reindex did, and where the next one starts (absent once the scan is done). */
export interface ReindexRun {
  readonly scanned: number;
  readonly rewritten: number;
  readonly skipped: number;
  readonly cursor?: string;
}

export class DynamoStatusStore implements StatusStore {
  private readonly client: DynamoDBClient;

  constructor(private readonly options: DynamoStatusStoreOptions) {
    this.client = options.client ?? withoutSdkLogging(new DynamoDBClient({}));
  }

  async get(executionId: string): Promise<ExecutionStatus | undefined> {
    const result = await this.client.send(
      new GetItemCommand({ TableName: this.options.tableName, Key: keyOf(executionId), ConsistentRead: true }),
    );
    return result.Item ? statusOf(result.Item) : undefined;
  }

  async put(next: ExecutionStatus, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new PutItemCommand({
        TableName: this.options.tableName,
        Item: this.toItem(next),
        ...versionCondition(expectedVersion),
      }),
    );
  }

  async applyActiveWrite(executionId: string, write: ActiveWrite): Promise<ExecutionStatus | undefined> {
    const names: Record<string, string> = { '#phase': 'phase', '#version': 'version', '#dismissed': 'dismissed' };
    const values: Item = { ':one': num(1), ':true': { BOOL: true } };
    const sets = ['#version = #version + :one'];
    const set = (attribute: string, value: Parameters<typeof attributeOf>[0]) => {
      names[`#${attribute}`] = attribute;
      values[`:${attribute}`] = attributeOf(value);
      sets.push(`#${attribute} = :${attribute}`);
    };
    for (const [attribute, value] of Object.entries(write.set)) set(attribute, value);
    // The written phase is active, so the item stays in the heartbeat index, under its new beat.
    set('heartbeatSort', heartbeatSort(write.set.lastUpdated, executionId));
    set('expiresAt', this.expiresAt(write.set.lastUpdated));
    // Still ACTIVE, so the attribute index keys only follow the writing node (and a first userName).
    const shard = shardOf(executionId, this.options.shards);
    set(BY_ATTRIBUTE.nodeId.partitionAttribute, attributePartition(write.set.nodeId, 'ACTIVE', shard));

    const from = write.from.map((phase, index) => {
      values[`:from${index}`] = str(phase);
      return `:from${index}`;
    });
    // lastUpdated never goes backwards: a stored beat later than ours (another node's clock, or a
    // writer that read the time earlier) sends this write down the read path, which keeps the later one.
    const conditions = [
      `#phase IN (${from.join(', ')})`,
      '(attribute_not_exists(#dismissed) OR #dismissed <> :true)',
      '#lastUpdated <= :lastUpdated',
    ];
    if (write.startTime !== undefined) {
      // The first RUNNING write starts the run; a status past QUEUED without a start time was
      // stored before start times were recorded and goes down the read path, which keeps it unknown.
      names['#startTime'] = 'startTime';
      values[':startTime'] = str(write.startTime);
      values[':queued'] = str('QUEUED');
      sets.push('#startTime = if_not_exists(#startTime, :startTime)');
      conditions.push('(#phase = :queued OR attribute_exists(#startTime))');
    }
    if (write.processName !== undefined) {
      names['#processName'] = 'processName';
      values[':processName'] = str(write.processName);
      conditions.push('#processName = :processName');
    }
    if (write.userName !== undefined && write.processName !== undefined) {
      names['#userName'] = 'userName';
      values[':userName'] = str(write.userName);
      conditions.push('(attribute_not_exists(#userName) OR #userName = :userName)');
      sets.push('#userName = if_not_exists(#userName, :userName)');
      names['#userKey'] = BY_ATTRIBUTE.userName.partitionAttribute;
      values[':userKey'] = str(attributePartition(write.userName, 'ACTIVE', shard));
      sets.push('#userKey = if_not_exists(#userKey, :userKey)');
      names['#userProcessKey'] = BY_USER_PROCESS.partitionAttribute;
      values[':userProcessKey'] = str(attributePartition(userProcessValue(write.userName, write.processName), 'ACTIVE', shard));
      sets.push('#userProcessKey = if_not_exists(#userProcessKey, :userProcessKey)');
    } else if (write.userName !== undefined) {
      // A first owner without the process cannot key the owner-and-process index in one update
      // (the stored process is not readable here): only an owner already stored passes, and a
      // first one goes down the read path, whose put writes every index key.
      names['#userName'] = 'userName';
      values[':userName'] = str(write.userName);
      conditions.push('#userName = :userName');
    }
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: keyOf(executionId),
          UpdateExpression: `SET ${sets.join(', ')}`,
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return result.Attributes ? statusOf(result.Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async remove(executionId: string, expectedVersion: number): Promise<boolean> {
    return this.conditional(
      new DeleteItemCommand({
        TableName: this.options.tableName,
        Key: keyOf(executionId),
        ...versionCondition(expectedVersion),
      }),
    );
  }

  async list(query: ListQuery): Promise<Page> {
    const fingerprint = fingerprintOf(listingFingerprint(query));
    const position = query.cursor === undefined ? undefined : this.readCursor(query.cursor, fingerprint);
    const plan = planListing(query, this.options.shards);
    if (plan.kind === 'empty') return { items: [] };
    if (plan.kind === 'scan') return this.scanPage(query.limit, fingerprint, position);
    const below = position !== undefined && (plan.below === undefined || position < plan.below) ? position : plan.below;
    const page = await this.queryMerged({
      sources: plan.sources,
      below,
      above: plan.above,
      newestFirst: true,
      limit: query.limit,
      attributes: plan.attributes,
    });
    // An index answers what it held a moment ago: an item read from the table since then may have
    // moved on (completed, dismissed, removed) and is left out rather than listed under a stale key.
    const items = (await this.whole(page.items)).filter(matcher(query));
    return { items, cursor: page.position === undefined ? undefined : this.writeCursor(fingerprint, page.position) };
  }

  completedBefore(cutoff: string, limit: number, cursor?: string): Promise<Page> {
    const everyShard = Array.from({ length: this.options.shards }, (_, shard) => shard);
    return this.sweep(
      'sweep:completed',
      [
        ...(['SUCCEEDED', 'FAILED'] as const).flatMap((phase) =>
          everyShard.map((shard): PartitionSource => ({ index: COMPLETION, partition: completedPartition(phase, shard) })),
        ),
        // Statuses completed before the index was split by phase sit under plain `s<k>` until
        // they are removed; cleanup still finds them there.
        ...everyShard.map((shard): PartitionSource => ({ index: COMPLETION, partition: shardName(shard) })),
      ],
      cutoff,
      limit,
      cursor,
    );
  }

  silentSince(cutoff: string, limit: number, cursor?: string): Promise<Page> {
    const sources = Array.from({ length: this.options.shards }, (_, shard): PartitionSource => ({ index: HEARTBEAT, partition: shardName(shard) }));
    return this.sweep('sweep:silent', sources, cutoff, limit, cursor);
  }

  /** Oldest first, strictly before `cutoff`: the schedules' walks through an index. */
  private async sweep(kind: string, sources: PartitionSource[], cutoff: string, limit: number, cursor?: string): Promise<Page> {
    const fingerprint = fingerprintOf(kind);
    const page = await this.queryMerged({
      sources,
      below: cutoff,
      above: cursor === undefined ? undefined : this.readCursor(cursor, fingerprint),
      newestFirst: false,
      limit,
      attributes: {},
    });
    return {
      items: page.items.map(({ item }) => statusOf(item)),
      cursor: page.position === undefined ? undefined : this.writeCursor(fingerprint, page.position),
    };
  }

  /**
   * Rewrites the index keys of one scan page of stored statuses where they differ from what this
   * version writes (a status stored before an index existed, or under another shard count), so
   * it is listed again. Each rewrite is conditional on the version read: a status written
   * meanwhile already carries fresh keys and is left alone. The status itself and its TTL are
   * kept as they are.
   */
  async reindexPage(limit: number, startKey?: Record<string, AttributeValue>): Promise<ReindexPage> {
    const page = await this.client.send(
      new ScanCommand({ TableName: this.options.tableName, Limit: limit, ExclusiveStartKey: startKey, ConsistentRead: true }),
    );
    let rewritten = 0;
    let skipped = 0;
    for (const item of page.Items ?? []) {
      const status = statusOf(item);
      const keys = indexAttributes(status, this.options.shards);
      const stale = INDEX_ATTRIBUTES.some((attribute) => attribute !== 'expiresAt' && item[attribute]?.S !== keys[attribute]);
      if (!stale) continue;
      const fresh: Item = { ...statusAttributes(status), ...indexItem(keys) };
      if (item.expiresAt !== undefined) fresh.expiresAt = item.expiresAt;
      const written = await this.conditional(
        new PutItemCommand({ TableName: this.options.tableName, Item: fresh, ...versionCondition(status.version) }),
      );
      if (written) rewritten += 1;
      else skipped += 1;
    }
    return { scanned: page.Items?.length ?? 0, rewritten, skipped, next: page.LastEvaluatedKey };
  }

  /**
   * One request's share of a reindex (POST /executions/reindex): scan pages, each rewritten as
   * reindexPage does, from a signed cursor until `maxItems` statuses are read or `deadline`
   * (epoch ms) has passed, and a signed cursor for the next request while the scan is not done.
   * The cursor is the scan's position only, so any number of requests, stopped and started at
   * will, pass over the table once; running it again rewrites only what is still stale.
   */
  async reindex(options: { cursor?: string; maxItems: number; deadline: number }): Promise<ReindexRun> {
    const fingerprint = fingerprintOf('reindex');
    let next = options.cursor === undefined ? undefined : keyOf(this.readReindexCursor(options.cursor, fingerprint));
    const totals = { scanned: 0, rewritten: 0, skipped: 0 };
    do {
      const page = await this.reindexPage(Math.min(REINDEX_PAGE_ITEMS, options.maxItems - totals.scanned), next);
      totals.scanned += page.scanned;
      totals.rewritten += page.rewritten;
      totals.skipped += page.skipped;
      next = page.next;
    } while (next !== undefined && totals.scanned < options.maxItems && Date.now() < options.deadline);
    const position = next?.executionId?.S;
    return { ...totals, cursor: position === undefined ? undefined : this.writeCursor(fingerprint, position) };
  }

  private toItem(status: ExecutionStatus): Item {
    return {
      ...statusAttributes(status),
      ...indexItem(indexAttributes(status, this.options.shards)),
      expiresAt: num(this.expiresAt(status.lastUpdated)),
    };
  }

  /** The TTL backstop: epoch seconds after the last update. */
  private expiresAt(lastUpdated: string): number {
    return Math.floor(Date.parse(lastUpdated) / 1000) + this.options.ttlBackstopSeconds;
  }

  private async conditional(command: PutItemCommand | DeleteItemCommand): Promise<boolean> {
    try {
      await this.client.send(command as PutItemCommand);
      return true;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return false;
      throw error;
    }
  }

  /**
   * One ordered page across several index partitions, newest (or oldest) first, read in at most
   * two rounds of parallel queries, and merged.
   *
   * The first round reads a share of the page from each partition (`firstReadItems`: the
   * page spread over the shards, with some slack), not a whole page from each: the items of one
   * listing are spread evenly over the shards, so a page of 10 over 8 shards takes 1-2 items
   * from most of them. The second round reads again only the partitions that stopped within
   * the page (their last item read is among the first `limit + 1` of all read), each for no
   * more than it could still add to the page; after it, every partition has been read past the
   * page's end or to its own end. With a filter, a read's Limit counts items evaluated, not
   * matches, so a filtered partition reads its budget each round instead.
   *
   * A partition that stopped before it was exhausted has been read down to its frontier only.
   * The page keeps just the items every partition has been read past, so nothing is skipped:
   * its next page starts after the last item returned, or at the frontier when the page came
   * out short (then possibly empty, with a cursor: a listing whose filter drops most of what it
   * reads costs a bounded amount per request, and the client follows the cursor).
   */
  private async queryMerged(spec: MergedQuery): Promise<{ items: SortedItem[]; position?: string }> {
    const first = (a: string, b: string) => (spec.newestFirst ? a > b : a < b);
    const wanted = spec.limit + 1;
    const budget = Math.max(wanted, this.options.filteredReadItems ?? FILTERED_READ_ITEMS);
    const reads = spec.sources.map((source): PartitionRead => ({ source, filter: filterOf(source.phases, spec.attributes), items: [], reads: 0 }));

    await Promise.all(
      reads.map((read) => this.readPartition(read, spec, read.filter.expression === undefined ? firstReadItems(wanted, this.options.shards) : budget)),
    );
    const sorts = reads.flatMap((read) => read.items.map((item) => item.sort));
    const again = reads.flatMap((read) => {
      const frontier = frontierOf(read, wanted);
      if (frontier === undefined || read.items.length >= wanted || read.reads >= MAX_READS_PER_PARTITION) return [];
      // What this partition could still add to the page: the places not taken by items at or
      // before its frontier. (An item on an exclusive bound, read and dropped, is a cursor's
      // own item: the first of its partition, so read in the first round, never in this one.)
      const more = wanted - sorts.filter((sort) => sort === frontier || first(sort, frontier)).length;
      return more > 0 ? [{ read, limit: read.filter.expression === undefined ? more : budget }] : [];
    });
    await Promise.all(again.map(({ read, limit }) => this.readPartition(read, spec, limit)));

    let boundary: string | undefined;
    for (const read of reads) {
      const frontier = frontierOf(read, wanted);
      if (frontier !== undefined && (boundary === undefined || first(frontier, boundary))) boundary = frontier;
    }
    const merged = reads
      .flatMap((read) => read.items.slice(0, wanted))
      .filter((item) => boundary === undefined || item.sort === boundary || first(item.sort, boundary))
      .sort((a, b) => (first(a.sort, b.sort) ? -1 : 1));
    const items = merged.slice(0, spec.limit);
    if (merged.length > spec.limit) return { items, position: (items.at(-1) as SortedItem).sort };
    return { items, position: boundary };
  }

  /** One Query of a partition, from where its last read stopped, for at most `limit` items (evaluated, with a filter). */
  private async readPartition(read: PartitionRead, spec: MergedQuery, limit: number): Promise<void> {
    const { index } = read.source;
    const names: Record<string, string> = { '#partition': index.partitionAttribute };
    const values: Item = { ':partition': str(read.source.partition) };
    let keyCondition = '#partition = :partition';
    if (spec.below !== undefined || spec.above !== undefined) names['#sort'] = index.sortAttribute;
    if (spec.below !== undefined && spec.above !== undefined) {
      keyCondition += ' AND #sort BETWEEN :above AND :below';
      values[':above'] = str(spec.above);
      values[':below'] = str(spec.below);
    } else if (spec.below !== undefined) {
      keyCondition += ' AND #sort < :below';
      values[':below'] = str(spec.below);
    } else if (spec.above !== undefined) {
      keyCondition += ' AND #sort > :above';
      values[':above'] = str(spec.above);
    }
    Object.assign(names, read.filter.names);
    Object.assign(values, read.filter.values);

    const result = await this.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        IndexName: index.name,
        KeyConditionExpression: keyCondition,
        FilterExpression: read.filter.expression,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: !spec.newestFirst,
        Limit: limit,
        ExclusiveStartKey: read.next,
      }),
    );
    read.reads += 1;
    read.next = result.LastEvaluatedKey;
    for (const item of result.Items ?? []) {
      const sort = item[index.sortAttribute]?.S as string;
      // BETWEEN is inclusive; the bounds here are exclusive cursors and cut-offs.
      if (sort !== spec.above && sort !== spec.below) read.items.push({ item, sort });
    }
  }

  /**
   * Whole statuses for index items: the heartbeat and completion indexes carry whole items, the
   * attribute indexes only their keys and filter fields, whose statuses are read by key (in the
   * page's order; one that was removed meanwhile is left out).
   */
  private async whole(sorted: SortedItem[]): Promise<ExecutionStatus[]> {
    const items = sorted.map(({ item }) => item);
    const missing = items.filter((item) => item.version === undefined).map((item) => item.executionId?.S as string);
    const read = new Map<string, Item>();
    for (let start = 0; start < missing.length; start += BATCH_GET_ITEMS) {
      let keys: Item[] = missing.slice(start, start + BATCH_GET_ITEMS).map(keyOf);
      await retry(
        async () => {
          const result = await this.client.send(new BatchGetItemCommand({ RequestItems: { [this.options.tableName]: { Keys: keys } } }));
          for (const item of result.Responses?.[this.options.tableName] ?? []) read.set(item.executionId?.S as string, item);
          keys = result.UnprocessedKeys?.[this.options.tableName]?.Keys ?? [];
          return keys.length === 0 ? undefined : AGAIN;
        },
        {
          maxAttempts: MAX_BATCH_ATTEMPTS,
          backoff: UNPROCESSED_ITEMS_BACKOFF,
          exhausted: (attempts) => new Error(`BatchGetItem left ${keys.length} keys unprocessed after ${attempts} attempts`),
        },
      );
    }
    return items
      .map((item) => (item.version === undefined ? read.get(item.executionId?.S as string) : item))
      .filter((item): item is Item => item !== undefined)
      .map(statusOf);
  }

  /**
   * The listing with no filter at all: one Scan page per request, in table order. Limit counts
   * items read, and with no filter every item read is listed, so a page costs what it returns.
   */
  private async scanPage(limit: number, fingerprint: string, position?: string): Promise<Page> {
    const result = await this.client.send(
      new ScanCommand({
        TableName: this.options.tableName,
        Limit: limit,
        ExclusiveStartKey: position === undefined ? undefined : keyOf(position),
      }),
    );
    const next = result.LastEvaluatedKey?.executionId?.S;
    return { items: (result.Items ?? []).map(statusOf), cursor: next === undefined ? undefined : this.writeCursor(fingerprint, next) };
  }

  private writeCursor(fingerprint: string, position: string): string {
    return this.signer().sign({ l: fingerprint, p: position });
  }

  /** The position a cursor resumes at, if this deployment issued it for the same listing. */
  private readCursor(cursor: string, fingerprint: string): string {
    const payload = this.signer().verify(cursor) as { l?: unknown; p?: unknown } | null;
    if (payload === null || typeof payload !== 'object' || payload.l !== fingerprint) {
      throw new ValidationError('cursor', 'belongs to a listing with other filters: repeat the filters of the page it came from');
    }
    // Signed by us, so well formed; checked anyway, as nothing empty may reach a key condition.
    if (typeof payload.p !== 'string' || payload.p === '' || payload.p.length > 1024) {
      throw new ValidationError('cursor', 'is not a cursor this listing issued');
    }
    return payload.p;
  }

  /**
   * A reindex's position, said in the reindex's own terms when refused: its answers carry a
   * `cursor`, neither a listing's `nextCursor` nor its filters.
   */
  private readReindexCursor(cursor: string, fingerprint: string): string {
    try {
      return this.readCursor(cursor, fingerprint);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      throw new ValidationError(
        'cursor',
        'is not a cursor a reindex answered: send the `cursor` of the previous reindex answer (202) as given, or none to start the pass again',
      );
    }
  }

  private signer(): CursorSigner {
    if (this.options.cursors === undefined) throw new Error('This function lists statuses but was given no cursor key');
    return this.options.cursors;
  }
}

/** Statuses one reindex scan page reads: each stale one costs a conditional put before the next page. */
const REINDEX_PAGE_ITEMS = 100;
/** Items one filtered index read takes at most (DynamoDB's Limit counts items read). */
const FILTERED_READ_ITEMS = 200;
/** Reads of one partition per request (two rounds at most): past that the page comes out short, with a cursor. */
const MAX_READS_PER_PARTITION = 2;
/** BatchGetItem's own limit of keys per request. */
const BATCH_GET_ITEMS = 100;
const MAX_BATCH_ATTEMPTS = 6;
/**
 * Items the first read of an unfiltered partition asks for: the page (and the one item past it
 * that tells whether more follow) spread over the shards, plus about a standard deviation and
 * one item of slack, so that a second read is the exception (for a page of 10 over 8 shards:
 * 4 items a partition, 32 in all instead of 88, and about one listing in four reads one or two
 * partitions again). Never more than the page itself.
 */
export function firstReadItems(wanted: number, shards: number): number {
  const share = wanted / shards;
  return Math.min(wanted, Math.ceil(share + Math.sqrt(share) + 1));
}

/**
 * Where a partition has been read down to: its `wanted`-th item when it holds that many (the
 * page needs nothing past it), else the last item it evaluated when it stopped before its end,
 * else nothing (read to its end).
 */
function frontierOf(read: PartitionRead, wanted: number): string | undefined {
  if (read.items.length >= wanted) return (read.items[wanted - 1] as SortedItem).sort;
  return read.next === undefined ? undefined : read.next[read.source.index.sortAttribute]?.S;
}

/** One partition of a merged listing, as far as it has been read. */
interface PartitionRead {
  readonly source: PartitionSource;
  readonly filter: ReturnType<typeof filterOf>;
  /** Items kept so far, in the order read. */
  readonly items: SortedItem[];
  /** Where the next read starts; undefined before the first and after the last. */
  next?: Item;
  reads: number;
}

/** An item read from an index, with the sort value of that index beside it (what pages merge on). */
interface SortedItem {
  readonly item: Item;
  readonly sort: string;
}

interface MergedQuery {
  sources: readonly PartitionSource[];
  /** Exclusive upper bound of the sort value. */
  below?: string;
  /** Exclusive lower bound of the sort value. */
  above?: string;
  newestFirst: boolean;
  limit: number;
  /** Attributes to filter on as the partitions are read. */
  attributes: Partial<Record<ListingAttribute, string>>;
}

function filterOf(
  phases: readonly Phase[] | undefined,
  attributes: Partial<Record<ListingAttribute, string>>,
): { expression?: string; names: Record<string, string>; values: Item } {
  const clauses: string[] = [];
  const names: Record<string, string> = {};
  const values: Item = {};
  if (phases !== undefined) {
    names['#phase'] = 'phase';
    const placeholders = phases.map((phase, i) => {
      values[`:phase${i}`] = str(phase);
      return `:phase${i}`;
    });
    clauses.push(`#phase IN (${placeholders.join(', ')})`);
  }
  for (const [attribute, value] of Object.entries(attributes)) {
    if (value === undefined) continue;
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = str(value);
    clauses.push(`#${attribute} = :${attribute}`);
  }
  return { expression: clauses.length ? clauses.join(' AND ') : undefined, names, values };
}

/** Whether a status read from the table still belongs to the listing (the processes worked out once per listing). */
function matcher(query: ListQuery): (status: ExecutionStatus) => boolean {
  const processes = processNamesOf(query);
  return (status) => {
    if (query.phases?.length && !query.phases.includes(status.phase)) return false;
    if (query.userName !== undefined && status.userName !== query.userName) return false;
    if (processes !== undefined && !processes.includes(status.processName)) return false;
    if (query.nodeId !== undefined && status.nodeId !== query.nodeId) return false;
    if (query.completedBefore !== undefined || query.completedAfter !== undefined) {
      if (status.completionTime === undefined) return false;
      if (query.completedBefore !== undefined && !(status.completionTime < query.completedBefore)) return false;
      if (query.completedAfter !== undefined && !(status.completionTime > query.completedAfter)) return false;
    }
    return true;
  };
}

/** A short digest of what a cursor is bound to: cursors stay short whatever the filters. */
function fingerprintOf(text: string): string {
  return createHash('sha256').update(text).digest('base64url').slice(0, 16);
}

function versionCondition(expectedVersion: number) {
  return expectedVersion === 0
    ? { ConditionExpression: 'attribute_not_exists(executionId)' }
    : {
        ConditionExpression: '#version = :expected',
        ExpressionAttributeNames: { '#version': 'version' },
        ExpressionAttributeValues: { ':expected': num(expectedVersion) },
      };
}

function heartbeatSort(lastUpdated: string, executionId: string): string {
  return sortValue(lastUpdated, executionId);
}

function keyOf(executionId: string): Item {
  return { executionId: str(executionId) };
}

/** The index key attributes a status is stored with (absent keys are not stored: the indexes are sparse). */
function indexItem(keys: Record<string, string | undefined>): Item {
  const item: Item = {};
  for (const [attribute, value] of Object.entries(keys)) if (value !== undefined) item[attribute] = str(value);
  return item;
}

export { shardOf };
