//! Where sets are kept: a local directory or a bucket, behind one API.
//! Listing reads only what retention can still hold (a bucket is listed by
//! class, database and month, never the whole tree); writing streams
//! through SHA-256 (a directory: a `.partial` file, fsync, rename; a
//! bucket: a multipart upload, aborted on failure), and the manifest comes
//! last. A set is complete exactly when its `manifest.json` exists.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};

use super::desired::Destination;
use super::layout::{self, Class};
use super::manifest::{Manifest, MAX_MANIFEST_BYTES};
use crate::error::{Error, ErrorKind, Result};
use crate::s3::client::{classify, failure_error};
use crate::s3::BucketSpec;

/// One set found.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct SetEntry {
    pub(crate) database: String,
    /// Seconds since the epoch, from its name.
    pub(crate) at: i64,
    pub(crate) class: Option<Class>,
    /// The set's directory, or its key prefix (ending in `/`).
    pub(crate) location: String,
    pub(crate) complete: bool,
    /// The size of the dump file(s) as listed (not the roles or manifest).
    pub(crate) dump_bytes: u64,
    /// The newest file's modification.
    pub(crate) modified: Option<SystemTime>,
}

pub(crate) enum Store {
    Directory(PathBuf),
    Bucket(BucketStore),
}

/// A bucket destination: its client, the declaration, the key prefix, and
/// the requests made so far (drift reports them).
pub(crate) struct BucketStore {
    s3: Client,
    bucket: BucketSpec,
    prefix: String,
    requests: std::cell::Cell<usize>,
}

/// Sizes of the parts of a multipart upload: 8 MiB (S3's minimum is 5).
const PART: usize = 8 << 20;

/// The dump file of `database` in a set.
pub(crate) fn dump_name(database: &str, directory_format: bool) -> String {
    if directory_format {
        format!("{database}.dir")
    } else {
        format!("{database}.dump")
    }
}

impl Store {
    pub(crate) async fn open(destination: &Destination, timeout: Duration) -> Store {
        match destination {
            Destination::Directory(path) => Store::Directory(path.clone()),
            Destination::Bucket { bucket, prefix } => Store::Bucket(BucketStore {
                s3: crate::s3::client::client(bucket, timeout).await,
                bucket: bucket.clone(),
                prefix: prefix.clone(),
                requests: std::cell::Cell::new(0),
            }),
        }
    }

    /// S3 requests made so far (0 for a directory).
    pub(crate) fn requests(&self) -> usize {
        match self {
            Store::Directory(_) => 0,
            Store::Bucket(store) => store.requests.get(),
        }
    }

    /// A set's location for `database` at `at`.
    pub(crate) fn location(&self, database: &str, at: i64, class: Option<Class>) -> String {
        match self {
            Store::Directory(root) => root
                .join(database)
                .join(layout::stamp(at))
                .display()
                .to_string(),
            Store::Bucket(store) => format!(
                "{}/{}/{database}/{}/",
                store.prefix,
                class.unwrap_or(Class::Daily).word(),
                layout::stamp(at)
            ),
        }
    }

    /// The sets of `database` dated at or after `since`, oldest first.
    pub(crate) async fn list(&self, database: &str, since: i64) -> Result<Vec<SetEntry>> {
        let mut sets = match self {
            Store::Directory(root) => list_directory(&root.join(database), database, since)?,
            Store::Bucket(store) => store.list(database, since).await?,
        };
        sets.sort_by_key(|s| s.at);
        Ok(sets)
    }

    /// Starts a set: a new directory (refused if it exists: a set is never
    /// overwritten), or nothing yet for a bucket.
    pub(crate) fn create(&self, location: &str) -> Result<()> {
        if let Store::Directory(_) = self {
            let path = Path::new(location);
            use std::os::unix::fs::DirBuilderExt;
            // Dumps hold every row: their folders are the writer's alone.
            if let Some(parent) = path.parent() {
                std::fs::DirBuilder::new()
                    .recursive(true)
                    .mode(0o700)
                    .create(parent)
                    .map_err(|e| io_error("create", parent, &e))?;
            }
            std::fs::DirBuilder::new()
                .mode(0o700)
                .create(path)
                .map_err(|e| io_error("create", path, &e))?;
        }
        Ok(())
    }

