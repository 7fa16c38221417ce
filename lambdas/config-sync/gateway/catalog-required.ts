/**
 * Members GeoServer's catalog requires of an object, which a write through the gateway may leave
 * out: a namespace's `uri` (CatalogImpl.validate(NamespaceInfo): "Namespace uri must not be null")
 * and a style's `filename` (CatalogImpl.validate(StyleInfo): "Style fileName must not be null"),
 * either absent or blank. RestControllerAdvice answers that with 500, as if the master had failed.
 * A POST of the object's representation creates it from the body alone, so it needs the member
 * there; a PUT copies only what the body gives (CatalogBuilder.updateNamespace and updateStyle
 * skip what is absent or null), so it keeps the member unless it gives a blank one. The gateway
 * refuses those writes itself, with 400 naming the member, before anything reaches the master.
 * A style's file uploaded in one step (not its info, the first of the two steps) needs no
 * filename: GeoServer names the file after the style.
 */
import { namesOneStyleFile, type ObjectType } from '../events';
import { isJsonObject, type JsonObject, type JsonValue } from '../merge-patch';
import { groupEntryName, layerGroupEntries, statedGroupStyleCount, withStylePerEntry } from '../representations';
import type { ManagedPath } from './rest-paths';

/** What a request's body gives of one member (gateway.ts `bodyMember`, `groupBodyMember`). */
type BodyMember = (member: string) => { readonly present: boolean; readonly value?: unknown };

/** The entries a body's `publishables` lists, or undefined where it states no `published`. */
function statedEntries(publishables: unknown): JsonValue[] | undefined {
  if (!isJsonObject(publishables as JsonValue) || !('published' in (publishables as JsonObject))) return undefined;
  return layerGroupEntries({ publishables: publishables as JsonObject });
}

interface RequiredMember {
  readonly type: ObjectType;
  readonly member: string;
  /** Only a body that is the object's representation (JSON or XML) must carry it. */
  readonly representationOnly: boolean;
  /** Why a POST without it is refused. */
  readonly create: string;
  /** Why a PUT blanking it is refused. */
  readonly update: string;
}

const REQUIRED: readonly RequiredMember[] = [
  {
    type: 'namespace',
    member: 'uri',
    representationOnly: false,
    create: 'a namespace is created with its URI, and this body gives none (GeoServer refuses it: "Namespace uri must not be null"); add a uri, e.g. "http://example.com/<prefix>"',
    update: 'a blank uri would leave the namespace without one (GeoServer refuses it: "Namespace uri must not be null"); leave uri out to keep the current one, or give a new one',
  },
  {
    type: 'style',
    member: 'filename',
    representationOnly: true,
    create:
      'a style\'s info is created with its file name, and this body gives none (GeoServer refuses it: "Style fileName must not be null"); add a filename, e.g. "<name>.sld", or upload the style file in one step with ?name=',
    update: 'a blank filename would leave the style without one (GeoServer refuses it: "Style fileName must not be null"); leave filename out to keep the current one, or give a new one',
  },
];

/**
 * The member the write would leave its object without, and why; undefined when it leaves none
 * (or writes no such object). `representation`: whether the body is the object's representation;
 * `bodyMember`: what the body gives of a member.
 */
export function requiredMemberProblem(
  target: ManagedPath,
  method: string,
  representation: boolean,
  bodyMember: BodyMember,
): { readonly member: string; readonly problem: string } | undefined {
  const required = REQUIRED.find((candidate) => candidate.type === target.type);
  if (required === undefined || (required.representationOnly && !representation)) return undefined;
  const creates = method === 'POST' && target.id === undefined;
  const updates = method === 'PUT' && target.id !== undefined;
  if (!creates && !updates) return undefined;
  const given = bodyMember(required.member);
  if (required.type === 'style') {
    const problem = styleFilenameProblem(given);
    if (problem !== undefined) return { member: required.member, problem };
  }
  const blank = typeof given.value === 'string' && given.value.trim() === '';
  if (creates && (!given.present || given.value === null || given.value === undefined || blank)) return { member: required.member, problem: required.create };
  if (updates && blank) return { member: required.member, problem: required.update };
  return undefined;
}

/**
 * A style's filename that GeoServer would refuse, or that the cluster could not replicate, as a
 * body gives it. GeoServer reads a JSON body through Jettison and XStream, which hand the field the
 * text of its element: a JSON `null` has none, nor an object without a `"$"` member, so the field
 * becomes "" (not null: CatalogBuilder.updateStyle copies it) and the catalog refuses the style
 * ("Style fileName must not be null"), on a PUT as on a POST. Any other value that is not a string
 * (a number, `{"$": ...}`, a list) becomes text the gateway never checked, as for a name
 * (gateway.ts, jsonNameNotString): refused too, so that what the master stores is always what the
 * body states. A file name that is not one file of the styles folder (`../x.sld`, `/x.sld`,
 * `sub/x.sld`) is one no event may carry (representations.ts): GeoServer takes the info, then
 * reaches the document through its resource store, which refuses a `..` path and files any other
 * outside the style's own name, so only the master would hold it.
 */
