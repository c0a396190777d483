//! The command line: parsing and nothing else. Doc comments are the `--help` text.

use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;

use crate::declare::EnvName;

/// `--env NAME`: the environment a command works on. Parsed once, into a valid `EnvName`.
#[derive(Clone, Debug, Default, Args)]
pub struct EnvArg {
    /// Environment (may be left out when the repository has exactly one)
    #[arg(id = "env", long = "env", value_name = "NAME", value_parser = parse_env_name, add = env_names())]
    pub name: Option<EnvName>,
}

/// `--env NAME` of `build` and `check`: limits them to one environment instead of selecting it.
#[derive(Clone, Debug, Default, Args)]
pub struct EnvFilterArg {
    /// Only this environment (repository-wide files and checks, `base/` and `argocd/`, always
    /// included)
    #[arg(id = "env", long = "env", value_name = "NAME", value_parser = parse_env_name, add = env_names())]
    pub name: Option<EnvName>,
}

impl EnvArg {
    pub fn as_deref(&self) -> Option<&str> {
        self.name.as_ref().map(EnvName::as_str)
    }
}

impl EnvFilterArg {
    pub fn as_deref(&self) -> Option<&str> {
        self.name.as_ref().map(EnvName::as_str)
    }
}

/// Completion of an environment name, a version name, a secret name (src/completions.rs).
fn env_names() -> clap_complete::ArgValueCandidates {
    clap_complete::ArgValueCandidates::new(crate::completions::env_candidates)
}
fn version_names() -> clap_complete::ArgValueCandidates {
    clap_complete::ArgValueCandidates::new(crate::completions::version_candidates)
}
fn secret_names() -> clap_complete::ArgValueCandidates {
    clap_complete::ArgValueCandidates::new(crate::completions::secret_candidates)
}

fn parse_env_name(text: &str) -> Result<EnvName, String> {
    EnvName::new(text).map_err(|error| error.to_string())
}

#[derive(Debug, Parser)]
#[command(
    name = "dbos-gitops",
    version = crate::build_info::VERSION,
    long_version = crate::build_info::long_version(),
    about = "Compile DBOS Conductor environments into a GitOps repository: kustomize overlays, Argo CD Applications and SealedSecrets",
    after_help = "Example:\n  dbos-gitops init --repo-url https://github.com/acme/dbos-deploy.git\n  dbos-gitops init env prod --domain dbos.acme.com --cert pub-cert.pem --app-image ghcr.io/acme/app:v1\n  dbos-gitops build --check"
)]
pub struct Cli {
    /// The repository root (default: the nearest directory above the current one holding dbos-gitops.yaml)
    #[arg(long, global = true, value_name = "DIR")]
    pub repo: Option<PathBuf>,

