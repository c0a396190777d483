#!/usr/bin/env python3
"""Independent SealedSecret decryption, for cross-checking dbos-gitops' Rust sealing code.

This is a second implementation of the sealed-secrets controller's decryption, written from the
wire format alone and sharing no code with the `dbos-gitops-seal` crate. It uses the Python
`cryptography` package.

Wire format of each `spec.encryptedData` value (standard base64 of):
    u16 big-endian length N || N-byte RSA-OAEP block || AES-256-GCM ciphertext with 16-byte tag
The RSA block wraps a 32-byte AES key with OAEP, SHA-256 for both the hash and MGF1, and a label
derived from the SealedSecret's own metadata annotations:
    sealedsecrets.bitnami.com/cluster-wide: "true"   -> empty label
    sealedsecrets.bitnami.com/namespace-wide: "true" -> "<namespace>"
    otherwise (strict)                                -> "<namespace>/<name>"
The AES-GCM nonce is 12 zero bytes, with no associated data.

Usage:
    python3 tests/support/independent_unseal.py --key KEY.pem [--key KEY2.pem ...] FILE
FILE is YAML or JSON with one or more SealedSecret documents, or `-` for stdin. Prints
    {"<namespace>/<name>": {"<key>": "<base64 plaintext>"}}
and exits 1 with a message on stderr if any value fails to decrypt.
"""

import argparse
import base64
import json
import struct
import sys

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

CLUSTER_WIDE = "sealedsecrets.bitnami.com/cluster-wide"
NAMESPACE_WIDE = "sealedsecrets.bitnami.com/namespace-wide"


def load_keys(paths):
    keys = []
    for path in paths:
        with open(path, "rb") as f:
            text = f.read()
        # A file may hold several PEM blocks; load every private key block.
        blocks = []
        current = []
        for line in text.splitlines(keepends=True):
            if line.startswith(b"-----BEGIN "):
                current = [line]
            elif line.startswith(b"-----END ") and current:
                current.append(line)
                blocks.append(b"".join(current))
                current = []
            elif current:
                current.append(line)
        for block in blocks:
            if b"PRIVATE KEY" not in block.splitlines()[0]:
                continue
            key = serialization.load_pem_private_key(block, password=None)
            if not isinstance(key, rsa.RSAPrivateKey):
                raise SystemExit(f"{path}: not an RSA private key")
            keys.append(key)
    if not keys:
        raise SystemExit("no RSA private keys found in " + ", ".join(paths))
    return keys


def load_documents(path):
    data = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
    stripped = data.lstrip()
    if stripped.startswith("{") or stripped.startswith("["):
        doc = json.loads(data)
        docs = doc if isinstance(doc, list) else [doc]
    else:
        import yaml

        docs = [d for d in yaml.safe_load_all(data) if d is not None]
    out = []
    for d in docs:
        if isinstance(d, dict) and d.get("kind") == "List":
            out.extend(d.get("items") or [])
        else:
            out.append(d)
    return out


def label_for(metadata):
    annotations = metadata.get("annotations") or {}
    namespace = metadata.get("namespace") or ""
    name = metadata.get("name") or ""
    if annotations.get(CLUSTER_WIDE) == "true":
        return b""
    if annotations.get(NAMESPACE_WIDE) == "true":
        return namespace.encode("utf-8")
    return f"{namespace}/{name}".encode("utf-8")


def decrypt_value(keys, blob, label):
    if len(blob) < 2:
        raise ValueError("too short for the length prefix")
    (rsa_len,) = struct.unpack(">H", blob[:2])
    if len(blob) < 2 + rsa_len + 16:
        raise ValueError(f"too short: {len(blob)} bytes, rsa block says {rsa_len}")
    rsa_block = blob[2 : 2 + rsa_len]
    aes_part = blob[2 + rsa_len :]
    oaep = padding.OAEP(
        mgf=padding.MGF1(algorithm=hashes.SHA256()),
        algorithm=hashes.SHA256(),
        label=label if label else None,
    )
    last_error = None
    for key in keys:
        try:
            session_key = key.decrypt(rsa_block, oaep)
        except Exception as e:  # wrong key or wrong label
            last_error = e
            continue
        if len(session_key) != 32:
            raise ValueError(f"session key is {len(session_key)} bytes, expected 32")
        return AESGCM(session_key).decrypt(b"\x00" * 12, aes_part, None)
    raise ValueError(f"no key could unwrap the session key ({type(last_error).__name__})")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--key", action="append", required=True, help="PEM private key file")
    parser.add_argument("file", help="SealedSecret YAML/JSON file, or - for stdin")
    args = parser.parse_args()

    keys = load_keys(args.key)
    result = {}
    failures = []
    for doc in load_documents(args.file):
        if not isinstance(doc, dict) or doc.get("kind") != "SealedSecret":
            failures.append(f"not a SealedSecret document: {str(doc)[:80]}")
            continue
        metadata = doc.get("metadata") or {}
        ident = f"{metadata.get('namespace') or ''}/{metadata.get('name') or ''}"
        label = label_for(metadata)
        values = {}
        for k, v in ((doc.get("spec") or {}).get("encryptedData") or {}).items():
            try:
                blob = base64.b64decode(v, validate=True)
                values[k] = base64.b64encode(decrypt_value(keys, blob, label)).decode("ascii")
            except Exception as e:
                failures.append(f"{ident}: key {k!r} (label {label.decode()!r}): {e}")
        result[ident] = values
    if failures:
        for f in failures:
            print("independent_unseal: " + f, file=sys.stderr)
        sys.exit(1)
    json.dump(result, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
