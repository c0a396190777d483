//! `seal`: kubeseal-compatible sealing, natively. Standalone with `--cert` (stdout, `-o`,
//! `--merge-into`, `--raw`), or into an environment with `--env`.

use std::path::Path;

use dbos_gitops_seal::{Scope, SealOptions, SealedSecret, SecretInput};
use serde_json::Value;

use crate::cli::{OutputFormat, SealArgs};
use crate::error::Error;
use crate::repo::fs;
use crate::secret_store::{self, seal_error};

use super::Context;

pub fn seal(context: &Context, arguments: SealArgs) -> Result<i32, Error> {
    let scope = arguments
        .scope
        .as_deref()
        .map(|text| {
            text.parse::<Scope>()
                .map_err(|error| seal_error("--scope: ", error.hint(), error))
        })
        .transpose()?;
    if arguments.raw {
        return seal_raw(&arguments, scope.unwrap_or_default());
    }
    let input_name = arguments
        .file
        .as_ref()
        .map(|path| path.display().to_string())
        .unwrap_or_else(|| "stdin".to_string());
    let text = read_input(arguments.file.as_deref())?;
    let inputs = parse_secrets(&input_name, &text)?;

    if arguments.cert.is_none() {
        return seal_into_env(context, &arguments, scope, &inputs);
    }
    let cert_path = arguments.cert.as_ref().expect("checked");
    let cert = secret_store::load_cert_file(cert_path, &cert_path.display().to_string())?;
    let options = SealOptions {
        scope,
        namespace: arguments.namespace.clone(),
        allow_empty_data: arguments.allow_empty_data,
    };
    let mut rng = rand::rngs::OsRng;
    let mut sealed = Vec::new();
    for input in &inputs {
        let one =
            dbos_gitops_seal::seal_secret(&mut rng, &cert, input, &options).map_err(|error| {
                seal_error(&format!("secret `{}`: ", input.name), error.hint(), error)
            })?;
        sealed.push(one);
    }

    if let Some(target) = &arguments.merge_into {
        return merge_into(target, sealed);
    }
    // What Kubernetes would refuse is refused here, before anything is printed or written.
    let shown = arguments.output.as_ref().map_or_else(
        || "stdout".to_string(),
        |path| format!("`{}`", path.display()),
    );
    for one in &sealed {
        crate::limits::check_sealed_size(&shown, one)?;
    }
    let format = arguments.format.unwrap_or(OutputFormat::Yaml);
    let text = render(
        &sealed
            .iter()
            .map(SealedSecret::to_value)
            .collect::<Vec<_>>(),
        format,
    );
    match &arguments.output {
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
    if arguments.merge_into.is_some() || arguments.output.is_some() || arguments.format.is_some() {
        return Err(Error::input(
            "`--merge-into`, `-o` and `--format` need `--cert`: with an environment the result is stored in it",
        )
        .hint("pass `--cert pub-cert.pem` to seal without an environment"));
    }
    let root = context.root().map_err(|error| {
        error.hint("pass `--cert pub-cert.pem` to seal without a dbos-gitops repository")
    })?;
    let invocation = super::Invocation::open_to_write(&root, arguments.env.as_deref())?;
    let (mut loaded, env_name) = (invocation.loaded, invocation.env);
    if let Some(namespace) = &arguments.namespace {
        let env_namespace = loaded
            .select_env(Some(env_name.as_str()))?
            .spec
            .namespace
            .clone();
        if namespace != env_namespace.as_str() {
            return Err(Error::input(format!(
                "`--namespace {namespace}` contradicts environment `{env_name}`, which deploys to `{env_namespace}`"
            )));
        }
    }
    let mac = crate::seal_mac::load(&root, arguments.mac_key_file.as_deref())?;
    let (plan, stored) = secret_store::seal_into_env_with(
        &mut loaded,
        &env_name,
        inputs,
        scope,
        arguments.allow_empty_data,
        &mac,
    )?;
    plan.apply()?;
    for stored in &stored {
        print_stored(stored);
    }
    Ok(0)
}

pub fn print_stored(stored: &secret_store::Stored) {
    let list = |keys: &[String]| {
        keys.iter()
            .map(|key| format!("`{key}`"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(note) = &stored.note {
        eprintln!("{note}");
    }
    if stored.added.is_empty() && stored.replaced.is_empty() && stored.changed.is_empty() {
        let plural = if stored.total_keys == 1 { "" } else { "s" };
        println!(
            "unchanged {} ({} key{plural})",
            stored.path, stored.total_keys
        );
        return;
    }
    let mut kept: Vec<String> = stored
        .kept
        .iter()
        .chain(&stored.unchanged)
        .cloned()
        .collect();
    kept.sort();
    let mut parts = Vec::new();
    if !stored.added.is_empty() {
        parts.push(format!("added {}", list(&stored.added)));
    }
    if !stored.changed.is_empty() {
        parts.push(format!("changed {}", list(&stored.changed)));
    }
    if !stored.replaced.is_empty() {
        parts.push(format!("replaced {}", list(&stored.replaced)));
    }
    if !kept.is_empty() {
        parts.push(format!("kept {}", list(&kept)));
    }
    println!("sealed {}: {}", stored.path, parts.join(", "));
}

fn seal_raw(arguments: &SealArgs, scope: Scope) -> Result<i32, Error> {
    let Some(cert_path) = &arguments.cert else {
        return Err(Error::input("`--raw` needs `--cert`")
            .hint("pass the controller certificate with `--cert pub-cert.pem`"));
    };
    let cert = secret_store::load_cert_file(cert_path, &cert_path.display().to_string())?;
    let value = zeroize::Zeroizing::new(read_bytes(arguments.file.as_deref())?);
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
        &cert,
        &value,
        scope,
        arguments.namespace.as_deref(),
        arguments.name.as_deref(),
    )
    .map_err(|error| seal_error("", error.hint(), error))?;
    match &arguments.output {
        Some(path) => fs::write_atomic(path, sealed.as_bytes())?,
        None => print!("{sealed}"),
    }
    Ok(0)
}

fn merge_into(target: &Path, sealed: Vec<SealedSecret>) -> Result<i32, Error> {
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
    let format = if text.trim_start().starts_with('{') {
        OutputFormat::Json
    } else {
        OutputFormat::Yaml
    };
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
