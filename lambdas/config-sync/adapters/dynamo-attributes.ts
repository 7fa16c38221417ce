/**
 * The few DynamoDB attribute shapes the config-sync tables use (strings, numbers, booleans),
 * read and written with the low-level client. The document client (`@aws-sdk/lib-dynamodb`)
 * would add 11 KB to bundles that already carry the S3 client (see the cold-import budget in
 * docs/architecture.md), for items this flat.
 */
import { TransactionCanceledException, type AttributeValue } from '@aws-sdk/client-dynamodb';

export type Item = Record<string, AttributeValue>;

export const str = (value: string): AttributeValue => ({ S: value });
export const num = (value: number): AttributeValue => ({ N: String(value) });
export const bool = (value: boolean): AttributeValue => ({ BOOL: value });

export function readString(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new Error(`DynamoDB item lacks string attribute ${name}`);
  return value;
}

export function optionalString(item: Item, name: string): string | undefined {
  return item[name]?.S;
}

export function readNumber(item: Item, name: string): number {
  const value = optionalNumber(item, name);
  if (value === undefined) throw new Error(`DynamoDB item lacks number attribute ${name}`);
  return value;
}

export function optionalNumber(item: Item, name: string): number | undefined {
  const raw = item[name]?.N;
  return raw === undefined ? undefined : Number(raw);
}

export function readBoolean(item: Item, name: string): boolean {
  return item[name]?.BOOL === true;
}

/** The cancellation code of each item of a cancelled transaction (`None` where it passed). */
export function cancellationCodes(error: unknown): string[] | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return (error.CancellationReasons ?? []).map((reason) => reason.Code ?? 'None');
}

/** The item a cancelled transaction's item `index` refused (`ReturnValuesOnConditionCheckFailure: 'ALL_OLD'`), if it returned one. */
export function cancellationItem(error: unknown, index: number): Item | undefined {
  if (!(error instanceof TransactionCanceledException)) return undefined;
  return error.CancellationReasons?.[index]?.Item;
}
