/**
 * The layers and layer groups that name a style: what a style rename through the gateway must
 * publish besides the style itself.
 *
 * GeoServer's catalog holds a layer's `defaultStyle` and `styles`, and a layer group's `styles`
 * and `rootLayerStyle`, as references to the style object (by its id: XStreamPersister registers
 * them as `ReferenceConverter(StyleInfo.class)`), and a rename changes that object in place
 * (StyleController.stylePut: `CatalogBuilder.updateStyle(original, info)`, then
 * `catalog.save(original)`). So after a rename the master answers every such layer and group
 * with the new name, while every other node still holds the old one, and its GeoServer refuses
 * to remove a style a layer or group still names (StyleController.styleDelete, 403;
 * CatalogImpl.remove(StyleInfo), for groups).
 *
 * They are found in the master's store: it holds what the cluster holds (every published
 * change, as the master's GeoServer answered it), which is what the other nodes hold, and so
 * exactly the references that must move there.
 */
import type { ObjectType } from '../events';
import { isJsonObject, type JsonObject, type JsonValue } from '../merge-patch';
import type { NodeStore } from '../ports';
import { statedGroupStyles } from '../representations';
import { catalogInStore } from './master-catalog';

/** An object that names a style, as the master's store holds it. */
export interface StyleUser {
  readonly type: 'layer' | 'layerGroup';
  readonly id: string;
  readonly properties: JsonObject;
  /** The sequence of its last event the store applied. */
  readonly lastSequence: number;
}

/** Finds the layers and layer groups that name a style. */
export interface StyleUsers {
  /** Those whose state names the style `styleId` (`name`, or `workspace:name` for a workspace style). */
  of(styleId: string): Promise<StyleUser[]>;
}

/** The style users in `node`'s store: its live layers and layer groups. */
export function styleUsersInStore(store: NodeStore, node: string): StyleUsers {
  const catalog = catalogInStore(store, node);
  return {
    async of(styleId) {
      const users: StyleUser[] = [];
      for (const type of ['layer', 'layerGroup'] as const) {
        for (const object of await catalog.list(type)) {
          if (namesStyle(type, object.properties, styleId)) users.push({ type, id: object.id, properties: object.properties, lastSequence: object.lastSequence });
        }
      }
      return users;
    },
  };
}

/**
 * Whether a layer (`defaultStyle`, `styles.style[]`) or a layer group (`styles.style[]`,
 * `rootLayerStyle`) names the style. A workspace style is named `workspace:name`, or by its
 * local name with the reference's `workspace`.
 */
export function namesStyle(type: ObjectType, properties: JsonObject, styleId: string): boolean {
  const references: JsonValue[] = [...statedGroupStyles(properties.styles)];
  if (type === 'layer') references.push(properties.defaultStyle ?? null);
  else if (type === 'layerGroup') references.push(properties.rootLayerStyle ?? null);
  else return false;
  return references.some((reference) => isReferenceTo(reference, styleId));
}

function isReferenceTo(reference: JsonValue, styleId: string): boolean {
  if (!isJsonObject(reference) || typeof reference.name !== 'string') return false;
  if (reference.name === styleId) return true;
  const separator = styleId.indexOf(':');
  if (separator < 0 || reference.name !== styleId.slice(separator + 1)) return false;
  const workspace = reference.workspace;
  const workspaceName = isJsonObject(workspace) ? workspace.name : workspace;
  return workspaceName === styleId.slice(0, separator);
}

/** The REST path of a style user on the master (`/layers/{id}`, `/[workspaces/{ws}/]layergroups/{name}`). */
export function styleUserPath(user: Pick<StyleUser, 'type' | 'id'>): string {
  if (user.type === 'layer') return `/layers/${encodeURIComponent(user.id)}`;
  const separator = user.id.indexOf(':');
  return separator < 0
    ? `/layergroups/${encodeURIComponent(user.id)}`
    : `/workspaces/${encodeURIComponent(user.id.slice(0, separator))}/layergroups/${encodeURIComponent(user.id.slice(separator + 1))}`;
}
