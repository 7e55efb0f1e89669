//! Live evidence: skills' tools answered from the API server through the controller's own
//! client, under the same whitelist as snapshots (the tools layer checks grants before a read
//! reaches this module) plus limits of its own.
//!
//! - [`LiveCluster`] is shared by the whole process: the client, the controller's namespace, the
//!   API discovery cache and a short-lived LIST cache.
//! - [`LiveSource`] is one investigation's view: it counts every API request against a
//!   [`LiveBudget`] (over it → `BudgetExhausted`) and gives each one a timeout (→ `Unavailable`,
//!   naming the object and the time). 403 → `Denied` naming the resource; 404 on a GET →
//!   `Ok(None)`, on a LIST → empty; 5xx, 401, 429 and transport failures → `Unavailable`.
//!
//! **Secrets, never.** [`EvidenceSource::resolve_kind`] refuses every spelling of Secret (and
//! the resolved kind), whatever the grants say; every read refuses a Secret kind again; and the
//! one function that sends requests refuses any path whose resource is `secrets`, so no code
//! path can GET or LIST them even if the checks above were bypassed.
//!
//! **Same data as a snapshot.** Objects are built by [`StoredObject::from_value`], the
//! snapshot's own constructor, from the API server's JSON (LIST items get the `apiVersion` and
//! `kind` the API server leaves out, as `kubectl get -o yaml` fills them in; `managedFields`
//! is dropped, as kubectl drops it). Kinds resolve with [`resolve_among`], the snapshot's
//! precedence rules (core group first, then `apps`), over discovery's kinds, plurals and short
//! names. Lists are sorted by (namespace, name), events by [`sort_events`], logs are cut by
//! [`tail_text`]. A kind the API server does not serve resolves through the well-known table
//! and answers "none", as in a snapshot without it — unless its group's discovery failed, which
//! answers `Unavailable`: an empty list there would be a guess.
//!
//! **Sync over async.** The engine calls a source synchronously from the thread running the
//! wasm call, and the operator runs each investigation in `tokio::task::spawn_blocking`. Each
//! request is spawned on the runtime's [`Handle`] and its answer awaited on a std channel with
//! a deadline (STYLE #11), rather than `Handle::block_on`, which panics when the caller is an
//! async task and which tokio offers no way to detect beforehand. Called from an async task
//! this still never panics: on a multi-thread runtime it blocks that worker for the call, on a
//! current-thread runtime the request cannot progress and the call ends `Unavailable` after
//! the timeout. Don't call it from async code.
//!
//! **Caches, where they pay.** The controller runs investigations one after another on the same
//! kinds. Discovery (3 requests plus one per API group) is kept for the process and refreshed on
//! a miss at most every [`DISCOVERY_REFRESH`]. LIST answers (objects and events) are kept for
//! [`LIST_CACHE_TTL`] (2 s), keyed by the request's path and query (kind, namespace, label and
//! field selectors): back-to-back investigations of a Deployment's Pods read the same lists,
//! and a 2 s old answer is as good as any in an incident that lasts minutes. GETs and logs are
//! not cached: they are cheap and the object under investigation should be fresh. A cache hit
//! sends no request and so costs no budget. Reflector caches (watch whole kinds) are not used:
//! they pay for kinds read constantly, need watch RBAC over every namespace and hold every
//! object in memory; the trigger ladder's watches could share their stores here later.

use http::StatusCode;
use http_body_util::BodyExt;
use kube::core::Request as KubeRequest;
use kube::core::params::{GetParams, ListParams};
use kube::core::subresource::LogParams;
use serde_json::Value;
use skillbox::evidence::{
    EvidenceError, EvidenceSource, KindKey, StoredObject, resolve_among, sort_events, tail_text,
};
use skillbox_crds::names_secret;
use skillbox_guest::ObjectRef;
use skillbox_guest::selector::Selector;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;

/// Discovery is refreshed on a miss at most this often: a skill asking for a kind the cluster
/// does not serve must not re-run discovery on every call.
pub const DISCOVERY_REFRESH: Duration = Duration::from_secs(30);
/// How long a LIST answer is reused.
pub const LIST_CACHE_TTL: Duration = Duration::from_secs(2);
/// LIST answers kept at most; past this, expired ones are dropped and new ones not kept.
const LIST_CACHE_ENTRIES: usize = 256;
/// No answer is read past this many bytes: a skill never gets more than 4 MiB of one anyway.
const MAX_ANSWER_BYTES: usize = 32 * 1024 * 1024;
/// `limitBytes` of a log request: the API server cuts from the end of its tail, so ask for far
/// more than the tools keep (64 KiB) and cut from the front here.
const LOG_FETCH_BYTES: i64 = 1024 * 1024;
/// Extra wait on the answer channel past the request's own timeout, for a runtime too busy to
/// deliver the timeout itself.
const CHANNEL_GRACE: Duration = Duration::from_millis(500);

/// One investigation's limits on the API server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LiveBudget {
    /// Requests one investigation may send (discovery, GET, LIST, logs), cache hits free.
    pub max_api_calls: u32,
    /// Each request's timeout.
    pub call_timeout: Duration,
}

impl Default for LiveBudget {
    /// 200 requests, 5 s each: room for every built-in skill on a large Deployment.
    fn default() -> Self {
        Self {
            max_api_calls: 200,
            call_timeout: Duration::from_secs(5),
        }
    }
}

/// A resource discovery found: the preferred version of one kind in one group.
#[derive(Debug, Clone, PartialEq, Eq)]
struct ApiKind {
    key: KindKey,
    version: String,
    plural: String,
    short_names: Vec<String>,
    namespaced: bool,
}

impl ApiKind {
    fn api_version(&self) -> String {
        if self.key.group.is_empty() {
            self.version.clone()
        } else {
            format!("{}/{}", self.key.group, self.version)
        }
    }

    /// `/api/v1/namespaces/shop/pods`, `/apis/apps/v1/deployments`.
    fn url_path(&self, namespace: Option<&str>) -> String {
        let ns = namespace.map_or(String::new(), |ns| format!("namespaces/{ns}/"));
        if self.key.group.is_empty() {
            format!("/api/{}/{ns}{}", self.version, self.plural)
        } else {
            format!(
                "/apis/{}/{}/{ns}{}",
                self.key.group, self.version, self.plural
            )
        }
    }

    /// Kind, plural or short name, optionally `.group` (or a prefix of the group's dotted
    /// parts), case-insensitive; plus every spelling the snapshot accepts for the kind.
    fn matches(&self, query: &str) -> bool {
        let q = query.trim().to_ascii_lowercase();
        let (name, group) = match q.split_once('.') {
            Some((n, g)) => (n, Some(g)),
            None => (q.as_str(), None),
        };
        let own_group = self.key.group.to_ascii_lowercase();
        if let Some(g) = group
            && !(own_group == g || own_group.starts_with(&format!("{g}.")))
        {
            return false;
        }
        name == self.key.kind.to_ascii_lowercase()
            || name == self.plural
            || self.short_names.iter().any(|s| s == name)
            || skillbox_guest::k8s::kind_matches(query, &self.api_version(), &self.key.kind)
    }
}

/// What discovery found.
#[derive(Debug, Default)]
struct Discovered {
    kinds: BTreeMap<KindKey, ApiKind>,
    /// Groups whose resources could not be read, with why: their kinds are unknown, not absent.
    failed_groups: BTreeMap<String, String>,
}

impl Discovered {
    fn matching(&self, query: &str) -> BTreeSet<KindKey> {
        self.kinds
            .values()
            .filter(|k| k.matches(query))
            .map(|k| k.key.clone())
            .collect()
    }
}

type ListCache = HashMap<String, (Instant, Arc<Vec<Arc<StoredObject>>>)>;
/// (kind, namespace, name) → uid of an object one investigation read.
type Uids = HashMap<(KindKey, Option<String>, String), String>;

/// The API server as the whole process sees it: one client, the discovery cache, the LIST
/// cache. Share it (`Arc`) between investigations; make a [`LiveSource`] for each.
pub struct LiveCluster {
    client: kube::Client,
    namespace: String,
    discovery: RwLock<Option<Arc<Discovered>>>,
    /// When discovery last ran; held while it runs, so concurrent misses wait for one refresh.
    refreshed: Mutex<Option<Instant>>,
    refresh_every: Duration,
    lists: Mutex<ListCache>,
    list_ttl: Duration,
}

impl fmt::Debug for LiveCluster {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveCluster")
            .field("namespace", &self.namespace)
            .field("refresh_every", &self.refresh_every)
            .field("list_ttl", &self.list_ttl)
            .finish_non_exhaustive()
    }
}

impl LiveCluster {
    /// The cluster behind `client`; `namespace` is the controller's own. Discovery runs on the
    /// first read that needs it (charged to that investigation's budget).
    pub fn new(client: kube::Client, namespace: impl Into<String>) -> Self {
        Self {
            client,
            namespace: namespace.into(),
            discovery: RwLock::new(None),
            refreshed: Mutex::new(None),
            refresh_every: DISCOVERY_REFRESH,
            lists: Mutex::new(HashMap::new()),
            list_ttl: LIST_CACHE_TTL,
        }
    }

    /// How long LIST answers are reused; zero turns the cache off.
    pub fn with_list_cache_ttl(mut self, ttl: Duration) -> Self {
        self.list_ttl = ttl;
        self
    }

