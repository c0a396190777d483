//! `secrets set` (seal one key of a known secret, from a hidden prompt, stdin or a file) and
//! `secrets list` (the env's inventory: sealed, missing, which certificate sealed it).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;

use serde_json::json;
use zeroize::Zeroizing;

use dbos_gitops_seal::SealedSecret;

use crate::cli::{ListFormat, SecretsListArgs, SecretsSetArgs};
use crate::declare::EnvName;
use crate::error::Error;
use crate::inventory;
use crate::secret_store;
use crate::workspace::{Mode, Workspace};

use super::context::Context;

pub fn set(context: &Context, arguments: SecretsSetArgs) -> Result<i32, Error> {
    // Before the name reaches a path or any file is read.
    crate::limits::check_secret_name(&arguments.secret).map_err(Error::input)?;
    crate::limits::check_secret_key(&arguments.key).map_err(Error::input)?;
    // A dry run takes no lock and finishes no interrupted write: it leaves the tree as it is.
    let mode = if arguments.dry_run {
        Mode::Read
    } else {
        Mode::Write
    };
    let mut ws = context.workspace(arguments.env.as_deref(), mode)?;
    let env_name = ws.selected()?.name.clone();
    let env = &crate::workspace::resolve_env(ws.loaded(), env_name.as_str())?;
    let known = inventory::secret_names(env);
    let existing = secret_store::sealed(&ws, &env_name, &arguments.secret)?;
    if !known.contains(&arguments.secret.as_str()) && existing.is_none() {
        return Err(Error::input(format!(
            "environment `{env_name}` does not use a secret `{}`",
            arguments.secret
        ))
        .hint(format!(
            "known secrets: {}; for another secret pipe a manifest into `dbos-gitops seal --env {env_name}`",
            known.join(", ")
        )));
    }
    let keys = inventory::keys_of(env, &arguments.secret);
    if !keys.is_empty() && !keys.contains(&arguments.key) {
        return Err(Error::input(format!(
            "secret `{}` has no key `{}` in environment `{env_name}`",
            arguments.secret, arguments.key
        ))
        .hint(format!("its keys: {}", keys.join(", "))));
    }
    let description = inventory::references(env)
        .into_iter()
        .find(|reference| reference.secret == arguments.secret && reference.key == arguments.key)
        .map(|reference| reference.description);
    let value = read_value(&arguments, description)?;
    let mut input = dbos_gitops_seal::SecretInput {
        name: arguments.secret.clone(),
        ..Default::default()
    };
    input.data.insert(arguments.key.clone(), value);
    let mac = crate::seal_mac::load(ws.root(), arguments.mac_key_file.as_deref())?;
    let stored = secret_store::store(&mut ws, &env_name, &[input], None, true, &mac)?;
    super::seal::finish(&mut ws, &env_name, &stored, arguments.dry_run)
}

/// The value from `--from-file` (exact bytes), `--from-stdin` or a piped stdin (one trailing
/// newline removed), or a hidden prompt when stdin is a terminal.
fn read_value(
    arguments: &SecretsSetArgs,
    description: Option<&str>,
) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(path) = &arguments.from_file {
        let value = secret_store::read_plaintext(Some(path))?;
        if value.is_empty() {
            return Err(Error::input(format!("`{}` is empty", path.display()))
                .hint("a secret value needs at least one byte"));
        }
        return Ok(value);
    }
    let mut value = if !arguments.from_stdin && std::io::stdin().is_terminal() {
        let what = description
            .map(|text| format!(", {text}"))
            .unwrap_or_default();
        let prompt = format!(
            "value of `{}` / `{}`{what} (hidden): ",
            arguments.secret, arguments.key
        );
        Zeroizing::new(
            rpassword::prompt_password(prompt)
                .map_err(|source| Error::io("the terminal", "read a hidden value from", source))?
                .into_bytes(),
        )
    } else {
        secret_store::read_plaintext(None)?
    };
    if value.ends_with(b"\n") {
        value.pop();
        if value.ends_with(b"\r") {
            value.pop();
        }
    }
    if value.is_empty() {
        return Err(Error::input("the value is empty").hint(
            "pass it on stdin (`printf %s \"$VALUE\" | dbos-gitops secrets set ...`), with `--from-file`, or at the prompt",
        ));
    }
    Ok(value)
}

struct Row {
    secret: String,
    key: String,
    status: &'static str,
    cert: String,
    used_by: String,
}

/// One referenced secret key and everything that uses it; an empty key stands for free-form
/// keys (Dex users).
struct Referenced {
    secret: String,
    key: String,
    users: Vec<String>,
}

pub fn list(context: &Context, arguments: SecretsListArgs) -> Result<i32, Error> {
    let ws = context.workspace(arguments.env.as_deref(), Mode::Read)?;
    let env_input = ws.selected()?.clone();
    let env_name = env_input.name.clone();
    let model = crate::model::resolve(ws.spec(), vec![env_input.clone()])?;
    let env = &model.environments[0];
    let current = secret_store::cert(&ws, &env_name)
        .ok()
        .map(|cert| cert.fingerprint());
    let sealed_files = read_sealed_files(&ws, &env_name, &env_input.secret_files)?;
    let referenced = group_references(env);
    let cert_of = |sealed: &SealedSecret| cert_label(sealed, current.as_deref());
    let mut rows = referenced_rows(&referenced, &sealed_files, &cert_of);
    rows.extend(unreferenced_rows(&referenced, &sealed_files, &cert_of));
    match arguments.format {
        ListFormat::Json => print_json(&env_name, current.as_deref(), &rows),
        ListFormat::Text => print_text(&rows),
    }
    Ok(0)
}

