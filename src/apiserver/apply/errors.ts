/**
 * The errors of server-side apply. They are {@link StatusError}s already, worded and coded as
 * upstream answers them, so the API edge turns them into `Status` bodies like any other.
 */
import { StatusError } from '../errors.ts';
import { describeManager, type ManagerFields } from './managed-fields.ts';
import { pathString, type Path } from './path-element.ts';

/** One field another manager owns and an apply would change. */
export interface Conflict {
  readonly manager: Pick<ManagerFields, 'manager' | 'operation' | 'apiVersion' | 'subresource'>;
  readonly path: Path;
}

/**
 * 409 Conflict: an apply without `force` would change fields other managers own. Each conflict
 * is a `FieldManagerConflict` cause (`conflict with "kubectl-client-side-apply" using apps/v1`,
 * field `.spec.replicas`); the message is upstream's, which kubectl prints as it is.
 */
export class ApplyConflictError extends StatusError {
  override name = 'ApplyConflictError';
  readonly conflicts: readonly Conflict[];
  constructor(conflicts: readonly Conflict[]) {
    super(409, 'Conflict', conflictMessage(conflicts), {
      causes: conflicts.map((c) => ({
        reason: 'FieldManagerConflict',
        message: `conflict with ${describeManager(c.manager)}`,
        field: pathString(c.path),
      })),
    });
    this.conflicts = conflicts;
  }
}

function conflictMessage(conflicts: readonly Conflict[]): string {
  if (conflicts.length === 1) {
    const [c] = conflicts as [Conflict];
    return `Apply failed with 1 conflict: conflict with ${describeManager(c.manager)}: ${pathString(c.path)}`;
  }
  const byManager = new Map<string, string[]>();
  for (const c of conflicts) {
    const name = describeManager(c.manager);
    byManager.set(name, [...(byManager.get(name) ?? []), pathString(c.path)]);
  }
  const lines: string[] = [];
  for (const [name, paths] of byManager) {
    lines.push(`conflicts with ${name}:`);
    for (const path of paths) lines.push(`- ${path}`);
  }
  return `Apply failed with ${conflicts.length} conflicts: ${lines.join('\n')}`;
}

/**
 * An object that does not fit its kind's list semantics (an element without its key, duplicate
 * keys in the applied configuration). Upstream answers this with a bare 500; Skiff answers the
 * applied configuration's faults as the client's (422 Invalid, naming the field) and keeps 500
 * only for a stored object that no longer fits, which is the server's own fault. The message
 * is upstream's: `failed to create typed patch object (default/web; apps/v1, Kind=Deployment): …`.
 */
export function typedObjectError(what: 'patch' | 'live', object: string, detail: string): StatusError {
  const message = `failed to create typed ${what} object (${object}): ${detail}`;
  if (what === 'live') return new StatusError(500, 'InternalError', message);
  const field = /^(\.[^:]*):/.exec(detail)?.[1]?.slice(1);
  return new StatusError(422, 'Invalid', message, {
    causes: [{ reason: 'FieldValueInvalid', message: detail, ...(field ? { field } : {}) }],
  });
}
