'use strict';
// planning-session-engine: the planning-session engine (C++23, event-sourced,
// LMDB) for Node.js, with the API of @bernierllc/planning-session-core.
//
// Every call returns a Promise of a result value:
//   { success: true, data }  or  { success: false, error: { code, message } }
// Only programming errors (an argument of the wrong type, an unknown field)
// throw, synchronously, a TypeError naming the argument.

const { EventEmitter } = require('node:events');
// PLANNING_NODE_ADDON may name another build of the addon (a sanitizer build, say).
const native = require(process.env.PLANNING_NODE_ADDON || './build/Release/planning_node.node');

const EVENT_TYPES = Object.freeze([
  'session_created',
  'session_updated',
  'session_paused',
  'session_resumed',
  'session_converted',
  'session_archived',
  'version_restored',
  'version_created',
  'session_removed',
]);
const STATUS_EVENTS = new Set(['session_paused', 'session_resumed', 'session_converted', 'session_archived']);
const SIGNAL_NAMES = new Set([...EVENT_TYPES, 'event', 'status_changed']);
const STATUSES = Object.freeze(['active', 'paused', 'converted', 'archived']);
const ORDER_BY = ['created_at', 'updated_at', 'last_activity_at', 'title'];
const DURABILITY = ['full', 'no_meta_sync', 'no_sync'];
const kCall = Symbol('planning.call');
const kReport = Symbol('planning.staleReport');
const kOps = Symbol('planning.operations');

// --- argument checks (programming errors) -----------------------------------

function typeError(message) {
  const error = new TypeError(message);
  error.code = 'ERR_INVALID_ARG_TYPE';
  return error;
}

function describe(value) {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Date) return 'a Date';
  return typeof value === 'object' ? 'an object' : `${typeof value} ${String(value).slice(0, 40)}`;
}

function checkString(value, name) {
  if (typeof value !== 'string') throw typeError(`${name} must be a string, not ${describe(value)}`);
  return value;
}

function optString(value, name) {
  return value === undefined ? undefined : checkString(value, name);
}

function checkObject(value, name) {
  if (value === null || typeof value !== 'object' || Array.isArray(value) || value instanceof Date)
    throw typeError(`${name} must be an object, not ${describe(value)}`);
  return value;
}

function checkKeys(object, allowed, name) {
  for (const key of Object.keys(object)) {
    if (!allowed.includes(key)) throw typeError(`${name} has an unknown field '${key}' (known: ${allowed.join(', ')})`);
  }
}

function checkDate(value, name) {
  if (!(value instanceof Date)) throw typeError(`${name} must be a Date, not ${describe(value)}`);
  const ms = value.getTime();
  if (Number.isNaN(ms)) throw typeError(`${name} must be a valid Date (got Invalid Date)`);
  return ms;
}

function optDate(value, name) {
  return value === undefined || value === null ? undefined : checkDate(value, name);
}

// A Date has millisecond resolution, the engine's timestamps nanoseconds: a
// Date stands for its whole millisecond. So a lower bound that excludes its
// instant ("created_after") and an upper bound that includes it ("to_time",
// "as of") reach the end of that millisecond: created_after: s.created_at
// excludes session s. Passed to the addon as BigInt nanoseconds.
const NS_PER_MS = 1000000n;
function startOfMs(ms) {
  return ms === undefined ? undefined : BigInt(ms) * NS_PER_MS;
}
function endOfMs(ms) {
  return ms === undefined ? undefined : BigInt(ms) * NS_PER_MS + (NS_PER_MS - 1n);
}

function checkInteger(value, name) {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 0)
    throw typeError(`${name} must be a non-negative integer, not ${describe(value)}`);
  return value;
}

function checkSequence(value, name) {
  if (typeof value === 'bigint') {
    if (value < 0n) throw typeError(`${name} must not be negative`);
    return value;
  }
  return checkInteger(value, name);
}

function optBoolean(value, name) {
  if (value === undefined) return undefined;
  if (typeof value !== 'boolean') throw typeError(`${name} must be a boolean, not ${describe(value)}`);
  return value;
}

function checkFunction(value, name) {
  if (value !== undefined && typeof value !== 'function')
    throw typeError(`${name} must be a function, not ${describe(value)}`);
  return value;
}

