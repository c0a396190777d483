//! Mutation fuzzing of every parser of user input: the declarations, the ownership record,
//! Secret and SealedSecret manifests, certificates and private keys. Valid seeds are mutated
//! with YAML-aware edits; each mutant must give a value or an error, never a panic, and
//! declaration errors must name the file. Deterministic (fixed seed), so a failure reproduces;
//! `DBOS_GITOPS_FUZZ_ITERATIONS` runs longer campaigns.

// Tests read their own variables; the product's rule (every variable through `env_vars`) is for
// the product's code.
#![allow(clippy::disallowed_methods)]

use rand::{rngs::StdRng, Rng, SeedableRng};
use std::path::Path;

const TOKENS: &[&str] = &[
    ":",
    ": ",
    "- ",
    "{",
    "}",
    "[",
    "]",
    "\n",
    "\n  ",
    "\n- ",
    "#",
    "&a",
    "*a",
    "!!str ",
    "!!binary ",
    "~",
    "null",
    "on",
    "0x1F",
    "1e999",
    "-",
    "'",
    "\"",
    "|",
    ">",
    "\t",
    "---\n",
    "...",
    "\u{0}",
    "é",
    "\u{feff}",
    "<<: ",
    "? ",
    "%YAML 1.1\n",
    "99999999999999999999",
    "-1",
];

const ENV_SEED: &str = "namespace: dbos-prod\ndomain: dbos.acme.com\nrouting: path\noidc: dex\nconductor:\n  replicas: 2\napp:\n  name: shop\n  autoscaling:\n    trigger: postgresql\n    queue: taskQueue\n    worker-concurrency: 2\n    min-replicas: 0\n";
const VERSIONS_SEED: &str = "active: v2\nversions:\n- name: v1\n  image: ghcr.io/acme/app:v1\n- name: v2\n  image: ghcr.io/acme/app:v2\n";
const REPO_SEED: &str =
    "repo-url: https://github.com/acme/dbos-deploy.git\nrevision: main\nargocd:\n  namespace: argocd\n  project: dbos\n";
const SECRET_SEED: &str = "apiVersion: v1\nkind: Secret\nmetadata:\n  name: conductor-db\n  namespace: dbos\n  labels:\n    a: b\ntype: Opaque\ndata:\n  url: cG9zdGdyZXM6Ly8=\nstringData:\n  extra: \"on\"\n";
const SEALED_SEED: &str = include_str!("../tests/fixtures/sealed-secrets-go/go-nswide.yaml");
const CERT_SEED: &str = include_str!("../tests/fixtures/sealed-secrets-go/go-cert.pem");
const RECORD_SEED: &str =
    "# x\n0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef  base/a.yaml\n";

fn iterations() -> usize {
    std::env::var("DBOS_GITOPS_FUZZ_ITERATIONS")
        .ok()
        .and_then(|text| text.parse().ok())
        .unwrap_or(1500)
}

fn mutate(rng: &mut StdRng, seed: &str) -> String {
    let mut text: Vec<char> = seed.chars().collect();
    for _ in 0..rng.gen_range(1..6) {
        let position = if text.is_empty() {
            0
        } else {
            rng.gen_range(0..=text.len())
        };
        match rng.gen_range(0..5) {
            0 => {
                let token = TOKENS[rng.gen_range(0..TOKENS.len())];
                text.splice(position..position, token.chars());
            }
            1 if !text.is_empty() => {
                let end = (position + rng.gen_range(1..20)).min(text.len());
                let start = position.min(end);
                text.drain(start..end);
            }
            2 if !text.is_empty() => {
                let index = rng.gen_range(0..text.len());
                text[index] = char::from(rng.gen_range(0x20u8..0x7f));
            }
            3 => {
                // Duplicate a line: repeated keys, repeated list items.
                let lines: Vec<String> = text
                    .iter()
                    .collect::<String>()
                    .lines()
                    .map(str::to_string)
                    .collect();
                if !lines.is_empty() {
                    let line = &lines[rng.gen_range(0..lines.len())];
                    let insert = format!("{line}\n");
                    text.splice(position..position, insert.chars());
                }
            }
            _ => {
                // Change indentation of the rest of a line.
                text.splice(position..position, "  ".chars());
            }
        }
    }
    text.into_iter().collect()
}

