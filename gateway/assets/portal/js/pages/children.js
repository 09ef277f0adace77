// A partner's child contracts: search by name, external id and status, paginated, and the
// form that creates a child with its owner account.

import { gql } from '../api.js';
import { field, form, h, orNull, pager, table } from '../dom.js';
import { fmtDate, t } from '../i18n.js';
import { customerFields } from './contract.js';

const LIST = `query($id:ID!,$f:ContractFilter,$n:Int,$a:String){ contract(id:$id){ children(filter:$f, first:$n, after:$a){
  totalCount pageInfo { hasNextPage endCursor } edges { cursor node { id name externalId status createdAt } } } } }`;

export function contractRows(edges) {
  return table(
    [t('contract.name'), t('contract.externalId'), t('contract.status'), t('contract.created')],
    edges.map(({ node: c }) =>
      h('tr',
        h('td', h('a', { href: `#/contracts/${c.id}` }, c.name)),
        h('td', c.externalId || '—'),
        h('td', h(`span.badge.${c.status.toLowerCase()}`, t('status.' + c.status))),
        h('td', fmtDate(c.createdAt)))),
    t('tab.children'));
}

/** The search form over a paginated contract list; `load(filter, first, after)` fetches a page. */
export function searchableList(load, pageSize = 10) {
  let filter = {};
  const list = pager({ load: (n, a) => load(filter, n, a), render: contractRows, pageSize });
  const search = h('form.search', { role: 'search', 'aria-label': t('children.search') },
    field({ name: 'name', label: t('contract.name') }),
    field({ name: 'externalId', label: t('contract.externalId') }),
    field({ name: 'status', label: t('contract.status'), type: 'select', options: [['', t('any')], ['ACTIVE', t('status.ACTIVE')], ['ABOLISHED', t('status.ABOLISHED')]] }),
    h('div.actions', h('button.primary', { type: 'submit' }, t('search')),
      h('button', { type: 'reset' }, t('clear'))));
  search.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = Object.fromEntries(new FormData(search));
    filter = { name: orNull(v.name), externalId: orNull(v.externalId), status: orNull(v.status) };
    list.reload(true);
  });
  search.addEventListener('reset', () => {
    filter = {};
    setTimeout(() => list.reload(true));
  });
  return { search, list };
}

export function childrenTab(c) {
  const { search, list } = searchableList(async (f, n, a) => (await gql(LIST, { id: c.id, f, n, a })).contract.children);
  const create = form({
    legend: t('children.new'),
    fields: [
      field({ name: 'name', label: t('contract.name'), required: true }),
      field({ name: 'externalId', label: t('contract.externalId') }),
      ...customerFields(),
      h('h4', t('owner.title')),
      field({ name: 'owner.loginId', label: t('owner.loginId'), required: true, autocomplete: 'off' }),
      field({ name: 'owner.email', label: t('owner.email'), type: 'email', required: true, autocomplete: 'off' }),
      field({ name: 'owner.password', label: t('owner.password'), type: 'password', required: true, autocomplete: 'new-password' }),
    ],
    submitLabel: t('create'),
    submit: async (v, f) => {
      const input = { ...v, externalId: orNull(v.externalId) };
      const d = await gql('mutation($p:ID!,$i:ContractInput!){ createChildContract(parentId:$p, input:$i){ id name } }', { p: c.id, i: input });
      f.reset();
      list.reload();
      return d.createChildContract;
    },
    ok: (r) => t('children.created', { name: r.name }),
  });
  return h('div.cols',
    h('section.card.wide', { 'aria-labelledby': 'ch-h' }, h('h2', { id: 'ch-h' }, t('children.search')), search, list),
    h('section.card', { 'aria-label': t('children.new') }, create));
}