function metadataJson(value, name) {
  if (value === undefined) return undefined;
  checkObject(value, name);
  try {
    return JSON.stringify(value);
  } catch (e) {
    throw typeError(`${name} must be JSON-serializable: ${e.message}`);
  }
}

function stringList(value, name, allowed) {
  if (value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  list.forEach((item, i) => {
    checkString(item, Array.isArray(value) ? `${name}[${i}]` : name);
    if (allowed && !allowed.includes(item)) throw typeError(`${name} must be one of ${allowed.join(', ')}, not '${item}'`);
  });
  return list;
}

const CREATE_FIELDS = [
  'title', 'description', 'repository_path', 'repository_url', 'working_directory',
  'initial_content', 'created_by', 'metadata',
];
function createRequest(request, name = 'request') {
  checkObject(request, name);
  checkKeys(request, CREATE_FIELDS, name);
  const out = {};
  for (const key of CREATE_FIELDS) {
    if (key !== 'metadata') out[key] = optString(request[key], `${name}.${key}`);
  }
  out.metadata_json = metadataJson(request.metadata, `${name}.metadata`);
  return out;
}

const UPDATE_FIELDS = [
  'title', 'description', 'content', 'repository_path', 'repository_url', 'working_directory',
  'metadata', 'change_summary', 'updated_by', 'expected_stream_version',
];
function updateRequest(updates, name = 'updates') {
  checkObject(updates, name);
  checkKeys(updates, UPDATE_FIELDS, name);
  const out = {};
  for (const key of UPDATE_FIELDS) {
    if (key !== 'metadata' && key !== 'expected_stream_version') out[key] = optString(updates[key], `${name}.${key}`);
  }
  out.metadata_json = metadataJson(updates.metadata, `${name}.metadata`);
  if (updates.expected_stream_version !== undefined)
    out.expected_stream_version = checkInteger(updates.expected_stream_version, `${name}.expected_stream_version`);
  return out;
}

const CONVERT_FIELDS = ['project_id', 'work_item_ids', 'converted_by'];
function convertRequest(conversion, name = 'conversion') {
  checkObject(conversion, name);
  checkKeys(conversion, CONVERT_FIELDS, name);
  const workItems = conversion.work_item_ids;
  if (workItems !== undefined && !Array.isArray(workItems))
    throw typeError(`${name}.work_item_ids must be an array of strings, not ${describe(workItems)}`);
  return {
    project_id: optString(conversion.project_id, `${name}.project_id`),
    work_item_ids: stringList(workItems, `${name}.work_item_ids`),
    converted_by: optString(conversion.converted_by, `${name}.converted_by`),
  };
}

const FILTER_FIELDS = [
  'status', 'repository_path', 'repository_url', 'project_id', 'created_by', 'created_after',
  'created_before', 'updated_after', 'updated_before', 'has_content', 'title_contains', 'order_by',
  'descending', 'limit', 'offset',
];
function sessionFilters(filters) {
  if (filters === undefined) return undefined;
  checkObject(filters, 'filters');
  checkKeys(filters, FILTER_FIELDS, 'filters');
  const out = {
    status: stringList(filters.status, 'filters.status', STATUSES),
    has_content: optBoolean(filters.has_content, 'filters.has_content'),
    descending: optBoolean(filters.descending, 'filters.descending'),
  };
  for (const key of ['repository_path', 'repository_url', 'project_id', 'created_by', 'title_contains'])
    out[key] = optString(filters[key], `filters.${key}`);
  out.created_after = endOfMs(optDate(filters.created_after, 'filters.created_after'));
  out.updated_after = endOfMs(optDate(filters.updated_after, 'filters.updated_after'));
  out.created_before = startOfMs(optDate(filters.created_before, 'filters.created_before'));
  out.updated_before = startOfMs(optDate(filters.updated_before, 'filters.updated_before'));
  if (filters.order_by !== undefined) {
    checkString(filters.order_by, 'filters.order_by');
    if (!ORDER_BY.includes(filters.order_by))
      throw typeError(`filters.order_by must be one of ${ORDER_BY.join(', ')}, not '${filters.order_by}'`);
    out.order_by = filters.order_by;
  }
  if (filters.limit !== undefined) out.limit = checkInteger(filters.limit, 'filters.limit');
  if (filters.offset !== undefined) out.offset = checkInteger(filters.offset, 'filters.offset');
  return out;
}

const QUERY_FIELDS = ['from_sequence', 'to_sequence', 'session_id', 'types', 'from_time', 'to_time', 'limit'];
function eventQuery(query) {
  if (query === undefined) return undefined;
  checkObject(query, 'query');
  checkKeys(query, QUERY_FIELDS, 'query');
  const out = {
    session_id: optString(query.session_id, 'query.session_id'),
    types: stringList(query.types, 'query.types', EVENT_TYPES),
    from_time: startOfMs(optDate(query.from_time, 'query.from_time')),
    to_time: endOfMs(optDate(query.to_time, 'query.to_time')),
  };
  for (const key of ['from_sequence', 'to_sequence', 'limit'])
    if (query[key] !== undefined) out[key] = checkSequence(query[key], `query.${key}`);
  return out;
}

// --- write batches -----------------------------------------------------------

/**
 * Operations committed together by `manager.applyBatch(batch)`: one
 * transaction, one durable commit, one result per operation.
 */
class WriteBatch {
  /** @type {object[]} */
  #ops = [];
  get size() {
    return this.#ops.length;
  }
  create(request) {
    this.#ops.push({ op: 'create', request: createRequest(request) });
    return this;
  }
  update(sessionId, updates) {
    this.#ops.push({ op: 'update', id: checkString(sessionId, 'sessionId'), request: updateRequest(updates) });
    return this;
  }
  pause(sessionId, reason, by) {
    this.#ops.push({ op: 'pause', id: checkString(sessionId, 'sessionId'), text: optString(reason, 'reason'), by: optString(by, 'by') });
    return this;
  }
  resume(sessionId, by) {
    this.#ops.push({ op: 'resume', id: checkString(sessionId, 'sessionId'), by: optString(by, 'by') });
    return this;
  }
  archive(sessionId, by) {
    this.#ops.push({ op: 'archive', id: checkString(sessionId, 'sessionId'), by: optString(by, 'by') });
    return this;
  }
  markConverted(sessionId, conversion) {
    this.#ops.push({ op: 'mark_converted', id: checkString(sessionId, 'sessionId'), request: convertRequest(conversion) });
    return this;
  }
  remove(sessionId, by) {
    this.#ops.push({ op: 'remove', id: checkString(sessionId, 'sessionId'), by: optString(by, 'by') });
    return this;
  }
  createVersion(sessionId, changeSummary, by) {
    this.#ops.push({
      op: 'create_version', id: checkString(sessionId, 'sessionId'),
      text: optString(changeSummary, 'changeSummary'), by: optString(by, 'by'),
    });
    return this;
  }
  restoreVersion(sessionId, versionNumber, by) {
    this.#ops.push({
      op: 'restore_version', id: checkString(sessionId, 'sessionId'),
      version_number: checkInteger(versionNumber, 'versionNumber'), by: optString(by, 'by'),
    });
    return this;
  }
  /** @internal */
  get [kOps]() {
    return this.#ops;
  }
}

