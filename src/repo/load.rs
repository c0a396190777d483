//! Load: find the repository and read its declarations into the inputs of `model::resolve`.

use std::cell::RefCell;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use super::confine::Confinement;
use super::overlay::Overlay;
use super::ownership::{self, Record, RECORD_FILE};
use super::{confine, fs};
use crate::declare::{self, EnvName, RepoSpec, ENV_FILE, REPO_FILE, VERSIONS_FILE};
use crate::error::Error;
use crate::layout;
use crate::model::EnvInput;

#[derive(Debug)]
pub struct LoadedRepo {
    pub root: PathBuf,
    pub spec: RepoSpec,
    pub environments: Vec<EnvInput>,
    pub record: Record,
    /// Loaded for a command scoped to this one environment (`load_repo_scoped`): other
    /// environments' declarations may not block it.
    pub scoped_to: Option<EnvName>,
    /// Other environments whose declarations did not load (scoped loads only).
    pub skipped: Vec<String>,
    /// `environments/<env>/removal.yaml` records: environments being removed by the cascade
    /// (#24.7), also those whose `env.yaml` is already gone.
    pub removals: Vec<(EnvName, declare::RemovalSpec)>,
    /// The files this load read from disk (not through an overlay), by repository-relative
    /// path, with their bytes (`None`: absent): the workspace's first cache, so that `check`,
    /// the sealing commands and the load read each of them once.
    pub read: BTreeMap<String, Option<Vec<u8>>>,
    /// Confinement to the repository, with what the load learnt of its paths: its plans and
    /// the workspace's tree go on with it (`confine::Confinement`).
    pub confinement: Arc<Confinement>,
}

impl LoadedRepo {
    /// The env named by `--env`, or the only one when there is exactly one.
    pub fn select_env(&self, name: Option<&str>) -> Result<&EnvInput, Error> {
        select_env(&self.environments, name)
    }
}

pub fn select_env<'a>(
    environments: &'a [EnvInput],
    name: Option<&str>,
) -> Result<&'a EnvInput, Error> {
    let known = || {
        environments
            .iter()
            .map(|env| format!("`{}`", env.name))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match name {
        Some(name) => environments
            .iter()
            .find(|env| env.name.as_str() == name)
            .ok_or_else(|| {
                Error::input(format!("no environment `{name}` in this repository")).hint(
                    if environments.is_empty() {
                        format!("create it with `dbos-gitops init env {name}`")
                    } else {
                        format!("known environments: {}", known())
                    },
                )
            }),
        None => match environments {
            [only] => Ok(only),
            [] => Err(Error::input("this repository has no environments yet")
                .hint("create one with `dbos-gitops init env NAME`")),
            _ => Err(Error::input(
                "this repository has several environments; say which with `--env`",
            )
            .hint(format!("known environments: {}", known()))),
        },
    }
}

/// Walks up from `start` to the nearest directory holding `dbos-gitops.yaml`.
pub fn find_root(start: &Path) -> Result<PathBuf, Error> {
    let mut current = Some(start);
    while let Some(dir) = current {
        if dir.join(REPO_FILE).is_file() {
            return Ok(dir.to_path_buf());
        }
        current = dir.parent();
    }
    Err(Error::input(format!(
        "no `{REPO_FILE}` in `{}` or any parent directory",
        start.display()
    ))
    .hint("run `dbos-gitops init` first, or pass `--repo DIR`"))
}

/// Loads every environment; any declaration that does not parse is an error. What `build`,
/// `check` and `init` use: they compile or check every environment.
pub fn load_repo(root: &Path) -> Result<LoadedRepo, Error> {
    let confinement = Arc::new(Confinement::new(root));
    load(&confinement, None, Reader::strict(&confinement)).map(|(loaded, _)| loaded)
}

/// `load_repo` (`scope` `None`) or `load_repo_scoped` (`Some(selected)`) of the tree as it will
/// be once `overlay` is written: what a workspace compiles after a command put a declaration.
/// `confinement` is the one the workspace loaded with.
pub fn load_overlaid(
    confinement: &Arc<Confinement>,
    scope: Option<Option<&str>>,
    overlay: &Overlay,
) -> Result<LoadedRepo, Error> {
    let reader = Reader {
        overlay: Some(overlay),
        ..Reader::strict(confinement)
    };
    load(confinement, scope, reader).map(|(loaded, _)| loaded)
}

