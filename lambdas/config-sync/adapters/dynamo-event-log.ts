/**
 * The event log on DynamoDB.
 *
 * Table: partition key `cluster` (S), sort key `sequence` (N). At sequence 0 of the partition,
 * the cluster's log head: `head` (the highest sequence allocated), `allocatedAt` (epoch ms of
 * the last allocation) and `publishedThrough` (every event up to it is published: where the
 * search for unpublished events starts, so it never reads the whole log). Then one item per
 * written range, keyed by its first sequence:
 * - one event: `event` (its JSON) and `digest` (`eventDigest` of it as parsed back; items written
 *   before digests were stored have none);
 * - a chunk of a change set: `events` (a JSON array of consecutive events) and `last`;
 * - a void: `voided`, for a sequence allocated to a publisher that never wrote it.
 * Written items carry `committedAt` (epoch ms) and, until the topic accepted them,
 * `unpublished` (which an item the watermark has passed may keep: nothing reads it there,
 * but for a chunk the watermark stops inside, whose later events are still to publish).
 *
 * Appending a change set of n events:
 * 1. Allocation: one `UpdateItem` `ADD head :n` returning the new head h: the range is
 *    h-n+1..h. Concurrent publishers never retry: each increment is atomic and gets its own
 *    range, and ranges follow each other without overlap in allocation order.
 * 2. Commit: one `TransactWriteItems` putting every chunk of the range (each on condition that
 *    its key is free), plus the `Idempotency-Key` claim if any, and, for a publisher's guard, a
 *    `ConditionCheck` that its node is not paused (the pause read before 1 spares a paused node
 *    the allocation, and is skipped within `PAUSE_READ_REUSE_MS` of the instance last knowing
 *    the node unpaused; this check refuses a pause taken since, and the refused range is voided
 *    at once). All or nothing: a change set is
 *    at most 100 items and 4 MB of stored JSON, which `MAX_CHANGE_SET_*` in publish.ts keep it
 *    well under.
 *
 * An uncontended append is one call instead: an instance that knows the head (from its own
 * last append, or from the refusal of a wrong guess) puts the range in one `TransactWriteItems`
 * that also moves the head from that value, on condition that it still holds it (and, for a
 * publisher's guard, that the node is not paused: a `ConditionCheck` of its pause item). The
 * head and the range then change together, so no hole can be left. A wrong guess (another
 * publisher appended meanwhile, a conflicting transaction) writes nothing and falls back to 1
 * and 2; an instance with an append in flight, or whose last guess was wrong, skips the guess.
 *
 * Holes. A publisher that dies between 1 and 2 leaves its range unwritten. Readers wait for a
 * young hole (its publisher is a few milliseconds behind), and close an old one by writing
 * void items, one per sequence, each on condition that its key is free, in transactions over
 * consecutive runs (`closeHoles`). Exactly one of the publisher's commit and a void wins,
 * because the commit puts the range's first key, which the void of that range also puts:
 * either the range is written whole, or it is void whole (the publisher then gets
 * `SequenceRangeAbandonedError` with nothing stored). A hole is old when the first written item
 * above it, or the last allocation if none, is older than `holeGraceMs`: allocation order is
 * sequence order, so the hole's own allocation is older still.
 */
import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  paginateQuery,
  type QueryCommandInput,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { queryAll } from '../../shared/adapters/query-all';
import { logger } from '../../shared/observability';
import type { Warn } from '../../shared/warn';
import { retry, type Backoff } from '../../shared/retry';
import { eventDigest, parseDeliveredEvent, type DeliveredEvent, type PublishedEvent } from '../events';
import { ChangeSetTooLargeError, IdempotencyKeyTakenError, SequenceRangeAbandonedError } from '../errors';
import { appendStoredNothing, type AppendGuard, type EventDraft, type EventLog, type HoleClosing, type IdempotencyClaim, type IdempotencyRecord } from '../ports';
import { NodePausedError } from '../pause';
import { withoutSdkLogging } from '../../shared/sdk-client';
import { notPausedCheck } from './dynamo-node-pauses';
import { idempotencyClaimPartition } from '../tables';
import { cancellationCodes, cancellationItem, num, optionalNumber, optionalString, readNumber, readString, str, type Item } from './dynamo-attributes';

/** Sort key of the head item. Events start at 1. */
export const HEAD_SEQUENCE = 0;

/** Ranges an instance remembers marking above the watermark (`markedAbove`), per cluster. */
const MAX_MARKED_ABOVE = 1000;
/** JSON per chunk item: DynamoDB's item limit is 400 KB, and one inline event is at most 240 KiB. */
const CHUNK_BYTES = 300 * 1024;
/** One transaction: 100 items and 4 MB; leave room for keys, attributes and the claim. */
const MAX_TRANSACTION_ITEMS = 100;
/**
 * How long a contended publisher allocates without reading its node's pause after it last knew
 * the node unpaused (`knownNotPaused`). A pause taken in that time refuses the commit all the
 * same, at the price of one voided range.
 */
