/**
 * A node's jobs in the node store table, in the node's partition (so an apply function's
 * grants, scoped to its node's partition, cover them), all below the object keys (`#` sorts
 * before every type name, so catalog listings and snapshots never see them):
 * - `#job`: the node's job lock: `active` (the running job's id, absent when none), `last`
 *   (the most recent job), `lastScan` (the most recent that compared the GeoServer),
 *   `heartbeat` (epoch ms of the running job's last save), `next` (a capture waiting for the
 *   running job to end, `follow`), `promotedFrom` (the job whose final save started `active`);
 * - `#jobs/<id>`: the job, as JSON text. A record too large for one item (DynamoDB's 400 KB: a
 *   capture's checkpoint lists every layer group it published again and every store it kept,
 *   which grow with the catalog) continues in `#jobs/<id>/record/<part>` items, written in the
 *   same transaction, and its first item counts them (`parts`), so parts a larger earlier save
 *   left are never read; they are read with it in one TransactGetItems, so a read never joins
 *   two saves' items (and needs GetItem only, the grant of every function that reads a job). A record is at most JOB_RECORD_MAX_BYTES (within TransactWriteItems'
 *   4 MB); a save of a larger one is refused, naming the job, and a final save of one leaves out
 *   its checkpoint (read by no slice once the job has ended), so the job still ends;
 * - `#jobs/<id>/diff/<chunk>`: the differences its scan found, a chunk per page. A chunk too
 *   large for one item (DynamoDB's 400 KB; long names, many differing paths) continues in
 *   `<chunk>-<part>` items, written first, and its first item counts them (`parts`), so parts a
 *   crashed earlier attempt left are never read.
 * Saving a job is a transaction with a condition on the lock (`active = id`), so a replaced
 * job's late slice writes nothing; a final save hands the lock to `next` in the same transaction,
 * so a waiting job is never left behind a released lock; a `start` that replaces a stale job marks
 * it failed in its transaction (jobs.ts, `replacedStaleError`), and keeps the capture waiting in
 * `next` as its own next job or fails it and clears it (`keepsWaitingCapture`); a cancel
 * (`cancel`) ends the job `cancelled` and releases or hands over the lock as a final save does
 * (never the capture waiting in `next`),
 * on condition that the lock's heartbeat is the one read before the job (no save came between),
 * and for a resync gives back its hold on the node's cursor item (`holdJob`, dynamo-node-store.ts)
 * in the same transaction, on condition that its copy has not begun (`holdIncomplete`).
 * The job and its differences carry the table's TTL attribute
 * (`expiresAt`, JOB_RETENTION_MS after each save), so finished and abandoned jobs expire; the
 * lock item, which only names jobs, does not.
 */
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DynamoDBClient,
  GetItemCommand,
  QueryCommand,
  TransactGetItemsCommand,
  TransactWriteItemsCommand,
  PutItemCommand,
  type QueryCommandInput,
  type TransactWriteItem,
  type Update,
} from '@aws-sdk/client-dynamodb';
import type { DriftEntry } from '../geoserver/drift';
import {
  cancelledError,
  isFinal,
  jobExpiry,
  keepsWaitingCapture,
  replacedStaleError,
  STALE_AFTER_MS,
  staleFollowError,
  type CancelOutcome,
  type FollowOutcome,
  type Job,
  type JobStore,
  type StartOutcome,
} from '../jobs';
import { NODE_STORE_TABLE } from '../tables';
import { AGAIN, retry, type Backoff } from '../../shared/retry';
import { cancellationCodes, cancellationItem, num, optionalNumber, optionalString, readString, str, type Item } from './dynamo-attributes';

