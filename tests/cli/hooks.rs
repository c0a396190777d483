//! `.pre-commit-hooks.yaml` (#15): every hook's entry is a command line the binary accepts and
//! runs (exit 0 or findings, never a usage error), with the hook keys pre-commit requires.

use crate::support::*;

#[test]
fn every_shipped_hook_runs() {
    let text = std::fs::read_to_string(project_root().join(".pre-commit-hooks.yaml")).unwrap();
    let hooks: Vec<serde_json::Value> = serde_yaml::from_str(&text).unwrap();
    let ids: Vec<&str> = hooks
        .iter()
        .map(|hook| hook["id"].as_str().unwrap())
        .collect();
    assert!(
        ids.contains(&"dbos-gitops-check") && ids.contains(&"dbos-gitops-build-check"),
        "{ids:?}"
    );
    let repo = TestRepo::prod();
    for hook in &hooks {
        for key in ["id", "name", "entry", "language"] {
            assert!(hook[key].is_string(), "{hook}: no `{key}`");
        }
        assert_eq!(hook["pass_filenames"], false, "{hook}");
        let entry: Vec<&str> = hook["entry"].as_str().unwrap().split_whitespace().collect();
        assert_eq!(entry[0], "dbos-gitops");
        let run = repo.run(&entry[1..]);
        assert!(
            run.code == 0 || run.code == 1,
            "{hook}: exit {}: {}",
            run.code,
            run.stderr
        );
    }
    // A fresh repository's generated files are current: the build hook passes.
    assert_eq!(repo.run(&["build", "--check"]).code, 0);
}