export const PAUSE_READ_REUSE_MS = 1_000;
const MAX_TRANSACTION_BYTES = 3_900_000;
/** Void items per transaction (DynamoDB's limit of items per transaction). */
const VOID_BATCH = 100;
/** Between attempts of a commit that met a conflicting transaction or throttling. */
const COMMIT_BACKOFF: Backoff = { baseMs: 10, capMs: 200 };
/** Log items per page of the search for unpublished events (and for the last event). */
const UNPUBLISHED_PAGE = 100;
/**
 * Void items `lastEvent` reads past before it answers the head: a hundred abandoned change sets'
 * worth. Its pages grow from `UNPUBLISHED_PAGE` by `LAST_EVENT_PAGE_GROWTH` up to
 * `LAST_EVENT_PAGE_MAX` items: a void item is about 60 bytes, so a full page is about 600 KB
 * read (150 read units, consistent), and the whole search at most 12 queries, made only when a
 * log ends in voids.
 */
const LAST_EVENT_SEARCH = 100_000;
const LAST_EVENT_PAGE_GROWTH = 4;
const LAST_EVENT_PAGE_MAX = 10_000;

export interface DynamoEventLogOptions {
  readonly tableName: string;
  readonly client?: DynamoDBClient;
  /**
   * How long a commit keeps retrying transaction conflicts and throttling.
   * @default 20000
   */
  readonly appendTimeoutMs?: number;
  /**
   * Age after which an allocated, unwritten range is closed as void by readers. Longer than
   * any publisher takes between allocation and commit (two calls in a row); a publisher later
   * than this gets a 503 and nothing is stored.
   * @default 10000
   */
  readonly holeGraceMs?: number;
  /** The clock for `committedAt`, `allocatedAt` and hole ages. @default Date.now */
  readonly now?: () => number;
  /** The name a void records as its origin. @default 'log' */
  readonly voidedBy?: string;
  /**
   * The node store table holding pause items: with it, an append's guard is checked inside
   * the one-call append (a `ConditionCheck`); without it, the guard is read first.
   */
  readonly pausesTableName?: string;
  /**
   * Where a hole closed as void is reported. @default the module's logger; a function's job path,
   * a module of its own (job-slices.ts), passes the function's, whose lines carry the node and
   * the invocation's request id.
   */
  readonly warn?: Warn;
}

/** A written item's place in the order. */
interface Span {
  readonly first: number;
  readonly last: number;
  readonly committedAt: number;
  readonly item: Item;
}

const logWarn: Warn = (message, fields) => logger.warn(message, fields);

/** The error of a commit that may have gone through: thrown on as it came, not marked `appendStoredNothing`. */
class MaybeCommitted extends Error {
  constructor(override readonly cause: unknown) {
    super('the commit may have gone through');
  }
}

export class DynamoEventLog implements EventLog {
  private readonly client: DynamoDBClient;
  private readonly now: () => number;
  /** Per cluster, the head as this instance last saw it: what a one-call append guesses. */
  private readonly knownHeads = new Map<string, number>();
  private appendsInFlight = 0;
  /** The last guess was wrong: the next append allocates first (contention is likely). */
  private lastGuessMissed = false;
  /**
   * Per guarded node, when this instance last knew it unpaused: a pause read that found none, or
   * a commit whose pause check passed. An allocation within `PAUSE_READ_REUSE_MS` of it skips the
   * pause read (the commit checks the pause all the same); a refusal forgets it.
   */
  private readonly notPausedAt = new Map<string, number>();
  /**
   * Per cluster, the ranges (first -> last) this instance marked published by their items'
   * flags because the watermark could not move over them yet (`markPublished`): when a later
   * mark brings the watermark up to one, it moves it over the range too.
   */
  private readonly markedAbove = new Map<string, Map<number, number>>();

  constructor(private readonly options: DynamoEventLogOptions) {
    this.client = options.client ?? withoutSdkLogging(new DynamoDBClient({}));
    this.now = options.now ?? Date.now;
  }

  async append(draft: EventDraft, claim?: IdempotencyClaim): Promise<PublishedEvent> {
    const [event] = await this.appendAll([draft], claim);
    return event as PublishedEvent;
  }

  async appendAll(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]> {
    this.appendsInFlight += 1;
    try {
      return await this.appendOnce(drafts, claim, guard);
    } finally {
      this.appendsInFlight -= 1;
    }
  }

  /**
   * Every error is marked `appendStoredNothing` but those of a commit that may have gone through
   * (`MaybeCommitted`), thrown as they came.
   */
  private async appendOnce(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]> {
    try {
      return await this.appendOrFail(drafts, claim, guard);
    } catch (error) {
      if (error instanceof MaybeCommitted) throw error.cause;
      throw appendStoredNothing(error);
    }
  }

