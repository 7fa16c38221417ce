/**
 * Bounded concurrency for the functions' fan-out work (drift pages, job slices). Written here
 * rather than taken from a package: it is a dozen lines, and the failure rule below (nothing left
 * running once the call has thrown) is the point of it.
 */

/**
 * `map` with at most `limit` calls in flight; results in input order. After a failure no new
 * call starts, and the first error is thrown only once every call in flight has settled: a
 * slice that ends with an error leaves nothing running behind it that could race the slice
 * delivered next.
 */
export async function mapConcurrently<T, R>(inputs: readonly T[], limit: number, map: (input: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(inputs.length);
  let next = 0;
  let failure: { error: unknown } | undefined;
  const worker = async (): Promise<void> => {
    while (next < inputs.length && failure === undefined) {
      const index = next;
      next += 1;
      try {
        results[index] = await map(inputs[index] as T);
      } catch (error) {
        failure ??= { error };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, inputs.length) }, worker));
  if (failure) throw failure.error;
  return results;
}
