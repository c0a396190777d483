//! Where a command runs (`--repo` or the current directory) and, for a command about one
//! environment, the loaded repository with that environment selected. Every command starts
//! here; `mod.rs` only dispatches, so no command imports the module above it.

use std::path::PathBuf;

use crate::error::Error;
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
}
