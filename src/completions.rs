//! Shell completion: clap's dynamic completion (`clap_complete::CompleteEnv`), with candidates
//! read from the repository the shell is in.
//!
//! The shell's registration script (`dbos-gitops completions bash`, or `COMPLETE=bash
//! dbos-gitops`) calls the binary back on every TAB with `COMPLETE` set and the words of the
//! line after `--`; `crate::complete_if_asked` answers that before anything else runs. A candidate
//! function gets no parsed arguments, so the words are read here for `--repo` and `--env`
//! (`--from`, `--to` for `version promote`): version and secret names then come from that
//! environment, or from every environment when the line names none.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap_complete::engine::CompletionCandidate;

use crate::layout;
use crate::workspace::Tree;

/// The variable the registration scripts set; `COMPLETE=bash dbos-gitops` prints the script.
pub const VARIABLE: &str = "COMPLETE";

/// `completions SHELL`: the registration script for SHELL, the same as `COMPLETE=SHELL
/// dbos-gitops` prints. It calls `dbos-gitops` on PATH at each TAB.
pub fn write_registration(
    shell: clap_complete::Shell,
    out: &mut dyn std::io::Write,
) -> std::io::Result<()> {
    let name = shell.to_string();
    let shells = clap_complete::env::Shells::builtins();
    let Some(completer) = shells.completer(&name) else {
        return Err(std::io::Error::other(format!(
            "no dynamic completion for {name}"
        )));
    };
    completer.write_registration(VARIABLE, "dbos-gitops", "dbos-gitops", "dbos-gitops", out)
}

/// The words being completed (after `--`), or the process arguments in an ordinary run.
fn line_words() -> Vec<OsString> {
    let arguments: Vec<OsString> = std::env::args_os().collect();
    match arguments.iter().position(|word| word == "--") {
        Some(index) => arguments[index + 1..].to_vec(),
        None => Vec::new(),
    }
}

/// The value of `--flag VALUE` or `--flag=VALUE` on the line, the last one winning.
fn flag_value(words: &[OsString], flag: &str) -> Option<String> {
    let mut value = None;
    let with_equals = format!("{flag}=");
    for (index, word) in words.iter().enumerate() {
        let word = word.to_string_lossy();
        if word == flag {
            value = words
                .get(index + 1)
                .map(|next| next.to_string_lossy().into_owned());
        } else if let Some(rest) = word.strip_prefix(&with_equals) {
            value = Some(rest.to_string());
        }
    }
    value.filter(|value| !value.is_empty())
}

/// The repository the line works on: `--repo DIR`, else the nearest one above the current
/// directory, as the commands find it.
/// Its files are read through the workspace's tree, confined to it like every command's.
fn repository(words: &[OsString]) -> Option<Tree> {
    let start = match flag_value(words, "--repo") {
        Some(dir) => PathBuf::from(dir),
        None => std::env::current_dir().ok()?,
    };
    let root = crate::repo::load::find_root(&start).ok()?;
    Some(Tree::repository(&root))
}

/// Environment directories (those holding an env.yaml), sorted.
fn env_names_in(tree: &Tree) -> Vec<String> {
    let Ok(entries) = tree.entries(layout::ENVIRONMENTS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .flatten()
        .filter(|entry| entry.path().join(layout::ENV_FILE).is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| crate::declare::EnvName::new(name).is_ok())
        .collect();
    names.sort();
    names
}

/// The environments a version or secret name is looked up in: the one the line names under
/// one of `flags`, else all of them.
fn envs_of_line(tree: &Tree, words: &[OsString], flags: &[&str]) -> Vec<String> {
    let all = env_names_in(tree);
    match flags.iter().find_map(|flag| flag_value(words, flag)) {
        Some(named) if all.contains(&named) => vec![named],
        _ => all,
    }
}

fn candidates(mut names: Vec<String>) -> Vec<CompletionCandidate> {
    names.sort();
    names.dedup();
    names.into_iter().map(CompletionCandidate::new).collect()
}

/// `--env`, `--from`, `--to`: the repository's environments.
pub fn env_candidates() -> Vec<CompletionCandidate> {
    let words = line_words();
    repository(&words).map_or_else(Vec::new, |tree| candidates(env_names_in(&tree)))
}

/// A version argument: the names in the environment's versions.yaml.
pub fn version_candidates() -> Vec<CompletionCandidate> {
    let words = line_words();
    let Some(tree) = repository(&words) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for env in envs_of_line(&tree, &words, &["--env", "--from"]) {
        names.extend(version_names(&tree, &layout::versions_file(&env)));
    }
    candidates(names)
}

fn version_names(tree: &Tree, relative: &str) -> Vec<String> {
    #[derive(serde::Deserialize)]
    struct Versions {
        #[serde(default)]
        versions: Vec<Version>,
    }
    #[derive(serde::Deserialize)]
    struct Version {
        name: String,
    }
    // A TAB reads at most 1 MiB of it: a huge or endless file completes nothing.
    let Ok(Some(bytes)) = tree.read_bounded(relative, 1 << 20, "a versions file") else {
        return Vec::new();
    };
    serde_yaml::from_slice::<Versions>(&bytes)
        .map(|versions| versions.versions.into_iter().map(|v| v.name).collect())
        .unwrap_or_default()
}

/// A secret argument: the secrets the environment's declaration reads (its inventory), and
/// those already sealed under `secrets/`.
pub fn secret_candidates() -> Vec<CompletionCandidate> {
    let words = line_words();
    let Some(tree) = repository(&words) else {
        return Vec::new();
    };
    let mut names = Vec::new();
    for env in envs_of_line(&tree, &words, &["--env"]) {
        names.extend(sealed_secret_names(&tree, &env));
        names.extend(inventory_names(tree.root(), &env));
    }
    candidates(names)
}

fn sealed_secret_names(tree: &Tree, env: &str) -> Vec<String> {
    let Ok(entries) = tree.entries(&layout::secrets_dir(env)) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter_map(|name| name.strip_suffix(".yaml").map(str::to_string))
        .collect()
}

fn inventory_names(root: &Path, env: &str) -> Vec<String> {
    let Ok(loaded) = crate::repo::load::load_repo_scoped(root, Some(env)) else {
        return Vec::new();
    };
    crate::workspace::resolve_env(&loaded, env)
        .map(|model| {
            crate::inventory::secret_names(&model)
                .into_iter()
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(line: &[&str]) -> Vec<OsString> {
        line.iter().map(OsString::from).collect()
    }

    #[test]
    fn flags_are_read_in_both_spellings_and_the_last_wins() {
        let line = words(&["dbos-gitops", "retire", "--env", "a", "--env=b", "v"]);
        assert_eq!(flag_value(&line, "--env").as_deref(), Some("b"));
        assert_eq!(flag_value(&words(&["x", "--env"]), "--env"), None);
        assert_eq!(flag_value(&words(&["x", "--env", ""]), "--env"), None);
    }
}
