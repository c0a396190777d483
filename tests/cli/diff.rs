//! `diff` (#15) on real git repositories, rendered by the real `kubectl kustomize`: what Argo
//! CD would change, object by object, with sealed and plain secret values never printed, and
//! the index and the work tree left exactly as they were.

use crate::support::*;
use sha2::{Digest, Sha256};
use std::process::Command;

/// What must not move: the index's bytes and what git reports as changed.
fn git_state(repo: &TestRepo) -> (String, String) {
    let index = std::fs::read(repo.path().join(".git/index")).expect("index");
    (
        format!("{:x}", Sha256::digest(&index)),
        git(
            repo.path(),
            &["status", "--porcelain", "--untracked-files=all"],
        ),
    )
}

fn kubectl_or_skip() -> bool {
    require_tool("kubectl", &["version", "--client"])
}

#[test]
fn unchanged_work_tree_is_exit_0_in_every_format() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(repo.path(), "prod");
    let run = repo.run(&["diff"]);
    assert_eq!(
        (run.code, run.stdout.as_str()),
        (0, "no changes against `HEAD`\n"),
        "{}",
        run.stderr
    );
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["diff", "--format", "json"]).stdout).unwrap();
    assert_eq!(json["version"], 1);
    assert_eq!(json["changes"], serde_json::json!([]));
    let markdown = repo.run(&["diff", "--format", "markdown"]);
    assert_eq!(markdown.code, 0);
    assert!(
        markdown.stdout.contains("No changes"),
        "{}",
        markdown.stdout
    );
}

#[test]
fn version_added_shows_the_new_deployment_and_the_selector_move_without_touching_git() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(repo.path(), "prod");
    repo.add_version("v2", "prod");
    let before = git_state(&repo);
    let run = repo.run(&["diff"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    let added = run
        .stdout
        .lines()
        .find(|line| line.contains("Deployment/dbos-app-v2"))
        .unwrap_or_else(|| panic!("{}", run.stdout));
    assert!(
        added.starts_with("environments/prod") && added.trim_end().ends_with("added"),
        "{added}"
    );
    assert!(
        run.stdout
            .contains("spec.selector.app.kubernetes.io/version: v1 -> v2"),
        "{}",
        run.stdout
    );
    assert!(run.stdout.contains("against `HEAD`"), "{}", run.stdout);
    for format in ["json", "markdown"] {
        let other = repo.run(&["diff", "--format", format]);
        assert_eq!(other.code, 1, "{format}: {}", other.stderr);
    }
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["diff", "--format", "json"]).stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    assert!(changes.iter().any(|change| change["kind"] == "Deployment"
        && change["name"] == "dbos-app-v2"
        && change["change"] == "added"
        && change["namespace"] == "dbos-prod"));
    // Nothing staged, nothing written: the index's bytes and git's view are unchanged.
    assert_eq!(git_state(&repo), before);
}

