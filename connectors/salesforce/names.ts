/**
 * Stream names for sObjects: standard objects snake_case and plural (`Opportunity` →
 * `opportunities`, `OpportunityLineItem` → `opportunity_line_items`); custom objects and other
 * suffixed names (`Invoice__c`, `Setting__mdt`) by their API name lower-cased, which is already
 * unique and what people who know the org look for.
 */
export function streamName(objectName: string): string {
  if (objectName.includes('__')) return objectName.toLowerCase();
  const words = objectName
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1_$2')
    .toLowerCase()
    .split('_');
  const last = words.pop() ?? '';
  return [...words, plural(last)].join('_');
}

function plural(word: string): string {
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  if (/(?:s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  return `${word}s`;
}