  private async appendOrFail(drafts: readonly EventDraft[], claim?: IdempotencyClaim, guard?: AppendGuard): Promise<PublishedEvent[]> {
    const cluster = drafts[0]?.cluster;
    if (cluster === undefined) return [];
    if (drafts.some((draft) => draft.cluster !== cluster)) throw new Error('A change set belongs to one cluster');
    const chunks = chunked(drafts.map((draft) => JSON.stringify(draft)));
    const bytes = chunks.reduce((sum, chunk) => sum + chunk.bytes, 0);
    const checked = guard !== undefined && this.options.pausesTableName !== undefined ? 1 : 0;
    if (chunks.length + (claim ? 1 : 0) + checked > MAX_TRANSACTION_ITEMS || bytes > MAX_TRANSACTION_BYTES) {
      throw new ChangeSetTooLargeError(
        `The change set is ${bytes} bytes in ${chunks.length} log items; one commit holds at most ${MAX_TRANSACTION_BYTES} bytes in ${MAX_TRANSACTION_ITEMS} items`,
      );
    }

    if (claim) {
      // A retry of a committed request is the usual reason a key is taken: answer it without
      // allocating (and so voiding) a range. Two first attempts racing are still settled by
      // the claim's condition in the commit below.
      const existing = await this.readIdempotencyClaim(cluster, claim);
      if (existing) throw new IdempotencyKeyTakenError(existing);
    }
    const guess = this.knownHeads.get(cluster);
    const foldGuard = guard === undefined || this.options.pausesTableName !== undefined;
    // The head update and the guard's check ride in the same transaction.
    const fits = chunks.length + (claim ? 1 : 0) + 2 <= MAX_TRANSACTION_ITEMS;
    if (guess !== undefined && foldGuard && fits && this.appendsInFlight === 1 && !this.lastGuessMissed) {
      const appended = await this.appendAfter(cluster, guess, drafts, chunks, claim, guard);
      if (appended) return appended;
    }
    this.lastGuessMissed = false;
    if (guard && !this.knownNotPaused(guard)) {
      const paused = await guard.pauses.read(guard.unlessPaused);
      if (paused) throw new NodePausedError(guard.unlessPaused, paused);
      this.notPausedAt.set(guard.unlessPaused, this.now());
    }
    const last = await this.allocate(cluster, drafts.length);
    const first = last - drafts.length + 1;
    const events = drafts.map((draft, index) => ({ ...draft, sequence: first + index }) as PublishedEvent);
    const items = this.rangePuts(cluster, first, events, chunks);
    const claimIndex = claim ? items.push({ Put: this.claimPut(cluster, claim, first) }) - 1 : -1;
    // The pause read above spares a paused node an allocation; the check in the commit closes
    // the window after it: a pause taken between the read and the commit refuses the commit,
    // so no publish reaches the log once its node's pause is recorded.
    const guardIndex = guard && this.options.pausesTableName !== undefined ? items.push(notPausedCheck(this.options.pausesTableName, guard.unlessPaused)) - 1 : -1;

    try {
      await this.commit(items);
      this.sawHead(cluster, last);
      if (guard && guardIndex >= 0) this.notPausedAt.set(guard.unlessPaused, this.now());
      return events;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (guard) this.notPausedAt.delete(guard.unlessPaused);
      const claimRefused = claim !== undefined && claimIndex >= 0 && codes?.[claimIndex] === 'ConditionalCheckFailed';
      const pauseRefused = guardIndex >= 0 && codes?.[guardIndex] === 'ConditionalCheckFailed';
      const rangeVoided = codes !== undefined && codes.slice(0, chunks.length).some((code) => code === 'ConditionalCheckFailed');
      if (!rangeVoided) {
        // Nothing of ours was written (or, after a timeout, maybe all of it: then the voids
        // below find the range's first key taken and change nothing). Give the range up now
        // rather than make readers wait for the grace period.
        const voided = await this.voidRun(cluster, first, last).catch(() => 0);
        // A cancelled transaction wrote nothing. Otherwise (a timeout, a 5xx) the commit may
        // have gone through, unless the voids took the range's first key, which the commit
        // puts: then it never can.
        if (codes === undefined && voided === 0) throw new MaybeCommitted(error);
      }
      // A retry of a committed request is answered as it was, even from a node paused since.
      if (claimRefused) {
        const image = cancellationItem(error, claimIndex);
        throw new IdempotencyKeyTakenError(image ? toRecord(image) : await this.readClaim(cluster, claim));
      }
      if (guard && pauseRefused) {
        const state = await this.refusingPause(error, guardIndex, guard);
        if (state) throw new NodePausedError(guard.unlessPaused, state);
        // Resumed since the refusal: the range is given up all the same; the client sends again.
        throw new SequenceRangeAbandonedError(first, last);
      }
      if (rangeVoided) throw new SequenceRangeAbandonedError(first, last);
      throw error;
    }
  }

  /**
   * Whether the guard's node is known unpaused recently enough to allocate without reading its
   * pause: only when the commit checks the pause itself (`pausesTableName`), so a pause taken
   * since refuses the commit and its range is voided, as for a pause taken between a read and
   * the commit. What it spares is the read before each allocation of a contended publisher (a
   * burst from several instances misses most guesses).
   */
  private knownNotPaused(guard: AppendGuard): boolean {
    if (this.options.pausesTableName === undefined) return false;
    const at = this.notPausedAt.get(guard.unlessPaused);
    return at !== undefined && this.now() - at < PAUSE_READ_REUSE_MS;
  }

  /** The pause that refused a commit's `notPausedCheck`: from the cancellation's item, else read. */
  private async refusingPause(error: unknown, index: number, guard: AppendGuard) {
    const image = cancellationItem(error, index);
    return image?.since?.S && image.by?.S ? { since: image.since.S, by: image.by.S } : guard.pauses.read(guard.unlessPaused);
  }

