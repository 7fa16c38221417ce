/**
 * Reads the pages of a DynamoDB Query or Scan until the last one or until the caller has enough:
 * the one pagination loop of the adapters. The pages come from the SDK's own paginator
 * (`paginateQuery` of either client, which carries LastEvaluatedKey into ExclusiveStartKey);
 * what this adds is the stop condition and the key to resume from when it stopped early.
 */
export interface QueryPage<T, K> {
  readonly Items?: T[];
  readonly LastEvaluatedKey?: K;
}

export interface QueryAllOptions<T> {
  /** Which items to collect (others are read and dropped). @default every item */
  readonly keep?: (item: T) => boolean;
  /** Stops after a page when this holds (`items` collected so far, `pages` read so far). */
  readonly enough?: (items: readonly T[], pages: number) => boolean;
}

export interface QueryAllResult<T, K> {
  readonly items: T[];
  /** Where a later read would go on: the last page's LastEvaluatedKey (undefined after the last page). */
  readonly next: K | undefined;
}

export async function queryAll<T, K>(pages: AsyncIterable<QueryPage<T, K>>, options: QueryAllOptions<T> = {}): Promise<QueryAllResult<T, K>> {
  const items: T[] = [];
  let next: K | undefined;
  let read = 0;
  for await (const page of pages) {
    read += 1;
    for (const item of page.Items ?? []) if (options.keep?.(item) ?? true) items.push(item);
    next = page.LastEvaluatedKey;
    // Leaving the loop ends the paginator: no further page is requested.
    if (next !== undefined && options.enough?.(items, read)) break;
  }
  return { items, next };
}
