//! Hostile input is refused before it is parsed (#14 item 7): a depth bomb in a declaration, an
//! alias bomb on `seal`'s stdin, an oversized declaration. Each names the file and the limit,
//! exits 2 and writes nothing.

use crate::support::*;

#[test]
fn issue_14_a_depth_bomb_in_env_yaml_is_refused_naming_the_file_and_the_limit() {
    let repo = TestRepo::prod();
    let before = repo.snapshot();
    let bomb = "[".repeat(100_000) + &"]".repeat(100_000);
    repo.write("environments/prod/env.yaml", &bomb);
    let before_build = repo.snapshot();
    let run = repo.fails(&["build"], 2);
    assert!(
        run.stderr.contains("environments/prod/env.yaml")
            && run
                .stderr
                .contains("nesting deeper than the limit of 64 levels")
            && run.stderr.contains("hint:"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before_build, "build wrote something");
    assert_ne!(before, before_build);
    // `check` reports it as an `invalid-declaration` finding (#24 item 5): exit 1.
    let run = repo.fails(&["check"], 1);
    assert!(
        run.stdout.contains("environments/prod/env.yaml")
            && run
                .stdout
                .contains("nesting deeper than the limit of 64 levels"),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
}

#[test]
fn issue_14_an_alias_bomb_on_seal_stdin_is_refused() {
    let repo = TestRepo::prod();
    let mut laughs = String::from(
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: bomb\nstringData:\n  a0: &a0 lol\n",
    );
    for level in 1..10 {
        let previous = format!("*a{}", level - 1);
        laughs.push_str(&format!(
            "  a{level}: &a{level} [{}]\n",
            [previous.as_str(); 10].join(", ")
        ));
    }
    let before = repo.snapshot();
    let run = repo.run_with_stdin(&["seal", "--env", "prod"], Some(laughs.as_bytes()));
    assert_eq!(run.code, 2, "{}\n{}", run.stdout, run.stderr);
    assert!(
        run.stderr.contains("stdin") && run.stderr.contains("aliases (`*name`) expand"),
        "{}",
        run.stderr
    );
    assert_eq!(repo.snapshot(), before, "seal wrote something");
}

#[test]
fn issue_14_an_oversized_versions_yaml_is_refused_with_the_limit() {
    let repo = TestRepo::prod();
    let mut text = repo.read("environments/prod/versions.yaml");
    text.push_str(&format!("# {}\n", "x".repeat(1 << 20)));
    repo.write("environments/prod/versions.yaml", &text);
    let run = repo.fails(&["build"], 2);
    assert!(
        run.stderr.contains("environments/prod/versions.yaml")
            && run.stderr.contains("limit of 1048576 bytes (1 MiB)"),
        "{}",
        run.stderr
    );
}
