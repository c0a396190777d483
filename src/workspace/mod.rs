//! The workspace: one model of the repository in memory for the length of a command.
//!
//! `Workspace::open` takes the repository lock (write mode) as a value it holds, and loads the
//! declarations once (`repo::load`). A command then reads repository files through
//! [`Workspace::read`], and changes them only by [`Workspace::put`] and [`Workspace::remove`],
//! into an overlay over what it loaded. [`Workspace::compile`] reloads exactly the environments
//! the overlay touched (from the overlay over the disk, as a fresh load of the written tree
//! would), renders and plans; [`Workspace::commit`] writes the plan through the journal. So a
//! fact a command changes is recorded once, as the file that carries it; every derived input
//! (a secret file's listing and digests, the certificate's digest, the versions, the Dex users)
//! comes from that file, as it does on the next run. Kustomize's `krusty.Kustomizer::Run` over
//! a `filesys.FileSystem`, with its in-memory harness for tests, has the same shape.
//!
//! Sits above `render`, `model` and `repo`; below `secret_store`, `check` and the commands.

mod compile;
mod tree;

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

pub use compile::{plan_build, resolve_env};
pub use tree::Tree;

use crate::declare::{EnvName, RepoSpec, REPO_FILE};
use crate::error::Error;
use crate::layout;
use crate::model::EnvInput;
use crate::repo::lock::{Held, Shared};
use crate::repo::overlay::Overlay;
use crate::repo::{LoadedRepo, Plan, WriteOptions};

/// Whether a command writes: a writer holds the repository lock from before its first read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    /// A reader of declarations (`list`s): takes no lock.
    Read,
    /// A reader that compares the generated files with the ownership record (`build --check`,
    /// `check`, `diff`): takes the lock shared while it reads, so it never sees a writer's plan
    /// half renamed (`repo::lock::shared`).
    Snapshot,
    /// A writer: the lock, exclusive, from before the first read until the workspace drops.
    Write,
}

/// Which generated files a compile plans: every environment's (and `argocd/`), or one's.
#[derive(Clone, Copy, Debug)]
pub enum Scope<'a> {
    All,
    Env(&'a EnvName),
}

#[derive(Debug)]
pub struct Workspace {
    loaded: LoadedRepo,
    /// The environment a scoped workspace was opened for: its index in `loaded.environments`.
    selected: Option<usize>,
    overlay: Overlay,
    /// The repository's files, each read once (what the load read among them).
    tree: Tree,
    lock: Option<Held>,
    /// The shared lock of a snapshot reader (empty for the other modes): released by
    /// [`Workspace::release_shared`] once the reader has read, else when the workspace drops.
    shared: RefCell<Shared>,
}

impl Workspace {
    /// The whole repository: every environment must load (`build`, `init`, `reseal` of all).
    pub fn open(root: &Path, mode: Mode) -> Result<Workspace, Error> {
        let (lock, shared) = Self::lock(root, mode)?;
        let loaded = crate::repo::load_repo(root)?;
        Ok(Self::from_loaded(loaded, None, lock, shared))
    }

    /// A command about one environment: `env` (or the only one) must load; another whose
    /// declarations do not load is left out and cannot block it (`compile`'s docs).
    pub fn open_env(root: &Path, env: Option<&str>, mode: Mode) -> Result<Workspace, Error> {
        let (lock, shared) = Self::lock(root, mode)?;
        let loaded = crate::repo::load_repo_scoped(root, env)?;
        let name = loaded.select_env(env)?.name.clone();
        let selected = loaded
            .environments
            .iter()
            .position(|candidate| candidate.name == name);
        Ok(Self::from_loaded(loaded, selected, lock, shared))
    }

    /// What `check` reads: every environment that loads, the others named with their error
    /// (reported as findings, `repo::load::load_repo_for_check`), under the shared lock: the
    /// declarations, the record and the generated files as one writer left them.
    pub fn open_for_check(root: &Path) -> Result<(Workspace, Vec<(String, Error)>), Error> {
        let (_, shared) = Self::lock(root, Mode::Snapshot)?;
        let (loaded, failed) = crate::repo::load::load_repo_for_check(root)?;
        Ok((Self::from_loaded(loaded, None, None, shared), failed))
    }

    /// A repository that does not exist yet (`init`): no declarations, `spec` as the repository
    /// file will say once the command puts it. Under the lock, like every writer.
    pub fn create(root: &Path, spec: RepoSpec) -> Result<Workspace, Error> {
        let lock = Some(crate::repo::lock::exclusive(root)?);
        let loaded = LoadedRepo {
            root: root.to_path_buf(),
            spec,
            environments: Vec::new(),
            record: Default::default(),
            scoped_to: None,
            skipped: Vec::new(),
            removals: Vec::new(),
            read: BTreeMap::new(),
            confinement: std::sync::Arc::new(crate::repo::confine::Confinement::new(root)),
        };
        Ok(Self::from_loaded(loaded, None, lock, Shared::default()))
    }

