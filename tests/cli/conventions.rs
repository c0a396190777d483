//! Everyday conventions (#24 item 8): `--dry-run` of `seal --env` and `secrets set` says what
//! would change and leaves the tree byte-identical; output that stays readable for a 2000-key
//! secret; `-q/--quiet`, `-v/--verbose`; colour on a terminal (a real pseudo-terminal) and
//! never with `NO_COLOR`, `--color never` or off a terminal; "did you mean" for a mistyped
//! command and a mistyped env.yaml field.

use crate::support::*;

fn secret(name: &str, pairs: &[(&str, &str)]) -> String {
    let mut text =
        format!("apiVersion: v1\nkind: Secret\nmetadata:\n  name: {name}\nstringData:\n");
    for (key, value) in pairs {
        text.push_str(&format!("  {key}: {value}\n"));
    }
    text
}

fn seal(repo: &TestRepo, flags: &[&str], input: &str) -> Run {
    let arguments = [&["seal", "--env", "prod"][..], flags].concat();
    let run = repo.run_with_stdin(&arguments, Some(input.as_bytes()));
    assert_eq!(run.code, 0, "{flags:?}: {}", run.stderr);
    run
}

#[test]
fn dry_run_of_seal_says_which_keys_would_change_and_writes_nothing() {
    let repo = TestRepo::prod();
    let first = secret(
        "app-extra",
        &[("alpha", "value-one"), ("beta", "value-two")],
    );
    let new_secret = repo.snapshot();
    let dry = seal(&repo, &["--dry-run"], &first);
    assert_eq!(repo.snapshot(), new_secret, "a dry run changed the tree");
    assert!(
        dry.stdout.starts_with(
            "would seal environments/prod/secrets/app-extra.yaml: added `alpha`, `beta`\n"
        ),
        "{}",
        dry.stdout
    );
    assert!(
        dry.stdout.contains("environments/prod/kustomization.yaml"),
        "{}",
        dry.stdout
    );
    assert!(dry.stdout.ends_with("dry run: nothing was written\n"));
    seal(&repo, &[], &first);

    let second = secret(
        "app-extra",
        &[("alpha", "value-changed"), ("gamma", "value-new")],
    );
    let before = repo.snapshot();
    let dry = seal(&repo, &["--dry-run"], &second);
    assert_eq!(repo.snapshot(), before, "a dry run changed the tree");
    let predicted =
        "environments/prod/secrets/app-extra.yaml: added `gamma`, changed `alpha`, kept `beta`\n";
    assert!(
        dry.stdout.starts_with(&format!("would seal {predicted}")),
        "{}",
        dry.stdout
    );
    for value in ["value-changed", "value-new", "value-one", "value-two"] {
        assert!(!dry.stdout.contains(value) && !dry.stderr.contains(value));
    }
    // The dry run said what the real run then does.
    let real = seal(&repo, &[], &second);
    assert_eq!(real.stdout, format!("sealed {predicted}"));
    let again = seal(&repo, &["--dry-run"], &second);
    assert!(
        again.stdout.starts_with(
            "would leave unchanged environments/prod/secrets/app-extra.yaml (3 keys)\n"
        ),
        "{}",
        again.stdout
    );
}

#[test]
fn dry_run_of_secrets_set_says_which_key_would_change_and_writes_nothing() {
    let repo = TestRepo::prod();
    let set = |flags: &[&str], value: &str| {
        let arguments = [
            &[
                "secrets",
                "set",
                "--env",
                "prod",
                "conductor-license",
                "license-key",
            ][..],
            flags,
        ]
        .concat();
        let run = repo.run_with_stdin(&arguments, Some(value.as_bytes()));
        assert_eq!(run.code, 0, "{flags:?}: {}", run.stderr);
        run
    };
    let before = repo.snapshot();
    let dry = set(&["--dry-run"], "lic-1");
    assert_eq!(repo.snapshot(), before, "a dry run changed the tree");
    assert!(
        dry.stdout.starts_with(
            "would seal environments/prod/secrets/conductor-license.yaml: added `license-key`\n"
        ),
        "{}",
        dry.stdout
    );
    assert!(!dry.stdout.contains("lic-1"));
    set(&[], "lic-1");
    let before = repo.snapshot();
    let dry = set(&["--dry-run"], "lic-2");
    assert_eq!(repo.snapshot(), before, "a dry run changed the tree");
    assert!(
        dry.stdout.starts_with(
            "would seal environments/prod/secrets/conductor-license.yaml: changed `license-key`\n"
        ),
        "{}",
        dry.stdout
    );
}

