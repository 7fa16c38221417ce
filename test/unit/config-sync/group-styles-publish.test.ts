/**
 * A layer group patch stating its entries (or its styles) alone, published through
 * `POST /config/events`, judged against the group the publishing master's store holds: one that
 * leaves styles not one per entry, which every node's GeoServer would refuse, is answered 400
 * naming the field, with nothing stored; the store is read only for such patches.
 */
import { InvalidConfigEventError } from '../../../lambdas/config-sync/errors';
import type { JsonObject } from '../../../lambdas/config-sync/merge-patch';
import { catchUp } from '../../../lambdas/config-sync/apply';
import { publishIdempotently, type PublishContext } from '../../../lambdas/config-sync/publish';
import { add, CLUSTER, harness, modify, remove } from './fixtures';

const MASTER: PublishContext = { cluster: CLUSTER, node: { name: 'master-1', role: 'master' } };

const layer = (name: string) => ({ '@type': 'layer', name: `topp:${name}` });
const entries = (...names: string[]): JsonObject => ({ publishables: { published: names.map(layer) } });
const styled = { ...entries('roads', 'rivers'), styles: { style: ['null', { name: 'line' }] } };

async function refusal(h: ReturnType<typeof harness>, body: unknown): Promise<InvalidConfigEventError> {
  const head = await h.log.head(CLUSTER);
  const published = h.topic.published.length;
  const error = await publishIdempotently(h.deps, MASTER, body).then(
    () => undefined,
    (failure: unknown) => failure,
  );
  expect(error).toBeInstanceOf(InvalidConfigEventError);
  // Nothing stored, nothing sent.
  expect(await h.log.head(CLUSTER)).toBe(head);
  expect(h.topic.published.length).toBe(published);
  return error as InvalidConfigEventError;
}

