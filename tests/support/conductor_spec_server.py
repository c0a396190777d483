#!/usr/bin/env python3
"""A stand-in DBOS Conductor for tests, held to Conductor's own OpenAPI 3.1 specification.

Conductor is proprietary and cannot run here, so the client code of `conductor register` and the
`--conductor-url` variants is tested against this server instead. It is strict in both
directions:

* every request is checked against the specification: the path must match a templated path of
  the spec, the method an operation of it, each path parameter its schema (the `orgName` and
  `appName` patterns and lengths), each query parameter a declared one, a JSON body the operation's
  request schema (and no body where none is declared), and the `Authorization` header must be a
  bearer token (the spec's only security schemes are HTTP bearer);
* every answer it sends, errors included, is validated against the response schema for its status
  (or the operation's `default`) before it goes out.

Either kind of failure is recorded as a violation in the log (one JSON object per request,
`--log`), and a request that does not validate is answered 400 with a problem document, so a test
that reads the log sees every request that strayed from the contract.

Behaviour follows the Conductor API docs (seed/upstream-2026-08/conductor-api.md): API keys are
bearer tokens prefixed `dbos_`, returned once at creation; in no-auth mode the operations marked
`x-dbos-requires-oauth` are not registered (404) and no token is needed; an unauthenticated
request in OAuth mode is 401, one lacking a permission 403; operations served by the application
(workflows, versions) answer 503 when no executor of the application is HEALTHY. Tests seed and
inspect the in-memory state through JSON files: `--state` is read at start, `--state-out` is
rewritten after every request. `faults` in the state maps an operationId to a status to force.

Usage: conductor_spec_server.py --spec openapi-3.1.json --state IN.json --state-out OUT.json
       --log LOG.jsonl --port-file PORT [--auth noauth|oauth] [--observe FILE]
It listens on 127.0.0.1 on a free port, writes the port to --port-file, and serves until killed.
"""

import argparse
import datetime
import http.server
import json
import re
import secrets
import sys
import threading
import urllib.parse

import jsonschema
import referencing
import referencing.jsonschema

METHODS = ("get", "put", "post", "patch", "delete")
# Operations Conductor answers by asking a connected executor (conductor-api.md, "How
# Operations Are Served"): without a HEALTHY executor of the application they answer 503.
EXECUTOR_SERVED = re.compile(r"^/v2/orgs/[^/]+/apps/[^/]+/(workflows|queues|schedules|versions)")


def now():
    return datetime.datetime.now(datetime.timezone.utc).isoformat().replace("+00:00", "Z")


class Spec:
    """The specification: routes, and schema validation with `#/components/...` references."""

    def __init__(self, document):
        self.document = document
        resource = referencing.Resource.from_contents(
            document, default_specification=referencing.jsonschema.DRAFT202012
        )
        self.registry = referencing.Registry().with_resource("urn:conductor-openapi", resource)
        self.routes = []
        for template, item in document["paths"].items():
            names = re.findall(r"\{([^}]+)\}", template)
            pattern = "^" + re.sub(r"\\\{[^}]+\\\}", "([^/]+)", re.escape(template)) + "$"
            self.routes.append((re.compile(pattern), template, names, item))
        # A literal segment wins over a parameter (`/versions/latest` over `/{x}`), as in any
        # router: try the templates with fewer parameters first.
        self.routes.sort(key=lambda route: (len(route[2]), route[1]))

    def match(self, path):
        for regex, template, names, item in self.routes:
            found = regex.match(path)
            if found:
                values = [urllib.parse.unquote(v) for v in found.groups()]
                return template, dict(zip(names, values)), item
        return None

    def errors(self, schema, value):
        wrapped = {"$ref": "urn:conductor-openapi#/__probe"}
        # Validate `schema` in the context of the whole document so its `$ref`s resolve.
        document = dict(self.document)
        document["__probe"] = schema
        resource = referencing.Resource.from_contents(
            document, default_specification=referencing.jsonschema.DRAFT202012
        )
        registry = referencing.Registry().with_resource("urn:conductor-openapi", resource)
        validator = jsonschema.Draft202012Validator(
            wrapped, registry=registry, format_checker=jsonschema.FormatChecker()
        )
        return [f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
                for e in validator.iter_errors(value)]