    /// How often discovery may be refreshed on a miss.
    pub fn with_discovery_refresh(mut self, every: Duration) -> Self {
        self.refresh_every = every;
        self
    }

    /// The controller's namespace.
    pub fn namespace(&self) -> &str {
        &self.namespace
    }

    /// The client every read goes through.
    pub fn client(&self) -> &kube::Client {
        &self.client
    }

    fn cached_discovery(&self) -> Option<Arc<Discovered>> {
        self.discovery
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn cached_list(&self, key: &str) -> Option<Arc<Vec<Arc<StoredObject>>>> {
        if self.list_ttl.is_zero() {
            return None;
        }
        let lists = lock(&self.lists);
        let (at, objects) = lists.get(key)?;
        (at.elapsed() < self.list_ttl).then(|| Arc::clone(objects))
    }

    fn keep_list(&self, key: String, objects: Arc<Vec<Arc<StoredObject>>>) {
        if self.list_ttl.is_zero() {
            return;
        }
        let mut lists = lock(&self.lists);
        let ttl = self.list_ttl;
        lists.retain(|_, (at, _)| at.elapsed() < ttl);
        if lists.len() < LIST_CACHE_ENTRIES {
            lists.insert(key, (Instant::now(), objects));
        }
    }
}

/// A lock that survives a panicked holder: the data are caches, valid whatever happened.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// One investigation's evidence from the live cluster. Implements [`EvidenceSource`]; must be
/// called from a blocking context (`spawn_blocking`, a plain thread), never an async task.
pub struct LiveSource {
    cluster: Arc<LiveCluster>,
    handle: Handle,
    budget: LiveBudget,
    calls: AtomicU32,
    /// uids of the objects this investigation read, so events of a deleted namesake are left
    /// out as the snapshot leaves them out.
    uids: Mutex<Uids>,
}

impl fmt::Debug for LiveSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LiveSource")
            .field("budget", &self.budget)
            .field("api_calls", &self.api_calls())
            .finish_non_exhaustive()
    }
}

/// A successful exchange, before it is read as an object or a list.
enum Answer {
    Body(Vec<u8>),
    NotFound,
    /// 400: for logs, a container that has not started (or no such container).
    BadRequest(String),
}

impl LiveSource {
    /// A fresh source for one investigation; `handle` is the runtime whose reactor drives the
    /// client (`Handle::current()` before `spawn_blocking`).
    pub fn new(cluster: Arc<LiveCluster>, handle: Handle, budget: LiveBudget) -> Self {
        Self {
            cluster,
            handle,
            budget,
            calls: AtomicU32::new(0),
            uids: Mutex::new(HashMap::new()),
        }
    }

    /// API requests sent so far (cache hits are not requests).
    pub fn api_calls(&self) -> u32 {
        self.calls.load(Ordering::Relaxed)
    }

    /// The limits this source enforces.
    pub fn budget(&self) -> LiveBudget {
        self.budget
    }

    /// Sends one request: refuses Secrets, charges the budget, waits at most the timeout, and
    /// classifies the status. `what` names the object for every error.
    fn send(&self, what: &str, req: http::Request<Vec<u8>>) -> Result<Answer, EvidenceError> {
        let path = req.uri().path().to_string();
        if path_reads_secrets(&path) {
            return Err(secrets_denied(what));
        }
        let limit = self.budget.max_api_calls;
        self.calls
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| {
                (c < limit).then_some(c + 1)
            })
            .map_err(|_| EvidenceError::BudgetExhausted { limit })?;
        tracing::debug!(target: "skillbox::live", method = %req.method(), uri = %req.uri(), "API request");
        let client = self.cluster.client.clone();
        let (status, body) = self.block(what, async move {
            let res = client
                .send(req.map(kube::client::Body::from))
                .await
                .map_err(|e| e.to_string())?;
            let status = res.status();
            let body = http_body_util::Limited::new(res.into_body(), MAX_ANSWER_BYTES)
                .collect()
                .await
                .map_err(|e| format!("reading the answer: {e} (cap {MAX_ANSWER_BYTES} bytes)"))?
                .to_bytes();
            Ok((status, body.to_vec()))
        })?;
        let unavailable = |reason: String| EvidenceError::Unavailable {
            what: what.to_string(),
            reason,
        };
        match status {
            s if s.is_success() => Ok(Answer::Body(body)),
            StatusCode::NOT_FOUND => Ok(Answer::NotFound),
            StatusCode::BAD_REQUEST => Ok(Answer::BadRequest(status_message(&body))),
            StatusCode::FORBIDDEN => Err(EvidenceError::Denied {
                what: what.to_string(),
                reason: format!(
                    "the API server's RBAC refused the controller (403 Forbidden on {path}): {}",
                    status_message(&body)
                ),
            }),
            s => Err(unavailable(format!(
                "the API server answered {s} on {path}: {}",
                status_message(&body)
            ))),
        }
    }

    /// Runs `fut` on the runtime with the call timeout and waits for it on this thread.
    fn block<T: Send + 'static>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, String>> + Send + 'static,
    ) -> Result<T, EvidenceError> {
        let timeout = self.budget.call_timeout;
        let (tx, rx) = mpsc::sync_channel(1);
        self.handle.spawn(async move {
            // A receiver gone (the caller gave up) needs no answer.
            let _ = tx.send(tokio::time::timeout(timeout, fut).await);
        });
        let timed_out = || EvidenceError::Unavailable {
            what: what.to_string(),
            reason: format!("timed out after {}", human(timeout)),
        };
        match rx.recv_timeout(timeout + CHANNEL_GRACE) {
            Ok(Ok(Ok(v))) => Ok(v),
            Ok(Ok(Err(reason))) => Err(EvidenceError::Unavailable {
                what: what.to_string(),
                reason,
            }),
            Ok(Err(_)) | Err(RecvTimeoutError::Timeout) => Err(timed_out()),
            Err(RecvTimeoutError::Disconnected) => Err(EvidenceError::Unavailable {
                what: what.to_string(),
                reason: "the async runtime is shutting down".into(),
            }),
        }
    }

    /// GETs a JSON document (discovery); `None` on 404.
    fn fetch_json(&self, what: &str, path: &str) -> Result<Option<Value>, EvidenceError> {
        let req = http::Request::get(path)
            .body(Vec::new())
            .map_err(|e| unavailable(what, e))?;
        match self.send(what, req)? {
            Answer::Body(b) => serde_json::from_slice(&b)
                .map(Some)
                .map_err(|e| unavailable(what, format!("the answer is not JSON: {e}"))),
            Answer::NotFound => Ok(None),
            Answer::BadRequest(m) => Err(unavailable(what, format!("400 Bad Request: {m}"))),
        }
    }

    /// Runs discovery: the core group, then each group's preferred version. A group whose
    /// resources cannot be read is recorded as failed and the rest still count; the core group
    /// or the group list failing fails discovery.
    fn discover(&self) -> Result<Discovered, EvidenceError> {
        let what = "API discovery";
        let mut found = Discovered::default();
        let core_versions = self
            .fetch_json(what, "/api")?
            .ok_or_else(|| unavailable(what, "/api answered 404"))?;
        let core_version = core_versions
            .get("versions")
            .and_then(Value::as_array)
            .and_then(|vs| {
                vs.iter()
                    .filter_map(Value::as_str)
                    .find(|v| *v == "v1")
                    .or_else(|| vs.first().and_then(Value::as_str))
            })
            .unwrap_or("v1")
            .to_string();
        let core = self
            .fetch_json(what, &format!("/api/{core_version}"))?
            .ok_or_else(|| unavailable(what, format!("/api/{core_version} answered 404")))?;
        add_resources(&mut found, "", &core_version, &core);
        let groups = self
            .fetch_json(what, "/apis")?
            .ok_or_else(|| unavailable(what, "/apis answered 404"))?;
        let mut preferred: BTreeMap<String, String> = BTreeMap::new();
        for g in groups
            .get("groups")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let name = g.get("name").and_then(Value::as_str).unwrap_or("");
            let version = g
                .get("preferredVersion")
                .and_then(|p| p.get("version"))
                .and_then(Value::as_str)
                .or_else(|| {
                    g.get("versions")
                        .and_then(Value::as_array)
                        .and_then(|v| v.first())
                        .and_then(|v| v.get("version"))
                        .and_then(Value::as_str)
                });
            if let (false, Some(v)) = (name.is_empty(), version) {
                preferred.insert(name.to_string(), v.to_string());
            }
        }
        for (group, version) in preferred {
            let path = format!("/apis/{group}/{version}");
            match self.fetch_json(what, &path) {
                Ok(Some(list)) => add_resources(&mut found, &group, &version, &list),
                Ok(None) => {
                    found
                        .failed_groups
                        .insert(group, format!("{path} answered 404"));
                }
                Err(e @ EvidenceError::BudgetExhausted { .. }) => return Err(e),
                // NB: one broken aggregated API (metrics-server down) must not blind every skill.
                Err(e) => {
                    tracing::warn!(target: "skillbox::live", group = %group, error = %e, "API discovery of a group failed");
                    found.failed_groups.insert(group, e.to_string());
                }
            }
        }
        Ok(found)
    }

    /// The cached discovery, running it first when there is none.
    fn discovered(&self) -> Result<Arc<Discovered>, EvidenceError> {
        if let Some(d) = self.cluster.cached_discovery() {
            return Ok(d);
        }
        let mut last = lock(&self.cluster.refreshed);
        // Another investigation may have run it while this one waited for the lock.
        if let Some(d) = self.cluster.cached_discovery() {
            return Ok(d);
        }
        *last = Some(Instant::now());
        self.store_discovery(self.discover()?)
    }

    /// Re-runs discovery after a miss, unless it ran less than the refresh interval ago.
    fn refresh_on_miss(&self) -> Result<Option<Arc<Discovered>>, EvidenceError> {
        let mut last = lock(&self.cluster.refreshed);
        if last.is_some_and(|t| t.elapsed() < self.cluster.refresh_every) {
            return Ok(None);
        }
        *last = Some(Instant::now());
        self.store_discovery(self.discover()?).map(Some)
    }

    fn store_discovery(&self, d: Discovered) -> Result<Arc<Discovered>, EvidenceError> {
        tracing::debug!(target: "skillbox::live", kinds = d.kinds.len(), failed_groups = d.failed_groups.len(), "API discovery");
        let d = Arc::new(d);
        *self
            .cluster
            .discovery
            .write()
            .unwrap_or_else(PoisonError::into_inner) = Some(Arc::clone(&d));
        Ok(d)
    }

    /// The served resource of a resolved kind; `None` when the cluster does not serve it (a
    /// well-known kind resolved without it), `Unavailable` when its group's discovery failed.
    fn api_kind(&self, kind: &KindKey, what: &str) -> Result<Option<ApiKind>, EvidenceError> {
        if names_secret(&kind.kind) {
            return Err(secrets_denied(what));
        }
        let d = self.discovered()?;
        if let Some(k) = d.kinds.get(kind) {
            return Ok(Some(k.clone()));
        }
        match d.failed_groups.get(&kind.group) {
            Some(reason) => Err(unavailable(
                what,
                format!("API discovery of group {} failed: {reason}", kind.group),
            )),
            None => Ok(None),
        }
    }

    /// An object from the API server's JSON, exactly as a snapshot would hold it.
    fn object(
        &self,
        api: &ApiKind,
        what: &str,
        value: Value,
    ) -> Result<Arc<StoredObject>, EvidenceError> {
        let Value::Object(mut map) = value else {
            return Err(unavailable(what, "the API server answered a non-object"));
        };
        for (field, v) in [
            ("apiVersion", api.api_version()),
            ("kind", api.key.kind.clone()),
        ] {
            if map
                .get(field)
                .and_then(Value::as_str)
                .is_none_or(str::is_empty)
            {
                map.insert(field.to_string(), Value::String(v));
            }
        }
        if let Some(Value::Object(meta)) = map.get_mut("metadata") {
            meta.remove("managedFields");
        }
        let obj = StoredObject::from_value(Value::Object(map))
            .map_err(|e| unavailable(what, format!("the API server answered {e}")))?;
        if let Some(uid) = &obj.uid {
            lock(&self.uids).insert(
                (obj.kind.clone(), obj.namespace.clone(), obj.name.clone()),
                uid.clone(),
            );
        }
        Ok(Arc::new(obj))
    }

    /// A LIST through the cache: sorted by (namespace, name), 404 read as empty.
    fn list_request(
        &self,
        api: &ApiKind,
        what: &str,
        req: http::Request<Vec<u8>>,
    ) -> Result<Arc<Vec<Arc<StoredObject>>>, EvidenceError> {
        let key = req.uri().to_string();
        if let Some(hit) = self.cluster.cached_list(&key) {
            tracing::trace!(target: "skillbox::live", uri = %key, "LIST cache hit");
            return Ok(hit);
        }
        let body = match self.send(what, req)? {
            Answer::Body(b) => b,
            // The resource is not served (a CRD removed since discovery): there are none.
            Answer::NotFound => return Ok(Arc::new(Vec::new())),
            Answer::BadRequest(m) => {
                return Err(unavailable(what, format!("400 Bad Request: {m}")));
            }
        };
        let list: Value = serde_json::from_slice(&body)
            .map_err(|e| unavailable(what, format!("the answer is not JSON: {e}")))?;
        let items = match list.get("items") {
            Some(Value::Array(items)) => items.clone(),
            Some(Value::Null) | None => Vec::new(),
            Some(_) => return Err(unavailable(what, "the answer's items is not a list")),
        };
        let mut objects = items
            .into_iter()
            .map(|item| self.object(api, what, item))
            .collect::<Result<Vec<_>, _>>()?;
        objects.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
        let objects = Arc::new(objects);
        self.cluster.keep_list(key, Arc::clone(&objects));
        Ok(objects)
    }

    /// The core v1 Event resource: fixed, so events need no discovery.
    fn core_events() -> ApiKind {
        ApiKind {
            key: KindKey {
                group: String::new(),
                kind: "Event".into(),
            },
            version: "v1".into(),
            plural: "events".into(),
            short_names: vec!["ev".into()],
            namespaced: true,
        }
    }
}