// --- the manager ---------------------------------------------------------------

function normalizeLogger(logger) {
  if (logger === undefined || logger === null) return undefined;
  if (typeof logger === 'function') return (level, message) => logger(level, message);
  checkObject(logger, 'options.logger');
  const method = { debug: 'debug', info: 'info', warning: 'warn', warn: 'warn', error: 'error' };
  return (level, message) => {
    const name = method[level] ?? 'info';
    const fn = typeof logger[name] === 'function' ? logger[name] : logger.log;
    if (typeof fn === 'function') fn.call(logger, message);
  };
}

const CLOSED = Object.freeze({
  success: false,
  error: Object.freeze({ code: 'invalid_state', message: 'the manager is closed' }),
});

const OPTION_FIELDS = [
  'auto_version', 'logger', 'durability', 'read_only', 'create_if_missing', 'initial_map_size',
  'max_map_size', 'max_readers', 'structure_check',
];

/**
 * Planning sessions on a crash-safe embedded store (an LMDB directory).
 *
 *   const manager = new PlanningSessionManager('./.planning', { auto_version: true, logger: console });
 *
 * Signals: `manager.on('session_created', (event) => ...)` for each event type,
 * and 'event' for every event, delivered on the JavaScript thread in log order.
 */
class PlanningSessionManager extends EventEmitter {
  #native = null;
  #opening;
  #log;
  #eventsWanted = false;
  #closed = false;
  #path;

