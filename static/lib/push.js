// "Notify me on this device": the console's service worker (sw.js, scope /admin/) and this
// browser's Web Push subscription, stored on the server for the signed-in account
// (/system/api/push/…). Which server subscription is this browser's is remembered here.
import { get, post, del, ApiError } from './api.js';

const KEY = 'hearth.push';

export const supported = () => 'serviceWorker' in navigator && 'PushManager' in window && 'Notification' in window;

/// Registers the worker (also what makes the console installable); answers its registration.
export function registerWorker() {
  return navigator.serviceWorker.register('sw.js', { scope: './' });
}

const saved = () => JSON.parse(localStorage.getItem(KEY) || 'null');

/// 'on' | 'off' | 'unsupported' | 'blocked'
export async function pushState() {
  if (!supported()) return 'unsupported';
  if (Notification.permission === 'denied') return 'blocked';
  const mine = saved();
  if (!mine || Notification.permission !== 'granted') return 'off';
  const listed = (await get('/system/api/push/subscriptions')).data || [];
  return listed.some((s) => s.id === mine.id && s.endpoint === mine.endpoint) ? 'on' : 'off';
}

/// The server's key as `applicationServerKey` wants it.
function keyBytes(base64url) {
  const text = atob(base64url.replace(/-/g, '+').replace(/_/g, '/'));
  return Uint8Array.from(text, (c) => c.charCodeAt(0));
}

const sameKey = (a, b) => !!a && !!b && a.byteLength === b.byteLength && new Uint8Array(a).every((v, i) => v === b[i]);

/// Asks permission, subscribes this browser with the server's key and hands the subscription
/// to the server; answers the new state.
export async function turnOn() {
  if (!supported()) return 'unsupported';
  const permission = await Notification.requestPermission();
  if (permission !== 'granted') return permission === 'denied' ? 'blocked' : 'off';
  await registerWorker();
  const registration = await navigator.serviceWorker.ready;
  const key = keyBytes((await get('/system/api/push/key')).data.publicKey);
  let subscription = await registration.pushManager.getSubscription();
  // A subscription made under another key (the server's was replaced) is of no use.
  if (subscription && !sameKey(subscription.options?.applicationServerKey, key)) {
    await subscription.unsubscribe();
    subscription = null;
  }
  const fresh = !subscription;
  subscription ??= await registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key });
  const { endpoint, keys } = subscription.toJSON();
  let id;
  try {
    id = (await post('/system/api/push/subscriptions', { endpoint, keys })).data;
  } catch (err) {
    // A subscription the server refused (an Apple one without the operator's contact) would
    // otherwise stay in the browser, unused; one made earlier may still be the server's.
    if (fresh && err instanceof ApiError && err.code !== undefined) await subscription.unsubscribe().catch(() => {});
    throw err;
  }
  localStorage.setItem(KEY, JSON.stringify({ id, endpoint }));
  return 'on';
}

/// Removes this browser's subscription from the server and the browser; answers 'off'.
export async function turnOff() {
  const mine = saved();
  if (mine) {
    try {
      await del(`/system/api/push/subscriptions/${mine.id}`);
    } catch (err) {
      // Already gone (removed elsewhere, or expired): off is what was asked.
      if (!(err instanceof ApiError) || err.code === undefined) throw err;
    }
  }
  localStorage.removeItem(KEY);
  const registration = supported() ? await navigator.serviceWorker.getRegistration('./') : null;
  const subscription = await registration?.pushManager.getSubscription();
  await subscription?.unsubscribe();
  return 'off';
}
