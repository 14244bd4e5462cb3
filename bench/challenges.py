#!/usr/bin/env python3
"""TOTP challenges at a fixed concurrency against a running twofold: the write-heavy step
of a login (the code's step is recorded, throttle counters reset, the session rotated,
an audit row written). Setup: N users (copies of the `bench` user's row), each enrolls
TOTP over the API and signs in again, stopping at the challenge. Then all N challenges
are answered, CONC at a time, and the latency of each is recorded.

Usage: challenges.py BASE_URL SQLITE_FILE N CONC [SERVER_PID [SERVER_LOG]]
  (the server must be on that file)
Prints one JSON line: count, ok, wall seconds, checks/s, p50/p90/p99/max in ms, the
share of answers over 20 ms; with SERVER_PID the server's CPU (user + system, from
/proc/PID/stat) per check over the answers; with SERVER_LOG (a server started with
TWOFOLD_LOG=warn,sqlx::query=debug) the statements sqlx logged during the answers, per
check and by kind."""
import base64, hashlib, hmac, http.cookiejar, json, sqlite3, struct, sys, time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, db, n, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
pid = sys.argv[5] if len(sys.argv) > 5 else None
log = sys.argv[6] if len(sys.argv) > 6 else None


def cpu_ticks():
    """utime + stime of the server, in clock ticks."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def log_size():
    import os
    return os.path.getsize(log)


def totp(secret, step):
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), hashlib.sha1).digest()
    o = mac[-1] & 15
    return "%06d" % ((struct.unpack(">I", mac[o:o + 4])[0] & 0x7FFFFFFF) % 1_000_000)


class Client:
    def __init__(self):
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def post(self, path, body=None):
        data = json.dumps(body or {}).encode()
        req = urllib.request.Request(base + path, data=data, method="POST",
                                     headers={"content-type": "application/json"})
        try:
            with self.opener.open(req, timeout=30) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")


con = sqlite3.connect(db)
con.execute("DELETE FROM users WHERE uid LIKE 'c%' AND uid <> 'bench'")
con.executemany(
    "INSERT INTO users (uid, display_name, email, password_hash, enabled, is_admin, created_at) "
    "SELECT ?, ?, '', password_hash, 1, 0, created_at FROM users WHERE uid = 'bench'",
    [(f"c{i}", f"c{i}") for i in range(n)])
con.commit()
con.close()


def enroll(i):
    c = Client()
    uid = f"c{i}"
    s, _ = c.post("/api/v1/login", {"uid": uid, "password": "quiet-lantern-harbor-58"})
    assert s == 200, (s, uid)
    s, e = c.post("/api/v1/2fa/totp")
    assert s == 201, (s, e)
    secret = e["secret"]
    s, e = c.post("/api/v1/2fa/totp/verify", {"code": totp(secret, int(time.time()) // 30)})
    assert s == 200, (s, e)
    c.post("/api/v1/logout")
    c = Client()
    s, e = c.post("/api/v1/login", {"uid": uid, "password": "quiet-lantern-harbor-58"})
    assert s == 200 and e["stage"] == "second_factor_pending", (s, e)
    return c, secret


with ThreadPoolExecutor(2) as pool:
    users = list(pool.map(enroll, range(n)))
# The enrollment used this step's code: answer with the next step's (single use).
time.sleep(30 - time.time() % 30 + 0.5)
step = int(time.time()) // 30


def answer(u):
    c, secret = u
    t0 = time.perf_counter()
    s, _ = c.post("/api/v1/login/challenge", {"provider": "totp", "code": totp(secret, step)})
    ms = (time.perf_counter() - t0) * 1000
    if s != 200:
        print("challenge failed:", s, _, file=sys.stderr)
    return s, ms


cpu0 = cpu_ticks() if pid else 0
log0 = log_size() if log else 0
t0 = time.perf_counter()
with ThreadPoolExecutor(conc) as pool:
    results = list(pool.map(answer, users))
wall = time.perf_counter() - t0
extra = {}
if pid:
    import os
    ticks = cpu_ticks() - cpu0
    extra["server_cpu_ms_per_check"] = round(ticks / os.sysconf("SC_CLK_TCK") * 1000 / n, 3)
if log:
    time.sleep(0.5)
    with open(log, "rb") as f:
        f.seek(log0)
        lines = [l.decode(errors="replace") for l in f if b"sqlx::query" in l]
    kinds = {}
    for l in lines:
        import re
        m = re.search(r'summary="(\w+)', l)
        k = m.group(1).upper() if m else "?"
        kinds[k] = kinds.get(k, 0) + 1
    extra["statements_per_check"] = round(len(lines) / n, 2)
    extra["statements_by_kind_per_check"] = {k: round(v / n, 2) for k, v in sorted(kinds.items())}
lat = sorted(ms for _, ms in results)
pct = lambda p: round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2)
print(json.dumps({
    "count": n, "ok": sum(1 for s, _ in results if s == 200), "wall_s": round(wall, 2),
    "checks_per_s": round(n / wall, 1), "p50_ms": pct(50), "p90_ms": pct(90),
    "p99_ms": pct(99), "max_ms": round(lat[-1], 2),
    "over_20ms": round(sum(1 for x in lat if x > 20) / n, 3),
    **extra,
}))