  /**
   * The one-call append: the range right after `head`, put in one transaction with the head
   * moved from `head` to its last sequence (and the guard's pause check, and the claim).
   * `undefined` when the guess was wrong or the transaction met a conflict: nothing was
   * written, and the caller allocates instead.
   */
  private async appendAfter(
    cluster: string,
    head: number,
    drafts: readonly EventDraft[],
    chunks: readonly { count: number; bytes: number }[],
    claim: IdempotencyClaim | undefined,
    guard: AppendGuard | undefined,
  ): Promise<PublishedEvent[] | undefined> {
    const first = head + 1;
    const last = head + drafts.length;
    const events = drafts.map((draft, index) => ({ ...draft, sequence: first + index }) as PublishedEvent);
    const headUpdate: TransactWriteItem = {
      Update: {
        TableName: this.options.tableName,
        Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
        UpdateExpression: 'SET #head = :last, #allocatedAt = :now',
        ConditionExpression: head === 0 ? 'attribute_not_exists(#head) OR #head = :head' : '#head = :head',
        ExpressionAttributeNames: { '#head': 'head', '#allocatedAt': 'allocatedAt' },
        ExpressionAttributeValues: { ':head': num(head), ':last': num(last), ':now': num(this.now()) },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    };
    const items: TransactWriteItem[] = [headUpdate, ...this.rangePuts(cluster, first, events, chunks)];
    const claimIndex = claim ? items.push({ Put: this.claimPut(cluster, claim, first) }) - 1 : -1;
    const guardIndex = guard && this.options.pausesTableName !== undefined ? items.push(notPausedCheck(this.options.pausesTableName, guard.unlessPaused)) - 1 : -1;
    try {
      // A timeout or a 5xx is retried by the SDK with the same token, which DynamoDB answers
      // idempotently; anything else but a cancellation is thrown as it is (committed or not,
      // as after any commit that fails that way).
      await this.client.send(new TransactWriteItemsCommand({ ClientRequestToken: randomUUID(), TransactItems: items }));
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes === undefined) throw new MaybeCommitted(error);
      if (guard && guardIndex >= 0 && codes[guardIndex] === 'ConditionalCheckFailed') {
        this.notPausedAt.delete(guard.unlessPaused);
        const state = await this.refusingPause(error, guardIndex, guard);
        if (state) throw new NodePausedError(guard.unlessPaused, state);
      }
      if (claim && claimIndex >= 0 && codes[claimIndex] === 'ConditionalCheckFailed') {
        const image = cancellationItem(error, claimIndex);
        throw new IdempotencyKeyTakenError(image ? toRecord(image) : await this.readClaim(cluster, claim));
      }
      const headImage = cancellationItem(error, 0);
      const current = headImage ? optionalNumber(headImage, 'head') : undefined;
      if (current !== undefined) this.knownHeads.set(cluster, current);
      this.lastGuessMissed = true;
      return undefined;
    }
    this.sawHead(cluster, last);
    if (guard && guardIndex >= 0) this.notPausedAt.set(guard.unlessPaused, this.now());
    return events;
  }

  private sawHead(cluster: string, head: number): void {
    if (head > (this.knownHeads.get(cluster) ?? 0)) this.knownHeads.set(cluster, head);
  }

  /** The chunk items of a range, each on condition that its key is free. */
  private rangePuts(cluster: string, first: number, events: readonly PublishedEvent[], chunks: readonly { count: number }[]): TransactWriteItem[] {
    const committedAt = this.now();
    const items: TransactWriteItem[] = [];
    let offset = 0;
    for (const chunk of chunks) {
      const chunkEvents = events.slice(offset, offset + chunk.count);
      offset += chunk.count;
      const start = first + offset - chunk.count;
      const item: Item = {
        cluster: str(cluster),
        sequence: num(start),
        committedAt: num(committedAt),
        unpublished: { BOOL: true },
        ...(chunk.count === 1
          ? loneEventAttributes(JSON.stringify(chunkEvents[0]))
          : { events: str(JSON.stringify(chunkEvents)), last: num(start + chunk.count - 1) }),
      };
      items.push({
        Put: {
          TableName: this.options.tableName,
          Item: item,
          ConditionExpression: 'attribute_not_exists(#sequence)',
          ExpressionAttributeNames: { '#sequence': 'sequence' },
        },
      });
    }
    return items;
  }