#[test]
fn resealed_secret_is_named_and_no_canary_reaches_any_format() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    let set = [
        "secrets",
        "set",
        "--env",
        "prod",
        "conductor-db",
        "database-url",
        "--from-stdin",
    ];
    let first = repo.run_with_stdin(&set, Some(b"postgres://canary-one-Zq8x@db/conductor"));
    assert_eq!(first.code, 0, "{}", first.stderr);
    // A plain Secret (which `check` forbids) slipped into the overlay: its values are redacted too.
    let plain = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: plain\nstringData:\n  token: canary-two-Zq8x\n";
    repo.write("environments/prod/plain.yaml", plain);
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    repo.write(
        "environments/prod/kustomization.yaml",
        &kustomization.replacen("resources:\n", "resources:\n- plain.yaml\n", 1),
    );
    commit_all(repo.path(), "sealed");
    // `secrets set` refuses a hand-edited kustomization: re-seal with the generated one, then
    // put the edit back.
    let edited = repo.read("environments/prod/kustomization.yaml");
    repo.write("environments/prod/kustomization.yaml", &kustomization);
    let run = repo.run_with_stdin(&set, Some(b"postgres://canary-three-Zq8x@db/conductor"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    repo.write("environments/prod/kustomization.yaml", &edited);
    repo.write(
        "environments/prod/plain.yaml",
        &format!("{plain}data:\n  other: {}\n", "Y2FuYXJ5LWZvdXItWnE4eA=="),
    );
    let text = repo.run(&["diff"]);
    assert_eq!(text.code, 1, "{}", text.stderr);
    assert!(
        text.stdout.contains("SealedSecret/conductor-db")
            && text
                .stdout
                .contains("encryptedData: `database-url` re-sealed (value not shown)"),
        "{}",
        text.stdout
    );
    assert!(text.stdout.contains("Secret/plain"), "{}", text.stdout);
    for format in ["text", "json", "markdown"] {
        for context in ["0", "3", "1000"] {
            let run = repo.run(&["diff", "--format", format, "-U", context]);
            assert_eq!(run.code, 1, "{format}: {}", run.stderr);
            let output = format!("{}{}", run.stdout, run.stderr);
            // The plaintexts, the base64 one, and its decoding.
            for canary in ["canary", "Y2FuYXJ5", "Zq8x"] {
                assert!(
                    !output.contains(canary),
                    "{format} -U {context} printed {canary}:\n{output}"
                );
            }
        }
    }
}

#[test]
fn removed_environment_and_its_application_are_removed() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    repo.ok(&[
        "init",
        "env",
        "staging",
        "--cert",
        &cert,
        "--conductor-version",
        TEST_CONDUCTOR_VERSION,
    ]);
    commit_all(repo.path(), "two environments");
    std::fs::remove_dir_all(repo.path().join("environments/staging")).unwrap();
    repo.ok(&["build"]);
    let run = repo.run(&["diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert!(
        lines
            .iter()
            .any(|line| line.starts_with("environments/staging")
                && line.contains("Deployment/conductor")
                && line.trim_end().ends_with("removed")),
        "{}",
        run.stdout
    );
    assert!(
        lines.iter().any(|line| line.starts_with("argocd")
            && line.contains("Application/")
            && line.contains("staging")
            && line.trim_end().ends_with("removed")),
        "{}",
        run.stdout
    );
    assert!(!run.stdout.contains("environments/prod"), "{}", run.stdout);
    // The truth about a removed environment: Git lost it, the cluster did not.
    assert!(
        run.stdout.contains(
            "environment `staging` is removed from Git but stays running: the root Application prunes only an Application marked for the cascade"
        ),
        "{}",
        run.stdout
    );
    // The AppProject's destinations list shrank: a YAML diff with -U lines of context.
    assert!(
        run.stdout.contains("--- argocd at HEAD\n")
            && run.stdout.contains("-  - namespace: dbos-staging\n"),
        "{}",
        run.stdout
    );
    let narrow = repo.run(&["diff", "-U", "0"]).stdout;
    assert!(
        narrow.contains("-  - namespace: dbos-staging\n"),
        "{narrow}"
    );
    assert!(
        narrow.lines().count() < run.stdout.lines().count(),
        "{narrow}"
    );
    // --env narrows to one environment (argocd/ left out).
    let prod_only = repo.run(&["diff", "--env", "prod"]);
    assert_eq!(
        (prod_only.code, prod_only.stdout.as_str()),
        (0, "no changes against `HEAD`\n")
    );
}

#[test]
fn unknown_revision_and_no_git_repository_are_exit_2_and_change_nothing() {
    let repo = TestRepo::prod();
    let not_git = repo.run(&["diff"]);
    assert_eq!(not_git.code, 2, "{}", not_git.stderr);
    assert!(
        not_git.stderr.contains("not inside a git repository"),
        "{}",
        not_git.stderr
    );
    commit_all(repo.path(), "prod");
    let before = git_state(&repo);
    let snapshot = repo.snapshot();
    let run = repo.run(&["diff", "no-such-branch"]);
    assert_eq!(run.code, 2);
    assert!(
        run.stderr
            .contains("`no-such-branch` does not name a commit"),
        "{}",
        run.stderr
    );
    assert!(run.stdout.is_empty());
    assert_eq!(repo.snapshot(), snapshot);
    assert_eq!(git_state(&repo), before);
}

#[test]
fn a_repository_below_the_git_top_level_compares_its_own_subtree() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    let sub = repo.path().join("deploy");
    std::fs::create_dir(&sub).unwrap();
    for entry in std::fs::read_dir(repo.path()).unwrap() {
        let entry = entry.unwrap();
        if entry.file_name() != "deploy" {
            std::fs::rename(entry.path(), sub.join(entry.file_name())).unwrap();
        }
    }
    commit_all(repo.path(), "nested");
    let unchanged = repo.run(&["--repo", "deploy", "diff"]);
    assert_eq!(
        (unchanged.code, unchanged.stdout.as_str()),
        (0, "no changes against `HEAD`\n"),
        "{}",
        unchanged.stderr
    );
    repo.ok(&[
        "--repo",
        "deploy",
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    let run = repo.run(&["--repo", "deploy", "diff"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    assert!(
        run.stdout.contains("Deployment/dbos-app-v2"),
        "{}",
        run.stdout
    );
    assert!(
        !run.stdout.contains("Deployment/conductor"),
        "{}",
        run.stdout
    );
}

/// What GitHub's own Markdown renderer (cmark-gfm, through Python `cmarkgfm`) sees in
/// `markdown`: tests/support/gfm_structure.py. `None` after a loud skip when it is missing.
fn gfm(markdown: &str) -> Option<serde_json::Value> {
    if !require_tool("python3", &["-c", "import cmarkgfm"]) {
        return None;
    }
    let output = pipe(
        Command::new("python3").arg(project_root().join("tests/support/gfm_structure.py")),
        markdown.as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).expect("gfm_structure.py prints JSON"))
}

/// The object table: the rendered table whose header names the objects.
fn object_table(structure: &serde_json::Value) -> &serde_json::Value {
    structure["tables"]
        .as_array()
        .unwrap()
        .iter()
        .find(|table| table["header"][1] == "object")
        .unwrap_or_else(|| panic!("no object table: {structure}"))
}

/// Every `encryptedData` value of every SealedSecret under `environments/` in the work tree.
fn ciphertexts(repo: &TestRepo) -> Vec<String> {
    let mut out = Vec::new();
    for env in std::fs::read_dir(repo.path().join("environments")).unwrap() {
        let secrets = env.unwrap().path().join("secrets");
        let Ok(files) = std::fs::read_dir(&secrets) else {
            continue;
        };
        for file in files {
            let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
            for object in parse_yaml_stream(&text) {
                if let Some(data) = object["spec"]["encryptedData"].as_object() {
                    out.extend(
                        data.values()
                            .map(|value| value.as_str().unwrap().to_string()),
                    );
                }
            }
        }
    }
    out
}

/// Two environments at HEAD; in the work tree prod gets v2 and a re-sealed key, staging (with
/// a sealed secret) is gone.
fn reviewed_change() -> (TestRepo, Vec<String>) {
    let repo = TestRepo::prod();
    repo.add_env("staging");
    for (env, value) in [("prod", "canary-one-Zq8x"), ("staging", "canary-two-Zq8x")] {
        let url = format!("postgres://{value}@db/conductor");
        let set = [
            "secrets",
            "set",
            "--env",
            env,
            "conductor-db",
            "database-url",
            "--from-stdin",
        ];
        let run = repo.run_with_stdin(&set, Some(url.as_bytes()));
        assert_eq!(run.code, 0, "{}", run.stderr);
    }
    let mut sealed = ciphertexts(&repo);
    commit_all(repo.path(), "two environments");
    repo.add_version("v2", "prod");
    let set = [
        "secrets",
        "set",
        "--env",
        "prod",
        "conductor-db",
        "database-url",
        "--from-stdin",
    ];
    let run = repo.run_with_stdin(&set, Some(b"postgres://canary-three-Zq8x@db/conductor"));
    assert_eq!(run.code, 0, "{}", run.stderr);
    std::fs::remove_dir_all(repo.path().join("environments/staging")).unwrap();
    repo.ok(&["build"]);
    sealed.extend(ciphertexts(&repo));
    assert!(sealed.len() >= 3, "{sealed:?}");
    (repo, sealed)
}

#[test]
fn markdown_reads_summary_first_then_one_short_row_per_object_then_redacted_details() {
    if !kubectl_or_skip() {
        return;
    }
    let (repo, sealed) = reviewed_change();
    let run = repo.run(&["diff", "--format", "markdown"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let markdown = run.stdout;
    // The hidden marker a CI job finds its sticky comment by, on the first line.
    assert!(
        markdown.starts_with("<!-- dbos-gitops diff -->\n"),
        "{markdown}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&repo.run(&["diff", "--format", "json"]).stdout).unwrap();
    let changes = json["changes"].as_array().unwrap();
    let Some(structure) = gfm(&markdown) else {
        return;
    };
    // The marker is an HTML comment: nothing a reader sees.
    assert!(
        !structure["text"]
            .as_str()
            .unwrap()
            .contains("dbos-gitops diff -->"),
        "{structure}"
    );
    // Heading, summary table, the removed environment's warning, the object table, details.
    let top: Vec<&str> = structure["top"]
        .as_array()
        .unwrap()
        .iter()
        .map(|tag| tag.as_str().unwrap())
        .collect();
    let tables: Vec<usize> = (0..top.len()).filter(|i| top[*i] == "table").collect();
    assert_eq!(top[0], "h3", "{top:?}");
    assert_eq!(tables.len(), 2, "{top:?}");
    assert!(
        top[tables[0] + 1..tables[1]].contains(&"blockquote"),
        "{top:?}"
    );
    let first_details = top.iter().position(|tag| *tag == "details").unwrap();
    assert!(first_details > tables[1], "{top:?}");
    let summary = &structure["tables"][0];
    assert_eq!(
        summary["header"],
        serde_json::json!(["", "added", "changed", "removed"])
    );
    let summary_json = &json["summary"];
    assert_eq!(
        summary["rows"],
        serde_json::json!([
            ["environments", "0", "1", "1"],
            [
                "objects",
                summary_json["added"].to_string(),
                summary_json["changed"].to_string(),
                summary_json["removed"].to_string()
            ]
        ])
    );
    let warning = structure["text"].as_str().unwrap();
    assert!(
        warning.contains("Environment staging is removed from Git but stays running"),
        "{warning}"
    );
    // One row per object, in the JSON's order, with cells that fit a column.
    let table = object_table(&structure);
    assert_eq!(
        table["header"],
        serde_json::json!(["environment", "object", "change", "what changes"])
    );
    let rows = table["rows"].as_array().unwrap();
    assert_eq!(rows.len(), changes.len(), "{table}");
    for (row, change) in rows.iter().zip(changes) {
        let unit = change["unit"].as_str().unwrap();
        let label = unit
            .strip_prefix("environments/")
            .map_or(format!("{unit}/"), str::to_string);
        assert_eq!(row[0], label.as_str());
        assert_eq!(
            row[1],
            format!(
                "{}/{}",
                change["kind"].as_str().unwrap(),
                change["name"].as_str().unwrap()
            )
        );
        assert_eq!(row[2], change["change"]);
        let cell = row[3].as_str().unwrap();
        assert!(!cell.contains('{') && !cell.contains('\n'), "{cell}");
        for line in cell.split("and ") {
            assert!(line.chars().count() <= 200, "{cell}");
        }
        let hex_run = cell
            .split(|c: char| !c.is_ascii_hexdigit())
            .map(str::len)
            .max()
            .unwrap_or(0);
        assert!(hex_run < 20, "a digest in a cell: {cell}");
    }
    let find = |label: &str| {
        rows.iter()
            .find(|row| row[1] == label)
            .unwrap_or_else(|| panic!("{label}: {table}"))
    };
    assert_eq!(find("Deployment/dbos-app-v2")[0], "prod");
    assert!(find("Service/dbos-app")[3]
        .as_str()
        .unwrap()
        .contains("spec.selector.app.kubernetes.io/version: v1 → v2"));
    assert!(find("SealedSecret/conductor-db")[3]
        .as_str()
        .unwrap()
        .ends_with("database-url re-sealed"));
    assert!(find("Application/dbos-staging")[3]
        .as_str()
        .unwrap()
        .contains("stays in the cluster (the root prunes only what is marked for the cascade)"));
    // Added and removed objects are shown whole, in collapsible blocks.
    let details = structure["details"].as_array().unwrap();
    let block = |summary: &str| {
        details
            .iter()
            .find(|block| block["summary"] == summary)
            .unwrap_or_else(|| panic!("no details `{summary}`: {details:?}"))["code"]
            .as_str()
            .unwrap()
            .to_string()
    };
    let added = block("prod Deployment/dbos-app-v2: added");
    assert!(
        added.contains("+kind: Deployment\n") && added.contains("ghcr.io/acme/app:v2"),
        "{added}"
    );
    let removed = block("staging SealedSecret/conductor-db: removed");
    assert!(removed.contains("-kind: SealedSecret\n"), "{removed}");
    assert!(removed.contains("(sealed value not shown)"), "{removed}");
    // No ciphertext, no plaintext, anywhere.
    for secret in sealed
        .iter()
        .map(|value| &value[..24])
        .chain(["canary", "Zq8x"])
    {
        assert!(!markdown.contains(secret), "{secret} printed:\n{markdown}");
    }
}

#[test]
fn markdown_stays_under_the_cap_and_says_what_it_left_out() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(repo.path(), "prod");
    // 600 ConfigMaps of 1 KiB each: far more than one comment holds.
    let mut many = String::new();
    for index in 0..600 {
        many.push_str(&format!(
            "---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bulk-{index:03}\ndata:\n  blob: {}\n",
            "x".repeat(1024)
        ));
    }
    repo.write("environments/prod/bulk.yaml", &many);
    let kustomization = repo.read("environments/prod/kustomization.yaml");
    repo.write(
        "environments/prod/kustomization.yaml",
        &kustomization.replacen("resources:\n", "resources:\n- bulk.yaml\n", 1),
    );
    for (arguments, cap) in [(vec![], 60_000), (vec!["--max-length", "5000"], 5000)] {
        let mut all = vec!["diff", "--format", "markdown"];
        all.extend(arguments);
        let run = repo.run(&all);
        assert_eq!(run.code, 1, "{}", run.stderr);
        let markdown = run.stdout;
        assert!(markdown.len() <= cap, "{} > {cap}", markdown.len());
        assert!(markdown.chars().count() < 65_536);
        let Some(structure) = gfm(&markdown) else {
            return;
        };
        let rows = object_table(&structure)["rows"].as_array().unwrap().len();
        let details = structure["details"].as_array().unwrap().len();
        let text = structure["text"].as_str().unwrap().to_string();
        // The note says how many objects are not listed, how many blocks are left out, and
        // how to see them all.
        let expected = format!(
            "{} of 600 objects not listed, {} of 600 details left out",
            600 - rows,
            600 - details
        );
        assert!(text.contains(&expected), "{expected}: {text}");
        assert!(
            text.contains("The whole diff: dbos-gitops diff HEAD"),
            "{text}"
        );
        assert!(rows > 0 && details < 600, "{rows} {details}");
        if cap == 5000 {
            assert!(rows < 600, "{rows}");
        }
        // The note comes before the table: a reader sees it first.
        let top = structure["top"].as_array().unwrap();
        let note = top.iter().position(|tag| tag == "blockquote").unwrap();
        let table = top.iter().rposition(|tag| tag == "table").unwrap();
        assert!(note < table, "{top:?}");
        // Every details block that is there is whole: its fence closed before </details>.
        for block in structure["details"].as_array().unwrap() {
            assert!(block["code"]
                .as_str()
                .unwrap()
                .starts_with("+apiVersion: v1\n"));
        }
    }
    let refused = repo.run(&["diff", "--format", "markdown", "--max-length", "70000"]);
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(refused.stdout.is_empty());
}

/// The review workflow README gives, as text: the YAML block after its marker line.
fn readme_workflow() -> String {
    let readme = std::fs::read_to_string(project_root().join("README.md")).unwrap();
    let (_, after) = readme
        .split_once("<!-- dbos-gitops review workflow -->\n```yaml\n")
        .expect("README has the review workflow");
    after.split_once("\n```\n").unwrap().0.to_string() + "\n"
}

/// Each action's inputs, as its `action.yml` declares them (actions/checkout at v7,
/// f548e57e; actions/github-script at v8, ed597411).
const ACTION_INPUTS: &[(&str, &[&str])] = &[
    (
        "actions/checkout@v7",
        &[
            "repository",
            "ref",
            "token",
            "ssh-key",
            "ssh-known-hosts",
            "ssh-strict",
            "ssh-user",
            "persist-credentials",
            "path",
            "clean",
            "filter",
            "sparse-checkout",
            "sparse-checkout-cone-mode",
            "fetch-depth",
            "fetch-tags",
            "show-progress",
            "lfs",
            "submodules",
            "set-safe-directory",
            "github-server-url",
            "allow-unsafe-pr-checkout",
        ],
    ),
    (
        "actions/github-script@v8",
        &[
            "script",
            "github-token",
            "debug",
            "user-agent",
            "previews",
            "result-encoding",
            "retries",
            "retry-exempt-status-codes",
            "base-url",
        ],
    ),
];

#[test]
fn readme_workflow_parses_and_uses_only_real_action_inputs() {
    if !require_tool("python3", &["-c", "import yaml"]) {
        return;
    }
    let output = pipe(
        Command::new("python3").args([
            "-c",
            "import json, sys, yaml; print(json.dumps(yaml.safe_load(sys.stdin), default=str))",
        ]),
        readme_workflow().as_bytes(),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let workflow: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    // YAML 1.1 reads the key `on` as true; GitHub reads it as `on`.
    assert_eq!(workflow["true"], "pull_request", "{workflow}");
    assert_eq!(workflow["permissions"]["pull-requests"], "write");
    let steps = workflow["jobs"]["review"]["steps"].as_array().unwrap();
    let mut used = Vec::new();
    for step in steps {
        let Some(action) = step["uses"].as_str() else {
            assert!(step["run"].is_string(), "{step}");
            continue;
        };
        let inputs = ACTION_INPUTS
            .iter()
            .find(|(name, _)| *name == action)
            .unwrap_or_else(|| panic!("unknown action {action}"))
            .1;
        for key in step["with"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(key, _)| key)
        {
            assert!(
                inputs.contains(&key.as_str()),
                "{action} has no input `{key}`"
            );
        }
        used.push(action);
    }
    assert_eq!(used, ["actions/checkout@v7", "actions/github-script@v8"]);
    let diff_step = steps.iter().find(|step| step["id"] == "diff").unwrap();
    assert!(diff_step["run"]
        .as_str()
        .unwrap()
        .contains("--format markdown > diff.md"));
    let script = steps
        .iter()
        .find(|step| step["uses"] == "actions/github-script@v8")
        .unwrap()["with"]["script"]
        .as_str()
        .unwrap();
    // The marker the script looks for is the one `diff --format markdown` starts with.
    assert!(script.contains("'<!-- dbos-gitops diff -->'"), "{script}");
}

/// Runs the workflow's github-script body under Node as github-script would (an async function
/// of `github`, `context` and `require`), with a client that records its calls and lists
/// `comments`; `diff.md` holds `body`.
fn run_comment_script(comments: serde_json::Value, body: &str) -> serde_json::Value {
    let output = Command::new("python3")
        .args([
            "-c",
            "import json, sys, yaml; w = yaml.safe_load(sys.stdin); \
             print([s for s in w['jobs']['review']['steps'] if 'script' in s.get('with', {})][0]['with']['script'])",
        ])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write as _;
            child.stdin.take().unwrap().write_all(readme_workflow().as_bytes())?;
            child.wait_with_output()
        })
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("script.js"), &output.stdout).unwrap();
    std::fs::write(dir.path().join("diff.md"), body).unwrap();
    std::fs::write(dir.path().join("comments.json"), comments.to_string()).unwrap();
    let harness = r#"
const fs = require('fs');
const script = fs.readFileSync('script.js', 'utf8');
const comments = JSON.parse(fs.readFileSync('comments.json', 'utf8'));
const calls = [];
const github = {
  rest: { issues: {
    listComments: { endpoint: 'GET /repos/{owner}/{repo}/issues/{issue_number}/comments' },
    updateComment: async (args) => { calls.push({ call: 'update', args }); },
    createComment: async (args) => { calls.push({ call: 'create', args }); },
  } },
  paginate: async (method, args) => {
    if (method !== github.rest.issues.listComments) throw new Error('paginate of what?');
    calls.push({ call: 'list', args });
    return comments;
  },
};
const context = { repo: { owner: 'acme', repo: 'deploy' }, issue: { owner: 'acme', repo: 'deploy', number: 7 } };
const AsyncFunction = Object.getPrototypeOf(async function () {}).constructor;
new AsyncFunction('github', 'context', 'require', script)(github, context, require)
  .then(() => console.log(JSON.stringify(calls)), (error) => { console.error(error); process.exit(1); });
"#;
    std::fs::write(dir.path().join("harness.js"), harness).unwrap();
    let run = Command::new("node")
        .arg("harness.js")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    serde_json::from_slice(&run.stdout).unwrap()
}

#[test]
fn readme_workflow_creates_one_comment_then_edits_it_in_place() {
    if !require_tool("python3", &["-c", "import yaml"]) || !require_tool("node", &["--version"]) {
        return;
    }
    let body = "<!-- dbos-gitops diff -->\n### dbos-gitops diff against `origin/main`\n";
    let human = serde_json::json!({"id": 11, "user": {"type": "User"},
        "body": "why does <!-- dbos-gitops diff --> show up?"});
    let first = run_comment_script(serde_json::json!([human]), body);
    assert_eq!(first[1]["call"], "create", "{first}");
    assert_eq!(first[1]["args"]["issue_number"], 7);
    assert_eq!(first[1]["args"]["body"], body);
    assert_eq!(first.as_array().unwrap().len(), 2, "{first}");
    let ours = serde_json::json!({"id": 42, "user": {"type": "Bot"}, "body": body});
    let second = run_comment_script(serde_json::json!([human, ours]), body);
    assert_eq!(second[1]["call"], "update", "{second}");
    assert_eq!(second[1]["args"]["comment_id"], 42);
    assert_eq!(second[1]["args"]["owner"], "acme");
    assert_eq!(second.as_array().unwrap().len(), 2, "{second}");
}

#[test]
fn markdown_counts_a_new_environment_as_added_and_shows_its_objects() {
    if !kubectl_or_skip() {
        return;
    }
    let repo = TestRepo::prod();
    commit_all(repo.path(), "prod");
    repo.add_env("staging");
    let run = repo.run(&["diff", "--format", "markdown"]);
    assert_eq!(run.code, 1, "{}", run.stderr);
    let Some(structure) = gfm(&run.stdout) else {
        return;
    };
    let summary = &structure["tables"][0]["rows"];
    assert_eq!(
        summary[0],
        serde_json::json!(["environments", "1", "0", "0"])
    );
    let details = structure["details"].as_array().unwrap();
    assert!(details.iter().any(
        |block| block["summary"] == "staging Deployment/conductor: added"
            && block["code"]
                .as_str()
                .unwrap()
                .contains("+  namespace: dbos-staging\n")
    ));
    // No warning: nothing was removed.
    assert!(!structure["top"]
        .as_array()
        .unwrap()
        .iter()
        .any(|tag| tag == "blockquote"));
}
