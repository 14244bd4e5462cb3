// WebAuthn for twofold's pages: the server speaks JSON with base64url strings, the
// browser API wants ArrayBuffers; this file converts both ways and runs the two
// ceremonies (add a security key on the security page, use one at the challenge).
// Served as is: no build step, and the page CSP allows scripts from this origin only.
(function () {
  'use strict';

  function decode(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/');
    const bin = atob(b64 + '==='.slice((b64.length + 3) % 4));
    return Uint8Array.from(bin, (c) => c.charCodeAt(0)).buffer;
  }

  function encode(buf) {
    const bytes = new Uint8Array(buf);
    let bin = '';
    bytes.forEach((b) => { bin += String.fromCharCode(b); });
    return btoa(bin).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function creationOptions(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    pk.user.id = decode(pk.user.id);
    (pk.excludeCredentials || []).forEach((c) => { c.id = decode(c.id); });
    // webauthn-rs asks security keys for credProtect "user verification required" only
    // opportunistically (not enforced); Chromium refuses that combination outright with
    // "protection policy is inconsistent", so the hint is left out.
    if (pk.extensions) {
      delete pk.extensions.credentialProtectionPolicy;
      delete pk.extensions.enforceCredentialProtectionPolicy;
    }
    return { publicKey: pk };
  }

  function requestOptions(options) {
    const pk = options.publicKey;
    pk.challenge = decode(pk.challenge);
    (pk.allowCredentials || []).forEach((c) => { c.id = decode(c.id); });
    return { publicKey: pk };
  }

  function credentialJson(cred) {
    const r = cred.response;
    const response = { clientDataJSON: encode(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = encode(r.attestationObject);
    }
    if (r.authenticatorData) {
      response.authenticatorData = encode(r.authenticatorData);
      response.signature = encode(r.signature);
      response.userHandle = r.userHandle ? encode(r.userHandle) : null;
    }
    return {
      id: cred.id,
      rawId: encode(cred.rawId),
      type: cred.type,
      extensions: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
      response: response,
    };
  }

  async function post(url, body) {
    const r = await fetch(url, {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(body),
    });
    let data = null;
    try { data = await r.json(); } catch (e) { data = null; }
    return { status: r.status, data: data };
  }

  function showError(el, text) {
    if (!el) return;
    el.textContent = text;
    el.hidden = false;
  }

  // Security page: add a key.
  const register = document.getElementById('webauthn-register');
  if (register) {
    register.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById('webauthn-error');
      const name = register.querySelector('[name=name]').value;
      try {
        const begun = await post('/api/v1/2fa/webauthn/register', {});
        if (begun.status === 403 && begun.data && begun.data.error.code === 'reauth_required') {
          window.location.href = '/settings/reauth?next=/settings/security';
          return;
        }
        if (begun.status !== 200) throw new Error(begun.data ? begun.data.error.message : String(begun.status));
        const cred = await navigator.credentials.create(creationOptions(begun.data.options));
        const done = await post('/api/v1/2fa/webauthn/register/finish', { name: name, credential: credentialJson(cred) });
        if (done.status !== 201) throw new Error(done.data ? done.data.error.message : String(done.status));
        window.location.reload();
      } catch (e) {
        showError(error, register.dataset.failed + ' ' + e.message);
      }
    });
  }

  // Challenge page: answer with a key.
  const login = document.getElementById('webauthn-login');
  if (login) {
    login.addEventListener('click', async () => {
      const error = document.getElementById('webauthn-error');
      try {
        const begun = await post('/api/v1/login/challenge/begin', { provider: 'webauthn' });
        if (begun.status !== 200) throw new Error(begun.data ? begun.data.error.message : String(begun.status));
        const cred = await navigator.credentials.get(requestOptions(begun.data.options));
        const done = await post('/api/v1/login/challenge', {
          provider: 'webauthn',
          code: JSON.stringify(credentialJson(cred)),
        });
        if (done.status !== 200) throw new Error(done.data ? done.data.error.message : String(done.status));
        window.location.href = '/login/done';
      } catch (e) {
        showError(error, login.dataset.failed + ' ' + e.message);
      }
    });
  }
})();
