//! `dex add-user`, `dex remove-user` and `dex hash`: Dex static users without `htpasswd`, without
//! pasting hashes into a ConfigMap. The user list (email, username, userID, secret key) is the
//! tool-owned `environments/<env>/dex-users.yaml`; each bcrypt hash is sealed under its own key
//! of `dex-users`, so adding or removing a user never re-seals the others. Passwords come from a
//! hidden prompt, stdin or a file, never from the command line, and are wiped after use.

use std::io::IsTerminal as _;
use std::path::Path;

use dbos_gitops_generate::password;
use dbos_gitops_seal::{SealedSecret, SecretInput};
use rand::RngCore as _;
use zeroize::Zeroizing;

use crate::cli::{DexAddUserArgs, DexHashArgs, DexRemoveUserArgs};
use crate::declare::{self, DexUserSpec, DexUsersSpec, EnvName, Oidc};
use crate::error::Error;
use crate::inventory::DEX_USERS_SECRET;
use crate::model::{check_email, EnvInput};
use crate::repo::WriteOptions;
use crate::secret_store;
use crate::workspace::{Mode, Scope};

use super::context::Context;

pub fn hash(arguments: DexHashArgs) -> Result<i32, Error> {
    check_cost(arguments.cost)?;
    crate::limits::check_bcrypt_cost(arguments.cost, arguments.allow_high_cost)?;
    let password = if std::io::stdin().is_terminal() {
        prompt_twice("password")?
    } else {
        read_stdin()?
    };
    println!("{}", hash_password(&password, arguments.cost)?);
    Ok(0)
}

/// `dex add-user`: checks the request, asks for the password only once it can succeed, then
/// seals its hash under the user's key of `dex-users` and rewrites `dex-users.yaml`.
pub fn add_user(context: &Context, arguments: DexAddUserArgs) -> Result<i32, Error> {
    check_cost(arguments.cost)?;
    crate::limits::check_bcrypt_cost(arguments.cost, arguments.allow_high_cost)?;
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_name = ws.selected()?.name.clone();
    require_dex(ws.selected()?)?;
    let email = arguments.email.trim().to_lowercase();
    check_email(&email).map_err(|message| {
        Error::input(message).hint("pass the address users log in with, e.g. `admin@acme.com`")
    })?;
    let username = username_argument(&arguments)?;
    let mut users = ws.selected()?.dex_users.clone();
    let existing = users.users.iter().position(|user| user.email == email);
    if existing.is_some() && !arguments.force {
        return Err(Error::refused(format!(
            "Dex user `{email}` already exists in environment `{env_name}`"
        ))
        .hint(
            "pass `--force` to replace its password, or `dbos-gitops dex remove-user` it first",
        ));
    }
    // Only now, when the request can succeed, ask for the password.
    let password = read_password(&arguments)?;
    let hashed = hash_password(&password, arguments.cost)?;
    let (user, replaced) = upsert_user(&mut users, existing, &email, username);

    let mut input = SecretInput {
        name: DEX_USERS_SECRET.to_string(),
        ..Default::default()
    };
    input.data.insert(
        user.secret_key.clone(),
        Zeroizing::new(hashed.as_bytes().to_vec()),
    );
    let mac = crate::seal_mac::load(ws.root(), None)?;
    let stored = secret_store::store(&mut ws, &env_name, &[input], None, false, &mac)?;
    ws.put(
        users_file(&env_name),
        declare::dex_users_file_text(&users).into_bytes(),
    );
    let plan = ws.compile(Scope::Env(&env_name), WriteOptions::default())?;
    ws.commit(&plan)?;

    let verb = if replaced {
        "replaced the password of Dex user"
    } else {
        "added Dex user"
    };
    let place = if replaced { "in" } else { "to" };
    println!(
        "{verb} `{email}` (username `{}`) {place} environment `{env_name}`",
        user.username
    );
    for stored in &stored {
        super::seal::print_stored(stored);
    }
    println!("wrote {}", users_file(&env_name));
    Ok(0)
}

/// `--username`, refused when blank or holding control characters.
fn username_argument(arguments: &DexAddUserArgs) -> Result<Option<String>, Error> {
    match &arguments.username {
        Some(username) if username.trim().is_empty() || username.chars().any(char::is_control) => {
            Err(Error::input(format!(
                "`--username {username:?}` is empty or has control characters"
            )))
        }
        username => Ok(username.clone()),
    }
}

