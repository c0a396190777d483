//! `schema env|repo|versions|dex-users|removal`: the JSON Schema of a declaration file (see `crate::declare::schema`).

use crate::cli::{SchemaArgs, SchemaFile};
use crate::error::Error;

pub fn schema(arguments: SchemaArgs) -> Result<i32, Error> {
    let text = match arguments.file {
        SchemaFile::Env => crate::declare::schema::env_schema(),
        SchemaFile::Repo => crate::declare::schema::repo_schema(),
        SchemaFile::Versions => crate::declare::schema::versions_schema(),
        SchemaFile::DexUsers => crate::declare::schema::dex_users_schema(),
        SchemaFile::Removal => crate::declare::schema::removal_schema(),
    };
    use std::io::Write as _;
    let _ = std::io::stdout().write_all(text.as_bytes());
    Ok(0)
}