def coerce(schema, raw):
    kind = schema.get("type")
    kinds = kind if isinstance(kind, list) else [kind]
    if "integer" in kinds and re.fullmatch(r"-?[0-9]+", raw):
        return int(raw)
    if "boolean" in kinds and raw in ("true", "false"):
        return raw == "true"
    return raw


class Conductor:
    """The in-memory Conductor: applications, API keys, versions, executors, workflows."""

    def __init__(self, spec, state, auth):
        self.spec = spec
        self.auth = auth
        self.lock = threading.Lock()
        self.apps = state.get("apps", {})
        self.tokens = state.get("tokens", {})
        self.versions = state.get("versions", {})
        self.executors = state.get("executors", {})
        self.workflows = state.get("workflows", {})
        self.faults = state.get("faults", {})
        # Bearer tokens a test hands the client: {token: [permissions]}; "*" means all.
        self.callers = state.get("callers", {})

    def snapshot(self):
        return {"apps": self.apps, "tokens": self.tokens, "versions": self.versions,
                "executors": self.executors, "workflows": self.workflows,
                "faults": self.faults, "callers": self.callers}

    def caller_permissions(self, authorization):
        if not authorization or not authorization.startswith("Bearer "):
            return None
        token = authorization[len("Bearer "):]
        if token in self.callers:
            return set(self.callers[token])
        for record in self.tokens.values():
            if record.get("token") == token:
                return set(record.get("permissions") or ["*"])
        return None

    def handle(self, operation, params, query, body, authorization, path):
        op_id = operation["operationId"]
        if self.auth == "noauth" and operation.get("x-dbos-requires-oauth"):
            return problem(404, "Not Found", f"no route for {path}")
        if self.auth == "oauth":
            permissions = self.caller_permissions(authorization)
            if permissions is None:
                return problem(401, "Unauthorized", "missing or unknown bearer token")
            needed = PERMISSIONS.get(op_id)
            if needed and "*" not in permissions and needed not in permissions:
                return problem(403, "Forbidden", f"the token lacks {needed}")
        if op_id in self.faults:
            status = int(self.faults[op_id])
            return problem(status, http.HTTPStatus(status).phrase, f"forced {status} for {op_id}")
        app = params.get("appName")
        # An application Conductor has never registered has no versions, executors or
        # workflows to ask about: 404 before any executor is asked.
        if app is not None and op_id != "registerApp" and app not in self.apps:
            return problem(404, "Not Found", f"application {app} not found")
        if EXECUTOR_SERVED.match(path) and not any(
            e.get("status") == "HEALTHY" for e in self.executors.get(app, [])
        ):
            return problem(503, "Service Unavailable", f"no executor of {app} is connected")
        handler = getattr(self, "op_" + op_id, None)
        if handler is None:
            return problem(501, "Not Implemented", f"{op_id} is not modelled by the test server")
        return handler(params, query, body)

    def op_registerApp(self, params, query, body):
        self.apps.setdefault(params["appName"], {"privateMode": bool((body or {}).get("privateMode"))})
        return 204, None

    def op_createToken(self, params, query, body):
        name = params["tokenName"]
        if name in self.tokens:
            return problem(409, "Conflict", f"token {name} already exists")
        body = body or {}
        for app in body.get("appNames") or []:
            if app not in self.apps:
                return problem(404, "Not Found", f"application {app} not found")
        token = "dbos_" + secrets.token_urlsafe(32)
        self.tokens[name] = {"token": token, "appNames": body.get("appNames"),
                             "permissions": body.get("permissions"), "createdAt": now()}
        return 201, {"token": token, "tokenName": name}

    def op_listTokens(self, params, query, body):
        return 200, [{"tokenName": n, "createdAt": r["createdAt"],
                      "permissions": r.get("permissions") or [], "appIds": r.get("appNames") or []}
                     for n, r in sorted(self.tokens.items())]

    def op_deleteToken(self, params, query, body):
        if self.tokens.pop(params["tokenName"], None) is None:
            return problem(404, "Not Found", f"token {params['tokenName']} not found")
        return 204, None

    def op_listAppVersions(self, params, query, body):
        return 200, self.versions.get(params["appName"], [])

    def op_setLatestAppVersion(self, params, query, body):
        for version in self.versions.get(params["appName"], []):
            if version["versionName"] == body["versionName"]:
                # DBOS's latest is the version with the newest timestamp (the SDK's
                # application_versions table); setting it moves the timestamp to now.
                version["versionTimestamp"] = now()
                return 204, None
        return problem(404, "Not Found", f"version {body['versionName']} not found")

    def op_listExecutors(self, params, query, body):
        return 200, self.executors.get(params["appName"], [])

    def op_searchWorkflows(self, params, query, body):
        body = body or {}
        rows = self.workflows.get(params["appName"], [])
        for key, field in (("appVersion", "appVersion"), ("status", "status"),
                           ("queueName", "queueName"), ("workflowName", "workflowName")):
            wanted = body.get(key)
            if wanted is not None:
                rows = [r for r in rows if r.get(field) in wanted]
        # DBOS lists workflows by creation time, oldest first unless `sortDesc`.
        rows = sorted(rows, key=lambda r: (r["createdAt"], r["workflowId"]),
                      reverse=bool(body.get("sortDesc")))
        # Inputs and outputs only when asked for (`loadInput`, `loadOutput`).
        rows = [dict(r, input=r.get("input") if body.get("loadInput") else None,
                     output=r.get("output") if body.get("loadOutput") else None) for r in rows]
        offset, limit = body.get("offset", 0), body.get("limit")
        rows = rows[offset:] if limit is None else rows[offset:offset + limit]
        return 200, rows


