#!/usr/bin/env python3
"""jwks_make.py OUT KID=PUBKEY.pem...: writes a JWKS document (RFC 7517)
of the PEM public keys given (RSA, EC P-256/P-384, Ed25519), each with
its kid, reading them with openssl(1)."""
import base64
import json
import subprocess
import sys


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der(path):
    return subprocess.run(["openssl", "pkey", "-pubin", "-in", path, "-outform", "DER"],
                          check=True, capture_output=True).stdout


def text(path):
    return subprocess.run(["openssl", "pkey", "-pubin", "-in", path, "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout


def hexblock(t, start):
    """The colon-separated hex bytes after the line starting with start."""
    lines, out, on = t.splitlines(), "", False
    for line in lines:
        if line.strip().startswith(start):
            on = True
            continue
        if on:
            if ":" in line and all(c in "0123456789abcdef:" for c in line.strip()):
                out += line.strip()
            else:
                break
    return bytes.fromhex(out.replace(":", ""))


keys = []
for arg in sys.argv[2:]:
    kid, path = arg.split("=", 1)
    t = text(path)
    if "RSA" in t.splitlines()[0] or "Public-Key: (" in t and "Modulus" in t:
        n = hexblock(t, "Modulus:").lstrip(b"\0")
        e = int(t.split("Exponent: ")[1].split()[0])
        keys.append({"kty": "RSA", "kid": kid, "use": "sig", "n": b64(n),
                     "e": b64(e.to_bytes((e.bit_length() + 7) // 8, "big"))})
    elif "ED25519" in t.upper():
        keys.append({"kty": "OKP", "kid": kid, "crv": "Ed25519", "x": b64(der(path)[-32:])})
    else:
        point = hexblock(t, "pub:")
        size = (len(point) - 1) // 2
        crv = "P-256" if size == 32 else "P-384"
        keys.append({"kty": "EC", "kid": kid, "crv": crv, "x": b64(point[1:1 + size]),
                     "y": b64(point[1 + size:])})
keys.append({"kty": "RSA", "kid": "enc", "use": "enc", "n": "AQAB", "e": "AQAB"})
with open(sys.argv[1], "w") as f:
    json.dump({"keys": keys}, f, indent=1)
