//! The overlay: files a command has put into, or removed from, its workspace and not yet
//! written. `load` reads through it (a path in the overlay is what the overlay says, whatever
//! the disk holds), so a compile after a `put` sees the tree as it will be once the plan is
//! written, and `Plan` writes exactly these files. Kept in the order the command made them:
//! the journal writes declarations in that order (`journal::Order`).

use std::path::{Path, PathBuf};

/// What the overlay holds for one path.
#[derive(Debug, Clone)]
pub enum Entry {
    /// New contents, with whether the file must not be world-readable (development keys).
    Put {
        bytes: Vec<u8>,
        private: bool,
    },
    Removed,
}

#[derive(Debug, Default, Clone)]
pub struct Overlay {
    /// Repository-relative paths (`/`-separated), or absolute ones for private files outside it.
    entries: Vec<(String, Entry)>,
}

impl Overlay {
    pub fn put(&mut self, path: &str, bytes: Vec<u8>, private: bool) {
        self.set(path, Entry::Put { bytes, private });
    }

    pub fn remove(&mut self, path: &str) {
        self.set(path, Entry::Removed);
    }

    fn set(&mut self, path: &str, entry: Entry) {
        match self.entries.iter_mut().find(|(held, _)| held == path) {
            Some((_, held)) => *held = entry,
            None => self.entries.push((path.to_string(), entry)),
        }
    }

    /// `None` when the overlay says nothing of `path`; `Some(None)` when it removed it.
    pub fn get(&self, path: &str) -> Option<Option<&[u8]>> {
        self.entries
            .iter()
            .find(|(held, _)| held == path)
            .map(|(_, entry)| match entry {
                Entry::Put { bytes, .. } => Some(bytes.as_slice()),
                Entry::Removed => None,
            })
    }

    /// [`Overlay::get`] for an absolute path under `root`.
    pub fn get_at(&self, root: &Path, path: &Path) -> Option<Option<&[u8]>> {
        let relative = relative(root, path)?;
        self.get(&relative)
    }

    /// The names of files the overlay puts directly inside `dir` (relative to the repository).
    pub fn files_in(&self, dir: &str) -> impl Iterator<Item = (&str, bool)> {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.entries.iter().filter_map(move |(path, entry)| {
            let name = path.strip_prefix(&prefix)?;
            (!name.contains('/')).then_some((name, matches!(entry, Entry::Put { .. })))
        })
    }

    /// Whether the overlay puts any file under `dir`.
    pub fn puts_under(&self, dir: &str) -> bool {
        let prefix = format!("{}/", dir.trim_end_matches('/'));
        self.entries
            .iter()
            .any(|(path, entry)| path.starts_with(&prefix) && matches!(entry, Entry::Put { .. }))
    }

    pub fn entries(&self) -> &[(String, Entry)] {
        &self.entries
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Every path in the overlay.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(path, _)| path.as_str())
    }
}

/// `path` relative to `root`, `/`-separated, when it is under it.
fn relative(root: &Path, path: &Path) -> Option<String> {
    let rest: PathBuf = path.strip_prefix(root).ok()?.to_path_buf();
    let parts: Vec<String> = rest
        .components()
        .map(|part| part.as_os_str().to_string_lossy().into_owned())
        .collect();
    Some(parts.join("/"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_word_on_a_path_wins_and_keeps_its_place() {
        let mut overlay = Overlay::default();
        overlay.put("a/x.yaml", b"1".to_vec(), false);
        overlay.put("a/y.yaml", b"2".to_vec(), false);
        overlay.remove("a/x.yaml");
        assert_eq!(overlay.get("a/x.yaml"), Some(None));
        assert_eq!(overlay.get("a/y.yaml"), Some(Some(&b"2"[..])));
        assert_eq!(overlay.get("a/z.yaml"), None);
        let order: Vec<&str> = overlay.paths().collect();
        assert_eq!(order, ["a/x.yaml", "a/y.yaml"]);
        let inside: Vec<(&str, bool)> = overlay.files_in("a").collect();
        assert_eq!(inside, [("x.yaml", false), ("y.yaml", true)]);
        assert!(overlay.puts_under("a"));
        assert!(!overlay.puts_under("b"));
    }

    #[test]
    fn absolute_paths_under_the_root_are_looked_up_relative() {
        let mut overlay = Overlay::default();
        overlay.put("environments/dev/tls.crt", b"pem".to_vec(), false);
        let root = Path::new("/repo");
        assert_eq!(
            overlay.get_at(root, Path::new("/repo/environments/dev/tls.crt")),
            Some(Some(&b"pem"[..]))
        );
        assert_eq!(overlay.get_at(root, Path::new("/elsewhere/tls.crt")), None);
    }
}
