/**
 * Events, in both their API forms: core/v1 (`involvedObject`, `message`, `source`, counts and
 * timestamps) and events.k8s.io/v1 (`regarding`, `note`, `series`, `deprecated*`). Both expire
 * an hour after their last write, and both print kubectl's event table.
 */
import type { Event as CoreEvent } from 'kubernetes-types/core/v1.js';
import type { Event as EventsEvent } from 'kubernetes-types/events/v1.js';
import type { FieldError, KubeObject, PrinterColumn, ResourceDef } from '../resource.ts';
import { dns1123SubdomainErrors, invalid, qualifiedNameErrors, required } from '../validation/index.ts';
import { since } from './age.ts';
import { column, wideColumn } from './columns.ts';
import { isObject, str, type JsonObject } from './checks.ts';

/** How long an event lives after its last update. */
const EVENT_TTL_SECONDS = 3600;
const REPORTING_LIMIT = 128;
const NOTE_LIMIT = 1024;

/** Events have required fields `KubeObject` does not promise; these read them as typed. */
function coreEvent(o: KubeObject): CoreEvent {
  return o as unknown as CoreEvent;
}

function eventsEvent(o: KubeObject): EventsEvent {
  return o as unknown as EventsEvent;
}

/** The fields of an event the table needs, whichever API form it came in. */
interface EventView {
  lastSeen: string;
  firstSeen: string;
  count: number;
  type: string;
  reason: string;
  object: string;
  subobject: string;
  source: string;
  message: string;
}

function objectCell(kind: string | undefined, name: string | undefined): string {
  const k = (kind ?? '').toLowerCase();
  return name ? `${k}/${name}` : k;
}

/** `component, host` — or just the component — as upstream's `formatEventSource`. */
function sourceCell(component: string, host: string): string {
  return host ? `${component}, ${host}` : component;
}

function coreView(o: KubeObject, now: Date): EventView {
  const e = coreEvent(o);
  const firstSeen = e.firstTimestamp ? since(e.firstTimestamp, now) : since(e.eventTime, now);
  let lastSeen = e.lastTimestamp ? since(e.lastTimestamp, now) : firstSeen;
  let count = e.count ?? 0;
  if (e.series) {
    lastSeen = since(e.series.lastObservedTime, now);
    count = e.series.count ?? 0;
  } else if (count === 0) {
    // Events written through the new API carry no count: they happened once.
    count = 1;
  }
  return {
    lastSeen,
    firstSeen,
    count,
    type: e.type ?? '',
    reason: e.reason ?? '',
    object: objectCell(e.involvedObject?.kind, e.involvedObject?.name),
    subobject: e.involvedObject?.fieldPath ?? '',
    source: sourceCell(e.source?.component || e.reportingComponent || '', e.source?.host || e.reportingInstance || ''),
    message: (e.message ?? '').trim(),
  };
}

function eventsView(o: KubeObject, now: Date): EventView {
  const e = eventsEvent(o);
  const firstSeen = e.deprecatedFirstTimestamp ? since(e.deprecatedFirstTimestamp, now) : since(e.eventTime, now);
  let lastSeen = e.deprecatedLastTimestamp ? since(e.deprecatedLastTimestamp, now) : firstSeen;
  let count = e.deprecatedCount ?? 0;
  if (e.series) {
    lastSeen = since(e.series.lastObservedTime, now);
    count = e.series.count;
  } else if (count === 0) {
    count = 1;
  }
  return {
    lastSeen,
    firstSeen,
    count,
    type: e.type ?? '',
    reason: e.reason ?? '',
    object: objectCell(e.regarding?.kind, e.regarding?.name),
    subobject: e.regarding?.fieldPath ?? '',
    source: sourceCell(e.deprecatedSource?.component || e.reportingController || '', e.deprecatedSource?.host || e.reportingInstance || ''),
    message: (e.note ?? '').trim(),
  };
}

/**
 * kubectl's event columns after NAME: LAST SEEN, TYPE, REASON, OBJECT, MESSAGE, and with
 * `-o wide` SUBOBJECT, SOURCE, FIRST SEEN and COUNT. (Upstream's table puts NAME last, as a
 * wide column; here the name column comes first, as for every kind.)
 */