fn campaign(seed: &str, salt: u64, mut check: impl FnMut(&str)) {
    let mut rng = StdRng::seed_from_u64(0xdb05 ^ salt);
    check(seed);
    for _ in 0..iterations() {
        let mutant = mutate(&mut rng, seed);
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check(&mutant)));
        assert!(outcome.is_ok(), "panic on input:\n{mutant:?}");
    }
}

#[test]
fn declarations_never_panic_and_errors_name_the_file() {
    campaign(ENV_SEED, 1, |text| {
        if let Err(error) =
            dbos_gitops::declare::parse_env(Path::new("environments/prod/env.yaml"), text)
        {
            assert!(
                error.to_string().contains("environments/prod/env.yaml"),
                "{error}"
            );
        }
    });
    campaign(VERSIONS_SEED, 2, |text| {
        if let Ok(versions) = dbos_gitops::declare::parse_versions(Path::new("versions.yaml"), text)
        {
            // Whatever parses must resolve to a model or a clean error.
            let input = dbos_gitops::model::EnvInput {
                name: dbos_gitops::declare::EnvName::new("prod").unwrap(),
                spec: dbos_gitops::declare::parse_env(Path::new("env.yaml"), ENV_SEED).unwrap(),
                versions,
                secret_files: vec![],
                dex_users: Default::default(),
                tls_certificate: true,
                tls_certificate_digest: None,
                secret_digests: Default::default(),
            };
            let repo = dbos_gitops::declare::parse_repo(Path::new("r"), REPO_SEED).unwrap();
            if let Ok(model) = dbos_gitops::model::resolve(&repo, vec![input]) {
                let _ = dbos_gitops::render::render_repo(&model);
            }
        }
    });
    campaign(REPO_SEED, 3, |text| {
        let _ = dbos_gitops::declare::parse_repo(Path::new("dbos-gitops.yaml"), text);
    });
    campaign(RECORD_SEED, 4, |text| {
        let _ = dbos_gitops::repo::ownership::parse(Path::new(".dbos-gitops.sha256"), text);
    });
}

#[test]
fn secret_and_sealed_secret_manifests_never_panic() {
    campaign(SECRET_SEED, 5, |text| {
        // The path `seal` and `secrets` read stdin by (zeroizing documents), and the one kept
        // for values already parsed.
        let _ = dbos_gitops::secret_store::parse_secret_inputs("stdin", text);
        if let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("stdin"), text) {
            for document in &documents {
                let _ = dbos_gitops_seal::SecretInput::from_value(document);
            }
        }
    });
    campaign(SEALED_SEED, 6, |text| {
        if let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("s.yaml"), text) {
            for document in &documents {
                if let Ok(sealed) = dbos_gitops_seal::SealedSecret::from_value(document) {
                    let _ = sealed.to_value();
                }
            }
        }
    });
}

#[test]
fn certificates_and_keys_never_panic() {
    campaign(CERT_SEED, 7, |text| {
        let _ = dbos_gitops_seal::SealingCert::from_pem(text.as_bytes());
        let _ = dbos_gitops_seal::PrivateKeys::from_pem(text.as_bytes());
        let _ = dbos_gitops_generate::tls::inspect(text.as_bytes());
    });
}

#[test]
fn the_emitter_round_trips_whatever_the_parser_accepts() {
    campaign(SECRET_SEED, 8, |text| {
        if let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("x"), text) {
            for document in documents {
                let emitted = dbos_gitops::yaml::emit(&document);
                let reparsed = dbos_gitops::yaml::parse_documents(Path::new("x"), &emitted)
                    .unwrap_or_else(|error| {
                        panic!("emitted YAML does not parse: {error}\n{emitted}")
                    });
                assert_round_trip(&document, &emitted, &reparsed);
            }
        }
    });
}

