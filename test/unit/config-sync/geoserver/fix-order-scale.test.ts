// Reconciles and captures of large catalogs: the orders they make of their differences (fixOrder,
// and the nesting sorts of layer groups) read each difference a bounded number of times, not once
// per other difference (a job orders all its differences again in every slice).
import { fixOrder, innerGroupsFirst, outerGroupsFirst, type DriftEntry } from '../../../../lambdas/config-sync/geoserver/drift';

/** `entries`, each counting the reads of `property` into `reads`. */
function counted(entries: readonly DriftEntry[], property: 'holds' | 'kind', reads: { count: number }): DriftEntry[] {
  return entries.map((entry) => {
    const { [property]: value, ...rest } = entry as DriftEntry & { holds?: readonly string[] };
    return Object.defineProperty({ ...rest }, property, {
      enumerable: true,
      get: () => {
        reads.count += 1;
        return value;
      },
    }) as DriftEntry;
  });
}

// 2,000 layer groups of a workspace in chains of ten, each holding the next by its local name.
const GROUPS = 2000;
const groups = (kind: DriftEntry['kind']) =>
  Array.from({ length: GROUPS }, (_, i) => ({ kind, type: 'layerGroup', id: `topp:g${i}`, ...(i % 10 === 9 ? {} : { holds: [`g${i + 1}`] }) }) as DriftEntry);

test.each([
  ['innerGroupsFirst', 'missing', innerGroupsFirst],
  ['outerGroupsFirst', 'extra', outerGroupsFirst],
] as const)('%s reads what each of 2,000 groups holds a bounded number of times, and orders every chain', (_, kind, order) => {
  const reads = { count: 0 };
  const ordered = order(counted(groups(kind), 'holds', reads));
  expect(reads.count).toBeLessThanOrEqual(2 * GROUPS);
  const at = new Map(ordered.map((entry, index) => [entry.id, index] as const));
  for (let i = 0; i < GROUPS; i += 1) {
    if (i % 10 === 9) continue;
    // The inner group (g(i+1)) is added before the group holding it, and removed after it.
    const inner = at.get(`topp:g${i + 1}`)!;
    const outer = at.get(`topp:g${i}`)!;
    expect(kind === 'missing' ? inner < outer : outer < inner).toBe(true);
  }
});

test('fixOrder reads each of 20,000 differences a bounded number of times, and still puts a blocking extra before the add it blocks', () => {
  const differences: DriftEntry[] = [];
  for (let i = 0; i < 5000; i += 1) {
    differences.push({ kind: 'extra', type: i % 2 === 0 ? 'dataStore' : 'featureType', id: `topp:x${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'coverage', id: `topp:y${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'layer', id: `topp:y${i}` } as DriftEntry);
    differences.push({ kind: 'missing', type: 'coverageStore', id: `topp:s${i}` } as DriftEntry);
  }
  // One coverage store blocked by a data store of its name, one coverage by a feature type of its name.
  differences.push({ kind: 'missing', type: 'coverageStore', id: 'topp:x0' } as DriftEntry);
  differences.push({ kind: 'missing', type: 'coverage', id: 'topp:x1' } as DriftEntry);
  const reads = { count: 0 };
  const ordered = fixOrder(counted(differences, 'kind', reads));
  expect(reads.count).toBeLessThanOrEqual(20 * differences.length);
  const at = (kind: string, type: string, id: string) => ordered.findIndex((entry) => entry.kind === kind && entry.type === type && entry.id === id);
  expect(at('extra', 'dataStore', 'topp:x0')).toBeGreaterThanOrEqual(0);
  expect(at('extra', 'dataStore', 'topp:x0')).toBeLessThan(at('missing', 'coverageStore', 'topp:x0'));
  expect(at('extra', 'featureType', 'topp:x1')).toBeLessThan(at('missing', 'coverage', 'topp:x1'));
  expect(ordered.find((entry) => entry.type === 'dataStore' && entry.id === 'topp:x0')).toMatchObject({ blocking: true });
  expect(ordered.find((entry) => entry.type === 'dataStore' && entry.id === 'topp:x2')).not.toHaveProperty('blocking');
  expect(ordered).toHaveLength(differences.length + 3); // the blocking resource's layer removed, added again, its groups written back
});

