import { UsageError } from '../errors.js';
import type { AnyConnector } from './contract.js';

/** Known connectors, each imported only when asked for. */
const CONNECTORS: Record<string, () => Promise<{ default: AnyConnector }>> = {
  sample: () => import('../../connectors/sample/index.js'),
  rest: () => import('../../connectors/rest/index.js'),
  github: () => import('../../connectors/github/index.js'),
  mailchimp: () => import('../../connectors/mailchimp/index.js'),
  salesforce: () => import('../../connectors/salesforce/index.js'),
  shopify: () => import('../../connectors/shopify/index.js'),
  stripe: () => import('../../connectors/stripe/index.js'),
  hubspot: () => import('../../connectors/hubspot/index.js'),
};

export function connectorNames(): string[] {
  return Object.keys(CONNECTORS).sort();
}

export async function loadConnector(name: string): Promise<AnyConnector> {
  const load = Object.hasOwn(CONNECTORS, name) ? CONNECTORS[name] : undefined;
  if (!load) {
    throw new UsageError(`unknown connector ${JSON.stringify(name)}; known connectors: ${connectorNames().join(', ')}`);
  }
  return (await load()).default;
}
