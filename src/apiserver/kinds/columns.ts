/**
 * Column builders and cell formatters shared by the kinds' Table output, following upstream's
 * printers (`pkg/printers/internalversion/printers.go`): `<none>` for empty lists and
 * selectors, comma-joined container names and images, sorted `k=v` label lists.
 */
import type { KubeObject, PrinterColumn } from '../resource.ts';
import { labelSelectorFromObject } from '../selectors/index.ts';
import { since } from './age.ts';
import { arrayOf, isObject, objectsOf, str, stringMap } from './checks.ts';

type Cell = ReturnType<PrinterColumn['cell']>;

/** A column shown by default. */
export function column(
  name: string,
  type: PrinterColumn['type'],
  description: string,
  cell: (object: KubeObject, now: Date) => Cell,
): PrinterColumn {
  return { name, type, description, priority: 0, cell: guarded(cell) };
}

/** A column shown only with `-o wide`. */
export function wideColumn(
  name: string,
  type: PrinterColumn['type'],
  description: string,
  cell: (object: KubeObject, now: Date) => Cell,
): PrinterColumn {
  return { name, type, description, priority: 1, cell: guarded(cell) };
}

/**
 * Cells read stored objects without a schema check of every field; one object with a field of
 * the wrong shape reads `<unknown>` in that cell instead of failing the whole table.
 */
function guarded(cell: (object: KubeObject, now: Date) => Cell): (object: KubeObject, now: Date) => Cell {
  return (object, now) => {
    try {
      return cell(object, now);
    } catch {
      return '<unknown>';
    }
  };
}

/** The AGE column every built-in kind has: time since `metadata.creationTimestamp`. */
export const ageColumn: PrinterColumn = column(
  'Age',
  'string',
  'Time since the object was created (metadata.creationTimestamp).',
  (o, now) => since(o.metadata?.creationTimestamp, now),
);

/**
 * The column of kinds without a printer of their own (upstream's default table convertor):
 * `Created At`, the creation timestamp itself.
 */
export const createdAtColumn: PrinterColumn = column(
  'Created At',
  'date',
  'When the object was created (metadata.creationTimestamp).',
  (o) => o.metadata?.creationTimestamp ?? null,
);

/** Reads a nested field: `get(o, 'spec', 'template', 'spec')`; undefined on any gap. */
export function get(value: unknown, ...path: string[]): unknown {
  let current = value;
  for (const step of path) {
    if (!isObject(current)) return undefined;
    current = current[step];
  }
  return current;
}

/** A numeric cell from a nested field, 0 when absent (Go's zero value). */
export function int(value: unknown, ...path: string[]): number {
  const v = get(value, ...path);
  return typeof v === 'number' ? v : 0;
}

/** Container names and images of a pod spec, comma-joined (the wide CONTAINERS/IMAGES cells). */
function containerCells(podSpec: unknown): { names: string; images: string } {
  const containers = objectsOf(get(podSpec, 'containers')).map(([, c]) => c);
  return {
    names: containers.map((c) => str(c.name)).join(','),
    images: containers.map((c) => str(c.image)).join(','),
  };
}

/** CONTAINERS and IMAGES wide columns reading the pod spec found at `path`. */
export function containerColumns(...path: string[]): PrinterColumn[] {
  return [
    wideColumn('Containers', 'string', 'Names of each container in the template.', (o) => containerCells(get(o, ...path)).names),
    wideColumn('Images', 'string', 'Images referenced by each container in the template.', (o) => containerCells(get(o, ...path)).images),
  ];
}

/** Upstream's `labels.FormatLabels`: sorted `k=v` pairs, `<none>` when empty. */
export function formatLabels(labels: unknown): string {
  const entries = Object.entries(stringMap(labels)).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (entries.length === 0) return '<none>';
  return entries.map(([k, v]) => `${k}=${v}`).join(',');
}

/**
 * Upstream's `metav1.FormatLabelSelector`: the canonical selector string, `<none>` for an
 * absent or empty selector, `<error>` for one that does not compile.
 */
export function formatLabelSelector(selector: unknown): string {
  try {
    const text = labelSelectorFromObject(selector as Parameters<typeof labelSelectorFromObject>[0]).toString();
    return text === '' ? '<none>' : text;
  } catch {
    return '<error>';
  }
}

/** A SELECTOR wide column for the structured selector at `path`. */
export function selectorColumn(...path: string[]): PrinterColumn {
  return wideColumn('Selector', 'string', 'Label query over the pods the object manages.', (o) => formatLabelSelector(get(o, ...path)));
}

/**
 * Upstream's "first three, then `+ N more...`" list formatting; `empty` is what an empty list
 * reads.
 */
export function listWithMore(items: string[], total: number, empty: string): string {
  const shown = items.slice(0, 3).join(',');
  if (total > 3) return `${shown} + ${total - 3} more...`;
  return shown === '' ? empty : shown;
}

/** Number of keys of a map field (the DATA cells of ConfigMaps and Secrets). */
export function countKeys(value: unknown): number {
  return isObject(value) ? Object.keys(value).length : 0;
}

/** Length of a list field. */
export function countItems(value: unknown): number {
  return arrayOf(value).length;
}
