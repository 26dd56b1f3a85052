//! Writing the metrics file the way the textfile collector needs it: a
//! temporary file in the same directory (a name node_exporter ignores, as it
//! reads only `*.prom`), flushed to disk, then renamed over the last one, so a
//! scrape never sees half a file. Reading back one value of the previous
//! file carries "last success" across failing runs.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// Refuses, before the run, a path whose directory is missing or not
/// writable: a run whose metrics cannot be written would go unseen.
pub(crate) fn check_writable(path: &Path) -> Result<()> {
    let directory = directory(path);
    let meta = std::fs::metadata(&directory).map_err(|e| {
        Error::new(format!(
            "cannot use `--metrics-file {}`: its directory `{}` is not there ({e})",
            path.display(),
            directory.display()
        ))
        .hint("create the directory (node_exporter's `--collector.textfile.directory`) first")
    })?;
    if !meta.is_dir() {
        return Err(Error::new(format!(
            "cannot use `--metrics-file {}`: `{}` is not a directory",
            path.display(),
            directory.display()
        )));
    }
    if path.file_name().is_none() || path.is_dir() {
        return Err(Error::new(format!(
            "cannot use `--metrics-file {}`: it names a directory, not a file",
            path.display()
        ))
        .hint("name a file ending in `.prom`, e.g. `/var/lib/node_exporter/textfile/dbops-drift.prom`"));
    }
    let probe = temporary(path);
    std::fs::File::create(&probe)
        .and_then(|_| std::fs::remove_file(&probe))
        .map_err(|e| {
            Error::new(format!(
                "cannot use `--metrics-file {}`: cannot write in `{}` ({e})",
                path.display(),
                directory.display()
            ))
            .hint("run dbops as a user that may write there, or choose another directory")
        })
}

/// Replaces `path` with `content` atomically (mode 0644: metrics hold no
/// secret and the collector runs as its own user).
pub(crate) fn write(path: &Path, content: &str) -> Result<()> {
    use std::os::unix::fs::OpenOptionsExt;
    let temporary = temporary(path);
    let result = (|| {
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o644)
            .open(&temporary)?;
        file.write_all(content.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    })();
    result.map_err(|e| {
        let _ = std::fs::remove_file(&temporary);
        Error::new(format!(
            "cannot write the metrics file `{}`: {e}",
            path.display()
        ))
    })
}

/// The value of `metric{command="COMMAND"}` (with `environment` after it,
/// when one is given) in the file at `path` as dbops last wrote it, if the
/// file is there and holds it.
pub(crate) fn previous_value(
    path: &Path,
    metric: &str,
    command: &str,
    environment: Option<&str>,
) -> Option<f64> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .ok()?
        .take(1 << 20)
        .read_to_string(&mut text)
        .ok()?;
    let prefix = match environment {
        Some(environment) => {
            format!("{metric}{{command=\"{command}\",environment=\"{environment}\"}} ")
        }
        None => format!("{metric}{{command=\"{command}\"}} "),
    };
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .and_then(|value| value.trim().parse::<f64>().ok())
        .filter(|value| value.is_finite())
}

fn directory(path: &Path) -> PathBuf {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

fn temporary(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    directory(path).join(format!(".{name}.{}.tmp", std::process::id()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_is_replaced_whole_and_the_last_success_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("dbops-drift.prom");
        check_writable(&path).unwrap();
        write(
            &path,
            "dbops_last_success_timestamp_seconds{command=\"drift\"} 1733133133.5\n",
        )
        .unwrap();
        assert_eq!(
            previous_value(&path, "dbops_last_success_timestamp_seconds", "drift", None),
            Some(1_733_133_133.5)
        );
        assert_eq!(
            previous_value(&path, "dbops_last_success_timestamp_seconds", "apply", None),
            None
        );
        write(&path, "x 1\n").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "x 1\n");
        let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(names.len(), 1, "no temporary file left");
        assert!(check_writable(&dir.path().join("missing/x.prom")).is_err());
        assert!(check_writable(dir.path()).is_err());
    }
}