/// One environment of the tree as it will be once `overlay` is written, or `None` when it has
/// no `env.yaml` then (removed). The links-out walk is the workspace's, made when it opened.
pub fn load_env_overlaid(
    confinement: &Confinement,
    name: &str,
    overlay: &Overlay,
) -> Result<Option<EnvInput>, Error> {
    let reader = Reader {
        overlay: Some(overlay),
        ..Reader::strict(confinement)
    };
    let env_file = confinement
        .root()
        .join(layout::env_dir(name))
        .join(ENV_FILE);
    if !reader.is_file(&env_file)? {
        return Ok(None);
    }
    load_env(&reader, name).map(Some)
}

/// Loads the repository for a command scoped to one environment: `selected` (or the only one)
/// must load; another environment whose declarations do not parse is left out and listed in
/// `skipped`, so a broken env never blocks a command about a different one.
pub fn load_repo_scoped(root: &Path, selected: Option<&str>) -> Result<LoadedRepo, Error> {
    let confinement = Arc::new(Confinement::new(root));
    load(&confinement, Some(selected), Reader::strict(&confinement)).map(|(loaded, _)| loaded)
}

/// `load_repo` for `check`, which reports paths that lead out of the repository as findings
/// (`check::links`) instead of refusing to run: what leads out is left unread, as if absent.
/// The caller holds the repository lock shared (`Workspace::open_for_check`), so the
/// declarations, the record and the generated files are read as one writer left them. An
/// environment whose declarations do not parse or fit their schema is left out and returned
/// beside the rest, named, with its error (`check` reports it as a finding and checks the
/// others), also when a declaration cannot be read (I/O, not UTF-8).
pub fn load_repo_for_check(root: &Path) -> Result<(LoadedRepo, Vec<(String, Error)>), Error> {
    let confinement = Arc::new(Confinement::new(root));
    load(
        &confinement,
        None,
        Reader {
            lenient: true,
            ..Reader::strict(&confinement)
        },
    )
}

/// Reads of the tree, confined to the repository (`confine`): a path that leads out is refused,
/// or, for `check`, treated as absent.
struct Reader<'a> {
    /// The repository's confinement, and its root (`confinement.root()`).
    confinement: &'a Confinement,
    lenient: bool,
    /// What a workspace put or removed: read before the disk.
    overlay: Option<&'a Overlay>,
    /// What was read from disk (`LoadedRepo::read`).
    kept: RefCell<BTreeMap<String, Option<Vec<u8>>>>,
}

impl<'a> Reader<'a> {
    fn root(&self) -> &'a Path {
        self.confinement.root()
    }

    fn strict(confinement: &'a Confinement) -> Self {
        Reader {
            confinement,
            lenient: false,
            overlay: None,
            kept: RefCell::default(),
        }
    }

    /// Keeps what was read from disk at `path` for the workspace's cache.
    fn keep(&self, path: &Path, bytes: Option<&Vec<u8>>) {
        if let Ok(relative) = path.strip_prefix(self.root()) {
            let relative = relative.to_string_lossy().replace('\\', "/");
            self.kept.borrow_mut().insert(relative, bytes.cloned());
        }
    }

    /// What the overlay says of `path`, if it says anything.
    fn overlaid(&self, path: &Path) -> Option<Option<&'a [u8]>> {
        self.overlay?.get_at(self.root(), path)
    }

    /// The names of the entries of `dir`: the disk's, then the overlay's puts and removals.
    fn list(&self, dir: &Path) -> Result<Vec<String>, Error> {
        let mut names = Vec::new();
        if dir.is_dir() {
            let entries =
                std::fs::read_dir(dir).map_err(|source| Error::io(dir, "list", source))?;
            for entry in entries {
                let entry = entry.map_err(|source| Error::io(dir, "list", source))?;
                names.push(entry.file_name().to_string_lossy().to_string());
            }
        }
        if let (Some(overlay), Ok(relative)) = (self.overlay, dir.strip_prefix(self.root())) {
            let relative = relative.to_string_lossy().replace('\\', "/");
            for (name, present) in overlay.files_in(&relative) {
                if present && !names.iter().any(|known| known == name) {
                    names.push(name.to_string());
                }
            }
            // A directory the overlay puts files under (a new environment).
            for path in overlay.paths() {
                if let Some(rest) = path.strip_prefix(&format!("{relative}/")) {
                    if let Some((first, _)) = rest.split_once('/') {
                        if !names.iter().any(|known| known == first) {
                            names.push(first.to_string());
                        }
                    }
                }
            }
        }
        Ok(names)
    }

    fn allowed(&self, path: &Path) -> Result<bool, Error> {
        match self.confinement.escape(path)? {
            None => Ok(true),
            Some(_) if self.lenient => Ok(false),
            Some(escape) => Err(confine::refusal(self.root(), &escape)),
        }
    }

    /// Refuses a path that leads out, also for `check` (which never gets here with one).
    fn require(&self, path: &Path) -> Result<(), Error> {
        self.confinement.check(path)
    }

    fn read_optional(&self, path: &Path) -> Result<Option<Vec<u8>>, Error> {
        if let Some(overlaid) = self.overlaid(path) {
            return Ok(overlaid.map(<[u8]>::to_vec));
        }
        if !self.allowed(path)? {
            return Ok(None);
        }
        let bytes = fs::read_optional(path)?;
        self.keep(path, bytes.as_ref());
        Ok(bytes)
    }

    /// The UTF-8 text of a declaration that must be there.
    fn text(&self, path: &Path, shown: &Path) -> Result<String, Error> {
        match self.overlaid(path) {
            Some(Some(bytes)) => return fs::utf8(shown, bytes.to_vec()),
            Some(None) => {
                let gone = std::io::Error::from(std::io::ErrorKind::NotFound);
                return Err(Error::io(path, "read", gone));
            }
            None => {}
        }
        self.require(path)?;
        let bytes = std::fs::read(path).map_err(|source| Error::io(path, "read", source))?;
        self.keep(path, Some(&bytes));
        fs::utf8(shown, bytes)
    }

    /// The UTF-8 text of a declaration, if the file is there.
    fn text_optional(&self, path: &Path, shown: &Path) -> Result<Option<String>, Error> {
        self.read_optional(path)?
            .map(|bytes| fs::utf8(shown, bytes))
            .transpose()
    }

    fn is_dir(&self, path: &Path) -> Result<bool, Error> {
        let overlaid = match (self.overlay, path.strip_prefix(self.root())) {
            (Some(overlay), Ok(relative)) => overlay.puts_under(&relative.to_string_lossy()),
            _ => false,
        };
        Ok(overlaid || (self.allowed(path)? && path.is_dir()))
    }

    fn is_file(&self, path: &Path) -> Result<bool, Error> {
        if let Some(overlaid) = self.overlaid(path) {
            return Ok(overlaid.is_some());
        }
        Ok(self.allowed(path)? && path.is_file())
    }
}

