// A partner's contract groups: created, children added and removed, parent users assigned
// (each then manages only the children of their groups).

import { gql } from '../api.js';
import { errorText, field, form, h, notice, pager, table } from '../dom.js';
import { fmtDate, t } from '../i18n.js';

const LIST = `query($id:ID!,$n:Int,$a:String){ contract(id:$id){ groups(first:$n, after:$a){ totalCount pageInfo { hasNextPage endCursor }
  edges { cursor node { id name childIds userIds createdAt } } } } }`;
const NAMES = `query($id:ID!){ contract(id:$id){
  children(first:100){ edges { node { id name } } }
  users(first:100){ edges { node { id loginId role } } } } }`;
const GROUP = 'id name childIds userIds createdAt';

export async function groupsTab(c) {
  const names = (await gql(NAMES, { id: c.id })).contract;
  const children = names.children.edges.map((e) => e.node);
  const users = names.users.edges.map((e) => e.node).filter((u) => u.role !== 'OWNER');
  const childName = (id) => children.find((x) => x.id === id)?.name || id;
  const userName = (id) => users.find((x) => x.id === id)?.loginId || id;
  const panel = h('div');
  const list = pager({
    load: async (n, a) => (await gql(LIST, { id: c.id, n, a })).contract.groups,
    render: (edges) =>
      table([t('group.name'), t('group.children'), t('group.users'), t('contract.created'), t('actions')],
        edges.map(({ node: g }) =>
          h('tr', h('td', g.name), h('td', String(g.childIds.length)), h('td', String(g.userIds.length)), h('td', fmtDate(g.createdAt)),
            h('td', h('button', { type: 'button', 'aria-label': `${t('group.manage')}: ${g.name}`, onclick: () => manage(g) }, t('group.manage'))))),
        t('tab.groups')),
  });
  const call = async (mutation, vars, out) => {
    try {
      const g = Object.values(await gql(`mutation($g:ID!,$x:ID!){ r: ${mutation}{ ${GROUP} } }`, vars))[0];
      list.reload();
      manage(g);
    } catch (e) {
      out.replaceChildren(notice(errorText(e), 'error'));
    }
  };
  function manage(g) {
    const out = h('div');
    const chip = (label, onclick, what) =>
      h('li', label, ' ', h('button.link', { type: 'button', 'aria-label': `${t('group.remove')}: ${what}`, onclick }, t('group.remove')));
    panel.replaceChildren(h('section.sub', { 'aria-labelledby': 'gr-h' },
      h('h3', { id: 'gr-h', tabindex: '-1' }, g.name),
      out,
      h('div.cols',
        h('div',
          h('h4', t('group.children')),
          h('ul.chips', g.childIds.map((id) => chip(childName(id), () => call('removeChildFromGroup(groupId:$g, contractId:$x)', { g: g.id, x: id }, out), childName(id)))),
          form({
            className: 'inline',
            fields: [field({ name: 'x', label: t('group.addChild'), type: 'select', options: children.filter((x) => !g.childIds.includes(x.id)).map((x) => [x.id, x.name]) })],
            submitLabel: t('group.addChild'),
            submit: (v) => call('addChildToGroup(groupId:$g, contractId:$x)', { g: g.id, x: v.x }, out),
          })),
        h('div',
          h('h4', t('group.users')),
          h('ul.chips', g.userIds.map((id) => chip(userName(id), () => call('unassignUserFromGroup(groupId:$g, userId:$x)', { g: g.id, x: id }, out), userName(id)))),
          form({
            className: 'inline',
            fields: [field({ name: 'x', label: t('group.assignUser'), type: 'select', options: users.filter((u) => !g.userIds.includes(u.id)).map((u) => [u.id, u.loginId]) })],
            submitLabel: t('group.assignUser'),
            submit: (v) => call('assignUserToGroup(groupId:$g, userId:$x)', { g: g.id, x: v.x }, out),
          })))));
    panel.querySelector('h3').focus();
  }
  const create = form({
    legend: t('group.new'),
    fields: [field({ name: 'name', label: t('group.name'), required: true })],
    submitLabel: t('create'),
    submit: async (v, f) => {
      await gql('mutation($p:ID!,$n:String!){ createContractGroup(partnerId:$p, name:$n){ id } }', { p: c.id, n: v.name });
      f.reset();
      list.reload();
    },
    ok: t('saved'),
  });
  return h('div.cols',
    h('section.card.wide', { 'aria-labelledby': 'gl-h' }, h('h2', { id: 'gl-h' }, t('tab.groups')), list, panel),
    h('section.card', create));
}
