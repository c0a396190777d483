//! One function per command, the top layer. Each opens one `Workspace` (`context.rs`: the whole
//! repository, or one environment selected once), puts the files it changes into it, compiles
//! it and commits the plan through the journal, so a refused or failed command leaves the tree
//! as it was. Nothing below this module imports it.

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
// Removing an environment (#24).
mod env;
// No core dump holds a secret (#23).
mod no_core;
// Day zero without hand work (#22).
mod conductor;
mod database;
// Where a command runs and the environment it is about: what every command above starts from.
mod context;

pub use context::Context;

use crate::cli::{Cli, Command, DexCommand, InitCommand, SecretsCommand};
use crate::error::Error;

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
        Command::Env(crate::cli::EnvCommand::Remove(arguments)) => env::remove(&context, arguments),
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
