// A contract's users: paginated, created, deleted; role and usage visibility changed in place.

import { gql } from '../api.js';
import { confirmDialog, errorText, field, form, h, nextId, notice, pager, showErrors, table } from '../dom.js';
import { fmtDate, t } from '../i18n.js';
import { state } from '../app.js';

const LIST = `query($id:ID!,$n:Int,$a:String){ contract(id:$id){ users(first:$n, after:$a){ totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id loginId email role canViewUsage createdAt tenants(first:1){ totalCount } } } } } }`;

export function usersTab(c) {
  const manager = state.me.role !== 'USER';
  const list = pager({
    load: async (n, a) => (await gql(LIST, { id: c.id, n, a })).contract.users,
    render: (edges) =>
      table([t('user.loginId'), t('user.email'), t('user.role'), t('user.canViewUsage'), t('user.tenants'), t('contract.created'), t('actions')],
        edges.map(({ node: u }) => row(u, c, manager, list)), t('tab.users')),
  });
  const create = manager && c.status === 'ACTIVE'
    ? form({
        legend: t('user.new'),
        fields: [
          field({ name: 'loginId', label: t('user.loginId'), required: true, autocomplete: 'off' }),
          field({ name: 'email', label: t('user.email'), type: 'email', required: true, autocomplete: 'off' }),
          field({ name: 'password', label: t('user.password'), type: 'password', required: true, autocomplete: 'new-password' }),
          field({ name: 'role', label: t('user.role'), type: 'select', value: 'USER', options: [['USER', t('role.USER')], ['ADMIN', t('role.ADMIN')]] }),
        ],
        submitLabel: t('create'),
        submit: async (v, f) => {
          const d = await gql('mutation($c:ID!,$i:UserInput!){ createUser(contractId:$c, input:$i){ id loginId } }', { c: c.id, i: v });
          f.reset();
          list.reload();
          return d.createUser;
        },
        ok: (r) => t('user.created', { login: r.loginId }),
      })
    : null;
  return h('div.cols',
    h('section.card.wide', { 'aria-labelledby': 'us-h' }, h('h2', { id: 'us-h' }, t('tab.users')), list),
    create ? h('section.card', create) : null);
}

function row(u, c, manager, list) {
  const owner = u.role === 'OWNER';
  const editable = manager && !owner && u.id !== state.me.id;
  if (!editable) {
    return h('tr', h('td', u.loginId), h('td', u.email), h('td', t('role.' + u.role)),
      h('td', u.canViewUsage ? t('yes') : t('no')), h('td', String(u.tenants.totalCount)), h('td', fmtDate(u.createdAt)), h('td'));
  }
  // The row's controls form one small form per user, labelled by the login id.
  const fid = nextId('user');
  const f = h('form', { id: fid, class: 'row-form', 'aria-label': u.loginId });
  const roleId = nextId('role');
  const viewId = nextId('view');
  const role = h('select', { id: roleId, name: 'role', form: fid, 'aria-label': `${t('user.role')}: ${u.loginId}` },
    ['ADMIN', 'USER'].map((r) => h('option', { value: r, selected: r === u.role }, t('role.' + r))));
  const view = h('input', { id: viewId, type: 'checkbox', name: 'canViewUsage', form: fid, checked: u.canViewUsage, 'aria-label': `${t('user.canViewUsage')}: ${u.loginId}` });
  const status = h('span.row-status', { role: 'status' });
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    status.textContent = '';
    try {
      await gql('mutation($id:ID!,$i:UpdateUserInput!){ updateUser(id:$id, input:$i){ id } }', { id: u.id, i: { role: role.value, canViewUsage: view.checked } });
      status.textContent = t('saved');
    } catch (err) {
      status.textContent = errorText(err);
    }
  });
  return h('tr',
    h('td', u.loginId), h('td', u.email), h('td', role), h('td', view),
    h('td', String(u.tenants.totalCount)), h('td', fmtDate(u.createdAt)),
    h('td.row-actions', f,
      h('button', { type: 'submit', form: fid }, t('user.update')),
      h('button.danger', {
        type: 'button',
        'aria-label': `${t('delete')}: ${u.loginId}`,
        onclick: async () => {
          if (!(await confirmDialog(t('confirm.delete', { what: u.loginId }), { okLabel: t('delete'), danger: true }))) return;
          try {
            await gql('mutation($id:ID!){ deleteUser(id:$id){ id } }', { id: u.id });
            list.reload();
          } catch (err) {
            status.textContent = errorText(err);
          }
        },
      }, t('delete')),
      status));
}

export { notice, showErrors };