    /// Streams `reader` into `name` of the set at `location`, hashing as it
    /// goes: (bytes, SHA-256 hex). Nothing of a failed write stays visible
    /// (a partial file is removed, a multipart upload aborted). Once the
    /// stream ends, `writer_exited` must say the writer (pg_dump) succeeded
    /// before the file is committed: a truncated dump never takes the
    /// dump's name.
    pub(crate) async fn write_stream(
        &self,
        location: &str,
        name: &str,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        writer_exited: impl std::future::Future<Output = Result<()>>,
    ) -> Result<(u64, String)> {
        match self {
            Store::Directory(_) => {
                let path = Path::new(location).join(name);
                let partial = Path::new(location).join(format!("{name}.partial"));
                let guard = RemoveOnDrop(Some(partial.clone()));
                let mut file = tokio::fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .mode(0o600)
                    .open(&partial)
                    .await
                    .map_err(|e| io_error("create", &partial, &e))?;
                let (bytes, sha256) = copy_hashed(
                    reader,
                    &mut file,
                    |e| Error::new(format!("cannot read pg_dump's output: {e}")),
                    |e| io_error("write", &partial, &e),
                )
                .await?;
                file.sync_all()
                    .await
                    .map_err(|e| io_error("flush", &partial, &e))?;
                drop(file);
                writer_exited.await?;
                std::fs::rename(&partial, &path).map_err(|e| io_error("rename", &partial, &e))?;
                guard.defuse();
                sync_directory(Path::new(location))?;
                Ok((bytes, sha256))
            }
            Store::Bucket(store) => store.upload(location, name, reader, writer_exited).await,
        }
    }

    /// Writes a small file whole (the roles, the manifest).
    pub(crate) async fn write_small(&self, location: &str, name: &str, body: &[u8]) -> Result<()> {
        match self {
            Store::Directory(_) => {
                let path = Path::new(location).join(name);
                crate::util::files::write_atomic(&path, body, 0o600, None)?;
                sync_directory(Path::new(location))
            }
            Store::Bucket(store) => store.put(location, name, body).await,
        }
    }

    /// The bytes of `name` in a set (bounded: manifests, roles).
    pub(crate) async fn read_small(
        &self,
        location: &str,
        name: &str,
        limit: u64,
    ) -> Result<Vec<u8>> {
        let mut reader = self.open_read(location, name).await?;
        let mut out = Vec::new();
        (&mut reader)
            .take(limit + 1)
            .read_to_end(&mut out)
            .await
            .map_err(|e| Error::new(format!("cannot read `{name}` of `{location}`: {e}")))?;
        if out.len() as u64 > limit {
            return Err(Error::new(format!(
                "`{name}` of `{location}` is larger than the {limit} bytes dbops reads"
            )));
        }
        Ok(out)
    }

    /// A set's manifest, parsed.
    pub(crate) async fn manifest(&self, location: &str) -> Result<Manifest> {
        let bytes = self
            .read_small(location, "manifest.json", MAX_MANIFEST_BYTES)
            .await?;
        serde_json::from_slice(&bytes)
            .map_err(|e| Error::new(format!("the manifest of `{location}` does not parse: {e}")))
    }

    /// A reader of `name` in a set.
    pub(crate) async fn open_read(
        &self,
        location: &str,
        name: &str,
    ) -> Result<Box<dyn AsyncRead + Unpin + Send>> {
        match self {
            Store::Directory(_) => {
                let path = Path::new(location).join(name);
                let file = tokio::fs::File::open(&path)
                    .await
                    .map_err(|e| io_error("open", &path, &e))?;
                Ok(Box::new(file))
            }
            Store::Bucket(store) => store.get(location, name).await,
        }
    }

    /// Deletes a set (the directory pruner; a bucket's sets expire by its
    /// lifecycle rules, never by dbops).
    pub(crate) fn delete(&self, set: &SetEntry) -> Result<()> {
        match self {
            Store::Directory(_) => {
                let path = Path::new(&set.location);
                std::fs::remove_dir_all(path).map_err(|e| io_error("delete", path, &e))?;
                // Empty day, month and year folders go too.
                let mut parent = path.parent();
                for _ in 0..3 {
                    let Some(dir) = parent else { break };
                    if std::fs::remove_dir(dir).is_err() {
                        break;
                    }
                    parent = dir.parent();
                }
                Ok(())
            }
            Store::Bucket(_) => Err(Error::internal(
                "sets in a bucket expire by lifecycle rules",
            )),
        }
    }
}

