//! Editor schemas (#15): `schema env|repo` print JSON Schemas derived from the parsing types,
//! `build` keeps them in `.dbos-gitops/schema/`, `init env` points env.yaml at them, and Python
//! `jsonschema` (an independent validator) accepts every env.yaml we write and rejects a typo.

use crate::support::*;
use serde_json::Value;
use std::path::Path;

/// `text` without the top-level blocks starting with `keys` (their indented lines included).
fn without_blocks(text: &str, keys: &[&str]) -> String {
    let mut out = String::new();
    let mut skipping = false;
    for line in text.lines() {
        if !line.starts_with(' ') && !line.starts_with('#') {
            skipping = keys.iter().any(|key| line.starts_with(key));
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn schema_files_are_generated_and_match_the_command() {
    let repo = TestRepo::prod();
    assert_eq!(
        repo.read(".dbos-gitops/schema/env.json"),
        repo.ok(&["schema", "env"])
    );
    assert_eq!(
        repo.read(".dbos-gitops/schema/dbos-gitops.json"),
        repo.ok(&["schema", "repo"])
    );
    let env_yaml = repo.read("environments/prod/env.yaml");
    assert_eq!(
        env_yaml.lines().next(),
        Some("# yaml-language-server: $schema=../../.dbos-gitops/schema/env.json")
    );
    // The modeline's relative path resolves from env.yaml to the written schema.
    assert!(repo
        .path()
        .join("environments/prod/../../.dbos-gitops/schema/env.json")
        .is_file());
    // A repository from before the schemas migrates with `build`: the files come back.
    std::fs::remove_dir_all(repo.path().join(".dbos-gitops")).unwrap();
    repo.ok(&["build"]);
    assert_eq!(
        repo.read(".dbos-gitops/schema/env.json"),
        repo.ok(&["schema", "env"])
    );
}

#[test]
fn every_env_yaml_we_write_validates_and_a_misspelt_field_does_not() {
    let repo = TestRepo::prod();
    let cert = fixture("go-cert.pem").to_string_lossy().into_owned();
    let variants: [&[&str]; 3] = [
        &[
            "--oidc",
            "dex",
            "--routing",
            "path",
            "--domain",
            "a.example.com",
        ],
        &[
            "--namespace",
            "custom-ns",
            "--cluster",
            "https://10.0.0.1:6443",
        ],
        &["--app-image", "ghcr.io/acme/app:v3", "--version", "v3"],
    ];
    for (index, flags) in variants.iter().enumerate() {
        let name = format!("variant{index}");
        let mut arguments = vec!["init", "env", name.as_str(), "--cert", &cert];
        arguments.extend_from_slice(flags);
        repo.ok(&arguments);
    }
    // A user's hand edit with every optional block filled in, as the README documents them.
    let full = format!(
        "{}ingress:\n  tls: cert-manager\n  cluster-issuer: letsencrypt\napp:\n  name: shop\n  conductor: external\n  language: go\n  migrate:\n    image: ghcr.io/acme/migrate:v1\n  autoscaling:\n    trigger: postgresql\n    queue: default\n    worker-concurrency: 5\n    min-replicas: 0\n    max-replicas: 5\n",
        without_blocks(&repo.read("environments/variant1/env.yaml"), &["ingress:", "app:"])
    );
    repo.write("environments/variant1/env.yaml", &full);
    // What we wrote is what our parser accepts.
    repo.ok(&["build"]);
    let mut files: Vec<std::path::PathBuf> = std::fs::read_dir(repo.path().join("environments"))
        .unwrap()
        .map(|entry| entry.unwrap().path().join("env.yaml"))
        .collect();
    files.push(project_root().join("environments/example/env.yaml"));
    files.sort();
    let typo = repo.path().join("typo.yaml");
    std::fs::write(
        &typo,
        repo.read("environments/prod/env.yaml")
            .replace("routing:", "routeing:"),
    )
    .unwrap();
    let schema = repo.path().join(".dbos-gitops/schema/env.json");
    let mut all: Vec<&Path> = files.iter().map(|path| path.as_path()).collect();
    all.push(&typo);
    let Some(results) = schema_verdicts(&schema, &all) else {
        return;
    };
    for file in &files {
        assert_eq!(
            results[&file.to_string_lossy().to_string()],
            serde_json::Value::Null,
            "{}",
            file.display()
        );
    }
    let error = results[&typo.to_string_lossy().to_string()]
        .as_str()
        .unwrap_or_else(|| panic!("typo accepted: {results:?}"));
    assert!(error.contains("routeing"), "{error}");
    // Our own parser agrees: the misspelt field is an error.
    repo.write(
        "environments/prod/env.yaml",
        &std::fs::read_to_string(&typo).unwrap(),
    );
    assert!(repo.run(&["build"]).code == 2);

    let repo_schema = repo.path().join(".dbos-gitops/schema/dbos-gitops.json");
    let repo_typo = repo.path().join("repo-typo.yaml");
    std::fs::write(
        &repo_typo,
        format!("{}revison: main\n", repo.read("dbos-gitops.yaml")),
    )
    .unwrap();
    let declaration = repo.path().join("dbos-gitops.yaml");
    let results = schema_verdicts(&repo_schema, &[&declaration, &repo_typo]).unwrap();
    assert_eq!(
        results[&declaration.to_string_lossy().to_string()],
        serde_json::Value::Null
    );
    assert!(
        results[&repo_typo.to_string_lossy().to_string()].is_string(),
        "{results:?}"
    );
}

/// The schema of every declaration file, by `schema` argument.
const SCHEMAS: [&str; 5] = ["env", "repo", "versions", "dex-users", "removal"];

/// Every object under `properties` in `schema` (its `$defs` too), with its dotted path.
fn properties(schema: &Value, path: &str, out: &mut Vec<(String, Value)>) {
    match schema {
        Value::Object(object) => {
            if let Some(Value::Object(properties)) = object.get("properties") {
                for (name, property) in properties {
                    out.push((format!("{path}.{name}"), property.clone()));
                }
            }
            for (key, child) in object {
                properties(child, &format!("{path}/{key}"), out);
            }
        }
        Value::Array(items) => items.iter().for_each(|item| properties(item, path, out)),
        _ => {}
    }
}

/// #24 item 4: every property explains itself; optional blocks and documented enums are no
/// `anyOf`/`oneOf` (a validator's error for those names no key); every file the tool writes
/// starts with the modeline of its schema, whose relative path resolves to the written file.
#[test]
fn every_property_is_described_and_every_written_declaration_names_its_schema() {
    let repo = TestRepo::with_env(
        "prod",
        &[
            "--domain",
            "dbos.acme.com",
            "--oidc",
            "dex",
            "--app-image",
            "app:v1",
        ],
    );
    let run = repo.run_with_stdin(
        &["dex", "add-user", "admin@acme.com", "--password-stdin"],
        Some(b"correct horse"),
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    // Step 1 of the cascade writes the last file the tool maintains, removal.yaml.
    repo.ok(&["env", "remove", "prod", "--cascade"]);
    let mut count = 0;
    for file in SCHEMAS {
        let text = repo.ok(&["schema", file]);
        let schema: Value = serde_json::from_str(&text).unwrap();
        let mut all = Vec::new();
        properties(&schema, file, &mut all);
        assert!(all.len() >= 2, "{file}: {schema:#}");
        for (path, property) in &all {
            let description = property["description"].as_str().unwrap_or("");
            assert!(
                description.len() > 10,
                "{path} has no description: {property:#}"
            );
            assert_eq!(
                property["markdownDescription"], property["description"],
                "{path}"
            );
        }
        assert!(
            !text.contains("\"anyOf\"") && !text.contains("\"oneOf\""),
            "{file}: {text}"
        );
        count += all.len();
    }
    // env.yaml alone has 33 properties (#24 counted them); the four files more.
    assert!(count > 40, "{count}");
    // A default is part of the explanation (editors show descriptions, not `default`s).
    let env: Value = serde_json::from_str(&repo.ok(&["schema", "env"])).unwrap();
    let replicas = env["$defs"]["ConductorSpec"]["properties"]["replicas"]["description"]
        .as_str()
        .unwrap();
    assert!(replicas.ends_with("Default: `1`."), "{replicas}");
    assert_eq!(
        env["$defs"]["Routing"]["enum"],
        serde_json::json!(["host", "path"])
    );

    for (file, schema) in [
        ("dbos-gitops.yaml", "dbos-gitops.json"),
        ("environments/prod/env.yaml", "env.json"),
        ("environments/prod/versions.yaml", "versions.json"),
        ("environments/prod/dex-users.yaml", "dex-users.json"),
        ("environments/prod/removal.yaml", "removal.json"),
    ] {
        let text = repo.read(file);
        let first = text.lines().next().unwrap();
        let target = first
            .strip_prefix("# yaml-language-server: $schema=")
            .unwrap_or_else(|| panic!("{file} starts with {first:?}"));
        assert!(
            target.ends_with(&format!(".dbos-gitops/schema/{schema}")),
            "{first}"
        );
        let resolved = repo.path().join(file).parent().unwrap().join(target);
        let written = std::fs::read_to_string(&resolved)
            .unwrap_or_else(|error| panic!("{file}: {} ({error})", resolved.display()));
        let argument = SCHEMAS[[
            "env.json",
            "dbos-gitops.json",
            "versions.json",
            "dex-users.json",
            "removal.json",
        ]
        .iter()
        .position(|name| *name == schema)
        .unwrap()];
        assert_eq!(written, repo.ok(&["schema", argument]), "{file}");
        // Python `jsonschema` accepts what the tool wrote under the schema its modeline names,
        // and refuses it with a misspelt key.
        let typo = repo.path().join("typo.yaml");
        std::fs::write(&typo, format!("{text}misspelt-key: 1\n")).unwrap();
        let declared = repo.path().join(file);
        let Some(results) = schema_verdicts(&resolved, &[&declared, &typo]) else {
            continue;
        };
        assert_eq!(
            results[&declared.to_string_lossy().to_string()],
            Value::Null,
            "{file}"
        );
        let error = results[&typo.to_string_lossy().to_string()]
            .as_str()
            .unwrap_or_default();
        assert!(
            error.contains("'misspelt-key' was unexpected"),
            "{file}: {error}"
        );
    }
}

/// Python `jsonschema` (an independent validator) names the misspelt key inside an optional
/// block, not "is not valid under any of the given schemas".
#[test]
fn a_typo_inside_an_optional_block_is_reported_as_that_key() {
    let repo = TestRepo::prod();
    let text =
        repo.read("environments/prod/env.yaml")
            .replacen("  replicas: 1\n", "  replica: 1\n", 1);
    let typo = repo.path().join("environments/prod/typo.yaml");
    std::fs::write(&typo, text).unwrap();
    let schema = repo.path().join(".dbos-gitops/schema/env.json");
    let Some(results) = schema_verdicts(&schema, &[&typo]) else {
        return;
    };
    let error = results[&typo.to_string_lossy().to_string()]
        .as_str()
        .unwrap();
    assert!(error.contains("'replica' was unexpected"), "{error}");
    assert!(!error.contains("not valid under any"), "{error}");
}

/// The yaml-language-server `tests/run.sh` installs under `target/` (or
/// `DBOS_GITOPS_TEST_YAML_LANGUAGE_SERVER`), or `None` after a loud SKIPPED line.
fn yaml_language_server() -> Option<std::path::PathBuf> {
    let server = std::env::var_os("DBOS_GITOPS_TEST_YAML_LANGUAGE_SERVER")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            project_root()
                .join("target/yaml-language-server/node_modules/.bin/yaml-language-server")
        });
    if server.is_file()
        && require_tool("node", &["--version"])
        && require_tool("python3", &["--version"])
    {
        return Some(server);
    }
    skip_or_fail_in_ci(&format!(
        "yaml-language-server is not at `{}` (tests/run.sh installs it)",
        server.display()
    ));
    None
}

/// Runs `tests/support/lsp_client.py` against the real server with these documents.
fn language_server(root: &Path, documents: Value) -> Option<Value> {
    let server = yaml_language_server()?;
    let request = serde_json::json!({"root": root, "documents": documents});
    let mut child = std::process::Command::new("python3")
        .arg(project_root().join("tests/support/lsp_client.py"))
        .arg(server)
        .arg("--stdio")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write as _;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "lsp_client.py: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    Some(serde_json::from_slice(&output.stdout).unwrap())
}

/// The 0-based line of the first line of `text` starting with `prefix`.
fn line_of(text: &str, prefix: &str) -> usize {
    text.lines()
        .position(|line| line.starts_with(prefix))
        .unwrap_or_else(|| panic!("no {prefix:?} in {text}"))
}

/// #24 item 4 with the real client: yaml-language-server reads our modelines and schemas,
/// flags a typo'd key (also inside an optional block, as that key), completes field names and
/// enum values, and shows the doc comment and the default on hover.
#[test]
fn the_yaml_language_server_diagnoses_completes_and_explains() {
    let repo = TestRepo::prod();
    let dir = repo.path().join("environments/prod");
    let env = repo.read("environments/prod/env.yaml");
    let typo =
        env.replace("\nrouting:", "\nrouteing:")
            .replacen("  replicas: 1\n", "  replica: 1\n", 1);
    let draft = format!(
        "{}\nnamespace: x\ndomain: y.com\nrouting: \nconductor:\n  \n",
        env.lines().next().unwrap()
    );
    let versions = format!(
        "{}actve: v1\n",
        repo.read("environments/prod/versions.yaml")
    );
    let declaration = format!("{}revison: main\n", repo.read("dbos-gitops.yaml"));
    repo.ok(&["env", "remove", "prod", "--cascade"]);
    let removal = format!("{}kindz: []\n", repo.read("environments/prod/removal.yaml"));
    let documents = serde_json::json!([
        {"path": dir.join("env.yaml"), "text": typo,
         "hover": [[line_of(&typo, "cluster:"), 2]]},
        {"path": dir.join("clean.yaml"), "text": env},
        {"path": dir.join("draft.yaml"), "text": draft, "completion": [[3, 9], [5, 2]]},
        {"path": dir.join("versions.yaml"), "text": versions,
         "hover": [[line_of(&versions, "active:"), 2]]},
        {"path": repo.path().join("dbos-gitops.yaml"), "text": declaration},
        {"path": dir.join("removal.yaml"), "text": removal,
         "hover": [[line_of(&removal, "namespace:"), 2]]},
    ]);
    let Some(results) = language_server(repo.path(), documents) else {
        return;
    };
    let result = |path: std::path::PathBuf| results[path.to_string_lossy().as_ref()].clone();
    let diagnostics = |path: std::path::PathBuf| -> Vec<(u64, String)> {
        result(path)["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| {
                (
                    item["line"].as_u64().unwrap(),
                    item["message"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // The first hover text the client asked for in `path`.
    let hover = |path: std::path::PathBuf| -> String {
        result(path)["hover"][0].as_str().unwrap().to_string()
    };
    // (a) Each typo is one diagnostic on its line, naming the key.
    let mut found = diagnostics(dir.join("env.yaml"));
    found.sort();
    let mut expected = vec![
        (
            line_of(&typo, "routeing:") as u64,
            "Property routeing is not allowed.".to_string(),
        ),
        (
            line_of(&typo, "  replica:") as u64,
            "Property replica is not allowed.".to_string(),
        ),
    ];
    expected.sort();
    assert_eq!(found, expected);
    assert_eq!(diagnostics(dir.join("clean.yaml")), vec![]);
    assert_eq!(
        diagnostics(dir.join("versions.yaml")),
        vec![(
            line_of(&versions, "actve:") as u64,
            "Property actve is not allowed.".to_string()
        )]
    );
    assert_eq!(
        diagnostics(repo.path().join("dbos-gitops.yaml")),
        vec![(
            line_of(&declaration, "revison:") as u64,
            "Property revison is not allowed.".to_string()
        )]
    );
    assert_eq!(
        diagnostics(dir.join("removal.yaml")),
        vec![(
            line_of(&removal, "kindz:") as u64,
            "Property kindz is not allowed.".to_string()
        )]
    );
    let hover_text = hover(dir.join("removal.yaml"));
    assert!(
        hover_text.contains("The namespace the environment deployed into"),
        "{hover_text}"
    );
    // (b) Completion: an enum's values, a block's field names.
    let completion = &result(dir.join("draft.yaml"))["completion"];
    assert_eq!(completion[0], serde_json::json!(["host", "path"]));
    let fields: Vec<&str> = completion[1]
        .as_array()
        .unwrap()
        .iter()
        .map(|label| label.as_str().unwrap())
        .collect();
    assert_eq!(fields, ["allow-unauthenticated", "image", "replicas"]);
    // (c) Hover: the doc comment, the default (as Markdown), the example.
    let hover_text = hover(dir.join("env.yaml"));
    assert!(
        hover_text.contains("The Argo CD destination cluster"),
        "{hover_text}"
    );
    assert!(
        hover_text.contains("Default: `https://kubernetes.default.svc`."),
        "{hover_text}"
    );
    assert!(hover_text.contains("https://10.0.0.1:6443"), "{hover_text}");
    let hover_text = hover(dir.join("versions.yaml"));
    assert!(
        hover_text.contains("The version the Service and the autoscaler point at"),
        "{hover_text}"
    );
}
