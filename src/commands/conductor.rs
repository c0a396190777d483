//! `conductor register` (#22): the guide's Console steps (register the application, generate a
//! key, copy it, seal it again over a `placeholder`) through Conductor's API. The key goes from
//! the response, in a zeroizing buffer, straight into the sealer: never printed, never on disk
//! in plaintext. A key already minted under our name is not replaced silently: `--rotate`
//! creates a new one, seals it, and only then deletes the old one.

use std::io::IsTerminal as _;
use std::path::Path;

use dbos_gitops_conductor::{Client, ClientOptions, ConductorError, CreateTokenBody};
use dbos_gitops_seal::SecretInput;
use zeroize::Zeroizing;

use crate::cli::ConductorRegisterArgs;
use crate::declare::EnvName;
use crate::error::Error;
use crate::repo::WriteOptions;
use crate::secret_store;
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

/// The variable holding the caller's token (never a flag value).
pub const TOKEN_VARIABLE: &str = crate::env_vars::CONDUCTOR_TOKEN.name;
/// A self-hosted Conductor without OAuth has one organization (conductor-api.md,
/// "Self-Hosted Differences"); the guide's deployment is that one.
pub const DEFAULT_ORG: &str = "local";
pub const API_KEY_SECRET: &str = "conductor-api-key";
pub const API_KEY_KEY: &str = "api-key";

pub fn register(context: &Context, arguments: ConductorRegisterArgs) -> Result<i32, Error> {
    // The flag is checked before the repository is read (and again by `Access::open`).
    check_name(
        "--org",
        arguments.org.as_deref().unwrap_or(DEFAULT_ORG),
        false,
    )?;
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_name = ws.selected()?.name.clone();
    let env = crate::workspace::resolve_env(ws.loaded(), env_name.as_str())?;
    let app = app_name(&env_name, env.app_name.as_deref())?;
    let access = Access::open(
        &arguments.conductor_url,
        arguments.org.as_deref(),
        arguments.token_file.as_deref(),
        arguments.ca_file.as_deref(),
        Purpose::Register,
    )?;
    let client = Registration {
        client: access.client,
        org: access.org,
        app,
        env: env_name.clone(),
    };
    client.run(&mut ws, arguments.rotate)
}

/// What a Conductor call was for: the permissions a 403 names and what a 409 means.
#[derive(Clone, Copy, Debug)]
pub enum Purpose {
    /// `conductor register`: the application and its API keys.
    Register,
    /// The `--conductor-url` variants of `version` and `retire`: versions, workflows, executors.
    Versions,
}

/// A client of one Conductor organization, opened by the token rules every Conductor command
/// shares: `--token-file`, else `DBOS_CONDUCTOR_TOKEN`, else a hidden prompt on a terminal.
pub struct Access {
    pub client: Client,
    pub org: String,
    /// The base URL as given (it carries no secret: the token travels in a header).
    pub url: String,
    pub purpose: Purpose,
}

impl Access {
    pub fn open(
        url: &str,
        org: Option<&str>,
        token_file: Option<&Path>,
        ca_file: Option<&Path>,
        purpose: Purpose,
    ) -> Result<Access, Error> {
        let org = org.unwrap_or(DEFAULT_ORG).to_string();
        check_name("--org", &org, false)?;
        let ca_pem = match ca_file {
            Some(path) => {
                Some(std::fs::read(path).map_err(|source| Error::io(path, "read", source))?)
            }
            None => None,
        };
        let token = read_token(token_file)?;
        let options = ClientOptions {
            ca_pem,
            timeout: None,
        };
        let client = Client::new(url, token.as_deref().map(String::as_str), &options)
            .map_err(|error| conductor_error(&error, &org, purpose))?;
        Ok(Access {
            client,
            org,
            url: url.trim_end_matches('/').to_string(),
            purpose,
        })
    }

    /// A failed call as an error with its own message per status, after `what` could not be
    /// done; the exit status (1 for a refusal, else 2) and the hint come along.
    pub fn error_while(&self, what: &str, error: &ConductorError) -> Error {
        let failure = conductor_error(error, &self.org, self.purpose);
        let message = format!("{what}: {}", failure.message());
        let wrapped = if failure.exit_code() == 1 {
            Error::refused(message)
        } else {
            Error::input(message)
        };
        match failure.hint_text() {
            Some(hint) => wrapped.hint(hint),
            None => wrapped,
        }
    }
}

