#!/usr/bin/env python3
"""The DBOS Python SDK's own view of queued work, for the KEDA queue-depth tests.

Why this exists: the rendered KEDA query must count exactly what DBOS hands the active version,
so the tests compare it with the SDK itself rather than with a rule restated in Rust. This
script writes rows and registers versions through the SDK (`DBOSClient.enqueue`, the system
database's `create_application_version`) and asks the SDK's dequeue
(`SystemDatabase.start_queued_workflows`, which claims rows as a worker of that version would).

    dbos_dequeue.py URL APPLICATION_NAME-or-"" < ops

`ops` holds one operation a line, run in order:
    register VERSION        register VERSION as its first executor does
    enqueue QUEUE VERSION   enqueue one workflow as a client does (`-`: no version)
    dequeue QUEUE VERSION   claim what a worker of VERSION would claim
Prints one line per operation: `-` for register, the workflow id for enqueue, and for dequeue
the number of claimed workflows followed by their ids.
"""

import sys

from dbos import DBOSClient
from dbos._queue import _INTERNAL_QUEUE_CONSTRUCTION, Queue


def main() -> int:
    url, application = sys.argv[1], sys.argv[2] or None
    ops = [line.split() for line in sys.stdin if line.strip()]
    client = DBOSClient(system_database_url=url, application_name=application)
    sys_db = client._sys_db
    out = []
    try:
        for op in ops:
            if op[0] == "register":
                sys_db.create_application_version(op[1])
                out.append("-")
            elif op[0] == "enqueue":
                options = {"queue_name": op[1], "workflow_name": "checkout"}
                if op[2] != "-":
                    options["app_version"] = op[2]
                out.append(client.enqueue(options).workflow_id)
            elif op[0] == "dequeue":
                queue = Queue(op[1], token=_INTERNAL_QUEUE_CONSTRUCTION)
                ids, _ = sys_db.start_queued_workflows(queue, "test-executor", op[2], None)
                out.append(" ".join([str(len(ids))] + sorted(ids)))
            else:
                print(f"unknown operation {op!r}", file=sys.stderr)
                return 64
    finally:
        client.destroy()
    for line in out:
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
