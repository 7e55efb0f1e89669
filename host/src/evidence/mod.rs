//! Where evidence comes from: the tools' read side, behind one trait, so the sandbox's checks
//! are written once for snapshots and live clusters (the operator's `LiveSource`).
//!
//! Every read returns a `Result`: a live source can time out, be refused by RBAC or run out of
//! its API-call budget, and a skill must see that as a classified tool error, never as "not
//! found" or an empty list it could turn into a false finding.

mod index;
mod kinds;
pub(crate) use kinds::well_known_api_version;
mod snapshot;
#[cfg(test)]
mod tests;
mod yaml;

pub use index::sort_events;
pub use kinds::resolve_among;
pub use snapshot::{LoadWarning, SnapshotSource, tail_text};
/// For the fuzz target `yaml_fast_path`, which holds it to serde_yaml_ng's answers.
#[doc(hidden)]
pub use yaml::parse_document as parse_yaml_document;

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

/// One object: the fields indexes and checks need, extracted once, and its compact JSON text,
/// shared so a tool call never re-serializes. NB: no parsed `serde_json::Value` is kept — it costs
/// three to four times the text, and only rare callers (the LLM's EvidencePack) need one
/// ([`StoredObject::value`] parses it).
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
    /// `metadata.ownerReferences`, in order.
    pub owners: Vec<OwnerRef>,
    /// What an Event (core or `events.k8s.io`) is about, and when; `None` for other kinds.
    pub event: Option<EventFacts>,
    /// The whole object as compact JSON text.
    pub json: Arc<str>,
}

/// One `metadata.ownerReferences` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnerRef {
    /// `apiVersion` (may be empty when the snapshot omits it).
    pub api_version: String,
    /// `kind`.
    pub kind: String,
    /// `name`.
    pub name: String,
}

/// The subject and time of an Event, for the events index and ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFacts {
    /// `involvedObject` / `regarding` `apiVersion`, when given and not empty.
    pub subject_api_version: Option<String>,
    /// Its `kind`.
    pub subject_kind: String,
    /// Its `namespace`, when given and not empty.
    pub subject_namespace: Option<String>,
    /// Its `name`.
    pub subject_name: String,
    /// Its `uid`, when given and not empty.
    pub subject_uid: Option<String>,
    /// The latest time the event reports, normalised to sort as a time (see `sort_events`).
    pub time_key: String,
}

impl StoredObject {
    /// The whole object, parsed from [`StoredObject::json`] on each call (the text was written
    /// from a valid value, so this does not fail in practice; `Null` if it ever did).
    pub fn value(&self) -> serde_json::Value {
        serde_json::from_str(&self.json).unwrap_or(serde_json::Value::Null)
    }

    /// Checks that `value` is a Kubernetes object (apiVersion, kind, metadata.name) and extracts
    /// what indexes and tools need from it. Every source builds its objects here, so a skill
    /// sees the same JSON text and fields whichever source answered.
    pub fn from_value(value: serde_json::Value) -> Result<Self, EvidenceError> {
        snapshot::stored_object(value).map_err(|reason| EvidenceError::NotAnObject { reason })
    }

    /// Whether this Event is about the subject of API group `group` and `uid`. What either side
    /// does not say matches: a subject's uid tells its current incarnation from a deleted
    /// namesake's only when both the subject and the Event name one. Shared so a live source
    /// filters events as a snapshot does.
    pub fn event_about(&self, group: Option<&str>, uid: Option<&str>) -> bool {
        let Some(f) = &self.event else {
            return true;
        };
        let group_ok = match (group, f.subject_api_version.as_deref()) {
            (Some(want), Some(have)) => api_group(have) == want,
            _ => true,
        };
        let uid_ok = match (uid, f.subject_uid.as_deref()) {
            (Some(want), Some(have)) => want == have,
            _ => true,
        };
        group_ok && uid_ok
    }

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
    /// A name or namespace that cannot be one segment of an API path (empty, `.`, `..`, or with
    /// `/`, `%`, `?` or other characters no Kubernetes name has), refused before any request.
    #[error("invalid name: {what} cannot name a Kubernetes object")]
    InvalidName {
        /// Which part and its value, e.g. `name "../secrets"`.
        what: String,
    },
    /// A document or API answer that is not a Kubernetes object.
    #[error("{reason}")]
    NotAnObject {
        /// What is missing, e.g. `Pod without metadata.name`.
        reason: String,
    },
    /// The source cannot answer right now: a timeout, an API server error, a lost connection.
    /// Never shown to a skill as "not found": it could report a false finding from that.
    #[error("cannot read {what}: {reason}")]
    Unavailable {
        /// What was asked, e.g. `Pod bookinfo/reviews-v2`.
        what: String,
        /// Why, e.g. `timed out after 5s`.
        reason: String,
    },
    /// The investigation has made as many API calls as its budget allows.
    #[error("the investigation's budget of {limit} API calls is used up")]
    BudgetExhausted {
        /// The budget.
        limit: u32,
    },
    /// The source refused the read: the API server's RBAC said no, or it is a kind skillbox
    /// never reads (Secrets).
    #[error("reading {what} is not allowed: {reason}")]
    Denied {
        /// What was asked, e.g. `Pods in namespace shop`.
        what: String,
        /// Who refused and why.
        reason: String,
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
///
/// Every read is fallible: `Err` means the source could not answer (timeout, refusal, budget),
/// which is different from `Ok(None)` / `Ok(vec![])` ("there is no such object"); the tools
/// layer turns each error into the matching WIT `tool-error`.
pub trait EvidenceSource: Send + Sync {
    /// Resolves a kind spelling (Kind, plural, short name, kind.group; case-insensitive) to a kind present in the evidence.
    ///
    /// A kind the evidence holds wins over one it does not; well-known kinds (Pod,
    /// Deployment.apps, …) resolve even when the evidence has none, so that listing them yields
    /// nothing rather than an error. Between groups, the core group wins, then `apps`.
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError>;

    /// One object by kind, namespace (None for cluster-scoped) and name; `Ok(None)` when there
    /// is no such object.
    ///
    /// A namespace given for a kind whose objects are all cluster-scoped is ignored, as kubectl
    /// ignores `-n` for Nodes.
    fn get(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError>;

    /// Objects of a kind in a namespace (None = all namespaces) matching a selector, sorted by (namespace, name).
    ///
    /// Cluster-scoped objects sort first; a namespace is ignored as in [`EvidenceSource::get`].
    fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError>;

    /// Events (`v1` Event via involvedObject, `events.k8s.io/v1` Event via regarding) about the
    /// object, matched on kind + namespace + name (and uid when both sides have one), sorted by
    /// last/event time then name ([`sort_events`]).
    ///
    /// The uid compared is the stored object's (an [`ObjectRef`] carries none), so events of a
    /// deleted namesake are left out; an event naming the subject's apiVersion must also agree
    /// on its group. An empty `involved.api_version` skips both checks.
    fn events_for(&self, involved: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError>;

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
    fn names(&self, kind: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError>;

    /// Kinds present, sorted.
    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError>;
}
