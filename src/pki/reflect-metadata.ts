/**
 * The part of the `reflect-metadata` API that `tsyringe`, a dependency of `@peculiar/x509`, checks
 * for when it loads (it throws without one) and calls: `defineMetadata`, `getOwnMetadata` and
 * `getMetadata`. Installed only when no real polyfill is present. Import this module before
 * `@peculiar/x509`; it exports nothing.
 */

type Key = string | symbol | undefined;

const store = new WeakMap<object, Map<Key, Map<unknown, unknown>>>();

function getOwnMetadata(metadataKey: unknown, target: object, propertyKey?: Key): unknown {
  return store.get(target)?.get(propertyKey)?.get(metadataKey);
}

function getMetadata(metadataKey: unknown, target: object, propertyKey?: Key): unknown {
  // Like the real polyfill, an undefined own value falls back to the prototype chain.
  for (let at: object | null = target; at !== null; at = Object.getPrototypeOf(at)) {
    const value = getOwnMetadata(metadataKey, at, propertyKey);
    if (value !== undefined) return value;
  }
  return undefined;
}

function defineMetadata(metadataKey: unknown, value: unknown, target: object, propertyKey?: Key) {
  let byProperty = store.get(target);
  if (byProperty === undefined) store.set(target, (byProperty = new Map()));
  let values = byProperty.get(propertyKey);
  if (values === undefined) byProperty.set(propertyKey, (values = new Map()));
  values.set(metadataKey, value);
}

if (!('getMetadata' in Reflect)) {
  Object.assign(Reflect, { getMetadata, getOwnMetadata, defineMetadata });
}
