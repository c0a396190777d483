//! Editor schemas (#15): `schema env|repo` print JSON Schemas derived from the parsing types,
//! `build` keeps them in `.dbos-gitops/schema/`, `init env` points env.yaml at them, and Python
//! `jsonschema` (an independent validator) accepts every env.yaml we write and rejects a typo.

use crate::support::*;
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
