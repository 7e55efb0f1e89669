//! Where evidence comes from: the tools' read side, behind one trait, so the sandbox's checks
//! are written once for snapshots and (later) live clusters.

mod index;
mod kinds;
mod snapshot;
#[cfg(test)]
mod tests;

pub use snapshot::{LoadWarning, SnapshotSource};

use skillbox_guest::ObjectRef;
use skillbox_guest::selector::Selector;
use std::collections::BTreeMap;
use std::fmt;
use std::path::PathBuf;
use std::sync::Arc;

/// A kind as the index keys it: API group ("" for core) and Kind. Versions are not part of the
/// key, so `v1beta1` and `v1` objects of one kind are one collection, as on the API server.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct KindKey {
    /// API group, `""` for the core group.
    pub group: String,
    /// The Kind, as written in objects (`Deployment`).
    pub kind: String,
}

impl KindKey {
    /// The key of objects written with this `apiVersion` (`apps/v1` → group `apps`, `v1` → core).
    pub fn from_api_version(api_version: &str, kind: &str) -> Self {
        Self {
            group: api_group(api_version).to_string(),
            kind: kind.to_string(),
        }
    }
}

impl fmt::Display for KindKey {
    /// `Deployment.apps`, or just `Pod` for the core group: the spelling kubectl accepts back.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

/// The group part of an `apiVersion` (`""` for the core group's bare `v1`).
pub(crate) fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// One object, parsed once; `json` is its compact JSON text, shared so a tool call never re-serializes.
#[derive(Debug)]
pub struct StoredObject {
    /// `apiVersion` as written in the snapshot.
    pub api_version: String,
    /// Group and Kind.
    pub kind: KindKey,
    /// `metadata.namespace`; `None` for cluster-scoped objects (an empty namespace counts as none).
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.uid`, when the snapshot has one.
    pub uid: Option<String>,
    /// `metadata.labels` (string values only, as the API server stores them).
    pub labels: BTreeMap<String, String>,
    /// The whole object.
    pub value: serde_json::Value,
    /// `value` as compact JSON text.
    pub json: Arc<str>,
}

impl StoredObject {
    /// A reference naming this object, as skills report it.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef {
            api_version: self.api_version.clone(),
            kind: self.kind.kind.clone(),
            namespace: self.namespace.clone(),
            name: self.name.clone(),
        }
    }
}

/// Why evidence could not be read. One variant per failure a caller acts on; each carries what
/// it is about so the message can be shown as is.
#[derive(Debug, thiserror::Error)]
pub enum EvidenceError {
    /// The snapshot folder is absent or cannot be opened.
    #[error("cannot open snapshot folder {}: {source}", path.display())]
    SnapshotMissing {
        /// The path given.
        path: PathBuf,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
    /// The snapshot path names something other than a folder.
    #[error("snapshot path {} is not a folder", path.display())]
    NotADirectory {
        /// The path given.
        path: PathBuf,
    },
    /// No kind in the evidence (or among the well-known kinds) answers to this spelling.
    #[error(
        "unknown kind {query:?}; kinds in the evidence: {}",
        list_or_none(known)
    )]
    UnknownKind {
        /// The spelling asked for.
        query: String,
        /// The kinds present, sorted, so the message can suggest one.
        known: Vec<String>,
    },
    /// Several kinds answer to this spelling and none is preferred.
    #[error("kind {query:?} is ambiguous: it could be {}; qualify it with its group", candidates.join(", "))]
    AmbiguousKind {
        /// The spelling asked for.
        query: String,
        /// The kinds it could mean, sorted, as `Kind.group`.
        candidates: Vec<String>,
    },
    /// A label selector that does not parse.
    #[error(transparent)]
    InvalidSelector(#[from] skillbox_guest::selector::SelectorError),
    /// A namespace, pod or container name that is not one plain path component, so it could
    /// name a file outside the snapshot's logs.
    #[error("invalid log path: {what} is not a single plain path component")]
    InvalidLogPath {
        /// Which part and its value, e.g. `pod "../x"`.
        what: String,
    },
    /// A log exists but cannot be read.
    #[error("cannot read log {path}: {source}")]
    LogRead {
        /// The log's path inside the snapshot.
        path: String,
        /// What the OS said.
        #[source]
        source: std::io::Error,
    },
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "(none)".to_string()
    } else {
        items.join(", ")
    }
}

/// The read side of the tools that skills call, for one body of evidence.
pub trait EvidenceSource: Send + Sync {
    /// Resolves a kind spelling (Kind, plural, short name, kind.group; case-insensitive) to a kind present in the evidence.
    ///
    /// A kind the evidence holds wins over one it does not; well-known kinds (Pod,
    /// Deployment.apps, …) resolve even when the evidence has none, so that listing them yields
    /// nothing rather than an error. Between groups, the core group wins, then `apps`.
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError>;

    /// O(1): one object by kind, namespace (None for cluster-scoped) and name.
    ///
    /// A namespace given for a kind whose objects are all cluster-scoped is ignored, as kubectl
    /// ignores `-n` for Nodes.
    fn get(&self, kind: &KindKey, namespace: Option<&str>, name: &str)
    -> Option<Arc<StoredObject>>;

    /// Objects of a kind in a namespace (None = all namespaces) matching a selector, sorted by (namespace, name).
    ///
    /// Cluster-scoped objects sort first; a namespace is ignored as in [`EvidenceSource::get`].
    fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<Arc<StoredObject>>;

    /// Events (`v1` Event via involvedObject, `events.k8s.io/v1` Event via regarding) about the
    /// object, matched on kind + namespace + name (and uid when both sides have one), sorted by
    /// last/event time then name.
    ///
    /// The uid compared is the stored object's (an [`ObjectRef`] carries none), so events of a
    /// deleted namesake are left out; an event naming the subject's apiVersion must also agree
    /// on its group. An empty `involved.api_version` skips both checks.
    fn events_for(&self, involved: &ObjectRef) -> Vec<Arc<StoredObject>>;

    /// The last `tail_lines` lines of a container log, at most `max_bytes` (cut at a line
    /// boundary from the end, never mid-UTF-8). Ok(None) when the evidence has no such log.
    fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
        max_bytes: usize,
    ) -> Result<Option<String>, EvidenceError>;

    /// Names of objects of a kind (all namespaces), for "did you mean" suggestions: (namespace, name), sorted.
    fn names(&self, kind: &KindKey) -> Vec<(Option<String>, String)>;

    /// Kinds present, sorted.
    fn kinds(&self) -> Vec<KindKey>;
}
