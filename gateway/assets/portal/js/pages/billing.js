// Billing: this month's estimate, the last 24 months, and for the chosen month the bill tree
// with its tiers, the summary per workspace, the three CSV downloads, and — for partners —
// each child's bill.

import { csvText, downloadCsv, gql, parseCsv } from '../api.js';
import { errorText, h, nextId, notice, pager, table } from '../dom.js';
import { fmtMoney, t } from '../i18n.js';

const PAGE = 'totalCount pageInfo { hasNextPage endCursor }';
const HEAD = 'contractId month status currency subtotal taxPercent tax total';
const HISTORY = `query($id:ID!,$n:Int,$a:String){ contract(id:$id){ bills(first:$n, after:$a){ ${PAGE} edges { cursor node { ${HEAD} } } } } }`;
const BILL = `query($id:ID!,$m:Month!){ contract(id:$id){ bill(month:$m){ ${HEAD} lines { tier kind label detail usage amount tenantId } } } }`;
const CHILDREN = `query($id:ID!,$m:Month!,$n:Int,$a:String){ contract(id:$id){ children(first:$n, after:$a){ ${PAGE}
  edges { cursor node { id name externalId bill(month:$m){ status currency total } } } } } }`;

export async function billingTab(c) {
  let latest;
  try {
    latest = (await gql(HISTORY, { id: c.id, n: 1, a: null })).contract.bills.edges[0]?.node;
  } catch (e) {
    return h('section.card', notice(e.code === 'FORBIDDEN' ? t('billing.hidden') : errorText(e), 'error'));
  }
  const detail = h('div.bill-detail');
  const estimate = h('section.card', { 'aria-labelledby': 'est-h' },
    h('h2', { id: 'est-h' }, t('billing.estimate')),
    latest
      ? h('div.estimate',
          h('p.big', { id: 'estimate-total' }, fmtMoney(latest.total, latest.currency)),
          h('p.muted', `${latest.month} · ${t('bill.' + latest.status)} · ${t('billing.subtotal')} ${fmtMoney(latest.subtotal, latest.currency)} · ${t('billing.tax', { percent: latest.taxPercent })} ${fmtMoney(latest.tax, latest.currency)}`))
      : h('p.muted', t('billing.noBill')));
  const history = pager({
    pageSize: 12,
    load: async (n, a) => (await gql(HISTORY, { id: c.id, n, a })).contract.bills,
    render: (edges) =>
      table([t('billing.month'), t('billing.status'), t('billing.total'), t('actions')],
        edges.map(({ node: b }) =>
          h('tr', h('td', b.month), h('td', t('bill.' + b.status)), h('td.num', fmtMoney(b.total, b.currency)),
            h('td', h('button', { type: 'button', 'aria-label': `${t('billing.show')}: ${b.month}`, onclick: () => showMonth(c, b.month, detail) }, t('billing.show'))))),
        t('billing.history')),
  });
  const parts = [
    h('div.cols', estimate, h('section.card', { 'aria-labelledby': 'hi-h' }, h('h2', { id: 'hi-h' }, t('billing.history')), history)),
    detail,
  ];
  if (latest) showMonth(c, latest.month, detail);
  return h('div', parts);
}

