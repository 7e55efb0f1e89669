//! A snapshot folder as evidence: `kubectl get -o yaml` style files read once through cap-std
//! (so nothing outside the folder is ever opened), indexed in memory; container logs read lazily.

use super::index::{self, Index};
use super::kinds;
use super::{EvidenceError, EvidenceSource, KindKey, StoredObject};
use cap_std::fs::Dir;
use serde_json::{Map, Value};
use skillbox_guest::ObjectRef;
use skillbox_guest::selector::Selector;
use std::collections::{BTreeMap, HashMap};
use std::ffi::OsString;
use std::fmt;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::{Component, Path};
use std::sync::{Arc, Mutex};

/// Files larger than this are skipped: a snapshot file that size is a mistake, not evidence.
const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;
/// Folder nesting beyond this is skipped, so a pathological tree cannot exhaust the stack.
const MAX_DEPTH: usize = 32;

/// Something in the snapshot that was skipped while loading. Never fatal: the rest still loads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadWarning {
    /// The file's path relative to the snapshot folder, `/`-separated.
    pub file: String,
    /// The document's 0-based index in the file (`---`-separated), when the problem is one document.
    pub document: Option<usize>,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for LoadWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.document {
            Some(d) => write!(f, "{} (document {d}): {}", self.file, self.message),
            None => write!(f, "{}: {}", self.file, self.message),
        }
    }
}

/// Evidence read from a snapshot folder (format: `shared/spec/scenarios.md`).
pub struct SnapshotSource {
    root: Dir,
    index: Index,
    warnings: Vec<LoadWarning>,
}

impl fmt::Debug for SnapshotSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SnapshotSource")
            .field("objects", &self.index.object_count())
            .field("kinds", &self.index.present.len())
            .field("warnings", &self.warnings.len())
            .finish_non_exhaustive()
    }
}

/// One file's parse: objects with the document they came from, and what was skipped.
#[derive(Default)]
struct FileResult {
    objects: Vec<(Option<usize>, StoredObject)>,
    warnings: Vec<LoadWarning>,
}

impl SnapshotSource {
    /// Loads every object in the folder at `path`. Only a missing or unreadable folder is an
    /// error; anything wrong inside it becomes a [`LoadWarning`].
    pub fn load(path: &Path) -> Result<Self, EvidenceError> {
        let root = Dir::open_ambient_dir(path, cap_std::ambient_authority()).map_err(|e| {
            if e.kind() == io::ErrorKind::NotADirectory {
                EvidenceError::NotADirectory {
                    path: path.to_path_buf(),
                }
            } else {
                EvidenceError::SnapshotMissing {
                    path: path.to_path_buf(),
                    source: e,
                }
            }
        })?;
        let mut warnings = Vec::new();
        let mut files = Vec::new();
        walk(&root, "", 0, &mut files, &mut warnings);
        let results = parse_all(files);

        // Merge in walk order, so "last one wins" means the last in sorted path order.
        let mut objects: Vec<Arc<StoredObject>> = Vec::new();
        let mut origin: Vec<Arc<str>> = Vec::new();
        let mut seen: HashMap<(KindKey, Option<String>, String), usize> = HashMap::new();
        for (file, result) in results {
            warnings.extend(result.warnings);
            let file: Arc<str> = Arc::from(file);
            for (document, obj) in result.objects {
                let key = (obj.kind.clone(), obj.namespace.clone(), obj.name.clone());
                let obj = Arc::new(obj);
                match seen.get(&key) {
                    Some(&i) => {
                        warnings.push(LoadWarning {
                            file: file.to_string(),
                            document,
                            message: format!(
                                "duplicate {} {}: replaces the one in {}",
                                obj.kind,
                                display_name(&obj),
                                origin[i]
                            ),
                        });
                        objects[i] = obj;
                        origin[i] = Arc::clone(&file);
                    }
                    None => {
                        seen.insert(key, objects.len());
                        objects.push(obj);
                        origin.push(Arc::clone(&file));
                    }
                }
            }
        }
        for w in &warnings {
            tracing::warn!(target: "skillbox::evidence", "snapshot: {w}");
        }
        let index = Index::build(objects);
        tracing::debug!(
            objects = index.object_count(),
            warnings = warnings.len(),
            "snapshot loaded"
        );
        Ok(Self {
            root,
            index,
            warnings,
        })
    }

    /// What was skipped while loading, in walk order.
    pub fn warnings(&self) -> &[LoadWarning] {
        &self.warnings
    }

    /// How many objects were loaded (after duplicates were resolved).
    pub fn object_count(&self) -> usize {
        self.index.object_count()
    }
}