/// The env's SealedSecrets on disk, by secret name.
fn read_sealed_files(
    ws: &Workspace,
    env_name: &EnvName,
    secret_files: &[String],
) -> Result<BTreeMap<String, SealedSecret>, Error> {
    let mut sealed_files = BTreeMap::new();
    for file in secret_files {
        let name = file
            .trim_end_matches(".yaml")
            .trim_end_matches(".yml")
            .to_string();
        if let Some(sealed) = secret_store::sealed(ws, env_name, &name)? {
            sealed_files.insert(name, sealed);
        }
    }
    Ok(sealed_files)
}

/// Which certificate sealed a secret: `current`, `other (<fingerprint prefix>)` or `unknown`.
fn cert_label(sealed: &SealedSecret, current: Option<&str>) -> String {
    match (
        sealed.annotations.get(secret_store::FINGERPRINT_ANNOTATION),
        current,
    ) {
        (Some(fingerprint), Some(current)) if fingerprint == current => "current".to_string(),
        (Some(fingerprint), _) => {
            format!("other ({})", &fingerprint[..fingerprint.len().min(12)])
        }
        (None, _) => "unknown".to_string(),
    }
}

/// The env's secret references grouped by (secret, key), in first-use order.
fn group_references(env: &crate::model::Environment) -> Vec<Referenced> {
    let mut grouped: Vec<Referenced> = Vec::new();
    for reference in inventory::references(env) {
        match grouped
            .iter_mut()
            .find(|group| group.secret == reference.secret && group.key == reference.key)
        {
            Some(group) => group.users.push(reference.used_by),
            None => grouped.push(Referenced {
                secret: reference.secret.to_string(),
                key: reference.key.to_string(),
                users: vec![reference.used_by],
            }),
        }
    }
    grouped
}

/// One row per referenced key, `sealed` or `missing`; free-form keys (Dex users) give one row
/// per sealed key, or one `missing` row.
fn referenced_rows(
    referenced: &[Referenced],
    sealed_files: &BTreeMap<String, SealedSecret>,
    cert_of: &dyn Fn(&SealedSecret) -> String,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for Referenced { secret, key, users } in referenced {
        let sealed = sealed_files.get(secret);
        let row = |key: &str, status, cert| Row {
            secret: secret.clone(),
            key: key.to_string(),
            status,
            cert,
            used_by: users.join(", "),
        };
        if key.is_empty() {
            match sealed.filter(|sealed| !sealed.encrypted_data.is_empty()) {
                Some(sealed) => {
                    for present in sealed.encrypted_data.keys() {
                        rows.push(row(present, "sealed", cert_of(sealed)));
                    }
                }
                None => rows.push(row("*", "missing", "-".into())),
            }
            continue;
        }
        let (status, cert) = match sealed {
            Some(sealed) if sealed.encrypted_data.contains_key(key) => ("sealed", cert_of(sealed)),
            _ => ("missing", "-".to_string()),
        };
        rows.push(row(key, status, cert));
    }
    rows
}

/// One `unreferenced` row per sealed key that nothing in the env uses.
fn unreferenced_rows(
    referenced: &[Referenced],
    sealed_files: &BTreeMap<String, SealedSecret>,
    cert_of: &dyn Fn(&SealedSecret) -> String,
) -> Vec<Row> {
    let mut rows = Vec::new();
    for (name, sealed) in sealed_files {
        let keys: Vec<&str> = referenced
            .iter()
            .filter(|group| &group.secret == name)
            .map(|group| group.key.as_str())
            .collect();
        for key in sealed.encrypted_data.keys() {
            if !keys.contains(&key.as_str()) && !keys.contains(&"") {
                rows.push(Row {
                    secret: name.clone(),
                    key: key.clone(),
                    status: "unreferenced",
                    cert: cert_of(sealed),
                    used_by: "-".into(),
                });
            }
        }
    }
    rows
}

/// `--format json`: the environment, its sealing certificate and the rows.
fn print_json(env_name: &EnvName, current: Option<&str>, rows: &[Row]) {
    let entries: Vec<_> = rows
        .iter()
        .map(|row| {
            json!({ "secret": row.secret, "key": row.key, "status": row.status,
                    "cert": row.cert, "usedBy": row.used_by })
        })
        .collect();
    let document = json!({
        "environment": env_name.as_str(),
        "sealingCertSha256": current,
        "secrets": entries,
    });
    // A `serde_json::Value` always serialises; `Display` with `#` is its pretty form.
    println!("{document:#}");
}

/// The text table: a header, then one line per row.
fn print_text(rows: &[Row]) {
    let header = ["SECRET", "KEY", "STATUS", "CERT", "USED BY"].map(String::from);
    let table: Vec<[String; 5]> = std::iter::once(header)
        .chain(rows.iter().map(|row| {
            [
                row.secret.clone(),
                row.key.clone(),
                row.status.to_string(),
                row.cert.clone(),
                row.used_by.clone(),
            ]
        }))
        .collect();
    print!("{}", crate::table::format_table(&table));
}
