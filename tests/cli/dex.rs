//! `dex` (#4): hashes from `dex hash` and `add-user` (unsealed by the independent
//! implementation) verify with an independent bcrypt and fail for a wrong password; users are
//! added and removed one sealed key at a time; the rendered env agrees on the issuer, redirect
//! URI, JWKS URL and audience across Dex, Conductor and Console.

use std::process::Command;

use serde_json::Value;

use crate::support::*;
use crate::tls::{run_with, unsealed};

/// Whether python3 with the `bcrypt` package runs, which tests/support/verify_bcrypt.py needs.
/// Otherwise a loud SKIPPED line, or a panic under CI. The bcrypt checks are guarded by this
/// (or the test returns early), so none of them passes for want of a verifier.
fn have_bcrypt() -> bool {
    require_tool("python3", &["-c", "import bcrypt"])
}

/// Verifies with tests/support/verify_bcrypt.py (the `bcrypt` PyPI package): whether `password`
/// matches `hash`. Call after `have_bcrypt()`: any outcome but "match" or "no match" panics.
fn verify_bcrypt(hash: &str, password: &str) -> bool {
    let output = pipe(
        Command::new("python3")
            .arg(project_root().join("tests/support/verify_bcrypt.py"))
            .arg(hash),
        password.as_bytes(),
    );
    match output.status.code() {
        Some(0) => true,
        Some(1) => false,
        other => panic!(
            "verify_bcrypt.py exited {other:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        ),
    }
}

/// Whether `htpasswd` is there; otherwise a loud SKIPPED line, or a panic under CI.
fn have_htpasswd() -> bool {
    // `htpasswd` exits non-zero on `-h`: only its absence means "skip".
    if Command::new("htpasswd").output().is_ok() {
        return true;
    }
    skip_or_fail_in_ci("`htpasswd` is not available on this machine");
    false
}

/// `htpasswd -vb` over a one-line file: Apache's own bcrypt. Call after `have_htpasswd()`.
fn htpasswd_verifies(hash: &str, password: &str) -> bool {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("users"), format!("user:{hash}\n")).unwrap();
    Command::new("htpasswd")
        .args(["-vb", "users", "user", password])
        .current_dir(dir.path())
        .output()
        .unwrap_or_else(|error| panic!("cannot run htpasswd: {error}"))
        .status
        .success()
}

fn dex_env(flags: &[&str]) -> TestRepo {
    let mut all = vec!["--domain", "dbos.acme.com", "--oidc", "dex"];
    all.extend_from_slice(flags);
    TestRepo::with_env("prod", &all)
}

fn add_user(repo: &TestRepo, email: &str, password: &str, extra: &[&str]) -> Run {
    let mut arguments = vec![
        "dex",
        "add-user",
        "--env",
        "prod",
        email,
        "--password-stdin",
    ];
    arguments.extend_from_slice(extra);
    run_with(repo, &arguments, &[], format!("{password}\n").as_bytes())
}

#[test]
fn issue_4_dex_hash_is_a_drop_in_for_htpasswd() {
    let repo = TestRepo::empty();
    let run = run_with(&repo, &["dex", "hash"], &[], b"s3cret pass\n");
    assert_eq!(run.code, 0, "{}", run.stderr);
    let hash = run.stdout.strip_suffix('\n').expect("one line");
    assert!(!hash.contains('\n'));
    assert!(
        hash.starts_with("$2y$10$") || hash.starts_with("$2a$10$"),
        "{hash}"
    );
    assert_eq!(hash.len(), 60);
    if have_bcrypt() {
        assert!(
            verify_bcrypt(hash, "s3cret pass"),
            "python bcrypt rejects the right password"
        );
        assert!(!verify_bcrypt(hash, "s3cret pasS"));
    }
    if have_htpasswd() {
        assert!(
            htpasswd_verifies(hash, "s3cret pass"),
            "htpasswd rejects the right password"
        );
        assert!(!htpasswd_verifies(hash, "wrong"));
    }
    let costly = run_with(&repo, &["dex", "hash", "--cost", "11"], &[], b"pw");
    assert!(costly.stdout.starts_with("$2y$11$"), "{}", costly.stdout);

    let weak = run_with(&repo, &["dex", "hash", "--cost", "9"], &[], b"pw");
    assert_eq!(weak.code, 2);
    assert!(
        weak.stderr.contains("`9`") && weak.stderr.contains("hint:"),
        "{}",
        weak.stderr
    );
    let empty = run_with(&repo, &["dex", "hash"], &[], b"\n");
    assert_eq!(empty.code, 2, "{}", empty.stderr);
    let long = run_with(&repo, &["dex", "hash"], &[], "x".repeat(73).as_bytes());
    assert_eq!(long.code, 2, "{}", long.stderr);
    assert!(long.stderr.contains("72"), "{}", long.stderr);
}

