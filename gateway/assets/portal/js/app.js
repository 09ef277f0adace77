// The portal shell: a hash router (#/contracts/…), the header (navigation, language switch,
// signed-in user) and the signed-in user's profile, loaded once per session.

import { gql, session } from './api.js';
import { h, notice, errorText } from './dom.js';
import { getLang, setLang, t } from './i18n.js';
import { signInPage } from './pages/signin.js';
import { securityPage } from './pages/security.js';
import { contractPage } from './pages/contract.js';
import { contractsPage } from './pages/contracts.js';

export const state = { me: null };

const routes = [
  [/^\/signin$/, () => signInPage()],
  [/^\/security$/, () => securityPage()],
  [/^\/contracts$/, () => contractsPage()],
  [/^\/contracts\/([^/]+)(?:\/(\w+))?$/, (id, tab) => contractPage(decodeURIComponent(id), tab || 'overview')],
];

export function go(path) {
  if (location.hash === `#${path}`) render();
  else location.hash = path;
}

async function loadMe() {
  if (state.me || !session.get()) return state.me;
  const d = await gql('{ me { id loginId email role contractId canViewUsage } }');
  state.me = d.me;
  return state.me;
}

function home() {
  return state.me?.contractId ? `/contracts/${state.me.contractId}` : '/contracts';
}

function header() {
  const nav = document.getElementById('nav');
  const who = document.getElementById('who');
  const me = state.me;
  document.title = t('app.title');
  document.querySelector('.skip').textContent = t('skip');
  document.getElementById('lang-label').textContent = t('lang.label');
  const here = location.hash.slice(1);
  const link = (href, label) =>
    h('a', { href: `#${href}`, 'aria-current': here === href || here.startsWith(href + '/') ? 'page' : null }, label);
  if (!me) {
    nav.replaceChildren();
    who.replaceChildren();
    return;
  }
  nav.replaceChildren(
    me.contractId ? link(`/contracts/${me.contractId}`, t('nav.home')) : link('/contracts', t('nav.contracts')),
    link('/security', t('nav.security')));
  who.replaceChildren(
    h('span.login', { title: t('role.' + me.role) }, `${me.loginId} · ${t('role.' + me.role)}`),
    h('button.link', { type: 'button', id: 'sign-out', onclick: signOut }, t('nav.signOut')));
}

async function signOut() {
  try {
    await gql('mutation { signOut }');
  } catch {
    /* the session may already be gone: signing out locally is what matters */
  }
  session.clear();
  state.me = null;
  go('/signin');
}

// Each render has a number; one that a newer render overtook draws nothing (nor its errors).
let renders = 0;

export async function render() {
  const mine = ++renders;
  const stale = () => mine !== renders;
  const main = document.getElementById('main');
  const path = location.hash.slice(1) || '/';
  if (!session.get() && path !== '/signin') return go('/signin');
  try {
    await loadMe();
  } catch (e) {
    if (stale()) return;
    if (!session.get()) return go('/signin');
    main.replaceChildren(notice(errorText(e), 'error'));
    return;
  }
  if (stale()) return;
  if (path === '/' || (path === '/signin' && state.me)) return go(home());
  header();
  for (const [re, page] of routes) {
    const m = re.exec(path);
    if (m) {
      main.replaceChildren(h('p.muted', t('loading')));
      try {
        const node = await page(...m.slice(1));
        if (stale()) return;
        main.replaceChildren(node);
        main.querySelector('[data-autofocus]')?.focus();
      } catch (e) {
        if (!stale()) main.replaceChildren(notice(errorText(e), 'error'));
      }
      return;
    }
  }
  main.replaceChildren(notice(t('err.NOT_FOUND'), 'error'));
}

export function signedIn() {
  state.me = null;
  go('/');
}

const langSelect = document.getElementById('lang');
langSelect.value = getLang();
langSelect.addEventListener('change', () => {
  setLang(langSelect.value);
  render();
});
window.addEventListener('hashchange', render);
window.addEventListener('ecl:signed-out', () => {
  state.me = null;
  sessionStorage.setItem('ecl.expired', '1');
  go('/signin');
});
render();