  /** One atomic increment of the head: the new head, the last sequence of the range. */
  private async allocate(cluster: string, count: number): Promise<number> {
    const result = await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
        UpdateExpression: 'ADD #head :count SET #allocatedAt = :now',
        ExpressionAttributeNames: { '#head': 'head', '#allocatedAt': 'allocatedAt' },
        ExpressionAttributeValues: { ':count': num(count), ':now': num(this.now()) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    const head = result.Attributes ? optionalNumber(result.Attributes, 'head') : undefined;
    if (head === undefined) throw new Error(`Event log of cluster ${cluster}: the allocation returned no head`);
    return head;
  }

  /** The commit transaction, retried (same request token: idempotent) on conflicts and throttling only. */
  private async commit(items: TransactWriteItem[]): Promise<void> {
    const token = randomUUID();
    await retry(
      async () => {
        await this.client.send(new TransactWriteItemsCommand({ ClientRequestToken: token, TransactItems: items }));
      },
      {
        backoff: COMMIT_BACKOFF,
        deadlineMs: this.options.appendTimeoutMs ?? 20_000,
        retryable: (error) => cancellationCodes(error)?.every((code) => code === 'None' || code === 'TransactionConflict' || code === 'ThrottlingError') ?? false,
      },
    );
  }

  async closeHoles(cluster: string, from: number, to: number): Promise<HoleClosing> {
    const headItem = await this.headItem(cluster);
    const head = headItem ? (optionalNumber(headItem, 'head') ?? 0) : 0;
    const upper = Math.min(to, head);
    const low = Math.max(1, from);
    if (upper < low) return { voided: 0, waiting: 0 };
    const spans = await this.spans(cluster, low, upper);
    const runs: { from: number; to: number }[] = [];
    let next = low;
    for (const span of spans) {
      if (span.last < next) continue;
      if (span.first > next) runs.push({ from: next, to: Math.min(upper, span.first - 1) });
      next = span.last + 1;
    }
    if (next <= upper) runs.push({ from: next, to: upper });

    let voided = 0;
    let waiting = 0;
    const now = this.now();
    const grace = this.options.holeGraceMs ?? 10_000;
    for (const [index, run] of runs.entries()) {
      const above = spans.find((span) => span.first > run.to) ?? (await this.firstSpanAbove(cluster, run.to));
      const reference = above?.committedAt ?? (headItem ? (optionalNumber(headItem, 'allocatedAt') ?? 0) : 0);
      if (now - reference < grace) {
        waiting += runs.slice(index).reduce((sum, r) => sum + r.to - r.from + 1, 0);
        break;
      }
      const written = await this.voidRun(cluster, run.from, run.to);
      voided += written;
      if (written < run.to - run.from + 1) break;
    }
    return { voided, waiting };
  }

  /**
   * Voids `from..to`, in transactions of consecutive sequences, each sequence on condition
   * that its key is free; stops at the first refused transaction (something was written
   * meanwhile: the caller reads again).
   * @returns how many were voided
   */
  private async voidRun(cluster: string, from: number, to: number): Promise<number> {
    let voided = 0;
    const at = this.now();
    for (let start = from; start <= to; start += VOID_BATCH) {
      const end = Math.min(to, start + VOID_BATCH - 1);
      const puts: TransactWriteItem[] = [];
      for (let sequence = start; sequence <= end; sequence += 1) {
        puts.push({
          Put: {
            TableName: this.options.tableName,
            Item: { cluster: str(cluster), sequence: num(sequence), voided: { BOOL: true }, committedAt: num(at), voidedBy: str(this.options.voidedBy ?? 'log') },
            ConditionExpression: 'attribute_not_exists(#sequence)',
            ExpressionAttributeNames: { '#sequence': 'sequence' },
          },
        });
      }
      try {
        await this.commit(puts);
      } catch (error) {
        if (cancellationCodes(error)?.includes('ConditionalCheckFailed')) return voided;
        throw error;
      }
      voided += end - start + 1;
      (this.options.warn ?? logWarn)('event log hole closed as void', { cluster, from: start, to: end });
    }
    return voided;
  }

  async saveIdempotentAnswer(cluster: string, node: string, key: string, answer: string): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(idempotencyClaimPartition(cluster, node, key)), sequence: num(HEAD_SEQUENCE) },
        UpdateExpression: 'SET #answer = :answer',
        ConditionExpression: 'attribute_exists(#bodyHash)',
        ExpressionAttributeNames: { '#answer': 'answer', '#bodyHash': 'bodyHash' },
        ExpressionAttributeValues: { ':answer': str(answer) },
      }),
    );
  }

  /**
   * The claim of an `Idempotency-Key`: an item of its own partition (`<cluster>#idempotency#
   * <node>#<key>`), put in the append's transaction on condition that no live claim holds the
   * key. `expiresAt` is the table's TTL attribute: DynamoDB deletes it some time after.
   */
  private claimPut(cluster: string, claim: IdempotencyClaim, sequence: number) {
    return {
      TableName: this.options.tableName,
      Item: {
        cluster: str(idempotencyClaimPartition(cluster, claim.node, claim.key)),
        sequence: num(HEAD_SEQUENCE),
        node: str(claim.node),
        idempotencyKey: str(claim.key),
        bodyHash: str(claim.bodyHash),
        eventSequence: num(sequence),
        createdAt: str(claim.createdAt),
        expiresAt: num(claim.expiresAt),
        ...(claim.count === undefined ? {} : { eventCount: num(claim.count) }),
        // Comma-separated offsets: a short string, and none where nothing was derived.
        ...(claim.derived === undefined || claim.derived.length === 0 ? {} : { derivedOffsets: str(claim.derived.join(',')) }),
      },
      ConditionExpression: 'attribute_not_exists(#bodyHash) OR #expiresAt < :now',
      ExpressionAttributeNames: { '#bodyHash': 'bodyHash', '#expiresAt': 'expiresAt' },
      // "Now" is the claiming request's clock, the one its own `expiresAt` derives from.
      ExpressionAttributeValues: { ':now': num(Math.floor(Date.parse(claim.createdAt) / 1000)) },
      ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
    };
  }

  async readIdempotencyClaim(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    const existing = await this.readClaimIfAny(cluster, claim);
    return existing && existing.expiresAt >= Math.floor(Date.parse(claim.createdAt) / 1000) ? existing : undefined;
  }

  private async readClaimIfAny(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(idempotencyClaimPartition(cluster, claim.node, claim.key)), sequence: num(HEAD_SEQUENCE) },
        ConsistentRead: true,
      }),
    );
    return result.Item ? toRecord(result.Item) : undefined;
  }

  private async readClaim(cluster: string, claim: IdempotencyClaim): Promise<IdempotencyRecord> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(idempotencyClaimPartition(cluster, claim.node, claim.key)), sequence: num(HEAD_SEQUENCE) },
        ConsistentRead: true,
      }),
    );
    if (!result.Item) throw new Error(`Idempotency-Key ${claim.key}: the claim that refused this append is gone`);
    return toRecord(result.Item);
  }

  async readRange(cluster: string, from: number, to: number): Promise<DeliveredEvent[]> {
    const low = Math.max(1, from);
    if (to < low) return [];
    const spans = await this.spans(cluster, low, to);
    return spans.flatMap((span) => expand(span.item, cluster)).filter((event) => event.sequence >= low && event.sequence <= to);
  }

  /**
   * The written items covering any of `from..to`, ascending: those keyed in the range, and the
   * one before it when a chunk reaches into it (asked only when the range does not start
   * with a key).
   */
  private async spans(cluster: string, from: number, to: number): Promise<Span[]> {
    const items = await this.query({
      KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :from AND :to',
      ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
      ExpressionAttributeValues: { ':cluster': str(cluster), ':from': num(from), ':to': num(to) },
    });
    const spans = items.map(toSpan);
    if (spans[0]?.first !== from && from > 1) {
      const before = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :one AND :below',
          ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
          ExpressionAttributeValues: { ':cluster': str(cluster), ':one': num(1), ':below': num(from - 1) },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      const previous = before.Items?.[0];
      if (previous) {
        const span = toSpan(previous);
        if (span.last >= from) spans.unshift(span);
      }
    }
    return spans;
  }

  private async firstSpanAbove(cluster: string, sequence: number): Promise<Span | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        ConsistentRead: true,
        KeyConditionExpression: '#cluster = :cluster AND #sequence > :after',
        ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
        ExpressionAttributeValues: { ':cluster': str(cluster), ':after': num(sequence) },
        Limit: 1,
      }),
    );
    const item = result.Items?.[0];
    return item ? toSpan(item) : undefined;
  }

  async head(cluster: string): Promise<number> {
    const item = await this.headItem(cluster);
    return item ? (optionalNumber(item, 'head') ?? 0) : 0;
  }

  /**
   * Reads down from `head`, keys and markers only, past void items to the first written one.
   * Unwritten sequences have no item, so they are passed over by the query itself. Voids at the
   * end of the log are one per sequence, at most a change set's range per abandoned publisher:
   * the first page is small (a log whose last item is written answers in one short query), the
   * next ones grow while they hold only voids, and past `LAST_EVENT_SEARCH` voids the answer is
   * `head` (as if each were still to apply).
   */
  async lastEvent(cluster: string, head: number): Promise<number> {
    if (head < 1) return 0;
    let below = head;
    let limit = UNPUBLISHED_PAGE;
    for (let searched = 0; searched < LAST_EVENT_SEARCH; ) {
      const { Items: items = [], LastEvaluatedKey: more } = await this.client.send(
        new QueryCommand({
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :first AND :below',
          ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence', '#last': 'last', '#voided': 'voided' },
          ExpressionAttributeValues: { ':cluster': str(cluster), ':first': num(1), ':below': num(below) },
          ProjectionExpression: '#sequence, #last, #voided',
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      const written = items.find((item) => item.voided?.BOOL !== true);
      if (written) return Math.min(head, optionalNumber(written, 'last') ?? readNumber(written, 'sequence'));
      if (more === undefined || items.length === 0) return 0;
      searched += items.length;
      below = readNumber(items[items.length - 1] as Item, 'sequence') - 1;
      if (below < 1) return 0;
      limit = Math.min(LAST_EVENT_PAGE_MAX, limit * LAST_EVENT_PAGE_GROWTH);
    }
    return head;
  }

  async markPublished(cluster: string, from: number, to = from): Promise<void> {
    // The watermark first: it says where the search for unpublished events starts, and every
    // event below it has been accepted by the topic. When it moves over the range (everything
    // before the range is marked already, as when one publisher's events are marked in order),
    // the items' flags are below it, never read again, and stay as they are: one write. When it
    // cannot (an event before the range is still unmarked), the items are marked instead.
    //
    // Concurrent publishers commit, and so publish, out of sequence order: 12 can be marked
    // before 11. 12's items are then marked, and the mark of 11 moves the watermark over 12 as
    // well when this instance marked it (`markedAbove`); otherwise the watermark would stay at
    // 11, and every later mark would find it behind and cost two writes instead of one, until
    // the republish schedule's next run moved it.
    const above = this.markedAbove.get(cluster);
    let through = to;
    while (above?.has(through + 1)) through = above.get(through + 1) as number;
    const forgetChained = () => {
      for (let next = to + 1; next <= through; ) {
        const last = above?.get(next) as number;
        above?.delete(next);
        next = last + 1;
      }
    };
    const moved = await this.advanceWatermark(cluster, from - 1, through);
    if (moved === true) return forgetChained();
    // Where the watermark is: already over the range (a repeated mark), nothing to do; inside
    // it, moved on from there.
    if (moved >= to) return;
    if (moved >= from && (await this.advanceWatermark(cluster, moved, through)) === true) return forgetChained();
    // The items keyed in the range: usually one (an event, or a change set in one chunk).
    const inRange =
      from === to
        ? undefined
        : await this.query({
            KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :from AND :to',
            ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
            ExpressionAttributeValues: { ':cluster': str(cluster), ':from': num(from), ':to': num(to) },
            ProjectionExpression: '#sequence, unpublished',
          });
    const keys = inRange ? inRange.filter((item) => item.unpublished?.BOOL === true).map((item) => readNumber(item, 'sequence')) : [from];
    // Only a range the log holds is remembered for a later mark to move the watermark over.
    let held = inRange === undefined || inRange.length > 0;
    await Promise.all(
      keys.map(async (key) => {
        try {
          await this.client.send(
            new UpdateItemCommand({
              TableName: this.options.tableName,
              Key: { cluster: str(cluster), sequence: num(key) },
              UpdateExpression: 'REMOVE #unpublished',
              // Never create an item for a sequence the log does not hold, and never mark a
              // chunk whose events go on past the range: its later events are not published yet
              // (a change set's first delivery, `markDelivered`), and the flag is the item's.
              ConditionExpression: 'attribute_exists(#sequence) AND (attribute_not_exists(#last) OR #last <= :to)',
              ExpressionAttributeNames: { '#unpublished': 'unpublished', '#sequence': 'sequence', '#last': 'last' },
              ExpressionAttributeValues: { ':to': num(to) },
            }),
          );
        } catch (error) {
          if (!(error instanceof ConditionalCheckFailedException)) throw error;
          held = false;
        }
      }),
    );
    if (!held) return;
    const marked = this.markedAbove.get(cluster) ?? new Map<number, number>();
    marked.set(from, to);
    // Bounded: a range whose watermark another instance (or the republish schedule) moved is
    // never looked up again; the oldest go first.
    for (const first of marked.keys()) {
      if (marked.size <= MAX_MARKED_ABOVE) break;
      marked.delete(first);
    }
    this.markedAbove.set(cluster, marked);
  }

  async listUnpublished(cluster: string, limit: number): Promise<PublishedEvent[]> {
    const headItem = await this.headItem(cluster);
    const watermark = headItem ? (optionalNumber(headItem, 'publishedThrough') ?? 0) : 0;
    const unpublished: PublishedEvent[] = [];
    // The published events right above the watermark, which a later run need not read again.
    let publishedPrefix = watermark;
    let prefixOpen = true;
    // A mark of a chunk's first events (a change set's first delivery) moves the watermark into
    // the chunk and leaves its flag: the chunk is keyed below the watermark, its later events
    // above it, still to publish.
    const straddling = watermark < 1 ? undefined : await this.itemAtOrBelow(cluster, watermark);
    if (straddling !== undefined && toSpan(straddling).last > watermark) {
      if (straddling.unpublished?.BOOL === true) {
        prefixOpen = false;
        for (const event of expand(straddling, cluster)) {
          if (event.sequence > watermark && !('voided' in event) && !('unreadable' in event)) unpublished.push(event);
        }
      } else {
        publishedPrefix = toSpan(straddling).last;
      }
    }
    const visit = (item: Item) => {
      // The rest of a page is left alone once enough events were found.
      if (unpublished.length >= limit) return;
      const span = toSpan(item);
      if (prefixOpen && span.first !== publishedPrefix + 1) prefixOpen = false; // a hole: not published
      if (item.unpublished?.BOOL === true) {
        prefixOpen = false;
        for (const event of expand(item, cluster)) if (!('voided' in event) && !('unreadable' in event)) unpublished.push(event);
      } else if (prefixOpen) {
        publishedPrefix = span.last;
      }
    };
    await queryAll(
      paginateQuery(
        { client: this.client },
        {
          TableName: this.options.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#cluster = :cluster AND #sequence > :watermark',
          ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
          ExpressionAttributeValues: { ':cluster': str(cluster), ':watermark': num(watermark) },
          Limit: UNPUBLISHED_PAGE,
        },
      ),
      {
        // Each item is looked at once, in order, and none is kept: `visit` gathers the events.
        keep: (item) => {
          visit(item);
          return false;
        },
        enough: () => unpublished.length >= limit,
      },
    );
    if (publishedPrefix > watermark) await this.advanceWatermark(cluster, watermark, publishedPrefix);
    return unpublished;
  }

  /**
   * Moves `publishedThrough` from `from` to `to`: true when it did; when it was elsewhere
   * (another writer moved it, or an event below `from` is not marked yet), writes nothing and
   * answers where it was (0 when it was never set, -1 when the head item holds nothing: an
   * empty log).
   */
  private async advanceWatermark(cluster: string, from: number, to: number): Promise<true | number> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
          UpdateExpression: 'SET #watermark = :to',
          ConditionExpression:
            from === 0 ? '(attribute_not_exists(#watermark) OR #watermark = :from) AND #head >= :to' : '#watermark = :from AND #head >= :to',
          ExpressionAttributeNames: { '#watermark': 'publishedThrough', '#head': 'head' },
          ExpressionAttributeValues: { ':from': num(from), ':to': num(to) },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return error.Item ? (optionalNumber(error.Item, 'publishedThrough') ?? 0) : -1;
    }
  }

  /** The item keyed at `sequence` or the nearest below it (a chunk may reach over `sequence`). */
  private async itemAtOrBelow(cluster: string, sequence: number): Promise<Item | undefined> {
    const result = await this.client.send(
      new QueryCommand({
        TableName: this.options.tableName,
        ConsistentRead: true,
        KeyConditionExpression: '#cluster = :cluster AND #sequence BETWEEN :one AND :at',
        ExpressionAttributeNames: { '#cluster': 'cluster', '#sequence': 'sequence' },
        ExpressionAttributeValues: { ':cluster': str(cluster), ':one': num(1), ':at': num(sequence) },
        ScanIndexForward: false,
        Limit: 1,
      }),
    );
    return result.Items?.[0];
  }

  private async headItem(cluster: string): Promise<Item | undefined> {
    const result = await this.client.send(
      new GetItemCommand({
        TableName: this.options.tableName,
        Key: { cluster: str(cluster), sequence: num(HEAD_SEQUENCE) },
        ConsistentRead: true,
      }),
    );
    return result.Item;
  }

  /** Every item the query matches, all pages read, consistently. */
  private async query(input: Omit<QueryCommandInput, 'TableName'>): Promise<Item[]> {
    const { items } = await queryAll(paginateQuery({ client: this.client }, { ...input, TableName: this.options.tableName, ConsistentRead: true }));
    return items;
  }
}

