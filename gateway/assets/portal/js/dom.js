// Small DOM helpers: an element builder, labelled form fields whose error slot the API's
// `extensions.field` points at, and a cursor pager every list uses.

import { ApiError } from './api.js';
import { t } from './i18n.js';

let uid = 0;
export const nextId = (p = 'f') => `${p}-${++uid}`;

/** h('tag.class', {attr, onclick…}, ...children): children may be strings, nodes, arrays, null. */
export function h(spec, attrs = {}, ...children) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs instanceof Node || typeof attrs === 'string' || Array.isArray(attrs)) {
    children.unshift(attrs);
    attrs = {};
  }
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
    else if (k === 'dataset') Object.assign(el.dataset, v);
    else if (k === 'value' || k === 'checked' || k === 'selected') el[k] = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

/**
 * A labelled input. `name` is the API's field path ("customer.contactEmail", "owner.loginId"),
 * so an error naming that field lands right under it.
 */
export function field({ name, label, type = 'text', value = '', required = false, options, autocomplete, inputmode, help, autofocus = false, attrs = {} }) {
  if (autofocus) attrs = { ...attrs, 'data-autofocus': '' };
  const id = nextId(name.replace(/\W/g, '-'));
  const errId = `${id}-err`;
  let input;
  if (type === 'select') {
    input = h('select', { id, name, required, 'aria-describedby': errId, ...attrs },
      options.map(([v, l]) => h('option', { value: v, selected: String(v) === String(value) }, l)));
  } else if (type === 'checkbox') {
    input = h('input', { id, name, type, checked: !!value, 'aria-describedby': errId, ...attrs });
    return h('div.field.check', { dataset: { field: name } }, input, h('label', { for: id }, label),
      h('small.error', { id: errId, role: 'alert' }));
  } else {
    input = h('input', { id, name, type, value, required, autocomplete, inputmode, 'aria-describedby': errId, ...attrs });
  }
  return h('div.field', { dataset: { field: name } },
    // The asterisk stays outside the label, so the field's accessible name is the label alone
    // (screen readers announce "required" from the attribute).
    h('div.label-row', h('label', { for: id }, label), required ? h('span.req', { 'aria-hidden': 'true' }, '*') : null),
    input,
    help ? h('small.help', help) : null,
    h('small.error', { id: errId, role: 'alert' }));
}

/** The text shown for an API error: the code's words and the server's message. */
export function errorText(e) {
  if (e instanceof ApiError) return e.errors.map((x) => `${t('err.' + (x.extensions?.code || 'INTERNAL'))}: ${x.message}`).join('\n');
  return String(e?.message || e);
}

/** Clears a form's errors, then puts each API error next to the field it names (or atop the form). */
export function showErrors(form, e) {
  clearErrors(form);
  const errors = e instanceof ApiError ? e.errors : [{ message: String(e?.message || e), extensions: {} }];
  let first = null;
  for (const x of errors) {
    const f = x.extensions?.field;
    const slot = f && findField(form, f);
    const text = `${t('err.' + (x.extensions?.code || 'INTERNAL'))}: ${x.message}`;
    if (slot) {
      slot.querySelector('.error').textContent = text;
      const input = slot.querySelector('input,select,textarea');
      input?.setAttribute('aria-invalid', 'true');
      first ??= input;
    } else {
      let top = form.querySelector(':scope > .form-error');
      if (!top) {
        top = h('p.form-error', { role: 'alert' });
        form.prepend(top);
      }
      top.textContent = top.textContent ? `${top.textContent}\n${text}` : text;
      first ??= top;
    }
  }
  if (first?.focus) first.focus();
}

// "input.name" or "name" as the server names it; the form may hold it under either.
function findField(form, f) {
  const sel = (n) => form.querySelector(`[data-field="${CSS.escape(n)}"]`);
  return sel(f) || sel(f.replace(/^input\./, '')) || sel(f.split('.').pop());
}

export function clearErrors(form) {
  form.querySelectorAll('.error').forEach((e) => (e.textContent = ''));
  form.querySelectorAll('[aria-invalid]').forEach((e) => e.removeAttribute('aria-invalid'));
  form.querySelectorAll(':scope > .form-error, :scope > .form-ok').forEach((e) => e.remove());
}

