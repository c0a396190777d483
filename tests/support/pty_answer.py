#!/usr/bin/env python3
"""Run a command on a pseudo-terminal and answer its hidden prompts.

Usage: python3 tests/support/pty_answer.py ANSWER [ANSWER...] -- COMMAND [ARG...]

Each ANSWER is typed (with a newline) after the next prompt, a line ending in `: `, shows up.
Prints everything the terminal showed (so a test can check that the answers were not echoed)
and exits with the command's exit status. Tests use it to exercise `dex add-user` / `dex hash`
on a terminal, where the password is read twice with echo off.
"""

import os
import pty
import sys
import time


def main() -> int:
    split = sys.argv.index("--")
    answers = [answer.encode() + b"\n" for answer in sys.argv[1:split]]
    command = sys.argv[split + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(command[0], command)
    shown = b""
    pending = b""

    def read_some() -> bool:
        nonlocal shown, pending
        try:
            chunk = os.read(fd, 1024)
        except OSError:
            return False
        shown += chunk
        pending += chunk
        return bool(chunk)

    for answer in answers:
        while not pending.rstrip().endswith(b":"):
            if not read_some():
                break
        pending = b""
        # Let the command turn echo off before typing.
        time.sleep(0.3)
        os.write(fd, answer)
    while read_some():
        pass
    _, status = os.waitpid(pid, 0)
    sys.stdout.write(shown.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
