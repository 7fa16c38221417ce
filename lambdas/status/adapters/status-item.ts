/**
 * An execution status as a DynamoDB attribute map, both ways: the status store's one
 * translation between `ExecutionStatus` and the low-level client's `AttributeValue`s (the
 * adapters' one DynamoDB style, docs/architecture.md).
 *
 * Written by hand, field by field, because the status has a fixed shape: every field's DynamoDB
 * type is stated once here, and an item is read back into exactly the fields a status has
 * (index keys and anything else stored beside them stay in the adapter). The stored form is the
 * one the document client wrote before (strings as S, numbers as N, `dismissed` as BOOL, the
 * exception as a map of two strings, absent fields not stored), so items written by either read
 * the same. A generic marshaller (`@aws-sdk/util-dynamodb`) would walk every value's type on
 * every write, on the path of each progress report.
 */
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { ExecutionException, ExecutionStatus, Phase } from '../execution';

export type Item = Record<string, AttributeValue>;

/** Optional string fields of a status, stored as S when present. */
const OPTIONAL_STRINGS = [
  'task',
  'userName',
  'startTime',
  'completionTime',
  'expirationDate',
  'estimatedCompletion',
  'nextPoll',
  'resultLocation',
] as const satisfies readonly (keyof ExecutionStatus)[];

export const str = (value: string): AttributeValue => ({ S: value });
export const num = (value: number): AttributeValue => ({ N: String(value) });
export const bool = (value: boolean): AttributeValue => ({ BOOL: value });

function exceptionAttribute(exception: ExecutionException): AttributeValue {
  return { M: { code: str(exception.code), message: str(exception.message) } };
}

/**
 * One value of a status field or an expression value: a string, number, boolean or an
 * exception. Anything else is a bug in the caller, not data, and throws.
 */
export function attributeOf(value: string | number | boolean | ExecutionException): AttributeValue {
  switch (typeof value) {
    case 'string':
      return str(value);
    case 'number':
      return num(value);
    case 'boolean':
      return bool(value);
    default:
      return exceptionAttribute(value);
  }
}

/** The status's own attributes (no index keys). */
export function statusAttributes(status: ExecutionStatus): Item {
  const item: Item = {
    executionId: str(status.executionId),
    processName: str(status.processName),
    phase: str(status.phase),
    progress: num(status.progress),
    nodeId: str(status.nodeId),
    creationTime: str(status.creationTime),
    lastUpdated: str(status.lastUpdated),
    version: num(status.version),
  };
  for (const field of OPTIONAL_STRINGS) {
    const value = status[field];
    if (value !== undefined) item[field] = str(value);
  }
  if (status.exception !== undefined) item.exception = exceptionAttribute(status.exception);
  if (status.dismissed !== undefined) item.dismissed = bool(status.dismissed);
  return item;
}

function requiredString(item: Item, name: string): string {
  const value = item[name]?.S;
  if (value === undefined) throw new Error(`Status item ${item.executionId?.S ?? '?'} lacks string attribute ${name}`);
  return value;
}

function requiredNumber(item: Item, name: string): number {
  const value = item[name]?.N;
  if (value === undefined) throw new Error(`Status item ${item.executionId?.S ?? '?'} lacks number attribute ${name}`);
  return Number(value);
}

/** The status a whole table item (or an index item projecting ALL) holds. */
export function statusOf(item: Item): ExecutionStatus {
  const status: ExecutionStatus = {
    executionId: requiredString(item, 'executionId'),
    processName: requiredString(item, 'processName'),
    phase: requiredString(item, 'phase') as Phase,
    progress: requiredNumber(item, 'progress'),
    nodeId: requiredString(item, 'nodeId'),
    creationTime: requiredString(item, 'creationTime'),
    lastUpdated: requiredString(item, 'lastUpdated'),
    version: requiredNumber(item, 'version'),
  };
  for (const field of OPTIONAL_STRINGS) {
    const value = item[field]?.S;
    if (value !== undefined) status[field] = value;
  }
  const exception = item.exception?.M;
  if (exception !== undefined) status.exception = { code: exception.code?.S ?? '', message: exception.message?.S ?? '' };
  const dismissed = item.dismissed?.BOOL;
  if (dismissed !== undefined) status.dismissed = dismissed;
  return status;
}