    #[command(flatten)]
    pub output: OutputArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// The conventions every command shares: how much it says and whether in colour.
#[derive(Clone, Copy, Debug, Default, Args)]
pub struct OutputArgs {
    /// Leave out the summaries and notes of sealing (`sealed …`, `unchanged …`, `note:`);
    /// errors, warnings and what a command was asked to print still print
    #[arg(short = 'q', long, global = true, conflicts_with = "verbose")]
    pub quiet: bool,
    /// Name every key of a long list in a sealing summary (default: the first five and a count)
    #[arg(short = 'v', long, global = true)]
    pub verbose: bool,
    /// Colour the `error:`/`warning:`/`note:` prefixes and check findings (auto: on a terminal,
    /// unless `NO_COLOR` is set)
    #[arg(
        long,
        global = true,
        value_enum,
        default_value = "auto",
        value_name = "WHEN"
    )]
    pub color: crate::term::ColorChoice,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create a repository (`init`) or an environment in it (`init env NAME`)
    #[command(args_conflicts_with_subcommands = true)]
    Init(InitArgs),
    /// Recompile every generated file from the declarations
    #[command(
        after_help = "Example:\n  dbos-gitops build\n  dbos-gitops build --check   # exit 1 and a diff when something is stale"
    )]
    Build(BuildArgs),
    /// Validate the repository offline: generated files, sealed secrets, certificates, versions
    #[command(
        after_help = "Example:\n  dbos-gitops check\n  dbos-gitops check --env prod --format json --no-render\n\nExit status: 0 clean (warnings allowed unless --strict), 1 findings, 2 could not run."
    )]
    Check(CheckArgs),
    /// Seal Secret manifests into SealedSecrets (kubeseal-compatible, offline)
    #[command(
        after_help = "Examples:\n  kubectl create secret generic conductor-db --from-literal=database-url=... --dry-run=client -o yaml | dbos-gitops seal --env prod\n  kubectl create secret ... -o yaml | dbos-gitops seal --cert pub-cert.pem -o yaml > sealed.yaml   # as kubeseal\n  SEALED_SECRETS_CERT=pub-cert.pem dbos-gitops seal -f secret.yaml -w sealed.json\n  ... | dbos-gitops seal --env prod --dry-run   # which keys would change; writes nothing\n  dbos-gitops seal --cert pub-cert.pem --merge-into sealed.yaml < more-keys.yaml\n  printf %s \"$VALUE\" | dbos-gitops seal --raw --cert pub-cert.pem --namespace dbos --name conductor-db"
    )]
    Seal(SealArgs),
    /// Seal one key of an environment's secret, or list the environment's secret inventory
    #[command(subcommand)]
    Secrets(SecretsCommand),
    /// Decrypt SealedSecrets with a controller private key (recovery, debugging)
    #[command(
        after_help = "Example:\n  dbos-gitops unseal --key controller-key.pem environments/prod/secrets/conductor-db.yaml"
    )]
    Unseal(UnsealArgs),
    /// Re-encrypt every SealedSecret of an environment offline, with the controller's backed-up
    /// private keys, for the env's (or a new) certificate; all or nothing, plaintext only in memory
    #[command(
        after_help = "Examples:\n  kubectl get secret -n kube-system -l sealedsecrets.bitnami.com/sealed-secrets-key -o yaml > keys.yaml\n  kubeseal --fetch-cert > new-cert.pem\n  dbos-gitops reseal --env prod --key keys.yaml --cert new-cert.pem\n  dbos-gitops reseal --all-envs --key keys.yaml --dry-run     # which secrets can these keys open?"
    )]
    Reseal(ResealArgs),

    /// Application versions of an environment: one Deployment each
    #[command(
        subcommand,
        after_help = "Example:\n  dbos-gitops version add v2 --env prod --image ghcr.io/acme/app:v2\n  dbos-gitops version list --env prod"
    )]
    Version(VersionCommand),
    /// Remove a drained application version's Deployment from an environment
    #[command(after_help = RETIRE_HELP)]
    Retire(RetireArgs),

    /// Issue a self-signed certificate for every host of an environment and seal it as `dbos-tls`
    #[command(
        after_help = "Examples:\n  dbos-gitops tls --env prod                       # keeps a valid certificate that covers every host\n  dbos-gitops tls --env prod --days 825 --key-type rsa-2048 --force"
    )]
    Tls(TlsArgs),
    /// Dex static users (bcrypt hashes sealed, one key per user) and a bcrypt drop-in for htpasswd
    #[command(subcommand)]
    Dex(DexCommand),
    /// Databases and roles of an environment: credentials sealed in one write, a bootstrap Job
    #[command(subcommand)]
    Database(DatabaseCommand),
    /// Register the application with Conductor and seal its API key
    #[command(subcommand)]
    Conductor(ConductorCommand),
    /// What Argo CD would change between a git revision and the work tree, object by object
    #[command(after_help = crate::diff::DIFF_HELP)]
    Diff(DiffArgs),
    /// Environments as a whole: `env remove NAME` takes one out of Git and says what keeps running
    #[command(subcommand)]
    Env(EnvCommand),
    /// Print the JSON Schema (draft 2020-12) of env.yaml or dbos-gitops.yaml, for editors
    #[command(
        after_help = "Example:\n  dbos-gitops schema env > env.schema.json\n  dbos-gitops schema repo"
    )]
    Schema(SchemaArgs),
    /// Print the shell's completion registration (completes commands, flags, and the
    /// repository's environment, version and secret names by calling dbos-gitops on PATH)
    #[command(
        after_help = "Examples:\n  dbos-gitops completions bash > ~/.local/share/bash-completion/completions/dbos-gitops\n  dbos-gitops completions zsh > \"${fpath[1]}/_dbos-gitops\"\n  dbos-gitops completions fish > ~/.config/fish/completions/dbos-gitops.fish"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Write one man page per command into DIR (what the release archive ships)
    #[command(
        hide = true,
        after_help = "Example:\n  dbos-gitops man --out ~/.local/share/man/man1"
    )]
    Man {
        /// The directory to write the pages into (created when missing)
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
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
    /// Release of Conductor and Console to pin (`dbosdev/conductor:X`, `dbosdev/console:X`;
    /// upstream releases them together). Without it both run `latest` and `check` warns
    #[arg(long, value_name = "X")]
    pub conductor_version: Option<String>,
    /// Image of the first application version
    #[arg(long, value_name = "IMAGE")]
    pub app_image: Option<String>,
    /// Name of the first application version
    #[arg(long, value_name = "V", default_value = "v1", requires = "app_image")]
    pub version: String,
    /// Route through Gateway API with this environment's own Gateway of GatewayClass CLASS
    /// (the default, with class `eg`: Envoy Gateway)
    #[arg(long, value_name = "CLASS", conflicts_with_all = ["gateway", "ingress_class"])]
    pub gateway_class: Option<String>,
    /// Route through Gateway API on the platform's shared Gateway NAMESPACE/NAME (TLS through
    /// a ListenerSet) or NAMESPACE/NAME/SECTION (a listener of it; TLS through a ReferenceGrant)
    #[arg(
        long,
        value_name = "NAMESPACE/NAME[/SECTION]",
        conflicts_with = "ingress_class"
    )]
    pub gateway: Option<String>,
    /// The Gateway API implementation: decides the NetworkPolicy peer and the timeout policies
    #[arg(
        long,
        value_enum,
        default_value = "envoy-gateway",
        conflicts_with = "ingress_class"
    )]
    pub gateway_implementation: GatewayImplementationArg,
    /// Route through an `Ingress` of IngressClass CLASS instead (clusters still on ingress-nginx)
    #[arg(long, value_name = "CLASS")]
    pub ingress_class: Option<String>,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum GatewayImplementationArg {
    EnvoyGateway,
    NginxGatewayFabric,
    Istio,
    Kgateway,
    Cilium,
    Other,
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
    #[command(flatten)]
    pub env: EnvFilterArg,
    /// Output format; `json` is a stable, versioned schema for tools
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
    /// Fail (exit 1) on warnings too
    #[arg(long)]
    pub strict: bool,
    /// Skip the `kubectl kustomize` render of every overlay (reported as skipped)
    #[arg(long)]
    pub no_render: bool,
    /// Render every overlay afresh instead of reusing the renders of unchanged environments
    /// (cached in `$XDG_CACHE_HOME/dbos-gitops/`)
    #[arg(long)]
    pub no_cache: bool,
}

