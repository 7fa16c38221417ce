/**
 * The cluster's gateway write lease (gateway/write-lease.ts) as one item of the event log table:
 * partition `<cluster>#gateway-lease`, sequence 0, with `owner` (a token per write) and
 * `leaseUntil` (epoch ms). It lives beside the log it orders, and the gateway already may write
 * that table; no event query reads that partition.
 *
 * Taking it is a conditional update: no owner, or a lease that ended before the taker's clock.
 * Giving it back removes the owner on condition that it is still ours, so a holder whose lease
 * was taken over (it outlived the expiry) never frees someone else's.
 * Renewing it (a job step's, gateway/write-lease.ts `LeaseHold`) moves `leaseUntil` on the same
 * condition: an expired lease nobody took over is still the holder's, as no write came between.
 *
 * A run of the gateway's sweep that finds the lease held while intents are left marks the item
 * (`recoveryWantedUntil`, epoch ms, gateway/sweep.ts): a take that yields (a job slice's) is
 * refused while it stands, and a take that recovers intents removes it in the same update.
 *
 * Each write's intent (gateway/write-lease.ts `WriteIntent`) is an attribute of the same item,
 * `intent_<owner>` (its JSON), set in the same update that takes the lease and removed in the
 * one that gives it back once the write's changes are in the log; the take answers the item as
 * it was, so the intents earlier holders left cost no extra call. An item holds at most 400 KB:
 * an intent is a path and a few object ids, and each is cleared by the next holder.
 */
import { ConditionalCheckFailedException, DynamoDBClient, GetItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import type { AcquireOptions, LeaseAttempt, LeaseStore, WriteIntent } from '../gateway/write-lease';
import { num, optionalNumber, optionalString, str, type Item } from './dynamo-attributes';
import { HEAD_SEQUENCE } from './dynamo-event-log';

export function gatewayLeasePartition(cluster: string): string {
  return `${cluster}#gateway-lease`;
}

export class DynamoGatewayLease implements LeaseStore {
  private readonly key: Item;

  constructor(
    private readonly client: DynamoDBClient,
    private readonly tableName: string,
    cluster: string,
  ) {
    this.key = { cluster: str(gatewayLeasePartition(cluster)), sequence: num(HEAD_SEQUENCE) };
  }

  async tryAcquire(owner: string, now: number, until: number, intent?: WriteIntent, options: AcquireOptions = {}): Promise<LeaseAttempt> {
    const free = 'attribute_not_exists(#owner) OR #leaseUntil < :now';
    try {
      const result = await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: `SET #owner = :owner, #leaseUntil = :until, #acquiredAt = :at${intent ? ', #intent = :intent' : ''}${options.recovers ? ' REMOVE #wanted' : ''}`,
          // A taker that yields is refused while the sweep's mark stands, as while another holds the lease.
          ConditionExpression: options.yields ? `(${free}) AND (attribute_not_exists(#wanted) OR #wanted < :now)` : free,
          ExpressionAttributeNames: {
            '#owner': 'owner',
            '#leaseUntil': 'leaseUntil',
            '#acquiredAt': 'acquiredAt',
            ...(intent ? { '#intent': intentAttribute(owner) } : {}),
            ...(options.recovers || options.yields ? { '#wanted': WANTED } : {}),
          },
          ExpressionAttributeValues: {
            ':owner': str(owner),
            ':until': num(until),
            ':at': str(new Date(now).toISOString()),
            ':now': num(now),
            ...(intent ? { ':intent': str(JSON.stringify(intent)) } : {}),
          },
          ReturnValues: 'ALL_OLD',
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      const pending = intentsOf(result.Attributes);
      return pending.length > 0 ? { acquired: true, pending } : { acquired: true };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      const held = error.Item ?? (await this.read());
      const leaseUntil = held ? optionalNumber(held, 'leaseUntil') : undefined;
      const wanted = held && options.yields ? optionalNumber(held, WANTED) : undefined;
      // Unavailable until the later of the two; neither (released between our take and the read): try again at once.
      const standing = [leaseUntil, wanted].filter((at): at is number => at !== undefined && at >= now);
      return { acquired: false, heldUntil: standing.length > 0 ? Math.max(...standing) : (leaseUntil ?? now) };
    }
  }

  async release(owner: string, clear: readonly string[] = []): Promise<void> {
    const cleared = Object.fromEntries([...new Set(clear)].map((cleared, index) => [`#cleared${index}`, intentAttribute(cleared)]));
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: `REMOVE ${['#owner', '#leaseUntil', ...Object.keys(cleared)].join(', ')}`,
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#leaseUntil': 'leaseUntil', ...cleared },
          ExpressionAttributeValues: { ':owner': str(owner) },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
  }

  async renew(owner: string, until: number): Promise<boolean> {
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.tableName,
          Key: this.key,
          UpdateExpression: 'SET #leaseUntil = :until',
          ConditionExpression: '#owner = :owner',
          ExpressionAttributeNames: { '#owner': 'owner', '#leaseUntil': 'leaseUntil' },
          ExpressionAttributeValues: { ':owner': str(owner), ':until': num(until) },
        }),
      );
      return true;
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
      return false;
    }
  }

  /** The intents left in the item and, while someone holds the lease, who and until when (a read, for the sweep). */
  async pending(): Promise<{ readonly heldUntil?: number; readonly holder?: string; readonly intents: readonly WriteIntent[] }> {
    const item = await this.read();
    const holder = item ? optionalString(item, 'owner') : undefined;
    const heldUntil = holder === undefined ? undefined : optionalNumber(item!, 'leaseUntil');
    return { ...(heldUntil === undefined ? {} : { heldUntil, holder }), intents: intentsOf(item) };
  }

  /**
   * The sweep's mark (gateway/sweep.ts): until `until`, a taker that yields (a job slice of the
   * master's) is refused; the next take that recovers removes it. One update of the item, whoever
   * holds the lease.
   */
  async wantRecovery(until: number): Promise<void> {
    await this.client.send(
      new UpdateItemCommand({
        TableName: this.tableName,
        Key: this.key,
        UpdateExpression: 'SET #wanted = :until',
        ExpressionAttributeNames: { '#wanted': WANTED },
        ExpressionAttributeValues: { ':until': num(until) },
      }),
    );
  }

  private async read(): Promise<Item | undefined> {
    const result = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: this.key, ConsistentRead: true }));
    return result.Item;
  }
}

const INTENT_PREFIX = 'intent_';
/** The sweep's mark: until when (epoch ms) a taker that yields is refused. */
const WANTED = 'recoveryWantedUntil';

function intentAttribute(owner: string): string {
  return `${INTENT_PREFIX}${owner}`;
}

/** The intents an item holds, oldest first. */
function intentsOf(item: Item | undefined): WriteIntent[] {
  const intents: WriteIntent[] = [];
  for (const [name, value] of Object.entries(item ?? {})) {
    if (!name.startsWith(INTENT_PREFIX) || value.S === undefined) continue;
    try {
      intents.push(JSON.parse(value.S) as WriteIntent);
    } catch {
      // Not ours to read: left for an operator (it names no objects we could recover).
    }
  }
  return intents.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
}
