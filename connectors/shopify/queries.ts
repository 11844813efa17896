import { LINE_ITEMS_PER_ORDER, VARIANTS_PER_PRODUCT, type ShopifyStream } from './records.js';

/**
 * What each stream asks the GraphQL Admin API for, written once and rendered two ways: the
 * paged query (`nodes`, `first`/`after`, `pageInfo`) and the bulk export query (`edges { node }`,
 * nested connections without `first`: a bulk operation reads them whole, as separate lines).
 */

interface Selection {
  /** The root connection: `orders`, `customers`, `products`. */
  root: ShopifyStream;
  fields: string;
  /** One nested connection (line items, variants) and how many of it a page asks for. */
  nested?: { field: string; first: number; fields: string };
  /** Objects per page: Shopify refuses a query whose estimated cost passes 1,000 points. */
  pageSize: number;
}

const money = (field: string) => `${field} { shopMoney { amount currencyCode } }`;

export const SELECTIONS: Record<ShopifyStream, Selection> = {
  orders: {
    root: 'orders',
    fields: [
      'id name email createdAt updatedAt processedAt cancelledAt closedAt currencyCode',
      money('totalPriceSet'),
      money('subtotalPriceSet'),
      money('totalTaxSet'),
      money('totalDiscountsSet'),
      'displayFinancialStatus displayFulfillmentStatus customer { id } tags note test',
    ].join(' '),
    nested: {
      field: 'lineItems',
      first: LINE_ITEMS_PER_ORDER,
      fields: `id name title quantity sku variantTitle vendor ${money('originalUnitPriceSet')} product { id } variant { id }`,
    },
    // 10 orders of up to 50 line items: about 520 points a page.
    pageSize: 10,
  },
  customers: {
    root: 'customers',
    fields: 'id firstName lastName defaultEmailAddress { emailAddress } defaultPhoneNumber { phoneNumber } state verifiedEmail tags note createdAt updatedAt',
    pageSize: 100,
  },
  products: {
    root: 'products',
    fields: 'id title handle vendor productType status tags descriptionHtml createdAt updatedAt publishedAt',
    nested: {
      field: 'variants',
      first: VARIANTS_PER_PRODUCT,
      fields: 'id title sku price compareAtPrice barcode position inventoryQuantity taxable createdAt updatedAt',
    },
    // 5 products of up to 100 variants: about 510 points a page.
    pageSize: 5,
  },
};

/** The paged query; `$query` is the search filter (`updated_at:>='…'`), null on a first read. */
export function pagedQuery(stream: ShopifyStream): string {
  const s = SELECTIONS[stream];
  const nested = s.nested === undefined ? '' : ` ${s.nested.field}(first: ${s.nested.first}) { nodes { ${s.nested.fields} } }`;
  return (
    `query ($first: Int!, $after: String, $query: String) { ${s.root}(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) ` +
    `{ nodes { ${s.fields}${nested} } pageInfo { hasNextPage endCursor } } }`
  );
}

/** The bulk export query, the search filter written into it (a bulk query takes no variables). */
export function bulkQuery(stream: ShopifyStream, search: string | undefined): string {
  const s = SELECTIONS[stream];
  const nested = s.nested === undefined ? '' : ` ${s.nested.field} { edges { node { ${s.nested.fields} } } }`;
  const args = search === undefined ? 'sortKey: UPDATED_AT' : `query: ${JSON.stringify(search)}, sortKey: UPDATED_AT`;
  return `{ ${s.root}(${args}) { edges { node { ${s.fields}${nested} } } } }`;
}

/** The connection a child line of a bulk export belongs under, by its object type. */
export function nestedFieldOf(stream: ShopifyStream): string | undefined {
  return SELECTIONS[stream].nested?.field;
}
