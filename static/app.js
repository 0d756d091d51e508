'use strict';
const $ = (s) => document.querySelector(s);
const say = (text) => { $('#message').textContent = text || ''; };
let token = sessionStorage.getItem('hearth.token');

async function call(method, path, body) {
  const headers = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = 'Bearer ' + token;
  const res = await fetch(path, { method, headers, body: body ? JSON.stringify(body) : undefined });
  const answer = await res.json();
  if (answer.code !== 0) throw new Error(answer.message);
  return answer;
}

function show(id) {
  for (const s of document.querySelectorAll('main section')) s.hidden = s.id !== id;
}

async function showOutbox() {
  show('outbox');
  const answer = await call('GET', '/system/api/sms/outbox?pageSize=100');
  const rows = $('#outbox tbody');
  rows.replaceChildren();
  for (const m of answer.data) {
    const tr = document.createElement('tr');
    for (const v of [m.createTime, m.phone, m.text]) {
      const td = document.createElement('td');
      td.textContent = v;
      tr.append(td);
    }
    rows.append(tr);
  }
}

function signedIn(answer) {
  token = answer.data.token;
  sessionStorage.setItem('hearth.token', token);
  location.hash = '';
  showOutbox().catch((e) => say(e.message));
}

$('#setup-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  const setupToken = location.hash.split('/')[2];
  try {
    signedIn(await call('POST', '/system/api/setup', {
      token: setupToken, loginname: f.get('loginname'), password: f.get('password'), phone: f.get('phone') || null,
    }));
  } catch (err) { say(err.message); }
});

$('#signin-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  const f = new FormData(e.target);
  try { signedIn(await call('POST', '/system/api/auth/login', { loginname: f.get('loginname'), password: f.get('password') })); }
  catch (err) { say(err.message); }
});

$('#signout').addEventListener('click', async () => {
  try { await call('POST', '/system/api/auth/logout'); } catch (_) { /* already gone */ }
  token = null;
  sessionStorage.removeItem('hearth.token');
  show('signin');
});

if (location.hash.startsWith('#/setup/')) show('setup');
else if (token) showOutbox().catch(() => { token = null; show('signin'); });
else show('signin');