/// Environments left out for `check` (lenient reads only): the name and why.
type Failed = Vec<(String, Error)>;

fn load(
    confinement: &Arc<Confinement>,
    scope: Option<Option<&str>>,
    reader: Reader,
) -> Result<(LoadedRepo, Failed), Error> {
    let root = confinement.root();
    // A link out of the repository anywhere in the tree we own refuses the whole command
    // before anything is read: no command reads or writes through one (`check` reports them,
    // from this same walk, and loads what does not lead out).
    let links_out = confinement.links_out()?;
    if !reader.lenient {
        if let Some(escape) = links_out.first() {
            return Err(confine::refusal(root, escape));
        }
    }
    let repo_path = root.join(REPO_FILE);
    let spec = declare::parse_repo(
        Path::new(REPO_FILE),
        &reader.text(&repo_path, Path::new(REPO_FILE))?,
    )?;
    let record = match reader.text_optional(&root.join(RECORD_FILE), Path::new(RECORD_FILE))? {
        Some(text) => ownership::parse(Path::new(RECORD_FILE), &text)?,
        None => Record::new(),
    };
    let mut environments = Vec::new();
    let mut skipped = Vec::new();
    let mut failed = Vec::new();
    let mut scoped_to = None;
    let environments_dir = root.join(layout::ENVIRONMENTS_DIR);
    if reader.is_dir(&environments_dir)? {
        let mut names = Vec::new();
        for name in reader.list(&environments_dir)? {
            let env_file = environments_dir.join(&name).join(ENV_FILE);
            let leads_out =
                reader.overlaid(&env_file).is_none() && confinement.escape(&env_file)?.is_some();
            if leads_out && reader.lenient {
                continue;
            }
            // An environment that leads out is listed so that loading it says why it is refused,
            // and one whose env.yaml is there but no readable file (a directory, a dangling
            // link): reading it fails, never silently skipped (`check` reports it).
            let on_disk =
                reader.overlaid(&env_file).is_none() && env_file.symlink_metadata().is_ok();
            if leads_out || reader.is_file(&env_file)? || on_disk {
                names.push(name);
            }
        }
        names.sort();
        let target = match scope {
            Some(Some(selected)) => Some(selected.to_string()),
            Some(None) if names.len() == 1 => names.first().cloned(),
            _ => None,
        };
        for name in names {
            match load_env(&reader, &name) {
                Ok(env) => environments.push(env),
                Err(_) if scope.is_some() && target.as_deref() != Some(name.as_str()) => {
                    skipped.push(name);
                }
                // For `check`, a declaration that does not parse, fit its schema or cannot be
                // read (I/O, not UTF-8) is its environment's finding; for the others, an error.
                Err(error) if reader.lenient => failed.push((name, error)),
                Err(error) => return Err(error),
            }
        }
        scoped_to = target.and_then(|name| EnvName::new(&name).ok());
    }
    let removals = load_removals(&reader, &environments_dir)?;
    let loaded = LoadedRepo {
        removals,
        read: reader.kept.into_inner(),
        root: root.to_path_buf(),
        spec,
        environments,
        record,
        scoped_to,
        skipped,
        confinement: Arc::clone(confinement),
    };
    Ok((loaded, failed))
}