    fn lock(root: &Path, mode: Mode) -> Result<(Option<Held>, Shared), Error> {
        match mode {
            Mode::Write => Ok((Some(crate::repo::lock::exclusive(root)?), Shared::default())),
            Mode::Snapshot => Ok((None, crate::repo::lock::shared(root)?)),
            Mode::Read => Ok((None, Shared::default())),
        }
    }

    /// Whether a snapshot reader stopped waiting while a writer still held the lock: what it
    /// read may be half written, so it must not be compared.
    pub fn writer_active(&self) -> bool {
        self.shared.borrow().writer_active()
    }

    /// Lets writers in again once a snapshot reader has read what it compares (`check` before
    /// its kubectl renders).
    pub fn release_shared(&self) {
        self.shared.borrow_mut().release();
    }

    fn from_loaded(
        mut loaded: LoadedRepo,
        selected: Option<usize>,
        lock: Option<Held>,
        shared: Shared,
    ) -> Self {
        // What the load read is what `read` would read again.
        let tree = Tree::confined_by(std::sync::Arc::clone(&loaded.confinement));
        tree.keep(std::mem::take(&mut loaded.read));
        Workspace {
            loaded,
            selected,
            overlay: Overlay::default(),
            tree,
            lock,
            shared: RefCell::new(shared),
        }
    }

    pub fn root(&self) -> &Path {
        &self.loaded.root
    }

    /// The repository's files as the disk holds them (the overlay aside): what the bulk
    /// readers (`check`'s scan and render keys) walk.
    pub fn tree(&self) -> &Tree {
        &self.tree
    }

    pub fn spec(&self) -> &RepoSpec {
        &self.loaded.spec
    }

    pub fn environments(&self) -> &[EnvInput] {
        &self.loaded.environments
    }

    /// The loaded repository (as of the last compile).
    pub fn loaded(&self) -> &LoadedRepo {
        &self.loaded
    }

    /// The environment a scoped workspace (`open_env`) was opened for, looked up once there.
    /// A workspace of the whole repository with exactly one environment selects that one.
    pub fn selected(&self) -> Result<&EnvInput, Error> {
        match self.selected {
            Some(index) => self
                .loaded
                .environments
                .get(index)
                .ok_or_else(|| Error::input("the selected environment was removed")),
            None => self.loaded.select_env(None),
        }
    }

    /// The environment `name`, with the usual "no environment" error and its hint.
    pub fn env(&self, name: &str) -> Result<&EnvInput, Error> {
        self.loaded.select_env(Some(name))
    }

    /// A repository file as this command sees it: what it put (or `None` for what it removed),
    /// else the disk's bytes, read once. A path that leads out of the repository is refused.
    pub fn read(&self, relative: &str) -> Result<Option<Vec<u8>>, Error> {
        if let Some(overlaid) = self.overlay.get(relative) {
            return Ok(overlaid.map(<[u8]>::to_vec));
        }
        self.read_on_disk(relative)
    }

    /// A repository file as the disk holds it, under whatever this command put: what a dry run
    /// or a report compares the new content with. Read once, confined to the repository.
    pub fn read_on_disk(&self, relative: &str) -> Result<Option<Vec<u8>>, Error> {
        self.tree.read(relative)
    }

    /// [`Workspace::read`] refused past `limit` bytes (`limits`): `what` names the file's kind.
    pub fn read_bounded(
        &self,
        relative: &str,
        limit: usize,
        what: &str,
    ) -> Result<Option<zeroize::Zeroizing<Vec<u8>>>, Error> {
        if let Some(overlaid) = self.overlay.get(relative) {
            return Ok(overlaid.map(|bytes| zeroize::Zeroizing::new(bytes.to_vec())));
        }
        self.tree.read_bounded(relative, limit, what)
    }

    /// Puts a declaration or other file the tool writes but does not generate.
    pub fn put(&mut self, relative: impl Into<String>, bytes: Vec<u8>) {
        self.overlay.put(&relative.into(), bytes, false);
    }

    /// Puts a file that must not be world-readable, outside the repository (development keys).
    pub fn put_private(&mut self, path: PathBuf, bytes: Vec<u8>) {
        self.overlay.put(&path.to_string_lossy(), bytes, true);
    }

