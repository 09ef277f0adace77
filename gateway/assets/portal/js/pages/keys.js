// API keys of a contract: paginated, created with scopes (the secret shown once), revoked.

import { gql } from '../api.js';
import { confirmDialog, errorText, field, form, h, nextId, notice, pager, table } from '../dom.js';
import { fmtDate, t } from '../i18n.js';

const SCOPES = ['CONTRACTS_READ', 'CONTRACTS_WRITE', 'TENANTS_READ', 'TENANTS_WRITE', 'USERS_READ', 'USERS_WRITE',
  'BILLING_READ', 'BILLING_WRITE', 'NOTIFICATIONS_READ', 'NOTIFICATIONS_WRITE', 'SLA_READ', 'SLA_WRITE'];
const KEY = 'id name prefix scopes createdAt expiresAt lastUsedAt revokedAt';
const LIST = `query($id:ID!,$n:Int,$a:String){ contract(id:$id){ apiKeys(first:$n, after:$a){ totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { ${KEY} } } } } }`;

export function keysTab(c) {
  const secret = h('div', { 'aria-live': 'polite' });
  const list = pager({
    load: async (n, a) => (await gql(LIST, { id: c.id, n, a })).contract.apiKeys,
    render: (edges) =>
      table([t('key.name'), t('key.prefix'), t('key.scopes'), t('key.created'), t('key.expiresAt'), t('key.lastUsed'), t('contract.status'), t('actions')],
        edges.map(({ node: k }) =>
          h('tr', h('td', k.name), h('td', h('code', k.prefix)), h('td.scopes', k.scopes.join(' ')),
            h('td', fmtDate(k.createdAt)), h('td', k.expiresAt ? fmtDate(k.expiresAt) : t('key.never')),
            h('td', fmtDate(k.lastUsedAt)), h('td', k.revokedAt ? `${t('key.revoked')} ${fmtDate(k.revokedAt)}` : t('key.active')),
            h('td', k.revokedAt ? null : h('button.danger', {
              type: 'button',
              'aria-label': `${t('revoke')}: ${k.name}`,
              onclick: async (ev) => {
                if (!(await confirmDialog(`${t('revoke')}: ${k.name}?`, { okLabel: t('revoke'), danger: true }))) return;
                try {
                  await gql(`mutation($id:ID!){ revokeApiKey(id:$id){ id } }`, { id: k.id });
                  list.reload();
                } catch (e) {
                  ev.target.after(notice(errorText(e), 'error'));
                }
              },
            }, t('revoke'))))),
        t('tab.keys')),
  });
  const groupId = nextId('scopes');
  const scopes = h('fieldset.field.scopes', { dataset: { field: 'scopes' }, 'aria-describedby': `${groupId}-err` },
    h('legend', t('key.scopes')),
    h('div.scope-grid', SCOPES.map((s) => {
      const id = nextId('scope');
      return h('span.check', h('input', { type: 'checkbox', id, name: 'scopes', value: s, dataset: { multi: '1' } }), h('label', { for: id }, s));
    })),
    h('small.error', { id: `${groupId}-err`, role: 'alert' }));
  const create = form({
    legend: t('key.new'),
    fields: [
      field({ name: 'name', label: t('key.name'), required: true }),
      scopes,
      field({ name: 'expiresAt', label: t('key.expiresAt'), type: 'date' }),
    ],
    submitLabel: t('create'),
    submit: async (v, f) => {
      const input = {
        name: v.name,
        scopes: v.scopes || [],
        expiresAt: v.expiresAt ? new Date(`${v.expiresAt}T00:00:00Z`).toISOString() : null,
        contractId: c.id,
      };
      const d = (await gql(`mutation($i:ApiKeyInput!){ createApiKey(input:$i){ secret apiKey { ${KEY} } } }`, { i: input })).createApiKey;
      f.reset();
      list.reload();
      secret.replaceChildren(h('div.secret', { role: 'status' },
        h('h3', t('key.secret', { name: d.apiKey.name })),
        h('p', t('key.secretHelp')),
        h('code.wrap', { id: 'api-key-secret' }, d.secret),
        h('div.actions', h('button', { type: 'button', onclick: () => navigator.clipboard?.writeText(d.secret) }, 'Copy'),
          h('button', { type: 'button', onclick: () => secret.replaceChildren() }, t('close')))));
    },
  });
  return h('div.cols',
    h('section.card.wide', { 'aria-labelledby': 'ky-h' }, h('h2', { id: 'ky-h' }, t('tab.keys')), secret, list),
    h('section.card', create));
}

export { errorText };