async function showMonth(c, month, box) {
  box.replaceChildren(h('p.muted', t('loading')));
  let bill;
  try {
    bill = (await gql(BILL, { id: c.id, m: month })).contract.bill;
  } catch (e) {
    box.replaceChildren(notice(errorText(e), 'error'));
    return;
  }
  if (!bill) {
    box.replaceChildren(notice(t('billing.noBill')));
    return;
  }
  const downloads = h('section.card', { 'aria-labelledby': 'dl-h' },
    h('h2', { id: 'dl-h' }, `${t('billing.downloads')} · ${month}`),
    h('div.actions', ['summary', 'detail', 'legacy'].map((format) =>
      h('button', { type: 'button', dataset: { format }, onclick: (ev) => download(c.id, month, format, ev.target) }, t('billing.csv.' + format)))));
  const summary = h('section.card', { 'aria-labelledby': 'sm-h' }, h('h2', { id: 'sm-h' }, `${t('billing.summary')} · ${month}`), h('p.muted', t('loading')));
  csvText(c.id, month, 'summary')
    .then((text) => {
      const [head, ...rows] = parseCsv(text).filter((r) => r.length > 1);
      const col = (name) => head.indexOf(name);
      const [charge, wsId, wsName, amount, currency] = ['Charge Type', 'Workspace ID', 'Workspace Name', 'Amount', 'Currency'].map(col);
      summary.replaceChildren(summary.firstChild,
        table([t('billing.charge'), t('billing.workspace'), t('billing.amount')],
          rows.map((r) => h('tr', h('td', t(`billing.charge.${r[charge]}`)), h('td', r[wsName] || r[wsId] || '—'), h('td.num', fmtMoney(r[amount], r[currency])))),
          t('billing.summary')));
    })
    .catch((e) => summary.replaceChildren(summary.firstChild, notice(errorText(e), 'error')));
  const parts = [
    h('div.cols', summary, downloads),
    billTree(bill),
  ];
  if (c.kind === 'PARTNER') parts.push(childBills(c, month));
  box.replaceChildren(...parts);
}

function billTree(bill) {
  const depthId = nextId('depth');
  let depth = 7;
  const body = h('div');
  const draw = () =>
    body.replaceChildren(table([t('billing.item'), t('billing.usage'), t('billing.amount')],
      bill.lines.filter((l) => l.tier <= depth).map((l) =>
        h(`tr.tier-${l.tier}`, { dataset: { kind: l.kind } },
          h('td', h('span.indent', { style: null, class: `t${l.tier}` }, l.label), l.detail ? h('small.muted', ` ${l.detail}`) : null),
          h('td', l.usage), h('td.num', fmtMoney(l.amount, bill.currency)))),
      t('billing.tree')));
  const select = h('select', { id: depthId, onchange: (e) => { depth = Number(e.target.value); draw(); } },
    [1, 2, 3, 4, 5, 6, 7].map((n) => h('option', { value: n, selected: n === depth }, String(n))));
  draw();
  return h('section.card', { 'aria-labelledby': 'tree-h' },
    h('h2', { id: 'tree-h' }, `${t('billing.tree')} · ${bill.month} · ${t('bill.' + bill.status)}`),
    h('div.field.inline', h('label', { for: depthId }, t('billing.depth')), select),
    body,
    h('dl.totals',
      h('dt', t('billing.subtotal')), h('dd', fmtMoney(bill.subtotal, bill.currency)),
      h('dt', t('billing.tax', { percent: bill.taxPercent })), h('dd', fmtMoney(bill.tax, bill.currency)),
      h('dt', t('billing.total')), h('dd', h('strong', fmtMoney(bill.total, bill.currency)))));
}

function childBills(c, month) {
  return h('section.card', { 'aria-labelledby': 'cb-h' },
    h('h2', { id: 'cb-h' }, `${t('billing.children')} · ${month}`),
    pager({
      load: async (n, a) => (await gql(CHILDREN, { id: c.id, m: month, n, a })).contract.children,
      render: (edges) =>
        table([t('contract.name'), t('contract.externalId'), t('billing.status'), t('billing.total')],
          edges.map(({ node: ch }) =>
            h('tr', h('td', h('a', { href: `#/contracts/${ch.id}/billing` }, ch.name)), h('td', ch.externalId || '—'),
              h('td', ch.bill ? t('bill.' + ch.bill.status) : '—'),
              h('td.num', ch.bill ? fmtMoney(ch.bill.total, ch.bill.currency) : '—'))),
          t('billing.children')),
    }));
}

async function download(contractId, month, format, button) {
  button.disabled = true;
  try {
    const { blob, name } = await downloadCsv(contractId, month, format);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (e) {
    button.after(notice(errorText(e), 'error'));
  } finally {
    button.disabled = false;
  }
}
