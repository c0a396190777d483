//! `database init` and `database rotate` (#22): the guide's hand-made databases, roles and three
//! `database-url`s, made from one set of parts. Role passwords are generated here, live only in
//! zeroizing buffers and go sealed into their secrets with the URLs that carry them, in one
//! write; the bootstrap Job (`render::bootstrap`) makes the server agree on the next sync.

use std::io::IsTerminal as _;

use dbos_gitops_seal::SecretInput;
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::cli::{DatabaseInitArgs, DatabaseRoleArg, DatabaseRotateArgs};
use crate::declare::EnvName;
use crate::error::Error;
use crate::layout;
use crate::model::database::{
    DatabaseParts, Role, ADMIN_SECRET, APP_SECRET, CONDUCTOR_SECRET, DATABASE_ENV_FILE,
    PASSWORD_KEY, URL_KEY, VERIFIER_KEY,
};
use crate::repo::WriteOptions;
use crate::secret_store;
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

/// Length of a generated role password: 32 of 62 characters, about 190 bits.
const PASSWORD_LENGTH: usize = 32;
const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub fn init(context: &Context, arguments: DatabaseInitArgs) -> Result<i32, Error> {
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_name = ws.selected()?.name.clone();
    let env = crate::workspace::resolve_env(ws.loaded(), env_name.as_str())?;
    let app_role = arguments.app_role.clone().unwrap_or(env.app_role.clone());
    if app_role != env.app_role {
        return Err(Error::input(format!(
            "`--app-role {app_role}` differs from `app.migrate.app-role: {}` in {}, which `dbos migrate` grants",
            env.app_role,
            layout::env_file(&env_name)
        ))
        .hint("set the same role in both places (or leave out `--app-role`)"));
    }
    let parts = DatabaseParts {
        host: arguments.host.clone(),
        port: arguments.port,
        sslmode: arguments.sslmode.clone(),
        admin_user: arguments.admin_user.clone(),
        conductor_database: arguments.conductor_database.clone(),
        app_database: arguments.app_database.clone(),
        conductor_role: arguments.conductor_role.clone(),
        app_role,
    };
    parts.check().map_err(Error::input)?;
    // Only now, when the request can succeed, ask for the password.
    let admin_password = read_admin_password(&arguments)?;
    let mut admin = SecretInput {
        name: ADMIN_SECRET.to_string(),
        ..Default::default()
    };
    admin.data.insert(
        PASSWORD_KEY.to_string(),
        Zeroizing::new(admin_password.to_vec()),
    );
    admin.data.insert(
        URL_KEY.to_string(),
        into_bytes(parts.admin_url(&admin_password)),
    );
    let inputs = [
        admin,
        role_input(&parts, Role::Conductor),
        role_input(&parts, Role::App),
    ];
    let mac = crate::seal_mac::load(ws.root(), None)?;
    let stored = secret_store::store(&mut ws, &env_name, &inputs, None, false, &mac)?;
    ws.put(
        layout::env_path(&env_name, DATABASE_ENV_FILE),
        parts.env_file_text().into_bytes(),
    );
    commit(&mut ws, &env_name)?;
    for stored in &stored {
        super::seal::print_stored(stored);
    }
    println!(
        "wrote {} (new passwords for `{}` and `{}`)",
        layout::env_path(&env_name, DATABASE_ENV_FILE),
        parts.conductor_role,
        parts.app_role
    );
    println!("the Job `dbos-database-bootstrap` creates the databases and roles and sets the passwords on the next sync");
    Ok(0)
}

pub fn rotate(context: &Context, arguments: DatabaseRotateArgs) -> Result<i32, Error> {
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_name = ws.selected()?.name.clone();
    let parts = read_parts(&ws, &env_name)?;
    let role = match arguments.role {
        DatabaseRoleArg::Conductor => Role::Conductor,
        DatabaseRoleArg::App => Role::App,
    };
    let input = role_input(&parts, role);
    let mac = crate::seal_mac::load(ws.root(), None)?;
    let stored = secret_store::store(&mut ws, &env_name, &[input], None, false, &mac)?;
    commit(&mut ws, &env_name)?;
    for stored in &stored {
        super::seal::print_stored(stored);
    }
    let name = match role {
        Role::Conductor => &parts.conductor_role,
        Role::App => &parts.app_role,
    };
    println!("new password for `{name}`: the Job `dbos-database-bootstrap` sets it on the next sync, and the pods reading it roll");
    Ok(0)
}