#[derive(Debug, Args)]
pub struct DiffArgs {
    /// The git revision to compare the work tree with
    #[arg(value_name = "REV", default_value = "HEAD")]
    pub revision: String,
    /// Only this environment (`argocd/` is left out then)
    #[arg(long, value_name = "NAME", value_parser = parse_env_name, add = env_names())]
    pub env: Option<EnvName>,
    /// Output format: `json` is stable and versioned, `markdown` is a pull-request comment
    #[arg(long, value_enum, default_value = "text")]
    pub format: DiffFormat,
    /// Lines of context in the YAML diff of objects whose structure changed
    #[arg(short = 'U', long = "unified", value_name = "N", default_value_t = 3)]
    pub context: usize,
    /// Markdown only: the most characters it prints (GitHub refuses comments over 65536);
    /// what does not fit is left out and said so
    #[arg(long, value_name = "N", default_value_t = crate::diff::markdown::DEFAULT_CAP,
          value_parser = parse_max_length)]
    pub max_length: usize,
}

fn parse_max_length(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(value) if (2000..=crate::diff::markdown::GITHUB_LIMIT).contains(&value) => Ok(value),
        _ => Err(format!(
            "`{text}` is not a number from 2000 to {}",
            crate::diff::markdown::GITHUB_LIMIT
        )),
    }
}

#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum DiffFormat {
    #[default]
    Text,
    Json,
    Markdown,
}

#[derive(Debug, Subcommand)]
pub enum EnvCommand {
    /// Remove environments/NAME (declarations, secrets, generated files) and its Application
    /// from argocd/; the environment keeps running until its Application is deleted in the
    /// cluster, which this prints how to do; with `--cascade`, Argo CD deletes it, in three steps
    #[command(after_help = ENV_REMOVE_HELP)]
    Remove(EnvRemoveArgs),
}

#[derive(Debug, Args)]
pub struct EnvRemoveArgs {
    /// The environment to remove
    #[arg(value_name = "NAME", value_parser = parse_env_name)]
    pub name: EnvName,
    /// Print what would be removed and what keeps running; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Have Argo CD delete every object of the environment, in three steps through Git (run it
    /// once per step, each committed and synced before the next): mark it (its Application
    /// gets the cascade finalizer and becomes prunable), take it out of Git (the root prunes
    /// the Application, Argo CD deletes what it deployed), drop its AppProject destination
    #[arg(long)]
    pub cascade: bool,
    /// Remove generated files even when they were edited by hand
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// Which declaration: `env` (environments/NAME/env.yaml), `repo` (dbos-gitops.yaml),
    /// `versions` (environments/NAME/versions.yaml), `dex-users` (environments/NAME/dex-users.yaml)
    /// or `removal` (environments/NAME/removal.yaml, written by `env remove NAME --cascade`)
    #[arg(value_enum)]
    pub file: SchemaFile,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum SchemaFile {
    Env,
    Repo,
    Versions,
    DexUsers,
    Removal,
}

#[derive(Debug, Args)]
pub struct BuildArgs {
    #[command(flatten)]
    pub env: EnvFilterArg,
    /// Write nothing; print a unified diff and exit 1 if anything is stale
    #[arg(long)]
    pub check: bool,
    /// Overwrite generated files even if they were edited by hand
    #[arg(long)]
    pub force: bool,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum OutputFormat {
    Yaml,
    Json,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum ListFormat {
    #[default]
    Text,
    Json,
}

#[derive(Debug, Args)]
pub struct SealArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The controller's public certificate: seal without an environment, as kubeseal does
    /// (default: env `SEALED_SECRETS_CERT`, when no `--env` is given)
    #[arg(long, value_name = "PEM")]
    pub cert: Option<PathBuf>,
    /// strict (name and namespace), namespace-wide or cluster-wide
    #[arg(long, value_name = "SCOPE")]
    pub scope: Option<String>,
    /// Output format without an environment, as kubeseal's `-o` (default json; yaml when
    /// `-w` names a .yaml/.yml file)
    #[arg(short = 'o', long, value_enum)]
    pub format: Option<OutputFormat>,
    /// Read the Secret manifests from this file instead of stdin (`-` is stdin)
    #[arg(
        short = 'f',
        long = "secret-file",
        visible_alias = "file",
        value_name = "FILE"
    )]
    pub file: Option<PathBuf>,
    /// Write the result to this file instead of stdout, atomically (kubeseal's `-w`)
    #[arg(short = 'w', long = "sealed-secret-file", value_name = "FILE")]
    pub sealed_secret_file: Option<PathBuf>,
    /// Add or replace keys of this existing SealedSecret, keeping the others byte-identical
    #[arg(long, value_name = "FILE")]
    pub merge_into: Option<PathBuf>,
    /// Seal one raw value (from `--from-file` or stdin) and print its base64 ciphertext
    #[arg(long)]
    pub raw: bool,
    /// With `--raw`: read the value from FILE (kubectl's `[KEY=]FILE`; the key is not used)
    #[arg(long, value_name = "[KEY=]FILE")]
    pub from_file: Vec<String>,
    /// With `--raw` (strict scope): the secret name the value is sealed for. Refused without
    /// `--raw` (the name is the input's `metadata.name`)
    #[arg(long, value_name = "N")]
    pub name: Option<String>,
    /// Namespace (with `--raw`, or to set the input's)
    #[arg(short = 'n', long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Accept a Secret without data
    #[arg(long)]
    pub allow_empty_data: bool,
    /// With `--env`: print which secrets and keys would change, and write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Value-MAC key of stable re-seal (a file outside the repository; default: `$DBOS_GITOPS_SEAL_MAC_KEY_FILE`, else ~/.config/dbos-gitops/seal-mac.key)
    #[arg(long, value_name = "FILE")]
    pub mac_key_file: Option<PathBuf>,
    #[command(flatten)]
    pub kubeseal_only: KubesealOnlyArgs,
}