/// Every `environments/<env>/removal.yaml`, by environment name, sorted (#24.7).
fn load_removals(
    reader: &Reader,
    environments_dir: &Path,
) -> Result<Vec<(EnvName, declare::RemovalSpec)>, Error> {
    let mut removals = Vec::new();
    if !reader.is_dir(environments_dir)? {
        return Ok(removals);
    }
    for name in reader.list(environments_dir)? {
        let Ok(env) = EnvName::new(&name) else {
            continue;
        };
        let shown = PathBuf::from(layout::env_path(&name, declare::REMOVAL_FILE));
        if let Some(text) = reader.text_optional(&reader.root().join(&shown), &shown)? {
            removals.push((env, declare::parse_removal(&shown, &text)?));
        }
    }
    removals.sort_by(|a, b| a.0.as_str().cmp(b.0.as_str()));
    Ok(removals)
}

fn load_env(reader: &Reader, name: &str) -> Result<EnvInput, Error> {
    let root = reader.root();
    let relative = PathBuf::from(layout::env_dir(name));
    let env_name = EnvName::new(name).map_err(|error| {
        Error::input(format!("`{}`: {error}", relative.display()))
            .hint("rename the directory to a DNS-1123 label such as `prod-eu`")
    })?;
    let dir = root.join(&relative);
    let env_file = relative.join(ENV_FILE);
    let spec = declare::parse_env(&env_file, &reader.text(&root.join(&env_file), &env_file)?)?;
    let versions_file = relative.join(VERSIONS_FILE);
    // No versions file: Conductor and Console only, until `version add` declares the app.
    let versions = match reader.text_optional(&root.join(&versions_file), &versions_file)? {
        Some(text) => declare::parse_versions(&versions_file, &text)?,
        None => declare::VersionsSpec::default(),
    };
    let mut secret_files = Vec::new();
    let secrets_dir = root.join(layout::secrets_dir(name));
    if reader.is_dir(&secrets_dir)? {
        for file in reader.list(&secrets_dir)? {
            // One spelling, so `secrets/<name>.yaml` is always the file a secret lives in; and
            // only files (a directory named `x.yaml` is no secret; a link must stay inside).
            if file.ends_with(".yaml")
                && !file.starts_with('.')
                && reader.is_file(&secrets_dir.join(&file))?
            {
                secret_files.push(file);
            }
        }
        secret_files.sort();
    }
    let dex_users_file = relative.join(declare::DEX_USERS_FILE);
    let dex_users = match reader.text_optional(&root.join(&dex_users_file), &dex_users_file)? {
        Some(text) => declare::parse_dex_users(&dex_users_file, &text)?,
        None => declare::DexUsersSpec::default(),
    };
    // Read later by the commands that seal (`secret_store::env_cert`) and by `check`.
    reader.allowed(&dir.join(layout::SEALING_CERT_FILE))?;
    let tls_certificate = reader.is_file(&dir.join(declare::TLS_CERT_FILE))?;
    // The digest of the published CA's bytes: a reissued certificate changes it, which rolls
    // the app pods that trust it.
    let tls_certificate_digest = if tls_certificate {
        reader
            .read_optional(&dir.join(declare::TLS_CERT_FILE))?
            // As git stores it: a CRLF checkout does not roll the pods (`attributes`).
            .map(|bytes| layout::digest(&super::attributes::as_git_stores(bytes)))
    } else {
        None
    };
    // The sealed ciphertexts' digests: pods that read a secret roll when a value they read
    // changes (`render::rollout`).
    let mut secret_digests = crate::model::SecretDigests::new();
    for file in &secret_files {
        if let Some(bytes) = reader.read_optional(&secrets_dir.join(file))? {
            let stem = file.trim_end_matches(".yaml");
            let (name, keys) = super::sealed_digests::sealed_digests(stem, &bytes);
            secret_digests.insert(name, keys);
        }
    }
    Ok(EnvInput {
        secret_digests,
        name: env_name,
        spec,
        versions,
        secret_files,
        dex_users,
        tls_certificate,
        tls_certificate_digest,
    })
}
