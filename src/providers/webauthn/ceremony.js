// WebAuthn for twofold's pages: the server speaks JSON with base64url strings, the
// browser API wants ArrayBuffers; this file converts both ways and runs the two
// ceremonies (add a security key on the security page, use one at the challenge).
// Served as is at /static/webauthn.js: no build step, and the page CSP allows exactly
// the providers' scripts. Each fragment of the provider names it, so a page with two of
// them loads it twice: the second run does nothing.
(function () {
  'use strict';
  if (window.twofoldWebauthn) return;
  window.twofoldWebauthn = true;

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

  // Security page: add a second-factor key or a passkey. The form names its endpoints.
  document.querySelectorAll('form[data-begin]').forEach((form) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const error = document.getElementById(form.dataset.error);
      const name = form.querySelector('[name=name]').value;
      try {
        const signIn = form.dataset.signIn === 'true';
        const begun = await post(form.dataset.begin, { sign_in: signIn });
        if (begun.status === 403 && begun.data && begun.data.error.code === 'reauth_required') {
          window.location.href = '/settings/reauth?next=/settings/security';
          return;
        }
        if (begun.status !== 200) throw new Error(begun.data ? begun.data.error.message : String(begun.status));
        let cred;
        try {
          const options = creationOptions(begun.data.options);
          if (signIn) {
            // A passkey signs in without a name, so the authenticator must keep it
            // (a discoverable credential); webauthn-rs leaves that to the page.
            options.publicKey.authenticatorSelection.residentKey = 'required';
            options.publicKey.authenticatorSelection.requireResidentKey = true;
          }
          cred = await navigator.credentials.create(options);
        } catch (e) {
          // The authenticator already holds one of this user's credentials.
          if (e.name === 'InvalidStateError') throw new Error(form.dataset.duplicate);
          throw e;
        }
        const done = await post(form.dataset.finish, {
          name: name, answer: credentialJson(cred), sign_in: signIn,
        });
        if (done.status !== 201) throw new Error(done.data ? done.data.error.message : String(done.status));
        if (form.dataset.done) {
          window.location.href = form.dataset.done;
        } else {
          window.location.reload();
        }
      } catch (e) {
        showError(error, form.dataset.failed + ' ' + e.message);
      }
    });
  });

  // Sign-in page: a passkey instead of the password.
  const passkey = document.getElementById('passkey-login');
  if (passkey) {
    passkey.addEventListener('click', async () => {
      const error = document.getElementById('passkey-error');
      try {
        const begun = await post('/api/v1/login/passwordless/webauthn/begin', {});
        if (begun.status !== 200) throw new Error(begun.data ? begun.data.error.message : String(begun.status));
        const cred = await navigator.credentials.get(requestOptions(begun.data.options));
        const done = await post('/api/v1/login/passwordless/webauthn', { answer: credentialJson(cred) });
        if (done.status !== 200) throw new Error(done.data ? done.data.error.message : String(done.status));
        window.location.href = '/login/done';
      } catch (e) {
        showError(error, passkey.dataset.failed + ' ' + e.message);
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