#[test]
fn a_seal_of_2000_keys_says_how_many_and_names_a_few() {
    let repo = TestRepo::prod();
    let keys: Vec<String> = (0..2000).map(|index| format!("k{index:04}")).collect();
    let pairs: Vec<(&str, &str)> = keys.iter().map(|key| (key.as_str(), "v")).collect();
    let run = seal(&repo, &[], &secret("many", &pairs));
    assert_eq!(
        run.stdout,
        "sealed environments/prod/secrets/many.yaml: added 2000 keys (`k0000`, `k0001`, `k0002`, `k0003`, `k0004` and 1995 more)\n"
    );
    let mut changed = pairs.clone();
    changed[1].1 = "w";
    changed.push(("new", "v"));
    let run = seal(&repo, &[], &secret("many", &changed));
    assert_eq!(
        run.stdout,
        "sealed environments/prod/secrets/many.yaml: added `new`, changed `k0001`, kept 1999 keys (`k0000`, `k0002`, `k0003`, `k0004`, `k0005` and 1994 more)\n"
    );
    let run = seal(&repo, &["--dry-run", "-v"], &secret("many", &changed));
    let first = run.stdout.lines().next().unwrap();
    assert!(first.starts_with("would leave unchanged"), "{first}");
    changed[2].1 = "x";
    let run = seal(
        &repo,
        &["--dry-run", "--verbose"],
        &secret("many", &changed),
    );
    let first = run.stdout.lines().next().unwrap();
    assert!(
        first.contains("changed `k0002`, kept `k0000`, `k0001`, "),
        "{first}"
    );
    assert_eq!(first.matches('`').count(), 2 * 2001, "{first}");
}

#[test]
fn quiet_silences_summaries_and_notes_but_never_errors() {
    let repo = TestRepo::prod();
    let input = secret("app-extra", &[("alpha", "one")]);
    for flag in ["-q", "--quiet"] {
        let run = repo.run_with_stdin(&[flag, "seal", "--env", "prod"], Some(input.as_bytes()));
        assert_eq!(run.code, 0, "{}", run.stderr);
        assert_eq!(run.stdout, "", "{flag}");
        assert_eq!(run.stderr, "", "{flag}");
    }
    let noisy = repo.run_with_stdin(&["seal", "--env", "prod"], Some(input.as_bytes()));
    assert!(noisy.stdout.starts_with("unchanged "), "{}", noisy.stdout);
    // After the subcommand too (a global flag), and errors still print.
    let run = repo.run_with_stdin(&["seal", "--env", "prod", "-q"], Some(b"kind: [\n"));
    assert_eq!(run.code, 2);
    assert!(run.stderr.starts_with("error: "), "{}", run.stderr);
    let both = repo.run(&["-q", "-v", "secrets", "list"]);
    assert_eq!(both.code, 2, "{}", both.stderr);
}

/// Runs the binary on a pseudo-terminal (stdout and stderr both the terminal) with `env`.
fn on_terminal(repo: &TestRepo, arguments: &[&str], env: &[(&str, &str)]) -> Option<String> {
    if !require_tool("python3", &["-c", "import pty, termios"]) {
        return None;
    }
    let mut command = std::process::Command::new("python3");
    command
        .arg(project_root().join("tests/support/pty_answer.py"))
        .arg("--")
        .arg(binary())
        .args(arguments)
        .current_dir(repo.path())
        .env("HOME", repo.home.path())
        .env_remove("NO_COLOR");
    for (name, value) in env {
        command.env(name, value);
    }
    let output = command.output().unwrap();
    Some(String::from_utf8_lossy(&output.stdout).into_owned())
}

#[test]
fn colour_on_a_terminal_only_and_never_with_no_color_or_color_never() {
    let repo = TestRepo::prod();
    // Refused before stdin is read, so nothing waits for the terminal.
    let refused = ["seal", "--env", "prod", "-o", "yaml"];
    let red_error = "\x1b[1;31merror:\x1b[0m `-o/--format` is refused";
    let green_hint = "\x1b[1;32mhint:\x1b[0m pass `--cert";
    if let Some(screen) = on_terminal(&repo, &refused, &[]) {
        assert!(screen.contains(red_error), "{screen:?}");
        assert!(screen.contains(green_hint), "{screen:?}");
        for (flags, env) in [
            (vec![], vec![("NO_COLOR", "1")]),
            (vec!["--color", "never"], vec![]),
        ] {
            let arguments = [&flags[..], &refused[..]].concat();
            let screen = on_terminal(&repo, &arguments, &env).unwrap();
            assert!(
                screen.contains("error: `-o/--format` is refused"),
                "{screen:?}"
            );
            assert!(!screen.contains('\x1b'), "{flags:?} {env:?}: {screen:?}");
        }
        let forced = on_terminal(
            &repo,
            &[&["--color", "always"][..], &refused[..]].concat(),
            &[("NO_COLOR", "1")],
        )
        .unwrap();
        assert!(forced.contains(red_error), "{forced:?}");
    }
    // Off a terminal: today's bytes, whatever the choice but `always`.
    let plain = repo.run(&refused);
    assert_eq!(plain.code, 2);
    assert!(plain.stderr.starts_with("error: `-o/--format` is refused"));
    assert!(!plain.stderr.contains('\x1b') && !plain.stdout.contains('\x1b'));
    let always = repo.run(&[&["--color", "always"][..], &refused[..]].concat());
    assert!(always.stderr.starts_with(red_error), "{:?}", always.stderr);
}