/// kubeseal flags that need a cluster or another command here: accepted by the parser only so
/// that `seal` can refuse each with the reason and the replacement (hidden from `--help`).
#[derive(Debug, Default, Args)]
pub struct KubesealOnlyArgs {
    /// Before this release `seal -o FILE` wrote a file; now `-o` is `--format`
    #[arg(long = "output", hide = true, value_name = "X")]
    pub output: Option<String>,
    #[arg(long, hide = true)]
    pub fetch_cert: bool,
    #[arg(long, hide = true)]
    pub validate: bool,
    #[arg(long, hide = true)]
    pub re_encrypt: bool,
    #[arg(long, hide = true)]
    pub rotate: bool,
    #[arg(long, hide = true)]
    pub recovery_unseal: bool,
    #[arg(long, hide = true, value_name = "X")]
    pub recovery_private_key: Vec<String>,
    #[arg(long, hide = true, value_name = "X")]
    pub controller_namespace: Option<String>,
    #[arg(long, hide = true, value_name = "X")]
    pub controller_name: Option<String>,
    #[arg(long, hide = true, value_name = "X")]
    pub kubeconfig: Option<String>,
    #[arg(long, hide = true, value_name = "X")]
    pub context: Option<String>,
}

impl KubesealOnlyArgs {
    /// The first kubeseal-only flag given, with why it is refused and what to use instead.
    pub fn refusal(&self) -> Option<(&'static str, &'static str)> {
        let cluster = "dbos-gitops never talks to a cluster; seal offline with `--cert pub-cert.pem` (from `kubeseal --fetch-cert`) or `--env NAME`";
        [
            (self.output.is_some(), "--output", "`seal` no longer writes a file with `-o`/`--output`: `-o` is kubeseal's `--format json|yaml`; write a file with `-w/--sealed-secret-file FILE`"),
            (self.fetch_cert, "--fetch-cert", "dbos-gitops reads no cluster: fetch the certificate with `kubeseal --fetch-cert > pub-cert.pem`"),
            (self.validate, "--validate", "validation asks the controller in the cluster; offline, `dbos-gitops check` (in a repository) or `dbos-gitops unseal --key` opens what was sealed"),
            (self.re_encrypt || self.rotate, "--re-encrypt", "re-encryption here is offline: `dbos-gitops reseal --env NAME --key keys.yaml`"),
            (self.recovery_unseal || !self.recovery_private_key.is_empty(), "--recovery-unseal", "decrypt with `dbos-gitops unseal --key PRIVKEY.pem FILE`"),
            (self.controller_namespace.is_some(), "--controller-namespace", cluster),
            (self.controller_name.is_some(), "--controller-name", cluster),
            (self.kubeconfig.is_some(), "--kubeconfig", cluster),
            (self.context.is_some(), "--context", cluster),
        ]
        .into_iter()
        .find(|(given, _, _)| *given)
        .map(|(_, flag, reason)| (flag, reason))
    }
}