# The permission each modelled operation needs (conductor-api.md, "Authentication", and the
# permissions page of the DBOS docs: reads need application.read, changes application.write,
# listing API keys token.read, creating and revoking them token.write).
PERMISSIONS = {
    "registerApp": "application.write",
    "createToken": "token.write", "listTokens": "token.read",
    "deleteToken": "token.write", "listAppVersions": "application.read",
    "setLatestAppVersion": "application.write", "listExecutors": "application.read",
    "searchWorkflows": "application.read",
}


def problem(status, title, detail):
    return status, {"status": status, "title": title, "detail": detail, "type": "about:blank"}


def check_request(spec, template, params, item, method, query, headers, raw_body):
    """Returns (operation, violations, parsed body)."""
    violations = []
    operation = item.get(method)
    if operation is None:
        return None, [f"{method.upper()} is not an operation of {template}"], None
    declared = {p["name"]: p for p in item.get("parameters", []) + operation.get("parameters", [])}
    for name, value in params.items():
        schema = declared.get(name, {}).get("schema", {})
        violations += [f"path {name}: {e}" for e in spec.errors(schema, value)]
    for name, values in query.items():
        parameter = declared.get(name)
        if parameter is None or parameter.get("in") != "query":
            violations.append(f"query parameter {name} is not declared")
            continue
        for value in values:
            coerced = coerce(parameter.get("schema", {}), value)
            violations += [f"query {name}: {e}" for e in spec.errors(parameter.get("schema", {}), coerced)]
    for parameter in declared.values():
        if parameter.get("in") == "query" and parameter.get("required") and parameter["name"] not in query:
            violations.append(f"required query parameter {parameter['name']} missing")
    authorization = headers.get("Authorization")
    if authorization is not None and not re.fullmatch(r"Bearer [!-~]+", authorization):
        violations.append("Authorization is not `Bearer <token>`")
    body = None
    request_body = operation.get("requestBody")
    if raw_body:
        if request_body is None:
            violations.append("a body was sent to an operation that takes none")
        elif not (headers.get("Content-Type") or "").startswith("application/json"):
            violations.append(f"Content-Type {headers.get('Content-Type')!r} is not application/json")
        else:
            try:
                body = json.loads(raw_body)
            except ValueError as error:
                violations.append(f"body is not JSON: {error}")
            else:
                schema = request_body["content"]["application/json"]["schema"]
                violations += [f"body {e}" for e in spec.errors(schema, body)]
    elif request_body is not None and request_body.get("required"):
        violations.append("the operation requires a body and none was sent")
    return operation, violations, body


