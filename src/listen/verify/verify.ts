import { DEFAULT_TOLERANCE_SECONDS, refuse, verifyHmac, type HmacPlan } from './hmac.js';
import { verifyBasic, verifyToken } from './shared-secret.js';
import type { Scheme, VerifyOptions, VerifyResult, WebhookRequest } from './types.js';
import {
  genericPlan,
  githubPlan,
  hmacSchemeProblem,
  hubspotPlan,
  shopifyPlan,
  slackPlan,
  standardWebhooksPlan,
  stripePlan,
} from './vendors.js';

/**
 * Why `scheme` cannot be used, or undefined when it can: for config validation at startup, so
 * that a bad scheme is reported once with its path instead of refusing every delivery.
 */
export function schemeProblem(scheme: Scheme): string | undefined {
  switch (scheme.kind) {
    case 'hmac':
      return hmacSchemeProblem(scheme);
    case 'token':
      if (scheme.header?.trim() === '' || scheme.queryParam === '') return 'token: header or queryParam is empty';
      return undefined;
    case 'standard-webhooks':
    case 'github':
    case 'stripe':
    case 'shopify':
    case 'slack':
    case 'hubspot-v3':
    case 'basic':
      return undefined;
    default:
      return `unknown scheme kind ${JSON.stringify((scheme as { kind: unknown }).kind)}`;
  }
}

/**
 * Checks one delivery against its scheme and the configured secrets (several during a
 * rotation: any may match). Reads only its arguments (and the clock when `now` is not given),
 * never throws, and its result never contains a secret or a signature, so it is safe to log.
 */
export function verify(
  scheme: Scheme,
  request: WebhookRequest,
  secrets: readonly string[],
  options: VerifyOptions = {},
): VerifyResult {
  try {
    const now = options.now ?? Date.now();
    const tolerance = options.toleranceSeconds ?? DEFAULT_TOLERANCE_SECONDS;
    // NaN would make every window comparison false, i.e. accept any timestamp.
    if (!Number.isFinite(now) || !Number.isFinite(tolerance) || tolerance < 0) return refuse('invalid options');
    if (problemOf(scheme) !== undefined) return refuse('invalid scheme');
    // Only the bytes as received can be verified; a string here would already be re-encoded.
    if (!(request.body instanceof Uint8Array)) return refuse('verification error');
    return check(scheme, request, secrets, { now, toleranceSeconds: tolerance });
  } catch {
    // Nothing from the error is passed on: it could quote its inputs.
    return refuse('verification error');
  }
}

// A scheme comes from the config and serves every delivery: what follows from it alone
// (its problems, its plan with a compiled template) is worked out once per scheme object.
const problems = new WeakMap<Scheme, { problem: string | undefined }>();
const plans = new WeakMap<Scheme, HmacPlan>();

function problemOf(scheme: Scheme): string | undefined {
  let known = problems.get(scheme);
  if (known === undefined) problems.set(scheme, (known = { problem: schemeProblem(scheme) }));
  return known.problem;
}

function planOf(scheme: Scheme, build: () => HmacPlan): HmacPlan {
  let plan = plans.get(scheme);
  if (plan === undefined) plans.set(scheme, (plan = build()));
  return plan;
}

function check(scheme: Scheme, request: WebhookRequest, secrets: readonly string[], options: VerifyOptions): VerifyResult {
  switch (scheme.kind) {
    case 'standard-webhooks':
      return verifyHmac(standardWebhooksPlan(request.headers), request, secrets, options);
    case 'github':
      return verifyHmac(githubPlan, request, secrets, options);
    case 'stripe':
      return verifyHmac(stripePlan, request, secrets, options);
    case 'shopify':
      return verifyHmac(shopifyPlan(request.headers), request, secrets, options);
    case 'slack':
      return verifyHmac(slackPlan, request, secrets, options);
    case 'hubspot-v3':
      return verifyHmac(planOf(scheme, () => hubspotPlan(scheme.url)), request, secrets, options);
    case 'hmac':
      return verifyHmac(planOf(scheme, () => genericPlan(scheme)), request, secrets, options);
    case 'token':
      return verifyToken(scheme, request, secrets);
    case 'basic':
      return verifyBasic(request, secrets);
  }
}