/// The environment's `app.name`, which Conductor knows the application by.
pub fn app_name(env_name: &EnvName, declared: Option<&str>) -> Result<String, Error> {
    let Some(app) = declared else {
        return Err(Error::input(format!(
            "environment `{env_name}` has no `app.name`, the application's name in Conductor"
        ))
        .hint(format!(
            "set `app.name` in {} (3 to 30 of `a-z`, `0-9`, `-`, `_`), the name the app's executors report",
            crate::layout::env_file(env_name)
        )));
    };
    check_name("app.name", app, true)?;
    Ok(app.to_string())
}

struct Registration {
    client: Client,
    org: String,
    app: String,
    env: EnvName,
}

impl Registration {
    fn key_name(&self) -> String {
        format!("dbos-gitops-{}-{}", self.env, self.app)
    }

    /// Seals the key into the env and commits it with the regenerated overlay, in one plan.
    fn store(
        &self,
        ws: &mut Workspace,
        inputs: &[SecretInput],
    ) -> Result<Vec<secret_store::Stored>, Error> {
        let mac = crate::seal_mac::load(ws.root(), None)?;
        let stored = secret_store::store(ws, &self.env, inputs, None, false, &mac)?;
        let plan = ws.compile(Scope::Env(&self.env), WriteOptions::default())?;
        ws.commit(&plan)?;
        Ok(stored)
    }

    fn run(&self, ws: &mut Workspace, rotate: bool) -> Result<i32, Error> {
        let fail = |error: ConductorError| conductor_error(&error, &self.org, Purpose::Register);
        self.client
            .register_app(&self.org, &self.app)
            .map_err(fail)?;
        println!(
            "registered application `{}` in organization `{}`",
            self.app, self.org
        );
        let base = self.key_name();
        let existing: Vec<String> = self
            .client
            .list_tokens(&self.org)
            .map_err(fail)?
            .into_iter()
            .map(|token| token.token_name)
            .filter(|name| *name == base || name.starts_with(&format!("{base}-r")))
            .collect();
        if !existing.is_empty() && !rotate {
            return Err(Error::refused(format!(
                "Conductor already has an API key `{}` for `{}` in environment `{}`; it is not replaced silently",
                existing.join("`, `"), self.app, self.env
            ))
            .hint("pass `--rotate` to create a new key, seal it, and then delete the old one"));
        }
        let name = if existing.is_empty() {
            base.clone()
        } else {
            format!("{base}-r{}", crate::clock::now_unix()?)
        };
        let body = CreateTokenBody {
            app_names: vec![self.app.clone()],
            permissions: dbos_gitops_conductor::EXECUTOR_PERMISSIONS
                .iter()
                .map(|p| p.to_string())
                .collect(),
        };
        let created = self
            .client
            .create_token(&self.org, &name, &body)
            .map_err(fail)?;
        let mut input = SecretInput {
            name: API_KEY_SECRET.to_string(),
            ..Default::default()
        };
        input.data.insert(
            API_KEY_KEY.to_string(),
            Zeroizing::new(created.token.as_bytes().to_vec()),
        );
        drop(created);
        let stored = match self.store(ws, &[input]) {
            Ok(stored) => stored,
            Err(error) => {
                // Not stored: the new key must not linger in Conductor.
                let _ = self.client.delete_token(&self.org, &name);
                return Err(error);
            }
        };
        for stored in &stored {
            super::seal::print_stored(stored);
        }
        println!("created API key `{name}` (scoped to `{}`, permission {}) and sealed it; it was not shown", self.app, dbos_gitops_conductor::EXECUTOR_PERMISSIONS.join(", "));
        for old in &existing {
            self.client.delete_token(&self.org, old).map_err(|error| {
                conductor_error(&error, &self.org, Purpose::Register).hint(format!(
                    "the new key is sealed; delete the old key `{old}` in the Console once the app runs with the new one"
                ))
            })?;
            println!("deleted the old API key `{old}`");
        }
        Ok(0)
    }
}