#[test]
fn issue_4_add_user_seals_a_hash_that_verifies_and_refuses_an_existing_user() {
    let repo = dex_env(&[]);
    let run = add_user(&repo, "Admin@Acme.com", "first password", &[]);
    assert_eq!(run.code, 0, "{}", run.stderr);
    let users = repo.read("environments/prod/dex-users.yaml");
    assert!(users.contains("admin@acme.com"), "{users}");
    assert!(!users.contains("$2"), "no hash in plain git: {users}");
    let sealed_file = "environments/prod/secrets/dex-users.yaml";
    assert!(!repo.read(sealed_file).contains("$2"));
    if let Some(plain) = unsealed(&repo, sealed_file) {
        let hash = plain["admin-acme-com"].as_str().unwrap();
        if have_bcrypt() {
            assert!(verify_bcrypt(hash, "first password"));
            assert!(!verify_bcrypt(hash, "first passwore"));
        }
    }

    // An existing user: refused, nothing written.
    let before = repo.snapshot();
    let again = add_user(&repo, "admin@acme.com", "other", &[]);
    assert_eq!(again.code, 1, "{}", again.stderr);
    assert!(again.stderr.contains("already exists") && again.stderr.contains("--force"));
    assert_eq!(repo.snapshot(), before);

    // A second user leaves the first one's ciphertext byte-identical.
    let first_ciphertext = parse_yaml_stream(&repo.read(sealed_file))[0]["spec"]["encryptedData"]
        ["admin-acme-com"]
        .clone();
    assert_eq!(
        add_user(
            &repo,
            "ops@acme.com",
            "ops password",
            &["--username", "Ops"]
        )
        .code,
        0
    );
    let sealed = &parse_yaml_stream(&repo.read(sealed_file))[0];
    assert_eq!(
        sealed["spec"]["encryptedData"]["admin-acme-com"],
        first_ciphertext
    );

    // `--force` replaces the password, keeps the user ID, bumps the revision, rolls Dex.
    let user_id = |text: &str| {
        text.lines()
            .find(|line| line.contains("user-id"))
            .unwrap()
            .to_string()
    };
    let patch_before = repo.read("environments/prod/patches/dex.yaml");
    let replaced = add_user(&repo, "admin@acme.com", "second password", &["--force"]);
    assert_eq!(replaced.code, 0, "{}", replaced.stderr);
    let users_after = repo.read("environments/prod/dex-users.yaml");
    assert_eq!(user_id(&users_after), user_id(&users));
    assert!(
        users_after.contains("password-revision: 2"),
        "{users_after}"
    );
    assert_ne!(
        repo.read("environments/prod/patches/dex.yaml"),
        patch_before
    );
    if let Some(plain) = unsealed(&repo, sealed_file) {
        if have_bcrypt() {
            let hash = plain["admin-acme-com"].as_str().unwrap();
            assert!(
                verify_bcrypt(hash, "second password"),
                "the right password fails"
            );
            assert!(
                !verify_bcrypt(hash, "first password"),
                "a wrong password verifies"
            );
            let ops = plain["ops-acme-com"].as_str().unwrap();
            assert!(
                verify_bcrypt(ops, "ops password"),
                "the right password fails"
            );
        }
    }
    repo.ok(&["build", "--check"]);
}