function toSpan(item: Item): Span {
  const first = readNumber(item, 'sequence');
  return { first, last: optionalNumber(item, 'last') ?? first, committedAt: optionalNumber(item, 'committedAt') ?? 0, item };
}

/** The events an item holds (a void as a `VoidedEvent`). */
function expand(item: Item, cluster: string): DeliveredEvent[] {
  const sequence = readNumber(item, 'sequence');
  if (item.voided?.BOOL === true) {
    const at = optionalNumber(item, 'committedAt') ?? 0;
    return [{ sequence, cluster, origin: optionalString(item, 'voidedBy') ?? 'log', publishedAt: new Date(at).toISOString(), voided: true }];
  }
  const many = optionalString(item, 'events');
  if (many !== undefined) {
    const parsed = JSON.parse(many) as unknown;
    if (!Array.isArray(parsed)) throw new Error(`Event log item ${sequence} of cluster ${cluster}: events is not a list`);
    return parsed.map((event) => parseDeliveredEvent(event));
  }
  return [parseDeliveredEvent(JSON.parse(readString(item, 'event')) as unknown)];
}

/**
 * The item attributes of a lone event: its JSON, and the digest of the event as a reader parses
 * it back (`eventDigest`), which a node keeping up checks its delivered copy against inside its
 * commit (dynamo-node-store.ts, `logCheck`) instead of reading the item.
 */