impl EvidenceSource for LiveSource {
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError> {
        if names_secret(query) {
            return Err(secrets_denied(&format!("kind {query:?}")));
        }
        let mut d = self.discovered()?;
        let mut candidates = d.matching(query);
        if candidates.is_empty()
            && let Some(fresh) = self.refresh_on_miss()?
        {
            d = fresh;
            candidates = d.matching(query);
        }
        let key = resolve_among(query, candidates, || {
            d.kinds
                .keys()
                .filter(|k| !names_secret(&k.kind))
                .map(ToString::to_string)
                .collect()
        })?;
        if names_secret(&key.kind) {
            return Err(secrets_denied(&format!("kind {query:?} ({key})")));
        }
        Ok(key)
    }

    fn get(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError> {
        let what = describe(kind, namespace, name);
        let Some(api) = self.api_kind(kind, &what)? else {
            return Ok(None);
        };
        let namespace = scope(&api, namespace);
        if api.namespaced && namespace.is_none() {
            // A namespaced object has a namespace; without one there is nothing to name.
            return Ok(None);
        }
        check_segment("name", name)?;
        if let Some(ns) = namespace {
            check_segment("namespace", ns)?;
        }
        let req = KubeRequest::new(api.url_path(namespace))
            .get(name, &GetParams::default())
            .map_err(|e| unavailable(&what, e))?;
        match self.send(&what, req)? {
            Answer::Body(b) => {
                let value = serde_json::from_slice(&b)
                    .map_err(|e| unavailable(&what, format!("the answer is not JSON: {e}")))?;
                self.object(&api, &what, value).map(Some)
            }
            Answer::NotFound => Ok(None),
            Answer::BadRequest(m) => Err(unavailable(&what, format!("400 Bad Request: {m}"))),
        }
    }

    fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        let place = namespace.map_or("all namespaces".to_string(), |ns| format!("namespace {ns}"));
        let what = format!("{kind} list in {place}");
        let Some(api) = self.api_kind(kind, &what)? else {
            return Ok(Vec::new());
        };
        let what = format!("{kind} ({}) in {place}", api.plural);
        let namespace = scope(&api, namespace);
        if let Some(ns) = namespace {
            check_segment("namespace", ns)?;
        }
        let mut lp = ListParams::default();
        let rendered = selector.to_string();
        if !rendered.is_empty() {
            lp = lp.labels(&rendered);
        }
        let req = KubeRequest::new(api.url_path(namespace))
            .list(&lp)
            .map_err(|e| unavailable(&what, e))?;
        let objects = self.list_request(&api, &what, req)?;
        // NB: the API server applied the selector; applying it again costs nothing and keeps the
        // answer exactly the snapshot's whatever the server made of an unusual selector.
        Ok(objects
            .iter()
            .filter(|o| selector.matches(&o.labels))
            .cloned()
            .collect())
    }

    fn events_for(&self, involved: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        let what = format!("events about {involved}");
        if names_secret(&involved.kind) {
            return Err(secrets_denied(&what));
        }
        check_segment("kind", &involved.kind)?;
        check_segment("name", &involved.name)?;
        let ns = involved.namespace.as_deref().filter(|n| !n.is_empty());
        if let Some(ns) = ns {
            check_segment("namespace", ns)?;
        }
        // NB: events.k8s.io/v1 serves the very same stored Events as core v1, so one LIST of
        // core v1 sees them all; asking both would return each event twice.
        let fields = format!(
            "involvedObject.kind={},involvedObject.name={},involvedObject.namespace={}",
            escape_field(&involved.kind),
            escape_field(&involved.name),
            escape_field(ns.unwrap_or(""))
        );
        let api = Self::core_events();
        let req = KubeRequest::new(api.url_path(ns))
            .list(&ListParams::default().fields(&fields))
            .map_err(|e| unavailable(&what, e))?;
        let events = self.list_request(&api, &what, req)?;
        let group = (!involved.api_version.is_empty()).then(|| api_group(&involved.api_version));
        let uid = group.and_then(|g| {
            let key = (
                KindKey {
                    group: g.to_string(),
                    kind: involved.kind.clone(),
                },
                ns.map(String::from),
                involved.name.clone(),
            );
            lock(&self.uids).get(&key).cloned()
        });
        let mut out: Vec<Arc<StoredObject>> = events
            .iter()
            .filter(|e| e.event_about(group, uid.as_deref()))
            .cloned()
            .collect();
        sort_events(&mut out);
        Ok(out)
    }