  /**
   * Opens (creating when missing) the store in directory `path`. Returns at
   * once; the store opens in the background. `ready()` tells whether it opened;
   * if it did not, every call resolves with the open error.
   */
  constructor(path, options = {}) {
    super();
    checkString(path, 'path');
    checkObject(options, 'options');
    checkKeys(options, OPTION_FIELDS, 'options');
    const config = {
      auto_version: optBoolean(options.auto_version, 'options.auto_version'),
      read_only: optBoolean(options.read_only, 'options.read_only'),
      create_if_missing: optBoolean(options.create_if_missing, 'options.create_if_missing'),
    };
    for (const key of ['initial_map_size', 'max_map_size', 'max_readers']) {
      const v = options[key];
      if (v !== undefined && (typeof v !== 'number' || !Number.isInteger(v) || v < 1))
        throw typeError(`options.${key} must be a positive integer, not ${describe(v)}`);
      config[key] = v;
    }
    if (options.structure_check !== undefined) {
      checkString(options.structure_check, 'options.structure_check');
      if (!['roots', 'full'].includes(options.structure_check))
        throw typeError(`options.structure_check must be 'roots' or 'full', not '${options.structure_check}'`);
      config.structure_check = options.structure_check;
    }
    if (options.durability !== undefined) {
      checkString(options.durability, 'options.durability');
      if (!DURABILITY.includes(options.durability))
        throw typeError(`options.durability must be one of ${DURABILITY.join(', ')}, not '${options.durability}'`);
      config.durability = options.durability;
    }
    this.#log = normalizeLogger(options.logger);
    this.#path = path;
    const weak = new WeakRef(this);
    const dispatch = (kind, a, b) => {
      const self = weak.deref();
      if (self) self.#dispatch(kind, a, b);
    };
    this.#opening = native.open(path, config, dispatch).then((result) => {
      if (result.success) {
        this.#native = result.data;
        this.#native.setEventsEnabled(this.#eventsWanted);
        this.#native.setLogsEnabled(this.#log !== undefined);
        this.#log?.('info', `planning: opened store ${path}`);
        return { success: true, data: undefined };
      }
      this.#log?.('error', `planning: cannot open store ${path}: ${result.error.message}`);
      return result;
    });
    this.#installHooks();
  }

  // Signals are converted and delivered only while someone listens.
  #onNewListener = (name) => {
    if (SIGNAL_NAMES.has(name)) this.#setEvents(true);
  };
  #onRemoveListener = () => this.#setEvents(this.#hasSignalListeners());
  #installHooks() {
    if (!this.listeners('newListener').includes(this.#onNewListener)) this.on('newListener', this.#onNewListener);
    if (!this.listeners('removeListener').includes(this.#onRemoveListener)) this.on('removeListener', this.#onRemoveListener);
  }

  removeAllListeners(eventName) {
    if (eventName === undefined) super.removeAllListeners();
    else super.removeAllListeners(eventName);
    this.#installHooks();
    this.#setEvents(this.#hasSignalListeners());
    return this;
  }

  /** Opens a store and resolves with the manager once it is open (or with the open error). */
  static open(path, options = {}) {
    const manager = new PlanningSessionManager(path, options);
    return manager.ready().then((ready) => (ready.success ? { success: true, data: manager } : ready));
  }

  /** The store directory this manager was opened on. */
  get path() {
    return this.#path;
  }

  /** Resolves with { success: true } once the store is open, or the open error. */
  ready() {
    return this.#opening;
  }

  #hasSignalListeners() {
    for (const name of SIGNAL_NAMES) if (this.listenerCount(name) > 0) return true;
    return false;
  }

  #setEvents(on) {
    this.#eventsWanted = on;
    this.#native?.setEventsEnabled(on);
  }

  #dispatch(kind, a, b) {
    if (kind === 'event') {
      this.emit(a.type, a);
      if (STATUS_EVENTS.has(a.type)) this.emit('status_changed', a);
      this.emit('event', a);
    } else if (kind === 'log') {
      this.#log?.(a, b);
    }
  }

  [kCall](name, fn) {
    if (this.#closed) return Promise.resolve(CLOSED);
    const run = () => {
      const promise = fn(this.#native);
      if (!this.#log) return promise;
      return promise.then((result) => {
        if (result && result.success === false)
          this.#log('warning', `planning: ${name} failed: ${result.error.code}: ${result.error.message}`);
        else this.#log('debug', `planning: ${name} ok`);
        return result;
      });
    };
    if (this.#native) return run();
    return this.#opening.then((opened) => (opened.success ? run() : opened));
  }

  // --- sessions (the seed's API) ---

  /** Creates a session; with initial_content it has version 1. */
  create(request) {
    const r = createRequest(request);
    return this[kCall]('create', (n) => n.create(r));
  }
  /** Updates the given fields; a content change makes a new version (auto_version). */
  update(sessionId, updates) {
    checkString(sessionId, 'sessionId');
    const r = updateRequest(updates);
    return this[kCall]('update', (n) => n.update(sessionId, r));
  }
  pause(sessionId, reason, pausedBy) {
    checkString(sessionId, 'sessionId');
    optString(reason, 'reason');
    optString(pausedBy, 'pausedBy');
    return this[kCall]('pause', (n) => n.pause(sessionId, reason, pausedBy));
  }
  resume(sessionId, resumedBy) {
    checkString(sessionId, 'sessionId');
    optString(resumedBy, 'resumedBy');
    return this[kCall]('resume', (n) => n.resume(sessionId, resumedBy));
  }
  markConverted(sessionId, conversion) {
    checkString(sessionId, 'sessionId');
    const r = convertRequest(conversion);
    return this[kCall]('markConverted', (n) => n.markConverted(sessionId, r));
  }
  archive(sessionId, archivedBy) {
    checkString(sessionId, 'sessionId');
    optString(archivedBy, 'archivedBy');
    return this[kCall]('archive', (n) => n.archive(sessionId, archivedBy));
  }
  /** Tombstone: the session leaves every query; its history stays in the log. */
  remove(sessionId, removedBy) {
    checkString(sessionId, 'sessionId');
    optString(removedBy, 'removedBy');
    return this[kCall]('remove', (n) => n.remove(sessionId, removedBy));
  }
  get(sessionId) {
    checkString(sessionId, 'sessionId');
    return this[kCall]('get', (n) => n.get(sessionId));
  }

  // --- versions ---

  getVersions(sessionId) {
    checkString(sessionId, 'sessionId');
    return this[kCall]('getVersions', (n) => n.getVersions(sessionId));
  }
  getVersion(sessionId, versionNumber) {
    checkString(sessionId, 'sessionId');
    checkInteger(versionNumber, 'versionNumber');
    return this[kCall]('getVersion', (n) => n.getVersion(sessionId, versionNumber));
  }
  compareVersions(sessionId, fromVersion, toVersion) {
    checkString(sessionId, 'sessionId');
    checkInteger(fromVersion, 'fromVersion');
    checkInteger(toVersion, 'toVersion');
    return this[kCall]('compareVersions', (n) => n.compareVersions(sessionId, fromVersion, toVersion));
  }
  /** Makes a NEW version equal to version `versionNumber`. */
  restoreVersion(sessionId, versionNumber, restoredBy) {
    checkString(sessionId, 'sessionId');
    checkInteger(versionNumber, 'versionNumber');
    optString(restoredBy, 'restoredBy');
    return this[kCall]('restoreVersion', (n) => n.restoreVersion(sessionId, versionNumber, restoredBy));
  }
  /** Snapshots the current content as the next version. */
  createVersion(sessionId, changeSummary, createdBy) {
    checkString(sessionId, 'sessionId');
    optString(changeSummary, 'changeSummary');
    optString(createdBy, 'createdBy');
    return this[kCall]('createVersion', (n) => n.createVersion(sessionId, changeSummary, createdBy));
  }

  // --- queries ---

  findActive() {
    return this[kCall]('findActive', (n) => n.findActive());
  }
  findByRepository(repositoryPath) {
    checkString(repositoryPath, 'repositoryPath');
    return this[kCall]('findByRepository', (n) => n.findByRepository(repositoryPath));
  }
  list(filters) {
    const f = sessionFilters(filters);
    return this[kCall]('list', (n) => n.list(f));
  }
  getStatistics() {
    return this[kCall]('getStatistics', (n) => n.getStatistics());
  }

  // --- beyond the seed: batches, time travel, the log, audit ---

  /** Applies a WriteBatch (or an array of operations) in one transaction. */
  applyBatch(batch) {
    if (!(batch instanceof WriteBatch)) throw typeError(`batch must be a WriteBatch, not ${describe(batch)}`);
    const ops = batch[kOps].slice();
    return this[kCall]('applyBatch', (n) => n.applyBatch(ops));
  }
  /** A new, empty WriteBatch. */
  batch() {
    return new WriteBatch();
  }
  /** The session as it was after the events up to `sequence` (inclusive). */
  sessionAt(sessionId, sequence) {
    checkString(sessionId, 'sessionId');
    checkSequence(sequence, 'sequence');
    return this[kCall]('sessionAt', (n) => n.sessionAt(sessionId, sequence));
  }
  /** The session as it was at `time` (a Date, or a BigInt of nanoseconds since the epoch). */
  sessionAtTime(sessionId, time) {
    checkString(sessionId, 'sessionId');
    const t = typeof time === 'bigint' ? time : endOfMs(checkDate(time, 'time'));
    return this[kCall]('sessionAtTime', (n) => n.sessionAtTime(sessionId, t));
  }
  /** Events of the log matching `query`, in log order (limit defaults to 10,000). */
  events(query) {
    const q = eventQuery(query);
    return this[kCall]('events', (n) => n.events(q));
  }
  /**
   * Streams the matching events to `visit` in log order, `chunk` events per
   * read (each read on the thread pool), without loading the log whole, as the
   * C++ scan_events does. `visit` may return false (or a Promise of false) to
   * stop. Resolves with the number of events visited, or the read's error.
   */
  scanEvents(query, visit, options = {}) {
    const q = eventQuery(query) ?? {};
    if (typeof visit !== 'function') throw typeError(`visit must be a function, not ${describe(visit)}`);
    checkObject(options, 'options');
    checkKeys(options, ['chunk'], 'options');
    const chunk = options.chunk === undefined ? 1000 : checkInteger(options.chunk, 'options.chunk');
    if (chunk < 1) throw typeError('options.chunk must be at least 1');
    const limit = q.limit === undefined ? Infinity : Number(q.limit);
    const scan = async () => {
      let from = q.from_sequence === undefined ? 1 : Number(q.from_sequence);
      let visited = 0;
      while (visited < limit) {
        const page = { ...q, from_sequence: from, limit: Math.min(chunk, limit - visited) };
        const result = await this[kCall]('events', (n) => n.events(page));
        if (!result.success) return result;
        for (const event of result.data) {
          visited++;
          if ((await visit(event)) === false) return { success: true, data: visited };
        }
        if (result.data.length < page.limit) break;
        from = result.data[result.data.length - 1].sequence + 1;
      }
      return { success: true, data: visited };
    };
    return scan();
  }
  headSequence() {
    return this[kCall]('headSequence', (n) => n.headSequence());
  }
  /** Checks every event and that the projections equal a fresh replay. */
  verify(onProgress) {
    checkFunction(onProgress, 'onProgress');
    return this[kCall]('verify', (n) => n.verify(onProgress));
  }
  /** Clears every projection and replays the log (maintenance). */
  rebuildProjections(onProgress) {
    checkFunction(onProgress, 'onProgress');
    return this[kCall]('rebuildProjections', (n) => n.rebuildProjections(onProgress));
  }
  info() {
    return this[kCall]('info', (n) => n.info());
  }
  projections() {
    return this[kCall]('projections', (n) => n.projections());
  }
  /** Consistent hot copy into the (new or empty) directory `destination`. */
  backup(destination, options = {}) {
    checkString(destination, 'destination');
    checkObject(options, 'options');
    checkKeys(options, ['compact'], 'options');
    const compact = optBoolean(options.compact, 'options.compact') ?? false;
    return this[kCall]('backup', (n) => n.backup(destination, compact));
  }
  /** Writes the matching events to `file` as JSON Lines; resolves with the count. */
  exportEvents(file, query) {
    checkString(file, 'file');
    const q = eventQuery(query);
    return this[kCall]('exportEvents', (n) => n.exportEvents(file, q));
  }
  /** Appends the events of a JSON Lines file — all of them, or none. */
  importEvents(file) {
    checkString(file, 'file');
    return this[kCall]('importEvents', (n) => n.importEvents(file));
  }
  /**
   * Resolves once this manager's queued writes have settled. Later calls
   * resolve with an `invalid_state` error. The store closes when the last
   * manager of this process on it has closed.
   */
  async close() {
    if (this.#closed) return;
    this.#closed = true;
    const opened = await this.#opening;
    if (opened.success) await this.#native.close();
  }
}

// --- recovery -------------------------------------------------------------------

const STALE_FIELDS = ['inactive_for_ms', 'archive_after_ms', 'now'];

function checkManager(manager) {
  if (!(manager instanceof PlanningSessionManager))
    throw typeError(`manager must be a PlanningSessionManager, not ${describe(manager)}`);
  return manager;
}

class SessionRecovery {
  /**
   * Sessions inactive for 24 hours or more (options.inactive_for_ms), with a
   * recommendation each: 'pause', or 'archive' after 7 days
   * (options.archive_after_ms). The result has the seed's shape
   * (stale_sessions, recommendations) and the usual success/data/error.
   */
  static findStale(manager, options) {
    checkManager(manager);
    let o;
    if (options !== undefined) {
      checkObject(options, 'options');
      checkKeys(options, STALE_FIELDS, 'options');
      o = { now: startOfMs(optDate(options.now, 'options.now')) };
      for (const key of ['inactive_for_ms', 'archive_after_ms']) {
        const v = options[key];
        if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v) || v < 0))
          throw typeError(`options.${key} must be a non-negative number of milliseconds, not ${describe(v)}`);
        o[key] = v;
      }
    }
    return manager[kCall]('findStale', (n) => n.findStale(o)).then((result) => {
      if (!result.success) return { ...result, stale_sessions: [], recommendations: {} };
      const report = result.data;
      Object.defineProperty(report, kReport, { value: result.handle });
      const out = { success: true, data: report, stale_sessions: report.stale_sessions, recommendations: report.recommendations };
      Object.defineProperty(out, kReport, { value: result.handle });
      return out;
    });
  }

  /**
   * Applies a findStale report: pauses ('Auto-paused') or archives each
   * session; sessions changed since the report are skipped. Resolves with the
   * number of sessions changed.
   */
  static apply(manager, report, by, onProgress) {
    checkManager(manager);
    if (report === null || typeof report !== 'object' || !report[kReport])
      throw typeError('report must be a result of SessionRecovery.findStale');
    optString(by, 'by');
    checkFunction(onProgress, 'onProgress');
    const handle = report[kReport];
    return manager[kCall]('applyStale', (n) => n.applyStale(handle, by, onProgress));
  }

  /** Rebuilds one session's state from its event stream and returns it. */
  static restoreFromHistory(sessionId, manager) {
    checkString(sessionId, 'sessionId');
    checkManager(manager);
    return manager[kCall]('restoreFromHistory', (n) => n.restoreFromHistory(sessionId));
  }
}

/**
 * Recovers the events of a store whose LMDB B-tree is damaged into a new
 * store (never opening the damaged one with LMDB).
 */
function salvage(damagedStore, newStore) {
  checkString(damagedStore, 'damagedStore');
  checkString(newStore, 'newStore');
  return native.salvage(damagedStore, newStore);
}

const versions = native.versions;

module.exports = {
  PlanningSessionManager,
  SessionRecovery,
  WriteBatch,
  salvage,
  EVENT_TYPES,
  STATUSES,
  versions,
};
