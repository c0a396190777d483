//! One function per command, the top layer. Each opens its invocation (the repository and, for
//! commands about one environment, `Invocation::open` with the selected environment), runs the
//! pipeline of `workspace`, and writes through a `repo::Plan`, so a refused or failed command
//! leaves the tree as it was. Nothing below this module imports it.

mod check;

mod build;
mod init;
mod seal;
mod secrets;
mod unseal;
// Offline re-encryption for a new controller key (#12).
mod reseal;

mod dbos_versions;
mod promote;
mod retire;
mod version;
// Minted secrets: the ingress certificate and Dex's users.
mod dex;
mod tls;
// Review and CI (#15).
mod diff;
mod schema;
// No core dump holds a secret (#23).
mod no_core;
// Day zero without hand work (#22).
mod conductor;
mod database;

pub use crate::workspace::plan_build;

use std::path::{Path, PathBuf};

use crate::cli::{Cli, Command, DexCommand, InitCommand, SecretsCommand};
use crate::declare::EnvName;
use crate::error::Error;
use crate::repo::LoadedRepo;

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

/// Whether `command` reads a plaintext value or holds a private key (then no core dump of it
/// may be written, `no_core`).
fn holds_secrets(command: &Command) -> bool {
    matches!(
        command,
        Command::Seal(_)
            | Command::Secrets(SecretsCommand::Set(_))
            | Command::Unseal(_)
            | Command::Reseal(_)
            | Command::Tls(_)
            | Command::Dex(DexCommand::AddUser(_) | DexCommand::Hash(_))
            // Database passwords, generated role passwords, the minted Conductor API key.
            | Command::Database(_)
            | Command::Conductor(_)
            // A database URL with its password (retire, version list/activate).
            | Command::Retire(_)
            | Command::Version(_)
            | Command::Init(crate::cli::InitArgs {
                env: Some(InitCommand::Env(_)),
                ..
            })
    )
}

pub fn dispatch(cli: Cli) -> Result<i32, Error> {
    if holds_secrets(&cli.command) {
        no_core::disable_core_dumps();
    }
    let context = Context {
        repo_flag: cli.repo,
    };
    match cli.command {
        Command::Init(arguments) => match arguments.env {
            Some(InitCommand::Env(env_arguments)) => init::init_env(&context, env_arguments),
            None => init::init_repo(&context, arguments),
        },
        Command::Check(arguments) => check::check(&context, arguments),
        Command::Build(arguments) => build::build(&context, arguments),
        Command::Seal(arguments) => seal::seal(&context, arguments),
        Command::Secrets(SecretsCommand::Set(arguments)) => secrets::set(&context, arguments),
        Command::Secrets(SecretsCommand::List(arguments)) => secrets::list(&context, arguments),
        Command::Unseal(arguments) => unseal::unseal(arguments),
        Command::Reseal(arguments) => reseal::reseal(&context, arguments),

        Command::Version(crate::cli::VersionCommand::Add(arguments)) => {
            version::add(&context, arguments)
        }
        Command::Version(crate::cli::VersionCommand::List(arguments)) => {
            version::list(&context, arguments)
        }
        Command::Version(crate::cli::VersionCommand::Activate(arguments)) => {
            version::activate(&context, arguments)
        }
        Command::Version(crate::cli::VersionCommand::Promote(arguments)) => {
            promote::promote(&context, arguments)
        }
        Command::Retire(arguments) => retire::retire(&context, arguments),

        Command::Tls(arguments) => tls::tls(&context, arguments),
        Command::Dex(DexCommand::AddUser(arguments)) => dex::add_user(&context, arguments),
        Command::Dex(DexCommand::RemoveUser(arguments)) => dex::remove_user(&context, arguments),
        Command::Dex(DexCommand::Hash(arguments)) => dex::hash(arguments),
        Command::Database(crate::cli::DatabaseCommand::Init(arguments)) => {
            database::init(&context, arguments)
        }
        Command::Database(crate::cli::DatabaseCommand::Rotate(arguments)) => {
            database::rotate(&context, arguments)
        }
        Command::Conductor(crate::cli::ConductorCommand::Register(arguments)) => {
            conductor::register(&context, arguments)
        }
        Command::Diff(arguments) => diff::diff(&context, arguments),
        Command::Schema(arguments) => schema::schema(arguments),
        Command::Completions { shell } => {
            crate::completions::write_registration(shell, &mut std::io::stdout())
                .map_err(|error| Error::io("<stdout>", "write", error))?;
            Ok(0)
        }
        Command::Man { out } => {
            for page in crate::manpages::write_all(&out)? {
                println!("{}", page.display());
            }
            Ok(0)
        }
    }
}

pub use crate::table::format_table;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns_without_trailing_spaces() {
        let rows = [
            [
                "VERSION".to_string(),
                "IMAGE".to_string(),
                "ACTIVE".to_string(),
            ],
            [
                "v1".to_string(),
                "ghcr.io/acme/app:v1".to_string(),
                "no".to_string(),
            ],
        ];
        assert_eq!(
            format_table(&rows),
            "VERSION  IMAGE                ACTIVE\nv1       ghcr.io/acme/app:v1  no\n"
        );
    }
}