fn display_name(obj: &StoredObject) -> String {
    match &obj.namespace {
        Some(ns) => format!("{ns}/{}", obj.name),
        None => obj.name.clone(),
    }
}

fn join_rel(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

/// Which files hold objects: by extension, case-insensitively. `Some(true)` for JSON.
fn object_file_kind(name: &str) -> Option<bool> {
    let (_, ext) = name.rsplit_once('.')?;
    let ext = ext.to_ascii_lowercase();
    match ext.as_str() {
        "yaml" | "yml" => Some(false),
        "json" => Some(true),
        _ => None,
    }
}

/// Reads every object file under `dir` into `files` as (relative path, bytes), in sorted order,
/// through the directory handle only. Symbolic links are skipped: one could point outside.
fn walk(
    dir: &Dir,
    prefix: &str,
    depth: usize,
    files: &mut Vec<(String, Vec<u8>)>,
    warnings: &mut Vec<LoadWarning>,
) {
    let warn = |warnings: &mut Vec<LoadWarning>, file: &str, message: String| {
        warnings.push(LoadWarning {
            file: if file.is_empty() {
                ".".into()
            } else {
                file.into()
            },
            document: None,
            message,
        });
    };
    let entries = match dir.entries() {
        Ok(e) => e,
        Err(e) => return warn(warnings, prefix, format!("cannot list folder: {e}")),
    };
    let mut list: Vec<(OsString, cap_std::fs::DirEntry)> = Vec::new();
    for entry in entries {
        match entry {
            Ok(e) => list.push((e.file_name(), e)),
            Err(e) => warn(warnings, prefix, format!("cannot list folder entry: {e}")),
        }
    }
    list.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, entry) in list {
        let name = name.to_string_lossy();
        let rel = join_rel(prefix, &name);
        let file_type = match entry.file_type() {
            Ok(t) => t,
            Err(e) => {
                warn(warnings, &rel, format!("cannot stat: {e}"));
                continue;
            }
        };
        if file_type.is_symlink() {
            warn(
                warnings,
                &rel,
                "symbolic link skipped: it could point outside the snapshot".into(),
            );
        } else if file_type.is_dir() {
            if depth >= MAX_DEPTH {
                warn(
                    warnings,
                    &rel,
                    format!("folder nested deeper than {MAX_DEPTH} levels skipped"),
                );
                continue;
            }
            match entry.open_dir() {
                Ok(sub) => walk(&sub, &rel, depth + 1, files, warnings),
                Err(e) => warn(warnings, &rel, format!("cannot open folder: {e}")),
            }
        } else if file_type.is_file() && object_file_kind(&name).is_some() {
            match read_file(&entry) {
                Ok(bytes) => files.push((rel, bytes)),
                Err(message) => warn(warnings, &rel, message),
            }
        } else {
            // Logs (`logs/…/*.log`), READMEs, sockets and the like: not objects, and not an error.
            tracing::trace!(file = %rel, "not an object file; skipped");
        }
    }
}

fn read_file(entry: &cap_std::fs::DirEntry) -> Result<Vec<u8>, String> {
    let file = entry.open().map_err(|e| format!("cannot open: {e}"))?;
    let too_big = || {
        format!(
            "larger than {} MiB; skipped",
            MAX_FILE_BYTES / (1024 * 1024)
        )
    };
    let len = file
        .metadata()
        .map_err(|e| format!("cannot stat: {e}"))?
        .len();
    if len > MAX_FILE_BYTES {
        return Err(too_big());
    }
    let mut bytes = Vec::with_capacity(usize::try_from(len).unwrap_or(0));
    // `take` bounds the read even if the file grows after the size check.
    (&file)
        .take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_big());
    }
    Ok(bytes)
}

/// Parses the files on all cores; results come back in the files' order.
fn parse_all(files: Vec<(String, Vec<u8>)>) -> Vec<(String, FileResult)> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(files.len());
    if workers <= 1 {
        return files
            .into_iter()
            .map(|(rel, bytes)| {
                let r = parse_file(&rel, bytes);
                (rel, r)
            })
            .collect();
    }
    let total = files.len();
    let queue = Mutex::new(files.into_iter().enumerate());
    let mut results: Vec<(usize, String, FileResult)> = Vec::with_capacity(total);
    std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        // A poisoned lock means another worker panicked; stop taking work.
                        let next = match queue.lock() {
                            Ok(mut q) => q.next(),
                            Err(_) => None,
                        };
                        let Some((i, (rel, bytes))) = next else { break };
                        let r = parse_file(&rel, bytes);
                        done.push((i, rel, r));
                    }
                    done
                })
            })
            .collect();
        for h in handles {
            match h.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
    });
    results.sort_by_key(|(i, _, _)| *i);
    results.into_iter().map(|(_, rel, r)| (rel, r)).collect()
}

