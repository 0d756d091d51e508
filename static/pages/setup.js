// First run: the one-time link #/setup/<token> creates the first super-administrator.
import { h, clear } from '../lib/dom.js';
import { t } from '../lib/i18n.js';
import { post } from '../lib/api.js';
import { buildForm } from '../lib/form.js';

export default function setup(view, ctx) {
  const token = ctx.args[0] || '';
  const { form } = buildForm({
    submitLabel: t('setup.create'),
    fields: [
      { name: 'loginname', label: t('field.loginname'), required: true, maxLength: 50, pattern: '\\S+', patternMessage: t('v.noSpaces'), autocomplete: 'username' },
      { name: 'password', label: t('field.password'), type: 'password', required: true, minLength: 8, autocomplete: 'new-password', hint: t('setup.passwordHint') },
      { name: 'confirm', label: t('field.confirmPassword'), type: 'password', required: true, autocomplete: 'new-password',
        check: (v, all) => (v !== all.password ? t('v.passwordsDiffer') : null) },
      { name: 'phone', label: t('field.phoneOptional'), type: 'tel', inputmode: 'numeric', pattern: '1\\d{10}', patternMessage: t('v.phone'), hint: t('setup.phoneHint') },
    ],
    onSubmit: async (v) => {
      const answer = await post('/system/api/setup', { token, loginname: v.loginname, password: v.password, phone: v.phone || null });
      await ctx.signedIn(answer.data.token);
    },
  });
  clear(view, h('section', { class: 'card narrow', id: 'setup' },
    h('h1', {}, t('setup.title')),
    h('p', {}, t('setup.intro')),
    token ? form : h('p', { class: 'form-error', role: 'alert' }, t('setup.noToken'))));
}