/// Copies `reader` into `writer` through SHA-256, a megabyte at a time:
/// (bytes, SHA-256 hex). `read` and `write` say what failed where.
pub(crate) async fn copy_hashed(
    reader: &mut (dyn AsyncRead + Unpin + Send),
    writer: &mut (dyn tokio::io::AsyncWrite + Unpin + Send),
    read: impl Fn(std::io::Error) -> Error,
    write: impl Fn(std::io::Error) -> Error,
) -> Result<(u64, String)> {
    let mut hasher = Sha256::new();
    let mut bytes = 0u64;
    let mut buffer = vec![0u8; 1 << 20];
    loop {
        let n = reader.read(&mut buffer).await.map_err(&read)?;
        if n == 0 {
            return Ok((bytes, hex(&hasher.finalize())));
        }
        hasher.update(&buffer[..n]);
        bytes += n as u64;
        writer.write_all(&buffer[..n]).await.map_err(&write)?;
    }
}

/// The folder drills from dumps record their evidence in, beside the
/// databases' folders (a database may not take its name).
pub(crate) const EVIDENCE_FOLDER: &str = "dump-tests";

/// One drill's evidence found: its folder (or key prefix) and the date
/// folder it lies in.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct EvidenceEntry {
    pub(crate) date: String,
    pub(crate) location: String,
}

impl Store {
    /// A new folder for the evidence of a drill that started on `date`
    /// (`YYYY-MM-DD`) at `time` (`HHMMSS`): `.../dump-tests/DATE/TIMEZ`, or
    /// with `-2`, `-3`... when a drill of the same second got there first.
    /// Evidence is never overwritten.
    pub(crate) async fn evidence_location(&self, date: &str, time: &str) -> Result<String> {
        for n in 1..=100 {
            let leaf = match n {
                1 => format!("{time}Z"),
                n => format!("{time}Z-{n}"),
            };
            match self {
                Store::Directory(root) => {
                    use std::os::unix::fs::DirBuilderExt;
                    let day = root.join(EVIDENCE_FOLDER).join(date);
                    std::fs::DirBuilder::new()
                        .recursive(true)
                        .mode(0o700)
                        .create(&day)
                        .map_err(|e| io_error("create", &day, &e))?;
                    let path = day.join(&leaf);
                    match std::fs::DirBuilder::new().mode(0o700).create(&path) {
                        Ok(()) => return Ok(path.display().to_string()),
                        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                        Err(e) => return Err(io_error("create", &path, &e)),
                    }
                }
                Store::Bucket(store) => {
                    let location = format!("{}/{EVIDENCE_FOLDER}/{date}/{leaf}/", store.prefix);
                    if store.list_keys(&location).await?.is_empty() {
                        return Ok(location);
                    }
                }
            }
        }
        Err(Error::new(format!(
            "a hundred drills already recorded evidence at {date} {time}Z"
        )))
    }

    /// `name` of the set or evidence folder at `location`, for messages:
    /// a path, or an `s3://` URI.
    pub(crate) fn uri(&self, location: &str, name: &str) -> String {
        match self {
            Store::Directory(_) => Path::new(location).join(name).display().to_string(),
            Store::Bucket(store) => format!("s3://{}/{location}{name}", store.bucket.name),
        }
    }

    /// Where evidence is read from and written to, for messages.
    pub(crate) fn evidence_root(&self) -> String {
        match self {
            Store::Directory(root) => root.join(EVIDENCE_FOLDER).display().to_string(),
            Store::Bucket(store) => format!(
                "s3://{}/{}/{EVIDENCE_FOLDER}/",
                store.bucket.name, store.prefix
            ),
        }
    }

