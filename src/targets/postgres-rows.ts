import { TargetError } from '../errors.js';
import type { JsonObject } from '../protocol/json.js';
import type { RecordMessage } from '../protocol/messages.js';
import type { ColumnKind, StreamSchema } from '../protocol/schema.js';
import { DELETED_COLUMN, type StreamPlan } from './postgres-ddl.js';
import { copyField, NULL_FIELD, propertyKind, ValueMismatch, versionField, type Substitutions } from './postgres-types.js';
import { notInSchemaWarning } from './target.js';

/**
 * The records of one stream buffered until the next commit, already as COPY text: each
 * record becomes its line once, when it arrives, and a commit only sends the text.
 *
 * A line holds the stream's properties in a fixed order, then `_sync_version` (keyed streams
 * with a replication key) and `_sdc_table_version` (once a RECORD carried `version`). A
 * property that is not in the schema adds a column; lines written before keep their width in
 * a segment of their own, loaded with their own column list. Each segment notes whether a
 * key came twice, so a batch of distinct keys can be copied straight into its table.
 */

/** Lines of one width, with what their fields are. */
export interface Segment {
  columns: ReadonlyArray<{ property: string; kind: ColumnKind }>;
  /** The kind of the version property when lines carry `_sync_version`. */
  version: ColumnKind | undefined;
  tableVersion: boolean;
  /** A counting run's lines: the version again, for `_sync_run_version` (change-count.ts). */
  runVersion: boolean;
  chunks: string[];
  rows: number;
  /** Characters stored as U+FFFD in these lines. */
  substitutions: number;
  /** Some key came twice (as text; keys equal only as numbers are found by the database). */
  repeatsKey: boolean;
  /**
   * Lines of partial records (the properties a webhook or a tombstone knows): the columns are
   * those the records carry, so a stored row keeps the others. The column names joined, for
   * reuse by the next partial record with the same ones.
   */
  partial?: string;
}

/** What a commit takes from a stream: its plan at that moment and its lines. */
export interface StreamBatch {
  plan: StreamPlan;
  revision: number;
  segments: Segment[];
}

/** COPY text is handed over in pieces of about this size: few writes, little copying. */
const CHUNK_CHARS = 64 * 1024;

interface Column {
  property: string;
  kind: ColumnKind;
  /** Named like an Object.prototype member (`constructor`…): read only as an own property. */
  inherited: boolean;
  /** A key property: its field is part of the line's key. */
  key: boolean;
}

export class StreamRows {
  readonly stream: string;
  /** Changes whenever the plan does, so the table is brought up to date at the next commit. */
  revision: number;
  private readonly columns: Column[];
  private readonly index: Map<string, number>;
  private readonly keys: readonly string[];
  private readonly versionProperty: string | undefined;
  private readonly versionKind: ColumnKind | undefined;
  private tableVersion: boolean;
  private readonly warned: Set<string>;
  private segments: Segment[] = [];
  private current: Segment | undefined;
  /** The key fields of the current segment's lines, until one repeats. */
  private seenKeys = new Set<string>();
  /** The key fields of the line just built (`line`'s second result, kept here to spare an object per record). */
  private lineKey = '';
  private text = '';
  private readonly recordSubs: Substitutions = { count: 0 };
  /** Characters of COPY text buffered, about the bytes held. */
  bytes = 0;

