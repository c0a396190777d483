//! One integration test binary: each test runs the real `dbos-gitops` binary in a temporary
//! directory and checks what it printed, its exit code, and the files it wrote, rendered by the
//! real `kubectl kustomize` where that matters.

// Tests read their own variables (the test databases, servers); the product's rule (every
// variable through `env_vars`, clippy.toml) is for the product's code.
#![allow(clippy::disallowed_methods)]
// Test helpers unwrap: a failure here is a failed test, with the panic's message.
#![allow(clippy::unwrap_used)]

mod support;

mod build;
mod check;
mod check_cache;
mod check_holes;
mod check_hostile;
mod crypto_backend;
mod example;
mod expect;
mod faults;
mod layering;
mod supply_chain;
// A journal nobody can plant, readers and CRLF checkouts, core dumps (#23).
mod help;
mod hooks;
mod hostile_repo;
mod planted;
// One rule, one message (#13); input rules (#14).
mod input_limits;
// Bounded reads, sizes Kubernetes refuses, key staging litter (#23).
mod bounded_reads;
mod dev_key_staging;
mod input_rules;
mod kube_sizes;
// The migrate Job run with the real DBOS CLIs.
mod migrate_job;
// `database init` and `database rotate` (#22).
mod conductor;
mod database;
mod paths;
mod render;
mod retire;
mod scope;
mod seal;
mod seal_entropy;
// kubeseal drop-in and everyday conventions (#24 items 2, 8).
mod conventions;
mod kubeseal;
// Secrets without churn, rollouts and rotation (#12).
mod reseal;
mod rollout;
mod stable_seal;
mod transcripts;
// Every output whole, as insta transcripts (#25).
mod transcripts_whole;
mod versions;
mod workspace;

// DBOS's own version routing and promotion (#11).
mod promote;
mod rollback;
// The cutover against the database users run (#20).
mod cutover;

// Minted secrets (#4).
mod dex;
mod gateway;
// Review and CI (#15).
mod diff;
mod diff_scale;
// Removing an environment (#24).
mod env_remove;
mod schema;
mod tls;
// TLS to PostgreSQL (#20).
mod postgres_tls;
mod upstream;
// Install paths, completions in the real shells, man pages (#24 items 1, 3, 8).
mod completions;
mod install;
mod manpages;
