//! Load: find the repository and read its declarations into the inputs of `model::resolve`.

use std::path::{Path, PathBuf};

use super::fs;
use super::ownership::{self, Record, RECORD_FILE};
use crate::declare::{self, EnvName, RepoSpec, ENV_FILE, REPO_FILE, VERSIONS_FILE};
use crate::error::Error;
use crate::layout;
use crate::model::EnvInput;

#[derive(Debug)]
pub struct LoadedRepo {
    pub root: PathBuf,
    pub spec: RepoSpec,
    pub environments: Vec<EnvInput>,
    pub record: Record,
    /// Loaded for a command scoped to this one environment (`load_repo_scoped`): other
    /// environments' declarations may not block it.
    pub scoped_to: Option<EnvName>,
    /// Other environments whose declarations did not load (scoped loads only).
    pub skipped: Vec<String>,
}

impl LoadedRepo {
    /// The env named by `--env`, or the only one when there is exactly one.
    pub fn select_env(&self, name: Option<&str>) -> Result<&EnvInput, Error> {
        select_env(&self.environments, name)
    }
}

pub fn select_env<'a>(
    environments: &'a [EnvInput],
    name: Option<&str>,
) -> Result<&'a EnvInput, Error> {
    let known = || {
        environments
            .iter()
            .map(|env| format!("`{}`", env.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(name) => environments
            .iter()
            .find(|env| env.name.as_str() == name)
            .ok_or_else(|| {
                Error::input(format!("no environment `{name}` in this repository")).hint(
                    if environments.is_empty() {
                        format!("create it with `dbos-gitops init env {name}`")
                    } else {
                        format!("known environments: {}", known())
                    },
                )
            }),
        None => match environments {
            [only] => Ok(only),
            [] => Err(Error::input("this repository has no environments yet")
                .hint("create one with `dbos-gitops init env NAME`")),
            _ => Err(Error::input(
                "this repository has several environments; say which with `--env`",
            )
            .hint(format!("known environments: {}", known()))),
        },
    }
}

/// Walks up from `start` to the nearest directory holding `dbos-gitops.yaml`.
pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
    let mut current = Some(start);
    while let Some(dir) = current {
        if dir.join(REPO_FILE).is_file() {
            return Ok(dir.to_path_buf());
        }
        current = dir.parent();
    }
    Err(Error::input(format!(
        "no `{REPO_FILE}` in `{}` or any parent directory",
        start.display()
    ))
    .hint("run `dbos-gitops init` first, or pass `--repo DIR`"))
}

/// Loads every environment; any declaration that does not parse is an error. What `build`,
/// `check` and `init` use: they compile or check every environment.
pub fn load_repo(root: &Path) -> Result<LoadedRepo, Error> {
    load(root, None)
}

/// Loads the repository for a command scoped to one environment: `selected` (or the only one)
/// must load; another environment whose declarations do not parse is left out and listed in
/// `skipped`, so a broken env never blocks a command about a different one.
pub fn load_repo_scoped(root: &Path, selected: Option<&str>) -> Result<LoadedRepo, Error> {
    load(root, Some(selected))
}

