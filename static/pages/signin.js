// Sign-in. After failed attempts the server asks for the image captcha (its message says
// "captcha"); the captcha is then shown and its answer sent as md5(lowercase(code) + rand).
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { get, post } from '../lib/api.js';
import { buildForm } from '../lib/form.js';
import { md5 } from '../lib/md5.js';

export default function signin(view, ctx) {
  let rand = null;
  const image = h('img', { class: 'captcha-img', alt: t('signin.captchaAlt'), width: 200, height: 70 });
  const refresh = async () => {
    try {
      const { data } = await get('/system/api/auth/captcha');
      rand = data.rand;
      image.src = `data:image/png;base64,${data.imgdata}`;
    } catch (err) {
      setError(err.message);
    }
  };
  const captchaNeeded = () => rand !== null;
  const { form, setError } = buildForm({
    submitLabel: t('signin.submit'),
    fields: [
      { name: 'loginname', label: t('field.loginname'), required: true, autocomplete: 'username' },
      { name: 'password', label: t('field.password'), type: 'password', required: true, autocomplete: 'current-password' },
      { name: 'captcha', label: t('signin.captcha'), autocomplete: 'off',
        check: (v) => (captchaNeeded() && !/^[A-Za-z0-9]{5}$/.test(v) ? t('v.captcha') : null) },
    ],
    onSubmit: async (v) => {
      const body = { loginname: v.loginname, password: v.password };
      if (captchaNeeded()) body.hash = md5(v.captcha.toLowerCase() + rand);
      let answer;
      try {
        answer = await post('/system/api/auth/login', body);
      } catch (err) {
        if (/captcha/i.test(err.message) || captchaNeeded()) {
          showCaptcha();
          await refresh();
        }
        captchaInput.value = '';
        throw err;
      }
      await ctx.signedIn(answer.data.token);
    },
  });
  const captchaInput = form.querySelector('[name=captcha]');
  const captchaRow = captchaInput.closest('.field');
  captchaRow.id = 'captcha-row';
  captchaRow.hidden = true;
  captchaRow.append(h('div', { class: 'captcha' }, image,
    h('button', { type: 'button', class: 'link', onclick: refresh }, t('signin.newCaptcha'))));
  const showCaptcha = () => { captchaRow.hidden = false; };
  clear(view, h('section', { class: 'card narrow', id: 'signin' }, h('h1', {}, t('signin.title')), form));
  form.querySelector('[name=loginname]').focus();
}
