#!/usr/bin/env python3
"""What a user might script instead of dbos-gitops seal: the controller's hybrid encryption with
Python's `cryptography` package (RSA-OAEP SHA-256 of a fresh AES-256-GCM key per value).

Usage: seal_python.py CERT.pem COUNT  -> prints the best wall time in seconds of sealing COUNT values.
"""
import os
import struct
import sys
import time

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers.aead import AESGCM


def seal(public_key, label, plaintext):
    session_key = os.urandom(32)
    wrapped = public_key.encrypt(
        session_key,
        padding.OAEP(mgf=padding.MGF1(hashes.SHA256()), algorithm=hashes.SHA256(), label=label),
    )
    sealed = AESGCM(session_key).encrypt(b"\0" * 12, plaintext, None)
    return struct.pack(">H", len(wrapped)) + wrapped + sealed


def main():
    cert = x509.load_pem_x509_certificate(open(sys.argv[1], "rb").read())
    count = int(sys.argv[2])
    rounds = 1 if count >= 10000 else 5
    key = cert.public_key()
    best = None
    for _ in range(rounds):
        start = time.perf_counter()
        for index in range(count):
            seal(key, b"dbos/conductor-db", f"postgresql://role:secret-{index}@db:5432/dbos".encode())
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(f"{best:.9f}")


if __name__ == "__main__":
    main()