    /// The evidence of drills dated from `since` on, newest first. A
    /// bucket is listed one month prefix at a time, so the cost follows
    /// the window, not the history.
    pub(crate) async fn evidence(&self, since: i64, now: i64) -> Result<Vec<EvidenceEntry>> {
        let since_date = layout::stamp(since)[..10].replace('/', "-");
        let mut out = Vec::new();
        match self {
            Store::Directory(root) => {
                let base = root.join(EVIDENCE_FOLDER);
                let dates = match std::fs::read_dir(&base) {
                    Ok(entries) => entries.flatten().collect::<Vec<_>>(),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                    Err(e) => return Err(io_error("list", &base, &e)),
                };
                for date in dates {
                    let name = date.file_name().to_string_lossy().into_owned();
                    if name.len() != 10 || name < since_date {
                        continue;
                    }
                    for run in std::fs::read_dir(date.path())
                        .into_iter()
                        .flatten()
                        .flatten()
                    {
                        if run.path().join("evidence.json").is_file() {
                            out.push(EvidenceEntry {
                                date: name.clone(),
                                location: run.path().display().to_string(),
                            });
                        }
                    }
                }
            }
            Store::Bucket(store) => {
                let (mut year, mut month, _) = layout::civil(since.div_euclid(86_400));
                let (end_year, end_month, _) = layout::civil(now.div_euclid(86_400));
                while (year, month) <= (end_year, end_month) {
                    let key_prefix =
                        format!("{}/{EVIDENCE_FOLDER}/{year:04}-{month:02}", store.prefix);
                    for (key, _, _) in store.list_keys(&key_prefix).await? {
                        let Some(location) = key.strip_suffix("evidence.json") else {
                            continue;
                        };
                        let rest = &location[store.prefix.len() + EVIDENCE_FOLDER.len() + 2..];
                        let Some((date, _)) = rest.split_once('/') else {
                            continue;
                        };
                        if date.len() == 10 && date >= since_date.as_str() {
                            out.push(EvidenceEntry {
                                date: date.to_string(),
                                location: location.to_string(),
                            });
                        }
                    }
                    (year, month) = if month == 12 {
                        (year + 1, 1)
                    } else {
                        (year, month + 1)
                    };
                }
            }
        }
        out.sort();
        out.reverse();
        Ok(out)
    }
}

impl BucketStore {
    /// One request: `location` + `name`, whole.
    async fn put(&self, location: &str, name: &str, body: &[u8]) -> Result<()> {
        self.requests.set(self.requests.get() + 1);
        self.s3
            .put_object()
            .bucket(&self.bucket.name)
            .key(format!("{location}{name}"))
            .body(ByteStream::from(body.to_vec()))
            .send()
            .await
            .map_err(|e| failure_error(&self.bucket, "PutObject", None, classify(&e)))?;
        Ok(())
    }

    /// One request: a reader of `location` + `name`.
    async fn get(&self, location: &str, name: &str) -> Result<Box<dyn AsyncRead + Unpin + Send>> {
        self.requests.set(self.requests.get() + 1);
        let object = self
            .s3
            .get_object()
            .bucket(&self.bucket.name)
            .key(format!("{location}{name}"))
            .send()
            .await
            .map_err(|e| failure_error(&self.bucket, "GetObject", None, classify(&e)))?;
        Ok(Box::new(object.body.into_async_read()))
    }

    async fn list(&self, database: &str, since: i64) -> Result<Vec<SetEntry>> {
        let prefix = &self.prefix;
        let now = unix(SystemTime::now());
        let mut sets: std::collections::BTreeMap<String, SetEntry> = Default::default();
        for class in Class::ALL {
            // Month by month from `since`: requests grow with retention,
            // never with the history the bucket holds.
            let mut month = layout::month(since.min(now));
            let last = layout::month(now);
            while month <= last {
                let (year, m) = ((month - 1).div_euclid(12), (month - 1).rem_euclid(12) + 1);
                let key_prefix = format!("{prefix}/{}/{database}/{year:04}/{m:02}/", class.word());
                for (key, size, modified) in self.list_keys(&key_prefix).await? {
                    let Some(rest) =
                        key.strip_prefix(&format!("{prefix}/{}/{database}/", class.word()))
                    else {
                        continue;
                    };
                    let mut parts = rest.splitn(5, '/');
                    let stamp: Vec<&str> = (0..4).filter_map(|_| parts.next()).collect();
                    let Some(file) = parts.next() else { continue };
                    let Some(at) = layout::parse_stamp(&stamp.join("/")) else {
                        continue;
                    };
                    if at < since {
                        continue;
                    }
                    let location =
                        format!("{prefix}/{}/{database}/{}/", class.word(), stamp.join("/"));
                    let entry = sets.entry(location.clone()).or_insert(SetEntry {
                        database: database.to_string(),
                        at,
                        class: Some(class),
                        location,
                        complete: false,
                        dump_bytes: 0,
                        modified: None,
                    });
                    if file == "manifest.json" {
                        entry.complete = true;
                    } else if file.starts_with(&dump_name(database, false)) {
                        entry.dump_bytes += size;
                    }
                    entry.modified = entry.modified.max(modified);
                }
                month += 1;
            }
        }
        Ok(sets.into_values().collect())
    }