#[derive(Debug, Subcommand)]
pub enum SecretsCommand {
    /// Seal one key of a known secret from a hidden prompt, stdin or a file
    #[command(
        after_help = "Examples:\n  dbos-gitops secrets set --env prod conductor-api-key api-key          # hidden prompt\n  printf %s \"$KEY\" | dbos-gitops secrets set --env prod conductor-license license-key"
    )]
    Set(SecretsSetArgs),
    /// The environment's secret inventory: sealed, missing, which certificate sealed them
    #[command(after_help = "Example:\n  dbos-gitops secrets list --env prod")]
    List(SecretsListArgs),
}

#[derive(Debug, Args)]
pub struct SecretsSetArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Secret name, e.g. conductor-db
    #[arg(add = secret_names())]
    pub secret: String,
    /// Key in the secret, e.g. database-url
    pub key: String,
    /// Read the value from this file (exact bytes)
    #[arg(long, value_name = "F", conflicts_with = "from_stdin")]
    pub from_file: Option<PathBuf>,
    /// Read the value from stdin (one trailing newline is dropped)
    #[arg(long)]
    pub from_stdin: bool,
    /// Value-MAC key of stable re-seal (a file outside the repository; default: `$DBOS_GITOPS_SEAL_MAC_KEY_FILE`, else ~/.config/dbos-gitops/seal-mac.key)
    #[arg(long, value_name = "FILE")]
    pub mac_key_file: Option<PathBuf>,
    /// Print which key would be added or changed, and write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct SecretsListArgs {
    #[command(flatten)]
    pub env: EnvArg,
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct UnsealArgs {
    /// Controller private key (PKCS#1 or PKCS#8 PEM); repeat to try several, as the controller does
    #[arg(long, value_name = "PRIVKEY.pem", required = true)]
    pub key: Vec<PathBuf>,
    /// SealedSecret files (default: stdin)
    pub files: Vec<PathBuf>,
    /// Write the plaintext Secrets to this file (mode 0600) instead of stdout
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ResealArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Every environment of the repository (a cluster shared by several)
    #[arg(long, conflicts_with = "env")]
    pub all_envs: bool,
    /// Controller private key: PEM, or the key backup Secret/List; repeat to give several
    #[arg(long, value_name = "PEM", required = true)]
    pub key: Vec<PathBuf>,
    /// Seal for this certificate and install it as the env's sealing-cert.pem
    #[arg(long, value_name = "NEW.pem")]
    pub cert: Option<PathBuf>,
    /// Write nothing; report which secrets the given keys cannot open
    #[arg(long)]
    pub dry_run: bool,
    /// Value-MAC key of stable re-seal (see `seal --mac-key-file`)
    #[arg(long, value_name = "FILE")]
    pub mac_key_file: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
pub enum VersionCommand {
    /// Add VERSION as its own Deployment and (unless `--no-activate`) point the Service and the
    /// autoscaler at it; older versions keep running to finish their workflows
    #[command(
        after_help = "Example:\n  dbos-gitops version add v2 --env prod --image ghcr.io/acme/app:v2\n  dbos-gitops version add v3 --env prod --image ghcr.io/acme/app:v3 --no-activate   # no traffic yet\n  dbos-gitops version add v3 --env prod --image ghcr.io/acme/app:v3 --dry-run   # write nothing"
    )]
    Add(VersionAddArgs),
    /// List the environment's versions: image, active, autoscaled; with a database, DBOS's latest
    /// version, in-flight counts and versions nobody declared
    #[command(
        after_help = "Example:\n  dbos-gitops version list --env prod\n  dbos-gitops version list --env prod --format json\n  DBOS_SYSTEM_DATABASE_URL=... dbos-gitops version list --env prod   # or --database-url-file FILE\n  dbos-gitops version list --env prod --conductor-url https://conductor.dbos.acme.com"
    )]
    List(VersionListArgs),
    /// Point the Service and the autoscaler at VERSION; a rollback (an older VERSION) also makes
    /// it DBOS's latest application version in the system database
    #[command(
        after_help = "DBOS sends enqueued work without a version and every scheduled workflow to its latest\napplication version (the newest `version_timestamp` in `dbos.application_versions`),\nnot to the Service: activating an older version therefore needs the database\n(env `DBOS_SYSTEM_DATABASE_URL`, `--database-url-file FILE` or `--database-url`) or, for a\nprivate database, Conductor (`--conductor-url URL`, which PATCHes its latest version), or\n`--traffic-only` to move only the Service and the autoscaler. Activating the newest version\nneeds no database, but after a rollback DBOS's latest stays the older version until it is\ngiven. With `app.auto-upgrade: true` a rollback is refused without `--force`: auto-upgrade\nmoves the newer version's queued work (and, after the grace period, its running work) onto\nthe older version's code.\n\nExample:\n  export DBOS_SYSTEM_DATABASE_URL   # set from your secret store, not typed on the command line\n  dbos-gitops version activate v1 --env prod   # rollback\n  dbos-gitops version activate v2 --env prod --database-url-file ~/.dbos/prod-url\n  dbos-gitops version activate v1 --env prod --conductor-url https://conductor.dbos.acme.com"
    )]
    Activate(VersionActivateArgs),
    /// Add VERSION to another environment with the image it has in the source environment
    #[command(
        after_help = "Only the version's image is copied; everything else (secrets, settings) stays per environment.\n\nExample:\n  dbos-gitops version promote v2 --from staging --to prod\n  dbos-gitops version promote v2 --from staging --to prod --no-activate"
    )]
    Promote(VersionPromoteArgs),
}

