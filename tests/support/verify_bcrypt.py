#!/usr/bin/env python3
"""Check a bcrypt hash with an independent implementation (the `bcrypt` PyPI package).

Usage: python3 tests/support/verify_bcrypt.py HASH < password

The password is read from stdin as raw bytes (so it never appears in `ps`); one trailing
newline (LF or CRLF) is dropped so `echo pw | ...` works. Exit status:
  0  the password matches the hash
  1  it does not
  2  usage error or a malformed hash
  3  the `bcrypt` package is not installed (callers treat this as "skipped")
"""

import sys


def main() -> int:
    if len(sys.argv) != 2:
        print("usage: verify_bcrypt.py HASH < password", file=sys.stderr)
        return 2
    try:
        import bcrypt
    except ImportError:
        print("verify_bcrypt.py: the `bcrypt` package is not installed (pip install bcrypt)",
              file=sys.stderr)
        return 3

    hashed = sys.argv[1].encode("ascii", errors="strict")
    password = sys.stdin.buffer.read()
    if password.endswith(b"\r\n"):
        password = password[:-2]
    elif password.endswith(b"\n"):
        password = password[:-1]

    try:
        ok = bcrypt.checkpw(password, hashed)
    except ValueError as err:
        print(f"verify_bcrypt.py: {err}", file=sys.stderr)
        return 2
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