export const JOB_LOCK_KEY = '#job';
const JOB_PREFIX = '#jobs/';
const jobKey = (id: string) => `${JOB_PREFIX}${id}`;
/** Starts refused by jobs that had ended when read, before a start gives up (each such refusal means a job ended meanwhile). */
const START_ATTEMPTS = 5;
const chunkKey = (id: string, index: number) => `${JOB_PREFIX}${id}/diff/${String(index).padStart(6, '0')}`;
/** A chunk's continuation items: `-` sorts before every digit, so they follow the chunk's first item and precede the next chunk's. */
const partKey = (chunk: string, part: number) => `${chunk}-${String(part).padStart(3, '0')}`;
/** JSON per difference item: DynamoDB's item limit is 400 KB (409,600 bytes), keys and attribute names included. */
export const DIFFERENCES_ITEM_BYTES = 380 * 1024;
/** JSON per job record item (as DIFFERENCES_ITEM_BYTES). */
export const JOB_RECORD_ITEM_BYTES = 380 * 1024;
/**
 * A job record's largest JSON, over all its items: one transaction writes at most 4 MB of items
 * (TransactWriteItems), and a start writes the new job and the records of the jobs it fails with it.
 */
export const JOB_RECORD_MAX_BYTES = 3 * 1024 * 1024;
const recordPartKey = (id: string, part: number) => `${jobKey(id)}/record/${String(part).padStart(3, '0')}`;
/** Reads of a record of several items before giving up (each retry: a save of it in flight, or it grew). */
const RECORD_READ_ATTEMPTS = 6;
const RECORD_READ_BACKOFF: Backoff = { baseMs: 10, capMs: 200 };

/** Whether the table's TTL may delete the item (its `expiresAt` is past): TTL deletes items one by one, days late. */
function expired(item: Item): boolean {
  const expiresAt = optionalNumber(item, NODE_STORE_TABLE.ttlAttribute);
  return expiresAt !== undefined && expiresAt * 1000 <= Date.now();
}

/** A job whose id its node already has: ids are UUIDs the routes make, so this is a bug, never a request's fault; nothing is written. */
function jobIdTaken(job: Pick<Job, 'node' | 'id'>): Error {
  return new Error(`node ${job.node} already has a job ${job.id}: a job id is never reused`);
}

export class DynamoJobStore implements JobStore {
  constructor(
    private readonly tableName: string,
    private readonly client: DynamoDBClient,
  ) {}

  /**
   * A refusal names the running job by the lock's image at the refusal itself
   * (`ReturnValuesOnConditionCheckFailure`), not by a later read of the lock. That job may
   * still end before it is read: a job's final save releases the lock in the same transaction,
   * so a job read as final (or gone) no longer holds the node, and the start is tried again.
   */
  async start(job: Job, now: Date): Promise<StartOutcome> {
    for (let attempt = 1; ; attempt += 1) {
      const refusedBy = await this.tryStart(job, now);
      if (refusedBy === undefined) return { started: true };
      const active = refusedBy === null ? undefined : await this.read(job.node, refusedBy);
      if (active && !isFinal(active.state)) return { started: false, active };
      // The lock and the jobs change together: only jobs that keep ending between a refusal
      // and its read could come here again and again.
      if (attempt >= START_ATTEMPTS) throw new Error(`node ${job.node}: the job start was refused ${attempt} times by jobs that had ended when read`);
    }
  }