fn load(root: &Path, scope: Option<Option<&str>>) -> Result<LoadedRepo, Error> {
    let repo_path = root.join(REPO_FILE);
    let spec = declare::parse_repo(Path::new(REPO_FILE), &fs::read_to_string(&repo_path)?)?;
    let record = match fs::read_optional(&root.join(RECORD_FILE))? {
        Some(bytes) => ownership::parse(Path::new(RECORD_FILE), &String::from_utf8_lossy(&bytes))?,
        None => Record::new(),
    };
    let mut environments = Vec::new();
    let mut skipped = Vec::new();
    let mut scoped_to = None;
    let environments_dir = root.join(layout::ENVIRONMENTS_DIR);
    if environments_dir.is_dir() {
        let mut names = Vec::new();
        let entries = std::fs::read_dir(&environments_dir)
            .map_err(|source| Error::io(&environments_dir, "list", source))?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&environments_dir, "list", source))?;
            if entry.path().join(ENV_FILE).is_file() {
                names.push(entry.file_name().to_string_lossy().to_string());
            }
        }
        names.sort();
        let target = match scope {
            Some(Some(selected)) => Some(selected.to_string()),
            Some(None) if names.len() == 1 => names.first().cloned(),
            _ => None,
        };
        for name in names {
            match load_env(root, &name) {
                Ok(env) => environments.push(env),
                Err(_) if scope.is_some() && target.as_deref() != Some(name.as_str()) => {
                    skipped.push(name);
                }
                Err(error) => return Err(error),
            }
        }
        scoped_to = target.and_then(|name| EnvName::new(&name).ok());
    }
    Ok(LoadedRepo {
        root: root.to_path_buf(),
        spec,
        environments,
        record,
        scoped_to,
        skipped,
    })
}

fn load_env(root: &Path, name: &str) -> Result<EnvInput, Error> {
    let relative = PathBuf::from(layout::env_dir(name));
    let env_name = EnvName::new(name).map_err(|error| {
        Error::input(format!("`{}`: {error}", relative.display()))
            .hint("rename the directory to a DNS-1123 label such as `prod-eu`")
    })?;
    let dir = root.join(&relative);
    let env_file = relative.join(ENV_FILE);
    let spec = declare::parse_env(&env_file, &fs::read_to_string(&root.join(&env_file))?)?;
    let versions_file = relative.join(VERSIONS_FILE);
    // No versions file: Conductor and Console only, until `version add` declares the app.
    let versions = match fs::read_optional(&root.join(&versions_file))? {
        Some(text) => declare::parse_versions(&versions_file, &String::from_utf8_lossy(&text))?,
        None => declare::VersionsSpec::default(),
    };
    let mut secret_files = Vec::new();
    let secrets_dir = root.join(layout::secrets_dir(name));
    if secrets_dir.is_dir() {
        let entries = std::fs::read_dir(&secrets_dir)
            .map_err(|source| Error::io(&secrets_dir, "list", source))?;
        for entry in entries {
            let entry = entry.map_err(|source| Error::io(&secrets_dir, "list", source))?;
            let file = entry.file_name().to_string_lossy().to_string();
            // One spelling, so `secrets/<name>.yaml` is always the file a secret lives in.
            if file.ends_with(".yaml") && !file.starts_with('.') {
                secret_files.push(file);
            }
        }
        secret_files.sort();
    }
    let dex_users_file = relative.join(declare::DEX_USERS_FILE);
    let dex_users = match fs::read_optional(&root.join(&dex_users_file))? {
        Some(text) => declare::parse_dex_users(&dex_users_file, &String::from_utf8_lossy(&text))?,
        None => declare::DexUsersSpec::default(),
    };
    let tls_certificate = dir.join(declare::TLS_CERT_FILE).is_file();
    // The digest of the published CA's bytes: a reissued certificate changes it, which rolls
    // the app pods that trust it.
    let tls_certificate_digest = if tls_certificate {
        fs::read_optional(&dir.join(declare::TLS_CERT_FILE))?.map(|bytes| layout::digest(&bytes))
    } else {
        None
    };
    // The sealed ciphertexts' digests: pods that read a secret roll when a value they read
    // changes (`render::rollout`).
    let mut secret_digests = crate::model::SecretDigests::new();
    for file in &secret_files {
        if let Some(bytes) = fs::read_optional(&secrets_dir.join(file))? {
            let stem = file.trim_end_matches(".yaml");
            let (name, keys) = crate::render::rollout::sealed_digests(stem, &bytes);
            secret_digests.insert(name, keys);
        }
    }
    Ok(EnvInput {
        secret_digests,
        name: env_name,
        spec,
        versions,
        secret_files,
        dex_users,
        tls_certificate,
        tls_certificate_digest,
    })
}
