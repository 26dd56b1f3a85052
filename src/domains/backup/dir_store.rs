//! A repository directory read the way a bucket is listed: keys are paths
//! relative to the root with `/` between parts, in byte order, each with its
//! modification time. The tree is walked once per lister and kept, so the
//! listing's pages and levels cost no further reads. Reads only; symbolic
//! links are not followed out of the tree.

use std::path::{Path, PathBuf};
use std::time::SystemTime;

use crate::error::{Error, Result};

/// `(key, modification time)`, as a bucket listing gives it.
type Object = (String, Option<SystemTime>);

pub(crate) struct DirStore {
    root: PathBuf,
    /// Every file under the root, sorted by key; read on first use.
    keys: Option<Vec<Object>>,
}

impl DirStore {
    pub(crate) fn new(root: &Path) -> Self {
        Self {
            root: root.to_path_buf(),
            keys: None,
        }
    }

    fn error(&self, what: &str, error: &std::io::Error) -> Error {
        Error::new(format!(
            "cannot read the repository directory `{}`: {what}: {error}",
            self.root.display()
        ))
        .hint("run drift as a user that may read the repository (its owner, or a member of its group)")
    }

    fn keys(&mut self) -> Result<&[Object]> {
        if self.keys.is_none() {
            match std::fs::symlink_metadata(&self.root) {
                Ok(meta) if meta.is_dir() => {}
                Ok(_) => {
                    return Err(Error::new(format!(
                        "the repository path `{}` is not a directory",
                        self.root.display()
                    )))
                }
                Err(e) => return Err(self.error("its root", &e)),
            }
            let mut keys = Vec::new();
            let mut pending = vec![(self.root.clone(), String::new())];
            while let Some((dir, prefix)) = pending.pop() {
                let entries = std::fs::read_dir(&dir)
                    .map_err(|e| self.error(&format!("`{}`", dir.display()), &e))?;
                for entry in entries {
                    let entry =
                        entry.map_err(|e| self.error(&format!("`{}`", dir.display()), &e))?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    let meta = entry
                        .metadata()
                        .map_err(|e| self.error(&format!("`{}`", entry.path().display()), &e))?;
                    let key = format!("{prefix}{name}");
                    if meta.is_dir() {
                        pending.push((entry.path(), format!("{key}/")));
                    } else if meta.is_file() {
                        keys.push((key, meta.modified().ok()));
                    }
                }
            }
            keys.sort_by(|a, b| a.0.cmp(&b.0));
            self.keys = Some(keys);
        }
        Ok(self.keys.as_deref().unwrap_or_default())
    }

    /// Up to `max` keys under `prefix`, after `start_after`, in order.
    pub(crate) fn page(
        &mut self,
        prefix: &str,
        start_after: Option<&str>,
        max: usize,
    ) -> Result<Vec<Object>> {
        let keys = self.keys()?;
        let from = keys.partition_point(|(k, _)| {
            k.as_str() < prefix || start_after.is_some_and(|after| k.as_str() <= after)
        });
        Ok(keys[from..]
            .iter()
            .take_while(|(k, _)| k.starts_with(prefix))
            .take(max)
            .cloned()
            .collect())
    }

    /// The keys directly under `prefix`, and the sub-prefixes (`.../`).
    pub(crate) fn level(&mut self, prefix: &str) -> Result<(Vec<Object>, Vec<String>)> {
        let mut objects = Vec::new();
        let mut prefixes: Vec<String> = Vec::new();
        for (key, time) in self.page(prefix, None, usize::MAX)? {
            match key[prefix.len()..].split_once('/') {
                Some((part, _)) => {
                    let sub = format!("{prefix}{part}/");
                    if prefixes.last() != Some(&sub) {
                        prefixes.push(sub);
                    }
                }
                None => objects.push((key, time)),
            }
        }
        Ok((objects, prefixes))
    }

    /// The file at `key` and its size, at most `cap + 1` bytes read;
    /// `None` when there is no such file.
    pub(crate) fn read(&mut self, key: &str, cap: Option<u64>) -> Result<Option<(Vec<u8>, u64)>> {
        use std::io::Read;
        if key.split('/').any(|part| part == ".." || part.is_empty()) {
            return Ok(None);
        }
        let path = self.root.join(key);
        let file = match std::fs::File::open(&path) {
            Ok(file) => file,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(self.error(&format!("`{key}`"), &e)),
        };
        let size = file
            .metadata()
            .map_err(|e| self.error(&format!("`{key}`"), &e))?
            .len();
        let mut bytes = Vec::new();
        file.take(cap.map_or(u64::MAX, |c| c + 1))
            .read_to_end(&mut bytes)
            .map_err(|e| self.error(&format!("`{key}`"), &e))?;
        Ok(Some((bytes, size)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_lists_like_a_bucket() {
        let dir = tempfile::tempdir().unwrap();
        for key in [
            "archive/main/archive.info",
            "archive/main/15-1/0000000100000000/000000010000000000000002-ab.gz",
            "archive/main/15-1/0000000100000000/000000010000000000000001-cd.gz",
            "backup/main/backup.info",
        ] {
            let path = dir.path().join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, key).unwrap();
        }
        let mut store = DirStore::new(dir.path());
        let keys =
            |objects: Vec<Object>| -> Vec<String> { objects.into_iter().map(|(k, _)| k).collect() };
        assert_eq!(
            keys(store.page("archive/main/15-1/", None, 10).unwrap()),
            [
                "archive/main/15-1/0000000100000000/000000010000000000000001-cd.gz",
                "archive/main/15-1/0000000100000000/000000010000000000000002-ab.gz"
            ]
        );
        let after = "archive/main/15-1/0000000100000000/000000010000000000000001";
        assert_eq!(
            store.page("archive/", Some(after), 10).unwrap().len(),
            3,
            "the key after a segment's bare name is the segment itself"
        );
        let (objects, prefixes) = store.level("archive/main/").unwrap();
        assert_eq!(keys(objects), ["archive/main/archive.info"]);
        assert_eq!(prefixes, ["archive/main/15-1/"]);
        assert_eq!(
            store.read("backup/main/backup.info", Some(4)).unwrap(),
            Some((b"backu".to_vec(), 23))
        );
        assert_eq!(store.read("backup/main/none", None).unwrap(), None);
        assert_eq!(store.read("../etc/passwd", None).unwrap(), None);
        let missing = DirStore::new(&dir.path().join("gone"))
            .page("", None, 1)
            .unwrap_err();
        assert!(missing
            .message()
            .contains("cannot read the repository directory"));
    }
}
