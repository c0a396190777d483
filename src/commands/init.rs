//! `init` (a new repository) and `init env` (a new environment in it).

use std::path::Path;

use crate::cli::{InitArgs, InitEnvArgs, OidcArg, RoutingArg};
use crate::declare::{
    self, EnvName, EnvSpec, Namespace, Oidc, RepoSpec, Routing, VersionName, VersionSpec,
    VersionsSpec, ENV_FILE, REPO_FILE, VERSIONS_FILE,
};
use crate::error::Error;
use crate::repo::{fs, WriteOptions};
use crate::workspace::{Mode, Scope, Workspace};

use super::context::Context;

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
    "# dbos-gitops: core dumps (they can hold secrets; only `core` and `core.<pid>`, never a directory), and build output",
    "core",
    "core.[0-9]*",
    "!core/",
    "target/",
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
    let (given, source) = match arguments.repo_url {
        Some(url) => (url, "`--repo-url`"),
        None => (git_origin(&root).ok_or_else(|| {
            Error::input("no `--repo-url` given and this directory has no git remote `origin`")
                .hint("pass `--repo-url https://github.com/ORG/REPO.git`, or `git remote add origin URL` first")
        })?, "the git remote `origin`"),
    };
    // Never into the repository (nor onto the terminal): a token in the URL.
    let (repo_url, stripped) = without_credentials(&given);
    if stripped {
        crate::term::note(&format!("note: removed the credentials from the URL of {source}: the repository records `{repo_url}` (Argo CD authenticates with its own repository credentials, never a token in the URL)"));
    }
    if repo_url.trim().is_empty() || repo_url.contains(char::is_whitespace) {
        return Err(Error::input(format!("`{repo_url}` is not a git URL")));
    }
    let spec = RepoSpec {
        repo_url,
        revision: arguments.revision,
        argocd: Default::default(),
    };
    // The repository lock from here (the workspace holds it): the journal of the first write
    // is bound to it, and `.gitignore` is read under it.
    let mut ws = Workspace::create(&root, spec.clone())?;
    ws.put(REPO_FILE, declare::repo_file_text(&spec).into_bytes());
    let gitignore = gitignore(ws.read(".gitignore")?)?;
    ws.put(".gitignore", gitignore.into_bytes());
    let (attributes, _) = crate::repo::attributes::gitattributes(
        ws.read(crate::repo::attributes::GITATTRIBUTES_FILE)?,
    )?;
    ws.put(
        crate::repo::attributes::GITATTRIBUTES_FILE,
        attributes.into_bytes(),
    );
    let plan = ws.compile(Scope::All, WriteOptions::default())?;
    ws.commit(&plan)?;
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

/// `url` without the userinfo a token hides in (`https://oauth2:TOKEN@host/...`), and whether
/// there was any. For http(s) all of the userinfo goes (a user name alone is no use to Argo CD
/// there); for other URLs (`ssh://git@host/...`) only a password does, the user name is part
/// of the address. An scp-like `git@host:path` has no password to hide and stays.
fn without_credentials(url: &str) -> (String, bool) {
    let Some((scheme, rest)) = url.split_once("://") else {
        return (url.to_string(), false);
    };
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, path) = rest.split_at(authority_end);
    let Some((userinfo, host)) = authority.rsplit_once('@') else {
        return (url.to_string(), false);
    };
    let http = matches!(scheme.to_ascii_lowercase().as_str(), "http" | "https");
    let kept = match userinfo.split_once(':') {
        _ if http => None,
        Some((user, _password)) => Some(user),
        None => return (url.to_string(), false),
    };
    let authority = match kept {
        Some(user) if !user.is_empty() => format!("{user}@{host}"),
        _ => host.to_string(),
    };
    (format!("{scheme}://{authority}{path}"), true)
}

/// The existing `.gitignore` with our lines appended where missing.
fn gitignore(existing: Option<Vec<u8>>) -> Result<String, Error> {
    // Rewritten with our lines appended: a lossy decoding would corrupt the user's lines.
    let existing = existing
        .map(|bytes| fs::utf8(Path::new(".gitignore"), bytes))
        .transpose()?
        .unwrap_or_default();
    Ok(crate::repo::attributes::with_lines(
        &existing,
        GITIGNORE_LINES,
    ))
}

/// `--ingress-class` keeps the `Ingress`; otherwise the environment routes through Gateway API
/// (#21): its own Gateway (`--gateway-class`, default `eg`) or a shared one (`--gateway`).
fn routing_api(env_spec: &mut EnvSpec, arguments: &InitEnvArgs) -> Result<(), Error> {
    use crate::cli::GatewayImplementationArg as Arg;
    use crate::declare::{GatewayImplementation as Implementation, GatewaySpec};
    if let Some(class) = &arguments.ingress_class {
        crate::declare::names::check_object_name(class)
            .map_err(|message| Error::input(format!("--ingress-class {message}")))?;
        env_spec.ingress.class = class.clone();
        return Ok(());
    }
    let implementation = match arguments.gateway_implementation {
        Arg::EnvoyGateway => Implementation::EnvoyGateway,
        Arg::NginxGatewayFabric => Implementation::NginxGatewayFabric,
        Arg::Istio => Implementation::Istio,
        Arg::Kgateway => Implementation::Kgateway,
        Arg::Cilium => Implementation::Cilium,
        Arg::Other => Implementation::Other,
    };
    let class = match (&arguments.gateway, &arguments.gateway_class) {
        (Some(_), _) => None,
        (None, Some(class)) => Some(class.clone()),
        (None, None) => Some(crate::model::DEFAULT_GATEWAY_CLASS.to_string()),
    };
    env_spec.ingress.gateway = Some(GatewaySpec {
        class,
        parent: arguments.gateway.clone(),
        implementation,
        keep_ingress: false,
        data_plane: None,
    });
    Ok(())
}

