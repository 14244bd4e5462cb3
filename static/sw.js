// twofold's service worker: shows a Web Push message ({title, body, url, tag}, decrypted
// by the browser) as a system notification, and opens or focuses its page when tapped.
// Only pages of this origin are ever opened.
'use strict';

self.addEventListener('install', function () { self.skipWaiting(); });
self.addEventListener('activate', function (event) { event.waitUntil(self.clients.claim()); });

function sameOrigin(url) {
  try {
    var u = new URL(url || '/', self.location.origin);
    return u.origin === self.location.origin ? u.href : self.location.origin + '/';
  } catch (e) {
    return self.location.origin + '/';
  }
}

self.addEventListener('push', function (event) {
  var data = {};
  try { data = event.data ? event.data.json() : {}; } catch (e) { data = {}; }
  var options = {
    body: typeof data.body === 'string' ? data.body : '',
    data: { url: sameOrigin(data.url) },
    requireInteraction: true
  };
  // The same tag replaces an older notification (one per sign-in request).
  if (typeof data.tag === 'string') { options.tag = data.tag; options.renotify = true; }
  var title = typeof data.title === 'string' && data.title ? data.title : 'twofold';
  event.waitUntil(self.registration.showNotification(title, options));
});

self.addEventListener('notificationclick', function (event) {
  event.notification.close();
  var url = sameOrigin(event.notification.data && event.notification.data.url);
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true })
    .then(function (windows) {
      for (var i = 0; i < windows.length; i++) {
        if (windows[i].url === url && 'focus' in windows[i]) { return windows[i].focus(); }
      }
      return self.clients.openWindow(url);
    }));
});