/// Parses one file's documents into objects.
fn parse_file(rel: &str, bytes: Vec<u8>) -> FileResult {
    let mut result = FileResult::default();
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            result.warnings.push(LoadWarning {
                file: rel.to_string(),
                document: None,
                message: format!("not UTF-8 text: {}", e.utf8_error()),
            });
            return result;
        }
    };
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let is_json = object_file_kind(rel) == Some(true);
    let mut json_error = None;
    if is_json {
        let mut docs = Vec::new();
        for v in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
            match v {
                Ok(v) => docs.push(v),
                Err(e) => {
                    json_error = Some(e);
                    break;
                }
            }
        }
        if json_error.is_none() {
            for (i, doc) in docs.into_iter().enumerate() {
                add_document(rel, i, doc, &mut result);
            }
            return result;
        }
    }
    for (i, chunk) in split_yaml_documents(text) {
        // The fast path takes nearly every kubectl document; the rest goes to serde_yaml_ng.
        let parsed = match super::yaml::parse_document(chunk) {
            Some(doc) => Ok(doc),
            None => serde_yaml_ng::from_str::<Value>(chunk),
        };
        match parsed {
            Ok(doc) => add_document(rel, i, doc, &mut result),
            Err(e) => {
                let message = match &json_error {
                    Some(j) => format!("not valid JSON ({j}) nor YAML ({e})"),
                    None => format!("invalid YAML: {e}"),
                };
                result.warnings.push(LoadWarning {
                    file: rel.to_string(),
                    document: Some(i),
                    message,
                });
            }
        }
    }
    result
}

/// Splits a YAML stream at `---` / `...` marker lines into (document index, text), leaving out
/// documents with no content. Parsing each document on its own means one malformed document
/// cannot hide the ones after it. A marker at column 0 always ends a document in YAML, even
/// inside a block scalar, so splitting on lines is exact.
pub(super) fn split_yaml_documents(text: &str) -> Vec<(usize, &str)> {
    let mut chunks: Vec<&str> = Vec::new();
    let (mut start, mut offset) = (0usize, 0usize);
    // True at the stream's start and after `...`: blank text there is not a document, so the
    // `---` that follows starts the next one rather than ending an empty one.
    let mut ended = true;
    for line in text.split_inclusive('\n') {
        let bare = line.trim_end_matches(['\n', '\r']);
        let marker = |m: &str| {
            bare == m
                || bare
                    .strip_prefix(m)
                    .is_some_and(|r| r.starts_with([' ', '\t']))
        };
        let (opens, closes) = (marker("---"), marker("..."));
        if opens || closes {
            let current = &text[start..offset];
            if !(ended && is_blank(current)) {
                chunks.push(current);
            }
            ended = closes;
            // Content after `--- ` on the marker line belongs to the new document.
            start = if opens {
                offset + 3
            } else {
                offset + line.len()
            };
        }
        offset += line.len();
    }
    let last = &text[start..];
    if !(ended && is_blank(last)) {
        chunks.push(last);
    }
    chunks
        .into_iter()
        .enumerate()
        .filter(|(_, c)| !is_blank(c))
        .collect()
}

/// True for text with nothing but blank lines, comments and directives: an empty document.
fn is_blank(text: &str) -> bool {
    text.lines().all(|l| {
        let t = l.trim();
        t.is_empty() || t.starts_with('#') || l.starts_with('%')
    })
}

