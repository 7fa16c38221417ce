import { queryAll, type QueryPage } from '../../../lambdas/shared/adapters/query-all';

/** Pages as the SDK paginator yields them, counting how many were requested. */
function pages(contents: number[][]) {
  const requested = { count: 0 };
  async function* generate(): AsyncGenerator<QueryPage<number, { after: number }>> {
    for (const [index, items] of contents.entries()) {
      requested.count += 1;
      yield { Items: items, ...(index < contents.length - 1 ? { LastEvaluatedKey: { after: items.at(-1) ?? -1 } } : {}) };
    }
  }
  return { requested, iterable: generate() };
}

describe('queryAll', () => {
  it('reads every page when nothing says enough, and ends with no resume key', async () => {
    const { requested, iterable } = pages([[1, 2], [3], [], [4, 5]]);
    await expect(queryAll(iterable)).resolves.toEqual({ items: [1, 2, 3, 4, 5], next: undefined });
    expect(requested.count).toBe(4);
  });

  it('stops after the page that makes enough, requests no further page, and returns where to resume', async () => {
    const { requested, iterable } = pages([[1, 2], [3, 4], [5, 6], [7]]);
    const result = await queryAll(iterable, { enough: (items) => items.length >= 3 });
    expect(result).toEqual({ items: [1, 2, 3, 4], next: { after: 4 } });
    expect(requested.count).toBe(2);
  });

  it('collects only what keep accepts, and passes the pages read to enough', async () => {
    const { requested, iterable } = pages([[1, 2, 3], [4, 5, 6], [7, 8, 9]]);
    const result = await queryAll(iterable, { keep: (n) => n % 2 === 0, enough: (_items, read) => read >= 2 });
    expect(result).toEqual({ items: [2, 4, 6], next: { after: 6 } });
    expect(requested.count).toBe(2);
  });

  it('reads the last page whole even when enough already holds', async () => {
    const { iterable } = pages([[1, 2, 3]]);
    await expect(queryAll(iterable, { enough: () => true })).resolves.toEqual({ items: [1, 2, 3], next: undefined });
  });
});
