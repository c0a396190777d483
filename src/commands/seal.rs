//! `seal`: kubeseal-compatible sealing, natively. Without an environment it is a drop-in for
//! `kubeseal` with `--cert` (or `SEALED_SECRETS_CERT`): the flags below are kubeseal's
//! (cmd/kubeseal/main.go of bitnami-labs/sealed-secrets binds them with pflag: `-o/--format`
//! json by default, `-w/--sealed-secret-file` whose .yaml/.yml extension selects YAML,
//! `-f/--secret-file`, `--raw` with one `--from-file` or stdin, `--name`, `--scope`, the
//! kubectl `-n/--namespace`, and `SEALED_SECRETS_<FLAG>` variables through pkg/pflagenv).
//! With `--env` the result is stored in the environment. A flag that does not apply to the
//! mode in use is refused (exit 2) with the reason, never ignored.

use std::io::IsTerminal as _;
use std::path::{Path, PathBuf};

use dbos_gitops_seal::{Scope, SealOptions, SealedSecret, SecretInput};
use serde_json::Value;

use crate::cli::{OutputFormat, SealArgs};
use crate::error::Error;
use crate::repo::fs;
use crate::secret_store::{self, seal_error};

use super::context::Context;

/// kubeseal's variable for `--cert` (pflagenv: the prefix, then the flag name upper-cased).
const CERT_VARIABLE: &str = crate::env_vars::SEALED_SECRETS_CERT.name;

pub fn seal(context: &Context, arguments: SealArgs) -> Result<i32, Error> {
    if let Some((flag, reason)) = arguments.kubeseal_only.refusal() {
        return Err(refused(flag, reason));
    }
    let scope = arguments
        .scope
        .as_deref()
        .map(|text| {
            text.parse::<Scope>()
                .map_err(|error| seal_error("--scope: ", error.hint(), error))
        })
        .transpose()?;
    let Some(cert_path) = cert_path(&arguments)? else {
        refuse_without_cert(&arguments)?;
        let input = read_inputs(&arguments)?;
        return seal_into_env(context, &arguments, scope, &input);
    };
    refuse_with_cert(&arguments)?;
    refuse_unbound_names(&arguments, scope)?;
    let cert = secret_store::load_cert_file(&cert_path, &cert_path.display().to_string())?;
    if arguments.raw {
        return seal_raw(&arguments, &cert, scope.unwrap_or_default());
    }
    let inputs = read_inputs(&arguments)?;
    seal_standalone(&arguments, &cert, scope, &inputs)
}

/// A flag refused in this mode: exit 2, what and why.
fn refused(flag: &str, reason: &str) -> Error {
    Error::input(format!("`{flag}` is refused: {reason}"))
}

/// `--cert`, else `SEALED_SECRETS_CERT` when no `--env` selects an environment (the env's
/// own `sealing-cert.pem` is the one to seal with then).
fn cert_path(arguments: &SealArgs) -> Result<Option<PathBuf>, Error> {
    if let Some(path) = &arguments.cert {
        if arguments.env.name.is_some() {
            return Err(refused(
                "--cert",
                "`--env` seals with the environment's own sealing-cert.pem",
            )
            .hint("drop `--cert` to store in the environment, or drop `--env` to print a SealedSecret like kubeseal"));
        }
        return Ok(Some(path.clone()));
    }
    if arguments.env.name.is_some() {
        return Ok(None);
    }
    Ok(crate::env_vars::get_non_empty(crate::env_vars::SEALED_SECRETS_CERT).map(PathBuf::from))
}