/// Adds a document's objects: one object, or the items of a list.
fn add_document(rel: &str, document: usize, doc: Value, result: &mut FileResult) {
    let mut warn = |message: String| {
        result.warnings.push(LoadWarning {
            file: rel.to_string(),
            document: Some(document),
            message,
        })
    };
    let mut map = match doc {
        Value::Null => return,
        Value::Object(m) => m,
        other => {
            return warn(format!(
                "not a Kubernetes object: a {} instead of a mapping",
                json_type(&other)
            ));
        }
    };
    let kind = map.get("kind").and_then(Value::as_str).unwrap_or("");
    let is_list = kind.ends_with("List")
        && (map.get("items").is_some_and(Value::is_array)
            || (kind == "List" && map.get("items").is_none_or(Value::is_null)));
    if !is_list {
        match stored_object(Value::Object(map)) {
            Ok(obj) => result.objects.push((Some(document), obj)),
            Err(message) => warn(message),
        }
        return;
    }
    // `PodList` items straight from the API server lack apiVersion and kind; infer them.
    let item_kind = kind
        .strip_suffix("List")
        .filter(|k| !k.is_empty())
        .map(String::from);
    let list_api_version = map
        .get("apiVersion")
        .and_then(Value::as_str)
        .map(String::from);
    let items = match map.remove("items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    for (i, item) in items.into_iter().enumerate() {
        let item = match item {
            Value::Object(mut m) => {
                if let Some(k) = &item_kind {
                    fill_missing(&mut m, "kind", k);
                    if let Some(v) = &list_api_version {
                        fill_missing(&mut m, "apiVersion", v);
                    }
                }
                m
            }
            other => {
                warn(format!(
                    "items[{i}]: not a Kubernetes object: a {} instead of a mapping",
                    json_type(&other)
                ));
                continue;
            }
        };
        let item_kind = item.get("kind").and_then(Value::as_str).unwrap_or("");
        if item_kind.ends_with("List") && item.get("items").is_some_and(Value::is_array) {
            warn(format!("items[{i}]: a list inside a list; skipped"));
            continue;
        }
        match stored_object(Value::Object(item)) {
            Ok(obj) => result.objects.push((Some(document), obj)),
            Err(message) => warn(format!("items[{i}]: {message}")),
        }
    }
}

fn fill_missing(m: &mut Map<String, Value>, key: &str, value: &str) {
    if m.get(key).and_then(Value::as_str).is_none_or(str::is_empty) {
        m.insert(key.to_string(), Value::String(value.to_string()));
    }
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "sequence",
        Value::Object(_) => "mapping",
    }
}

/// Checks that `value` is a Kubernetes object and extracts what the index needs from it.
pub(super) fn stored_object(value: Value) -> Result<StoredObject, String> {
    let api_version = non_empty(value.get("apiVersion"))
        .ok_or("not a Kubernetes object: no apiVersion")?
        .to_string();
    let kind = non_empty(value.get("kind")).ok_or("not a Kubernetes object: no kind")?;
    let metadata = value.get("metadata");
    let name = non_empty(metadata.and_then(|m| m.get("name")))
        .ok_or_else(|| format!("{kind} without metadata.name"))?
        .to_string();
    let kind = KindKey::from_api_version(&api_version, kind);
    let namespace = non_empty(metadata.and_then(|m| m.get("namespace"))).map(String::from);
    let uid = non_empty(metadata.and_then(|m| m.get("uid"))).map(String::from);
    let labels: BTreeMap<String, String> = metadata
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .map(|l| {
            l.iter()
                .filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string())))
                .collect()
        })
        .unwrap_or_default();
    let owners = metadata
        .and_then(|m| m.get("ownerReferences"))
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| {
            Some(super::OwnerRef {
                api_version: r
                    .get("apiVersion")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .into(),
                kind: r.get("kind")?.as_str()?.into(),
                name: r.get("name")?.as_str()?.into(),
            })
        })
        .collect();
    let event = index::event_facts(&kind, &value);
    let json: Arc<str> = serde_json::to_string(&value)
        .map_err(|e| format!("cannot serialize: {e}"))?
        .into();
    Ok(StoredObject {
        api_version,
        kind,
        namespace,
        name,
        uid,
        labels,
        owners,
        event,
        json,
    })
}

fn non_empty(v: Option<&Value>) -> Option<&str> {
    v.and_then(Value::as_str).filter(|s| !s.is_empty())
}

/// Checks that a log path part is one plain path component, so it cannot leave `logs/`.
fn check_component(what: &str, value: &str) -> Result<(), EvidenceError> {
    let mut components = Path::new(value).components();
    let plain = !value.is_empty()
        && !value.contains(['/', '\\', '\0'])
        && matches!(components.next(), Some(Component::Normal(_)))
        && components.next().is_none()
        && value != "."
        && value != "..";
    if plain {
        Ok(())
    } else {
        Err(EvidenceError::InvalidLogPath {
            what: format!("{what} {value:?}"),
        })
    }
}

