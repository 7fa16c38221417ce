/**
 * When every node had applied a sequence, read from the apply functions' own log lines
 * ("batch applied", logged once a batch's commit is done, with the node's cursor after it and
 * the instant it was written), not by reading the nodes' cursors again and again.
 *
 * Why: the raw baseline's receivers long-poll and take no CPU while they wait. Reading every
 * node's cursor every few milliseconds instead takes a share of this machine's two cores
 * (the bench's SDK client and DynamoDB Local, which also serves the very commits being waited
 * for), so the measurement slowed what it measured. A line's timestamp is the apply's own
 * instant, so how late the line reaches the bench does not count.
 *
 * A node that moves its cursor without such a line (none does today) would leave a wait
 * unresolved: after `quietMs` without a line the observer falls back to reading the cursors,
 * and counts it, so a figure that leans on the fallback says so.
 */
export class AppliedObserver {
  /** Per node, the instants its cursor reached each higher value, in order. */
  private readonly reached = new Map<string, { sequence: number; at: number }[]>();
  private readonly waiters = new Set<() => void>();
  private lastLineAt = 0;
  /** Waits that the log lines did not resolve and the cursor reads did. */
  fallbacks = 0;

  constructor(
    private readonly nodes: readonly string[],
    private readonly readCursors: () => Promise<number[]>,
    private readonly quietMs = 10_000,
  ) {
    for (const node of nodes) this.reached.set(node, []);
  }

  /** Feed one line of the cluster's output. */
  line(text: string): void {
    if (!text.includes('"batch applied"')) return;
    let entry: { message?: string; node?: string; sequence?: number; timestamp?: string };
    try {
      entry = JSON.parse(text);
    } catch {
      return;
    }
    if (entry.message !== 'batch applied' || typeof entry.sequence !== 'number' || entry.node === undefined) return;
    const steps = this.reached.get(entry.node);
    const at = Date.parse(entry.timestamp ?? '');
    if (!steps || Number.isNaN(at)) return;
    const lastStep = steps[steps.length - 1];
    if (lastStep !== undefined && lastStep.sequence >= entry.sequence) return;
    steps.push({ sequence: entry.sequence, at });
    this.lastLineAt = Date.now();
    for (const waiter of [...this.waiters]) waiter();
  }

  /** Epoch milliseconds at which the last node reached `sequence`, or undefined if one has not yet. */
  private appliedAt(sequence: number): number | undefined {
    let latest = 0;
    for (const node of this.nodes) {
      const step = this.reached.get(node)?.find((candidate) => candidate.sequence >= sequence);
      if (step === undefined) return undefined;
      latest = Math.max(latest, step.at);
    }
    return latest;
  }

  /** Resolves with the epoch milliseconds at which every node had applied `sequence`. */
  async applied(sequence: number, deadlineMs: number): Promise<number> {
    const known = this.appliedAt(sequence);
    if (known !== undefined) return known;
    const deadline = Date.now() + deadlineMs;
    const fromLog = new Promise<number | undefined>((resolve) => {
      const check = () => {
        const at = this.appliedAt(sequence);
        if (at === undefined) return;
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(at);
      };
      // Gives up on the lines only after `quietMs` without one (a change set's applies can take
      // far longer than that, logging all along).
      let timer: NodeJS.Timeout;
      const arm = (): void => {
        timer = setTimeout(() => {
          if (Date.now() - this.lastLineAt < this.quietMs && Date.now() < deadline) return arm();
          this.waiters.delete(check);
          resolve(undefined);
        }, this.quietMs);
      };
      arm();
      this.waiters.add(check);
    });
    const at = await fromLog;
    if (at !== undefined) return at;
    while (Date.now() < deadline) {
      const logged = this.appliedAt(sequence);
      if (logged !== undefined) return logged;
      if ((await this.readCursors()).every((cursor) => cursor >= sequence)) {
        this.fallbacks += 1;
        return Date.now();
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`sequence ${sequence} not applied on every node within ${deadlineMs} ms`);
  }
}

/** Now, as epoch milliseconds with sub-millisecond precision (comparable with log timestamps). */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