  /**
   * Takes the node's job lock for `job`: `undefined` when taken, else the id of the job that held it
   * (`null`: none named, or the lock's next job changed, or a job record read expired, since it was
   * read: try again). Throws when the node already has a job of `job`'s id. Replacing a
   * stale job marks it failed (jobs.ts, `replacedStaleError`), keeps the capture waiting to follow it as `job`'s next job
   * (`keepsWaitingCapture`), or fails it (`staleFollowError`) and clears the lock's `next`, in the same
   * transaction, on condition that `next` is still the one read; `promotedFrom` is cleared either way.
   */
  private async tryStart(job: Job, now: Date, lockRead?: Item): Promise<string | null | undefined> {
    const scans = job.kind !== 'resync';
    const stale = now.getTime() - STALE_AFTER_MS;
    // The lock as the caller just read it (`follow`), or read here.
    const lock = lockRead ?? (await this.lock(job.node));
    const replaceable = (image: Item | undefined) => !image || optionalString(image, 'active') === undefined || (optionalNumber(image, 'heartbeat') ?? 0) < stale;
    const next = lock && replaceable(lock) ? optionalString(lock, 'next') : undefined;
    const waiting = next === undefined ? undefined : await this.read(job.node, next);
    const at = now.toISOString();
    const keepWaiting = waiting?.state === 'queued' && keepsWaitingCapture(job.kind);
    // The stale job itself ends failed, naming its replacement (jobs.ts, `replacedStaleError`). Its
    // saves set the heartbeat in the same transaction as its record, so while the lock's heartbeat is
    // still stale (the condition below) the record read here is its last.
    const staleId = lock && replaceable(lock) ? optionalString(lock, 'active') : undefined;
    const replaced = staleId === undefined ? undefined : await this.read(job.node, staleId);
    const failWaiting: TransactWriteItem[] =
      waiting && !isFinal(waiting.state) && !keepWaiting
        ? this.jobPuts({ ...waiting, state: 'failed', updatedAt: at, finishedAt: at, error: staleFollowError(job.node, optionalString(lock!, 'active'), job) }, 'attribute_exists(#key)')
        : [];
    const failReplaced: TransactWriteItem[] =
      replaced && !isFinal(replaced.state)
        ? this.jobPuts({ ...replaced, state: 'failed', updatedAt: at, finishedAt: at, error: replacedStaleError(job) }, 'attribute_exists(#key)')
        : [];
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                ...this.lockUpdate(job.node, next, {
                  update: `SET #active = :id, #last = :id, #heartbeat = :now${scans ? ', #lastScan = :id' : ''} REMOVE ${keepWaiting ? '' : '#next, '}#promotedFrom`,
                  // The stale job read, by id: another start may have replaced it (and failed its record) meanwhile.
                  held: staleId === undefined ? 'attribute_not_exists(#active)' : '#active = :replaced AND #heartbeat < :stale',
                  names: { '#active': 'active', '#last': 'last', '#heartbeat': 'heartbeat', '#promotedFrom': 'promotedFrom', ...(scans ? { '#lastScan': 'lastScan' } : {}) },
                  values: { ':id': str(job.id), ':now': num(now.getTime()), ...(staleId === undefined ? {} : { ':replaced': str(staleId), ':stale': num(stale) }) },
                }),
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
              },
            },
            ...this.jobPuts(job, 'attribute_not_exists(#key)'),
            ...failWaiting,
            ...failReplaced,
          ],
        }),
      );
      return undefined;
    } catch (error) {
      const codes = cancellationCodes(error);
      if (codes?.[0] !== 'ConditionalCheckFailed') {
        if (codes?.[1] === 'ConditionalCheckFailed') throw jobIdTaken(job);
        // A job record read above (the stale job's, the waiting capture's) expired before the write,
        // whose puts of it are conditioned on its existence (so as not to bring it back): read again.
        if (codes?.slice(2).includes('ConditionalCheckFailed')) return null;
        throw error;
      }
      const image = cancellationItem(error, 0);
      // A lock that could be taken was refused for its next job, which changed since it was read.
      if (replaceable(image)) return null;
      return optionalString(image!, 'active') ?? null;
    }
  }

  /**
   * The job's record. One of several items is read with its continuations in one TransactGetItems,
   * which DynamoDB isolates from the transactions that save them: separate reads could join one
   * save's first item to the next save's later ones (a record mixed from two saves, or no JSON at
   * all) while a capture saves after every step and GET /nodes reads it. A record whose items
   * the table's TTL has begun to delete (each item on its own) reads as gone, as an expired one does.
   */
  async read(node: string, id: string): Promise<Job | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(node, jobKey(id)), ConsistentRead: true }));
    if (!Item) return undefined;
    let parts = optionalNumber(Item, 'parts') ?? 1;
    if (parts === 1) return JSON.parse(readString(Item, 'job')) as Job;
    return retry(
      async () => {
        const keys = Array.from({ length: parts }, (_, part) => this.key(node, part === 0 ? jobKey(id) : recordPartKey(id, part)));
        const { Responses } = await this.client.send(new TransactGetItemsCommand({ TransactItems: keys.map((Key) => ({ Get: { TableName: this.tableName, Key } })) }));
        const items = (Responses ?? []).map((response) => response.Item);
        const first = items[0];
        if (!first) return undefined;
        const saved = optionalNumber(first, 'parts') ?? 1;
        // Saved larger meanwhile: read its parts.
        if (saved > parts) {
          parts = saved;
          return AGAIN;
        }
        let json = readString(first, 'job');
        for (let part = 1; part < saved; part += 1) {
          const stored = items[part];
          if (!stored) {
            if (expired(first)) return undefined;
            throw new Error(`node ${node}: job ${id}'s record item ${recordPartKey(id, part)} is missing`);
          }
          json += readString(stored, 'job');
        }
        return JSON.parse(json) as Job;
      },
      {
        maxAttempts: RECORD_READ_ATTEMPTS,
        backoff: RECORD_READ_BACKOFF,
        // A save of the same items in flight cancels the read (TransactionConflict): read again.
        retryable: (error) => cancellationCodes(error)?.some((code) => code === 'TransactionConflict' || code === 'ThrottlingError') ?? false,
        exhausted: (attempts, last) => (last instanceof Error ? last : new Error(`node ${node}: job ${id}'s record kept growing or changing over ${attempts} reads`)),
      },
    );
  }

  async latest(node: string): Promise<Job | undefined> {
    const lock = await this.lock(node);
    const id = lock ? optionalString(lock, 'last') : undefined;
    return id ? this.read(node, id) : undefined;
  }

  async latestScan(node: string): Promise<Job | undefined> {
    const lock = await this.lock(node);
    const id = lock ? optionalString(lock, 'lastScan') : undefined;
    return id ? this.read(node, id) : undefined;
  }

  async follow(job: Job, now: Date): Promise<FollowOutcome> {
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
      const lock = await this.lock(job.node);
      const active = lock ? optionalString(lock, 'active') : undefined;
      if (active === undefined || (optionalNumber(lock!, 'heartbeat') ?? 0) < now.getTime() - STALE_AFTER_MS) {
        if ((await this.tryStart(job, now, lock)) === undefined) return { outcome: 'started' };
        continue;
      }
      // A waiting job has not begun: it reads the GeoServer after whatever changed there now.
      const next = optionalString(lock!, 'next');
      const waiting = next === undefined ? undefined : await this.read(job.node, next);
      if (waiting?.state === 'queued') return { outcome: 'covered', by: waiting };
      if (waiting?.state === 'running') continue; // started meanwhile: look again
      // A next job whose record is gone or that has ended waits for nothing: `job` takes its place,
      // on condition that it is still the lock's next job.
      const running = await this.read(job.node, active);
      if (!running || isFinal(running.state)) continue;
      // Read after the change: a capture still queued has read nothing (its first slice marks it running before reading).
      if (running.kind === 'capture' && running.state === 'queued') return { outcome: 'covered', by: running };
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              {
                Update: this.lockUpdate(job.node, next, {
                  update: 'SET #next = :id',
                  held: '#active = :active',
                  names: { '#active': 'active' },
                  values: { ':id': str(job.id), ':active': str(active) },
                }),
              },
              ...this.jobPuts(job, 'attribute_not_exists(#key)'),
            ],
          }),
        );
        return { outcome: 'queued', after: running };
      } catch (error) {
        const codes = cancellationCodes(error);
        if (codes?.[0] !== 'ConditionalCheckFailed' && codes?.[1] === 'ConditionalCheckFailed') throw jobIdTaken(job);
        if (codes?.[0] !== 'ConditionalCheckFailed') throw error;
      }
    }
    throw new Error(`node ${job.node}: the capture could not be started nor queued in ${START_ATTEMPTS} attempts, the node's jobs changing meanwhile`);
  }

  async successor(node: string, id: string): Promise<Job | undefined> {
    const lock = await this.lock(node);
    const active = lock ? optionalString(lock, 'active') : undefined;
    if (active === undefined || optionalString(lock!, 'promotedFrom') !== id) return undefined;
    const job = await this.read(node, active);
    return job?.state === 'queued' && job.slices === 0 ? job : undefined;
  }

  async follower(node: string, id: string): Promise<Job | undefined> {
    const lock = await this.lock(node);
    const next = lock && optionalString(lock, 'active') === id ? optionalString(lock, 'next') : undefined;
    const job = next === undefined ? undefined : await this.read(node, next);
    return job && !isFinal(job.state) ? job : undefined;
  }

  async save(job: Job): Promise<'saved' | 'superseded'> {
    if (isFinal(job.state)) return this.saveFinal(job);
    try {
      await this.client.send(
        new TransactWriteItemsCommand({
          TransactItems: [
            {
              Update: {
                TableName: this.tableName,
                Key: this.key(job.node, JOB_LOCK_KEY),
                UpdateExpression: 'SET #heartbeat = :now',
                ConditionExpression: '#active = :id',
                ExpressionAttributeNames: { '#active': 'active', '#heartbeat': 'heartbeat' },
                ExpressionAttributeValues: { ':id': str(job.id), ':now': num(Date.parse(job.updatedAt)) },
              },
            },
            ...this.jobPuts(job),
          ],
        }),
      );
      return 'saved';
    } catch (error) {
      if (cancellationCodes(error)?.[0] === 'ConditionalCheckFailed') return 'superseded';
      throw error;
    }
  }

  /**
   * A final save: releases the node's lock, or hands it to the node's next job (`follow`) in the
   * same transaction. The lock is read first to name that job; a `next` set between that read and
   * the write fails the condition, and the save is tried again with it. A next job whose record is
   * gone or that has ended is not handed the node: the lock is released and that `next` cleared.
   */
  private async saveFinal(job: Job): Promise<'saved' | 'superseded'> {
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
      const lock = await this.lock(job.node);
      if (!lock || optionalString(lock, 'active') !== job.id) return 'superseded';
      const next = optionalString(lock, 'next');
      // A next job whose record is gone (expired) or that has ended waits for nothing: handed the
      // node, it would hold it with nothing to run it until it went stale. The node is released,
      // and that `next` cleared, on condition that it is still the lock's.
      const waiting = next === undefined ? undefined : await this.read(job.node, next);
      const handOver = this.endingLockUpdate(job.node, job.id, next, waiting, Date.parse(job.updatedAt));
      try {
        await this.client.send(
          new TransactWriteItemsCommand({
            TransactItems: [
              { Update: handOver },
              ...this.jobPuts(job),
            ],
          }),
        );
        return 'saved';
      } catch (error) {
        if (cancellationCodes(error)?.[0] !== 'ConditionalCheckFailed') throw error;
      }
    }
    throw new Error(`node ${job.node}: job ${job.id}'s final save was refused ${START_ATTEMPTS} times, the node's next job changing meanwhile`);
  }

  async cancel(node: string, id: string, by: string, now: Date): Promise<CancelOutcome> {
    for (let attempt = 1; attempt <= START_ATTEMPTS; attempt += 1) {
      // The lock first, then the job: a save between the two moves the lock's heartbeat, which the write's condition names.
      const lock = await this.lock(node);
      const job = await this.read(node, id);
      if (!job) return { outcome: 'not-found' };
      if (job.state === 'cancelled') return { outcome: 'cancelled', job, again: true };
      if (isFinal(job.state)) return { outcome: 'ended', job };
      const active = lock ? optionalString(lock, 'active') : undefined;
      const next = lock ? optionalString(lock, 'next') : undefined;
      let lockWrite: TransactWriteItem;
      let successor: Job | undefined;
      if (active === id) {
        // As a final save: the node handed to the capture waiting to follow the job, or released.
        const waiting = next === undefined ? undefined : await this.read(node, next);
        if (waiting !== undefined && !isFinal(waiting.state) && waiting.state === 'queued' && waiting.slices === 0) successor = waiting;
        lockWrite = { Update: this.endingLockUpdate(node, id, next, waiting, now.getTime(), optionalNumber(lock!, 'heartbeat') ?? 0) };
      } else if (next === id && active !== undefined) {
        // The capture an upload asked for, waiting to follow the running job: left waiting (jobs.ts, `CaptureWaitingError`).
        return { outcome: 'waiting', job, after: active };
      } else {
        // Neither the node's job nor waiting for it (no write leaves a job so): ended on condition it still is neither.
        lockWrite = {
          ConditionCheck: {
            TableName: this.tableName,
            Key: this.key(node, JOB_LOCK_KEY),
            ConditionExpression: '(attribute_not_exists(#active) OR #active <> :id) AND (attribute_not_exists(#next) OR #next <> :id)',
            ExpressionAttributeNames: { '#active': 'active', '#next': 'next' },
            ExpressionAttributeValues: { ':id': str(id) },
          },
        };
      }
      let holdWrite: TransactWriteItem[] = [];
      if (job.kind === 'resync') {
        const { Item: cursor } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(node, NODE_STORE_TABLE.cursorKey), ConsistentRead: true }));
        const holds = cursor !== undefined && optionalString(cursor, 'holdJob') === id;
        if (holds && cursor.holdIncomplete !== undefined) return { outcome: 'copying', job };
        const names = { '#holdJob': 'holdJob', '#holdIncomplete': 'holdIncomplete' };
        holdWrite = [
          holds
            ? {
                Update: {
                  TableName: this.tableName,
                  Key: this.key(node, NODE_STORE_TABLE.cursorKey),
                  UpdateExpression: 'REMOVE #holdJob, #holdUntil',
                  ConditionExpression: '#holdJob = :job AND attribute_not_exists(#holdIncomplete)',
                  ExpressionAttributeNames: { ...names, '#holdUntil': 'holdUntil' },
                  ExpressionAttributeValues: { ':job': str(id) },
                },
              }
            : {
                // Not held by the job (not taken yet, or another's): a hold it takes meanwhile fails this write, and the cancel reads again.
                ConditionCheck: {
                  TableName: this.tableName,
                  Key: this.key(node, NODE_STORE_TABLE.cursorKey),
                  ConditionExpression: 'attribute_not_exists(#holdJob) OR #holdJob <> :job',
                  ExpressionAttributeNames: { '#holdJob': 'holdJob' },
                  ExpressionAttributeValues: { ':job': str(id) },
                },
              },
        ];
      }
      const at = now.toISOString();
      const cancelled: Job = { ...job, state: 'cancelled', updatedAt: at, finishedAt: at, error: cancelledError(job, by) };
      try {
        await this.client.send(new TransactWriteItemsCommand({ TransactItems: [lockWrite, ...this.jobPuts(cancelled, 'attribute_exists(#key)'), ...holdWrite] }));
        return { outcome: 'cancelled', job: cancelled, again: false, ...(successor ? { successor } : {}) };
      } catch (error) {
        // A save, a hold, or another cancel came between the reads and the write: read again.
        const codes = cancellationCodes(error);
        if (!codes?.some((code) => code === 'ConditionalCheckFailed' || code === 'TransactionConflict')) throw error;
      }
    }
    throw new Error(`node ${node}: the cancel of job ${id} was refused ${START_ATTEMPTS} times, the job saving or the node's jobs changing meanwhile`);
  }

  async putDifferences(node: string, id: string, index: number, entries: readonly DriftEntry[]): Promise<void> {
    const parts = differenceParts(entries);
    const chunk = chunkKey(id, index);
    const expiresAt = num(jobExpiry(new Date()));
    // The continuations first: the first item, which counts them, is what makes them read.
    for (let part = parts.length - 1; part >= 0; part -= 1) {
      await this.client.send(
        new PutItemCommand({
          TableName: this.tableName,
          Item: {
            ...this.key(node, part === 0 ? chunk : partKey(chunk, part)),
            entries: str(parts[part] as string),
            ...(part === 0 && parts.length > 1 ? { parts: num(parts.length) } : {}),
            [NODE_STORE_TABLE.ttlAttribute]: expiresAt,
          },
        }),
      );
    }
  }

  async readDifferences(node: string, id: string): Promise<DriftEntry[]> {
    const entries: DriftEntry[] = [];
    const items = new Map((await this.query(node, `${jobKey(id)}/diff/`)).map((item) => [readString(item, 'key'), item]));
    for (const [key, item] of items) {
      // A continuation is read with its chunk's first item.
      if (!/\/diff\/\d+$/.test(key)) continue;
      const parts = optionalNumber(item, 'parts') ?? 1;
      for (let part = 0; part < parts; part += 1) {
        const stored = part === 0 ? item : items.get(partKey(key, part));
        if (!stored) {
          // The table's TTL deletes a job's items one by one: an expired job's are as good as gone.
          if (expired(item)) return [];
          throw new Error(`node ${node}: job ${id}'s differences item ${partKey(key, part)} is missing`);
        }
        entries.push(...(JSON.parse(readString(stored, 'entries')) as DriftEntry[]));
      }
    }
    return entries;
  }

  async pruneDifferences(node: string, keep: string): Promise<void> {
    for (const item of await this.query(node, JOB_PREFIX, true)) {
      const key = readString(item, 'key');
      if (!key.includes('/diff/') || key.startsWith(`${jobKey(keep)}/`)) continue;
      try {
        await this.client.send(new DeleteItemCommand({ TableName: this.tableName, Key: this.key(node, key) }));
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
      }
    }
  }

  private async lock(node: string): Promise<Item | undefined> {
    const { Item } = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key(node, JOB_LOCK_KEY), ConsistentRead: true }));
    return Item;
  }

  private async query(node: string, prefix: string, keysOnly = false): Promise<Item[]> {
    const items: Item[] = [];
    let start: QueryCommandInput['ExclusiveStartKey'];
    do {
      const page = await this.client.send(
        new QueryCommand({
          TableName: this.tableName,
          ConsistentRead: true,
          KeyConditionExpression: '#node = :node AND begins_with(#key, :prefix)',
          ExpressionAttributeNames: { '#node': 'node', '#key': 'key' },
          ExpressionAttributeValues: { ':node': str(node), ':prefix': str(prefix) },
          ...(keysOnly ? { ProjectionExpression: '#key' } : {}),
          ExclusiveStartKey: start,
        }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /**
   * An update of the node's job lock, on condition `held` (on its running job) and that its next
   * job is still `next` as the caller read it (none: still none). tryStart, follow and saveFinal
   * each decide from a read of the lock what to write; this is the one place that makes the write
   * hold only while `next` is what was read (`:next` names it in `update` too).
   */
  /**
   * The lock's write at the end of its job `id` (a final save, a cancel): hands the node to the job
   * waiting in `next` (`waiting`, read by the caller) unless that one has ended or its record is
   * gone, else releases the node and clears `next`; on condition that the lock is still `id`'s
   * with that `next`, and, given `heartbeat`, at that heartbeat (no save came between).
   */
  private endingLockUpdate(node: string, id: string, next: string | undefined, waiting: Job | undefined, now: number, heartbeat?: number): Update {
    const held: { held: string; names: Record<string, string>; values: Item } =
      heartbeat === undefined
        ? { held: '#active = :id', names: { '#active': 'active' }, values: { ':id': str(id) } }
        : { held: '#active = :id AND #heartbeat = :heartbeat', names: { '#active': 'active', '#heartbeat': 'heartbeat' }, values: { ':id': str(id), ':heartbeat': num(heartbeat) } };
    return this.lockUpdate(
      node,
      next,
      !waiting || isFinal(waiting.state)
        ? { update: `REMOVE #active${next === undefined ? '' : ', #next'}`, ...held }
        : {
            update: 'SET #active = :next, #last = :next, #lastScan = :next, #heartbeat = :now, #promotedFrom = :id REMOVE #next',
            held: held.held,
            names: { ...held.names, '#last': 'last', '#lastScan': 'lastScan', '#heartbeat': 'heartbeat', '#promotedFrom': 'promotedFrom' },
            values: { ...held.values, ':now': num(now) },
          },
    );
  }

  private lockUpdate(node: string, next: string | undefined, write: { update: string; held: string; names: Record<string, string>; values: Item }): Update {
    return {
      TableName: this.tableName,
      Key: this.key(node, JOB_LOCK_KEY),
      UpdateExpression: write.update,
      ConditionExpression: `(${write.held}) AND ${next === undefined ? 'attribute_not_exists(#next)' : '#next = :next'}`,
      ExpressionAttributeNames: { ...write.names, '#next': 'next' },
      ExpressionAttributeValues: { ...write.values, ...(next === undefined ? {} : { ':next': str(next) }) },
    };
  }

  private key(node: string, key: string): Item {
    return { node: str(node), key: str(key) };
  }

  /**
   * The puts of a transaction that write `job`'s record: its first item (on `condition`, when
   * given) and the continuations of a record too large for one. Throws, naming the job, for a
   * record over JOB_RECORD_MAX_BYTES, unless the job has ended: then it is written without its
   * checkpoint, which only slices of a running job read.
   */
  private jobPuts(job: Job, condition?: string): TransactWriteItem[] {
    let json = JSON.stringify(job);
    let bytes = Buffer.byteLength(json, 'utf8');
    if (bytes > JOB_RECORD_MAX_BYTES && isFinal(job.state)) {
      json = JSON.stringify({ ...job, checkpoint: {} });
      bytes = Buffer.byteLength(json, 'utf8');
    }
    if (bytes > JOB_RECORD_MAX_BYTES) {
      throw new Error(
        `job ${job.id} of node ${job.node} is ${bytes} bytes of JSON, more than its record holds (${JOB_RECORD_MAX_BYTES} bytes, within the 4 MB a DynamoDB transaction writes); its progress could not be saved`,
      );
    }
    const parts = splitUtf8(json, JOB_RECORD_ITEM_BYTES);
    const expiresAt = num(jobExpiry(new Date(job.updatedAt)));
    return parts.map((part, index) => ({
      Put: {
        TableName: this.tableName,
        Item: {
          ...this.key(job.node, index === 0 ? jobKey(job.id) : recordPartKey(job.id, index)),
          job: str(part),
          ...(index === 0 && parts.length > 1 ? { parts: num(parts.length) } : {}),
          [NODE_STORE_TABLE.ttlAttribute]: expiresAt,
        },
        ...(index === 0 && condition !== undefined ? { ConditionExpression: condition, ExpressionAttributeNames: { '#key': 'key' } } : {}),
      },
    }));
  }
}

/**
 * `entries` as the JSON arrays of consecutive runs of them, each within DIFFERENCES_ITEM_BYTES.
 * Nothing is written of a chunk holding one difference too large for any item.
 */
function differenceParts(entries: readonly DriftEntry[]): string[] {
  const parts: string[] = [];
  let current: string[] = [];
  let bytes = 2;
  for (const entry of entries) {
    const json = JSON.stringify(entry);
    const size = Buffer.byteLength(json, 'utf8') + 1;
    if (size + 2 > DIFFERENCES_ITEM_BYTES) {
      throw new Error(
        `The difference found for ${entry.type} ${entry.id} is ${size} bytes of JSON, more than one DynamoDB item holds (400 KB, ${DIFFERENCES_ITEM_BYTES} bytes of it for differences); the job's differences could not be recorded`,
      );
    }
    if (current.length > 0 && bytes + size > DIFFERENCES_ITEM_BYTES) {
      parts.push(`[${current.join(',')}]`);
      current = [];
      bytes = 2;
    }
    current.push(json);
    bytes += size;
  }
  parts.push(`[${current.join(',')}]`);
  return parts;
}

/** `text` as consecutive pieces of at most `bytes` bytes of UTF-8 each, no character split between two. */
function splitUtf8(text: string, bytes: number): string[] {
  const encoded = Buffer.from(text, 'utf8');
  const pieces: string[] = [];
  let start = 0;
  do {
    let end = Math.min(start + bytes, encoded.length);
    // Back off a continuation byte (10xxxxxx): the piece ends before the character it belongs to.
    while (end < encoded.length && end > start && ((encoded[end] as number) & 0xc0) === 0x80) end -= 1;
    pieces.push(encoded.subarray(start, end).toString('utf8'));
    start = end;
  } while (start < encoded.length);
  return pieces;
}
