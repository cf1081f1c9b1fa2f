/**
 * Server-side printing: objects as a `meta.k8s.io` Table, the form `kubectl get` asks for.
 * The first column is always the name; the others come from the kind's printer columns.
 */
import type { KubeObject, PrinterColumn, ResourceDef } from './resource.ts';

/** What each row carries besides its cells (`includeObject`). */
export type IncludeObject = 'None' | 'Metadata' | 'Object';

const NAME_COLUMN: PrinterColumn = {
  name: 'Name',
  type: 'string',
  format: 'name',
  description:
    'Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names',
  priority: 0,
  cell: (object) => object.metadata?.name ?? '',
};

/** Table options from the query string. */
export interface TableOptions {
  includeObject: IncludeObject;
  /** Omit column definitions (watch events after the first). */
  noHeaders: boolean;
  /** `meta.k8s.io` version the client asked for. */
  version: 'v1' | 'v1beta1';
  now: Date;
}

/** Builds a Table of the given objects; `listMeta` becomes the Table's metadata. */
export function toTable(
  def: ResourceDef,
  objects: readonly KubeObject[],
  listMeta: Record<string, unknown>,
  options: TableOptions,
): Record<string, unknown> {
  const columns = [NAME_COLUMN, ...def.printerColumns];
  const table: Record<string, unknown> = {
    kind: 'Table',
    apiVersion: `meta.k8s.io/${options.version}`,
    metadata: listMeta,
  };
  if (!options.noHeaders) {
    table.columnDefinitions = columns.map((c) => ({
      name: c.name,
      type: c.type,
      format: c.format ?? '',
      description: c.description,
      priority: c.priority,
    }));
  }
  table.rows = objects.map((object) => {
    const row: Record<string, unknown> = { cells: columns.map((c) => safeCell(c, object, options.now)) };
    if (options.includeObject === 'Object') row.object = object;
    else if (options.includeObject === 'Metadata') row.object = partialMetadata(object, options.version);
    return row;
  });
  return table;
}

/** An object reduced to its metadata, as `PartialObjectMetadata`. */
export function partialMetadata(object: KubeObject, version: 'v1' | 'v1beta1' = 'v1'): Record<string, unknown> {
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: object.metadata };
}

// A printer that trips over an odd object must not fail the whole listing.
function safeCell(column: PrinterColumn, object: KubeObject, now: Date): unknown {
  try {
    return column.cell(object, now);
  } catch {
    return '<unknown>';
  }
}