/// The environment mode (no certificate): kubeseal's output flags have nothing to act on.
fn refuse_without_cert(arguments: &SealArgs) -> Result<(), Error> {
    let stored =
        "with an environment the SealedSecret is stored (as YAML) in environments/NAME/secrets/";
    let checks: [(bool, &str, &str); 6] = [
        (arguments.format.is_some(), "-o/--format", stored),
        (arguments.sealed_secret_file.is_some(), "-w/--sealed-secret-file", stored),
        (arguments.merge_into.is_some(), "--merge-into", "with an environment `seal` already merges key by key into the stored SealedSecret"),
        (arguments.raw, "--raw", "a bare ciphertext is sealed for a certificate; to set one key of an environment's secret use `dbos-gitops secrets set`"),
        (!arguments.from_file.is_empty(), "--from-file", "it names the value of `--raw`, which needs `--cert`"),
        (arguments.name.is_some(), "--name", "with an environment the name is the input's `metadata.name`"),
    ];
    match checks.into_iter().find(|(given, _, _)| *given) {
        Some((_, flag, reason)) => Err(refused(flag, reason).hint(format!(
            "pass `--cert pub-cert.pem` (or set `{CERT_VARIABLE}`) to seal without an environment"
        ))),
        None => Ok(()),
    }
}

/// The kubeseal mode (a certificate): the flags of the environment mode, and the combinations
/// kubeseal itself ignores, are refused.
fn refuse_with_cert(arguments: &SealArgs) -> Result<(), Error> {
    let raw = arguments.raw;
    let env_only = "it applies to `--env` (stable re-seal and the repository); without an environment only stdout or `-w` is written";
    let checks: [(bool, &str, &str); 10] = [
        (arguments.dry_run, "--dry-run", env_only),
        (arguments.mac_key_file.is_some(), "--mac-key-file", env_only),
        (!raw && !arguments.from_file.is_empty(), "--from-file", "`--from-file` requires `--raw` (as in kubeseal); pipe a Secret manifest or name it with `-f FILE`"),
        (raw && arguments.from_file.len() > 1, "--from-file", "`--raw` seals one value: give one `--from-file`"),
        (raw && arguments.merge_into.is_some(), "--merge-into", "`--raw` prints one bare ciphertext, there is no manifest to merge (kubeseal would merge and ignore `--raw`)"),
        (raw && arguments.format.is_some(), "-o/--format", "`--raw` prints a bare base64 ciphertext, not a manifest"),
        (raw && arguments.file.is_some(), "-f/--secret-file", "`--raw` reads its value from `--from-file FILE` or stdin (kubeseal ignores `-f` there)"),
        (raw && arguments.allow_empty_data, "--allow-empty-data", "it is about Secret manifests, `--raw` seals one value"),
        (arguments.merge_into.is_some() && arguments.sealed_secret_file.is_some(), "-w/--sealed-secret-file", "`--merge-into FILE` rewrites FILE in place"),
        (matches!(arguments.format, Some(OutputFormat::Json)) && arguments.sealed_secret_file.as_deref().is_some_and(yaml_extension), "-o json", "`-w` names a .yaml/.yml file, which kubeseal always writes as YAML"),
    ];
    match checks.into_iter().find(|(given, _, _)| *given) {
        Some((_, flag, reason)) => Err(refused(flag, reason)),
        None => Ok(()),
    }
}

/// `--name` and `-n` where they would name nothing the ciphertext is bound to. kubeseal's
/// `--name` (cmd/kubeseal/main.go: "required with --raw and default (strict) scope") is the
/// name a `--raw` value is sealed for; without `--raw` kubeseal's `Seal` overwrites each input
/// Secret's name with it (and `--merge-into` drops it for the file's name): refused here, the
/// name is the manifest's. With `--raw`, `EncryptSecretItem` builds the label from the scope,
/// so a namespace-wide value ignores the name and a cluster-wide one ignores both.
fn refuse_unbound_names(arguments: &SealArgs, scope: Option<Scope>) -> Result<(), Error> {
    let scope = scope.unwrap_or_default();
    let raw = arguments.raw;
    let given_name = arguments.name.is_some();
    if !raw && given_name {
        return Err(refused(
            "--name",
            "without `--raw` each SealedSecret is named by its input Secret's `metadata.name` (kubeseal would rename the input, or ignore `--name` with `--merge-into`)",
        )
        .hint("set the name in the manifest (`kubectl create secret generic NAME ...`), or add `--raw` to seal one value for NAME"));
    }
    if raw && given_name && scope != Scope::Strict {
        return Err(refused(
            "--name",
            &format!("a `--raw` value sealed `{scope}` is not bound to a secret name (kubeseal ignores `--name` there)"),
        )
        .hint("drop `--name`, or seal with `--scope strict` to bind the value to NAME and its namespace"));
    }
    if raw && arguments.namespace.is_some() && scope == Scope::ClusterWide {
        return Err(refused(
            "-n/--namespace",
            "a `--raw` value sealed `cluster-wide` is bound to no namespace (kubeseal ignores `--namespace` there)",
        )
        .hint("drop `-n`, or seal with `--scope namespace-wide` to bind the value to NS"));
    }
    Ok(())
}

