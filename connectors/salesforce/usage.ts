import type { HttpResponse, Pacer } from '../../src/http/types.js';
import type { Logger } from '../../src/log.js';

/**
 * Watches the org's API allowance: every REST response says how many calls the org made in
 * the last 24 hours and how many it may make (`Sforce-Limit-Info: api-usage=18/15000`). Past
 * the limit Salesforce refuses every integration of the org, not only this one, so a run warns
 * early: once past 80%, again past 90% and 95%. It never waits: the allowance refills over
 * a day, which no run should sit out.
 */

const THRESHOLDS = [80, 90, 95] as const;
const USAGE = /api-usage=(\d+)\/(\d+)/;

export class ApiUsageWatch implements Pacer {
  private warned = 0;

  constructor(private readonly log: Logger) {}

  beforeRequest(): Promise<void> {
    return Promise.resolve();
  }

  afterResponse(response: HttpResponse): void {
    const m = USAGE.exec(response.headers['sforce-limit-info'] ?? '');
    if (!m) return;
    const used = Number(m[1]);
    const limit = Number(m[2]);
    if (!(limit > 0)) return;
    const percent = (used / limit) * 100;
    const crossed = THRESHOLDS.filter((t) => percent > t).pop();
    if (crossed === undefined || crossed <= this.warned) return;
    this.warned = crossed;
    this.log.warn(
      `Salesforce API usage is past ${crossed}%: ${used} of the org's ${limit} calls in the last 24 hours ` +
        '(every integration of the org is refused at the limit; run less often or raise the allowance)',
    );
  }
}
