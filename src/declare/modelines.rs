//! Where the editor schemas of the declarations live, and the first line (a yaml-language-server
//! modeline) each declaration file is written with, so an editor validates and completes it.

/// Where the generated schemas live, repository-relative.
pub const ENV_SCHEMA_FILE: &str = ".dbos-gitops/schema/env.json";
pub const REPO_SCHEMA_FILE: &str = ".dbos-gitops/schema/dbos-gitops.json";
pub const VERSIONS_SCHEMA_FILE: &str = ".dbos-gitops/schema/versions.json";
pub const DEX_USERS_SCHEMA_FILE: &str = ".dbos-gitops/schema/dex-users.json";
pub const REMOVAL_SCHEMA_FILE: &str = ".dbos-gitops/schema/removal.json";

/// The first line `init env` writes into env.yaml (env.yaml sits two levels below the root).
pub const ENV_MODELINE: &str = "# yaml-language-server: $schema=../../.dbos-gitops/schema/env.json";
/// The first line of dbos-gitops.yaml (at the root).
pub const REPO_MODELINE: &str =
    "# yaml-language-server: $schema=.dbos-gitops/schema/dbos-gitops.json";
/// The first line of versions.yaml (beside env.yaml).
pub const VERSIONS_MODELINE: &str =
    "# yaml-language-server: $schema=../../.dbos-gitops/schema/versions.json";
/// The first line of dex-users.yaml (beside env.yaml).
pub const DEX_USERS_MODELINE: &str =
    "# yaml-language-server: $schema=../../.dbos-gitops/schema/dex-users.json";
/// The first line of removal.yaml (beside env.yaml, and left alone there by cascade step 2).
pub const REMOVAL_MODELINE: &str =
    "# yaml-language-server: $schema=../../.dbos-gitops/schema/removal.json";
