#!/usr/bin/env python3
"""Push approval: how fast an approval reaches the waiting login, and what waiting logins
cost the server. Against running instance(s) that share one database.

Usage: push.py DB SAMPLES WAITING BASE_A [BASE_B]
  DB: sqlite:FILE or postgres:URL. Users are copies of the `bench` user's row.
  Latency: SAMPLES logins, one after the other, wait on A with the page's event stream
    open; the approver decides on B (or A). Measured from sending the decision to the
    `approved` event on the waiting stream, and to the login's challenge answered
    `authenticated`.
  Waiting: WAITING logins each open a request and its event stream on A; A's RSS and
    thread count (PID_A from the environment) before and while they all wait.
Prints one JSON line per measure."""
import base64, hashlib, hmac, http.client, http.cookiejar, json, os, socket, sqlite3
import struct, subprocess, sys, time, urllib.parse, urllib.request
from concurrent.futures import ThreadPoolExecutor

db, samples, waiting = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
base_a = sys.argv[4]
base_b = sys.argv[5] if len(sys.argv) > 5 else base_a
PER_USER = 20  # waiting logins per user (push.max_open_per_user is raised to match)


def sql(statements):
    if db.startswith("sqlite:"):
        con = sqlite3.connect(db[len("sqlite:"):])
        for s in statements:
            con.execute(s)
        con.commit()
        con.close()
    else:
        subprocess.run(["psql", db[len("postgres:"):], "-qc", ";\n".join(statements)],
                       check=True, stdout=subprocess.DEVNULL)


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)


class Client:
    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def post(self, path, body=None, base=None):
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request((base or self.base) + path, data=data, method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")

    def cookie(self):
        return "; ".join(f"{c.name}={c.value}" for c in self.jar)

    def events(self):
        """Opens the login's event stream; returns a reader of `push` states."""
        u = urllib.parse.urlsplit(self.base)
        conn = http.client.HTTPConnection(u.hostname, u.port, timeout=30)
        conn.request("GET", "/api/v1/login/challenge/events", headers={"cookie": self.cookie()})
        r = conn.getresponse()
        assert r.status == 200, r.status

        def next_state():
            event = None
            while True:
                line = r.fp.readline().decode()
                if line == "":
                    raise EOFError
                line = line.rstrip("\n")
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: ") and event == "push":
                    return json.loads(line[6:])["state"]
        return conn, next_state


def pct(xs, p):
    xs = sorted(xs)
    return round(xs[min(len(xs) - 1, int(len(xs) * p))], 2)


users = max(1, -(-waiting // PER_USER)) + 1
sql(["DELETE FROM users WHERE uid LIKE 'p%'"] + [
    "INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at) "
    f"SELECT 'p{i}', 'p{i}', '', password_hash, 1, 0, created_at FROM users WHERE uid = 'bench'"
    for i in range(users)])


def enroll(i):
    """Signs `p<i>` in, sets TOTP up: that session holds two factors and approves."""
    c = Client(base_b)
    uid = f"p{i}"
    s, _ = c.post("/api/v1/login", {"uid": uid, "password": "quiet-lantern-harbor-58"})
    assert s == 200, (s, uid)
    s, e = c.post("/api/v1/2fa/totp")
    assert s == 201, (s, e)
    s, e = c.post("/api/v1/2fa/totp/verify", {"code": totp(e["secret"], int(time.time()) // 30)})
    assert s == 200, (s, e)
    return uid, c


with ThreadPoolExecutor(2) as pool:
    approvers = list(pool.map(enroll, range(users)))
# Push on for each (through the database: turning it on over the API needs a second
# approver, which is beside the point here).
sql([f"INSERT INTO provider_user_state (provider, uid, enabled) VALUES ('push', '{u}', 1)"
     for u, _ in approvers])


def waiting_login(uid):
    c = Client(base_a)
    s, e = c.post("/api/v1/login", {"uid": uid, "password": "quiet-lantern-harbor-58"})
    assert s == 200 and e["stage"] == "second_factor_pending", (s, e)
    s, p = c.post("/api/v1/login/challenge/begin", {"provider": "push"})
    assert s == 200, (s, p)
    return c, p


# Latency, one login at a time.
uid, approver = approvers[0]
to_event, to_login = [], []
for _ in range(samples):
    c, p = waiting_login(uid)
    conn, next_state = c.events()
    while next_state() != "pending":
        pass
    t0 = time.perf_counter()
    s, d = approver.post(f"/api/v1/approvals/{p['approval_id']}",
                         {"decision": "approve", "number": p["number"]})
    assert s == 200 and d["decision"] == "approved", (s, d)
    while next_state() != "approved":
        pass
    t1 = time.perf_counter()
    s, e = c.post("/api/v1/login/challenge", {"provider": "push"})
    assert s == 200 and e["stage"] == "authenticated", (s, e)
    t2 = time.perf_counter()
    conn.close()
    # Signed out again: past `session.max_per_user` a new sign-in would end the longest
    # idle session, the approver's.
    c.post("/api/v1/logout")
    to_event.append((t1 - t0) * 1000)
    to_login.append((t2 - t0) * 1000)
print(json.dumps({"measure": "approval to waiting login", "samples": samples,
                  "across_instances": base_a != base_b,
                  "event_p50_ms": pct(to_event, .5), "event_p99_ms": pct(to_event, .99),
                  "authenticated_p50_ms": pct(to_login, .5),
                  "authenticated_p99_ms": pct(to_login, .99)}))


def status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            fields[k] = v.strip()
    return int(fields["VmRSS"].split()[0]) // 1024, int(fields["Threads"])


pid = os.environ.get("PID_A")
if waiting and pid:
    logins = [approvers[1 + i // PER_USER][0] for i in range(waiting)]
    with ThreadPoolExecutor(4) as pool:
        clients = list(pool.map(waiting_login, logins))
    # After the logins (their hashing and sessions): what the waiting itself costs.
    time.sleep(1)
    rss0, threads0 = status(pid)
    streams = []
    for c, _ in clients:
        conn, next_state = c.events()
        assert next_state() == "pending"
        streams.append(conn)
    time.sleep(2)
    rss1, threads1 = status(pid)
    print(json.dumps({"measure": "logins waiting at once", "waiting": len(streams),
                      "rss_before_mb": rss0, "rss_waiting_mb": rss1,
                      "mb_per_1000": round((rss1 - rss0) * 1000 / len(streams), 1),
                      "threads_before": threads0, "threads_waiting": threads1}))
    for conn in streams:
        conn.close()
