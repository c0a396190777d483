#!/usr/bin/env python3
"""A minimal LSP client for tests/cli/schema.rs: drives a real yaml-language-server over stdio.

Usage: lsp_client.py SERVER [ARGS...] < request.json

request.json: {"root": DIR, "documents": [{"path": FILE, "text": TEXT,
               "completion": [[LINE, CHARACTER], ...], "hover": [[LINE, CHARACTER], ...]}]}
(0-based positions). Each document is opened with its text (`textDocument/didOpen`); its
modeline names the schema, which the server reads from disk relative to FILE.

Prints {FILE: {"diagnostics": [{"line", "message"}], "completion": [[label, ...], ...],
"hover": [markdown, ...]}} as JSON. The framing is the LSP base protocol: a
`Content-Length: N` header, a blank line, N bytes of JSON-RPC 2.0.
"""

import json
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

TIMEOUT = 30.0


class Client:
    def __init__(self, command):
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.messages = queue.Queue()
        self.next_id = 0
        self.diagnostics = {}
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        stream = self.process.stdout
        while True:
            length = None
            while True:
                line = stream.readline()
                if not line:
                    self.messages.put(None)
                    return
                line = line.strip()
                if not line:
                    break
                name, _, value = line.decode("ascii").partition(":")
                if name.lower() == "content-length":
                    length = int(value)
            self.messages.put(json.loads(stream.read(length)))

    def send(self, message):
        body = json.dumps(dict(message, jsonrpc="2.0")).encode("utf-8")
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()

    def notify(self, method, params):
        self.send({"method": method, "params": params})

    def _handle(self, message):
        """Answers a server request, records diagnostics; returns a response, else None."""
        if message is None:
            raise SystemExit("the language server exited")
        if "method" in message and "id" in message:
            items = message.get("params", {}).get("items")
            result = [None] * len(items) if items is not None else None
            self.send({"id": message["id"], "result": result})
        elif message.get("method") == "textDocument/publishDiagnostics":
            params = message["params"]
            self.diagnostics[params["uri"]] = params["diagnostics"]
        elif "id" in message:
            return message
        return None

    def request(self, method, params):
        self.next_id += 1
        self.send({"id": self.next_id, "method": method, "params": params})
        timeout_at = time.monotonic() + TIMEOUT
        while True:
            message = self._handle(self._get(timeout_at))
            if message is not None and message["id"] == self.next_id:
                if "error" in message:
                    raise SystemExit(f"{method}: {message['error']}")
                return message.get("result")

    def _get(self, timeout_at):
        remaining = timeout_at - time.monotonic()
        if remaining <= 0:
            raise SystemExit("timed out waiting for the language server")
        try:
            return self.messages.get(timeout=remaining)
        except queue.Empty:
            raise SystemExit("timed out waiting for the language server")

    def wait_diagnostics(self, uri):
        """The diagnostics of `uri` once the server published them and went quiet."""
        timeout_at = time.monotonic() + TIMEOUT
        while uri not in self.diagnostics:
            self._handle(self._get(timeout_at))
        quiet_until = time.monotonic() + 1.0
        while time.monotonic() < quiet_until:
            try:
                self._handle(self.messages.get(timeout=0.1))
            except queue.Empty:
                pass
        return self.diagnostics[uri]


def hover_text(result):
    if not result:
        return ""
    contents = result["contents"]
    if isinstance(contents, dict):
        return contents.get("value", "")
    if isinstance(contents, list):
        return "\n".join(item if isinstance(item, str) else item.get("value", "") for item in contents)
    return contents


def main():
    request = json.load(sys.stdin)
    client = Client(sys.argv[1:])
    root = Path(request["root"]).resolve().as_uri()
    client.request(
        "initialize",
        {
            "processId": None,
            "rootUri": root,
            "workspaceFolders": [{"uri": root, "name": "repo"}],
            "capabilities": {
                "textDocument": {
                    "completion": {"completionItem": {"snippetSupport": False}},
                    "hover": {"contentFormat": ["markdown", "plaintext"]},
                    "publishDiagnostics": {},
                }
            },
        },
    )
    client.notify("initialized", {})
    # Only the modeline's schema: no SchemaStore download.
    settings = {"validate": True, "hover": True, "completion": True, "schemaStore": {"enable": False}}
    client.notify("workspace/didChangeConfiguration", {"settings": {"yaml": settings}})
    results = {}
    for document in request["documents"]:
        uri = Path(document["path"]).resolve().as_uri()
        client.notify(
            "textDocument/didOpen",
            {"textDocument": {"uri": uri, "languageId": "yaml", "version": 1, "text": document["text"]}},
        )
        position = lambda at: {"textDocument": {"uri": uri}, "position": {"line": at[0], "character": at[1]}}
        completion = []
        for at in document.get("completion", []):
            result = client.request("textDocument/completion", position(at)) or []
            items = result["items"] if isinstance(result, dict) else result
            completion.append(sorted(item["label"] for item in items))
        hover = [hover_text(client.request("textDocument/hover", position(at))) for at in document.get("hover", [])]
        diagnostics = [
            {"line": item["range"]["start"]["line"], "message": item["message"]}
            for item in client.wait_diagnostics(uri)
        ]
        results[document["path"]] = {"diagnostics": diagnostics, "completion": completion, "hover": hover}
    client.request("shutdown", None)
    client.notify("exit", None)
    client.process.wait(timeout=10)
    json.dump(results, sys.stdout, indent=1)


if __name__ == "__main__":
    main()
