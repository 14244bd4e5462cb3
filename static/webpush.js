// The devices page's "notify this browser" button: registers the service worker
// (/static/sw.js), subscribes with the server's VAPID key and hands the subscription to
// POST /api/v1/push/subscriptions. No build step, no library.
(function () {
  'use strict';
  var box = document.getElementById('webpush');
  if (!box) { return; }
  var subscribe = document.getElementById('webpush-subscribe');
  var test = document.getElementById('webpush-test');
  var status = document.getElementById('webpush-status');
  function say(key) { status.textContent = box.getAttribute('data-' + key) || ''; }
  if (!('serviceWorker' in navigator) || !('PushManager' in window) || !('Notification' in window)) {
    say('unsupported');
    return;
  }
  subscribe.hidden = false;
  if (document.querySelector('#push-subscriptions li')) { test.hidden = false; }

  function api(method, path, body) {
    var init = {
      method: method,
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json', 'X-Requested-With': 'webpush.js' }
    };
    if (body !== undefined) { init.body = JSON.stringify(body); }
    return fetch(path, init);
  }

  function bytesOf(b64url) {
    var b64 = b64url.replace(/-/g, '+').replace(/_/g, '/');
    while (b64.length % 4) { b64 += '='; }
    var raw = atob(b64);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) { out[i] = raw.charCodeAt(i); }
    return out;
  }

  function sameKey(a, b) {
    if (!a) { return false; }
    var x = new Uint8Array(a);
    if (x.length !== b.length) { return false; }
    for (var i = 0; i < x.length; i++) { if (x[i] !== b[i]) { return false; } }
    return true;
  }

  async function refused(response) {
    if (response.status === 403) {
      var body = await response.json().catch(function () { return {}; });
      if (body.error && body.error.code === 'reauth_required') {
        say('reauth');
        window.location.href = '/settings/reauth?next=/settings/devices';
        return;
      }
    }
    say('failed');
  }

  subscribe.addEventListener('click', async function () {
    subscribe.disabled = true;
    try {
      var permission = await Notification.requestPermission();
      if (permission !== 'granted') { say('denied'); return; }
      var registration = await navigator.serviceWorker.register('/static/sw.js', { scope: '/' });
      await navigator.serviceWorker.ready;
      var answer = await api('GET', '/api/v1/push/vapid-key');
      if (!answer.ok) { await refused(answer); return; }
      var key = bytesOf((await answer.json()).public_key);
      var sub = await registration.pushManager.getSubscription();
      // A subscription made under another key (the server's key file was replaced)
      // cannot be used: the push service refuses our signature on it.
      if (sub && !sameKey(sub.options.applicationServerKey, key)) {
        await sub.unsubscribe();
        sub = null;
      }
      if (!sub) {
        // Without a reachable push service the browser may never answer: give up after
        // a while and say so, instead of a button that stays greyed out.
        sub = await Promise.race([
          registration.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: key }),
          new Promise(function (_, reject) {
            setTimeout(function () { reject(new Error('timeout')); }, 15000);
          })
        ]);
      }
      var saved = await api('POST', '/api/v1/push/subscriptions', sub.toJSON());
      if (saved.status === 201) { window.location.reload(); return; }
      await refused(saved);
    } catch (e) {
      say('failed');
    } finally {
      subscribe.disabled = false;
    }
  });

  test.addEventListener('click', async function () {
    var answer = await api('POST', '/api/v1/push/test');
    if (answer.status === 202) { say('test-sent'); } else { await refused(answer); }
  });
}());