function styleFilenameProblem(given: { readonly present: boolean; readonly value?: unknown }): string | undefined {
  if (!given.present) return undefined;
  const { value } = given;
  if (value === null) {
    return 'GeoServer reads a null filename as an empty one and refuses the style ("Style fileName must not be null"); leave filename out to keep the current one, or give a file name as a string, e.g. "<name>.sld"';
  }
  if (typeof value !== 'string') {
    const shown = JSON.stringify(value) ?? String(value);
    return `the filename is not a JSON string (${shown.length > 80 ? `${shown.slice(0, 80)}...` : shown}): GeoServer's JSON reader would take the text inside it (none at all in an object without "$", which it refuses: "Style fileName must not be null"), which the cluster does not check; give a file name as a string, e.g. "<name>.sld"`;
  }
  if (!namesOneStyleFile(value)) {
    return `the filename ${JSON.stringify(value)} is not one file of the styles folder: GeoServer's resource store refuses a ".." path and files any other outside the style's own name, which the cluster cannot replicate; give a file name without "/" or "\\", e.g. "<name>.sld"`;
  }
  return undefined;
}

/**
 * Members whose JSON `null` GeoServer does not ignore. Its JSON reader (Jettison, then XStream)
 * gives a null an element without text, which a text member reads as "" and a boolean as false;
 * neither is a Java null, so the PUT's copy (OwsUtils.copy) stores it: a null namespace `prefix`
 * or `uri` is refused by the catalog ("Namespace uri must not be null", a 500 that reads as the
 * master's own failure), a null `isolated` turns the isolation off rather than keeping it (on a
 * POST, false is the default a body leaving it out gets, so it passes there), and a null style
 * `format` would leave the master a style no event may carry (representations.ts).
 * A style's `filename` is checked above; a name by the gateway's name checks (gateway.ts).
 */
const NULL_NOT_IGNORED: Partial<Record<ObjectType, readonly string[]>> = {
  workspace: ['isolated'],
  namespace: ['prefix', 'uri', 'isolated'],
  style: ['format'],
};

/** The first member the body gives as JSON null that GeoServer would not ignore, and why; undefined when none. */
export function nullMemberProblem(
  target: ManagedPath,
  method: string,
  bodyMember: BodyMember,
): { readonly member: string; readonly problem: string } | undefined {
  if (method !== 'POST' && method !== 'PUT') return undefined;
  for (const member of NULL_NOT_IGNORED[target.type] ?? []) {
    // A workspace or namespace being created has no isolation to keep: its false is the default.
    if (member === 'isolated' && method === 'POST') continue;
    const given = bodyMember(member);
    if (!given.present || given.value !== null) continue;
    const read = member === 'isolated' ? 'false, turning the isolation off' : 'an empty value, which the catalog refuses or the cluster cannot replicate';
    return {
      member,
      problem: `GeoServer reads a JSON null ${member} as ${read}, not as "left out"; leave ${member} out to keep the current value, or give one`,
    };
  }
  return undefined;
}

/**
 * A layer group body whose `styles` and `publishables` both say how many they hold, and disagree:
 * CatalogImpl.validate(LayerGroupInfo) refuses a group stating styles other than one per entry
 * ("Layer group has different number of styles than layers"), or reads past the styles for an
 * entry it cannot resolve; either way a 500. A body without styles (or an empty list) passes: a
 * POST gives each entry a null style. The styles and entries are counted as the publish check
 * counts them (statedGroupStyleCount, layerGroupEntries, as GeoServer's reader does: a single null
 * or "" is one null style, or one entry naming nothing).
 */
export function layerGroupStylesProblem(
  target: ManagedPath,
  method: string,
  bodyMember: BodyMember,
): string | undefined {
  if (target.type !== 'layerGroup' || (method !== 'POST' && method !== 'PUT')) return undefined;
  const entries = statedEntries(bodyMember('publishables').value)?.length;
  if (entries === undefined) return undefined;
  const styles = statedGroupStyleCount(bodyMember('styles').value);
  if (styles === 0 || styles === entries) return undefined;
  return `the body states ${styles} style${styles === 1 ? '' : 's'} for ${entries} entr${entries === 1 ? 'y' : 'ies'} in publishables: GeoServer refuses a layer group whose styles are not one per entry ("Layer group has different number of styles than layers"); give one style per entry, in the same order (an empty {} for the layer's default style), or leave styles out`;
}

