// Security: TOTP enrolment (QR code, secret, first code), recovery codes shown once, turning
// two-step verification off, and the password.

import { gql, session } from '../api.js';
import { errorText, field, form, h, notice } from '../dom.js';
import { t } from '../i18n.js';
import { go, state } from '../app.js';

export function securityPage() {
  const tfa = h('section.card', { 'aria-labelledby': 'tfa-h' });
  const start = () => {
    tfa.replaceChildren(
      h('h2', { id: 'tfa-h' }, t('signin.tfaTitle')),
      h('div.actions', h('button.primary', { type: 'button', id: 'enroll', onclick: enroll }, t('security.enroll'))),
      disableForm());
  };
  const enroll = async () => {
    let e;
    try {
      e = (await gql('mutation { enrollTotp { secret otpauthUri qrCode } }')).enrollTotp;
    } catch (err) {
      tfa.replaceChildren(h('h2', { id: 'tfa-h' }, t('signin.tfaTitle')),
        notice(err.code === 'CONFLICT' ? t('security.tfaOn') : errorText(err), err.code === 'CONFLICT' ? 'info' : 'error'),
        disableForm());
      return;
    }
    tfa.replaceChildren(
      h('h2', { id: 'tfa-h' }, t('security.enroll')),
      h('p', t('security.scan')),
      h('div.enroll',
        h('img.qr', { src: e.qrCode, alt: t('security.qrAlt'), width: 200, height: 200 }),
        h('dl',
          h('dt', t('security.secret')), h('dd', h('code', { id: 'totp-secret' }, e.secret)),
          h('dt', 'otpauth'), h('dd', h('code.wrap', e.otpauthUri)))),
      form({
        fields: [field({ name: 'code', label: t('signin.code'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric' })],
        submitLabel: t('security.confirm'),
        submit: async (v) => showCodes((await gql('mutation($c:String!){ confirmTotp(code:$c) }', { c: v.code.trim() })).confirmTotp),
      }));
    tfa.querySelector('form input').focus();
  };
  const showCodes = (codes) => {
    tfa.replaceChildren(
      h('h2', { id: 'tfa-h' }, t('security.recoveryTitle')),
      notice(t('security.tfaOn')),
      h('p', t('security.recoveryHelp')),
      h('ol.codes', { id: 'recovery-codes' }, codes.map((c) => h('li', h('code', c)))),
      h('div.actions', h('button.primary', { type: 'button', onclick: () => tfa.replaceChildren(h('h2', { id: 'tfa-h' }, t('signin.tfaTitle')), notice(t('security.tfaOn')), disableForm()) }, t('security.recoveryDone'))));
    tfa.querySelector('button').focus();
  };
  const disableForm = () =>
    h('details', h('summary', t('security.disable')),
      form({
        fields: [field({ name: 'code', label: t('signin.code'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric', help: t('security.disableHelp') })],
        submitLabel: t('security.disable'),
        submit: (v) => gql('mutation($c:String!){ disableTotp(code:$c) }', { c: v.code.trim() }),
        ok: t('security.disabled'),
      }));
  start();

  const pw = h('section.card', { 'aria-labelledby': 'pw-h' },
    h('h2', { id: 'pw-h' }, t('security.password')),
    form({
      fields: [
        field({ name: 'oldPassword', label: t('security.oldPassword'), type: 'password', required: true, autocomplete: 'current-password' }),
        field({ name: 'password', label: t('security.newPassword'), type: 'password', required: true, autocomplete: 'new-password' }),
      ],
      submitLabel: t('save'),
      submit: async (v) => {
        await gql('mutation($o:String!,$n:String!){ changePassword(oldPassword:$o, newPassword:$n) }', { o: v.oldPassword, n: v.password });
        // Every session of the user ends with a new password: sign in again.
        session.clear();
        state.me = null;
        sessionStorage.setItem('ecl.expired', '1');
        go('/signin');
      },
    }));
  return h('div', h('h1', t('security.title')),
    h('p.muted', `${state.me.loginId} · ${state.me.email} · ${t('role.' + state.me.role)}`), tfa, pw);
}