/// Conductor's names: `orgName` 3–30 of `[a-z0-9_]`, `appName` 3–30 of `[a-z0-9-_]`.
fn check_name(what: &str, name: &str, dash: bool) -> Result<(), Error> {
    let valid = (3..=30).contains(&name.len())
        && name.bytes().all(|byte| {
            byte.is_ascii_lowercase()
                || byte.is_ascii_digit()
                || byte == b'_'
                || (dash && byte == b'-')
        });
    if valid {
        return Ok(());
    }
    let allowed = if dash {
        "`a-z`, `0-9`, `-` and `_`"
    } else {
        "`a-z`, `0-9` and `_`"
    };
    Err(Error::input(format!(
        "`{what}` `{name}` is not a Conductor name: 3 to 30 of {allowed}"
    )))
}

/// `--token-file`, else `DBOS_CONDUCTOR_TOKEN`, else a hidden prompt on a terminal; `None` when
/// there is none (a self-hosted Conductor without OAuth needs none).
fn read_token(token_file: Option<&Path>) -> Result<Option<Zeroizing<String>>, Error> {
    let bytes = if let Some(path) = token_file {
        secret_store::read_plaintext(Some(path))?
    } else if let Some(value) = crate::env_vars::get_os(crate::env_vars::CONDUCTOR_TOKEN) {
        Zeroizing::new(value.into_encoded_bytes())
    } else if std::io::stdin().is_terminal() {
        let answer = rpassword::prompt_password(
            "Conductor token (a user JWT or an admin API key; empty for none) (hidden): ",
        )
        .map_err(|source| Error::io("the terminal", "read a hidden token from", source))?;
        Zeroizing::new(answer.into_bytes())
    } else {
        return Ok(None);
    };
    let text = std::str::from_utf8(&bytes)
        .map_err(|_| Error::input("the Conductor token is not UTF-8"))?
        .trim();
    if text.is_empty() {
        return Ok(None);
    }
    if !text.bytes().all(|byte| byte.is_ascii_graphic()) {
        return Err(
            Error::input("the Conductor token has spaces or control characters inside")
                .hint("pass the token alone, one line"),
        );
    }
    Ok(Some(Zeroizing::new(text.to_string())))
}

/// One message per status, with what to do about it. A refusal (409) exits 1, the rest 2.
fn conductor_error(error: &ConductorError, org: &str, purpose: Purpose) -> Error {
    let shown = error.to_string();
    let (permissions, conflict, conflict_hint) = match purpose {
        Purpose::Register => (
            "`application.write`, `token.read` and `token.write` (an admin's)",
            "Conductor already has that",
            "pass `--rotate` to replace the environment's key",
        ),
        Purpose::Versions => (
            "`application.read` (and `application.write` to change DBOS's latest version)",
            "Conductor refused a conflicting change",
            "list the versions again (`dbos-gitops version list --conductor-url URL`) and rerun",
        ),
    };
    match error.status() {
        Some(401) => Error::input(format!("Conductor did not accept the token (401): {shown}"))
            .hint(format!("pass a valid user JWT or admin API key with `--token-file FILE` or `{TOKEN_VARIABLE}`")),
        Some(403) => Error::input(format!("the token lacks a permission this needs (403): {shown}"))
            .hint(format!("use a token with {permissions}")),
        Some(404) => Error::input(format!("Conductor has no such organization, application or operation (404): {shown}"))
            .hint(format!("check `--conductor-url`, `app.name` and `--org {org}`: a self-hosted Conductor without OAuth uses organization `{DEFAULT_ORG}`")),
        Some(409) => Error::refused(format!("{conflict} (409): {shown}"))
            .hint(conflict_hint),
        Some(503) => Error::input(format!("no executor of the application is connected to Conductor (503), and Conductor answers version and workflow questions only through one: {shown}"))
            .hint("start the application (or wait for it to connect), then run this again"),
        Some(_) => Error::input(format!("Conductor refused the request: {shown}")),
        None => Error::input(shown).hint("check `--conductor-url` (and `--ca-file` for a self-signed certificate)"),
    }
}