fn yaml_extension(path: &Path) -> bool {
    matches!(
        path.extension().and_then(|extension| extension.to_str()),
        Some("yaml" | "yml")
    )
}

/// `-f FILE` (`-` is stdin) or stdin; kubeseal's hint when stdin is a terminal.
fn input_file(file: Option<&Path>) -> Option<&Path> {
    file.filter(|path| path.as_os_str() != "-")
}

fn read_inputs(arguments: &SealArgs) -> Result<Vec<SecretInput>, Error> {
    let file = input_file(arguments.file.as_deref());
    let input_name = file.map_or_else(|| "stdin".to_string(), |path| path.display().to_string());
    if file.is_none() && std::io::stdin().is_terminal() {
        crate::term::note("(tty detected: expecting json/yaml k8s resource in stdin)");
    }
    let text = read_input(file)?;
    parse_secrets(&input_name, &text)
}

fn seal_standalone(
    arguments: &SealArgs,
    cert: &dbos_gitops_seal::SealingCert,
    scope: Option<Scope>,
    inputs: &[SecretInput],
) -> Result<i32, Error> {
    let options = SealOptions {
        scope,
        namespace: arguments.namespace.clone(),
        allow_empty_data: arguments.allow_empty_data,
    };
    let mut rng = rand::rngs::OsRng;
    let mut sealed = Vec::new();
    for input in inputs {
        let one =
            dbos_gitops_seal::seal_secret(&mut rng, cert, input, &options).map_err(|error| {
                seal_error(&format!("secret `{}`: ", input.name), error.hint(), error)
            })?;
        sealed.push(one);
    }
    if let Some(target) = &arguments.merge_into {
        return merge_into(target, sealed, arguments.format);
    }
    // What Kubernetes would refuse is refused here, before anything is printed or written.
    let output = arguments.sealed_secret_file.as_deref();
    let shown = output.map_or_else(
        || "stdout".to_string(),
        |path| format!("`{}`", path.display()),
    );
    for one in &sealed {
        crate::limits::check_sealed_size(&shown, one)?;
    }
    let format = arguments.format.unwrap_or(match output {
        Some(path) if yaml_extension(path) => OutputFormat::Yaml,
        _ => OutputFormat::Json,
    });
    let values: Vec<Value> = sealed.iter().map(SealedSecret::to_value).collect();
    write_output(output, &render_kubeseal(&values, format))
}

/// kubeseal's stream: JSON objects indented by two spaces, each followed by a newline (the
/// apimachinery pretty JSON serializer, then a newline); YAML documents each opened by `---`.
pub fn render_kubeseal(values: &[Value], format: OutputFormat) -> String {
    match format {
        OutputFormat::Json => render(values, format),
        OutputFormat::Yaml => values
            .iter()
            .map(|value| format!("---\n{}", crate::yaml::emit(value)))
            .collect(),
    }
}

fn write_output(output: Option<&Path>, text: &str) -> Result<i32, Error> {
    match output {
        Some(path) => fs::write_atomic(path, text.as_bytes())?,
        None => print!("{text}"),
    }
    Ok(0)
}

