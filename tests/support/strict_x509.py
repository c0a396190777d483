#!/usr/bin/env python3
"""Parses PEM certificates strictly, as a second, independent X.509 reader.

Python `cryptography` (Rust `asn1` underneath) enforces DER: a DEFAULT value that is encoded
explicitly (such as `cA: FALSE` in basicConstraints) is rejected when the extensions are read.
openssl and x509-parser accept such certificates, so they cannot catch it.

Usage: strict_x509.py < certs.pem. Prints one JSON object per certificate on stdout (a list);
exits 1 with the parser's error on stderr if any certificate does not parse strictly.
"""
import json
import sys

from cryptography import x509


def describe(cert):
    # Reading `.extensions` triggers the strict parse of every extension.
    extensions = cert.extensions
    out = {"subject": cert.subject.rfc4514_string(), "extensions": []}
    for extension in extensions:
        out["extensions"].append(extension.oid.dotted_string)
        if isinstance(extension.value, x509.BasicConstraints):
            out["ca"] = extension.value.ca
            out["basic_constraints_critical"] = extension.critical
        if isinstance(extension.value, x509.SubjectAlternativeName):
            out["dns_names"] = extension.value.get_values_for_type(x509.DNSName)
    return out


def main():
    data = sys.stdin.buffer.read()
    try:
        certs = x509.load_pem_x509_certificates(data)
        result = [describe(cert) for cert in certs]
    except Exception as error:  # every parse error is the finding
        print(f"strict X.509 parse failed: {error!r}", file=sys.stderr)
        return 1
    json.dump(result, sys.stdout)
    return 0


if __name__ == "__main__":
    sys.exit(main())
