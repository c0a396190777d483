//! Setting a repository up and compiling it: `init`, `init env` (the Ingress, the Gateway API
//! default, Dex), `build` and `build --check` clean and stale, `--version`, `schema`.

use super::*;

#[test]
fn init_and_init_env() {
    let repo = empty();
    let cert = go_cert();
    let mut t = Transcript::new(&repo);
    t.say("a new repository, then its first environment on the Ingress");
    t.run(&init_arguments());
    t.run(&strs(&init_prod_arguments(&cert)));
    t.say("the Gateway API is the default routing of a second environment");
    t.run(&[
        "init",
        "env",
        "staging",
        "--domain",
        "staging.acme.com",
        "--cert",
        &cert,
        "--conductor-version",
        "1.0.0-test",
    ]);
    t.say("refusals: a second init, an environment that exists, a name Kubernetes refuses");
    t.run(&init_arguments());
    t.run(&strs(&init_prod_arguments(&cert)));
    t.run(&["init", "env", "Prod_1", "--cert", &cert]);
    t.snapshot("init_and_init_env");
}

#[test]
fn init_env_with_dex_and_a_development_key() {
    let repo = TestRepo::new();
    let mut t = Transcript::new(&repo);
    t.say("no --cert: a development key pair is made outside the repository");
    t.run(&[
        "init",
        "env",
        "dev",
        "--domain",
        "dev.acme.com",
        "--oidc",
        "dex",
        "--conductor-version",
        "1.0.0-test",
        "--ingress-class",
        "nginx",
    ]);
    t.snapshot("init_env_with_dex_and_a_development_key");
}

#[test]
fn build_and_build_check() {
    let repo = TestRepo::prod();
    let mut t = Transcript::new(&repo);
    t.say("a fresh environment is built: nothing to do");
    t.run(&["build"]);
    t.run(&["build", "--check"]);
    t.say("a declaration changes: --check says what is stale and writes nothing");
    t.edit("environments/prod/env.yaml", |text| {
        text.replace("domain: dbos.acme.com", "domain: shop.acme.com")
    });
    t.run(&["build", "--check"]);
    t.run(&["build"]);
    t.run(&["build", "--check"]);
    t.run(&["build", "--env", "prod"]);
    t.snapshot("build_and_build_check");
}

#[test]
fn version_and_schema() {
    let repo = TestRepo::empty();
    let mut t = Transcript::new(&repo);
    t.run(&["--version"]);
    t.run(&["schema", "versions"]);
    t.run(&["schema", "dex-users"]);
    t.run(&["schema", "repo"]);
    t.run(&["schema", "env"]);
    t.snapshot("version_and_schema");
}
