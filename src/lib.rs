//! dbos-gitops: a compiler from small environment declarations to a GitOps repository for DBOS
//! Conductor, Console and DBOS applications on Kubernetes.
//!
//! Layers, each importing only those below it: `layout` (every repository path, the generated
//! `Tree`, digests) and `error` at the bottom; `yaml`; `declare` (what users write); `model`
//! (resolved); `render` (pure, one file per component); `repo` (load, plan, ownership, atomic
//! writes); `workspace` (the pipeline load → resolve → render → plan); `secret_store` and
//! `check` on top of it; `cli` (parsing) and `commands` (one function per command) at the top.

pub mod build_info;
pub mod check;
pub mod cli;
pub mod clock;
pub mod commands;
pub mod completions;
pub mod declare;
pub mod diff;
pub mod env_vars;
pub mod error;
pub mod inventory;
pub mod layout;
pub mod limits;
pub mod manpages;
pub mod model;
pub mod render;
pub mod repo;
pub mod seal_mac;
pub mod secret_store;
pub mod table;
pub mod term;
pub mod workspace;
pub mod yaml;

use clap::{CommandFactory, FromArgMatches};
use std::ffi::OsString;

/// Runs the command line and returns the process exit code.
pub fn run<I: IntoIterator<Item = OsString>>(arguments: I) -> i32 {
    let arguments: Vec<OsString> = arguments.into_iter().collect();
    // clap prints its own errors (a typo'd flag, a missing value) before our `term` exists:
    // hand it the `--color` the line asks for, so those follow it too.
    let command = cli::Cli::command().color(clap_color(&arguments));
    let parsed = command
        .try_get_matches_from(arguments)
        .and_then(|matches| cli::Cli::from_arg_matches(&matches));
    let cli = match parsed {
        Ok(cli) => cli,
        Err(error) => {
            let _ = error.print();
            return match error.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => 0,
                _ => 2,
            };
        }
    };
    term::init(cli.output.quiet, cli.output.verbose, cli.output.color);
    // The crash marker goes when the command's repository lock drops (`repo::lock::Held`).
    let outcome = commands::dispatch(cli);
    match outcome {
        Ok(code) => code,
        Err(error) => {
            eprintln!("{}", term::paint(term::Stream::Stderr, &error.report()));
            error.exit_code()
        }
    }
}

/// The `--color` a command line asks for (`--color WHEN` or `--color=WHEN`, before any `--`),
/// as clap's setting; clap's `auto` already honours `NO_COLOR` and the terminal.
fn clap_color(arguments: &[OsString]) -> clap::ColorChoice {
    let mut words = arguments.iter().skip(1).map(|word| word.to_string_lossy());
    let mut choice = clap::ColorChoice::Auto;
    while let Some(word) = words.next() {
        let value = match word.as_ref() {
            "--" => break,
            "--color" => words.next().map(|value| value.into_owned()),
            other => other.strip_prefix("--color=").map(str::to_string),
        };
        match value.as_deref() {
            Some("always") => choice = clap::ColorChoice::Always,
            Some("never") => choice = clap::ColorChoice::Never,
            Some(_) => choice = clap::ColorChoice::Auto,
            None => {}
        }
    }
    choice
}

/// Answers a shell's completion request and exits, or returns when this is an ordinary run
/// (`completions`: the candidates; here, above both it and `cli`, the command they complete).
pub fn complete_if_asked() {
    clap_complete::CompleteEnv::with_factory(cli::Cli::command)
        .var(completions::VARIABLE)
        .bin("dbos-gitops")
        .completer("dbos-gitops")
        .complete();
}
