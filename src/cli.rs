//! The command line: parsing and nothing else. Doc comments are the `--help` text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "dbos-gitops",
    version,
    about = "Compile DBOS Conductor environments into a GitOps repository: kustomize overlays, Argo CD Applications and SealedSecrets",
    after_help = "Example:\n  dbos-gitops init --repo-url https://github.com/acme/dbos-deploy.git\n  dbos-gitops init env prod --domain dbos.acme.com --cert pub-cert.pem --app-image ghcr.io/acme/app:v1\n  dbos-gitops build --check"
)]
pub struct Cli {
    /// The repository root (default: the nearest directory above the current one holding dbos-gitops.yaml)
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a repository (`init`) or an environment in it (`init env NAME`)
    #[command(args_conflicts_with_subcommands = true)]
    Init(InitArgs),
    /// Validate the repository offline: generated files, sealed secrets, certificates, versions
    #[command(
        after_help = "Example:\n  dbos-gitops check\n  dbos-gitops check --env prod --format json --no-render\n\nExit status: 0 clean (warnings allowed unless --strict), 1 findings, 2 could not run."
    )]
    Check(CheckArgs),
    /// Recompile every generated file from the declarations
    #[command(
        after_help = "Example:\n  dbos-gitops build\n  dbos-gitops build --check   # exit 1 and a diff when something is stale"
    )]
    Build(BuildArgs),
    /// Print shell completions
    #[command(
        after_help = "Example:\n  dbos-gitops completions bash > /etc/bash_completion.d/dbos-gitops"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Args)]
#[command(
    after_help = "Example:\n  dbos-gitops init --repo-url https://github.com/acme/dbos-deploy.git"
)]
pub struct InitArgs {
    #[command(subcommand)]
    pub env: Option<InitCommand>,
    /// Git URL Argo CD pulls from (default: `git remote get-url origin`)
    #[arg(long, value_name = "URL")]
    pub repo_url: Option<String>,
    /// Git revision Argo CD tracks
    #[arg(long, value_name = "REV", default_value = "HEAD")]
    pub revision: String,
}

#[derive(Debug, Subcommand)]
pub enum InitCommand {
    /// Create environments/NAME with its declaration and compiled overlay
    #[command(
        after_help = "Example:\n  dbos-gitops init env prod --domain dbos.acme.com --cert pub-cert.pem --app-image ghcr.io/acme/app:v1"
    )]
    Env(InitEnvArgs),
}

#[derive(Debug, Args)]
pub struct InitEnvArgs {
    /// Environment name (a DNS-1123 label)
    pub name: String,
    /// Domain the ingress hosts are derived from
    #[arg(long, value_name = "DOMAIN")]
    pub domain: Option<String>,
    /// The sealed-secrets controller's public certificate (`kubeseal --fetch-cert`)
    #[arg(long, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// Namespace to deploy into (default: dbos-NAME)
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Argo CD destination cluster API URL
    #[arg(long, value_name = "URL")]
    pub cluster: Option<String>,
    /// Ingress routing: one host per service, or one host with path prefixes
    #[arg(long, value_enum, default_value = "host")]
    pub routing: RoutingArg,
    /// OIDC login for Console and Conductor
    #[arg(long, value_enum, default_value = "none")]
    pub oidc: OidcArg,
    /// Image of the first application version
    #[arg(long, value_name = "IMAGE")]
    pub app_image: Option<String>,
    /// Name of the first application version
    #[arg(long, value_name = "V", default_value = "v1", requires = "app_image")]
    pub version: String,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum RoutingArg {
    Host,
    Path,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OidcArg {
    None,
    Dex,
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    /// Only this environment (repository-wide checks always run)
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Output format; `json` is a stable, versioned schema for tools
    #[arg(long, value_enum, default_value = "text")]
    pub format: CheckFormat,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Skip the `kubectl kustomize` render of every overlay (reported as skipped)
    #[arg(long)]
    pub no_render: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum CheckFormat {
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    /// Only this environment (base/ and argocd/ are always included)
    #[arg(long, value_name = "NAME")]
    pub env: Option<String>,
    /// Write nothing; print a unified diff and exit 1 if anything is stale
    #[arg(long)]
    pub check: bool,
    /// Overwrite generated files even if they were edited by hand
    #[arg(long)]
    pub force: bool,
}