    /// Removes a file the tool wrote but does not generate (a SealedSecret whose last key went).
    pub fn remove(&mut self, relative: impl Into<String>) {
        self.overlay.remove(&relative.into());
    }

    /// Whether the command put or removed anything yet.
    pub fn is_changed(&self) -> bool {
        !self.overlay.is_empty()
    }

    /// Reloads what the overlay touched, renders `scope` and plans it against the disk, with the
    /// overlay's files in the plan. Only the environments the overlay touched are read again
    /// (the others are as loaded); a change to `dbos-gitops.yaml` or to a removal record
    /// (`env remove --cascade`) reloads everything.
    pub fn compile(&mut self, scope: Scope, options: WriteOptions) -> Result<Plan, Error> {
        self.reload()?;
        let only_env = match scope {
            Scope::All => None,
            Scope::Env(name) => Some(name.as_str()),
        };
        let mut plan = plan_build(&self.loaded, only_env, options)?;
        for (path, entry) in self.overlay.entries() {
            match entry {
                crate::repo::overlay::Entry::Put {
                    bytes,
                    private: true,
                } => plan.declare_private(PathBuf::from(path), bytes.clone()),
                crate::repo::overlay::Entry::Put { bytes, .. } => {
                    plan.declare(path, bytes.clone())?
                }
                // A generated file the render no longer makes is already the plan's deletion.
                crate::repo::overlay::Entry::Removed if plan.deletes(path) => {}
                crate::repo::overlay::Entry::Removed => plan.remove(path)?,
            }
        }
        Ok(plan)
    }

    /// Writes `plan` (from `compile`) through the journal: every file or none.
    pub fn commit(&self, plan: &Plan) -> Result<(), Error> {
        let lock = self.lock.as_ref().ok_or_else(|| {
            Error::input("internal: a workspace opened to read cannot write")
                .hint("open the workspace in `Mode::Write`")
        })?;
        // The disk changes: nothing read before may stand for it after.
        self.tree.forget();
        plan.apply(lock)
    }

    /// Brings `loaded` up to the overlay.
    fn reload(&mut self) -> Result<(), Error> {
        if self.overlay.is_empty() {
            return Ok(());
        }
        let confinement = std::sync::Arc::clone(&self.loaded.confinement);
        // The repository file, or a removal record (read for every environment: `argocd/`).
        let everything = self.overlay.get(REPO_FILE).is_some()
            || self
                .overlay
                .paths()
                .any(|path| path.ends_with(&format!("/{}", crate::declare::REMOVAL_FILE)));
        if everything {
            let scope = self.loaded.scoped_to.clone();
            let selected = self.selected().ok().map(|env| env.name.clone());
            let reloaded = match &scope {
                Some(name) => crate::repo::load::load_overlaid(
                    &confinement,
                    Some(Some(name.as_str())),
                    &self.overlay,
                )?,
                None => crate::repo::load::load_overlaid(&confinement, None, &self.overlay)?,
            };
            self.loaded = reloaded;
            // Files this reload read from disk for the first time (through no overlay).
            self.tree.keep(std::mem::take(&mut self.loaded.read));
            self.selected = selected.and_then(|name| self.position(&name));
            return Ok(());
        }
        for name in self.touched_environments() {
            let selected = self.selected().ok().map(|env| env.name.clone());
            let reloaded =
                crate::repo::load::load_env_overlaid(&confinement, &name, &self.overlay)?;
            let at = self.position_str(&name);
            match (reloaded, at) {
                (Some(env), Some(index)) => self.loaded.environments[index] = env,
                (Some(env), None) => {
                    self.loaded.environments.push(env);
                    self.loaded
                        .environments
                        .sort_by(|left, right| left.name.as_str().cmp(right.name.as_str()));
                }
                (None, Some(index)) => {
                    self.loaded.environments.remove(index);
                }
                (None, None) => {}
            }
            self.selected = selected.and_then(|name| self.position(&name));
        }
        Ok(())
    }

    /// The environments whose directory holds a file the overlay put or removed.
    fn touched_environments(&self) -> BTreeSet<String> {
        let prefix = format!("{}/", layout::ENVIRONMENTS_DIR);
        self.overlay
            .paths()
            .filter_map(|path| path.strip_prefix(&prefix)?.split_once('/'))
            .map(|(name, _)| name.to_string())
            .collect()
    }

    fn position(&self, name: &EnvName) -> Option<usize> {
        self.position_str(name.as_str())
    }

    fn position_str(&self, name: &str) -> Option<usize> {
        self.loaded
            .environments
            .iter()
            .position(|candidate| candidate.name.as_str() == name)
    }
}
