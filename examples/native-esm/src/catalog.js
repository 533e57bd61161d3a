import { readFile } from 'node:fs/promises';
import _ from 'lodash';

// Resolved relative to this module, not to the working directory.
const CATALOG_URL = new URL('./catalog.json', import.meta.url);

export async function loadCatalog() {
  return JSON.parse(await readFile(CATALOG_URL, 'utf8'));
}

export function cheapestByCategory(products) {
  const groups = _.groupBy(products, 'category');
  return _.mapValues(groups, (items) => _.minBy(items, 'price').name);
}