#[test]
fn passwords_come_only_from_stdin_a_file_or_a_prompt() {
    let repo = dex_env(&[]);
    let before = repo.snapshot();
    // Piped stdin without `--password-stdin`: refused, no guessing.
    let run = run_with(
        &repo,
        &["dex", "add-user", "--env", "prod", "a@acme.com"],
        &[],
        b"pw\n",
    );
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(run.stderr.contains("--password-stdin"), "{}", run.stderr);
    // No `--password` flag exists.
    let flag = repo.run(&[
        "dex",
        "add-user",
        "--env",
        "prod",
        "a@acme.com",
        "--password",
        "pw",
    ]);
    assert_eq!(flag.code, 2);
    for bad in ["not-an-email", "a b@acme.com"] {
        let run = add_user(&repo, bad, "pw", &[]);
        assert_eq!(run.code, 2, "{bad}: {}", run.stderr);
    }
    assert_eq!(
        add_user(&repo, "a@acme.com", "pw", &["--cost", "4"]).code,
        2
    );
    assert_eq!(repo.snapshot(), before);

    repo.write("pw.txt", "from a file\n");
    let run = run_with(
        &repo,
        &[
            "dex",
            "add-user",
            "--env",
            "prod",
            "file@acme.com",
            "--password-file",
            "pw.txt",
        ],
        &[],
        b"",
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    let Some(plain) = unsealed(&repo, "environments/prod/secrets/dex-users.yaml") else {
        return;
    };
    if !have_bcrypt() {
        return;
    }
    let hash = plain["file-acme-com"].as_str().unwrap();
    assert!(
        verify_bcrypt(hash, "from a file"),
        "the right password fails"
    );
}

#[test]
fn add_user_needs_dex_and_remove_user_drops_one_key() {
    let plain_env = TestRepo::with_env("prod", &["--domain", "dbos.acme.com"]);
    let refused = add_user(&plain_env, "a@acme.com", "pw", &[]);
    assert_eq!(refused.code, 1, "{}", refused.stderr);
    assert!(refused.stderr.contains("oidc: dex"), "{}", refused.stderr);

    let repo = dex_env(&[]);
    assert_eq!(add_user(&repo, "a@acme.com", "pw a", &[]).code, 0);
    assert_eq!(add_user(&repo, "b@acme.com", "pw b", &[]).code, 0);
    let sealed_file = "environments/prod/secrets/dex-users.yaml";
    let b_ciphertext = parse_yaml_stream(&repo.read(sealed_file))[0]["spec"]["encryptedData"]
        ["b-acme-com"]
        .clone();

    let unknown = repo.fails(&["dex", "remove-user", "--env", "prod", "zed@acme.com"], 1);
    assert!(
        unknown.stderr.contains("`a@acme.com`"),
        "{}",
        unknown.stderr
    );

    repo.ok(&["dex", "remove-user", "--env", "prod", "a@acme.com"]);
    let sealed = &parse_yaml_stream(&repo.read(sealed_file))[0];
    assert!(sealed["spec"]["encryptedData"].get("a-acme-com").is_none());
    assert_eq!(sealed["spec"]["encryptedData"]["b-acme-com"], b_ciphertext);
    assert!(!repo
        .read("environments/prod/dex-users.yaml")
        .contains("a@acme.com"));
    assert!(!repo
        .read("environments/prod/dex-config.yaml")
        .contains("a@acme.com"));
    repo.ok(&["build", "--check"]);

    // The last user: the sealed file goes, and the kustomization stops listing it.
    repo.ok(&["dex", "remove-user", "--env", "prod", "b@acme.com"]);
    assert!(!repo.exists(sealed_file));
    assert!(!repo
        .read("environments/prod/kustomization.yaml")
        .contains("secrets/dex-users.yaml"));
    repo.ok(&["build", "--check"]);
    if require_tool("kubectl", &["version", "--client"]) {
        repo.kustomize("prod");
    }
}

fn env_value<'a>(deployment: &'a Value, name: &str) -> &'a str {
    container_env(deployment, name).unwrap_or_else(|| panic!("no {name}"))["value"]
        .as_str()
        .unwrap()
}

