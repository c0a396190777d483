//! Application versions: `version add`, `list`, `activate` and `promote` without a database,
//! `retire`'s refusals without one, `env remove --dry-run`; then, against the test PostgreSQL
//! with the real DBOS tables, `version list`, `activate` and `retire` refused while workflows
//! are in flight and done once they are drained.

use super::*;
use crate::support::{server_url, with_password, TestDb};

#[test]
fn version_add_list_activate_without_a_database() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.run(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
        "--dry-run",
    ]);
    t.run(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    t.run(&[
        "version",
        "add",
        "v3",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:latest",
        "--no-activate",
    ]);
    t.run(&["version", "list"]);
    t.run(&["version", "list", "--format", "json"]);
    t.run(&[
        "version",
        "activate",
        "v1",
        "--env",
        "prod",
        "--traffic-only",
    ]);
    t.run(&["version", "activate", "v2", "--env", "prod"]);
    t.say("refusals: a version that exists, one that does not");
    t.run(&[
        "version",
        "add",
        "v2",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v2",
    ]);
    t.run(&["version", "activate", "v9", "--env", "prod"]);
    t.snapshot("version_add_list_activate_without_a_database");
}

#[test]
fn retire_refusals_without_a_database() {
    let repo = TestRepo::prod();
    repo.add_version("v2", "prod");
    let mut t = Transcript::new(&repo);
    t.run(&["retire", "v1", "--env", "prod"]);
    t.run(&["retire", "v2", "--env", "prod", "--no-drain-check"]);
    t.run(&["retire", "v9", "--env", "prod", "--no-drain-check"]);
    t.run(&[
        "retire",
        "v1",
        "--env",
        "prod",
        "--no-drain-check",
        "--dry-run",
    ]);
    t.say("a generated file edited by hand is refused");
    t.edit("environments/prod/versions/v1/deployment.yaml", |text| {
        text.replace("replicas: 1", "replicas: 3")
    });
    t.run(&["retire", "v1", "--env", "prod", "--no-drain-check"]);
    t.run(&[
        "retire",
        "v1",
        "--env",
        "prod",
        "--no-drain-check",
        "--force",
    ]);
    t.run(&["version", "list"]);
    t.snapshot("retire_refusals_without_a_database");
}

#[test]
fn promote_and_env_remove_dry_run() {
    let repo = TestRepo::with_env("staging", &["--app-image", "ghcr.io/acme/app:v1"]);
    repo.ok(&[
        "version",
        "add",
        "v2",
        "--env",
        "staging",
        "--image",
        "ghcr.io/acme/app@sha256:2222222222222222222222222222222222222222222222222222222222222222",
    ]);
    repo.add_env("prod");
    let mut t = Transcript::new(&repo);
    t.run(&[
        "version",
        "add",
        "v1",
        "--env",
        "prod",
        "--image",
        "ghcr.io/acme/app:v1",
    ]);
    t.run(&[
        "version", "promote", "v2", "--from", "staging", "--to", "prod",
    ]);
    t.run(&[
        "version", "promote", "v2", "--from", "staging", "--to", "prod",
    ]);
    t.run(&[
        "version", "promote", "v7", "--from", "staging", "--to", "prod",
    ]);
    t.run(&["env", "remove", "staging", "--dry-run"]);
    t.run(&["env", "remove", "staging", "--dry-run", "--cascade"]);
    t.run(&["env", "remove", "stagin", "--dry-run"]);
    t.snapshot("promote_and_env_remove_dry_run");
}

/// One `dbos.workflow_status` row of application `shop` (what retire's drain check counts).
fn workflow(database: &TestDb, id: &str, status: &str, version: &str, at: i64) {
    database
        .client()
        .execute(
            "INSERT INTO dbos.workflow_status (workflow_uuid, status, name, executor_id, \
             application_version, application_id, created_at, updated_at, application_name) \
             VALUES ($1, $2, 'checkout', 'local', $3, 'app-id', $4, $4, 'shop')",
            &[&id, &status, &version, &at],
        )
        .unwrap_or_else(|error| panic!("seeding {id}: {error}"));
}

#[test]
fn versions_and_retire_with_the_database() {
    let Some(server) = server_url("transcripts_whole::versions_and_retire_with_the_database")
    else {
        return;
    };
    let database = TestDb::with_dbos_schema(&server, "transcript");
    let repo = TestRepo::prod();
    repo.add_version("v2", "prod");
    workflow(&database, "v1-pending", "PENDING", "v1", 1_700_000_000_000);
    workflow(
        &database,
        "v1-enqueued",
        "ENQUEUED",
        "v1",
        1_700_000_000_001,
    );
    workflow(&database, "v1-done", "SUCCESS", "v1", 1_700_000_000_002);
    workflow(&database, "v2-pending", "PENDING", "v2", 1_700_000_000_003);
    let url = with_password(&database.url, "not-printed");
    let mut t = Transcript::new(&repo);
    t.filter(&regex::escape(&url), "[DATABASE-URL]");
    t.filter(&regex::escape(&database.name), "[DATABASE]");
    let host = url
        .split('@')
        .nth(1)
        .and_then(|rest| rest.split('/').next());
    t.filter(&regex::escape(host.unwrap()), "[HOST:PORT]");
    let with_url = [("DBOS_SYSTEM_DATABASE_URL", url.as_str())];
    t.run_env(&["version", "list"], &with_url);
    t.run_env(&["version", "list", "--format", "json"], &with_url);
    t.run_env(&["version", "activate", "v2", "--env", "prod"], &with_url);
    t.say("v1 has two workflows in flight");
    t.run_env(&["retire", "v1", "--env", "prod"], &with_url);
    t.run(&["retire", "v1", "--env", "prod", "--database-url", &url]);
    database.execute(
        "UPDATE dbos.workflow_status SET status = 'SUCCESS' WHERE application_version = 'v1'",
    );
    t.say("drained (v2's workflow does not hold v1)");
    t.run_env(&["retire", "v1", "--env", "prod"], &with_url);
    t.run_env(&["version", "list"], &with_url);
    t.snapshot("versions_and_retire_with_the_database");
}
