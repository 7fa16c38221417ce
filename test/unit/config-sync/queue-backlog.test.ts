import { QueueBacklog } from '../../../lambdas/config-sync/queue-backlog';

const sentAt = (time: number) => ({ attributes: { SentTimestamp: String(time) } });

describe('whether a delivery shows the node behind its queue', () => {
  it('counts the first batch of an instance as a backlog: nothing is known of the queue yet', () => {
    expect(new QueueBacklog().shownBy([sentAt(1_000)])).toBe(true);
  });

  it('sees none in one message sent after the previous batch ended', () => {
    const backlog = new QueueBacklog();
    backlog.batchEnded(1_000);
    expect(backlog.shownBy([sentAt(1_001)])).toBe(false);
  });

  it('sees one in a message the queue held while the previous batch ran, or at its end', () => {
    const backlog = new QueueBacklog();
    backlog.batchEnded(1_000);
    expect(backlog.shownBy([sentAt(990)])).toBe(true);
    expect(backlog.shownBy([sentAt(1_000)])).toBe(true);
  });

  it('sees one in a batch of several messages, however recent', () => {
    const backlog = new QueueBacklog();
    backlog.batchEnded(1_000);
    expect(backlog.shownBy([sentAt(2_000), sentAt(2_001)])).toBe(true);
  });

  it('counts a message without a usable SentTimestamp as a backlog', () => {
    const backlog = new QueueBacklog();
    backlog.batchEnded(1_000);
    expect(backlog.shownBy([{}])).toBe(true);
    expect(backlog.shownBy([{ attributes: { SentTimestamp: 'soon' } }])).toBe(true);
  });

  it('measures from the latest batch end', () => {
    const backlog = new QueueBacklog();
    backlog.batchEnded(1_000);
    backlog.batchEnded(3_000);
    expect(backlog.shownBy([sentAt(2_000)])).toBe(true);
    expect(backlog.shownBy([sentAt(3_500)])).toBe(false);
  });

  it('has nothing to read ahead of in an empty batch', () => {
    expect(new QueueBacklog().shownBy([])).toBe(false);
  });
});
