/**
 * Word lists the simulated attributes are drawn from. Emails use example.* domains,
 * reserved for documentation, so generated data can never reach a real mailbox.
 */

export const FIRST_NAMES = [
  'Ada', 'Amara', 'Ben', 'Carla', 'Chen', 'Dmitri', 'Elena', 'Farah', 'Felix', 'Grace',
  'Hiro', 'Ines', 'Jonas', 'Kofi', 'Lena', 'Lucas', 'Maya', 'Mateo', 'Nadia', 'Noah',
  'Olga', 'Omar', 'Priya', 'Quinn', 'Rosa', 'Sam', 'Sofia', 'Tariq', 'Yuki', 'Zoe',
] as const;

export const LAST_NAMES = [
  'Almeida', 'Becker', 'Costa', 'Dubois', 'Eriksen', 'Fischer', 'Garcia', 'Hansen', 'Ito', 'Jensen',
  'Kim', 'Laurent', 'Moreau', 'Nakamura', 'Novak', 'Okafor', 'Patel', 'Quist', 'Rossi', 'Schmidt',
  'Silva', 'Smith', 'Tanaka', 'Usman', 'Varga', 'Walker', 'Weber', 'Xu', 'Young', 'Zhang',
] as const;

export const COMPANY_SUFFIXES = ['Labs', 'GmbH', 'Ltd', 'Inc.', '& Co.', 'Studio', 'Systems', 'Trading'] as const;

export const EMAIL_DOMAINS = ['example.com', 'example.org', 'example.net'] as const;

export interface Country {
  code: string;
  /** The currency its customers pay in; the simulated shop bills in USD, EUR or GBP only. */
  currency: 'USD' | 'EUR' | 'GBP';
  cities: readonly string[];
  /** '9' stands for a digit, 'A' for a capital letter; anything else is kept. */
  postalFormat: string;
}

/** The US appears twice: it holds the largest share of a typical shop's customers. */
export const COUNTRIES: readonly Country[] = [
  { code: 'US', currency: 'USD', cities: ['Austin', 'Boston', 'Denver', 'Portland'], postalFormat: '99999' },
  { code: 'US', currency: 'USD', cities: ['Chicago', 'Seattle', 'Atlanta'], postalFormat: '99999' },
  { code: 'GB', currency: 'GBP', cities: ['London', 'Leeds', 'Bristol', 'Glasgow'], postalFormat: 'A9 9AA' },
  { code: 'DE', currency: 'EUR', cities: ['Berlin', 'Hamburg', 'Munich', 'Leipzig'], postalFormat: '99999' },
  { code: 'FR', currency: 'EUR', cities: ['Paris', 'Lyon', 'Nantes', 'Lille'], postalFormat: '99999' },
  { code: 'NL', currency: 'EUR', cities: ['Amsterdam', 'Utrecht', 'Rotterdam'], postalFormat: '9999 AA' },
  { code: 'ES', currency: 'EUR', cities: ['Madrid', 'Valencia', 'Seville'], postalFormat: '99999' },
  { code: 'CA', currency: 'USD', cities: ['Toronto', 'Montreal', 'Vancouver'], postalFormat: 'A9A 9A9' },
  { code: 'AU', currency: 'USD', cities: ['Sydney', 'Melbourne', 'Perth'], postalFormat: '9999' },
  { code: 'JP', currency: 'USD', cities: ['Tokyo', 'Osaka', 'Sapporo'], postalFormat: '999-9999' },
];

export const STREETS = [
  'Main Street', 'Harbour Road', 'Station Road', 'Oak Avenue', 'Mill Lane', 'Park Way',
  'Church Street', 'River Walk', 'Market Square', 'Elm Court', 'Hill Road', 'Bridge Street',
] as const;

/** Upgrades are likelier than not in a growing account, hence the repeated middle plans. */
export const PLANS = ['free', 'starter', 'starter', 'growth', 'growth', 'business', 'enterprise'] as const;

export const TAGS = ['vip', 'newsletter', 'beta', 'wholesale', 'churn-risk', 'referral', 'partner', 'support-priority'] as const;

export interface Product {
  sku: string;
  name: string;
  priceCents: number;
}

export const PRODUCTS: readonly Product[] = [
  { sku: 'MUG-001', name: 'Ceramic mug', priceCents: 1450 },
  { sku: 'MUG-002', name: 'Travel mug', priceCents: 2499 },
  { sku: 'TEE-010', name: 'Logo T-shirt', priceCents: 2200 },
  { sku: 'TEE-011', name: 'Long-sleeve T-shirt', priceCents: 2900 },
  { sku: 'HAT-020', name: 'Knit beanie', priceCents: 1800 },
  { sku: 'BAG-030', name: 'Canvas tote', priceCents: 1599 },
  { sku: 'BAG-031', name: 'Laptop backpack', priceCents: 8900 },
  { sku: 'NBK-040', name: 'Dotted notebook', priceCents: 1200 },
  { sku: 'PEN-041', name: 'Gel pen, 3-pack', priceCents: 699 },
  { sku: 'STK-050', name: 'Sticker sheet', priceCents: 350 },
  { sku: 'HOD-060', name: 'Zip hoodie', priceCents: 5900 },
  { sku: 'BTL-070', name: 'Steel bottle', priceCents: 3150 },
  { sku: 'SOC-080', name: 'Crew socks', priceCents: 1100 },
  { sku: 'PST-090', name: 'Art print', priceCents: 2750 },
  { sku: 'GFT-100', name: 'Gift card', priceCents: 5000 },
  { sku: 'CAP-110', name: 'Baseball cap', priceCents: 2400 },
];
