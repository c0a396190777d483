#!/usr/bin/env python3
"""Validate rendered Kubernetes manifests against real schemas, offline.

Why this exists: dbos-gitops emits kustomize overlays, Argo CD objects and
SealedSecrets.  `kubectl kustomize` happily renders a typo'd field, a quoted
port number or an unquoted numeric annotation; the mistake only surfaces when
Argo CD syncs against a live API server.  This script catches those mistakes in
tests and CI without a cluster:

* built-in kinds (Deployment, Service, Ingress, ...) are checked with the
  official Kubernetes JSON schemas shipped by the `kubernetes-validate` package,
  in its *strict* mode (unknown fields are errors), for one Kubernetes version;
* custom resources (SealedSecret, Argo CD Application/ApplicationSet/AppProject,
  KEDA ScaledObject/TriggerAuthentication) are checked with `jsonschema`
  against the `openAPIV3Schema` of their CustomResourceDefinition, read from a
  directory of CRD files;
* every label and annotation value must be a string.

Usage:
    python3 tests/support/validate_manifests.py [--crd-dir DIR] \
        [--k8s-version 1.31] FILE|-

Output is one line per object, `ok Kind/namespace/name` or
`FAIL Kind/namespace/name: <path>: <message>` (namespace is `-` when unset).
Exit status: 0 all objects valid, 1 some object invalid, 2 usage or I/O error
(unreadable input, bad YAML, missing CRD directory when a custom resource needs
it, unsupported Kubernetes version).
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Tuple

import jsonschema
import jsonschema.exceptions
import kubernetes_validate
import kubernetes_validate.utils as kv_utils
import yaml
from packaging.version import Version

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CRD_DIR = REPO_ROOT.parent / "shared" / "schemas"


class UsageError(Exception):
    """A problem with the invocation or the environment: exit status 2."""


# --------------------------------------------------------------------------
# YAML loading
# --------------------------------------------------------------------------

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _ManifestLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """SafeLoader that reads YAML the way kubectl does for our purposes.

    * Timestamps stay strings: Kubernetes' YAML decoder (sigs.k8s.io/yaml)
      keeps `2024-01-01` as a string, so PyYAML's datetime conversion would
      make us report a bogus "annotation is not a string".
    * A bare `=` (PyYAML's `tag:yaml.org,2002:value`) is read as the string "=".
    """


_ManifestLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_ManifestLoader.add_constructor(
    "tag:yaml.org,2002:value", lambda loader, node: loader.construct_scalar(node)
)


def load_documents(text: str) -> List[Any]:
    """All non-empty YAML documents in `text`; `v1/List` objects are flattened."""
    try:
        docs = [d for d in yaml.load_all(text, Loader=_ManifestLoader) if d is not None]
    except yaml.YAMLError as e:
        raise UsageError(f"cannot parse YAML: {e}") from e
    out: List[Any] = []
    for doc in docs:
        if (isinstance(doc, dict) and doc.get("kind") == "List"
                and doc.get("apiVersion") == "v1" and isinstance(doc.get("items"), list)):
            out.extend(doc["items"])
        else:
            out.append(doc)
    return out


# --------------------------------------------------------------------------
# CRD openAPIV3Schema -> JSON Schema
# --------------------------------------------------------------------------

# Basic ObjectMeta for custom resources.  A CRD's schema says only
# `metadata: {type: object}`; the API server validates ObjectMeta itself.  We
# check the fields a manifest may set, with their types, and reject anything
# else (a typo such as `metadata.label` would otherwise be silently dropped).
# "name or generateName is required" is checked separately with a clear message.
_STRING_MAP = {"type": "object", "additionalProperties": {"type": "string"}}
OBJECT_META_SCHEMA: Dict[str, Any] = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "generateName": {"type": "string"},
        "namespace": {"type": "string"},
        "labels": _STRING_MAP,
        "annotations": _STRING_MAP,
        "finalizers": {"type": "array", "items": {"type": "string"}},
        "ownerReferences": {"type": "array", "items": {"type": "object"}},
        "uid": {"type": "string"},
        "resourceVersion": {"type": "string"},
        "generation": {"type": "integer"},
        "creationTimestamp": {"type": ["string", "null"]},
        "deletionTimestamp": {"type": ["string", "null"]},
        "deletionGracePeriodSeconds": {"type": "integer"},
        "managedFields": {"type": "array"},
        "selfLink": {"type": "string"},
    },
    "additionalProperties": False,
}


def structural_to_jsonschema(node: Any, structural: bool = True) -> Any:
    """Translate an OpenAPI v3 structural schema node to JSON Schema (draft 4).

    Strictness choices, mirroring how the API server treats custom resources
    under `kubectl apply --validate=strict` / Argo CD server-side apply:

    * Unknown fields are errors.  Wherever a node is an object (`type: object`
      or has `properties`) and has neither `x-kubernetes-preserve-unknown-fields`
      nor `additionalProperties`, we add `additionalProperties: false`.  The API
      server would prune such fields (strict field validation turns that into an
      error); either way the field never takes effect, so it is a bug.
      Only structural nodes get this: branches of anyOf/allOf/oneOf/not are
      value validations and must not restrict fields.
    * `x-kubernetes-preserve-unknown-fields: true` keeps unknown fields (no
      additionalProperties added); an explicit `additionalProperties` schema
      still constrains the values (e.g. SealedSecret `spec.encryptedData`).
    * `x-kubernetes-int-or-string: true` accepts an integer or a string (any
      `anyOf`/`pattern` alongside is kept; `pattern` applies to strings only).
    * `nullable: true` additionally accepts null.  A null where the schema is
      not nullable is reported, although the API server would silently drop it:
      in a manifest it is almost always an empty key left by mistake.
    * `x-kubernetes-embedded-resource: true` implicitly allows apiVersion, kind
      and metadata.
    * Not checked: `format` (int32, date-time, ...), `x-kubernetes-validations`
      CEL rules, list-type uniqueness.
    """
    if isinstance(node, list):
        return [structural_to_jsonschema(n, structural) for n in node]
    if not isinstance(node, dict):
        return node

    out: Dict[str, Any] = {}
    for key, value in node.items():
        if key in ("properties", "patternProperties", "definitions"):
            out[key] = {k: structural_to_jsonschema(v) for k, v in value.items()}
        elif key in ("items", "additionalProperties") and isinstance(value, (dict, list)):
            out[key] = structural_to_jsonschema(value)
        elif key in ("anyOf", "allOf", "oneOf", "not"):
            out[key] = structural_to_jsonschema(value, structural=False)
        elif key in ("description", "default", "example"):
            continue  # documentation only; keeps error output readable
        else:
            out[key] = value

    if node.get("x-kubernetes-int-or-string"):
        out["type"] = ["integer", "string"]

    if node.get("x-kubernetes-embedded-resource"):
        props = out.setdefault("properties", {})
        props.setdefault("apiVersion", {"type": "string"})
        props.setdefault("kind", {"type": "string"})
        props.setdefault("metadata", {"type": "object"})

    if node.get("nullable"):
        if "type" in out:
            types = out["type"] if isinstance(out["type"], list) else [out["type"]]
            out["type"] = types + ["null"]
        if "enum" in out:
            out["enum"] = list(out["enum"]) + [None]

    is_object = out.get("type") == "object" or (
        isinstance(out.get("type"), list) and "object" in out["type"]) or "properties" in out
    if (structural and is_object
            and not node.get("x-kubernetes-preserve-unknown-fields")
            and "additionalProperties" not in out):
        out["additionalProperties"] = False
    return out


def crd_object_schema(openapi_schema: Dict[str, Any], api_version: str, kind: str) -> Dict[str, Any]:
    """JSON Schema for a whole custom resource of one group/version/kind."""
    schema = structural_to_jsonschema(copy.deepcopy(openapi_schema))
    props = schema.setdefault("properties", {})
    props["apiVersion"] = {"type": "string", "enum": [api_version]}
    props["kind"] = {"type": "string", "enum": [kind]}
    props["metadata"] = OBJECT_META_SCHEMA
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    schema.setdefault("type", "object")
    return schema


class CrdIndex:
    """The CustomResourceDefinitions of a directory, keyed by (apiVersion, kind).

    Loaded lazily: a manifest set with only built-in kinds needs no CRD dir.
    """

    def __init__(self, crd_dir: Path):
        self.crd_dir = crd_dir
        self._raw: Optional[Dict[Tuple[str, str], Dict[str, Any]]] = None
        self._validators: Dict[Tuple[str, str], jsonschema.Draft4Validator] = {}

    def _load(self) -> Dict[Tuple[str, str], Dict[str, Any]]:
        if self._raw is not None:
            return self._raw
        if not self.crd_dir.is_dir():
            raise UsageError(
                f"CRD directory {self.crd_dir} does not exist; it is needed to validate "
                "custom resources (pass --crd-dir DIR)")
        raw: Dict[Tuple[str, str], Dict[str, Any]] = {}
        files = sorted(p for p in self.crd_dir.rglob("*")
                       if p.suffix in (".yaml", ".yml", ".json") and p.is_file())
        for path in files:
            try:
                docs = load_documents(path.read_text())
            except (OSError, UsageError) as e:
                raise UsageError(f"cannot read CRD file {path}: {e}") from e
            for doc in docs:
                if not isinstance(doc, dict) or doc.get("kind") != "CustomResourceDefinition":
                    continue
                spec = doc.get("spec") or {}
                group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
                for version in spec.get("versions") or []:
                    openapi = ((version.get("schema") or {}).get("openAPIV3Schema"))
                    if group and kind and openapi is not None:
                        raw[(f"{group}/{version['name']}", kind)] = openapi
        self._raw = raw
        return raw

    def validator(self, api_version: str, kind: str) -> Optional[jsonschema.Draft4Validator]:
        key = (api_version, kind)
        if key not in self._validators:
            openapi = self._load().get(key)
            if openapi is None:
                return None
            # Draft 4 is the JSON Schema dialect OpenAPI v3.0 is based on
            # (e.g. boolean exclusiveMinimum).
            self._validators[key] = jsonschema.Draft4Validator(
                crd_object_schema(openapi, api_version, kind))
        return self._validators[key]


# --------------------------------------------------------------------------
# Validation
# --------------------------------------------------------------------------

def format_path(parts: Any) -> str:
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or "(root)"


def _nested_metadata(obj: Any, path: Tuple[Any, ...] = ()) -> Iterator[Tuple[Tuple[Any, ...], Dict]]:
    """Every `metadata` mapping in obj: the object's own, pod templates, etc."""
    if isinstance(obj, dict):
        for key, value in obj.items():
            if key == "metadata" and isinstance(value, dict):
                yield path + (key,), value
            yield from _nested_metadata(value, path + (key,))
    elif isinstance(obj, list):
        for i, value in enumerate(obj):
            yield from _nested_metadata(value, path + (i,))


def label_annotation_errors(obj: Dict[str, Any]) -> List[str]:
    """Kubernetes rejects non-string label/annotation values; say so plainly."""
    errors = []
    for meta_path, meta in _nested_metadata(obj):
        for field, what in (("labels", "label"), ("annotations", "annotation")):
            values = meta.get(field)
            if not isinstance(values, dict):
                continue
            for key, value in values.items():
                if not isinstance(value, str):
                    shown = yaml.safe_dump(value, default_flow_style=True).strip()
                    shown = shown.removesuffix("\n...").removesuffix("...").strip()
                    errors.append(
                        f"{format_path(meta_path + (field, key))}: {what} value must be a "
                        f"string, got {type(value).__name__} {shown} (quote it in YAML)")
    return errors


def object_id(obj: Any, index: int) -> str:
    if not isinstance(obj, dict):
        return f"document#{index}"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName") or "<unnamed>"
    return f"{obj.get('kind') or '<no kind>'}/{meta.get('namespace') or '-'}/{name}"


class ManifestValidator:
    def __init__(self, crd_dir: Path, k8s_version: str):
        self.crds = CrdIndex(crd_dir)
        self.k8s_version = resolve_k8s_version(k8s_version)

    def errors(self, obj: Any) -> List[str]:
        """All problems found in one object, each as `path: message`."""
        if not isinstance(obj, dict):
            return [f"(root): expected a mapping (a Kubernetes object), got {type(obj).__name__}"]
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        for field, value in (("apiVersion", api_version), ("kind", kind)):
            if not isinstance(value, str) or not value:
                return [f"{field}: is required and must be a non-empty string"]
        meta = obj.get("metadata")
        if not isinstance(meta, dict):
            return ["metadata: is required and must be a mapping"]

        errors = label_annotation_errors(obj)
        if not (meta.get("name") or meta.get("generateName")):
            errors.append("metadata.name: is required")
        errors.extend(self._schema_errors(obj, api_version, kind))
        return errors

    def _schema_errors(self, obj: Dict[str, Any], api_version: str, kind: str) -> List[str]:
        try:
            kubernetes_validate.validate(obj, self.k8s_version, strict=True)
            return []
        except kubernetes_validate.ValidationError as e:
            return [f"{format_path(e.absolute_path)}: {e.message}"]
        except kubernetes_validate.SchemaNotFoundError:
            pass  # not a built-in kind (for this version): try the CRDs

        validator = self.crds.validator(api_version, kind)
        if validator is None:
            return [f"(root): no schema for kind {kind} (apiVersion {api_version})"]
        best = jsonschema.exceptions.best_match(validator.iter_errors(obj))
        return [] if best is None else [f"{format_path(best.absolute_path)}: {best.message}"]


def resolve_k8s_version(requested: Optional[str]) -> str:
    """`1.31` -> the `1.31.x` schema set shipped by kubernetes-validate."""
    shipped = sorted({Version(v) for v in kv_utils.all_versions()})
    if requested is None:
        return str(shipped[-1])
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", requested)
    if m:
        wanted = (int(m.group(1)), int(m.group(2)))
        for v in reversed(shipped):
            if (v.major, v.minor) == wanted:
                return str(v)
    raise UsageError(
        f"Kubernetes version {requested!r} is not supported by kubernetes-validate "
        f"{kubernetes_validate.__version__} (it ships {shipped[0]} .. {shipped[-1]})")


def validate_text(text: str, validator: ManifestValidator) -> Tuple[List[str], bool]:
    """Report lines for every object in `text`, and whether all were ok."""
    lines, all_ok = [], True
    for i, obj in enumerate(load_documents(text)):
        ident = object_id(obj, i)
        errors = validator.errors(obj)
        if errors:
            all_ok = False
            more = f" (+{len(errors) - 1} more)" if len(errors) > 1 else ""
            lines.append(f"FAIL {ident}: {errors[0]}{more}")
        else:
            lines.append(f"ok {ident}")
    return lines, all_ok


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        description="Validate Kubernetes manifests (built-in kinds and CRD-backed custom "
                    "resources) strictly and offline.")
    parser.add_argument("file", metavar="FILE|-", help="YAML file with one or more documents, or - for stdin")
    parser.add_argument("--crd-dir", type=Path, default=DEFAULT_CRD_DIR,
                        help=f"directory of CustomResourceDefinition YAML files (default: {DEFAULT_CRD_DIR})")
    parser.add_argument("--k8s-version", default=None,
                        help="Kubernetes minor version to validate built-in kinds against, e.g. 1.31 "
                             f"(default: newest shipped, {resolve_k8s_version(None)})")
    args = parser.parse_args(argv)  # exits 2 on usage errors

    try:
        validator = ManifestValidator(args.crd_dir, args.k8s_version)
        if args.file == "-":
            text = sys.stdin.read()
        else:
            try:
                text = Path(args.file).read_text()
            except OSError as e:
                raise UsageError(f"cannot read {args.file}: {e.strerror or e}") from e
        lines, all_ok = validate_text(text, validator)
    except UsageError as e:
        print(f"validate_manifests: error: {e}", file=sys.stderr)
        return 2
    for line in lines:
        print(line)
    return 0 if all_ok else 1


if __name__ == "__main__":
    sys.exit(main())
