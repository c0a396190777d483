#!/usr/bin/env python3
"""Self-test of conductor_spec_server.py: it must refuse what the specification refuses, accept
what it allows, and model the Conductor behaviour the client tests rely on. Run by tests/run.sh;
skips (exit 0, loudly) without ../shared, fails under CI."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
SPEC = HERE.parent.parent.parent / "shared" / "fixtures" / "conductor-openapi" / "openapi-3.1.json"


class Server:
    def __init__(self, state, auth="noauth"):
        self.dir = tempfile.TemporaryDirectory()
        d = pathlib.Path(self.dir.name)
        (d / "state.json").write_text(json.dumps(state))
        self.log, self.state_out, port_file = d / "log.jsonl", d / "out.json", d / "port"
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "conductor_spec_server.py"), "--spec", str(SPEC),
             "--state", str(d / "state.json"), "--state-out", str(self.state_out),
             "--log", str(self.log), "--port-file", str(port_file), "--auth", auth])
        for _ in range(200):
            if port_file.exists() and port_file.read_text():
                break
            time.sleep(0.05)
        self.base = f"http://127.0.0.1:{port_file.read_text()}"

    def call(self, method, path, body=None, token="dbos_test", content_type="application/json"):
        data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
        request = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", content_type)
        if token is not None:
            request.add_header("Authorization", "Bearer " + token)
        try:
            with urllib.request.urlopen(request) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")

    def records(self):
        return [json.loads(line) for line in self.log.read_text().splitlines()]

    def close(self):
        self.process.kill()
        self.process.wait()
        self.dir.cleanup()


def executor(version, status="HEALTHY"):
    return {"executorId": f"e-{version}", "appId": "a1", "appVersion": version, "status": status,
            "hostId": None, "hostname": "pod", "createdAt": "2026-12-01T00:00:00Z",
            "updatedAt": "2026-12-01T00:00:00Z", "language": "python", "dbosVersion": "3.4.0",
            "executorMetadata": None}


def version(name, stamp):
    return {"versionId": name, "versionName": name, "versionTimestamp": stamp,
            "createdAt": "2026-11-01T00:00:00Z"}


def workflow(workflow_id, status, version, created):
    """A `Workflow` as the spec requires it (every field present, nullable ones null)."""
    row = {name: None for name in (
        "workflowName", "workflowClass", "workflowConfig", "user", "assumedRole", "roles",
        "input", "output", "error", "queueName", "executorId", "timeoutMs", "deadline",
        "deduplicationId", "queuePartitionKey", "forkedFrom", "parentWorkflowId", "dequeuedAt",
        "delayUntil", "completedAt", "attributes", "scheduleName", "applicationName")}
    row.update(workflowId=workflow_id, status=status, appVersion=version, createdAt=created,
               updatedAt=created, priority=0, wasForkedFrom=False, input='{"args":[]}')
    return row


def main():
    if not SPEC.exists():
        message = f"SKIPPED test_conductor_spec_server: {SPEC} not found"
        print(message, file=sys.stderr)
        sys.exit(1 if os.environ.get("CI") else 0)
    failures = []

    def expect(what, condition):
        if not condition:
            failures.append(what)

    s = Server({"apps": {"shop": {"privateMode": False}},
                "versions": {"shop": [version("v1", "2026-11-01T00:00:00Z"), version("v2", "2026-11-02T00:00:00Z")]},
                "executors": {"shop": [executor("v2")]},
                "workflows": {"shop": [workflow("w3", "PENDING", "v1", "2026-11-03T00:00:00Z"),
                                       workflow("w1", "ENQUEUED", "v1", "2026-11-01T00:00:00Z"),
                                       workflow("w2", "SUCCESS", "v1", "2026-11-02T00:00:00Z"),
                                       workflow("w4", "DELAYED", "v2", "2026-11-04T00:00:00Z")]}})
    try:
        expect("register 204", s.call("PUT", "/v2/orgs/local/apps/shop", {"privateMode": False})[0] == 204)
        status, created = s.call("POST", "/v2/orgs/local/tokens/shop-executor",
                                 {"appNames": ["shop"], "permissions": ["application.read"]})
        expect("token 201", status == 201 and created["token"].startswith("dbos_"))
        expect("token again 409", s.call("POST", "/v2/orgs/local/tokens/shop-executor", {})[0] == 409)
        expect("versions 200", len(s.call("GET", "/v2/orgs/local/apps/shop/versions")[1]) == 2)
        expect("latest 204", s.call("PATCH", "/v2/orgs/local/apps/shop/versions/latest", {"versionName": "v1"})[0] == 204)
        stamps = {v["versionName"]: v["versionTimestamp"] for v in json.loads(s.state_out.read_text())["versions"]["shop"]}
        expect("latest moved v1's timestamp past v2's", stamps["v1"] > stamps["v2"])
        expect("search 200", s.call("POST", "/v2/orgs/local/apps/shop/workflows/search", {"status": ["PENDING"]})[0] == 200)
        in_flight = {"appVersion": ["v1"], "status": ["PENDING", "ENQUEUED", "DELAYED"],
                     "sortDesc": False, "loadInput": False, "loadOutput": False}
        status, rows = s.call("POST", "/v2/orgs/local/apps/shop/workflows/search", in_flight)
        expect(f"search filters by version and status, oldest first: {rows}",
               status == 200 and [r["workflowId"] for r in rows] == ["w1", "w3"])
        expect("search leaves inputs out unless loadInput", all(r["input"] is None for r in rows))
        status, rows = s.call("POST", "/v2/orgs/local/apps/shop/workflows/search",
                              dict(in_flight, sortDesc=True, limit=1, offset=0))
        expect(f"sortDesc and limit: {rows}", [r["workflowId"] for r in rows] == ["w3"])
        status, rows = s.call("POST", "/v2/orgs/local/apps/shop/workflows/search",
                              dict(in_flight, limit=1, offset=1))
        expect(f"offset pages: {rows}", [r["workflowId"] for r in rows] == ["w3"])
        expect("unknown application is 404", s.call("GET", "/v2/orgs/local/apps/nope/versions")[0] == 404)
        expect("delete token 204", s.call("DELETE", "/v2/orgs/local/tokens/shop-executor")[0] == 204)
        expect("oauth-only op is 404 in no-auth mode", s.call("GET", "/v2/users/me")[0] == 404)
        clean = [r for r in s.records() if r["violations"]]
        expect(f"valid requests have no violations: {clean}", not clean)

        # Requests the specification refuses: each is answered 400 and logged as a violation.
        bad = [
            ("PUT", "/v2/orgs/local/apps/Shop", {}),                   # appName pattern
            ("PUT", "/v2/orgs/lo/apps/shop", {}),                      # orgName too short
            ("PUT", "/v2/orgs/local/apps/shop", {"private": True}),    # additionalProperties
            ("PATCH", "/v2/orgs/local/apps/shop/versions/latest", {}),  # versionName required
            ("PATCH", "/v2/orgs/local/apps/shop/versions/latest", None),  # body required
            ("GET", "/v2/orgs/local/apps/shop/versions?all=1", None),  # undeclared query
            ("GET", "/v2/orgs/local/nothing", None),                    # no such path
        ]
        before = len(s.records())
        for method, path, body in bad:
            expect(f"{method} {path} {body} is 400", s.call(method, path, body)[0] == 400)
        flagged = [r for r in s.records()[before:] if r["violations"]]
        expect(f"every bad request flagged ({len(flagged)} of {len(bad)})", len(flagged) == len(bad))
        expect("text/plain body flagged",
               s.call("PUT", "/v2/orgs/local/apps/shop", b"{}", content_type="text/plain")[0] == 400)
    finally:
        s.close()

    # No HEALTHY executor: application-served operations answer 503, Conductor-served ones not.
    s = Server({"apps": {"shop": {}}, "executors": {"shop": [executor("v1", "DISCONNECTED")]}})
    try:
        expect("versions 503 without executor", s.call("GET", "/v2/orgs/local/apps/shop/versions")[0] == 503)
        expect("executors still 200", s.call("GET", "/v2/orgs/local/apps/shop/executors")[0] == 200)
        expect("503 is a valid problem document", not [r for r in s.records() if r["violations"]])
    finally:
        s.close()

    # OAuth mode: 401 without a known token, 403 without the permission.
    s = Server({"callers": {"reader": ["application.read"]}}, auth="oauth")
    try:
        expect("401 without token", s.call("GET", "/v2/orgs/acme/tokens", token=None)[0] == 401)
        expect("401 unknown token", s.call("GET", "/v2/orgs/acme/tokens", token="nope")[0] == 401)
        expect("403 lacking permission", s.call("PUT", "/v2/orgs/acme/apps/shop", {}, token="reader")[0] == 403)
    finally:
        s.close()

    for failure in failures:
        print("FAILED:", failure, file=sys.stderr)
    print(f"conductor spec server self-test: {'ok' if not failures else f'{len(failures)} failed'}")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
