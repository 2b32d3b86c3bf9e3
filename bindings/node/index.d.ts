// Type definitions for planning-session-engine: the planning-session engine
// (C++23, event-sourced, LMDB) for Node.js, with the API of
// @bernierllc/planning-session-core.
import { EventEmitter } from 'node:events';

export type SessionStatus = 'active' | 'paused' | 'converted' | 'archived';

export type ErrorCode =
  | 'not_found'
  | 'invalid_argument'
  | 'invalid_transition'
  | 'invalid_state'
  | 'conflict'
  | 'corruption'
  | 'storage';

export interface PlanningError {
  code: ErrorCode;
  /** One line naming what was wrong. */
  message: string;
}

export type Result<T> = { success: true; data: T } | { success: false; error: PlanningError };

/** JSON-serializable metadata object. */
export type Metadata = { [key: string]: unknown };

export interface PlanningSession {
  /** UUIDv7 text, time-ordered. */
  id: string;
  title: string;
  description: string;
  repository_url: string;
  repository_path: string;
  working_directory: string;
  status: SessionStatus;
  /** Current markdown. */
  content: string;
  /** 0 = no version yet. */
  current_version: number;
  pause_reason: string;
  paused_at: Date | null;
  archived_at: Date | null;
  project_id: string;
  work_item_ids: string[];
  converted_by: string;
  converted_at: Date | null;
  metadata: Metadata;
  created_at: Date;
  updated_at: Date;
  last_activity_at: Date;
  created_by: string;
  updated_by: string;
  /** Number of events in this session's stream (for expected_stream_version). */
  stream_version: number;
}

export interface SessionVersion {
  session_id: string;
  version_number: number;
  /** Full content snapshot. */
  content: string;
  change_summary: string;
  changed_fields: string[];
  created_at: Date;
  created_by: string;
  /** Log position of the event that made this version. */
  event_seq: number;
}

export interface VersionDiff {
  from_version: number;
  to_version: number;
  lines_added: number;
  lines_removed: number;
  lines_unchanged: number;
  /** Unified diff with "--- version A" / "+++ version B" headers. */
  unified: string;
}

export interface SessionStatistics {
  total_sessions: number;
  active_sessions: number;
  paused_sessions: number;
  converted_sessions: number;
  archived_sessions: number;
  removed_sessions: number;
  sessions_with_content: number;
  total_versions: number;
  average_versions_per_session: number;
  /** The log's head sequence. */
  total_events: number;
}

export interface CreateSessionRequest {
  /** Required: non-empty after trimming. */
  title: string;
  description?: string;
  repository_path?: string;
  repository_url?: string;
  working_directory?: string;
  /** Present => version 1. */
  initial_content?: string;
  created_by?: string;
  metadata?: Metadata;
}

/** Only the fields that are set are changed. */
export interface UpdateSessionRequest {
  title?: string;
  description?: string;
  content?: string;
  repository_path?: string;
  repository_url?: string;
  working_directory?: string;
  /** Replaces the whole metadata object. */
  metadata?: Metadata;
  change_summary?: string;
  updated_by?: string;
  /** Optimistic concurrency: apply only if the session's stream_version equals this (else 'conflict'). */
  expected_stream_version?: number;
}

export interface ConversionRequest {
  project_id: string;
  work_item_ids?: string[];
  converted_by?: string;
}

export type OrderBy = 'created_at' | 'updated_at' | 'last_activity_at' | 'title';

/** Every set field must match; Date bounds are exclusive. */
export interface SessionFilters {
  status?: SessionStatus | SessionStatus[];
  repository_path?: string;
  repository_url?: string;
  project_id?: string;
  created_by?: string;
  created_after?: Date;
  created_before?: Date;
  updated_after?: Date;
  updated_before?: Date;
  has_content?: boolean;
  /** Case-insensitive (ASCII) substring. */
  title_contains?: string;
  order_by?: OrderBy;
  descending?: boolean;
  limit?: number;
  offset?: number;
}

export type EventType =
  | 'session_created'
  | 'session_updated'
  | 'session_paused'
  | 'session_resumed'
  | 'session_converted'
  | 'session_archived'
  | 'version_restored'
  | 'version_created'
  | 'session_removed';

/** One committed event of the log (the JSON form of docs/FORMAT.md, with Dates). */
export interface PlanningEvent {
  /** Dense, from 1. */
  sequence: number;
  session_id: string;
  stream_version: number;
  type: EventType;
  schema_version: number;
  timestamp: Date;
  /** Exact timestamp: nanoseconds since the epoch. */
  timestamp_ns: bigint;
  actor: string;
  payload_checksum: string;
  prev_hash: string;
  /** The event's fields (title, content, change_summary, version_number, reason, project_id, ...). */
  payload: { [field: string]: unknown };
}

