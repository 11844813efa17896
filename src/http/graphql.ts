import { setTimeout as delay } from 'node:timers/promises';
import { isJsonObject, type JsonValue } from '../protocol/json.js';
import { valueAt } from './paginate.js';
import type { BodyProblem, HttpResponse, Pacer } from './types.js';

/**
 * GraphQL over the shared client. A GraphQL server answers 200 whatever happened: failures are
 * an `errors` array in the body, throttling too (Shopify: `extensions.code` THROTTLED), and the
 * cost of each query with the state of the caller's cost bucket sits in `extensions.cost`.
 * `graphqlCheck` turns the first into failures the client retries or not; `CostBucket` paces a
 * run's queries by the second, so streams wait for the bucket to refill instead of failing.
 */

export interface GraphqlCheckOptions {
  /** `extensions.code` values that mean "later" (e.g. THROTTLED): retried. Others fail the request. */
  retriableCodes?: readonly string[];
}

/** The request check for GraphQL responses: an `errors` array is a failure, named by its messages. */
export function graphqlCheck(options: GraphqlCheckOptions = {}): (response: HttpResponse) => BodyProblem | undefined {
  const retriable = new Set(options.retriableCodes ?? []);
  return (response) => {
    const body = response.json();
    const errors = isJsonObject(body) ? body['errors'] : undefined;
    if (!Array.isArray(errors) || errors.length === 0) return undefined;
    const codes = errors.map((e) => (isJsonObject(e) ? valueAt(e, 'extensions.code') : undefined));
    const transient = codes.every((c) => typeof c === 'string' && retriable.has(c));
    const detail = errors
      .slice(0, 3)
      .map((e, i) => {
        const message = isJsonObject(e) && typeof e['message'] === 'string' ? e['message'] : JSON.stringify(e);
        const code = codes[i];
        return typeof code === 'string' ? `${message} (${code})` : message;
      })
      .join('; ');
    const more = errors.length > 3 ? ` and ${errors.length - 3} more` : '';
    const wait = transient ? refillWait(body) : undefined;
    return { detail: `GraphQL errors: ${detail}${more}`, retriable: transient, ...(wait === undefined ? {} : { waitMs: wait }) };
  };
}

/** The state of a cost bucket as a response reports it. */
export interface CostStatus {
  /** Points the query asked for (the estimate the server checks against the bucket). */
  requested: number;
  available: number;
  maximum: number;
  /** Points restored per second. */
  restoreRate: number;
}

/** Reads `extensions.cost` (Shopify's shape: requestedQueryCost and throttleStatus). */
export function costStatus(body: JsonValue): CostStatus | undefined {
  const cost = valueAt(body, 'extensions.cost');
  if (!isJsonObject(cost)) return undefined;
  const requested = Number(cost['requestedQueryCost']);
  const throttle = cost['throttleStatus'];
  if (!isJsonObject(throttle)) return undefined;
  const available = Number(throttle['currentlyAvailable']);
  const maximum = Number(throttle['maximumAvailable']);
  const restoreRate = Number(throttle['restoreRate']);
  if (![requested, available, maximum, restoreRate].every(Number.isFinite) || restoreRate <= 0) return undefined;
  return { requested, available, maximum, restoreRate };
}

/** How long until the bucket holds what the refused query asked for, in ms. */
function refillWait(body: JsonValue): number | undefined {
  const status = costStatus(body);
  if (status === undefined) return undefined;
  const missing = Math.max(0, status.requested - status.available);
  return Math.ceil((missing / status.restoreRate) * 1000);
}

export type Clock = () => number;
export type Wait = (ms: number, signal?: AbortSignal) => Promise<void>;

/**
 * A client-side copy of the server's cost bucket. After each response it knows how many
 * points were left and how fast they come back; before the next query it waits until the
 * bucket holds as many points as the last query cost, so a run rarely asks for more than the
 * server would grant (a query sent ahead while another is out may still be refused: the
 * check then retries it once the bucket has refilled). Requests wait in arrival order. One
 * per run, shared by every stream.
 */
export class CostBucket implements Pacer {
  private known: { available: number; maximum: number; restoreRate: number; at: number } | undefined;
  /** What the next query is expected to cost: the last one's request. */
  private expected = 0;
  private queue: Promise<void> = Promise.resolve();

  constructor(
    private readonly now: Clock = Date.now,
    private readonly wait: Wait = (ms, signal) => delay(ms, undefined, signal ? { signal } : {}),
  ) {}

  beforeRequest(signal?: AbortSignal): Promise<void> {
    const turn = this.queue.then(() => this.waitForPoints(signal));
    // The next caller queues behind this one whether it waited or was aborted.
    this.queue = turn.catch(() => undefined);
    return turn;
  }

  afterResponse(response: HttpResponse): void {
    let body: JsonValue;
    try {
      body = response.json();
    } catch {
      return;
    }
    const status = costStatus(body);
    if (status === undefined) return;
    this.expected = Math.min(status.requested, status.maximum);
    this.known = { available: status.available, maximum: status.maximum, restoreRate: status.restoreRate, at: this.now() };
  }

  /** Points the bucket holds now, by the last report and the time since. */
  available(): number | undefined {
    const k = this.known;
    if (k === undefined) return undefined;
    return Math.min(k.maximum, k.available + ((this.now() - k.at) / 1000) * k.restoreRate);
  }

  private async waitForPoints(signal: AbortSignal | undefined): Promise<void> {
    const k = this.known;
    const available = this.available();
    if (k !== undefined && available !== undefined) {
      const missing = this.expected - available;
      if (missing > 0) await this.wait(Math.ceil((missing / k.restoreRate) * 1000), signal);
    }
  }
}