  constructor(
    schema: StreamSchema,
    previous: StreamRows | undefined,
    private readonly warn: (message: string) => void,
    /** A counting run writes `_sync_run_version` too (change-count.ts). */
    private readonly counting = false,
  ) {
    this.stream = schema.stream;
    this.revision = (previous?.revision ?? 0) + 1;
    // Columns the table already has for this stream stay in the plan (a record without them
    // stores NULL there, as a full row would), in their order; new properties follow.
    const kinds = new Map<string, ColumnKind>();
    for (const column of previous?.columns ?? []) kinds.set(column.property, column.kind);
    for (const [property, definition] of Object.entries(schema.properties)) kinds.set(property, propertyKind(definition));
    for (const key of schema.keyProperties) if (!kinds.has(key)) kinds.set(key, 'any');
    const keys = new Set(schema.keyProperties);
    this.columns = [...kinds].map(([property, kind]) => column(property, kind, keys.has(property)));
    this.index = new Map(this.columns.map((c, i) => [c.property, i]));
    this.keys = schema.keyProperties;
    const versioned = schema.keyProperties.length > 0 && schema.versionProperty !== undefined;
    this.versionProperty = versioned ? schema.versionProperty : undefined;
    this.versionKind = versioned && schema.versionProperty !== undefined ? propertyKind(schema.properties[schema.versionProperty]) : undefined;
    this.tableVersion = previous?.tableVersion ?? false;
    this.warned = previous?.warned ?? new Set();
  }

  /** Adds a record's line; throws a TargetError naming the property when a value cannot be stored. */
  add(message: RecordMessage): void {
    const record = message.record;
    if (message.version !== undefined && !this.tableVersion) {
      this.tableVersion = true;
      this.revision++;
    }
    const subs = this.recordSubs;
    subs.count = 0;
    let line: string;
    let segment: Segment;
    if (message.partial === true && this.keys.length > 0) {
      for (const key of this.keys) {
        if (record[key] === undefined || record[key] === null) throw new TargetError(`stream "${this.stream}": a partial record lacks its key property ${JSON.stringify(key)}; its row cannot be found`);
      }
      this.addUnknownProperties(record);
      const columns = this.columns.filter((c) => c.key || (c.inherited ? Object.hasOwn(record, c.property) : record[c.property] !== undefined));
      line = this.fields(record, columns, subs);
      segment = this.partialSegment(columns);
    } else {
      const known = this.line(record, subs);
      if (known === undefined) {
        this.addUnknownProperties(record);
        subs.count = 0;
        line = this.line(record, subs) as string;
      } else line = known;
      segment = this.segment();
    }
    if (this.keys.length > 0 && !segment.repeatsKey) this.noteKey(segment, this.lineKey);
    if (segment.version !== undefined) {
      const numeric = segment.version === 'integer' || segment.version === 'number';
      const value = this.versionProperty === undefined ? undefined : record[this.versionProperty];
      const field = versionField(value, segment.version === 'date-time', numeric, subs);
      line += segment.runVersion ? `\t${field}\t${field}` : '\t' + field;
    }
    if (segment.tableVersion) line += '\t' + (message.version === undefined ? NULL_FIELD : String(message.version));
    line += '\n';
    segment.rows++;
    segment.substitutions += subs.count;
    this.bytes += line.length;
    this.text += line;
    if (this.text.length >= CHUNK_CHARS) {
      segment.chunks.push(this.text);
      this.text = '';
    }
  }

  /**
   * ACTIVATE_VERSION sets `_sdc_deleted_at`, so rows carry it from now on: a record sent again
   * after its row was retired brings it back (NULL, unless the record says otherwise), as a
   * full row would.
   */
  needDeletedAt(): void {
    if (this.index.has(DELETED_COLUMN)) return;
    this.index.set(DELETED_COLUMN, this.columns.length);
    this.columns.push(column(DELETED_COLUMN, 'date-time', false));
    this.revision++;
  }

  plan(): StreamPlan {
    return {
      stream: this.stream,
      columns: this.columns.map(({ property, kind }) => ({ property, kind })),
      keys: this.keys,
      version: this.versionKind,
      tableVersion: this.tableVersion,
      runVersion: this.counting && this.versionKind !== undefined,
    };
  }

  /** Hands over everything buffered, with the plan it was written for. */
  take(): StreamBatch {
    this.closeSegment();
    const segments = this.segments;
    this.segments = [];
    this.bytes = 0;
    return { plan: this.plan(), revision: this.revision, segments };
  }

  private noteKey(segment: Segment, key: string): void {
    if (this.seenKeys.has(key)) {
      segment.repeatsKey = true;
      this.seenKeys.clear();
    } else {
      this.seenKeys.add(key);
    }
  }