/// The user `email` in `users` after `add-user`: the one at `existing` with its password
/// revision bumped (and its username replaced when one is given), or a new one with a fresh
/// user id and a secret key no other user has. `true` when it replaced one.
fn upsert_user(
    users: &mut DexUsersSpec,
    existing: Option<usize>,
    email: &str,
    username: Option<String>,
) -> (DexUserSpec, bool) {
    if let Some(index) = existing {
        let user = &mut users.users[index];
        if let Some(username) = username {
            user.username = username;
        }
        user.password_revision = user.password_revision.saturating_add(1);
        return (user.clone(), true);
    }
    let taken: Vec<&str> = users
        .users
        .iter()
        .map(|user| user.secret_key.as_str())
        .collect();
    let user = DexUserSpec {
        username: username.unwrap_or_else(|| default_username(email)),
        user_id: random_user_id(),
        secret_key: secret_key_for(email, &taken),
        email: email.to_string(),
        password_revision: 1,
    };
    users.users.push(user.clone());
    (user, false)
}

/// `dex remove-user`: drops the user from `dex-users.yaml` and its key from the sealed
/// `dex-users` (the file goes with the last user), leaving the others' ciphertexts as they are.
pub fn remove_user(context: &Context, arguments: DexRemoveUserArgs) -> Result<i32, Error> {
    let mut ws = context.workspace(arguments.env.as_deref(), Mode::Write)?;
    let env_name = ws.selected()?.name.clone();
    let email = arguments.email.trim().to_lowercase();
    let mut users = ws.selected()?.dex_users.clone();
    let index = user_index(&users, &env_name, &email)?;
    let removed = users.users.remove(index);

    // The other users' ciphertexts stay byte-identical: only the removed key goes.
    let secret_file = secret_store::secret_path(&env_name, DEX_USERS_SECRET);
    let sealed = secret_store::sealed(&ws, &env_name, DEX_USERS_SECRET)?;
    let remaining = sealed.and_then(|sealed| without_key(sealed, &removed.secret_key));
    match &remaining {
        Some(sealed) => ws.put(
            secret_file.clone(),
            crate::yaml::emit(&sealed.to_value()).into_bytes(),
        ),
        None => ws.remove(secret_file.clone()),
    }
    ws.put(
        users_file(&env_name),
        declare::dex_users_file_text(&users).into_bytes(),
    );
    let plan = ws.compile(Scope::Env(&env_name), WriteOptions::default())?;
    ws.commit(&plan)?;
    println!("removed Dex user `{email}` from environment `{env_name}`");
    match remaining {
        Some(_) => println!(
            "removed key `{}` from {secret_file}; the other users' hashes are untouched",
            removed.secret_key
        ),
        None => println!("removed {secret_file} (no users left)"),
    }
    println!("wrote {}", users_file(&env_name));
    Ok(0)
}

/// The position of the user `email`, or a refusal naming the users there are.
fn user_index(users: &DexUsersSpec, env_name: &EnvName, email: &str) -> Result<usize, Error> {
    if let Some(index) = users.users.iter().position(|user| user.email == email) {
        return Ok(index);
    }
    let known: Vec<String> = users
        .users
        .iter()
        .map(|user| format!("`{}`", user.email))
        .collect();
    Err(Error::refused(format!(
        "environment `{env_name}` has no Dex user `{email}`"
    ))
    .hint(if known.is_empty() {
        "it has no Dex users at all".to_string()
    } else {
        format!("its users: {}", known.join(", "))
    }))
}

/// The sealed `dex-users` without `key` and its value MAC (stable re-seal), or `None` when no
/// key is left.
fn without_key(mut sealed: SealedSecret, key: &str) -> Option<SealedSecret> {
    sealed.encrypted_data.remove(key);
    dbos_gitops_seal::annotate_macs(&mut sealed, None, &Default::default(), std::iter::empty());
    (!sealed.encrypted_data.is_empty()).then_some(sealed)
}

fn users_file(env: &EnvName) -> String {
    crate::layout::dex_users_file(env)
}

fn require_dex(input: &EnvInput) -> Result<(), Error> {
    let env = &input.name;
    if input.spec.oidc == Oidc::Dex {
        return Ok(());
    }
    Err(Error::refused(format!(
        "environment `{env}` does not run Dex (`oidc: none`)"
    ))
    .hint(format!(
        "set `oidc: dex` in {}, then add users",
        crate::layout::env_file(env)
    )))
}

fn check_cost(cost: u32) -> Result<(), Error> {
    if cost < password::MIN_COST {
        return Err(Error::input(format!(
            "bcrypt cost `{cost}` is below `{}`",
            password::MIN_COST
        ))
        .hint("Dex refuses hashes below cost 10; leave out `--cost` for 10"));
    }
    if cost > password::MAX_COST {
        return Err(Error::input(format!(
            "bcrypt cost `{cost}` is above `{}`",
            password::MAX_COST
        ))
        .hint("leave out `--cost` for 10; 12 is already slow"));
    }
    Ok(())
}

