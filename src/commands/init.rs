//! `init` (a new repository) and `init env` (a new environment in it).

use std::path::Path;

use crate::cli::{InitArgs, InitEnvArgs, OidcArg, RoutingArg};
use crate::declare::{
    self, EnvName, EnvSpec, Namespace, Oidc, RepoSpec, Routing, VersionName, VersionSpec,
    VersionsSpec, ENV_FILE, REPO_FILE, VERSIONS_FILE,
};
use crate::error::Error;
use crate::model::EnvInput;
use crate::repo::{fs, load_repo, Plan, WriteOptions};

use super::{plan_build, Context};

/// Staging files and the journal, and every private key name dbos-gitops writes (the
/// development keys `<id>-<env>.key.pem`, the value-MAC key `seal-mac.key`) or that the
/// tools around it do (`tls.key`, `kubeseal`'s `*-key.pem` backups): those are kept outside
/// the repository, and these lines keep a copy that lands in it out of git. A line already in
/// `.gitignore` is not repeated.
const GITIGNORE_LINES: &[&str] = &[
    "# dbos-gitops: temporary files of interrupted writes, and private keys that never belong here",
    ".dbos-gitops-*",
    "*.key",
    "*-key.pem",
    "*.key.pem",
    "seal-mac.key",
];

pub fn init_repo(context: &Context, arguments: InitArgs) -> Result<i32, Error> {
    let root = context.start_dir()?;
    if root.join(REPO_FILE).exists() {
        return Err(Error::refused(format!(
            "`{}` already exists: this is a dbos-gitops repository",
            root.join(REPO_FILE).display()
        ))
        .hint("add an environment with `dbos-gitops init env NAME`"));
    }
    let repo_url = match arguments.repo_url {
        Some(url) => url,
        None => git_origin(&root).ok_or_else(|| {
            Error::input("no `--repo-url` given and this directory has no git remote `origin`")
                .hint("pass `--repo-url https://github.com/ORG/REPO.git`, or `git remote add origin URL` first")
        })?,
    };
    if repo_url.trim().is_empty() || repo_url.contains(char::is_whitespace) {
        return Err(Error::input(format!("`{repo_url}` is not a git URL")));
    }
    let spec = RepoSpec {
        repo_url,
        revision: arguments.revision,
        argocd: Default::default(),
    };
    let loaded = crate::repo::LoadedRepo {
        scoped_to: None,
        skipped: Vec::new(),
        root: root.clone(),
        spec: spec.clone(),
        environments: Vec::new(),
        record: Default::default(),
    };
    let mut plan = plan_build(&loaded, None, WriteOptions::default())?;
    plan.declare(REPO_FILE, declare::repo_file_text(&spec).into_bytes())?;
    plan.declare(".gitignore", gitignore(&root)?.into_bytes())?;
    plan.apply()?;
    print!("{}", plan.summary());
    println!(
        "next: dbos-gitops init env NAME --domain DOMAIN --cert pub-cert.pem --app-image IMAGE"
    );
    Ok(0)
}

fn git_origin(root: &Path) -> Option<String> {
    let output = std::process::Command::new("git")
        .args(["remote", "get-url", "origin"])
        .current_dir(root)
        .output()
        .ok()?;
    let url = String::from_utf8(output.stdout).ok()?.trim().to_string();
    (output.status.success() && !url.is_empty()).then_some(url)
}

/// The existing `.gitignore` with our lines appended where missing.
fn gitignore(root: &Path) -> Result<String, Error> {
    let path = root.join(".gitignore");
    // Rewritten with our lines appended: a lossy decoding would corrupt the user's lines.
    let existing = crate::repo::confine::read_optional(root, &path)?
        .map(|bytes| fs::utf8(Path::new(".gitignore"), bytes))
        .transpose()?
        .unwrap_or_default();
    let mut text = existing.clone();
    if !text.is_empty() && !text.ends_with('\n') {
        text.push('\n');
    }
    for line in GITIGNORE_LINES {
        if !existing.lines().any(|present| present == *line) {
            text.push_str(line);
            text.push('\n');
        }
    }
    Ok(text)
}

