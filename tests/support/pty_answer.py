#!/usr/bin/env python3
"""Run a command on a pseudo-terminal and answer its hidden prompts.

Usage: python3 tests/support/pty_answer.py ANSWER [ANSWER...] -- COMMAND [ARG...]

Each ANSWER is typed (with a newline) after the next prompt, a line ending in `: `, shows up
AND the command has turned the terminal's echo off (polled with tcgetattr, not guessed with a
sleep: on a loaded machine a fixed sleep can type the answer while echo is still on). Prints
everything the terminal showed (so a test can check that the answers were not echoed) and exits
with the command's exit status. Tests use it to exercise `dex add-user` / `dex hash` on a
terminal, where the password is read twice with echo off.

Nothing waits forever: the whole run has a deadline (PTY_ANSWER_TIMEOUT seconds, default 30),
and each answer waits at most PTY_ANSWER_ECHO_TIMEOUT seconds (default 10) for echo to go off.
On a timeout the command is killed, what the terminal showed is printed followed by a
`pty_answer.py: ...` line saying what it was waiting for (also on stderr), and the exit status
is 124.
"""

import errno
import os
import pty
import select
import signal
import sys
import termios
import time

TIMEOUT_EXIT = 124


class Timeout(Exception):
    pass


def seconds_from_env(name: str, default: float) -> float:
    try:
        return float(os.environ.get(name, default))
    except ValueError:
        return default


def main() -> int:
    try:
        split = sys.argv.index("--")
    except ValueError:
        print("usage: pty_answer.py ANSWER [ANSWER...] -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    answers = [answer.encode() + b"\n" for answer in sys.argv[1:split]]
    command = sys.argv[split + 1:]
    if not command:
        print("usage: pty_answer.py ANSWER [ANSWER...] -- COMMAND [ARG...]", file=sys.stderr)
        return 2
    overall = seconds_from_env("PTY_ANSWER_TIMEOUT", 30.0)
    echo_wait = seconds_from_env("PTY_ANSWER_ECHO_TIMEOUT", 10.0)
    deadline = time.monotonic() + overall

    pid, fd = pty.fork()
    if pid == 0:
        try:
            os.execvp(command[0], command)
        except OSError as error:
            os.write(2, f"pty_answer.py: cannot run {command[0]}: {error}\n".encode())
        os._exit(127)

    shown = b""
    pending = b""
    eof = False

    def remaining(until: float, waiting_for: str) -> float:
        left = min(until, deadline) - time.monotonic()
        if left <= 0:
            raise Timeout(waiting_for)
        return left

    def read_some(until: float, waiting_for: str, poll: float = 1.0) -> None:
        """Reads what the terminal shows, waiting at most `poll` seconds; sets `eof` at the end."""
        nonlocal shown, pending, eof
        ready, _, _ = select.select([fd], [], [], min(poll, remaining(until, waiting_for)))
        if not ready:
            return
        try:
            chunk = os.read(fd, 1024)
        except OSError as error:
            if error.errno != errno.EIO:  # EIO: the command closed the terminal
                raise
            chunk = b""
        if not chunk:
            eof = True
        shown += chunk
        pending += chunk

    def echo_is_on() -> bool:
        try:
            lflag = termios.tcgetattr(fd)[3]
        except termios.error:
            return False  # the terminal is gone: nothing left to protect
        return bool(lflag & termios.ECHO)

    status = None
    try:
        for number, answer in enumerate(answers, 1):
            what = f"prompt {number} of {len(answers)} (a line ending in `:`)"
            while not eof and not pending.rstrip().endswith(b":"):
                read_some(deadline, what)
            if eof:
                break
            pending = b""
            # Type only once the command has turned echo off, however long that takes it
            # (within its own deadline).
            what = f"the command to turn terminal echo off before answer {number}"
            echo_deadline = time.monotonic() + echo_wait
            while echo_is_on():
                read_some(echo_deadline, what, poll=0.01)
                if eof:
                    break
            if eof:
                break
            try:
                os.write(fd, answer)
            except OSError as error:
                if error.errno != errno.EIO:
                    raise
                break
        while not eof:
            read_some(deadline, "the command to finish")
        while True:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = wait_status
                break
            remaining(deadline, "the command to exit")
            time.sleep(0.01)
    except Timeout as timeout:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        os.waitpid(pid, 0)
        message = (f"pty_answer.py: gave up after {overall:g} s overall / {echo_wait:g} s per "
                   f"echo-off wait: still waiting for {timeout}; killed `{' '.join(command)}`")
        sys.stdout.write(shown.decode(errors="replace"))
        sys.stdout.write("\n" + message + "\n")
        sys.stdout.flush()
        print(message, file=sys.stderr)
        return TIMEOUT_EXIT
    finally:
        os.close(fd)
    sys.stdout.write(shown.decode(errors="replace"))
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
