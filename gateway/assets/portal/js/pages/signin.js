// Sign-in: password, then — for users with two-step verification — a TOTP or recovery code.

import { ApiError, gql, session } from '../api.js';
import { field, form, h, notice } from '../dom.js';
import { t } from '../i18n.js';
import { signedIn } from '../app.js';

const SIGN_IN = `mutation($l:String!,$p:String!){ signIn(loginId:$l, password:$p){ accessToken refreshToken expiresIn tfaRequired challenge } }`;
const VERIFY = `mutation($c:String!,$code:String!){ verifyTfa(challenge:$c, code:$code){ accessToken refreshToken expiresIn tfaRequired challenge } }`;

export function signInPage() {
  const box = h('section.card.narrow', { 'aria-labelledby': 'signin-h' });
  const expired = sessionStorage.getItem('ecl.expired');
  sessionStorage.removeItem('ecl.expired');
  const step1 = () => {
    box.replaceChildren(
      h('h1', { id: 'signin-h' }, t('signin.title')),
      expired ? notice(t('signin.expired')) : null,
      form({
        fields: [
          field({ name: 'loginId', label: t('signin.loginId'), required: true, autocomplete: 'username', autofocus: true }),
          field({ name: 'password', label: t('signin.password'), type: 'password', required: true, autocomplete: 'current-password' }),
        ],
        submitLabel: t('signin.submit'),
        submit: async (v) => {
          const d = await gql(SIGN_IN, { l: v.loginId, p: v.password });
          done(d.signIn, step2);
        },
      }));
    box.querySelector('[data-autofocus]')?.focus();
  };
  const step2 = (challenge) => {
    box.replaceChildren(
      h('h1', { id: 'signin-h' }, t('signin.tfaTitle')),
      h('p', t('signin.tfaHelp')),
      form({
        fields: [field({ name: 'code', label: t('signin.code'), required: true, autocomplete: 'one-time-code', inputmode: 'numeric', autofocus: true })],
        submitLabel: t('signin.verify'),
        submit: async (v) => {
          const d = await gql(VERIFY, { c: challenge, code: v.code.trim() });
          done(d.verifyTfa, step2);
        },
        extra: h('button.link', { type: 'button', onclick: step1 }, t('signin.back')),
      }));
    box.querySelector('[data-autofocus]')?.focus();
  };
  const done = (p, next) => {
    if (p.tfaRequired) return next(p.challenge);
    if (!p.accessToken) throw new ApiError([{ message: 'no token', extensions: { code: 'UNAUTHENTICATED' } }]);
    session.set(p);
    signedIn();
  };
  step1();
  return box;
}
