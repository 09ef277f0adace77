// The operator's view: every contract, searchable and paginated.

import { gql } from '../api.js';
import { h } from '../dom.js';
import { t } from '../i18n.js';
import { searchableList } from './children.js';

const LIST = `query($f:ContractFilter,$n:Int,$a:String){ contracts(filter:$f, first:$n, after:$a){
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name externalId status createdAt } } } }`;

export function contractsPage() {
  const { search, list } = searchableList(async (f, n, a) => (await gql(LIST, { f, n, a })).contracts);
  return h('div', h('h1', t('contracts.title')), h('section.card.wide', search, list));
}