export interface EventQuery {
  from_sequence?: number | bigint;
  to_sequence?: number | bigint;
  session_id?: string;
  types?: EventType | EventType[];
  from_time?: Date;
  to_time?: Date;
  /** Defaults to 10,000. */
  limit?: number | bigint;
}

export interface VerifyReport {
  ok: boolean;
  events_checked: number;
  sessions_checked: number;
  issues: { sequence: number; what: string }[];
}

export interface ProjectionInfo {
  name: string;
  built_in: boolean;
  schema_version: number;
  checkpoint: number;
}

export interface StoreInfo {
  path: string;
  format_version: number;
  head_sequence: number;
  head_hash: string;
  sessions: number;
  versions: number;
  map_size: number;
  map_used: number;
  file_size: number;
  page_size: number;
  max_readers: number;
  readers_in_use: number;
  projections: ProjectionInfo[];
}

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/** A console-like object (console works), or a function of (level, message). */
export type Logger =
  | {
      debug?(message: string): void;
      info?(message: string): void;
      warn?(message: string): void;
      error?(message: string): void;
      log?(message: string): void;
    }
  | ((level: LogLevel, message: string) => void);

export interface ManagerOptions {
  /** Content changes make versions (default true). */
  auto_version?: boolean;
  /** Operation and engine logging. */
  logger?: Logger;
  /** 'full' (default): a resolved write is on disk. See the README for the others. */
  durability?: 'full' | 'no_meta_sync' | 'no_sync';
  /** Open without writing anything; writes resolve with a 'storage' error. */
  read_only?: boolean;
  /** Create the directory and store when missing (default true). */
  create_if_missing?: boolean;
  /** Starting LMDB map size in bytes (default 64 MiB); the map doubles when full, up to max_map_size. */
  initial_map_size?: number;
  /** Largest map size in bytes (default 1 TiB). */
  max_map_size?: number;
  /** LMDB reader slots (default 126). */
  max_readers?: number;
  /** How much of data.mdb's structure open() checks first: 'roots' (default) or 'full'. */
  structure_check?: 'roots' | 'full';
}

export type ProgressCallback = (done: number, total: number) => void;

/** Operations committed together: one transaction, one durable commit, one result each. */
export declare class WriteBatch {
  readonly size: number;
  create(request: CreateSessionRequest): this;
  update(sessionId: string, updates: UpdateSessionRequest): this;
  pause(sessionId: string, reason?: string, by?: string): this;
  resume(sessionId: string, by?: string): this;
  archive(sessionId: string, by?: string): this;
  markConverted(sessionId: string, conversion: ConversionRequest): this;
  remove(sessionId: string, by?: string): this;
  createVersion(sessionId: string, changeSummary?: string, by?: string): this;
  restoreVersion(sessionId: string, versionNumber: number, by?: string): this;
}

export interface ManagerEvents {
  /** Every committed event. */
  event: [PlanningEvent];
  /** session_paused, session_resumed, session_converted and session_archived. */
  status_changed: [PlanningEvent];
  session_created: [PlanningEvent];
  session_updated: [PlanningEvent];
  session_paused: [PlanningEvent];
  session_resumed: [PlanningEvent];
  session_converted: [PlanningEvent];
  session_archived: [PlanningEvent];
  version_restored: [PlanningEvent];
  version_created: [PlanningEvent];
  session_removed: [PlanningEvent];
}

export declare class PlanningSessionManager extends EventEmitter {
  /** Opens (creating when missing) the store directory `path`; see ready(). */
  constructor(path: string, options?: ManagerOptions);
  /** Opens a store; resolves with the manager once open, or with the open error. */
  static open(path: string, options?: ManagerOptions): Promise<Result<PlanningSessionManager>>;
  readonly path: string;
  ready(): Promise<Result<undefined>>;

  on<K extends keyof ManagerEvents>(event: K, listener: (...args: ManagerEvents[K]) => void): this;
  once<K extends keyof ManagerEvents>(event: K, listener: (...args: ManagerEvents[K]) => void): this;
  off<K extends keyof ManagerEvents>(event: K, listener: (...args: ManagerEvents[K]) => void): this;