/// One plan for the env: what `ws` holds and the regenerated overlay, written through the
/// journal.
fn commit(ws: &mut Workspace, env_name: &EnvName) -> Result<(), Error> {
    let plan = ws.compile(Scope::Env(env_name), WriteOptions::default())?;
    ws.commit(&plan)
}

/// The parts `database init` recorded; `rotate` without them cannot build the same URL.
fn read_parts(ws: &Workspace, env: &EnvName) -> Result<DatabaseParts, Error> {
    let relative = layout::env_path(env, DATABASE_ENV_FILE);
    let Some(bytes) = ws.read(&relative)? else {
        return Err(Error::input(format!(
            "environment `{env}` has no `{relative}`: its databases were not set up by `dbos-gitops database init`"
        ))
        .hint(format!("run `dbos-gitops database init --env {env} --host HOST` first")));
    };
    DatabaseParts::parse_env_file(&String::from_utf8_lossy(&bytes)).map_err(|problem| {
        Error::input_in(relative.clone(), problem)
            .hint("run `dbos-gitops database init` again to rewrite it")
    })
}

/// A role's secret: its URL and its verifier, from a new password.
fn role_input(parts: &DatabaseParts, role: Role) -> SecretInput {
    let password = generate_password();
    let mut salt = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    let mut input = SecretInput {
        name: match role {
            Role::Conductor => CONDUCTOR_SECRET,
            Role::App => APP_SECRET,
        }
        .to_string(),
        ..Default::default()
    };
    input.data.insert(
        URL_KEY.to_string(),
        into_bytes(parts.role_url(role, &password)),
    );
    input.data.insert(
        VERIFIER_KEY.to_string(),
        into_bytes(crate::model::database::scram_verifier(&password, &salt)),
    );
    input
}

/// Uniform over [`ALPHABET`] (rejection sampling of random bytes), from the OS's generator.
fn generate_password() -> Zeroizing<Vec<u8>> {
    let mut password = Zeroizing::new(Vec::with_capacity(PASSWORD_LENGTH));
    let mut byte = [0u8; 1];
    let limit = 256 - 256 % ALPHABET.len();
    while password.len() < PASSWORD_LENGTH {
        rand::rngs::OsRng.fill_bytes(&mut byte);
        if (byte[0] as usize) < limit {
            password.push(ALPHABET[byte[0] as usize % ALPHABET.len()]);
        }
    }
    zeroize::Zeroize::zeroize(&mut byte);
    password
}

fn into_bytes(text: Zeroizing<String>) -> Zeroizing<Vec<u8>> {
    Zeroizing::new(text.as_bytes().to_vec())
}

/// `--admin-password-file`, `--admin-password-stdin`, or a hidden prompt on a terminal.
fn read_admin_password(arguments: &DatabaseInitArgs) -> Result<Zeroizing<Vec<u8>>, Error> {
    let password = if let Some(path) = &arguments.admin_password_file {
        secret_store::read_plaintext(Some(path))?
    } else if arguments.admin_password_stdin {
        secret_store::read_plaintext(None)?
    } else if std::io::stdin().is_terminal() {
        let prompt = format!(
            "password of the admin user `{}` (hidden): ",
            arguments.admin_user
        );
        Zeroizing::new(
            rpassword::prompt_password(prompt)
                .map_err(|source| Error::io("the terminal", "read a hidden password from", source))?
                .into_bytes(),
        )
    } else {
        return Err(Error::input("no admin password given and stdin is not a terminal").hint(
            "pass `--admin-password-stdin` to read it from stdin, or `--admin-password-file FILE`",
        ));
    };
    let mut password = password;
    if password.ends_with(b"\n") {
        password.pop();
        if password.ends_with(b"\r") {
            password.pop();
        }
    }
    if password.is_empty() {
        return Err(Error::input("the admin password is empty")
            .hint("pipe it in: `printf %s \"$PGPASSWORD\" | dbos-gitops database init ... --admin-password-stdin`"));
    }
    if password.contains(&0) {
        return Err(Error::input(
            "the admin password contains a NUL byte, which libpq cannot pass",
        ));
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_passwords_are_long_plain_and_different() {
        let first = generate_password();
        assert_eq!(first.len(), PASSWORD_LENGTH);
        assert!(first.iter().all(|byte| ALPHABET.contains(byte)));
        assert_ne!(first, generate_password());
    }
}