#[derive(Debug, Args)]
pub struct VersionPromoteArgs {
    /// A version of the source environment
    #[arg(add = version_names())]
    pub version: String,
    /// The environment to copy the version's image from
    #[arg(long, value_name = "SRC", add = env_names())]
    pub from: String,
    /// The environment to add the version to
    #[arg(long, value_name = "DST", add = env_names())]
    pub to: String,
    /// Deploy the version in DST but leave the Service and the autoscaler on DST's active one
    #[arg(long)]
    pub no_activate: bool,
}

#[derive(Debug, Args)]
pub struct VersionAddArgs {
    /// Version name: the app's `DBOS__APPVERSION` and the Deployment `dbos-app-VERSION` (a DNS-1123 label)
    pub version: String,
    #[command(flatten)]
    pub env: EnvArg,
    /// Container image of this version
    #[arg(long, value_name = "IMAGE[:TAG]")]
    pub image: String,
    /// Deploy the version but leave the Service and the autoscaler on the active one
    #[arg(long)]
    pub no_activate: bool,
    /// Write nothing; print which files would change and how
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Args)]
pub struct VersionListArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// DBOS system database: adds DBOS's latest version, in-flight counts and undeclared versions (read-only; never printed with its password). Prefer env `DBOS_SYSTEM_DATABASE_URL` or `--database-url-file`: a password here is visible to every local user
    #[arg(long, value_name = "URL", conflicts_with = "database_url_file")]
    pub database_url: Option<String>,
    /// File holding the DBOS system database URL (one line), so the password stays out of argv
    #[arg(long, value_name = "FILE")]
    pub database_url_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conductor: ConductorSourceArgs,
    /// Output format; `json` is stable for tools
    #[arg(long, value_enum, default_value = "text")]
    pub format: ListFormat,
}

#[derive(Debug, Args)]
pub struct VersionActivateArgs {
    /// A version already added to the environment
    #[arg(add = version_names())]
    pub version: String,
    #[command(flatten)]
    pub env: EnvArg,
    /// DBOS system database in which to make VERSION the latest application version (default: env `DBOS_SYSTEM_DATABASE_URL`, the recommended form); never printed with its password, but a password here is visible to every local user
    #[arg(long, value_name = "URL", conflicts_with_all = ["traffic_only", "database_url_file"])]
    pub database_url: Option<String>,
    /// File holding the DBOS system database URL (one line), so the password stays out of argv
    #[arg(long, value_name = "FILE", conflicts_with = "traffic_only")]
    pub database_url_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conductor: ConductorSourceArgs,
    /// Move only the Service and the autoscaler; DBOS keeps routing unversioned and scheduled work to its latest version
    #[arg(long, conflicts_with = "conductor_url")]
    pub traffic_only: bool,
    /// Roll back although env.yaml declares `app.auto-upgrade: true` (auto-upgrade then moves the newer version's work onto VERSION's code)
    #[arg(long)]
    pub force: bool,
}

const ENV_REMOVE_HELP: &str = "Examples:\n  dbos-gitops env remove staging --dry-run   # what goes, what keeps running\n  dbos-gitops env remove staging             # then commit, push, and follow what it prints\n  dbos-gitops env remove staging --cascade   # step 1, 2 or 3 of a removal Argo CD performs\n\nWithout --cascade nothing is deleted in the cluster: the root Application prunes only an\nApplication marked for the cascade, so the environment's Application and workloads keep running\nuntil the Application is deleted there. With --cascade, run it once per step, committing and\nsyncing each before the next: 1 marks the Application (finalizer, Prune=true), 2 takes the\nenvironment out of Git (Argo CD deletes its objects), 3 drops its AppProject destination.\nExit status: 0 removed or step done (or --dry-run), 1 refused (generated files edited by hand),\n2 unknown environment, or a cascade step out of order.";