/// Renders with OIDC on and checks that Dex, Conductor and Console agree.
fn check_consistent_oidc(repo: &TestRepo, issuer: &str, console_url: &str) {
    let objects = repo.kustomize("prod");
    validate_schemas(&objects);

    let config_map = find(&objects, "ConfigMap", "dex-config");
    let config: Value =
        serde_yaml::from_str(config_map["data"]["config.yaml"].as_str().unwrap()).unwrap();
    assert_eq!(config["issuer"], issuer);
    assert_eq!(config["enablePasswordDB"], true);
    let client = &config["staticClients"][0];
    assert_eq!(client["id"], "dbos-console");
    assert_eq!(client["public"], true, "PKCE: a public client, no secret");
    assert!(client.get("secret").is_none());
    assert_eq!(
        client["redirectURIs"],
        serde_json::json!([format!("{console_url}/oauth/callback")])
    );
    let config_text = serde_json::to_string(&config).unwrap();
    assert!(!config_text.contains("$2"), "no hash in the ConfigMap");

    // Dex: probes, port, the hash variables from the sealed secret's keys.
    let dex = find(&objects, "Deployment", "dex");
    let container = &dex["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(
        container["readinessProbe"]["httpGet"]["path"],
        "/dex/healthz"
    );
    assert_eq!(
        container["livenessProbe"]["httpGet"]["path"],
        "/dex/healthz"
    );
    assert_eq!(container["ports"][0]["containerPort"], 5556);
    let sealed = find(&objects, "SealedSecret", "dex-users");
    for user in config["staticPasswords"].as_array().unwrap() {
        let variable = user["hashFromEnv"].as_str().unwrap();
        assert!(user.get("hash").is_none());
        let reference = &container_env(dex, variable).unwrap()["valueFrom"]["secretKeyRef"];
        assert_eq!(reference["name"], "dex-users");
        let key = reference["key"].as_str().unwrap();
        assert!(
            sealed["spec"]["encryptedData"].get(key).is_some(),
            "{key} is not sealed"
        );
    }
    let service = find(&objects, "Service", "dex");
    assert_eq!(service["spec"]["ports"][0]["port"], 5556);

    // Conductor: JWKS from the in-cluster Dex Service, the same issuer, the client as audience.
    let conductor = find(&objects, "Deployment", "conductor");
    assert_eq!(env_value(conductor, "DBOS_OAUTH_ENABLED"), "true");
    assert_eq!(
        env_value(conductor, "DBOS_OAUTH_JWKS_URL"),
        format!(
            "http://{}.{}.svc.cluster.local:{}/dex/keys",
            service["metadata"]["name"].as_str().unwrap(),
            service["metadata"]["namespace"].as_str().unwrap(),
            service["spec"]["ports"][0]["port"]
        )
    );
    assert_eq!(env_value(conductor, "DBOS_OAUTH_ISSUER"), issuer);
    assert_eq!(env_value(conductor, "DBOS_OAUTH_AUDIENCE"), client["id"]);

    // Console: the issuer's endpoints, the same client and audience, no client secret.
    let console = find(&objects, "Deployment", "console");
    assert_eq!(env_value(console, "DBOS_OAUTH_ENABLED"), "true");
    assert_eq!(
        env_value(console, "DBOS_OAUTH_AUTHORIZATION_URL"),
        format!("{issuer}/auth")
    );
    assert_eq!(
        env_value(console, "DBOS_OAUTH_TOKEN_URL"),
        format!("{issuer}/token")
    );
    assert_eq!(
        env_value(console, "DBOS_OAUTH_USERINFO_URL"),
        format!("{issuer}/userinfo")
    );
    assert_eq!(env_value(console, "DBOS_OAUTH_CLIENT_ID"), client["id"]);
    assert_eq!(env_value(console, "DBOS_OAUTH_AUDIENCE"), client["id"]);
    assert_eq!(
        env_value(console, "DBOS_OAUTH_SCOPE"),
        "openid profile email"
    );
    assert!(container_env(console, "DBOS_OAUTH_CLIENT_SECRET").is_none());

    // The guide's NetworkPolicy: the ingress controller and Conductor reach Dex on 5556.
    let policy = find(&objects, "NetworkPolicy", "allow-dex-ingress");
    assert_eq!(
        policy["spec"]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "dex"
    );
    let from = &policy["spec"]["ingress"][0]["from"];
    assert_eq!(
        from[0]["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"],
        "ingress-nginx"
    );
    assert_eq!(
        from[1]["podSelector"]["matchLabels"]["app.kubernetes.io/name"],
        "conductor"
    );
    assert_eq!(from.as_array().unwrap().len(), 2);
    assert_eq!(policy["spec"]["ingress"][0]["ports"][0]["port"], 5556);
}

#[test]
fn issue_4_oidc_settings_agree_across_dex_conductor_and_console_with_host_routing() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = dex_env(&["--app-image", "ghcr.io/acme/app:v1"]);
    assert_eq!(add_user(&repo, "admin@acme.com", "pw", &[]).code, 0);
    assert_eq!(add_user(&repo, "ops@acme.com", "pw", &[]).code, 0);
    check_consistent_oidc(
        &repo,
        "https://dex.dbos.acme.com/dex",
        "https://console.dbos.acme.com",
    );
    let objects = repo.kustomize("prod");
    let ingress = find(&objects, "Ingress", "dbos");
    let dex_rule = ingress["spec"]["rules"]
        .as_array()
        .unwrap()
        .iter()
        .find(|rule| rule["host"] == "dex.dbos.acme.com")
        .expect("a dex host");
    assert_eq!(
        dex_rule["http"]["paths"][0]["backend"]["service"]["name"],
        "dex"
    );
}