    fn logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
        max_bytes: usize,
    ) -> Result<Option<String>, EvidenceError> {
        let what = format!("log of container {container} of Pod {namespace}/{pod}");
        check_segment("namespace", namespace)?;
        check_segment("pod", pod)?;
        check_segment("container", container)?;
        let lp = LogParams {
            container: Some(container.to_string()),
            tail_lines: Some(i64::from(tail_lines)),
            limit_bytes: Some(LOG_FETCH_BYTES),
            ..LogParams::default()
        };
        let req = KubeRequest::new(format!("/api/v1/namespaces/{namespace}/pods"))
            .logs(pod, &lp)
            .map_err(|e| unavailable(&what, e))?;
        match self.send(&what, req)? {
            // The API server's tail starts at a line start: read it as a whole file.
            Answer::Body(b) => Ok(Some(tail_text(&b, true, tail_lines, max_bytes))),
            Answer::NotFound => Ok(None),
            // "container … is waiting to start" or no such container: no log to read.
            Answer::BadRequest(m) => {
                tracing::debug!(target: "skillbox::live", %what, message = %m, "no log");
                Ok(None)
            }
        }
    }

    fn names(&self, kind: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError> {
        let what = format!("names of {kind}");
        let Some(api) = self.api_kind(kind, &what)? else {
            return Ok(Vec::new());
        };
        let req = KubeRequest::new(api.url_path(None))
            .list_metadata(&ListParams::default())
            .map_err(|e| unavailable(&what, e))?;
        let body = match self.send(&what, req)? {
            Answer::Body(b) => b,
            Answer::NotFound => return Ok(Vec::new()),
            Answer::BadRequest(m) => {
                return Err(unavailable(&what, format!("400 Bad Request: {m}")));
            }
        };
        let list: Value = serde_json::from_slice(&body)
            .map_err(|e| unavailable(&what, format!("the answer is not JSON: {e}")))?;
        let meta = |item: &Value, f: &str| -> Option<String> {
            item.get("metadata")
                .and_then(|m| m.get(f))
                .and_then(Value::as_str)
                .filter(|s| !s.is_empty())
                .map(String::from)
        };
        let mut names: Vec<(Option<String>, String)> = list
            .get("items")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|item| Some((meta(item, "namespace"), meta(item, "name")?)))
            .collect();
        names.sort();
        Ok(names)
    }

    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError> {
        Ok(self
            .discovered()?
            .kinds
            .keys()
            .filter(|k| !names_secret(&k.kind))
            .cloned()
            .collect())
    }
}

/// Adds the top-level resources of one discovery document (`APIResourceList`).
fn add_resources(found: &mut Discovered, group: &str, version: &str, list: &Value) {
    for r in list
        .get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
    {
        let s = |f: &str| r.get(f).and_then(Value::as_str).unwrap_or("");
        let (plural, kind) = (s("name"), s("kind"));
        // Subresources (`pods/log`) and resources that cannot be listed are not collections.
        let listable = r
            .get("verbs")
            .and_then(Value::as_array)
            .is_some_and(|v| v.iter().any(|v| v.as_str() == Some("list")));
        if plural.is_empty() || kind.is_empty() || plural.contains('/') || !listable {
            continue;
        }
        let key = KindKey {
            group: group.to_string(),
            kind: kind.to_string(),
        };
        let short_names = r
            .get("shortNames")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_ascii_lowercase)
            .collect();
        found.kinds.entry(key.clone()).or_insert(ApiKind {
            key,
            version: version.to_string(),
            plural: plural.to_ascii_lowercase(),
            short_names,
            namespaced: r.get("namespaced").and_then(Value::as_bool).unwrap_or(true),
        });
    }
}

/// The namespace a request uses: none for a cluster-scoped kind, as kubectl ignores `-n`.
fn scope<'a>(api: &ApiKind, namespace: Option<&'a str>) -> Option<&'a str> {
    if api.namespaced {
        namespace.filter(|n| !n.is_empty())
    } else {
        None
    }
}

/// Whether a request path's resource is `secrets` (`/api/v1/secrets`,
/// `/api/v1/namespaces/x/secrets/y`, any group): the last guard before the network.
fn path_reads_secrets(path: &str) -> bool {
    let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
    let rest = match segs.first() {
        Some(&"api") => segs.get(2..),
        Some(&"apis") => segs.get(3..),
        _ => None,
    }
    .unwrap_or(&[]);
    let resource = match rest {
        ["namespaces", _, resource, ..] => Some(resource),
        [resource, ..] => Some(resource),
        [] => None,
    };
    resource.is_some_and(|r| names_secret(r))
}

fn secrets_denied(what: &str) -> EvidenceError {
    EvidenceError::Denied {
        what: what.to_string(),
        reason: "Secrets are never read, whatever a skill's grants say".into(),
    }
}

fn unavailable(what: &str, reason: impl fmt::Display) -> EvidenceError {
    EvidenceError::Unavailable {
        what: what.to_string(),
        reason: reason.to_string(),
    }
}

/// `Pod shop/web-0`, as the tools layer names requests.
fn describe(kind: &KindKey, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{kind} {ns}/{name}"),
        None => format!("{kind} {name}"),
    }
}

/// The group part of an `apiVersion` (`""` for the core group's bare `v1`).
fn api_group(api_version: &str) -> &str {
    api_version.rsplit_once('/').map_or("", |(g, _)| g)
}

/// Refuses a name that could not be exactly one segment of an API path. Kubernetes names are
/// DNS subdomains or labels; RBAC names add `:`; none has `/`, `%`, `?` or whitespace.
fn check_segment(what: &str, value: &str) -> Result<(), EvidenceError> {
    let ok = !value.is_empty()
        && value.len() <= 253
        && value != "."
        && value != ".."
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '@'));
    if ok {
        Ok(())
    } else {
        Err(EvidenceError::InvalidName {
            what: format!("{what} {value:?}"),
        })
    }
}

