// A contract's tenants (paginated, create, delete) and each tenant's access rights: the users
// who may work in it — the contract's own and, for a child, its partner's — granted and revoked.

import { gql } from '../api.js';
import { confirmDialog, errorText, field, form, h, notice, pager, showErrors, table } from '../dom.js';
import { fmtDate, t } from '../i18n.js';
import { state } from '../app.js';

const PAGE = 'totalCount pageInfo { hasNextPage endCursor }';
const LIST = `query($id:ID!,$n:Int,$a:String){ contract(id:$id){ tenants(first:$n, after:$a){ ${PAGE}
  edges { cursor node { id name region workspaceId createdAt users(first:1){ totalCount } } } } } }`;
// One tenant's grants: the tenant is addressed by the cursor before it, since tenants are only
// reachable through their contract's connection.
const GRANTS = `query($id:ID!,$ta:String,$n:Int,$a:String){ contract(id:$id){ tenants(first:1, after:$ta){ edges { node {
  id users(first:$n, after:$a){ ${PAGE} edges { cursor node { id loginId email role contractId } } } } } } } }`;
const USERS = `query($id:ID!){ contract(id:$id){ users(first:100){ edges { node { id loginId role contractId } } } } }`;

export async function tenantsTab(c) {
  const manager = state.me.role !== 'USER';
  const panel = h('div.access');
  const list = pager({
    load: async (n, a) => (await gql(LIST, { id: c.id, n, a })).contract.tenants,
    render: (edges, after) =>
      table(
        [t('tenant.name'), t('tenant.region'), t('tenant.workspace'), t('tenant.users'), t('contract.created'), t('actions')],
        edges.map(({ node: tn }, i) => {
          const before = i === 0 ? after : edges[i - 1].cursor;
          return h('tr',
            h('td', tn.name), h('td', tn.region), h('td', h('code', tn.workspaceId)),
            h('td', String(tn.users.totalCount)), h('td', fmtDate(tn.createdAt)),
            h('td.row-actions',
              h('button', { type: 'button', 'aria-label': `${t('tenant.access')}: ${tn.name}`, onclick: () => showAccess(c, tn, before, panel, list) }, t('tenant.access')),
              manager ? h('button.danger', { type: 'button', 'aria-label': `${t('delete')}: ${tn.name}`, onclick: () => del(tn, list, panel) }, t('delete')) : null));
        }),
        t('tab.tenants')),
  });
  let create = null;
  if (manager && c.status === 'ACTIVE') {
    let workspaces = [];
    try {
      workspaces = (await gql('query($id:ID!){ contract(id:$id){ workspaces(first:100){ edges { node { id name isDefault } } } } }', { id: c.id }))
        .contract.workspaces.edges.map((e) => e.node);
    } catch {
      /* not a manager of workspaces: the default one is used */
    }
    create = form({
      legend: t('tenant.new'),
      fields: [
        field({ name: 'name', label: t('tenant.name'), required: true }),
        field({ name: 'region', label: t('tenant.region'), required: true, value: 'jp1', help: 'jp1, jp2, us1…' }),
        workspaces.length > 1
          ? field({ name: 'workspaceId', label: t('tenant.workspace'), type: 'select', options: workspaces.map((w) => [w.id, w.name]) })
          : null,
      ].filter(Boolean),
      submitLabel: t('create'),
      submit: async (v, f) => {
        const d = await gql('mutation($c:ID!,$i:TenantInput!){ createTenant(contractId:$c, input:$i){ id name } }', {
          c: c.id,
          i: { name: v.name, region: v.region, workspaceId: v.workspaceId || null },
        });
        f.reset();
        list.reload();
        return d.createTenant;
      },
      ok: (r) => t('tenant.created', { name: r.name }),
    });
  }
  return h('div.cols',
    h('section.card.wide', { 'aria-labelledby': 'tn-h' }, h('h2', { id: 'tn-h' }, t('tab.tenants')), list, panel),
    create ? h('section.card', create) : null);
}

async function del(tn, list, panel) {
  if (!(await confirmDialog(t('confirm.delete', { what: tn.name }), { okLabel: t('delete'), danger: true }))) return;
  try {
    await gql('mutation($id:ID!){ deleteTenant(id:$id){ id } }', { id: tn.id });
    panel.replaceChildren();
    list.reload();
  } catch (e) {
    panel.replaceChildren(notice(errorText(e), 'error'));
  }
}

async function grantableUsers(c) {
  const own = (await gql(USERS, { id: c.id })).contract.users.edges.map((e) => e.node);
  let parent = [];
  if (c.parentId) {
    try {
      parent = (await gql(USERS, { id: c.parentId })).contract.users.edges.map((e) => ({ ...e.node, parent: true }));
    } catch {
      /* the child's own users do not see the partner: only its users are offered */
    }
  }
  return [...own, ...parent];
}

async function showAccess(c, tn, before, panel, list) {
  const manager = state.me.role !== 'USER';
  const grants = pager({
    pageSize: 10,
    load: async (n, a) => (await gql(GRANTS, { id: c.id, ta: before, n, a })).contract.tenants.edges[0].node.users,
    render: (edges) =>
      table([t('user.loginId'), t('user.email'), t('user.role'), t('actions')],
        edges.map(({ node: u }) =>
          h('tr',
            h('td', u.contractId !== c.id ? t('tenant.parentUser', { login: u.loginId }) : u.loginId),
            h('td', u.email), h('td', t('role.' + u.role)),
            h('td', manager ? h('button.danger', {
              type: 'button',
              'aria-label': `${t('revoke')}: ${u.loginId}`,
              onclick: async (ev) => {
                try {
                  await gql('mutation($t:ID!,$u:ID!){ revokeTenantAccess(tenantId:$t, userId:$u){ id } }', { t: tn.id, u: u.id });
                  grants.reload();
                  list.reload();
                } catch (e) {
                  ev.target.after(notice(errorText(e), 'error'));
                }
              },
            }, t('revoke')) : null))),
        t('tenant.users')),
  });
  let grantForm = null;
  if (manager) {
    const users = await grantableUsers(c).catch(() => []);
    grantForm = form({
      className: 'inline',
      fields: [field({
        name: 'userId', label: t('tenant.pickUser'), type: 'select', required: true,
        options: users.map((u) => [u.id, u.parent ? t('tenant.parentUser', { login: u.loginId }) : `${u.loginId} (${t('role.' + u.role)})`]),
      })],
      submitLabel: t('grant'),
      submit: async (v) => {
        await gql('mutation($t:ID!,$u:ID!){ grantTenantAccess(tenantId:$t, userId:$u){ userId } }', { t: tn.id, u: v.userId });
        grants.reload();
        list.reload();
      },
    });
  }
  panel.replaceChildren(h('section.sub', { 'aria-labelledby': 'acc-h' },
    h('h3', { id: 'acc-h', tabindex: '-1' }, t('tenant.accessOf', { name: tn.name })),
    grantForm, grants));
  panel.querySelector('h3').focus();
}

export { showErrors };