fn seal_into_env(
    context: &Context,
    arguments: &SealArgs,
    scope: Option<Scope>,
    inputs: &[SecretInput],
) -> Result<i32, Error> {
    let root = context.root().map_err(|error| {
        error.hint(format!("pass `--cert pub-cert.pem` (or set `{CERT_VARIABLE}`) to seal without a dbos-gitops repository"))
    })?;
    // A dry run takes no lock and finishes no interrupted write: it must leave the tree as it is.
    let mode = if arguments.dry_run {
        crate::workspace::Mode::Read
    } else {
        crate::workspace::Mode::Write
    };
    let mut ws = crate::workspace::Workspace::open_env(&root, arguments.env.as_deref(), mode)?;
    let env_name = ws.selected()?.name.clone();
    if let Some(namespace) = &arguments.namespace {
        let env_namespace = &ws.selected()?.spec.namespace;
        if namespace != env_namespace.as_str() {
            return Err(Error::input(format!(
                "`--namespace {namespace}` contradicts environment `{env_name}`, which deploys to `{env_namespace}`"
            )));
        }
    }
    let mac = crate::seal_mac::load(&root, arguments.mac_key_file.as_deref())?;
    let stored = secret_store::store(
        &mut ws,
        &env_name,
        inputs,
        scope,
        arguments.allow_empty_data,
        &mac,
    )?;
    finish(&mut ws, &env_name, &stored, arguments.dry_run)
}

/// Compiles the env with the secrets `ws` holds, commits the plan and reports each secret,
/// or (a dry run) reports what committing would do.
pub fn finish(
    ws: &mut crate::workspace::Workspace,
    env_name: &crate::declare::EnvName,
    stored: &[secret_store::Stored],
    dry_run: bool,
) -> Result<i32, Error> {
    let scope = crate::workspace::Scope::Env(env_name);
    let plan = ws.compile(scope, crate::repo::WriteOptions::default())?;
    if !dry_run {
        ws.commit(&plan)?;
    }
    for stored in stored {
        report_stored(stored, dry_run);
    }
    if dry_run {
        let generated: Vec<&str> = plan.stale().map(|change| change.path.as_str()).collect();
        if !generated.is_empty() {
            crate::term::summary(&format!(
                "would update {}: {}",
                plural(generated.len(), "generated file"),
                generated.join(", ")
            ));
        }
        crate::term::summary("dry run: nothing was written");
    }
    Ok(0)
}

fn plural(count: usize, noun: &str) -> String {
    format!("{count} {noun}{}", if count == 1 { "" } else { "s" })
}

/// Key names past this many are summarized as a count, a few names and "and N more" (all of
/// them with `--verbose`).
const LISTED_KEYS: usize = 8;
const SHOWN_OF_MANY: usize = 5;