describe('a layer group patch judged against the group the master holds', () => {
  it('refuses entries stated alone in another number than the styles the group holds, naming both counts', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    const error = await refusal(h, modify('layerGroup', 'topp:base', entries('roads', 'rivers', 'lakes')));
    expect(error).toMatchObject({ status: 400, field: 'patch.publishables.published' });
    expect(error.message).toContain('states 3 entries and no styles, so the group keeps the 2 styles it holds');
    // The group is as it was.
    expect(h.store.allObjects('master-1').find((object) => object.id === 'topp:base')?.properties).toEqual(styled);
  });

  it('refuses styles stated alone in another number than the entries the group holds', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    const error = await refusal(h, modify('layerGroup', 'topp:base', { styles: { style: ['null', 'null', 'null'] } }));
    expect(error).toMatchObject({ status: 400, field: 'patch.styles.style' });
    expect(error.message).toContain('states 3 styles for the 2 entries the group holds');
  });

  it('accepts the entries with their styles, with the styles removed, or on a group holding no styles', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:plain', entries('roads', 'rivers')));
    const accepted = [
      modify('layerGroup', 'topp:base', { ...entries('roads', 'rivers', 'lakes'), styles: { style: ['null', 'null', 'null'] } }),
      modify('layerGroup', 'topp:base', { ...entries('roads'), styles: null }),
      modify('layerGroup', 'topp:plain', entries('roads', 'rivers', 'lakes')),
      // Entries alone in the number of styles held.
      modify('layerGroup', 'topp:plain', entries('lakes', 'roads', 'rivers')),
    ];
    for (const change of accepted) await expect(publishIdempotently(h.deps, MASTER, change)).resolves.toMatchObject({ replayed: false });
  });

  it('does not judge a group the master does not hold whole', async () => {
    const h = harness();
    // A modify of a group never added leaves the store a patch alone.
    await publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:partial', styled));
    await expect(publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:partial', entries('roads', 'rivers', 'lakes')))).resolves.toMatchObject({ replayed: false });
    await expect(publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:absent', entries('roads', 'rivers', 'lakes')))).resolves.toMatchObject({ replayed: false });
  });

  it('carries the group through the earlier changes of a change set, naming the item', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    // Re-added without styles first: its entries may then change alone.
    await expect(
      publishIdempotently(h.deps, MASTER, { changes: [remove('layerGroup', 'topp:base'), add('layerGroup', 'topp:base', entries('roads')), modify('layerGroup', 'topp:base', entries('roads', 'lakes'))] }),
    ).resolves.toMatchObject({ replayed: false });
    await publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:base', { ...entries('roads', 'rivers'), styles: { style: ['null', 'null'] } }));
    // Three styles stated with three entries, then two entries alone: the second is refused.
    const error = await refusal(h, {
      changes: [
        modify('layerGroup', 'topp:base', { ...entries('roads', 'rivers', 'lakes'), styles: { style: ['null', 'null', 'null'] } }),
        modify('layerGroup', 'topp:base', entries('roads', 'rivers')),
      ],
    });
    expect(error).toMatchObject({ status: 400, field: 'changes[1].patch.publishables.published' });
    expect(error.message).toContain('states 2 entries and no styles, so the group keeps the 3 styles it holds');
  });

  it('answers a retry of a patch it took with its first answer, whatever the group holds since', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    const restyle = modify('layerGroup', 'topp:base', { styles: { style: [{ name: 'line' }, 'null'] } });
    const idempotency = { key: 'restyle-1', bodyHash: 'hash-of-restyle' };
    const first = await publishIdempotently(h.deps, MASTER, restyle, idempotency);
    expect(first).toMatchObject({ replayed: false });
    // A third entry, with its style, after it: the patch stated alone would now be refused.
    await publishIdempotently(h.deps, MASTER, modify('layerGroup', 'topp:base', { ...entries('roads', 'rivers', 'lakes'), styles: { style: ['null', 'null', 'null'] } }));
    const head = await h.log.head(CLUSTER);
    // The client never heard the first answer and sends the request again with its key.
    const retry = await publishIdempotently(h.deps, MASTER, restyle, idempotency);
    expect(retry).toEqual({ replayed: true, answer: first.answer });
    expect(await h.log.head(CLUSTER)).toBe(head);
  });

  it('does not judge against a store that trails the log: a patch right after the change it follows is taken', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    // With the master-stores queue a pure master's store follows the log a delivery later.
    const queued = { ...h.deps, masterStoresQueued: true };
    await publishIdempotently(queued, MASTER, modify('layerGroup', 'topp:base', { ...entries('roads', 'rivers', 'lakes'), styles: { style: ['null', 'null', 'null'] } }));
    expect(h.store.allObjects('master-1').find((object) => object.id === 'topp:base')?.properties).toEqual(styled);
    // Three styles for the three entries the log holds, though the store still holds two.
    const restyle = modify('layerGroup', 'topp:base', { styles: { style: [{ name: 'line' }, 'null', 'null'] } });
    await expect(publishIdempotently(queued, MASTER, restyle)).resolves.toMatchObject({ replayed: false });
    // Once the store is up to the log again, the check judges as before.
    await catchUp(h.deps, { cluster: CLUSTER, node: 'master-1' });
    const error = await refusal(h, modify('layerGroup', 'topp:base', { styles: { style: ['null', 'null'] } }));
    expect(error.message).toContain('states 2 styles for the 3 entries the group holds');
  });

  it('reads the store only for a layer group patch stating its entries or styles', async () => {
    const h = harness();
    await publishIdempotently(h.deps, MASTER, add('layerGroup', 'topp:base', styled));
    // With the master-stores queue the request itself touches no store: every read is the check's.
    const queued = { ...h.deps, masterStoresQueued: true };
    const reads = jest.spyOn(h.store, 'readObjects');
    await publishIdempotently(queued, MASTER, add('workspace', 'topp'));
    await publishIdempotently(queued, MASTER, modify('layerGroup', 'topp:base', { title: 'Base map' }));
    await publishIdempotently(queued, MASTER, modify('layer', 'topp:roads', { enabled: false }));
    expect(reads).not.toHaveBeenCalled();
    await publishIdempotently(queued, MASTER, modify('layerGroup', 'topp:base', entries('rivers', 'roads')));
    expect(reads).toHaveBeenCalledTimes(1);
    expect(reads).toHaveBeenCalledWith('master-1', [{ type: 'layerGroup', id: 'topp:base' }]);
  });
});
