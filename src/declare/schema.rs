//! JSON Schemas (draft 2020-12) of env.yaml and dbos-gitops.yaml, derived by `schemars` from the
//! same serde types that parse them (`EnvSpec`, `RepoSpec`), so the editor's view cannot drift
//! from the parser's: `deny_unknown_fields` becomes `additionalProperties: false`, doc comments
//! become descriptions and `#[serde(default = ...)]` values become `default`s.
//!
//! `build` writes them to `.dbos-gitops/schema/` (generated files like the rest) and `init env`
//! points env.yaml at its schema with a yaml-language-server modeline.

use super::{EnvSpec, RepoSpec};

/// Where the generated schemas live, repository-relative.
pub const ENV_SCHEMA_FILE: &str = ".dbos-gitops/schema/env.json";
pub const REPO_SCHEMA_FILE: &str = ".dbos-gitops/schema/dbos-gitops.json";

/// The first line `init env` writes into env.yaml (env.yaml sits two levels below the root).
pub const ENV_MODELINE: &str = "# yaml-language-server: $schema=../../.dbos-gitops/schema/env.json";

fn pretty(schema: schemars::Schema) -> String {
    serde_json::to_string_pretty(&schema).expect("a schema serialises") + "\n"
}

pub fn env_schema() -> String {
    pretty(schemars::schema_for!(EnvSpec))
}

pub fn repo_schema() -> String {
    pretty(schemars::schema_for!(RepoSpec))
}

/// Adds both schemas to the generated tree.
pub fn render(tree: &mut crate::layout::Tree) {
    tree.insert(ENV_SCHEMA_FILE.to_string(), env_schema());
    tree.insert(REPO_SCHEMA_FILE.to_string(), repo_schema());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemas_are_draft_2020_12_and_closed() {
        let env: serde_json::Value = serde_json::from_str(&env_schema()).unwrap();
        assert_eq!(
            env["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert_eq!(env["additionalProperties"], false);
        assert!(env["properties"]["namespace"].is_object(), "{env}");
        let repo: serde_json::Value = serde_json::from_str(&repo_schema()).unwrap();
        assert_eq!(repo["properties"]["revision"]["default"], "HEAD");
    }
}