#[test]
fn a_mistyped_command_or_env_yaml_field_gets_a_did_you_mean() {
    let repo = TestRepo::prod();
    let run = repo.run(&["sael", "--env", "prod"]);
    assert_eq!(run.code, 2);
    assert!(run.stderr.contains("'seal'"), "{}", run.stderr);
    edit_env(&repo, "prod", |text| {
        text.replacen("  replicas:", "  replica:", 1)
    });
    let before = repo.snapshot();
    let run = repo.run(&["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(
        run.stderr.contains("unknown field `replica`"),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("hint: did you mean `replicas`?"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before);
    edit_env(&repo, "prod", |text| {
        text.replacen("  replica:", "  colour:", 1)
    });
    let run = repo.run(&["build"]);
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!run.stderr.contains("did you mean"), "{}", run.stderr);
}

#[test]
fn check_findings_are_coloured_on_a_terminal_and_plain_in_a_pipe() {
    let repo = TestRepo::with_dev_env("prod", &["--domain", "dbos.acme.com"]);
    let arguments = ["check", "--no-render"];
    let Some(screen) = on_terminal(&repo, &arguments, &[]) else {
        return;
    };
    let warning = "environments/prod/env.yaml: \x1b[1;33mwarning:\x1b[0m conductor.image";
    assert!(screen.contains(warning), "{screen:?}");
    assert!(screen.contains("  \x1b[1;32mhint:\x1b[0m "), "{screen:?}");
    let piped = repo.run(&arguments);
    assert!(piped
        .stdout
        .contains("environments/prod/env.yaml: warning: conductor.image"));
    assert!(!piped.stdout.contains('\x1b'), "{}", piped.stdout);
    let terminal_text = screen.replace("\r\n", "\n");
    let stripped = terminal_text
        .replace("\x1b[1;33m", "")
        .replace("\x1b[1;32m", "")
        .replace("\x1b[0m", "");
    assert!(
        stripped.contains(&piped.stdout),
        "colour changed more than the prefixes"
    );
}

/// clap's own errors (a mistyped command or flag) follow `--color` too: they are printed before
/// the command's own colour settings exist, so the choice is read off the line first.
#[test]
fn clap_errors_follow_the_color_flag() {
    let repo = TestRepo::prod();
    let typo = ["sael", "--env", "prod"];
    let always = repo.run(&[&["--color", "always"][..], &typo[..]].concat());
    assert_eq!(always.code, 2, "{}", always.stderr);
    assert!(always.stderr.contains("\x1b["), "{:?}", always.stderr);
    assert!(always.stderr.contains("sael"), "{:?}", always.stderr);
    let equals = repo.run(&[&["--color=always"][..], &typo[..]].concat());
    assert!(equals.stderr.contains("\x1b["), "{:?}", equals.stderr);
    if let Some(screen) = on_terminal(&repo, &[&["--color", "never"][..], &typo[..]].concat(), &[])
    {
        assert!(screen.contains("unrecognized subcommand"), "{screen:?}");
        assert!(!screen.contains('\x1b'), "{screen:?}");
    }
    let plain = repo.run(&typo);
    assert_eq!(plain.code, 2);
    assert!(!plain.stderr.contains('\x1b'), "{:?}", plain.stderr);
}

/// `-q` reaches the notes of commands beyond sealing (here `version add`'s unpinned-image and
/// Transact Enterprise notes); warnings still print.
#[test]
fn quiet_silences_the_notes_of_version_add() {
    let loud = TestRepo::prod();
    let arguments = [
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:latest",
    ];
    let said = loud.run(&arguments);
    assert_eq!(said.code, 0, "{}", said.stderr);
    assert!(
        said.stderr
            .contains("note: image `ghcr.io/acme/app:latest`"),
        "{}",
        said.stderr
    );
    let quiet = TestRepo::prod();
    let silent = quiet.run(&[&["-q"][..], &arguments[..]].concat());
    assert_eq!(silent.code, 0, "{}", silent.stderr);
    assert!(!silent.stderr.contains("note:"), "{}", silent.stderr);
    assert_eq!(
        loud.read("environments/prod/versions.yaml"),
        quiet.read("environments/prod/versions.yaml")
    );
}