function eventColumns(view: (o: KubeObject, now: Date) => EventView): PrinterColumn[] {
  return [
    column('Last Seen', 'string', 'Time since the event last occurred.', (o, now) => view(o, now).lastSeen),
    column('Type', 'string', 'Normal or Warning.', (o, now) => view(o, now).type),
    column('Reason', 'string', 'Short, machine-readable cause of the event.', (o, now) => view(o, now).reason),
    column('Object', 'string', 'The object the event is about.', (o, now) => view(o, now).object),
    wideColumn('Subobject', 'string', 'The part of the object the event is about.', (o, now) => view(o, now).subobject),
    wideColumn('Source', 'string', 'The component that reported the event.', (o, now) => view(o, now).source),
    column('Message', 'string', 'Human-readable description of the event.', (o, now) => view(o, now).message),
    wideColumn('First Seen', 'string', 'Time since the event first occurred.', (o, now) => view(o, now).firstSeen),
    wideColumn('Count', 'string', 'How many times the event occurred.', (o, now) => view(o, now).count),
  ];
}

function lengthLimit(value: unknown, field: string, limit: number): FieldError[] {
  return str(value).length > limit ? [invalid(field, '', `can have at most ${limit} characters`)] : [];
}

/**
 * Checks shared by both forms for events written through the new API (those with `eventTime`):
 * reporting controller and instance, action and reason present and short.
 */
function newStyleErrors(e: JsonObject, names: { controller: string; message: string }, message: unknown): FieldError[] {
  const errors: FieldError[] = [];
  const controller = str(e[names.controller]);
  if (controller === '') errors.push(required(names.controller));
  for (const m of qualifiedNameErrors(controller)) if (controller !== '') errors.push(invalid(names.controller, controller, m));
  errors.push(...lengthLimit(controller, names.controller, REPORTING_LIMIT));
  for (const field of ['reportingInstance', 'action', 'reason']) {
    if (str(e[field]) === '') errors.push(required(field));
    errors.push(...lengthLimit(e[field], field, REPORTING_LIMIT));
  }
  errors.push(...lengthLimit(message, names.message, NOTE_LIMIT));
  return errors;
}

/** The namespace rule: events about a namespaced object live in its namespace. */
function namespaceErrors(eventNamespace: string, objectNamespace: string, newStyle: boolean, field: string): FieldError[] {
  const mismatch = newStyle
    ? objectNamespace === '' && eventNamespace !== 'default' && eventNamespace !== 'kube-system'
    : objectNamespace === ''
      ? eventNamespace !== '' && eventNamespace !== 'default'
      : eventNamespace !== objectNamespace;
  return mismatch ? [invalid(field, objectNamespace, 'does not match event.namespace')] : [];
}

function validateCoreEvent(object: KubeObject): FieldError[] {
  const e = object as JsonObject;
  const involved = isObject(e.involvedObject) ? e.involvedObject : {};
  const newStyle = str(e.eventTime) !== '';
  const namespace = object.metadata?.namespace ?? '';
  const errors = namespaceErrors(namespace, str(involved.namespace), newStyle, 'involvedObject.namespace');
  if (newStyle) errors.push(...newStyleErrors(e, { controller: 'reportingComponent', message: 'message' }, e.message));
  for (const m of dns1123SubdomainErrors(namespace)) if (namespace !== '') errors.push(invalid('metadata.namespace', namespace, m));
  return errors;
}