function loneEventAttributes(json: string): Item {
  return { event: str(json), digest: str(eventDigest(parseDeliveredEvent(JSON.parse(json) as unknown))) };
}

/** Drafts packed into chunk items of consecutive events, each at most `CHUNK_BYTES` of JSON. */
function chunked(serialized: readonly string[]): { count: number; bytes: number }[] {
  const chunks: { count: number; bytes: number }[] = [];
  let current = { count: 0, bytes: 0 };
  for (const text of serialized) {
    // Each event gains a sequence (about 30 bytes) when it is written.
    const bytes = Buffer.byteLength(text, 'utf8') + 32;
    if (current.count > 0 && current.bytes + bytes > CHUNK_BYTES) {
      chunks.push(current);
      current = { count: 0, bytes: 0 };
    }
    current = { count: current.count + 1, bytes: current.bytes + bytes };
  }
  if (current.count > 0) chunks.push(current);
  return chunks;
}

function toRecord(item: Item): IdempotencyRecord {
  const answer = optionalString(item, 'answer');
  const count = optionalNumber(item, 'eventCount');
  const derived = optionalString(item, 'derivedOffsets');
  return {
    ...(count === undefined ? {} : { count }),
    ...(derived === undefined ? {} : { derived: derived.split(',').map(Number) }),
    node: readString(item, 'node'),
    key: readString(item, 'idempotencyKey'),
    bodyHash: readString(item, 'bodyHash'),
    sequence: readNumber(item, 'eventSequence'),
    createdAt: readString(item, 'createdAt'),
    expiresAt: readNumber(item, 'expiresAt'),
    ...(answer === undefined ? {} : { answer }),
  };
}
