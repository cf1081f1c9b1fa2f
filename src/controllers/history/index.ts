/** ControllerRevision helpers shared by the StatefulSet and DaemonSet controllers. */
export { History, type RevisionOwner } from './history.ts';
export {
  canonicalJson,
  equalRevision,
  hashRevisionData,
  nextRevision,
  podRevisionLabel,
  podTemplateHash,
  revisionHashLabel,
  revisionName,
  sortRevisions,
  templateOf,
  templatePatch,
} from './revision.ts';
