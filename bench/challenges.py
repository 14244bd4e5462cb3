#!/usr/bin/env python3
"""TOTP challenges at a fixed concurrency against a running twofold: the write-heavy step
of a login (the code's step is recorded, throttle counters reset, the session rotated,
an audit row written). Setup: N users (copies of the `bench` user's row), each enrolls
TOTP over the API and signs in again, stopping at the challenge. Then all N challenges
are answered, CONC at a time, and the latency of each is recorded.

Usage: challenges.py BASE_URL SQLITE_FILE N CONC  (the server must be on that file)
Prints one JSON line: count, ok, wall seconds, checks/s, p50/p90/p99/max in ms, and the
share of answers over 20 ms."""
import base64, hashlib, hmac, http.cookiejar, json, sqlite3, struct, sys, time
import urllib.request
from concurrent.futures import ThreadPoolExecutor

base, db, n, conc = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])


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


t0 = time.perf_counter()
with ThreadPoolExecutor(conc) as pool:
    results = list(pool.map(answer, users))
wall = time.perf_counter() - t0
lat = sorted(ms for _, ms in results)
pct = lambda p: round(lat[min(len(lat) - 1, int(p / 100 * len(lat)))], 2)
print(json.dumps({
    "count": n, "ok": sum(1 for s, _ in results if s == 200), "wall_s": round(wall, 2),
    "checks_per_s": round(n / wall, 1), "p50_ms": pct(50), "p90_ms": pct(90),
    "p99_ms": pct(99), "max_ms": round(lat[-1], 2),
    "over_20ms": round(sum(1 for x in lat if x > 20) / n, 3),
}))
