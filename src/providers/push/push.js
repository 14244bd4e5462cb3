// Push approvals in the browser, no build step. Two roles:
// - on the challenge page (#push-wait), wait for the decision on the server's event
//   stream and then submit the "check now" form, which finishes the login;
// - on signed-in pages (#approvals), show the sign-in requests waiting for this user,
//   live, with the three numbers to pick from, and send the decision.
"use strict";

(function () {
  const wait = document.getElementById("push-wait");
  if (wait) {
    const form = document.getElementById("push-check");
    const events = new EventSource("/api/v1/login/challenge/events");
    events.addEventListener("push", function (e) {
      let state = "pending";
      try { state = JSON.parse(e.data).state; } catch (_) { return; }
      if (state !== "pending") {
        events.close();
        form.submit();
      }
    });
  }

  const banner = document.getElementById("approvals");
  if (!banner) { return; }
  const d = banner.dataset;

  function text(tag, content, cls) {
    const el = document.createElement(tag);
    el.textContent = content;
    if (cls) { el.className = cls; }
    return el;
  }

  function decide(id, body, item) {
    for (const b of item.querySelectorAll("button")) { b.disabled = true; }
    fetch("/api/v1/approvals/" + encodeURIComponent(id), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (j) {
        const done = j.decision === "approved" ? d.approved : d.rejected;
        item.replaceChildren(text("p", r.ok ? done : (j.message || d.failed)));
      });
    }).catch(function () {
      item.replaceChildren(text("p", d.failed));
    });
  }

  function show(list) {
    banner.replaceChildren();
    banner.hidden = list.length === 0;
    for (const a of list) {
      const item = document.createElement("div");
      item.className = "approval";
      item.dataset.id = a.id;
      item.appendChild(text("p", d.title, "approval-title"));
      const when = new Date(a.created_at * 1000).toLocaleTimeString();
      let from = a.device + " · " + a.ip + " · " + when;
      if (a.app) { from += " · " + d.forApp + " " + a.app; }
      item.appendChild(text("p", from, "small"));
      item.appendChild(text("p", d.pick));
      const row = document.createElement("p");
      for (const n of a.choices) {
        const b = text("button", String(n), "number");
        b.type = "button";
        b.addEventListener("click", function () {
          decide(a.id, { decision: "approve", number: n }, item);
        });
        row.appendChild(b);
      }
      const no = text("button", d.reject, "secondary");
      no.type = "button";
      no.addEventListener("click", function () { decide(a.id, { decision: "reject" }, item); });
      row.appendChild(no);
      item.appendChild(row);
      banner.appendChild(item);
    }
  }

  const stream = new EventSource("/api/v1/approvals/stream");
  stream.addEventListener("approvals", function (e) {
    try { show(JSON.parse(e.data)); } catch (_) { /* a broken message: wait for the next */ }
  });
})();
