// One contract: its tabs (overview, child contracts for partners, tenants, users, groups for
// partners, billing, API keys). The overview shows customer information to those who may see
// it, the change form, and abolition with the force confirmation when tenants remain.

import { gql } from '../api.js';
import { confirmDialog, errorText, field, form, h, notice, orNull, showErrors } from '../dom.js';
import { fmtDate, t } from '../i18n.js';
import { go, state } from '../app.js';
import { childrenTab } from './children.js';
import { tenantsTab } from './tenants.js';
import { usersTab } from './users.js';
import { groupsTab } from './groups.js';
import { billingTab } from './billing.js';
import { keysTab } from './keys.js';

export const CONTRACT_FIELDS = 'id kind parentId name externalId status createdAt abolishedAt ownerUserId customer { company address contactName contactEmail }';

export async function contractPage(id, tab) {
  const c = (await gql(`query($id:ID!){ contract(id:$id){ ${CONTRACT_FIELDS} } }`, { id })).contract;
  const me = state.me;
  const manager = me.role !== 'USER';
  const tabs = [
    ['overview', t('tab.overview')],
    c.kind === 'PARTNER' && manager ? ['children', t('tab.children')] : null,
    ['tenants', t('tab.tenants')],
    ['users', t('tab.users')],
    c.kind === 'PARTNER' && manager ? ['groups', t('tab.groups')] : null,
    ['billing', t('tab.billing')],
    manager ? ['keys', t('tab.keys')] : null,
  ].filter(Boolean);
  if (!tabs.some(([k]) => k === tab)) tab = 'overview';
  const body = {
    overview: overview,
    children: childrenTab,
    tenants: tenantsTab,
    users: usersTab,
    groups: groupsTab,
    billing: billingTab,
    keys: keysTab,
  }[tab](c);
  return h('div',
    h('div.crumbs',
      c.parentId && me.contractId !== c.id ? h('a', { href: `#/contracts/${c.parentId}/children` }, `← ${t('contract.parent')}`) : null),
    h('h1', c.name, ' ', h(`span.badge.${c.status.toLowerCase()}`, t('status.' + c.status)), ' ', h('span.badge', t('kind.' + c.kind))),
    h('nav.tabs', { 'aria-label': c.name },
      tabs.map(([k, label]) => h('a', { href: `#/contracts/${c.id}/${k}`, 'aria-current': k === tab ? 'page' : null }, label))),
    await body);
}

function overview(c) {
  const info = h('section.card', { 'aria-labelledby': 'ov-h' },
    h('h2', { id: 'ov-h' }, t('tab.overview')),
    h('dl.grid',
      h('dt', 'ID'), h('dd', h('code', c.id)),
      h('dt', t('contract.kind')), h('dd', t('kind.' + c.kind)),
      h('dt', t('contract.externalId')), h('dd', c.externalId || '—'),
      h('dt', t('contract.status')), h('dd', t('status.' + c.status)),
      h('dt', t('contract.created')), h('dd', fmtDate(c.createdAt)),
      c.abolishedAt ? [h('dt', t('contract.abolished')), h('dd', fmtDate(c.abolishedAt))] : null));
  const cust = h('section.card', { 'aria-labelledby': 'cu-h' },
    h('h2', { id: 'cu-h' }, t('contract.customer')),
    c.customer
      ? h('dl.grid',
          h('dt', t('customer.company')), h('dd', c.customer.company),
          h('dt', t('customer.address')), h('dd', c.customer.address || '—'),
          h('dt', t('customer.contactName')), h('dd', c.customer.contactName || '—'),
          h('dt', t('customer.contactEmail')), h('dd', c.customer.contactEmail))
      : h('p.muted', t('contract.noCustomer')));
  const canEdit = state.me.role === 'OPERATOR' || state.me.role === 'OWNER' || state.me.role === 'ADMIN';
  const active = c.status === 'ACTIVE';
  return h('div.cols', info, cust,
    canEdit && active ? h('section.card', { 'aria-labelledby': 'ed-h' }, h('h2', { id: 'ed-h' }, t('contract.edit')), editForm(c)) : null,
    canEdit && active && c.id !== state.me.contractId ? abolishCard(c) : null);
}

export function customerFields(c = {}) {
  return [
    field({ name: 'customer.company', label: t('customer.company'), required: true, value: c.company || '', autocomplete: 'organization' }),
    field({ name: 'customer.address', label: t('customer.address'), value: c.address || '', autocomplete: 'street-address' }),
    field({ name: 'customer.contactName', label: t('customer.contactName'), value: c.contactName || '', autocomplete: 'name' }),
    field({ name: 'customer.contactEmail', label: t('customer.contactEmail'), type: 'email', required: true, value: c.contactEmail || '', autocomplete: 'email' }),
  ];
}

function editForm(c) {
  return form({
    fields: [
      field({ name: 'name', label: t('contract.name'), required: true, value: c.name }),
      field({ name: 'externalId', label: t('contract.externalId'), value: c.externalId || '' }),
      ...(c.customer ? customerFields(c.customer) : []),
    ],
    submitLabel: t('save'),
    submit: async (v) => {
      const input = { name: v.name, externalId: v.externalId.trim() };
      if (v.customer) input.customer = v.customer;
      await gql(`mutation($id:ID!,$i:UpdateContractInput!){ updateContract(id:$id, input:$i){ id } }`, { id: c.id, i: input });
    },
    ok: t('saved'),
  });
}

function abolishCard(c) {
  const out = h('div');
  const button = h('button.danger', { type: 'button', id: 'abolish' }, t('contract.abolish'));
  const run = async (force) => {
    out.replaceChildren();
    try {
      await gql('mutation($id:ID!,$f:Boolean){ abolishContract(id:$id, force:$f){ id status } }', { id: c.id, f: force });
      out.replaceChildren(notice(t('contract.abolishedDone')));
      go(`/contracts/${c.id}`);
    } catch (e) {
      if (e.code === 'CONFLICT' && !force) {
        // Tenants remain: the API refuses unless forced, and so does the portal without a second yes.
        if (await confirmDialog(t('contract.abolishForce'), { okLabel: t('contract.abolishForceButton'), danger: true })) run(true);
        else out.replaceChildren(notice(errorText(e), 'error'));
      } else {
        const f = h('form');
        out.replaceChildren(f);
        showErrors(f, e);
      }
    }
  };
  button.addEventListener('click', async () => {
    if (await confirmDialog(t('contract.abolishConfirm', { name: c.name }), { okLabel: t('contract.abolish'), danger: true })) run(false);
  });
  return h('section.card', { 'aria-labelledby': 'ab-h' }, h('h2', { id: 'ab-h' }, t('contract.abolish')),
    h('p.muted', t('contract.abolishHelp')), h('div.actions', button), out);
}

export { orNull };