def check_response(spec, operation, status, payload):
    responses = operation["responses"] if operation else {}
    response = responses.get(str(status)) or responses.get("default")
    if response is None:
        return [f"status {status} is not declared"]
    content = response.get("content")
    if content is None:
        return [] if payload is None else [f"status {status} declares no body"]
    media = "application/json" if "application/json" in content else next(iter(content))
    return [f"response {e}" for e in spec.errors(content[media]["schema"], payload)]


def serve(args):
    with open(args.spec) as handle:
        spec = Spec(json.load(handle))
    with open(args.state) as handle:
        conductor = Conductor(spec, json.load(handle), args.auth)
    log_lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):
            pass

        def dispatch(self, method):
            url = urllib.parse.urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw_body = self.rfile.read(length) if length else b""
            query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
            found = spec.match(url.path)
            record = {"method": method.upper(), "path": url.path, "query": query,
                      "authorization": self.headers.get("Authorization")}
            if found is None:
                operation, violations, body = None, [f"no path of the spec matches {url.path}"], None
            else:
                template, params, item = found
                operation, violations, body = check_request(
                    spec, template, params, item, method, query, self.headers, raw_body)
                record["operationId"] = operation and operation["operationId"]
                record["body"] = body
            if violations:
                status, payload = problem(400, "Bad Request", "; ".join(violations))
            else:
                with conductor.lock:
                    status, payload = conductor.handle(
                        operation, params, query, body, self.headers.get("Authorization"), url.path)
            if operation is not None and not violations:
                violations += check_response(spec, operation, status, payload)
            record.update(status=status, violations=violations)
            if args.observe:
                # What a file held when the request arrived (e.g. a sealed secret when the old
                # key is deleted), so a test can tell the order of the client's steps.
                try:
                    with open(args.observe) as observed:
                        record["observed"] = observed.read()
                except OSError:
                    record["observed"] = None
            with log_lock, open(args.log, "a") as log:
                log.write(json.dumps(record) + "\n")
            with conductor.lock, open(args.state_out, "w") as out:
                json.dump(conductor.snapshot(), out, indent=1)
            data = b"" if payload is None else json.dumps(payload).encode()
            self.send_response(status)
            if payload is not None:
                kind = "application/problem+json" if status >= 400 else "application/json"
                self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            self.dispatch("get")

        def do_PUT(self):
            self.dispatch("put")

        def do_POST(self):
            self.dispatch("post")

        def do_PATCH(self):
            self.dispatch("patch")

        def do_DELETE(self):
            self.dispatch("delete")

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    with open(args.port_file, "w") as handle:
        handle.write(str(server.server_address[1]))
    server.serve_forever()


def main(argv):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spec", required=True)
    parser.add_argument("--state", required=True)
    parser.add_argument("--state-out", required=True)
    parser.add_argument("--log", required=True)
    parser.add_argument("--port-file", required=True)
    parser.add_argument("--auth", choices=("noauth", "oauth"), default="noauth")
    parser.add_argument("--observe", help="a file whose content each log record carries")
    serve(parser.parse_args(argv))


if __name__ == "__main__":
    main(sys.argv[1:])
