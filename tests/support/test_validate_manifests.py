#!/usr/bin/env python3
"""Self-tests for validate_manifests.py, runnable without pytest.

    python3 tests/support/test_validate_manifests.py

Each test feeds a small manifest through the validator and checks that valid
objects pass and each kind of mistake the validator exists to catch fails with
a message pointing at the right field.  Prints `N passed, M failed, K skipped`;
exits 1 if any test failed.

The custom-resource cases need the shared CRD schemas (`../shared/schemas`, next to
the repository; CI has them).  Without that directory they are skipped with a loud
`SKIPPED` line on stderr, except when the `CI` environment variable is set, where a
missing directory is a failure: CI must check custom resources.
"""

import os
import subprocess
import sys
import tempfile
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import validate_manifests as vm  # noqa: E402

SCRIPT = HERE / "validate_manifests.py"
VALIDATOR = vm.ManifestValidator(vm.DEFAULT_CRD_DIR, None)


class Skipped(Exception):
    """A test that cannot run here (and is allowed not to: CI is not set)."""


def needs_crds(fn):
    """Marks a test that validates custom resources against the shared CRD schemas."""
    fn.needs_crds = True
    return fn


def crds_missing_reason():
    """Why the CRD tests cannot run, or None when they can."""
    if Path(vm.DEFAULT_CRD_DIR).is_dir():
        return None
    return (f"custom-resource cases: CRD schema directory {vm.DEFAULT_CRD_DIR} does not exist "
            "(it is ../shared/schemas next to the repository; CI has it)")

DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: conductor
  namespace: dbos
  labels: {app.kubernetes.io/name: conductor}
  annotations: {deployed-at: 2024-01-01}
spec:
  replicas: 2
  selector:
    matchLabels: {app.kubernetes.io/name: conductor}
  template:
    metadata:
      labels: {app.kubernetes.io/name: conductor}
    spec:
      containers:
        - name: conductor
          image: dbos/conductor:1.0
          ports: [{name: http, containerPort: 8090}]
          resources:
            requests: {cpu: 100m, memory: 256Mi}
"""

SCALED_OBJECT = """
apiVersion: keda.sh/v1alpha1
kind: ScaledObject
metadata: {name: worker, namespace: dbos}
spec:
  scaleTargetRef: {name: worker}
  minReplicaCount: 1
  maxReplicaCount: 10
  triggers:
    - type: postgresql
      metadata:
        targetQueryValue: "2"
        query: SELECT count(*) FROM dbos.workflow_queue
      authenticationRef: {name: pg-auth}