  create(request: CreateSessionRequest): Promise<Result<PlanningSession>>;
  update(sessionId: string, updates: UpdateSessionRequest): Promise<Result<PlanningSession>>;
  pause(sessionId: string, reason?: string, pausedBy?: string): Promise<Result<PlanningSession>>;
  resume(sessionId: string, resumedBy?: string): Promise<Result<PlanningSession>>;
  markConverted(sessionId: string, conversion: ConversionRequest): Promise<Result<PlanningSession>>;
  archive(sessionId: string, archivedBy?: string): Promise<Result<PlanningSession>>;
  remove(sessionId: string, removedBy?: string): Promise<Result<PlanningSession>>;
  get(sessionId: string): Promise<Result<PlanningSession>>;

  getVersions(sessionId: string): Promise<Result<SessionVersion[]>>;
  getVersion(sessionId: string, versionNumber: number): Promise<Result<SessionVersion>>;
  compareVersions(sessionId: string, fromVersion: number, toVersion: number): Promise<Result<VersionDiff>>;
  restoreVersion(sessionId: string, versionNumber: number, restoredBy?: string): Promise<Result<PlanningSession>>;
  createVersion(sessionId: string, changeSummary?: string, createdBy?: string): Promise<Result<SessionVersion>>;

  findActive(): Promise<Result<PlanningSession[]>>;
  findByRepository(repositoryPath: string): Promise<Result<PlanningSession[]>>;
  list(filters?: SessionFilters): Promise<Result<PlanningSession[]>>;
  getStatistics(): Promise<Result<SessionStatistics>>;

  batch(): WriteBatch;
  /** The outer error means the commit failed and nothing applied; else one result per operation. */
  applyBatch(batch: WriteBatch): Promise<Result<Result<PlanningSession>[]>>;
  sessionAt(sessionId: string, sequence: number | bigint): Promise<Result<PlanningSession>>;
  sessionAtTime(sessionId: string, time: Date | bigint): Promise<Result<PlanningSession>>;
  events(query?: EventQuery): Promise<Result<PlanningEvent[]>>;
  /**
   * Streams matching events to `visit` in log order, `chunk` (default 1,000) per read;
   * `visit` returns false to stop. Resolves with the number visited.
   */
  scanEvents(
    query: EventQuery | undefined,
    visit: (event: PlanningEvent) => boolean | void | Promise<boolean | void>,
    options?: { chunk?: number },
  ): Promise<Result<number>>;
  headSequence(): Promise<Result<number>>;
  verify(onProgress?: ProgressCallback): Promise<Result<VerifyReport>>;
  rebuildProjections(onProgress?: ProgressCallback): Promise<Result<undefined>>;
  info(): Promise<Result<StoreInfo>>;
  projections(): Promise<Result<ProjectionInfo[]>>;
  backup(destination: string, options?: { compact?: boolean }): Promise<Result<undefined>>;
  exportEvents(file: string, query?: EventQuery): Promise<Result<number>>;
  importEvents(file: string): Promise<Result<number>>;
  close(): Promise<void>;
}

export type Recommendation = 'pause' | 'archive';

export interface StaleReport {
  /** Oldest activity first. */
  stale_sessions: PlanningSession[];
  /** Session id -> recommended action. */
  recommendations: { [sessionId: string]: Recommendation };
}

export type StaleResult = Result<StaleReport> & StaleReport;

export interface StaleOptions {
  /** Active sessions inactive this long are stale (default 24 h). */
  inactive_for_ms?: number;
  /** Active or paused sessions inactive this long: recommend archive (default 7 days). */
  archive_after_ms?: number;
  /** "Now" (default: the current time). */
  now?: Date;
}

export declare class SessionRecovery {
  static findStale(manager: PlanningSessionManager, options?: StaleOptions): Promise<StaleResult>;
  /** Applies a findStale result; resolves with the number of sessions changed. */
  static apply(
    manager: PlanningSessionManager,
    report: StaleResult | StaleReport,
    by?: string,
    onProgress?: ProgressCallback,
  ): Promise<Result<number>>;
  static restoreFromHistory(sessionId: string, manager: PlanningSessionManager): Promise<Result<PlanningSession>>;
}

export interface SalvageReport {
  recovered_head: number;
  damaged_head: number;
  beyond_prefix: number[];
  beyond_prefix_file: string;
  lost: number[];
  frames_found: number;
}

export declare function salvage(damagedStore: string, newStore: string): Promise<Result<SalvageReport>>;

export declare const EVENT_TYPES: readonly EventType[];
export declare const STATUSES: readonly SessionStatus[];
export declare const versions: { engine: string; format: number };