impl SnapshotSource {
    /// Opens `logs/<ns>/<pod>/<container>.log`, refusing symbolic links at every step.
    fn open_log(&self, rel_parts: &[&str]) -> Result<Option<cap_std::fs::File>, EvidenceError> {
        let full = rel_parts.join("/");
        let read_err = |source: io::Error| EvidenceError::LogRead {
            path: full.clone(),
            source,
        };
        for n in 1..=rel_parts.len() {
            let prefix = rel_parts[..n].join("/");
            match self.root.symlink_metadata(&prefix) {
                Ok(m) if m.is_symlink() => {
                    return Err(read_err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!(
                            "{prefix} is a symbolic link, which could point outside the snapshot"
                        ),
                    )));
                }
                Ok(m) if n == rel_parts.len() && !m.is_file() => {
                    return Err(read_err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        "not a regular file",
                    )));
                }
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                    ) =>
                {
                    return Ok(None);
                }
                Err(e) => return Err(read_err(e)),
            }
        }
        self.root.open(&full).map(Some).map_err(read_err)
    }
}

/// Reads the end of `file` and keeps what [`tail_text`] keeps. Only the last `max_bytes + 1`
/// bytes are read: nothing before them can be part of the answer.
fn tail_file(mut file: cap_std::fs::File, tail_lines: u32, max_bytes: usize) -> io::Result<String> {
    let max_bytes = max_bytes.min(usize::try_from(MAX_FILE_BYTES).unwrap_or(usize::MAX));
    let len = file.metadata()?.len();
    let window = len.min(max_bytes as u64 + 1);
    file.seek(SeekFrom::Start(len - window))?;
    let mut buf = Vec::with_capacity(usize::try_from(window).unwrap_or(0));
    (&mut file).take(window).read_to_end(&mut buf)?;
    Ok(tail_text(&buf, window == len, tail_lines, max_bytes))
}

/// The last `tail_lines` lines of `buf`, at most `max_bytes`, starting at a line start.
/// `at_file_start` says whether `buf` begins the file (else its first line may be partial).
/// When not even the last line fits, its last `max_bytes` are kept, cut at a character boundary.
///
/// Public so that every source cuts logs the same way (a live source applies it to what the
/// API server returned).
pub fn tail_text(buf: &[u8], at_file_start: bool, tail_lines: u32, max_bytes: usize) -> String {
    if tail_lines == 0 || max_bytes == 0 || buf.is_empty() {
        return String::new();
    }
    // A final newline ends the last line; it does not start another.
    let body_end = if buf.ends_with(b"\n") {
        buf.len() - 1
    } else {
        buf.len()
    };
    let mut start = 0usize;
    let mut seen = 0u32;
    for i in (0..body_end).rev() {
        if buf[i] == b'\n' {
            seen += 1;
            if seen == tail_lines {
                start = i + 1;
                break;
            }
        }
    }
    let min_start = buf
        .len()
        .saturating_sub(max_bytes)
        .max(usize::from(!at_file_start));
    if start < min_start {
        // The first line start at or after `min_start`: just after a newline at `min_start - 1` or later.
        let from = min_start - 1;
        match buf
            .get(from..body_end)
            .and_then(|s| s.iter().position(|&b| b == b'\n'))
        {
            Some(p) => start = from + p + 1,
            None => return cut_front(&String::from_utf8_lossy(buf), max_bytes),
        }
    }
    let text = String::from_utf8_lossy(&buf[start..]);
    // Invalid UTF-8 becomes U+FFFD (3 bytes), which can push the text over the cap again.
    cut_front(&text, max_bytes)
}

/// The last `max_bytes` of `text`, starting at a character boundary.
fn cut_front(text: &str, max_bytes: usize) -> String {
    let mut cut = text.len().saturating_sub(max_bytes);
    while !text.is_char_boundary(cut) {
        cut += 1;
    }
    text[cut..].to_string()
}

impl EvidenceSource for SnapshotSource {
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError> {
        kinds::resolve(query, &self.index.present)
    }

    fn get(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError> {
        Ok(self.index.get(kind, namespace, name))
    }

    fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Ok(self.index.list(kind, namespace, selector))
    }

    fn events_for(&self, involved: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Ok(self.index.events_for(involved))
    }

    fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
        max_bytes: usize,
    ) -> Result<Option<String>, EvidenceError> {
        check_component("namespace", namespace)?;
        check_component("pod", pod)?;
        check_component("container", container)?;
        let file_name = format!("{container}.log");
        let parts = ["logs", namespace, pod, file_name.as_str()];
        let Some(file) = self.open_log(&parts)? else {
            return Ok(None);
        };
        tail_file(file, tail_lines, max_bytes)
            .map(Some)
            .map_err(|source| EvidenceError::LogRead {
                path: parts.join("/"),
                source,
            })
    }

    fn names(&self, kind: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError> {
        Ok(self.index.names(kind))
    }

    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError> {
        Ok(self.index.kinds())
    }
}