    async fn list_keys(&self, key_prefix: &str) -> Result<Vec<(String, u64, Option<SystemTime>)>> {
        let Self {
            s3,
            bucket,
            requests,
            ..
        } = self;
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        loop {
            requests.set(requests.get() + 1);
            let page = s3
                .list_objects_v2()
                .bucket(&bucket.name)
                .prefix(key_prefix)
                .set_continuation_token(token.clone())
                .send()
                .await
                .map_err(|e| failure_error(bucket, "ListObjectsV2", None, classify(&e)))?;
            for object in page.contents() {
                let modified = object
                    .last_modified()
                    .and_then(|t| SystemTime::try_from(*t).ok());
                out.push((
                    object.key().unwrap_or_default().to_string(),
                    object.size().unwrap_or(0).max(0) as u64,
                    modified,
                ));
            }
            token = page.next_continuation_token().map(str::to_string);
            if token.is_none() || !page.is_truncated().unwrap_or(false) {
                return Ok(out);
            }
        }
    }

    async fn upload(
        &self,
        location: &str,
        name: &str,
        reader: &mut (dyn AsyncRead + Unpin + Send),
        writer_exited: impl std::future::Future<Output = Result<()>>,
    ) -> Result<(u64, String)> {
        let Self {
            s3,
            bucket,
            requests,
            ..
        } = self;
        let key = format!("{location}{name}");
        let fail = |api: &str, e: Error| {
            Error::new(format!(
                "cannot upload `s3://{}/{key}`: {}",
                bucket.name,
                e.message()
            ))
            .kind(ErrorKind::Storage)
            .hint(
                e.hints()
                    .first()
                    .cloned()
                    .unwrap_or_else(|| format!("`{api}` failed")),
            )
        };
        requests.set(requests.get() + 1);
        let created = s3
            .create_multipart_upload()
            .bucket(&bucket.name)
            .key(&key)
            .send()
            .await
            .map_err(|e| {
                fail(
                    "CreateMultipartUpload",
                    failure_error(bucket, "CreateMultipartUpload", None, classify(&e)),
                )
            })?;
        let upload_id = created.upload_id().unwrap_or_default().to_string();
        let result = match self.upload_parts(&key, &upload_id, reader).await {
            Ok(parts) => writer_exited.await.map(|()| parts),
            Err(error) => Err(error),
        };
        match result {
            Ok((parts, bytes, digest)) => {
                requests.set(requests.get() + 1);
                s3.complete_multipart_upload()
                    .bucket(&bucket.name)
                    .key(&key)
                    .upload_id(&upload_id)
                    .multipart_upload(
                        CompletedMultipartUpload::builder()
                            .set_parts(Some(parts))
                            .build(),
                    )
                    .send()
                    .await
                    .map_err(|e| {
                        fail(
                            "CompleteMultipartUpload",
                            failure_error(bucket, "CompleteMultipartUpload", None, classify(&e)),
                        )
                    })?;
                Ok((bytes, digest))
            }
            Err(error) => {
                requests.set(requests.get() + 1);
                let _ = s3
                    .abort_multipart_upload()
                    .bucket(&bucket.name)
                    .key(&key)
                    .upload_id(&upload_id)
                    .send()
                    .await;
                Err(error)
            }
        }
    }

    /// Reads 8 MiB parts and uploads each while the next is read.
    async fn upload_parts(
        &self,
        key: &str,
        upload_id: &str,
        reader: &mut (dyn AsyncRead + Unpin + Send),
    ) -> Result<(Vec<CompletedPart>, u64, String)> {
        let Self {
            s3,
            bucket,
            requests,
            ..
        } = self;
        let mut hasher = Sha256::new();
        let mut bytes = 0u64;
        let mut parts = Vec::new();
        let mut number = 1;
        let mut chunk = read_part(reader).await?;
        loop {
            hasher.update(&chunk);
            bytes += chunk.len() as u64;
            let last = chunk.len() < PART;
            if chunk.is_empty() && number > 1 {
                break;
            }
            let send = async {
                requests.set(requests.get() + 1);
                s3.upload_part()
                    .bucket(&bucket.name)
                    .key(key)
                    .upload_id(upload_id)
                    .part_number(number)
                    .body(ByteStream::from(chunk))
                    .send()
                    .await
                    .map_err(|e| failure_error(bucket, "UploadPart", None, classify(&e)))
            };
            let (sent, next) = if last {
                (send.await, Ok(Vec::new()))
            } else {
                tokio::join!(send, read_part(reader))
            };
            let sent = sent?;
            parts.push(
                CompletedPart::builder()
                    .part_number(number)
                    .set_e_tag(sent.e_tag().map(str::to_string))
                    .build(),
            );
            if last {
                break;
            }
            number += 1;
            chunk = next?;
        }
        Ok((parts, bytes, hex(&hasher.finalize())))
    }
}