/**
 * A form that calls `submit(values)`; API errors land on their fields, success shows `ok`.
 * Values: text as strings, checkboxes as booleans, nested names ("customer.company") as objects.
 */
export function form({ fields, submitLabel, submit, ok, className = '', extra = null, legend = null }) {
  const f = h('form', { class: `form ${className}`, novalidate: true });
  const button = h('button.primary', { type: 'submit' }, submitLabel);
  if (legend) f.append(h('h3', legend));
  append(f, [fields, extra, h('div.actions', button)]);
  f.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    button.disabled = true;
    try {
      const result = await submit(values(f), f);
      const msg = typeof ok === 'function' ? ok(result) : ok;
      if (msg) f.append(h('p.form-ok', { role: 'status' }, msg));
    } catch (e) {
      showErrors(f, e);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function values(f) {
  const out = {};
  for (const el of f.elements) {
    if (!el.name) continue;
    const v = el.type === 'checkbox' ? el.checked : el.value;
    const path = el.name.split('.');
    let o = out;
    for (const p of path.slice(0, -1)) o = o[p] ??= {};
    if (el.type === 'checkbox' && el.dataset.multi) {
      (o[path.at(-1)] ??= []);
      if (el.checked) o[path.at(-1)].push(el.value);
    } else o[path.at(-1)] = v;
  }
  return out;
}

/** Empty strings as null, for optional API inputs. */
export const orNull = (s) => (s == null || String(s).trim() === '' ? null : String(s).trim());

export function notice(text, kind = 'info') {
  return h(`p.notice.${kind}`, { role: kind === 'error' ? 'alert' : 'status' }, text);
}

export function table(headers, rows, caption) {
  return h('div.table-wrap',
    h('table', caption ? h('caption.sr', caption) : null,
      h('thead', h('tr', headers.map((x) => h('th', { scope: 'col' }, x)))),
      h('tbody', rows)));
}

/**
 * A paginated list: `load(first, after)` returns a connection ({edges, pageInfo, totalCount});
 * `render(edges, after)` turns a page into a node. Previous/next keep a stack of cursors.
 */
export function pager({ load, render, pageSize = 10, label }) {
  const box = h('div.pager', { 'aria-live': 'polite' });
  const cursors = [null];
  let page = 0;
  async function show() {
    box.replaceChildren(h('p.muted', t('loading')));
    let conn;
    try {
      conn = await load(pageSize, cursors[page]);
    } catch (e) {
      box.replaceChildren(notice(errorText(e), 'error'));
      return;
    }
    const pages = Math.max(1, Math.ceil(conn.totalCount / pageSize));
    const prev = h('button', { type: 'button', disabled: page === 0, onclick: () => { page--; show(); } }, t('previous'));
    const next = h('button', {
      type: 'button',
      disabled: !conn.pageInfo.hasNextPage,
      onclick: () => { cursors[page + 1] = conn.pageInfo.endCursor; page++; show(); },
    }, t('next'));
    box.replaceChildren(
      conn.edges.length ? render(conn.edges, cursors[page]) : h('p.muted', t('page.empty')),
      h('nav.pages', { 'aria-label': label || t('page.of', { page: page + 1, pages, total: conn.totalCount }) },
        prev, h('span.page-of', t('page.of', { page: page + 1, pages, total: conn.totalCount })), next));
  }
  box.reload = (reset = false) => {
    if (reset) { cursors.length = 1; page = 0; }
    return show();
  };
  show();
  return box;
}

/** A modal confirmation (the native <dialog>, keyboard accessible); resolves true or false. */
export function confirmDialog(message, { okLabel = t('yes'), danger = false } = {}) {
  return new Promise((resolve) => {
    const d = h('dialog.confirm', { 'aria-label': message },
      h('form', { method: 'dialog' },
        h('p', message),
        h('div.actions',
          h('button', { value: 'no', type: 'submit' }, t('cancel')),
          h(danger ? 'button.danger' : 'button.primary', { value: 'yes', type: 'submit' }, okLabel))));
    document.body.append(d);
    d.addEventListener('close', () => { resolve(d.returnValue === 'yes'); d.remove(); });
    d.showModal();
  });
}