const RETIRE_HELP: &str = "Safety rules:
  never retires the active version (activate another first) or an unknown one;
  never retires the newest version (unversioned work goes to it) unless `--force`
  and it is not active;
  with a database URL (env `DBOS_SYSTEM_DATABASE_URL`, `--database-url-file FILE` or
  `--database-url`), refuses while VERSION is DBOS's latest application version, when
  `app.name` owns no version there while other names do (a typo), and while
  workflows of VERSION are PENDING, ENQUEUED or DELAYED in `dbos.workflow_status` (only
  the env's `app.name` and unclaimed rows when env.yaml declares it), and while workflows
  are in flight under versions versions.yaml does not declare (an app that pins
  `application_version` in its DBOS config hides its versions); an unreachable
  database is an error (exit 2) and changes nothing;
  with `--conductor-url` instead (a private database), the same refusals on what Conductor
  reports through a connected executor; when none is connected (503) it cannot tell
  whether VERSION is drained: exit 2, nothing changed;
  without a database URL or `--conductor-url`, refuses unless `--no-drain-check`.
  `--force` never skips the drain check. `--dry-run` runs every check, then writes nothing.

Example:
  export DBOS_SYSTEM_DATABASE_URL   # set from your secret store, not typed on the command line
  dbos-gitops retire v1 --env prod
  dbos-gitops retire v1 --env prod --database-url-file ~/.dbos/prod-url
  dbos-gitops retire v1 --env prod --conductor-url https://conductor.dbos.acme.com";

#[derive(Debug, Args)]
pub struct RetireArgs {
    /// The version to remove
    #[arg(add = version_names())]
    pub version: String,
    #[command(flatten)]
    pub env: EnvArg,
    /// DBOS system database to check for in-flight workflows (default: env `DBOS_SYSTEM_DATABASE_URL`, the recommended form); opened read-only, never printed with its password, but a password here is visible to every local user
    #[arg(long, value_name = "URL", conflicts_with_all = ["no_drain_check", "database_url_file"])]
    pub database_url: Option<String>,
    /// File holding the DBOS system database URL (one line), so the password stays out of argv
    #[arg(long, value_name = "FILE", conflicts_with = "no_drain_check")]
    pub database_url_file: Option<std::path::PathBuf>,
    #[command(flatten)]
    pub conductor: ConductorSourceArgs,
    /// Retire without checking the database; workflows still in flight on VERSION are stranded
    #[arg(long, conflicts_with = "conductor_url")]
    pub no_drain_check: bool,
    /// Also retire the newest version when it is not active (an abandoned `--no-activate` canary), and overwrite generated files edited by hand; never skips the drain check
    #[arg(long)]
    pub force: bool,
    /// Run every check, then write nothing; print which files would change and how
    #[arg(long)]
    pub dry_run: bool,
}

/// DBOS Conductor in place of the system database (`version list|activate`, `retire`), for a
/// database with no route from here: Conductor answers through a connected executor.
#[derive(Debug, Clone, Default, Args)]
pub struct ConductorSourceArgs {
    /// Ask DBOS Conductor (its base URL) instead of the system database, e.g. when the database is private
    #[arg(long, value_name = "URL", conflicts_with_all = ["database_url", "database_url_file"])]
    pub conductor_url: Option<String>,
    /// The Conductor organization (default: `local`, a self-hosted Conductor's)
    #[arg(long, value_name = "ORG", requires = "conductor_url")]
    pub org: Option<String>,
    /// The bearer token for Conductor from a file; else `DBOS_CONDUCTOR_TOKEN`, else a hidden prompt
    #[arg(long, value_name = "FILE", requires = "conductor_url")]
    pub token_file: Option<PathBuf>,
    /// A PEM CA certificate to trust for Conductor's HTTPS
    #[arg(long, value_name = "FILE", requires = "conductor_url")]
    pub ca_file: Option<PathBuf>,
}
#[derive(Clone, Copy, Debug, Default, clap::ValueEnum)]
pub enum KeyTypeArg {
    /// ECDSA P-256
    #[default]
    #[value(name = "ecdsa-p256")]
    EcdsaP256,
    /// RSA 2048, for old clients
    #[value(name = "rsa-2048")]
    Rsa2048,
}

#[derive(Debug, Args)]
pub struct TlsArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Validity in days from now
    #[arg(long, value_name = "N", default_value_t = 365)]
    pub days: u32,
    /// Key type of a newly issued certificate
    #[arg(long, value_enum, default_value = "ecdsa-p256")]
    pub key_type: KeyTypeArg,
    /// Reissue even when the current certificate is valid and covers every host
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum DexCommand {
    /// Add a static user (or, with --force, replace its password); the hash is sealed
    #[command(
        after_help = "Examples:\n  dbos-gitops dex add-user --env prod admin@acme.com                      # hidden prompt, twice\n  dbos-gitops dex add-user --env prod admin@acme.com --password-stdin < pw.txt\n  dbos-gitops dex add-user --env prod admin@acme.com --password-file pw.txt --force"
    )]
    AddUser(DexAddUserArgs),
    /// Remove a static user and its sealed hash
    #[command(after_help = "Example:\n  dbos-gitops dex remove-user --env prod old@acme.com")]
    RemoveUser(DexRemoveUserArgs),
    /// Hash a password from stdin with bcrypt (drop-in for `htpasswd -bnBC 10 "" PW | tr -d ':'`)
    #[command(after_help = "Example:\n  printf %s \"$PW\" | dbos-gitops dex hash")]
    Hash(DexHashArgs),
}

