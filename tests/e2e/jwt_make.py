#!/usr/bin/env python3
"""jwt_make.py ALG KEY CLAIMS_JSON [HEADER_JSON]: prints a JWS compact token
signed with KEY (a PEM private key; for HS*, a file holding the secret),
using openssl(1) for the public-key algorithms (the test makes its keys
with openssl too). ALG "none" makes an unsigned token."""
import base64
import hashlib
import hmac
import json
import subprocess
import sys
import tempfile


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def der_to_raw(der, size):
    """An ECDSA-Sig-Value (DER SEQUENCE of two INTEGERs) as r || s."""
    assert der[0] == 0x30
    i = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[i] == 0x02
        n = der[i + 1]
        v = der[i + 2:i + 2 + n].lstrip(b"\0")
        out += v.rjust(size, b"\0")
        i += 2 + n
    return out


alg, key, claims = sys.argv[1], sys.argv[2], sys.argv[3]
header = json.loads(sys.argv[4]) if len(sys.argv) > 4 else {"alg": alg, "typ": "JWT"}
signing = (b64(json.dumps(header, separators=(",", ":")).encode()) + "." +
           b64(claims.encode())).encode()
md = {"256": "sha256", "384": "sha384", "512": "sha512"}.get(alg[-3:], "sha256")
if alg == "none":
    sig = b""
elif alg.startswith("HS"):
    secret = open(key, "rb").read().rstrip(b"\r\n")
    sig = hmac.new(secret, signing, getattr(hashlib, md)).digest()
else:
    with tempfile.NamedTemporaryFile() as f:
        f.write(signing)
        f.flush()
        if alg == "EdDSA":
            cmd = ["openssl", "pkeyutl", "-sign", "-inkey", key, "-rawin", "-in", f.name]
        else:
            cmd = ["openssl", "dgst", "-" + md, "-sign", key]
            if alg.startswith("PS"):
                cmd += ["-sigopt", "rsa_padding_mode:pss", "-sigopt", "rsa_pss_saltlen:-1"]
            cmd.append(f.name)
        sig = subprocess.run(cmd, check=True, capture_output=True).stdout
    if alg.startswith("ES"):
        sig = der_to_raw(sig, 32 if alg == "ES256" else 48)
print(signing.decode() + "." + b64(sig))