pub fn init_env(context: &Context, arguments: InitEnvArgs) -> Result<i32, Error> {
    let root = context.root()?;
    crate::repo::lock::acquire(&root)?;
    let mut loaded = load_repo(&root)?;
    let name = EnvName::new(&arguments.name).map_err(|error| {
        error.hint(
            "environment names become directories and Kubernetes names: try `prod` or `staging-eu`",
        )
    })?;
    let env_dir = Path::new(&crate::layout::env_dir(&name)).to_path_buf();
    if root.join(&env_dir).exists() {
        return Err(Error::refused(format!(
            "environment `{name}` already exists (`{}`)",
            env_dir.display()
        ))
        .hint("edit its env.yaml and run `dbos-gitops build`"));
    }
    let namespace = match &arguments.namespace {
        Some(namespace) => Namespace::new(namespace)?,
        None => Namespace::new(&format!("dbos-{name}"))?,
    };
    let domain_given = arguments.domain.is_some();
    let domain = arguments
        .domain
        .clone()
        .unwrap_or_else(|| format!("{name}.dbos.example.com"));
    crate::model::check_domain(&domain).map_err(Error::input)?;
    let mut env_spec: EnvSpec = declare::parse_env(
        Path::new(ENV_FILE),
        &format!("namespace: {namespace}\ndomain: {domain}\n"),
    )?;
    if let Some(cluster) = arguments.cluster {
        env_spec.cluster = cluster;
    }
    env_spec.routing = match arguments.routing {
        RoutingArg::Host => Routing::Host,
        RoutingArg::Path => Routing::Path,
    };
    env_spec.oidc = match arguments.oidc {
        OidcArg::None => Oidc::None,
        OidcArg::Dex => Oidc::Dex,
    };
    if let Some(version) = &arguments.conductor_version {
        let tag_ok = version.len() <= 128
            && !version.starts_with(['.', '-'])
            && version.chars().all(|character| {
                character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
            });
        if !tag_ok {
            return Err(Error::input(format!(
                "--conductor-version `{version}` is not an image tag"
            ))
            .hint(
                "give the release tag only (no image name), as published for `dbosdev/conductor`",
            ));
        }
        env_spec.conductor.image = format!("dbosdev/conductor:{version}");
        env_spec.console.image = format!("dbosdev/console:{version}");
    }
    let versions = match &arguments.app_image {
        Some(image) => {
            let version = VersionName::new(&arguments.version)?;
            crate::model::check_image(image).map_err(Error::input)?;
            VersionsSpec {
                active: Some(version.clone()),
                versions: vec![VersionSpec {
                    name: version,
                    image: image.clone(),
                }],
            }
        }
        None => VersionsSpec::default(),
    };
    let env_text = format!(
        "{}\n{}",
        declare::schema::ENV_MODELINE,
        declare::env_file_text(&env_spec)
    );
    // What we write must be what we read back.
    let reparsed = declare::parse_env(&env_dir.join(ENV_FILE), &env_text)?;
    loaded.environments.push(EnvInput {
        name: name.clone(),
        spec: reparsed,
        versions: versions.clone(),
        secret_files: Vec::new(),
        dex_users: Default::default(),
        tls_certificate: false,
        tls_certificate_digest: None,
        secret_digests: Default::default(),
    });
    loaded
        .environments
        .sort_by(|left, right| left.name.cmp(&right.name));
    // The sealing certificate: the controller's, or a development key pair made here with its
    // private key outside the repository.
    let (cert_pem, dev_key) = match &arguments.cert {
        Some(path) => {
            let shown = path.display().to_string();
            let (_, pem) = crate::secret_store::load_cert_file_with_pem(path, &shown)?;
            (pem, None)
        }
        None => {
            let key_path = crate::secret_store::dev_key_path(&root, &name)?;
            let pair = dbos_gitops_seal::generate_dev_keypair(4096, crate::clock::now_unix()?)
                .map_err(|error| {
                    Error::input(format!("could not make a development key pair: {error}"))
                })?;
            (
                pair.certificate_pem.clone().into_bytes(),
                Some((key_path, pair)),
            )
        }
    };
    let mut plan: Plan = plan_build(&loaded, None, WriteOptions::default())?;
    plan.declare(&crate::secret_store::cert_path(&name), cert_pem)?;
    if let Some((key_path, pair)) = &dev_key {
        plan.declare_private(key_path.clone(), pair.private_key_pem.as_bytes().to_vec());
    }
    let env_dir_text = env_dir.to_string_lossy().replace('\\', "/");
    plan.declare(&format!("{env_dir_text}/{ENV_FILE}"), env_text.into_bytes())?;
    if !versions.versions.is_empty() {
        plan.declare(
            &format!("{env_dir_text}/{VERSIONS_FILE}"),
            declare::versions_file_text(&versions).into_bytes(),
        )?;
    }
    plan.apply()?;
    print!("{}", plan.summary());
    if !domain_given {
        println!("note: no `--domain` given; the ingress uses the placeholder `{domain}` until you set `domain:` in {env_dir_text}/env.yaml");
    }
    if let Some((key_path, _)) = &dev_key {
        println!(
            "note: no `--cert` given: made a development sealing key pair; its private key is {} (outside the repo, never commit it).\n      For a real cluster, replace {} with `kubeseal --fetch-cert` and re-seal.",
            key_path.display(),
            crate::secret_store::cert_path(&name)
        );
    }
    if arguments.conductor_version.is_none() {
        println!("note: Conductor and Console run `latest`; pin their release with `conductor.image`/`console.image` in {env_dir_text}/env.yaml (or `init env --conductor-version X`)");
    }
    if versions.versions.is_empty() {
        println!("note: no application yet; add one with `dbos-gitops version add v1 --env {name} --image IMAGE`");
    }
    Ok(0)
}