/// A field selector value with `\`, `,` and `=` escaped, as the API server's parser expects.
fn escape_field(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The `message` of a `Status` answer, else the body's first 200 characters.
fn status_message(body: &[u8]) -> String {
    if let Ok(v) = serde_json::from_slice::<Value>(body)
        && let Some(m) = v.get("message").and_then(Value::as_str)
    {
        return m.to_string();
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    if text.is_empty() {
        "(no message)".into()
    } else {
        text.chars().take(200).collect()
    }
}

/// `5s`, `250ms`: how a timeout reads in a message.
fn human(d: Duration) -> String {
    if d.subsec_millis() == 0 && d.as_secs() > 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{}ms", d.as_millis())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Request, Response};
    use kube::client::Body;
    use skillbox::engine::{EngineConfig, LoadedSkill, SkillEngine};
    use skillbox::evidence::SnapshotSource;
    use skillbox::investigate::{investigate, resolve_target, select_skills};
    use skillbox::package::SkillPackage;
    use std::path::{Path, PathBuf};
    use tower_test::mock;

    type MockHandle = mock::Handle<Request<Body>, Response<Body>>;

    /// What the fake API server does with one request.
    enum Reply {
        Answer(StatusCode, String),
        /// Never answers: a hung API server.
        Hang,
    }

    fn status(code: StatusCode, reason: &str, message: &str) -> Reply {
        Reply::Answer(
            code,
            serde_json::json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                "message": message, "reason": reason, "code": code.as_u16()})
            .to_string(),
        )
    }

    /// One served resource: (group, version, plural, Kind, namespaced, short names).
    type Served = (String, String, String, String, bool, Vec<String>);

    /// A fake API server: discovery of `served`, GET/LIST/logs from `objects`, selectors applied.
    #[derive(Default, Clone)]
    struct FakeApi {
        served: Vec<Served>,
        /// Keyed by (group, Kind, namespace, name): the last one wins, as in a snapshot.
        objects: BTreeMap<(String, String, Option<String>, String), Value>,
        /// (namespace, pod, container) → log text.
        logs: BTreeMap<(String, String, String), String>,
    }

    fn serve(r: (&str, &str, &str, &str, bool, &[&str])) -> Served {
        let short = r.5.iter().map(|s| s.to_string()).collect();
        (r.0.into(), r.1.into(), r.2.into(), r.3.into(), r.4, short)
    }

    impl FakeApi {
        /// The usual cluster: core, apps, batch, events.k8s.io, networking.istio.io.
        fn standard() -> Self {
            let served = [
                ("", "v1", "pods", "Pod", true, &["po"][..]),
                ("", "v1", "pods/log", "Pod", true, &[]),
                ("", "v1", "services", "Service", true, &["svc"]),
                ("", "v1", "events", "Event", true, &["ev"]),
                ("", "v1", "namespaces", "Namespace", false, &["ns"]),
                ("", "v1", "nodes", "Node", false, &["no"]),
                ("", "v1", "configmaps", "ConfigMap", true, &["cm"]),
                ("", "v1", "secrets", "Secret", true, &[]),
                ("apps", "v1", "deployments", "Deployment", true, &["deploy"]),
                ("apps", "v1", "replicasets", "ReplicaSet", true, &["rs"]),
                ("batch", "v1", "jobs", "Job", true, &[]),
                ("events.k8s.io", "v1", "events", "Event", true, &["ev"]),
                (
                    "networking.istio.io",
                    "v1",
                    "virtualservices",
                    "VirtualService",
                    true,
                    &["vs"],
                ),
            ]
            .into_iter()
            .map(serve)
            .collect();
            Self {
                served,
                ..Self::default()
            }
        }

        fn add(&mut self, v: Value) {
            let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).map(String::from);
            let api_version = s(&v, "apiVersion").unwrap_or_default();
            let meta = v.get("metadata").cloned().unwrap_or(Value::Null);
            let key = (
                api_group(&api_version).to_string(),
                s(&v, "kind").unwrap_or_default(),
                s(&meta, "namespace").filter(|n| !n.is_empty()),
                s(&meta, "name").unwrap_or_default(),
            );
            self.objects.insert(key, v);
        }

        fn answer(&self, req: &Request<Body>) -> Reply {
            let path = req.uri().path();
            let query = parse_query(req.uri().query().unwrap_or(""));
            let segs: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
            let ok = |v: Value| Reply::Answer(StatusCode::OK, v.to_string());
            match segs.as_slice() {
                ["api"] => {
                    return ok(serde_json::json!({"kind": "APIVersions", "versions": ["v1"]}));
                }
                ["apis"] => {
                    let groups: BTreeMap<&str, &str> = self
                        .served
                        .iter()
                        .filter(|r| !r.0.is_empty())
                        .map(|r| (r.0.as_str(), r.1.as_str()))
                        .collect();
                    let groups: Vec<Value> = groups
                        .into_iter()
                        .map(|(g, v)| {
                            let gv = serde_json::json!({"groupVersion": format!("{g}/{v}"), "version": v});
                            serde_json::json!({"name": g, "versions": [gv.clone()], "preferredVersion": gv})
                        })
                        .collect();
                    return ok(serde_json::json!({"kind": "APIGroupList", "groups": groups}));
                }
                ["api", v] => return self.resource_list("", v),
                ["apis", g, v] => return self.resource_list(g, v),
                _ => {}
            }
            let (group, version, rest) = match segs.as_slice() {
                ["api", v, rest @ ..] => ("", *v, rest),
                ["apis", g, v, rest @ ..] => (*g, *v, rest),
                _ => return status(StatusCode::NOT_FOUND, "NotFound", "no such path"),
            };
            let (ns, rest) = match rest {
                ["namespaces", ns, rest @ ..] if !rest.is_empty() => (Some(*ns), rest),
                _ => (None, rest),
            };
            let Some(res) = self
                .served
                .iter()
                .find(|r| r.0 == group && r.1 == version && rest.first() == Some(&r.2.as_str()))
            else {
                return status(
                    StatusCode::NOT_FOUND,
                    "NotFound",
                    "the server could not find the requested resource",
                );
            };
            let api_version = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            match rest {
                [_, name, "log"] => {
                    let key = (
                        ns.unwrap_or("").to_string(),
                        name.to_string(),
                        query.get("container").cloned().unwrap_or_default(),
                    );
                    let Some(text) = self.logs.get(&key) else {
                        return status(
                            StatusCode::BAD_REQUEST,
                            "BadRequest",
                            "container is waiting to start: ContainerCreating",
                        );
                    };
                    let lines: Vec<&str> = text.split_inclusive('\n').collect();
                    let n = query
                        .get("tailLines")
                        .and_then(|t| t.parse().ok())
                        .unwrap_or(lines.len());
                    let mut out: String = lines[lines.len().saturating_sub(n)..].concat();
                    if let Some(limit) = query
                        .get("limitBytes")
                        .and_then(|l| l.parse::<usize>().ok())
                    {
                        out.truncate(limit);
                    }
                    Reply::Answer(StatusCode::OK, out)
                }
                [_, name] => {
                    let key = (
                        group.to_string(),
                        res.3.clone(),
                        ns.map(String::from),
                        name.to_string(),
                    );
                    match self.objects.get(&key) {
                        Some(v) => ok(v.clone()),
                        None => status(
                            StatusCode::NOT_FOUND,
                            "NotFound",
                            &format!("{} \"{name}\" not found", res.2),
                        ),
                    }
                }
                [_] => {
                    let labels = query
                        .get("labelSelector")
                        .map(|s| Selector::parse(s).unwrap())
                        .unwrap_or_else(Selector::everything);
                    let fields = query
                        .get("fieldSelector")
                        .map(|f| parse_fields(f))
                        .unwrap_or_default();
                    let items: Vec<Value> = self
                        .objects
                        .iter()
                        .filter(|((g, k, o_ns, _), _)| {
                            *g == group && *k == res.3 && (ns.is_none() || o_ns.as_deref() == ns)
                        })
                        .map(|(_, v)| v)
                        .filter(|v| labels.matches(&labels_of(v)))
                        .filter(|v| fields.iter().all(|(path, want)| field(v, path) == *want))
                        .map(|v| {
                            // Items of a LIST carry no apiVersion and kind, as the API server sends them.
                            let mut v = v.clone();
                            if let Some(m) = v.as_object_mut() {
                                m.remove("apiVersion");
                                m.remove("kind");
                            }
                            v
                        })
                        .collect();
                    ok(
                        serde_json::json!({"kind": format!("{}List", res.3), "apiVersion": api_version,
                        "metadata": {"resourceVersion": "1"}, "items": items}),
                    )
                }
                _ => status(StatusCode::NOT_FOUND, "NotFound", "no such path"),
            }
        }

        fn resource_list(&self, group: &str, version: &str) -> Reply {
            let resources: Vec<Value> = self
                .served
                .iter()
                .filter(|r| r.0 == group && r.1 == version)
                .map(|r| serde_json::json!({"name": r.2, "singularName": "", "namespaced": r.4, "kind": r.3,
                    "verbs": ["get", "list", "watch"], "shortNames": r.5}))
                .collect();
            if resources.is_empty() {
                return status(StatusCode::NOT_FOUND, "NotFound", "no such group version");
            }
            let gv = if group.is_empty() {
                version.to_string()
            } else {
                format!("{group}/{version}")
            };
            Reply::Answer(StatusCode::OK, serde_json::json!({"kind": "APIResourceList", "groupVersion": gv, "resources": resources}).to_string())
        }
    }

    fn labels_of(v: &Value) -> BTreeMap<String, String> {
        v.pointer("/metadata/labels")
            .and_then(Value::as_object)
            .map(|l| {
                l.iter()
                    .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A dotted field of an object, `""` when absent (as field selectors compare).
    fn field(v: &Value, path: &str) -> String {
        path.split('.')
            .try_fold(v, |v, k| v.get(k))
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string()
    }

    /// `a=b,c=d` with `\,` `\=` `\\` escapes.
    fn parse_fields(s: &str) -> Vec<(String, String)> {
        let mut terms = vec![(String::new(), String::new(), false)];
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            let (k, v, in_value) = terms.last_mut().unwrap();
            let target = if *in_value { v } else { k };
            match c {
                '\\' => target.extend(chars.next()),
                ',' => terms.push((String::new(), String::new(), false)),
                '=' if !*in_value => *in_value = true,
                c => target.push(c),
            }
        }
        terms.into_iter().map(|(k, v, _)| (k, v)).collect()
    }

    fn parse_query(q: &str) -> BTreeMap<String, String> {
        q.split('&')
            .filter(|p| !p.is_empty())
            .map(|p| {
                let (k, v) = p.split_once('=').unwrap_or((p, ""));
                (decode(k), decode(v))
            })
            .collect()
    }

    fn decode(s: &str) -> String {
        let b = s.as_bytes();
        let mut out = Vec::with_capacity(b.len());
        let mut i = 0;
        while i < b.len() {
            match b[i] {
                b'+' => out.push(b' '),
                b'%' if i + 2 < b.len() => {
                    let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap();
                    out.push(u8::from_str_radix(hex, 16).unwrap());
                    i += 2;
                }
                c => out.push(c),
            }
            i += 1;
        }
        String::from_utf8(out).unwrap()
    }

    /// Every request URI the fake server saw.
    type Seen = Arc<Mutex<Vec<String>>>;

    /// Starts a fake API server answering with `answer`; returns the shared cluster and the log
    /// of requests.
    fn start(
        answer: impl Fn(&Request<Body>) -> Reply + Send + 'static,
    ) -> (Arc<LiveCluster>, Seen) {
        let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let seen: Seen = Arc::default();
        tokio::spawn(run_server(handle, answer, Arc::clone(&seen)));
        let client = kube::Client::new(svc, "default");
        (Arc::new(LiveCluster::new(client, "skillbox-system")), seen)
    }

    async fn run_server(
        mut handle: MockHandle,
        answer: impl Fn(&Request<Body>) -> Reply,
        seen: Seen,
    ) {
        let mut hung = Vec::new();
        while let Some((req, send)) = handle.next_request().await {
            seen.lock().unwrap().push(req.uri().to_string());
            match answer(&req) {
                Reply::Hang => hung.push(send),
                Reply::Answer(code, body) => send.send_response(
                    Response::builder()
                        .status(code)
                        .body(Body::from(body.into_bytes()))
                        .unwrap(),
                ),
            }
        }
    }

    /// Runs `f` with a fresh [`LiveSource`] on a blocking thread, as the operator does.
    async fn with_source<T: Send + 'static>(
        cluster: &Arc<LiveCluster>,
        budget: LiveBudget,
        f: impl FnOnce(&Arc<LiveSource>) -> T + Send + 'static,
    ) -> T {
        let source = Arc::new(LiveSource::new(
            Arc::clone(cluster),
            Handle::current(),
            budget,
        ));
        tokio::task::spawn_blocking(move || f(&source))
            .await
            .unwrap()
    }

    fn key(group: &str, kind: &str) -> KindKey {
        KindKey {
            group: group.into(),
            kind: kind.into(),
        }
    }

    fn pod(ns: &str, name: &str, labels: Value) -> Value {
        serde_json::json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "uid": format!("uid-{name}"), "labels": labels,
                "managedFields": [{"manager": "kubectl", "operation": "Update"}]},
            "status": {"phase": "Running"}})
    }

    fn event(name: &str, pod: &str, uid: &str, last: &str) -> Value {
        serde_json::json!({"apiVersion": "v1", "kind": "Event", "metadata": {"name": name, "namespace": "shop"},
            "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": pod, "namespace": "shop", "uid": uid},
            "reason": "BackOff", "lastTimestamp": last})
    }

    /// The standard fake with a few Pods, a Deployment, a Node, events, a log and a Secret.
    fn shop() -> FakeApi {
        let mut api = FakeApi::standard();
        api.add(pod("shop", "web-1", serde_json::json!({"app": "web"})));
        api.add(pod(
            "shop",
            "web-0",
            serde_json::json!({"app": "web", "tier": "front"}),
        ));
        api.add(pod("shop", "db-0", serde_json::json!({"app": "db"})));
        api.add(pod("other", "web-9", serde_json::json!({"app": "web"})));
        api.add(
            serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": "web", "namespace": "shop"}, "spec": {"replicas": 2}}),
        );
        api.add(
            serde_json::json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}}),
        );
        api.add(serde_json::json!({"apiVersion": "v1", "kind": "Secret",
            "metadata": {"name": "db-password", "namespace": "shop"}, "data": {"password": "aHVudGVyMg=="}}));
        api.add(event(
            "e-late",
            "web-0",
            "uid-web-0",
            "2026-11-24T07:57:23Z",
        ));
        api.add(event(
            "e-early",
            "web-0",
            "uid-web-0",
            "2026-11-24T07:12:03Z",
        ));
        api.add(event(
            "e-namesake",
            "web-0",
            "uid-deleted",
            "2026-11-24T07:30:00Z",
        ));
        api.logs.insert(
            ("shop".into(), "web-0".into(), "app".into()),
            (1..=50).map(|i| format!("line {i}\n")).collect(),
        );
        api
    }

    fn no_secrets(seen: &Seen) {
        for uri in seen.lock().unwrap().iter() {
            assert!(!uri.contains("secret"), "a request touched Secrets: {uri}");
        }
    }

    /// Requests discovery of the standard fake sends: /api, /api/v1, /apis, one per group.
    const DISCOVERY_CALLS: u32 = 3 + 4;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn kinds_resolve_through_discovery_with_the_snapshot_precedence() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let (resolved, calls, kinds) = with_source(&cluster, LiveBudget::default(), |s| {
            let resolved: Vec<(String, Result<KindKey, String>)> = [
                "Pod",
                "pods",
                "po",
                "POD",
                "deploy",
                "Deployment.apps",
                "deployments.apps",
                "rs",
                "ev",
                "events",
                "Event.events.k8s.io",
                "vs",
                "VirtualService.networking",
                "HorizontalPodAutoscaler",
                "widgets",
            ]
            .into_iter()
            .map(|q| (q.to_string(), s.resolve_kind(q).map_err(|e| e.to_string())))
            .collect();
            (resolved, s.api_calls(), s.kinds().unwrap())
        })
        .await;
        let want = |q: &str| resolved.iter().find(|(x, _)| x == q).unwrap().1.clone();
        for q in ["Pod", "pods", "po", "POD"] {
            assert_eq!(want(q), Ok(key("", "Pod")), "{q}");
        }
        for q in ["deploy", "Deployment.apps", "deployments.apps"] {
            assert_eq!(want(q), Ok(key("apps", "Deployment")), "{q}");
        }
        assert_eq!(want("rs"), Ok(key("apps", "ReplicaSet")));
        assert_eq!(want("ev"), Ok(key("", "Event")), "the core group wins");
        assert_eq!(want("events"), Ok(key("", "Event")));
        assert_eq!(
            want("Event.events.k8s.io"),
            Ok(key("events.k8s.io", "Event"))
        );
        assert_eq!(want("vs"), Ok(key("networking.istio.io", "VirtualService")));
        assert_eq!(
            want("VirtualService.networking"),
            Ok(key("networking.istio.io", "VirtualService"))
        );
        assert_eq!(
            want("HorizontalPodAutoscaler"),
            Ok(key("autoscaling", "HorizontalPodAutoscaler")),
            "a well-known kind the cluster does not serve still resolves"
        );
        let unknown = want("widgets").unwrap_err();
        assert!(unknown.contains("unknown kind \"widgets\""), "{unknown}");
        assert!(!unknown.contains("Secret"), "{unknown}");
        assert!(!kinds.contains(&key("", "Secret")), "{kinds:?}");
        assert!(
            !kinds.iter().any(|k| k.kind == "Pod" && !k.group.is_empty()),
            "subresources are not kinds"
        );
        // Discovery ran once: the miss on "widgets" came within the refresh interval.
        assert_eq!(calls, DISCOVERY_CALLS, "{:?}", seen.lock().unwrap());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_miss_refreshes_discovery_at_most_once_per_interval() {
        let fake = shop();
        let (svc, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let seen: Seen = Arc::default();
        tokio::spawn(run_server(
            handle,
            move |r| fake.answer(r),
            Arc::clone(&seen),
        ));
        let cluster = Arc::new(
            LiveCluster::new(kube::Client::new(svc, "default"), "skillbox-system")
                .with_discovery_refresh(Duration::ZERO),
        );
        let calls = with_source(&cluster, LiveBudget::default(), |s| {
            s.resolve_kind("Pod").unwrap();
            let _ = s.resolve_kind("widgets");
            s.api_calls()
        })
        .await;
        assert_eq!(calls, 2 * DISCOVERY_CALLS, "a miss re-ran discovery");
        let again = with_source(&cluster, LiveBudget::default(), |s| {
            s.resolve_kind("Pod").unwrap();
            s.api_calls()
        })
        .await;
        assert_eq!(again, 0, "a hit on the process-wide cache costs nothing");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn secrets_are_refused_in_every_spelling_without_a_request() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let errors = with_source(&cluster, LiveBudget::default(), |s| {
            let mut errors = Vec::new();
            for q in [
                "Secret",
                "secret",
                "Secrets",
                "v1/Secret",
                "secrets.",
                "SECRET",
                "secrets",
                " secret ",
            ] {
                errors.push(s.resolve_kind(q).unwrap_err());
            }
            let secret = key("", "Secret");
            errors.push(s.get(&secret, Some("shop"), "db-password").unwrap_err());
            errors.push(s.list(&secret, None, &Selector::everything()).unwrap_err());
            errors.push(s.names(&secret).unwrap_err());
            errors.push(
                s.events_for(&ObjectRef::namespaced(
                    "v1",
                    "Secret",
                    "shop",
                    "db-password",
                ))
                .unwrap_err(),
            );
            (errors, s.api_calls())
        })
        .await;
        let (errors, calls) = errors;
        for e in &errors {
            assert!(matches!(e, EvidenceError::Denied { .. }), "{e}");
            assert!(e.to_string().contains("Secrets are never read"), "{e}");
        }
        assert_eq!(
            calls,
            0,
            "refused before any request: {:?}",
            seen.lock().unwrap()
        );
        // The last guard: a path whose resource is secrets never leaves the process.
        for p in [
            "/api/v1/secrets",
            "/api/v1/namespaces/shop/secrets",
            "/api/v1/namespaces/shop/secrets/db-password",
            "/apis/example.com/v1/namespaces/x/secretstores",
        ] {
            assert!(path_reads_secrets(p), "{p}");
        }
        for p in [
            "/api/v1/namespaces/secrets/pods",
            "/api/v1/namespaces/shop/pods/secret-keeper-0",
            "/apis",
            "/api/v1",
        ] {
            assert!(!path_reads_secrets(p), "{p}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn get_answers_the_object_as_a_snapshot_holds_it_or_none() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let (found, missing, node) = with_source(&cluster, LiveBudget::default(), |s| {
            (
                s.get(&key("", "Pod"), Some("shop"), "web-0").unwrap(),
                s.get(&key("", "Pod"), Some("shop"), "nope").unwrap(),
                // A namespace given for a cluster-scoped kind is ignored.
                s.get(&key("", "Node"), Some("shop"), "n1").unwrap(),
            )
        })
        .await;
        let found = found.expect("web-0 is there");
        let mut want = pod(
            "shop",
            "web-0",
            serde_json::json!({"app": "web", "tier": "front"}),
        );
        want["metadata"]
            .as_object_mut()
            .unwrap()
            .remove("managedFields");
        let want = StoredObject::from_value(want).unwrap();
        assert_eq!(
            found.json, want.json,
            "the same JSON text a snapshot would hold"
        );
        assert_eq!(found.labels, want.labels);
        assert_eq!(found.uid.as_deref(), Some("uid-web-0"));
        assert!(missing.is_none(), "404 is not found");
        assert_eq!(node.unwrap().namespace, None);
        let seen = seen.lock().unwrap();
        assert!(
            seen.contains(&"/api/v1/namespaces/shop/pods/web-0".to_string()),
            "{seen:?}"
        );
        assert!(seen.contains(&"/api/v1/nodes/n1".to_string()), "{seen:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn list_renders_the_selector_and_sorts_by_namespace_and_name() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let (in_shop, everywhere, empty, calls) =
            with_source(&cluster, LiveBudget::default(), |s| {
                let names = |v: Vec<Arc<StoredObject>>| -> Vec<String> {
                    v.iter()
                        .map(|o| format!("{}/{}", o.namespace.as_deref().unwrap_or(""), o.name))
                        .collect()
                };
                let pods = key("", "Pod");
                let in_shop = names(
                    s.list(&pods, Some("shop"), &Selector::parse("app=web").unwrap())
                        .unwrap(),
                );
                let everywhere = names(
                    s.list(&pods, None, &Selector::parse("app in (web,db)").unwrap())
                        .unwrap(),
                );
                // A kind the cluster does not serve: none, and no request.
                let before = s.api_calls();
                let empty = s
                    .list(
                        &key("autoscaling", "HorizontalPodAutoscaler"),
                        None,
                        &Selector::everything(),
                    )
                    .unwrap();
                assert_eq!(s.api_calls(), before);
                (in_shop, everywhere, empty, s.api_calls())
            })
            .await;
        assert_eq!(in_shop, ["shop/web-0", "shop/web-1"]);
        assert_eq!(
            everywhere,
            ["other/web-9", "shop/db-0", "shop/web-0", "shop/web-1"]
        );
        assert!(empty.is_empty());
        assert_eq!(calls, DISCOVERY_CALLS + 2);
        let seen = seen.lock().unwrap();
        assert!(
            seen.contains(&"/api/v1/namespaces/shop/pods?&labelSelector=app%3Dweb".to_string()),
            "{seen:?}"
        );
        assert!(
            seen.contains(&"/api/v1/pods?&labelSelector=app+in+%28db%2Cweb%29".to_string()),
            "{seen:?}"
        );
        no_secrets_in(&seen);
    }

    fn no_secrets_in(seen: &[String]) {
        for uri in seen {
            assert!(!uri.contains("secret"), "a request touched Secrets: {uri}");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn lists_are_reused_for_a_short_while_across_investigations() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| fake.answer(r));
        let sel = || Selector::parse("app=web").unwrap();
        let first = with_source(&cluster, LiveBudget::default(), move |s| {
            s.list(&key("", "Pod"), Some("shop"), &sel()).unwrap();
            let after_one = s.api_calls();
            s.list(&key("", "Pod"), Some("shop"), &sel()).unwrap();
            (after_one, s.api_calls())
        })
        .await;
        assert_eq!(
            first.0, first.1,
            "the second identical LIST came from the cache"
        );
        let second = with_source(&cluster, LiveBudget::default(), move |s| {
            s.list(&key("", "Pod"), Some("shop"), &sel()).unwrap();
            s.list(&key("", "Pod"), Some("other"), &sel()).unwrap();
            s.api_calls()
        })
        .await;
        assert_eq!(
            second, 1,
            "another investigation reuses it too; another namespace is another LIST"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_api_call_budget_is_enforced_per_investigation() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let budget = LiveBudget {
            max_api_calls: DISCOVERY_CALLS + 3,
            ..LiveBudget::default()
        };
        let (answers, calls) = with_source(&cluster, budget, |s| {
            let answers: Vec<Result<bool, EvidenceError>> = (0..5)
                .map(|_| {
                    s.get(&key("", "Pod"), Some("shop"), "web-0")
                        .map(|o| o.is_some())
                })
                .collect();
            (answers, s.api_calls())
        })
        .await;
        assert!(
            answers[..3].iter().all(|a| matches!(a, Ok(true))),
            "{answers:?}"
        );
        for a in &answers[3..] {
            match a {
                Err(EvidenceError::BudgetExhausted { limit }) => {
                    assert_eq!(*limit, DISCOVERY_CALLS + 3)
                }
                other => panic!("expected budget-exhausted, got {other:?}"),
            }
        }
        assert_eq!(calls, DISCOVERY_CALLS + 3);
        assert_eq!(
            seen.lock().unwrap().len() as u32,
            DISCOVERY_CALLS + 3,
            "no request past the budget"
        );
        // A new investigation has a budget of its own.
        let fresh = with_source(&cluster, budget, |s| {
            s.get(&key("", "Pod"), Some("shop"), "web-0")
                .map(|o| o.is_some())
        })
        .await;
        assert!(matches!(fresh, Ok(true)));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hung_api_server_is_unavailable_within_the_timeout() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| {
            if r.uri().path() == "/api/v1/namespaces/shop/pods/web-0" {
                Reply::Hang
            } else {
                fake.answer(r)
            }
        });
        let budget = LiveBudget {
            call_timeout: Duration::from_millis(300),
            ..LiveBudget::default()
        };
        let (err, took) = with_source(&cluster, budget, |s| {
            s.resolve_kind("Pod").unwrap();
            let started = Instant::now();
            let err = s.get(&key("", "Pod"), Some("shop"), "web-0").unwrap_err();
            (err, started.elapsed())
        })
        .await;
        assert!(matches!(err, EvidenceError::Unavailable { .. }), "{err}");
        assert_eq!(
            err.to_string(),
            "cannot read Pod shop/web-0: timed out after 300ms"
        );
        assert!(
            took >= Duration::from_millis(300) && took < Duration::from_millis(300) + CHANNEL_GRACE,
            "{took:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn api_errors_are_classified() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| match r.uri().path() {
            "/api/v1/namespaces/locked/pods" => status(
                StatusCode::FORBIDDEN,
                "Forbidden",
                "pods is forbidden: User \"system:serviceaccount:skillbox-system:skillbox\" cannot list resource \"pods\" in the namespace \"locked\"",
            ),
            "/api/v1/namespaces/shop/pods/boom" => status(
                StatusCode::INTERNAL_SERVER_ERROR,
                "InternalError",
                "etcd is sad",
            ),
            "/apis/apps/v1/namespaces/shop/replicasets" => {
                status(StatusCode::NOT_FOUND, "NotFound", "gone")
            }
            _ => fake.answer(r),
        });
        let (forbidden, boom, gone) = with_source(&cluster, LiveBudget::default(), |s| {
            (
                s.list(&key("", "Pod"), Some("locked"), &Selector::everything())
                    .unwrap_err(),
                s.get(&key("", "Pod"), Some("shop"), "boom").unwrap_err(),
                s.list(
                    &key("apps", "ReplicaSet"),
                    Some("shop"),
                    &Selector::everything(),
                )
                .unwrap(),
            )
        })
        .await;
        match &forbidden {
            EvidenceError::Denied { what, reason } => {
                assert_eq!(what, "Pod (pods) in namespace locked");
                assert!(
                    reason.contains("403 Forbidden on /api/v1/namespaces/locked/pods"),
                    "{reason}"
                );
                assert!(reason.contains("cannot list resource \"pods\""), "{reason}");
            }
            other => panic!("expected denied, got {other}"),
        }
        match &boom {
            EvidenceError::Unavailable { what, reason } => {
                assert_eq!(what, "Pod shop/boom");
                assert!(
                    reason.contains("500") && reason.contains("etcd is sad"),
                    "{reason}"
                );
            }
            other => panic!("expected unavailable, got {other}"),
        }
        assert!(gone.is_empty(), "404 on a LIST is an empty list");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_failed_group_makes_its_kinds_unavailable_not_empty() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| match r.uri().path() {
            "/apis/networking.istio.io/v1" => status(
                StatusCode::SERVICE_UNAVAILABLE,
                "ServiceUnavailable",
                "istiod is restarting",
            ),
            _ => fake.answer(r),
        });
        let (pods, vs) = with_source(&cluster, LiveBudget::default(), |s| {
            let vs = s.resolve_kind("VirtualService").unwrap();
            (
                s.list(&key("", "Pod"), Some("shop"), &Selector::everything())
                    .map(|v| v.len()),
                s.list(&vs, Some("shop"), &Selector::everything())
                    .unwrap_err(),
            )
        })
        .await;
        assert_eq!(pods.unwrap(), 3, "other groups still answer");
        assert!(matches!(vs, EvidenceError::Unavailable { .. }), "{vs}");
        assert!(vs.to_string().contains("istiod is restarting"), "{vs}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn events_come_from_a_field_selector_filtered_and_sorted_like_the_snapshot() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let (before_get, after_get) = with_source(&cluster, LiveBudget::default(), |s| {
            let web0 = ObjectRef::namespaced("v1", "Pod", "shop", "web-0");
            let names =
                |v: Vec<Arc<StoredObject>>| v.iter().map(|e| e.name.clone()).collect::<Vec<_>>();
            let before = names(s.events_for(&web0).unwrap());
            // Once the Pod is read, its uid leaves out the deleted namesake's events.
            s.get(&key("", "Pod"), Some("shop"), "web-0").unwrap();
            (before, names(s.events_for(&web0).unwrap()))
        })
        .await;
        assert_eq!(before_get, ["e-early", "e-namesake", "e-late"]);
        assert_eq!(after_get, ["e-early", "e-late"]);
        let seen = seen.lock().unwrap();
        assert!(seen.iter().any(|u| u.starts_with("/api/v1/namespaces/shop/events?&fieldSelector=involvedObject.kind%3DPod%2CinvolvedObject.name%3Dweb-0%2CinvolvedObject.namespace%3Dshop")), "{seen:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn logs_are_tailed_and_bounded_by_the_api_server_and_here() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        let (tail, cut, waiting) = with_source(&cluster, LiveBudget::default(), |s| {
            (
                s.logs("shop", "web-0", "app", 3, 1024).unwrap(),
                s.logs("shop", "web-0", "app", 10, 15).unwrap(),
                s.logs("shop", "web-1", "app", 10, 1024).unwrap(),
            )
        })
        .await;
        assert_eq!(tail.as_deref(), Some("line 48\nline 49\nline 50\n"));
        assert_eq!(
            cut.as_deref(),
            Some("line 50\n"),
            "the last bytes, from a line start"
        );
        assert_eq!(waiting, None, "a container that has not started has no log");
        let seen = seen.lock().unwrap();
        assert!(
            seen.iter()
                .any(|u| u.starts_with("/api/v1/namespaces/shop/pods/web-0/log?")
                    && u.contains("tailLines=3")
                    && u.contains("limitBytes=1048576")
                    && u.contains("container=app")),
            "{seen:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn names_for_suggestions_come_sorted_from_a_metadata_list() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| fake.answer(r));
        let names = with_source(&cluster, LiveBudget::default(), |s| {
            s.names(&key("", "Pod")).unwrap()
        })
        .await;
        let names: Vec<String> = names
            .into_iter()
            .map(|(ns, n)| format!("{}/{n}", ns.unwrap_or_default()))
            .collect();
        assert_eq!(
            names,
            ["other/web-9", "shop/db-0", "shop/web-0", "shop/web-1"]
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn names_that_are_not_one_path_segment_are_invalid_before_any_request() {
        let fake = shop();
        let (cluster, seen) = start(move |r| fake.answer(r));
        with_source(&cluster, LiveBudget::default(), |s| {
            s.resolve_kind("Pod").unwrap();
            let before = s.api_calls();
            for name in [
                "../secrets/db-password",
                "a/b",
                "..",
                "x?watch=1",
                "%2e%2e",
                "",
            ] {
                let e = s.get(&key("", "Pod"), Some("shop"), name).unwrap_err();
                assert!(
                    matches!(e, EvidenceError::InvalidName { .. }),
                    "{name}: {e}"
                );
                let e = s.logs("shop", name, "app", 1, 10).unwrap_err();
                assert!(
                    matches!(e, EvidenceError::InvalidName { .. }),
                    "{name}: {e}"
                );
            }
            assert_eq!(s.api_calls(), before);
        })
        .await;
        no_secrets(&seen);
    }

    /// Called from an async task on a current-thread runtime (a misuse), a read cannot make
    /// progress: it must end `Unavailable` after the timeout, not panic or hang.
    #[tokio::test]
    async fn a_call_from_async_code_is_unavailable_not_a_panic() {
        let fake = shop();
        let (cluster, _seen) = start(move |r| fake.answer(r));
        let budget = LiveBudget {
            call_timeout: Duration::from_millis(100),
            ..LiveBudget::default()
        };
        let source = LiveSource::new(cluster, Handle::current(), budget);
        let err = source.resolve_kind("Pod").unwrap_err();
        assert!(matches!(err, EvidenceError::Unavailable { .. }), "{err}");
    }

    // ---- The built-in skills against a fake API server serving each public scenario ----

    /// `../shared/scenarios`, when the checkout has it.
    fn scenarios_dir() -> Option<PathBuf> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenarios");
        dir.is_dir().then_some(dir)
    }

    /// Every object file under `dir` (sorted, as the snapshot walks), as JSON documents.
    fn object_documents(dir: &Path, out: &mut Vec<Value>) {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                object_documents(&p, out);
            } else if matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml")) {
                let text = std::fs::read_to_string(&p).unwrap();
                for doc in serde_yaml_ng::Deserializer::from_str(&text) {
                    let v: Value = serde::Deserialize::deserialize(doc).unwrap();
                    out.push(v);
                }
            }
        }
    }

    /// A fake API server for a scenario folder: discovery of every kind it holds (plus the
    /// standard ones), its objects, its logs.
    fn scenario_api(cluster: &Path) -> FakeApi {
        let mut api = FakeApi::standard();
        let mut docs = Vec::new();
        object_documents(cluster, &mut docs);
        for doc in docs {
            let items = match doc.get("items").and_then(Value::as_array) {
                Some(items)
                    if doc
                        .get("kind")
                        .and_then(Value::as_str)
                        .is_some_and(|k| k.ends_with("List")) =>
                {
                    items.clone()
                }
                _ => vec![doc],
            };
            for item in items.into_iter().filter(|i| i.is_object()) {
                let api_version = item["apiVersion"].as_str().unwrap_or("").to_string();
                let kind = item["kind"].as_str().unwrap_or("").to_string();
                let (group, version) = match api_version.rsplit_once('/') {
                    Some((g, v)) => (g.to_string(), v.to_string()),
                    None => (String::new(), api_version.clone()),
                };
                let namespaced = item
                    .pointer("/metadata/namespace")
                    .and_then(Value::as_str)
                    .is_some_and(|n| !n.is_empty());
                if !api.served.iter().any(|r| r.0 == group && r.3 == kind) {
                    // One version per group, as a real server prefers one.
                    let version = api
                        .served
                        .iter()
                        .find(|r| r.0 == group)
                        .map_or(version, |r| r.1.clone());
                    let plural = skillbox_guest::k8s::plural(&kind);
                    api.served
                        .push((group, version, plural, kind, namespaced, Vec::new()));
                }
                api.add(item);
            }
        }
        let logs = cluster.join("logs");
        if logs.is_dir() {
            for ns in std::fs::read_dir(&logs).unwrap() {
                let ns = ns.unwrap().path();
                for pod in std::fs::read_dir(&ns).unwrap() {
                    let pod = pod.unwrap().path();
                    for log in std::fs::read_dir(&pod).unwrap() {
                        let log = log.unwrap().path();
                        let name = |p: &Path| p.file_name().unwrap().to_string_lossy().to_string();
                        let container = name(&log).trim_end_matches(".log").to_string();
                        api.logs.insert(
                            (name(&ns), name(&pod), container),
                            std::fs::read_to_string(&log).unwrap(),
                        );
                    }
                }
            }
        }
        api
    }

    fn builtin_skills() -> Vec<Arc<LoadedSkill>> {
        let engine = SkillEngine::new(EngineConfig::default()).unwrap();
        SkillPackage::builtins()
            .unwrap()
            .iter()
            .map(|p| Arc::new(engine.load(p).unwrap()))
            .collect()
    }

    /// What matters of a report: verdict, and each finding's code, resources and evidence.
    fn judged(report: &skillbox::report::Report) -> Value {
        serde_json::json!({"verdict": report.verdict, "findings": report.findings,
            "errors": report.skills.iter().map(|s| &s.error).collect::<Vec<_>>()})
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn built_in_skills_judge_every_public_scenario_alike_from_a_live_source() {
        let Some(dir) = scenarios_dir() else {
            eprintln!("NOTE: ../shared/scenarios is absent; live-versus-snapshot check skipped");
            return;
        };
        let skills = Arc::new(builtin_skills());
        let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.join("scenario.yaml").is_file())
            .collect();
        folders.sort();
        assert!(!folders.is_empty());
        for folder in folders {
            let scenario: Value = serde_yaml_ng::from_str(
                &std::fs::read_to_string(folder.join("scenario.yaml")).unwrap(),
            )
            .unwrap();
            let t = &scenario["target"];
            let (kind, ns, name) = (
                t["kind"].as_str().unwrap().to_string(),
                t["namespace"].as_str().map(String::from),
                t["name"].as_str().unwrap().to_string(),
            );
            let cluster_dir = folder.join("cluster");

            let snapshot = Arc::new(SnapshotSource::load(&cluster_dir).unwrap());
            let target = resolve_target(snapshot.as_ref(), &kind, ns.as_deref(), &name).unwrap();
            let key = snapshot.resolve_kind(&target.kind).unwrap();
            let selected = select_skills(&skills, &key, &[]).unwrap();
            let want = investigate(&selected, snapshot, &target);

            let fake = scenario_api(&cluster_dir);
            let (cluster, seen) = start(move |r| fake.answer(r));
            let skills = Arc::clone(&skills);
            let (got, calls) = with_source(&cluster, LiveBudget::default(), move |live| {
                let target = resolve_target(live.as_ref(), &kind, ns.as_deref(), &name).unwrap();
                let key = live.resolve_kind(&target.kind).unwrap();
                let selected = select_skills(&skills, &key, &[]).unwrap();
                let evidence: Arc<dyn EvidenceSource> = Arc::clone(live) as _;
                let report = investigate(&selected, evidence, &target);
                (report, live.api_calls())
            })
            .await;
            let label = folder.file_name().unwrap().to_string_lossy().to_string();
            assert_eq!(
                judged(&got),
                judged(&want),
                "{label}: live and snapshot disagree"
            );
            let codes: BTreeSet<&str> = got.findings.iter().map(|f| f.code.as_str()).collect();
            for code in scenario["expect"]["codes"].as_array().into_iter().flatten() {
                assert!(
                    codes.contains(code.as_str().unwrap()),
                    "{label}: {code} missing from {codes:?}"
                );
            }
            assert!(
                calls <= LiveBudget::default().max_api_calls,
                "{label}: {calls} calls"
            );
            no_secrets(&seen);
        }
    }
}