/// `init env NAME`: the new environment's env.yaml (from the flags), its first version if
/// `--app-image` is given, and its sealing certificate, compiled with the other environments.
pub fn init_env(context: &Context, arguments: InitEnvArgs) -> Result<i32, Error> {
    let root = context.root()?;
    let mut ws = Workspace::open(&root, Mode::Write)?;
    let name = EnvName::new(&arguments.name).map_err(|error| {
        error.hint(
            "environment names become directories and Kubernetes names: try `prod` or `staging-eu`",
        )
    })?;
    let env_dir = Path::new(&crate::layout::env_dir(&name)).to_path_buf();
    refuse_while_removing(&ws, &name)?;
    if root.join(&env_dir).exists() {
        return Err(Error::refused(format!(
            "environment `{name}` already exists (`{}`)",
            env_dir.display()
        ))
        .hint("edit its env.yaml and run `dbos-gitops build`"));
    }
    let (env_spec, domain) = env_spec_from(&name, &arguments)?;
    let versions = first_version(&arguments)?;
    let env_text = format!(
        "{}\n{}",
        declare::schema::ENV_MODELINE,
        declare::env_file_text(&env_spec)
    );
    // What we write must be what we read back.
    declare::parse_env(&env_dir.join(ENV_FILE), &env_text)?;
    let (cert_pem, dev_key) = sealing_cert(&root, &name, &arguments)?;
    ws.put(crate::secret_store::cert_path(&name), cert_pem);
    if let Some((key_path, pair)) = &dev_key {
        ws.put_private(key_path.clone(), pair.private_key_pem.as_bytes().to_vec());
    }
    let env_dir_text = env_dir.to_string_lossy().replace('\\', "/");
    ws.put(format!("{env_dir_text}/{ENV_FILE}"), env_text.into_bytes());
    if !versions.versions.is_empty() {
        ws.put(
            format!("{env_dir_text}/{VERSIONS_FILE}"),
            declare::versions_file_text(&versions).into_bytes(),
        );
    }
    let plan = ws.compile(Scope::All, WriteOptions::default())?;
    ws.commit(&plan)?;
    print!("{}", plan.summary());
    let dev_key_path = dev_key.as_ref().map(|(key_path, _)| key_path.as_path());
    print_notes(
        &name,
        &env_dir_text,
        &arguments,
        &domain,
        dev_key_path,
        &versions,
    );
    Ok(0)
}

/// A new environment under the name of one the cascade is removing (`env remove --cascade`
/// step 2 done, its `removal.yaml` still there) would be deleted by step 3's sync with it.
fn refuse_while_removing(ws: &Workspace, name: &EnvName) -> Result<(), Error> {
    if !ws
        .loaded()
        .removals
        .iter()
        .any(|(removing, _)| removing == name)
    {
        return Ok(());
    }
    Err(Error::refused(format!(
        "environment `{name}` is being removed with the cascade (`{}` is there)",
        crate::layout::env_path(name.as_str(), crate::declare::REMOVAL_FILE)
    ))
    .hint(format!(
        "finish the removal first (`dbos-gitops env remove {name} --cascade`, once step 2 has synced), then create it again"
    )))
}

/// The env.yaml of the new environment from the flags: namespace, domain (a placeholder when
/// `--domain` is not given), routing, cluster, OIDC and Conductor's release. With the domain.
fn env_spec_from(name: &EnvName, arguments: &InitEnvArgs) -> Result<(EnvSpec, String), Error> {
    let namespace = match &arguments.namespace {
        Some(namespace) => Namespace::new(namespace)?,
        None => Namespace::new(&format!("dbos-{name}"))?,
    };
    let domain = arguments
        .domain
        .clone()
        .unwrap_or_else(|| format!("{name}.dbos.example.com"));
    crate::model::check_domain(&domain).map_err(Error::input)?;
    let mut env_spec: EnvSpec = declare::parse_env(
        Path::new(ENV_FILE),
        &format!("namespace: {namespace}\ndomain: {domain}\n"),
    )?;
    routing_api(&mut env_spec, arguments)?;
    if let Some(cluster) = &arguments.cluster {
        env_spec.cluster = cluster.clone();
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
        conductor_release(&mut env_spec, version)?;
    }
    Ok((env_spec, domain))
}