#[test]
fn issue_4_oidc_settings_agree_with_path_routing_and_dex_switched_on_later() {
    if !require_tool("kubectl", &["version", "--client"]) {
        return;
    }
    let repo = TestRepo::with_env("prod", &["--domain", "dbos.acme.com", "--routing", "path"]);
    let objects = repo.kustomize("prod");
    assert!(names_of_kind(&objects, "ConfigMap").is_empty());
    assert!(container_env(
        find(&objects, "Deployment", "conductor"),
        "DBOS_OAUTH_ENABLED"
    )
    .is_none());
    let env_yaml = repo.read("environments/prod/env.yaml");
    repo.write(
        "environments/prod/env.yaml",
        &env_yaml.replace("oidc: none", "oidc: dex"),
    );
    repo.ok(&["build"]);
    assert_eq!(add_user(&repo, "admin@acme.com", "pw", &[]).code, 0);
    check_consistent_oidc(&repo, "https://dbos.acme.com/dex", "https://dbos.acme.com");
    let objects = repo.kustomize("prod");
    let paths: Vec<&str> = find(&objects, "Ingress", "dbos")["spec"]["rules"][0]["http"]["paths"]
        .as_array()
        .unwrap()
        .iter()
        .map(|path| path["path"].as_str().unwrap())
        .collect();
    let dex_at = paths
        .iter()
        .position(|path| *path == "/()(dex/.*)")
        .unwrap();
    let console_at = paths.iter().position(|path| *path == "/()(.*)").unwrap();
    assert!(dex_at < console_at, "{paths:?}");
}

/// Runs the binary on a pseudo-terminal (tests/support/pty_answer.py), typing `answers` at its
/// prompts; `None` when python3 cannot run it.
fn on_terminal(repo: &TestRepo, answers: &[&str], arguments: &[&str]) -> Option<Run> {
    if !require_tool("python3", &["-c", "import pty"]) {
        return None;
    }
    let output = Command::new("python3")
        .arg(project_root().join("tests/support/pty_answer.py"))
        .args(answers)
        .arg("--")
        .arg(binary())
        .args(arguments)
        .current_dir(repo.path())
        .env("HOME", repo.home.path())
        .env_remove("XDG_CONFIG_HOME")
        .output()
        .expect("python3");
    Some(Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    })
}

#[test]
fn on_a_terminal_the_password_is_asked_twice_without_echo() {
    let repo = dex_env(&[]);
    let Some(run) = on_terminal(
        &repo,
        &["typed secret", "typed secret"],
        &["dex", "add-user", "--env", "prod", "tty@acme.com"],
    ) else {
        return;
    };
    assert_eq!(run.code, 0, "{}", run.stdout);
    assert!(run.stdout.contains("(hidden)") && run.stdout.contains("again, to confirm"));
    assert!(
        !run.stdout.contains("typed secret"),
        "echoed: {}",
        run.stdout
    );
    let bcrypt = have_bcrypt();
    if let Some(plain) = unsealed(&repo, "environments/prod/secrets/dex-users.yaml") {
        if bcrypt {
            let hash = plain["tty-acme-com"].as_str().unwrap();
            assert!(verify_bcrypt(hash, "typed secret"));
        }
    }

    let before = repo.snapshot();
    let mismatch = on_terminal(
        &repo,
        &["one", "two"],
        &["dex", "add-user", "--env", "prod", "other@acme.com"],
    )
    .unwrap();
    assert_eq!(mismatch.code, 2, "{}", mismatch.stdout);
    assert!(mismatch.stdout.contains("differ"), "{}", mismatch.stdout);
    assert_eq!(repo.snapshot(), before);

    let hashed = on_terminal(&repo, &["pw", "pw"], &["dex", "hash"]).unwrap();
    assert_eq!(hashed.code, 0, "{}", hashed.stdout);
    let hash = hashed.stdout.lines().last().unwrap().trim();
    if bcrypt {
        assert!(verify_bcrypt(hash, "pw"));
    }
}