/// One emitted document reads back as exactly that document. The count must be one:
/// `parse_documents` drops only null documents and the parser never yields one, so a changed
/// count means the emitter wrote a document marker (`---`, `...`) or nothing at all.
fn assert_round_trip(document: &serde_json::Value, emitted: &str, reparsed: &[serde_json::Value]) {
    assert_eq!(
        reparsed.len(),
        1,
        "round trip changed the document count:\n{emitted}"
    );
    assert_eq!(
        &reparsed[0], document,
        "round trip changed the value:\n{emitted}"
    );
}

/// The values most likely to change the document count, directly rather than by chance:
/// document markers as whole documents, as values, inside block strings, and empty containers.
#[test]
fn document_markers_and_empty_values_stay_one_document() {
    use serde_json::json;
    let markers = [
        "---",
        "...",
        "--- x",
        "... x",
        "a\n---\nb",
        "---\n",
        "\n...\n",
        "",
        "~",
        "null",
    ];
    let mut documents: Vec<serde_json::Value> = Vec::new();
    for marker in markers {
        documents.push(json!(marker));
        documents.push(json!({ "k": marker }));
        documents.push(json!([marker]));
        documents.push(json!({ "k": [{ marker: marker }] }));
    }
    documents.extend([
        json!({}),
        json!([]),
        json!({ "k": {} }),
        json!([[]]),
        json!(false),
        json!(0),
    ]);
    for document in documents {
        let emitted = dbos_gitops::yaml::emit(&document);
        let reparsed = dbos_gitops::yaml::parse_documents(Path::new("x"), &emitted)
            .unwrap_or_else(|error| panic!("emitted YAML does not parse: {error}\n{emitted}"));
        assert_round_trip(&document, &emitted, &reparsed);
    }
}

/// Inputs the coverage-guided campaign (`fuzz/`) found, kept under `fuzz/regressions/<target>/`:
/// each goes through the same check as its target's seed above, and is a seed of the mutation
/// campaigns too.
fn regressions(target: &str) -> Vec<String> {
    let directory = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz/regressions")
        .join(target);
    let Ok(entries) = std::fs::read_dir(&directory) else {
        return Vec::new();
    };
    let mut inputs: Vec<(std::path::PathBuf, String)> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter_map(|path| {
            let bytes = std::fs::read(&path).ok()?;
            Some((path, String::from_utf8(bytes).ok()?))
        })
        .collect();
    inputs.sort();
    inputs.into_iter().map(|(_, text)| text).collect()
}

/// A fuzz target's name, the salt of its mutation campaign, and its check.
type Replay = (&'static str, u64, fn(&str));

#[test]
fn regressions_of_the_coverage_guided_campaign_replay() {
    let targets: [Replay; 5] = [
        ("env_yaml", 11, |text| {
            let file = "environments/prod/env.yaml";
            if let Err(error) = dbos_gitops::declare::parse_env(Path::new(file), text) {
                assert!(error.to_string().contains(file), "{error}");
            }
        }),
        ("versions_yaml", 12, |text| {
            let _ = dbos_gitops::declare::parse_versions(Path::new("versions.yaml"), text);
        }),
        ("secret_manifest", 13, |text| {
            let _ = dbos_gitops::secret_store::parse_secret_inputs("stdin", text);
        }),
        ("sealed_secret_manifest", 14, |text| {
            if let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("s.yaml"), text) {
                for document in &documents {
                    if let Ok(sealed) = dbos_gitops_seal::SealedSecret::from_value(document) {
                        let _ = sealed.to_value();
                    }
                }
            }
        }),
        ("yaml_round_trip", 15, |text| {
            if let Ok(documents) = dbos_gitops::yaml::parse_documents(Path::new("x"), text) {
                for document in documents {
                    let emitted = dbos_gitops::yaml::emit(&document);
                    let reparsed = dbos_gitops::yaml::parse_documents(Path::new("x"), &emitted)
                        .unwrap_or_else(|error| panic!("emitted YAML does not parse: {error}"));
                    assert_round_trip(&document, &emitted, &reparsed);
                }
            }
        }),
    ];
    for (target, salt, check) in targets {
        for input in regressions(target) {
            // The input itself, then mutants of it.
            campaign(&input, salt, check);
        }
    }
}