/// `--conductor-version X`: Conductor and Console both run the release tag `X`, which must be
/// an image tag and nothing else.
fn conductor_release(env_spec: &mut EnvSpec, version: &str) -> Result<(), Error> {
    let tag_ok = version.len() <= 128
        && !version.starts_with(['.', '-'])
        && version.chars().all(|character| {
            character.is_ascii_alphanumeric() || matches!(character, '.' | '_' | '-')
        });
    if !tag_ok {
        return Err(Error::input(format!(
            "--conductor-version `{version}` is not an image tag"
        ))
        .hint("give the release tag only (no image name), as published for `dbosdev/conductor`"));
    }
    env_spec.conductor.image = format!("dbosdev/conductor:{version}");
    env_spec.console.image = format!("dbosdev/console:{version}");
    Ok(())
}

/// `--app-image IMAGE` (with `--version`): the environment's first version, active; else none.
fn first_version(arguments: &InitEnvArgs) -> Result<VersionsSpec, Error> {
    let Some(image) = &arguments.app_image else {
        return Ok(VersionsSpec::default());
    };
    let version = VersionName::new(&arguments.version)?;
    crate::model::check_image(image).map_err(Error::input)?;
    Ok(VersionsSpec {
        active: Some(version.clone()),
        versions: vec![VersionSpec {
            name: version,
            image: image.clone(),
        }],
    })
}

/// A development key pair and where its private key goes (outside the repository).
type DevKey = (std::path::PathBuf, dbos_gitops_seal::DevKeyPair);

/// The sealing certificate: the controller's (`--cert`), or a development key pair made here
/// with its private key outside the repository.
fn sealing_cert(
    root: &Path,
    name: &EnvName,
    arguments: &InitEnvArgs,
) -> Result<(Vec<u8>, Option<DevKey>), Error> {
    if let Some(path) = &arguments.cert {
        let shown = path.display().to_string();
        let (_, pem) = crate::secret_store::load_cert_file_with_pem(path, &shown)?;
        return Ok((pem, None));
    }
    let key_path = crate::secret_store::dev_key_path(root, name)?;
    let pair = dbos_gitops_seal::generate_dev_keypair(4096, crate::clock::now_unix()?)
        .map_err(|error| Error::input(format!("could not make a development key pair: {error}")))?;
    Ok((
        pair.certificate_pem.clone().into_bytes(),
        Some((key_path, pair)),
    ))
}

/// The notes after `init env`: what is still a placeholder or a default, where the development
/// key went, and what app images need for Conductor.
fn print_notes(
    name: &EnvName,
    env_dir_text: &str,
    arguments: &InitEnvArgs,
    domain: &str,
    dev_key_path: Option<&Path>,
    versions: &VersionsSpec,
) {
    if arguments.domain.is_none() {
        println!("note: no `--domain` given; the ingress uses the placeholder `{domain}` until you set `domain:` in {env_dir_text}/env.yaml");
    }
    if let Some(key_path) = dev_key_path {
        println!(
            "note: no `--cert` given: made a development sealing key pair; its private key is {} (outside the repo, never commit it).\n      For a real cluster, replace {} with `kubeseal --fetch-cert` and re-seal.",
            key_path.display(),
            crate::secret_store::cert_path(name)
        );
    }
    if arguments.conductor_version.is_none() {
        println!("note: Conductor and Console run `latest`; pin their release with `conductor.image`/`console.image` in {env_dir_text}/env.yaml (or `init env --conductor-version X`)");
    }
    if versions.versions.is_empty() {
        println!("note: no application yet; add one with `dbos-gitops version add v1 --env {name} --image IMAGE`");
    }
    println!("note: app pods get `DBOS_CONDUCTOR_KEY`, and DBOS 3.x reaches Conductor only through Transact Enterprise: build app images with `dbos-enterprise` (Python), `@dbos-inc/dbos-enterprise` of the SDK's minor version (TypeScript) or a blank import of `go.dbos.dev/dbos-enterprise-go` (Go), or the pods crash-loop");
}

#[cfg(test)]
mod tests {
    use super::without_credentials;

    #[test]
    fn credentials_leave_the_url_and_addresses_stay() {
        for (given, expected, stripped) in [
            (
                "https://oauth2:ghp_abc@github.com/acme/d.git",
                "https://github.com/acme/d.git",
                true,
            ),
            (
                "https://ghp_abc@github.com/acme/d.git",
                "https://github.com/acme/d.git",
                true,
            ),
            ("HTTP://u:p@h:8080/r?x=@y", "HTTP://h:8080/r?x=@y", true),
            (
                "ssh://git:secret@github.com/acme/d.git",
                "ssh://git@github.com/acme/d.git",
                true,
            ),
            (
                "ssh://git@github.com/acme/d.git",
                "ssh://git@github.com/acme/d.git",
                false,
            ),
            (
                "git@github.com:acme/d.git",
                "git@github.com:acme/d.git",
                false,
            ),
            (
                "https://github.com/acme/d.git",
                "https://github.com/acme/d.git",
                false,
            ),
        ] {
            assert_eq!(
                without_credentials(given),
                (expected.to_string(), stripped),
                "{given}"
            );
        }
    }
}
