"""A TLS client probe run on a lab host (python3 there): what a server answers to one HTTPS request.

Refusal tests need the specific reason (a missing client certificate, a cipher the server does not
allow) and a positive control on the same endpoint: "it failed" alone would pass on a stopped server.
"""

from __future__ import annotations

import json
import shlex

PROBE = r"""
import json, socket, ssl, sys
a = json.loads(sys.argv[1])
ctx = ssl.create_default_context(cafile=a["ca"])
ctx.check_hostname = False
if a.get("cert"):
    ctx.load_cert_chain(a["cert"], a["key"])
if a.get("ciphers"):
    ctx.maximum_version = ssl.TLSVersion.TLSv1_2
    ctx.set_ciphers(a["ciphers"])
try:
    raw = socket.create_connection((a["address"], a["port"]), timeout=10)
except OSError as exc:
    print(json.dumps({"outcome": "unreachable", "detail": repr(exc)}))
    sys.exit(0)
try:
    tls = ctx.wrap_socket(raw, server_hostname=a["address"])
    tls.sendall(("GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n" % (a["path"], a["address"])).encode())
    answer = tls.recv(200).decode(errors="replace")
    outcome = {"outcome": "answered", "detail": answer.splitlines()[0] if answer else "", "cipher": tls.cipher()[0]}
except (ssl.SSLError, ConnectionError) as exc:
    outcome = {"outcome": "tls-refused", "detail": str(exc)}
print(json.dumps(outcome))
"""


def tls_probe(host, address, port, ca, *, cert=None, key=None, ciphers=None, path="/version"):
    """{"outcome": "answered" | "tls-refused" | "unreachable", "detail": ...} of one request from ``host``."""
    args = {"address": address, "port": port, "ca": ca, "cert": cert, "key": key, "ciphers": ciphers, "path": path}
    run = host.run(f"python3 -c {shlex.quote(PROBE)} {shlex.quote(json.dumps(args))}")
    assert run.rc == 0, run.stderr
    return json.loads(run.stdout)


def refused_for_missing_certificate(outcome):
    """True when the server refused the handshake for want of a client certificate (TLS 1.2 or 1.3 alert)."""
    detail = outcome["detail"].lower()
    return outcome["outcome"] == "tls-refused" and ("certificate required" in detail or "bad certificate" in detail)