fn key_list(keys: &[String]) -> String {
    let quoted = |keys: &[String]| {
        keys.iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if keys.len() <= LISTED_KEYS || crate::term::verbose() {
        return quoted(keys);
    }
    format!(
        "{} ({} and {} more)",
        plural(keys.len(), "key"),
        quoted(&keys[..SHOWN_OF_MANY]),
        keys.len() - SHOWN_OF_MANY
    )
}

pub fn print_stored(stored: &secret_store::Stored) {
    report_stored(stored, false);
}

fn report_stored(stored: &secret_store::Stored, dry_run: bool) {
    if let Some(note) = &stored.note {
        crate::term::note(note);
    }
    let (unchanged_verb, sealed_verb) = if dry_run {
        ("would leave unchanged", "would seal")
    } else {
        ("unchanged", "sealed")
    };
    if stored.added.is_empty() && stored.replaced.is_empty() && stored.changed.is_empty() {
        let plural = if stored.total_keys == 1 { "" } else { "s" };
        crate::term::summary(&format!(
            "{unchanged_verb} {} ({} key{plural})",
            stored.path, stored.total_keys
        ));
        return;
    }
    let mut kept: Vec<String> = stored
        .kept
        .iter()
        .chain(&stored.unchanged)
        .cloned()
        .collect();
    kept.sort();
    let parts: Vec<String> = [
        ("added", &stored.added),
        ("changed", &stored.changed),
        ("replaced", &stored.replaced),
        ("kept", &kept),
    ]
    .into_iter()
    .filter(|(_, keys)| !keys.is_empty())
    .map(|(verb, keys)| format!("{verb} {}", key_list(keys)))
    .collect();
    crate::term::summary(&format!(
        "{sealed_verb} {}: {}",
        stored.path,
        parts.join(", ")
    ));
}

/// `--raw`: one value from `--from-file [KEY=]FILE` (kubeseal's `ParseFromFile` splits at the
/// first `=`) or stdin, printed as bare base64 like kubeseal's `EncryptSecretItem`.
fn seal_raw(
    arguments: &SealArgs,
    cert: &dbos_gitops_seal::SealingCert,
    scope: Scope,
) -> Result<i32, Error> {
    let from_file = arguments
        .from_file
        .first()
        .map(|spec| PathBuf::from(spec.split_once('=').map_or(spec.as_str(), |(_, path)| path)));
    if from_file.is_none() && std::io::stdin().is_terminal() {
        crate::term::note("(tty detected: expecting a secret to encrypt in stdin)");
    }
    let value = zeroize::Zeroizing::new(read_bytes(from_file.as_deref())?);
    let limit = crate::limits::MAX_SECRET_DATA_BYTES;
    if value.len() > limit {
        return Err(Error::input(format!(
            "the value is {}, over the {} of data the Kubernetes API server accepts in one Secret (MaxSecretSize); nothing was written",
            crate::limits::shown_bytes(value.len()),
            crate::limits::shown_bytes(limit)
        ))
        .hint("keep large files out of Secrets (mount them from a volume or an image)"));
    }
    let mut rng = rand::rngs::OsRng;
    let sealed = dbos_gitops_seal::seal_raw(
        &mut rng,
        cert,
        &value,
        scope,
        arguments.namespace.as_deref(),
        arguments.name.as_deref(),
    )
    .map_err(|error| seal_error("", error.hint(), error))?;
    write_output(arguments.sealed_secret_file.as_deref(), &sealed)
}

/// Merges into `target` in place; written in `-o`'s format when given, else in the format the
/// file is in (kubeseal would rewrite it in its default, JSON).
fn merge_into(
    target: &Path,
    sealed: Vec<SealedSecret>,
    format: Option<OutputFormat>,
) -> Result<i32, Error> {
    let shown = target.display().to_string();
    let bytes = crate::limits::read_bounded(
        target,
        crate::limits::MAX_MANIFEST_BYTES,
        "a SealedSecret to merge into",
    )?;
    let text = fs::utf8(target, bytes.to_vec())?;
    let documents = crate::yaml::parse_documents(target, &text)?;
    let [document] = documents.as_slice() else {
        return Err(Error::input(format!(
            "`{shown}` should hold exactly one SealedSecret to merge into, it holds {}",
            documents.len()
        )));
    };
    let mut existing = SealedSecret::from_value(document)
        .map_err(|error| seal_error(&format!("`{shown}`: "), error.hint(), error))?;
    for newer in sealed {
        existing.merge(newer).map_err(|error| {
            seal_error(
                &format!("cannot merge into `{shown}`: "),
                error.hint(),
                error,
            )
        })?;
    }
    crate::limits::check_sealed_size(&format!("`{shown}`"), &existing)?;
    let format = format.unwrap_or(if text.trim_start().starts_with('{') {
        OutputFormat::Json
    } else {
        OutputFormat::Yaml
    });
    fs::write_atomic(target, render(&[existing.to_value()], format).as_bytes())?;
    Ok(0)
}

pub fn render(values: &[Value], format: OutputFormat) -> String {
    match format {
        OutputFormat::Yaml => crate::yaml::emit_documents(values),
        OutputFormat::Json => values
            .iter()
            .map(|value| serde_json::to_string_pretty(value).expect("json") + "\n")
            .collect(),
    }
}

fn read_bytes(file: Option<&Path>) -> Result<zeroize::Zeroizing<Vec<u8>>, Error> {
    secret_store::read_plaintext(file)
}

fn read_input(file: Option<&Path>) -> Result<zeroize::Zeroizing<String>, Error> {
    let bytes = zeroize::Zeroizing::new(read_bytes(file)?);
    let text = std::str::from_utf8(&bytes).map_err(|_| {
        Error::input("the input is not UTF-8 text: expected Secret manifests in YAML or JSON")
    })?;
    Ok(zeroize::Zeroizing::new(text.to_string()))
}

/// Secret documents from YAML or JSON; a `v1 List` is unpacked.
pub fn parse_secrets(source: &str, text: &str) -> Result<Vec<SecretInput>, Error> {
    secret_store::parse_secret_inputs(source, text)
}