/** core/v1 Events: `ev`. Expire an hour after their last update. */
export const coreEventsKind: ResourceDef = {
  group: '',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: eventColumns(coreView),
  validate: validateCoreEvent,
  fieldSelectors: {
    'involvedObject.kind': (o) => coreEvent(o).involvedObject?.kind ?? '',
    'involvedObject.namespace': (o) => coreEvent(o).involvedObject?.namespace ?? '',
    'involvedObject.name': (o) => coreEvent(o).involvedObject?.name ?? '',
    'involvedObject.uid': (o) => coreEvent(o).involvedObject?.uid ?? '',
    'involvedObject.apiVersion': (o) => coreEvent(o).involvedObject?.apiVersion ?? '',
    'involvedObject.resourceVersion': (o) => coreEvent(o).involvedObject?.resourceVersion ?? '',
    'involvedObject.fieldPath': (o) => coreEvent(o).involvedObject?.fieldPath ?? '',
    reason: (o) => coreEvent(o).reason ?? '',
    reportingComponent: (o) => coreEvent(o).reportingComponent ?? '',
    // The legacy `source` selector falls back to the reporting controller for new-style events.
    source: (o) => coreEvent(o).source?.component || coreEvent(o).reportingComponent || '',
    type: (o) => coreEvent(o).type ?? '',
  },
  ttlSeconds: EVENT_TTL_SECONDS,
};

function validateEventsEvent(object: KubeObject, old: KubeObject | undefined): FieldError[] {
  const e = object as JsonObject;
  const errors: FieldError[] = [];
  const regarding = isObject(e.regarding) ? e.regarding : {};
  if (str(e.eventTime) === '') errors.push(required('eventTime'));
  if (e.type !== 'Normal' && e.type !== 'Warning') errors.push(invalid('type', '', `has invalid value: ${str(e.type)}`));
  for (const field of ['deprecatedFirstTimestamp', 'deprecatedLastTimestamp']) {
    if (!old && str(e[field]) !== '') errors.push(invalid(field, '', 'needs to be unset'));
  }
  if (!old && typeof e.deprecatedCount === 'number' && e.deprecatedCount !== 0) errors.push(invalid('deprecatedCount', '', 'needs to be unset'));
  const source = isObject(e.deprecatedSource) ? e.deprecatedSource : {};
  if (!old && (str(source.component) !== '' || str(source.host) !== '')) errors.push(invalid('deprecatedSource', '', 'needs to be unset'));
  if (isObject(e.series)) {
    if (typeof e.series.count !== 'number' || e.series.count < 2) errors.push(invalid('series.count', '', 'should be at least 2'));
    if (str(e.series.lastObservedTime) === '') errors.push(required('series.lastObservedTime'));
  }
  const namespace = object.metadata?.namespace ?? '';
  errors.push(...namespaceErrors(namespace, str(regarding.namespace), true, 'regarding.namespace'));
  errors.push(...newStyleErrors(e, { controller: 'reportingController', message: 'note' }, e.note));
  return errors;
}

/**
 * events.k8s.io/v1 Events: `ev`. Expire an hour after their last update.
 *
 * Upstream serves one event store through both APIs; here each API form has its own storage, so
 * an event written through one is not listed through the other.
 */
export const eventsEventsKind: ResourceDef = {
  group: 'events.k8s.io',
  version: 'v1',
  kind: 'Event',
  plural: 'events',
  singular: 'event',
  shortNames: ['ev'],
  categories: [],
  namespaced: true,
  subresources: {},
  generation: false,
  printerColumns: eventColumns(eventsView),
  validate: validateEventsEvent,
  fieldSelectors: {
    'regarding.kind': (o) => eventsEvent(o).regarding?.kind ?? '',
    'regarding.namespace': (o) => eventsEvent(o).regarding?.namespace ?? '',
    'regarding.name': (o) => eventsEvent(o).regarding?.name ?? '',
    'regarding.uid': (o) => eventsEvent(o).regarding?.uid ?? '',
    'regarding.apiVersion': (o) => eventsEvent(o).regarding?.apiVersion ?? '',
    'regarding.resourceVersion': (o) => eventsEvent(o).regarding?.resourceVersion ?? '',
    'regarding.fieldPath': (o) => eventsEvent(o).regarding?.fieldPath ?? '',
    reason: (o) => eventsEvent(o).reason ?? '',
    reportingController: (o) => eventsEvent(o).reportingController ?? '',
    type: (o) => eventsEvent(o).type ?? '',
  },
  ttlSeconds: EVENT_TTL_SECONDS,
};