/**
 * A layer group PUT stating its entries but no styles, whose number of entries differs from the
 * styles the group holds: GeoServer's copy keeps the styles it holds (one per entry it had, the
 * null ones included: CatalogImpl.add gives a group without styles a null one per entry), and
 * its catalog then refuses the group ("Layer group has different number of styles than layers",
 * a 500). The copy is CatalogBuilder.updateLayerGroup's OwsUtils.copy, which skips a null, and
 * the body's group states none: XStreamPersister builds it without its constructor, so styles the
 * body leaves out stay null. `held` is the group as the cluster holds it (the master's
 * read-back); undefined when the gateway has none to judge by.
 */
export function layerGroupEntriesWithoutStylesProblem(
  target: ManagedPath,
  method: string,
  bodyMember: BodyMember,
  held: JsonObject | undefined,
): string | undefined {
  if (target.type !== 'layerGroup' || method !== 'PUT' || held === undefined) return undefined;
  const styles = bodyMember('styles');
  const entries = statedEntries(bodyMember('publishables').value)?.length;
  if ((styles.present && styles.value !== null) || entries === undefined) return undefined;
  const kept = statedGroupStyleCount(withStylePerEntry(held).styles);
  if (kept === 0 || kept === entries) return undefined;
  return `the body states ${entries} entr${entries === 1 ? 'y' : 'ies'} in publishables and no styles, so GeoServer keeps the ${kept} style${kept === 1 ? '' : 's'} the group holds and refuses it ("Layer group has different number of styles than layers"); state the styles too, one per entry in the same order ("null" or {} for the layer's default style)`;
}

/**
 * A layer group POST or PUT whose `publishables` states no entry, or an entry naming nothing
 * (layerGroupEntries, groupEntryName; `publishables` null or "" states none, as GeoServer's reader
 * makes an empty list of it). GeoServer's REST controller refuses a POST without entries itself
 * ("layer group must not be empty", 400), but a PUT's copy empties the group's list and its
 * catalog refuses the save with a 500; an entry naming nothing is a null entry its catalog drops
 * (with its null style: the group is stored without it) or fails on (a 500). The body is refused
 * before it reaches the master instead. A body leaving `publishables` out keeps the entries held.
 */
export function layerGroupEntriesProblem(
  target: ManagedPath,
  method: string,
  bodyMember: BodyMember,
): { readonly member: string; readonly problem: string } | undefined {
  if (target.type !== 'layerGroup' || (method !== 'POST' && method !== 'PUT')) return undefined;
  const publishables = bodyMember('publishables');
  if (!publishables.present) return undefined;
  const entries = isJsonObject(publishables.value as JsonObject) ? layerGroupEntries({ publishables: publishables.value as JsonObject }) : [];
  if (entries.length === 0) {
    return {
      member: 'publishables',
      problem: `the body states no entries in publishables (${JSON.stringify(publishables.value)}): GeoServer refuses a layer group holding no layer or layer group ("layer group must not be empty"); list at least one in publishables.published, or leave publishables out to keep the entries the group holds`,
    };
  }
  const empty = entries.findIndex((entry) => groupEntryName(entry as JsonValue) === undefined);
  if (empty < 0) return undefined;
  return {
    member: 'publishables',
    problem: `entry ${empty + 1} of ${entries.length} in publishables (${JSON.stringify(entries[empty])}) names no layer or layer group: GeoServer reads it as an empty entry, which it drops or refuses the group for; name one ({"@type": "layer", "name": "<workspace:name>"}) or leave the entry out`,
  };
}

/**
 * A layer group PUT whose `styles` states none: `{"style": []}`, `{}` or "" (in XML `<styles/>`).
 * GeoServer's reader makes an empty list of each (there is no `<style>` element to add), not the
 * null a body leaving styles out gives, and the PUT's copy (OwsUtils.copy: a non-null collection
 * replaces the held one's content) empties the group's style list; catalog.save accepts a group
 * without styles. Unlike a POST (CatalogImpl.add gives each entry a null style), nothing fills the
 * list again: the master would hold entries without the style each is drawn with, where every other
 * node holds one per entry (the apply writes one per entry). Refused instead, naming the forms that
 * do what was likely meant. A JSON null `styles` is left to layerGroupEntriesWithoutStylesProblem.
 */
export function layerGroupNoStylesProblem(
  target: ManagedPath,
  method: string,
  bodyMember: BodyMember,
): string | undefined {
  if (target.type !== 'layerGroup' || method !== 'PUT') return undefined;
  const styles = bodyMember('styles');
  if (!styles.present || styles.value === null || statedGroupStyleCount(styles.value) > 0) return undefined;
  return `the body's styles (${JSON.stringify(styles.value)}) states no style: GeoServer's PUT replaces the group's styles with an empty list, leaving its entries without the style each is drawn with (unlike the other nodes, which hold one per entry); give one style per entry in the same order ("null" or {} for an entry's default style), or leave styles out to keep the ones the group holds`;
}
