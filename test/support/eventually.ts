/**
 * Polls `read` every 200 ms until `done` holds of its value, and returns that value; past
 * `timeoutMs`, fails naming `what` and the last value read. For tests that wait on the local
 * cluster's asynchronous work (a queue consumed, a job ended).
 */
export async function eventually<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