  /**
   * The record's property fields as one line (no newline), its key fields in `lineKey`; or
   * undefined when the record has properties the plan lacks.
   */
  private line(record: JsonObject, subs: Substitutions): string | undefined {
    const line = this.fields(record, this.columns, subs);
    let keys = 0;
    for (const _ in record) keys++;
    return keys === this.matched ? line : undefined;
  }

  /** Properties of the record found among `columns` by the last `fields` call. */
  private matched = 0;

  /** The record's fields for these columns as one line, its key fields in `lineKey`. */
  private fields(record: JsonObject, columns: readonly Column[], subs: Substitutions): string {
    let line = '';
    let key = '';
    let matched = 0;
    let at = 0;
    try {
      for (; at < columns.length; at++) {
        const column = columns[at] as Column;
        const value = column.inherited && !Object.hasOwn(record, column.property) ? undefined : record[column.property];
        if (value !== undefined) matched++;
        const field = copyField(value, column.kind, subs);
        line = at === 0 ? field : line + '\t' + field;
        if (column.key) key = key === '' ? field : key + '\t' + field;
      }
    } catch (err) {
      if (!(err instanceof ValueMismatch)) throw err;
      const column = columns[at] as Column;
      throw new TargetError(
        `stream "${this.stream}": property ${JSON.stringify(column.property)}: ${err.message}, as its schema (${column.kind}) requires; ` +
          `the record cannot be stored (validation, on unless --no-validate, refuses such records)`,
      );
    }
    this.lineKey = key;
    this.matched = matched;
    return line;
  }

  private addUnknownProperties(record: JsonObject): void {
    for (const property of Object.keys(record)) {
      if (this.index.has(property)) continue;
      if (!this.warned.has(property)) {
        this.warned.add(property);
        this.warn(notInSchemaWarning(this.stream, property));
      }
      // Without a schema any JSON value may come: jsonb holds them all. `_sdc_deleted_at` is
      // the Singer deletion time, a date-time by convention.
      const kind: ColumnKind = property === DELETED_COLUMN ? 'date-time' : 'any';
      this.index.set(property, this.columns.length);
      this.columns.push(column(property, kind, false));
      this.revision++;
    }
  }

  /** The segment lines of the current width go to. */
  private segment(): Segment {
    const current = this.current;
    if (current && current.partial === undefined && current.columns.length === this.columns.length && current.tableVersion === this.tableVersion) return current;
    return this.startSegment(this.columns, this.counting && this.versionKind !== undefined);
  }

  /** The segment of partial records with exactly these columns: the current one, or a new one after it. */
  private partialSegment(columns: readonly Column[]): Segment {
    const names = columns.map((c) => c.property).join('\u0000');
    const current = this.current;
    if (current && current.partial === names && current.tableVersion === this.tableVersion) return current;
    // Partial records come from webhooks: they never mark a run's version.
    return this.startSegment(columns, false, names);
  }

  /** Closes the current segment and starts one of these columns. */
  private startSegment(columns: readonly Column[], runVersion: boolean, partial?: string): Segment {
    this.closeSegment();
    const segment: Segment = {
      columns: columns.map(({ property, kind }) => ({ property, kind })),
      version: this.versionKind,
      tableVersion: this.tableVersion,
      runVersion,
      chunks: [],
      rows: 0,
      substitutions: 0,
      repeatsKey: false,
      ...(partial === undefined ? {} : { partial }),
    };
    this.current = segment;
    return segment;
  }

  private closeSegment(): void {
    const segment = this.current;
    if (!segment) return;
    if (this.text !== '') segment.chunks.push(this.text);
    this.text = '';
    if (segment.rows > 0) this.segments.push(segment);
    this.current = undefined;
    this.seenKeys = new Set();
  }
}

function column(property: string, kind: ColumnKind, key: boolean): Column {
  return { property, kind, inherited: property in Object.prototype, key };
}
