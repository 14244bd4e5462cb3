"""A local push service for twofold's Web Push tests, written apart from twofold's code.

It makes subscriptions (a P-256 key pair and an auth secret each, as a browser would),
prints them as one JSON line on stdout, and then answers POST /push/<n> like a push
service: it checks the request (RFC 8030 headers; RFC 8292 VAPID: the ES256 signature
of the JWT against the `k=` key, the audience, the expiry, the subject), decrypts the
aes128gcm body (RFC 8291) with the subscription's private key (PyPI `http_ece` on
`cryptography`), and appends what it got to a JSON-lines log. A path under /gone/
answers 410 (the subscription expired); one under /slow/ answers after 5 seconds; a
request that fails a check answers 400.

Usage: receiver.py COUNT LOG_FILE EXPECTED_SUBJECT
"""

import base64
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import http_ece
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature


def b64d(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64e(raw):
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


COUNT = int(sys.argv[1])
LOG = sys.argv[2]
SUBJECT = sys.argv[3]

SUBSCRIPTIONS = []
for _ in range(COUNT):
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    auth = os.urandom(16)
    SUBSCRIPTIONS.append({"key": key, "p256dh": b64e(public), "auth": auth})


def check_vapid(header, origin):
    """Returns None when the Authorization header is a valid VAPID one, else why not."""
    if not header or not header.startswith("vapid "):
        return "no vapid authorization"
    params = {}
    for part in header[len("vapid "):].split(","):
        name, _, value = part.strip().partition("=")
        params[name] = value
    token, k = params.get("t"), params.get("k")
    if not token or not k:
        return "t= or k= missing"
    try:
        head64, claims64, sig64 = token.split(".")
        head = json.loads(b64d(head64))
        claims = json.loads(b64d(claims64))
        signature = b64d(sig64)
        public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), b64d(k))
    except Exception as e:  # noqa: BLE001 - any malformed part is a failed check
        return "malformed token: %s" % e
    if head.get("alg") != "ES256":
        return "alg is %r" % head.get("alg")
    if len(signature) != 64:
        return "signature is %d bytes, not r||s" % len(signature)
    der = encode_dss_signature(
        int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big")
    )
    try:
        public.verify(der, ("%s.%s" % (head64, claims64)).encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return "bad signature"
    if claims.get("aud") != origin:
        return "aud %r is not %r" % (claims.get("aud"), origin)
    now = time.time()
    exp = claims.get("exp")
    if not isinstance(exp, int) or exp <= now or exp > now + 24 * 3600:
        return "exp %r is not within 24 h ahead" % exp
    if claims.get("sub") != SUBJECT:
        return "sub %r is not %r" % (claims.get("sub"), SUBJECT)
    return None


class Handler(BaseHTTPRequestHandler):
    def do_POST(self):  # noqa: N802 - the stdlib's name
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        parts = self.path.strip("/").split("/")
        if parts[0] == "slow":
            time.sleep(5)
        record = {"path": self.path, "error": None, "payload": None}
        try:
            n = int(parts[1])
            sub = SUBSCRIPTIONS[n]
        except (IndexError, ValueError):
            self.answer(404, record)
            return
        origin = "http://%s" % self.headers.get("Host")
        problems = []
        if self.headers.get("Content-Encoding") != "aes128gcm":
            problems.append("content-encoding %r" % self.headers.get("Content-Encoding"))
        if not (self.headers.get("TTL") or "").isdigit():
            problems.append("no TTL")
        if self.headers.get("Urgency") not in ("very-low", "low", "normal", "high"):
            problems.append("bad urgency")
        why = check_vapid(self.headers.get("Authorization"), origin)
        if why:
            problems.append(why)
        try:
            plain = http_ece.decrypt(
                body, private_key=sub["key"], auth_secret=sub["auth"], version="aes128gcm"
            )
            record["payload"] = json.loads(plain)
        except Exception as e:  # noqa: BLE001 - a body that does not decrypt is a failure
            problems.append("cannot decrypt: %s" % e)
        record["error"] = "; ".join(problems) or None
        record["ttl"] = self.headers.get("TTL")
        record["urgency"] = self.headers.get("Urgency")
        if problems:
            self.answer(400, record)
        elif parts[0] == "gone":
            self.answer(410, record)
        else:
            self.answer(201, record)

    def answer(self, status, record):
        record["status"] = status
        with open(LOG, "a", encoding="utf-8") as f:
            f.write(json.dumps(record) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(
    json.dumps(
        {
            "port": server.server_address[1],
            "subscriptions": [
                {"p256dh": s["p256dh"], "auth": b64e(s["auth"])} for s in SUBSCRIPTIONS
            ],
        }
    ),
    flush=True,
)
server.serve_forever()