async fn read_part(reader: &mut (dyn AsyncRead + Unpin + Send)) -> Result<Vec<u8>> {
    let mut chunk = Vec::with_capacity(PART);
    (&mut *reader)
        .take(PART as u64)
        .read_to_end(&mut chunk)
        .await
        .map_err(|e| Error::new(format!("cannot read pg_dump's output: {e}")))?;
    Ok(chunk)
}

/// Sets under `DIR/DATABASE/YYYY/MM/DD/HHMMSSZ/`; anything else is not a set.
fn list_directory(root: &Path, database: &str, since: i64) -> Result<Vec<SetEntry>> {
    let mut out = Vec::new();
    let read = |dir: &Path| -> Result<Vec<(String, PathBuf)>> {
        match std::fs::read_dir(dir) {
            Ok(entries) => Ok(entries
                .filter_map(|e| e.ok())
                .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
                .map(|e| (e.file_name().to_string_lossy().into_owned(), e.path()))
                .collect()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
            Err(e) => Err(io_error("list", dir, &e)),
        }
    };
    for (year, year_path) in read(root)? {
        for (month, month_path) in read(&year_path)? {
            for (day, day_path) in read(&month_path)? {
                for (time, path) in read(&day_path)? {
                    let Some(at) = layout::parse_stamp(&format!("{year}/{month}/{day}/{time}"))
                    else {
                        continue;
                    };
                    if at < since {
                        continue;
                    }
                    let mut entry = SetEntry {
                        database: database.to_string(),
                        at,
                        class: None,
                        location: path.display().to_string(),
                        complete: path.join("manifest.json").is_file(),
                        dump_bytes: 0,
                        modified: None,
                    };
                    for file in std::fs::read_dir(&path)
                        .map_err(|e| io_error("list", &path, &e))?
                        .flatten()
                    {
                        let Ok(meta) = file.metadata() else { continue };
                        entry.modified = entry.modified.max(meta.modified().ok());
                        let name = file.file_name().to_string_lossy().into_owned();
                        if name == dump_name(database, false) {
                            entry.dump_bytes = meta.len();
                        } else if name == dump_name(database, true) && meta.is_dir() {
                            entry.dump_bytes = directory_size(&file.path());
                        }
                    }
                    out.push(entry);
                }
            }
        }
    }
    Ok(out)
}

fn directory_size(path: &Path) -> u64 {
    std::fs::read_dir(path)
        .map(|entries| {
            entries
                .flatten()
                .filter_map(|e| e.metadata().ok())
                .filter(|m| m.is_file())
                .map(|m| m.len())
                .sum()
        })
        .unwrap_or(0)
}

pub(crate) fn unix(at: SystemTime) -> i64 {
    at.duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sync_directory(path: &Path) -> Result<()> {
    std::fs::File::open(path)
        .and_then(|d| d.sync_all())
        .map_err(|e| io_error("flush", path, &e))
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> Error {
    Error::new(format!(
        "cannot {what} `{}`: {}",
        path.display(),
        crate::util::files::io_reason(e)
    ))
    .kind(ErrorKind::Local)
}

/// Removes a partial file or folder when a write stops halfway (an error,
/// a signal that drops the future).
pub(crate) struct RemoveOnDrop(pub(crate) Option<PathBuf>);

impl RemoveOnDrop {
    pub(crate) fn defuse(mut self) {
        self.0 = None;
    }
}

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        if let Some(path) = self.0.take() {
            // A partial file, or pg_dump's partial directory-format folder.
            let _ = std::fs::remove_file(&path).or_else(|_| std::fs::remove_dir_all(&path));
        }
    }
}