fn hash_password(password: &[u8], cost: u32) -> Result<String, Error> {
    password::hash(password, cost).map_err(|error| {
        let message = Error::input(error.to_string());
        match error.hint() {
            Some(hint) => message.hint(hint),
            None => message,
        }
    })
}

/// `--password-file`, `--password-stdin`, or a hidden prompt (twice) on a terminal.
fn read_password(arguments: &DexAddUserArgs) -> Result<Zeroizing<Vec<u8>>, Error> {
    if let Some(path) = &arguments.password_file {
        return read_file(path);
    }
    if arguments.password_stdin {
        return read_stdin();
    }
    if std::io::stdin().is_terminal() {
        return prompt_twice(&format!("password for `{}`", arguments.email.trim()));
    }
    Err(
        Error::input("no password given and stdin is not a terminal")
            .hint("pass `--password-stdin` to read it from stdin, or `--password-file FILE`"),
    )
}

/// Read as secret values are (`secret_store::read_plaintext`): every buffer that ever held the
/// password is zeroized, none freed uncleared by a reallocation.
fn read_file(path: &Path) -> Result<Zeroizing<Vec<u8>>, Error> {
    Ok(without_trailing_newline(secret_store::read_plaintext(
        Some(path),
    )?))
}

fn read_stdin() -> Result<Zeroizing<Vec<u8>>, Error> {
    let bytes = without_trailing_newline(secret_store::read_plaintext(None)?);
    if bytes.is_empty() {
        return Err(Error::input("the password on stdin is empty")
            .hint("pipe it in: `printf %s \"$PW\" | dbos-gitops dex hash`"));
    }
    Ok(bytes)
}

/// Drops one trailing `\n` (or `\r\n`), as `echo` and editors add one.
fn without_trailing_newline(mut bytes: Zeroizing<Vec<u8>>) -> Zeroizing<Vec<u8>> {
    if bytes.ends_with(b"\n") {
        bytes.pop();
        if bytes.ends_with(b"\r") {
            bytes.pop();
        }
    }
    bytes
}

fn prompt_twice(what: &str) -> Result<Zeroizing<Vec<u8>>, Error> {
    let read = |prompt: String| -> Result<Zeroizing<Vec<u8>>, Error> {
        rpassword::prompt_password(prompt)
            .map(|text| Zeroizing::new(text.into_bytes()))
            .map_err(|source| Error::io("the terminal", "read a hidden password from", source))
    };
    let first = read(format!("{what} (hidden): "))?;
    let second = read("again, to confirm: ".to_string())?;
    if first != second {
        return Err(Error::input("the two passwords differ").hint("run the command again"));
    }
    Ok(first)
}

/// The part of the email before `@`.
fn default_username(email: &str) -> String {
    email.split('@').next().unwrap_or(email).to_string()
}

/// A key of `dex-users` for the email: lowercase letters, digits and single `-`, unique among
/// `taken` (a `-2`, `-3`… suffix when two emails map to the same key).
pub fn secret_key_for(email: &str, taken: &[&str]) -> String {
    let mut base = String::new();
    for character in email.to_lowercase().chars() {
        if character.is_ascii_lowercase() || character.is_ascii_digit() {
            base.push(character);
        } else if !base.ends_with('-') && !base.is_empty() {
            base.push('-');
        }
    }
    let mut base = base.trim_end_matches('-').to_string();
    base.truncate(180);
    let base = base.trim_end_matches('-').to_string();
    let base = if base.is_empty() {
        "user".to_string()
    } else {
        base
    };
    let mut candidate = base.clone();
    let mut counter = 2;
    while taken.contains(&candidate.as_str()) {
        candidate = format!("{base}-{counter}");
        counter += 1;
    }
    candidate
}

/// A random UUID (version 4): Dex's `userID`, the `sub` of the user's tokens.
fn random_user_id() -> String {
    let mut bytes = [0u8; 16];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_keys_are_plain_and_unique() {
        assert_eq!(secret_key_for("admin@acme.com", &[]), "admin-acme-com");
        assert_eq!(secret_key_for("a+b@x.io", &["a-b-x-io"]), "a-b-x-io-2");
        assert_eq!(
            secret_key_for("a.b@x.io", &["a-b-x-io", "a-b-x-io-2"]),
            "a-b-x-io-3"
        );
        assert_eq!(secret_key_for("@@@", &[]), "user");
        for key in ["admin-acme-com", "a-b-x-io-2", "user"] {
            crate::model::check_dex_secret_key(key).unwrap();
        }
    }

    #[test]
    fn user_ids_are_version_4_uuids() {
        let id = random_user_id();
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "4");
        assert_ne!(id, random_user_id());
    }
}