"""

APPLICATION = """
apiVersion: argoproj.io/v1alpha1
kind: Application
metadata: {name: conductor-prod, namespace: argocd}
spec:
  project: default
  source:
    repoURL: https://example.com/gitops.git
    targetRevision: main
    path: environments/prod
  destination: {server: https://kubernetes.default.svc, namespace: dbos}
  syncPolicy:
    automated: {prune: true, selfHeal: true}
    syncOptions: [CreateNamespace=true]
"""

SEALED_SECRET = """
apiVersion: bitnami.com/v1alpha1
kind: SealedSecret
metadata: {name: conductor-db, namespace: dbos, creationTimestamp: null}
spec:
  encryptedData:
    password: AgBy3i4OJSWK+PiTySYZZA==
  template:
    metadata: {name: conductor-db, namespace: dbos, creationTimestamp: null}
"""


def run(text):
    """(report lines, all_ok) for a YAML string."""
    return vm.validate_text(text, VALIDATOR)


def assert_ok(text):
    lines, ok = run(text)
    assert ok and all(l.startswith("ok ") for l in lines), lines


def assert_fails(text, *fragments):
    lines, ok = run(text)
    assert not ok, lines
    fail = [l for l in lines if l.startswith("FAIL ")]
    assert fail, lines
    for frag in fragments:
        assert frag in fail[0], f"{frag!r} not in {fail[0]!r}"
    return fail[0]


# --- built-in kinds --------------------------------------------------------

def test_valid_deployment_passes():
    lines, ok = run(DEPLOYMENT)
    assert ok and lines == ["ok Deployment/dbos/conductor"], lines


def test_deployment_unknown_field_fails():
    bad = DEPLOYMENT.replace("  replicas: 2", "  replicas: 2\n  replicaz: 3")
    assert_fails(bad, "FAIL Deployment/dbos/conductor: spec:", "'replicaz' was unexpected")


def test_deployment_unknown_container_field_fails():
    bad = DEPLOYMENT.replace("          image:", "          imagePullPolice: Always\n          image:")
    assert_fails(bad, "spec.template.spec.containers[0]", "imagePullPolice")


def test_service_string_port_fails():
    svc = """
apiVersion: v1
kind: Service
metadata: {name: conductor, namespace: dbos}
spec:
  selector: {app: conductor}
  ports: [{name: http, port: "8090", targetPort: http}]
"""
    assert_fails(svc, "spec.ports[0].port", "'8090' is not of type 'integer'")
    assert_ok(svc.replace('"8090"', "8090"))


def test_cluster_scoped_object_has_dash_namespace():
    lines, ok = run("apiVersion: v1\nkind: Namespace\nmetadata: {name: dbos}\n")
    assert ok and lines == ["ok Namespace/-/dbos"], lines


def test_older_k8s_version_selectable():
    v = vm.ManifestValidator(vm.DEFAULT_CRD_DIR, "1.31")
    assert v.k8s_version.startswith("1.31"), v.k8s_version
    lines, ok = vm.validate_text(DEPLOYMENT, v)
    assert ok, lines


# --- labels / annotations ------------------------------------------------------

def test_boolean_label_fails():
    bad = DEPLOYMENT.replace("labels: {app.kubernetes.io/name: conductor}\n  annotations",
                             "labels: {managed: true}\n  annotations")
    assert_fails(bad, "metadata.labels.managed: label value must be a string, got bool true")


def test_numeric_annotation_in_pod_template_fails():
    bad = DEPLOYMENT.replace("    metadata:\n      labels:",
                             "    metadata:\n      annotations: {prometheus.io/port: 9090}\n      labels:")
    assert_fails(bad, "spec.template.metadata.annotations.prometheus.io/port",
                 "annotation value must be a string, got int 9090")


def test_date_like_annotation_is_a_string():
    # kubectl keeps 2024-01-01 as a string; so must we (DEPLOYMENT has one).
    assert_ok(DEPLOYMENT)


# --- custom resources ----------------------------------------------------------

@needs_crds
def test_valid_sealed_secret_passes():
    assert_ok(SEALED_SECRET)


@needs_crds
def test_sealed_secret_non_string_encrypted_data_fails():
    bad = SEALED_SECRET.replace("password: AgBy3i4OJSWK+PiTySYZZA==", "password: 12345\n    enabled: true")
    assert_fails(bad, "FAIL SealedSecret/dbos/conductor-db: spec.encryptedData.", "is not of type 'string'")


@needs_crds
def test_sealed_secret_missing_encrypted_data_fails():
    bad = SEALED_SECRET.replace("  encryptedData:\n    password: AgBy3i4OJSWK+PiTySYZZA==\n", "")
    assert_fails(bad, "spec: 'encryptedData' is a required property")


@needs_crds
def test_valid_scaled_object_passes():
    assert_ok(SCALED_OBJECT)


@needs_crds
def test_scaled_object_numeric_trigger_metadata_fails():
    bad = SCALED_OBJECT.replace('targetQueryValue: "2"', "targetValue: 2")
    assert_fails(bad, "spec.triggers[0].metadata.targetValue: 2 is not of type 'string'")


@needs_crds
def test_scaled_object_int_or_string_and_enum():
    template = SCALED_OBJECT.replace("  minReplicaCount: 1", """  minReplicaCount: 1
  advanced:
    horizontalPodAutoscalerConfig:
      behavior:
        scaleDown:
          tolerance: TOLERANCE
          stabilizationWindowSeconds: 300""")
    for value in ("1", '"0.05"', '"50m"'):  # x-kubernetes-int-or-string
        assert_ok(template.replace("TOLERANCE", value))
    assert_fails(template.replace("TOLERANCE", "true"), "tolerance")
    assert_fails(template.replace("TOLERANCE", '"lots"'), "tolerance", "does not match")
    bad_enum = SCALED_OBJECT.replace("  minReplicaCount: 1", """  minReplicaCount: 1
  advanced:
    scalingModifiers: {formula: "a + b", target: "2", metricType: Bogus}""")
    assert_fails(bad_enum, "spec.advanced.scalingModifiers.metricType", "is not one of")


@needs_crds
def test_valid_application_passes():
    assert_ok(APPLICATION)


@needs_crds
def test_application_bad_sync_policy_field_fails():
    bad = APPLICATION.replace("selfHeal: true", "selfheal: true")
    assert_fails(bad, "FAIL Application/argocd/conductor-prod: spec.syncPolicy.automated:",
                 "'selfheal' was unexpected")


@needs_crds
def test_cr_metadata_is_checked():
    assert_fails(APPLICATION.replace("namespace: argocd}", "namespace: argocd, label: {a: b}}"),
                 "metadata: Additional properties are not allowed ('label' was unexpected)")
    assert_fails(APPLICATION.replace("{name: conductor-prod, ", "{"), "metadata.name: is required")


@needs_crds
def test_cr_wrong_version_has_no_schema():
    assert_fails(APPLICATION.replace("argoproj.io/v1alpha1", "argoproj.io/v1"),
                 "no schema for kind Application (apiVersion argoproj.io/v1)")


@needs_crds
def test_unknown_kind_fails():
    assert_fails("apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: x}\n",
                 "FAIL Widget/x/w: (root): no schema for kind Widget (apiVersion example.com/v1)")


# --- structural schema translation -----------------------------------------------

def test_structural_translation():
    s = vm.structural_to_jsonschema({
        "type": "object",
        "properties": {
            "a": {"x-kubernetes-int-or-string": True, "anyOf": [{"type": "integer"}, {"type": "string"}]},
            "b": {"type": "string", "nullable": True, "enum": ["x"]},
            "c": {"type": "object", "x-kubernetes-preserve-unknown-fields": True,
                  "properties": {"d": {"type": "object", "properties": {"e": {"type": "string"}}}}},
        },
    })
    assert s["additionalProperties"] is False
    assert s["properties"]["a"]["type"] == ["integer", "string"]
    assert "additionalProperties" not in s["properties"]["a"]["anyOf"][0]
    assert s["properties"]["b"]["type"] == ["string", "null"] and None in s["properties"]["b"]["enum"]
    assert "additionalProperties" not in s["properties"]["c"]
    assert s["properties"]["c"]["properties"]["d"]["additionalProperties"] is False


# --- command line --------------------------------------------------------------------

def cli(args, stdin=""):
    p = subprocess.run([sys.executable, str(SCRIPT), *args], input=stdin,
                       capture_output=True, text=True, timeout=120)
    return p.returncode, p.stdout, p.stderr


@needs_crds
def test_cli_stdin_ok_and_fail_exit_codes():
    rc, out, _ = cli(["-"], DEPLOYMENT + "---\n" + APPLICATION)
    assert rc == 0, out
    assert out.splitlines() == ["ok Deployment/dbos/conductor", "ok Application/argocd/conductor-prod"], out
    rc, out, _ = cli(["-"], DEPLOYMENT + "---\napiVersion: v1\nkind: Widget\nmetadata: {name: w}\n")
    assert rc == 1, out
    assert out.splitlines()[1].startswith("FAIL Widget/-/w: "), out


def test_cli_missing_crd_dir_with_cr_exits_2():
    rc, out, err = cli(["--crd-dir", "/nonexistent/crds", "-"], SEALED_SECRET)
    assert rc == 2 and "CRD directory /nonexistent/crds does not exist" in err, (rc, out, err)
    # ...but built-in kinds alone do not need it.
    rc, out, err = cli(["--crd-dir", "/nonexistent/crds", "-"], DEPLOYMENT)
    assert rc == 0, (rc, out, err)


def test_cli_usage_and_io_errors_exit_2():
    assert cli([])[0] == 2
    rc, _, err = cli(["/nonexistent/file.yaml"])
    assert rc == 2 and "cannot read /nonexistent/file.yaml" in err, err
    rc, _, err = cli(["--k8s-version", "1.2", "-"], DEPLOYMENT)
    assert rc == 2 and "not supported" in err, err
    rc, _, err = cli(["-"], "a: [unclosed\n")
    assert rc == 2 and "cannot parse YAML" in err, err


@needs_crds
def test_cli_file_argument():
    with tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False) as f:
        f.write(SCALED_OBJECT)
    try:
        rc, out, _ = cli(["--k8s-version", "1.31", f.name])
        assert rc == 0 and out.strip() == "ok ScaledObject/dbos/worker", out
    finally:
        os.unlink(f.name)


def main():
    tests = [(n, f) for n, f in globals().items() if n.startswith("test_") and callable(f)]
    passed = failed = skipped = 0
    missing = crds_missing_reason()
    in_ci = "CI" in os.environ
    for name, fn in tests:
        try:
            if getattr(fn, "needs_crds", False) and missing:
                if in_ci:
                    raise AssertionError(f"{missing}, but CI is set: CI must validate custom "
                                         "resources")
                raise Skipped(missing)
            fn()
            passed += 1
        except Skipped as why:
            skipped += 1
            print(f"SKIPPED {name}: {why}", file=sys.stderr, flush=True)
        except Exception:
            failed += 1
            print(f"FAILED {name}")
            traceback.print_exc()
    if skipped:
        print(f"\n!!! SKIPPED {skipped} custom-resource case(s): {missing} !!!\n",
              file=sys.stderr, flush=True)
    sys.stdout.flush()
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
