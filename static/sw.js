// The console's service worker (scope /admin/). It shows a notification for each Web Push
// message hearth sends (src/alerts/push: JSON with type, event_id, device, content,
// createtime, url) and opens the message's page of the console when it is tapped, in a
// console window already open if there is one. It caches nothing: the console always comes
// from the server.
const TITLES = {
  fall: '跌倒警报 Fall alert',
  escalation: '⚠ 无人确认的跌倒 Unacknowledged fall',
  device_offline: '摄像头离线 Camera offline',
  device_online: '摄像头恢复在线 Camera back online',
};

self.addEventListener('install', () => self.skipWaiting());
self.addEventListener('activate', (event) => event.waitUntil(self.clients.claim()));

self.addEventListener('push', (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch (_) {
    message = { content: event.data.text() };
  }
  const title = [TITLES[message.type] || 'hearth', message.device].filter(Boolean).join(' · ');
  const urgent = message.type === 'fall' || message.type === 'escalation';
  event.waitUntil(self.registration.showNotification(title, {
    body: [message.createtime, message.content].filter(Boolean).join(' '),
    tag: message.event_id || message.type || 'hearth',
    renotify: true,
    requireInteraction: urgent,
    icon: 'icon-192.png',
    data: { url: message.url },
  }));
});

/// The console page a message links to, on this origin whatever host the server named.
function target(url) {
  const scope = new URL(self.registration.scope);
  try {
    const link = new URL(url, scope);
    if (link.pathname.startsWith(scope.pathname)) return new URL(link.pathname + link.search + link.hash, scope).href;
  } catch (_) { /* no usable link: the console's start page */ }
  return scope.href;
}

self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = target(event.notification.data?.url);
  event.waitUntil((async () => {
    const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
    const open = windows.find((w) => w.url.startsWith(self.registration.scope));
    if (open) {
      const focused = await open.focus();
      try {
        return await focused.navigate(url);
      } catch (_) {
        // A window this worker does not control cannot be steered: open the alert anew.
      }
    }
    return self.clients.openWindow(url);
  })());
});