#[derive(Debug, Args)]
pub struct DexAddUserArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The login email (stored lowercase)
    pub email: String,
    /// Display username (default: the part of the email before `@`)
    #[arg(long, value_name = "U")]
    pub username: Option<String>,
    /// Read the password from stdin (one trailing newline is dropped)
    #[arg(long, conflicts_with = "password_file")]
    pub password_stdin: bool,
    /// Read the password from this file (one trailing newline is dropped)
    #[arg(long, value_name = "F")]
    pub password_file: Option<PathBuf>,
    /// bcrypt cost (10 to 14; higher with --allow-high-cost)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub cost: u32,
    /// Allow a bcrypt cost above 14 (each step doubles the time: 20 takes about a minute)
    #[arg(long)]
    pub allow_high_cost: bool,
    /// Replace the password (and username) of an existing user
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Args)]
pub struct DexRemoveUserArgs {
    #[command(flatten)]
    pub env: EnvArg,
    pub email: String,
}

#[derive(Debug, Args)]
pub struct DexHashArgs {
    /// bcrypt cost (10 to 14; higher with --allow-high-cost)
    #[arg(long, value_name = "N", default_value_t = 10)]
    pub cost: u32,
    /// Allow a bcrypt cost above 14 (each step doubles the time: 20 takes about a minute)
    #[arg(long)]
    pub allow_high_cost: bool,
}

// ---- `database` and `conductor` (#22) ----

#[derive(Debug, Subcommand)]
pub enum DatabaseCommand {
    /// Seal postgres-admin, conductor-db and dbos-app-db from one set of parts (new role
    /// passwords) and render the Job that creates the databases and roles on the next sync
    #[command(
        after_help = "Examples:\n  dbos-gitops database init --env prod --host mydb.abc.us-west-2.rds.amazonaws.com   # hidden prompt\n  printf %s \"$PGPASSWORD\" | dbos-gitops database init --env prod --host db.internal --admin-password-stdin"
    )]
    Init(DatabaseInitArgs),
    /// New password for one role: re-seal its secret (URL and verifier) and nothing else
    #[command(after_help = "Example:\n  dbos-gitops database rotate --env prod app")]
    Rotate(DatabaseRotateArgs),
}

#[derive(Debug, Args)]
pub struct DatabaseInitArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// The PostgreSQL server's host name or IP address
    #[arg(long, value_name = "HOST")]
    pub host: String,
    #[arg(long, value_name = "PORT", default_value_t = 5432)]
    pub port: u16,
    /// libpq's `sslmode` of every URL (managed PostgreSQL wants at least `require`)
    #[arg(long, value_name = "MODE", default_value = "require")]
    pub sslmode: String,
    /// The admin role: creates databases and roles, runs `dbos migrate`
    #[arg(long, value_name = "USER", default_value = "postgres")]
    pub admin_user: String,
    /// Read the admin password from stdin (one trailing newline removed)
    #[arg(long, conflicts_with = "admin_password_file")]
    pub admin_password_stdin: bool,
    /// Read the admin password from a file (one trailing newline removed)
    #[arg(long, value_name = "FILE")]
    pub admin_password_file: Option<PathBuf>,
    #[arg(long, value_name = "NAME", default_value = "dbos_conductor")]
    pub conductor_database: String,
    /// The app's system database
    #[arg(long, value_name = "NAME", default_value = "dbos_app")]
    pub app_database: String,
    #[arg(long, value_name = "NAME", default_value = "dbos_conductor_role")]
    pub conductor_role: String,
    /// The app's restricted role (default: env.yaml's `app.migrate.app-role`, which must agree)
    #[arg(long, value_name = "NAME")]
    pub app_role: Option<String>,
}

#[derive(Debug, Args)]
pub struct DatabaseRotateArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Whose password: Conductor's role or the app's
    #[arg(value_enum)]
    pub role: DatabaseRoleArg,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum DatabaseRoleArg {
    Conductor,
    App,
}

#[derive(Debug, Subcommand)]
pub enum ConductorCommand {
    /// Register the app (env.yaml's `app.name`) and seal a new API key for it as conductor-api-key
    #[command(
        after_help = "Examples:\n  dbos-gitops conductor register --env prod --conductor-url https://conductor.dbos.acme.com   # hidden prompt for the token\n  DBOS_CONDUCTOR_TOKEN=... dbos-gitops conductor register --env prod --conductor-url ... --rotate\n\nExit status: 0 registered, 1 refused (a key exists: pass --rotate), 2 could not run."
    )]
    Register(ConductorRegisterArgs),
}

#[derive(Debug, Args)]
pub struct ConductorRegisterArgs {
    #[command(flatten)]
    pub env: EnvArg,
    /// Conductor's base URL, e.g. https://conductor.dbos.acme.com
    #[arg(long, value_name = "URL")]
    pub conductor_url: String,
    /// The organization (default: `local`, a self-hosted Conductor's)
    #[arg(long, value_name = "ORG")]
    pub org: Option<String>,
    /// The caller's bearer token (a user JWT or an admin API key) from a file; else
    /// `DBOS_CONDUCTOR_TOKEN`, else a hidden prompt
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A PEM CA certificate to trust for Conductor's HTTPS (e.g. the env's self-signed `tls.crt`)
    #[arg(long, value_name = "FILE")]
    pub ca_file: Option<PathBuf>,
    /// Replace the existing key: create a new one, seal it, then delete the old one
    #[arg(long)]
    pub rotate: bool,
}
