//! Where a command runs (`--repo` or the current directory) and, for a command about one
//! environment, the loaded repository with that environment selected. Every command starts
//! here; `mod.rs` only dispatches, so no command imports the module above it.

use std::path::{Path, PathBuf};

use crate::declare::EnvName;
use crate::error::Error;
use crate::repo::LoadedRepo;
use crate::workspace::{Mode, Workspace};

/// Where the command runs: the `--repo` flag or the current directory.
pub struct Context {
    pub repo_flag: Option<PathBuf>,
}

impl Context {
    pub fn start_dir(&self) -> Result<PathBuf, Error> {
        match &self.repo_flag {
            Some(dir) => Ok(dir.clone()),
            None => std::env::current_dir()
                .map_err(|source| Error::io(".", "read the current directory", source)),
        }
    }

    /// The repository root: `--repo DIR` exactly, or the nearest ancestor with the repo file.
    pub fn root(&self) -> Result<PathBuf, Error> {
        let start = self.start_dir()?;
        if self.repo_flag.is_some() && !start.join(crate::declare::REPO_FILE).is_file() {
            return Err(Error::input(format!(
                "`{}` holds no `{}`",
                start.display(),
                crate::declare::REPO_FILE
            ))
            .hint("run `dbos-gitops init` there first"));
        }
        crate::repo::find_root(&start)
    }

    /// The workspace of a command about one environment (`--env`, or the only one): see
    /// `Workspace::open_env`. `Mode::Write` takes the repository lock before anything is read.
    pub fn workspace(&self, env: Option<&str>, mode: Mode) -> Result<Workspace, Error> {
        Workspace::open_env(&self.root()?, env, mode)
    }

    /// The workspace of a command about every environment (`Workspace::open`).
    pub fn workspace_all(&self, mode: Mode) -> Result<Workspace, Error> {
        Workspace::open(&self.root()?, mode)
    }

    /// The invocation of a command scoped to one environment: the repository, loaded so that
    /// only that environment's declarations can block the command (see `workspace`), and the
    /// environment `--env` names (or the only one).
    pub fn open(&self, env: Option<&str>) -> Result<Invocation, Error> {
        Invocation::open(&self.root()?, env)
    }

    /// `open` for a command that writes: the repository lock is taken before anything is read,
    /// so a concurrent writer's read-merge-write never interleaves with ours.
    pub fn open_to_write(&self, env: Option<&str>) -> Result<Invocation, Error> {
        Invocation::open_to_write(&self.root()?, env)
    }
}

/// A resolved invocation: the loaded repository and the selected environment.
pub struct Invocation {
    pub loaded: LoadedRepo,
    pub env: EnvName,
}

impl Invocation {
    pub fn open(root: &Path, env: Option<&str>) -> Result<Invocation, Error> {
        let loaded = crate::repo::load_repo_scoped(root, env)?;
        let env = loaded.select_env(env)?.name.clone();
        Ok(Invocation { loaded, env })
    }

    /// `open` under the repository lock (held until the process exits).
    pub fn open_to_write(root: &Path, env: Option<&str>) -> Result<Invocation, Error> {
        crate::repo::lock::acquire(root)?;
        Self::open(root, env)
    }

    /// The selected environment's index in `loaded.environments`.
    pub fn index(&self) -> usize {
        self.loaded
            .environments
            .iter()
            .position(|candidate| candidate.name == self.env)
            .expect("select_env returned one of the environments")
    }
}
