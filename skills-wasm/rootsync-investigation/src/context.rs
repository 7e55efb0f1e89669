//! The RootSync facts every finding repeats: its source (`spec.git`/`oci`/`helm`), the commits of
//! each stage, the `Syncing` condition, and where its own manifest lives in Git.
//!
//! The git credentials Secret is named from `spec.git.secretRef` and never read: the host denies
//! Secrets to every skill, and the name is all a person needs.

use crate::util::{MAX_LINE, clip, short_commit};
use serde_json::Value;
use skillbox_guest::{Object, ObjectRef};

/// Annotation Config Sync puts on objects it manages: the file that declares them.
pub const SOURCE_PATH: &str = "configmanagement.gke.io/source-path";

/// A read RootSync, with the accessors findings need.
#[derive(Debug, Clone)]
pub struct RootSync {
    /// The object as read.
    pub obj: Object,
}

impl RootSync {
    /// Wraps the object read through `get_object`.
    pub fn new(obj: Object) -> Self {
        Self { obj }
    }

    /// The reference findings name.
    pub fn object_ref(&self, target: &ObjectRef) -> ObjectRef {
        let mut r = self.obj.object_ref();
        if r.api_version.is_empty() {
            r.api_version = "configsync.gke.io/v1beta1".into();
        }
        if r.kind.is_empty() {
            r.kind = "RootSync".into();
        }
        if r.name.is_empty() {
            r.name = target.name.clone();
        }
        if r.namespace.is_none() {
            r.namespace = target.namespace.clone();
        }
        r
    }

    /// `RootSync config-management-system/root-sync`.
    pub fn display(&self) -> String {
        format!("RootSync {}", self.obj.display_name())
    }

    /// `git`, `oci` or `helm` (`spec.sourceType`, default git).
    pub fn source_type(&self) -> &str {
        match self.obj.str_at("spec.sourceType") {
            Some(t) if !t.is_empty() => t,
            _ => "git",
        }
    }

    /// `spec.<sourceType>.dir` (git, oci), or `None`.
    pub fn dir(&self) -> Option<&str> {
        self.obj
            .str_at(&format!("spec.{}.dir", self.source_type()))
            .filter(|d| !d.is_empty())
    }

    /// The file in Git that declares this RootSync, when Config Sync manages it (annotation
    /// `configmanagement.gke.io/source-path`).
    pub fn manifest_path(&self) -> Option<String> {
        self.obj
            .annotations()
            .get(SOURCE_PATH)
            .filter(|p| !p.is_empty())
            .cloned()
    }

    /// How suggestions name the RootSync manifest: its file when known.
    pub fn manifest(&self) -> String {
        match self.manifest_path() {
            Some(p) => format!("the RootSync manifest {p} ({})", self.display()),
            None => format!(
                "the manifest of {} (in the repo or bootstrap config that declares it)",
                self.display()
            ),
        }
    }

    /// `status.reconciler`, else the default name Config Sync gives it.
    pub fn reconciler(&self) -> String {
        match self.obj.str_at("status.reconciler") {
            Some(r) if !r.is_empty() => r.to_string(),
            _ if self.obj.name() == "root-sync" || self.obj.name().is_empty() => {
                "root-reconciler".into()
            }
            _ => format!("root-reconciler-{}", self.obj.name()),
        }
    }

    /// One line describing the source spec, e.g.
    /// `spec.git: repo …, branch main, revision HEAD, dir clusters/prod, auth token, secretRef git-creds (Secret not read)`.
    pub fn source_line(&self) -> String {
        let t = self.source_type();
        let keys: &[&str] = match t {
            "oci" => &["image", "dir", "auth"],
            "helm" => &[
                "repo",
                "chart",
                "version",
                "releaseName",
                "namespace",
                "auth",
            ],
            _ => &["repo", "branch", "revision", "dir", "auth"],
        };
        let mut parts: Vec<String> = keys
            .iter()
            .filter_map(|k| {
                let v = self.obj.str_at(&format!("spec.{t}.{k}"))?;
                (!v.is_empty()).then(|| format!("{k} {v}"))
            })
            .collect();
        if let Some(s) = self.obj.str_at(&format!("spec.{t}.secretRef.name")) {
            parts.push(format!("secretRef {s} (Secret not read)"));
        }
        if parts.is_empty() {
            return format!("spec.{t}: (not set)");
        }
        clip(&format!("spec.{t}: {}", parts.join(", ")), MAX_LINE)
    }

    /// The commits of each stage and the last synced one, full length.
    pub fn commits_line(&self) -> String {
        let c = |p: &str| {
            self.obj
                .str_at(p)
                .filter(|s| !s.is_empty())
                .unwrap_or("(none)")
        };
        format!(
            "commits: status.source.commit = {}, status.rendering.commit = {}, status.sync.commit = {}, status.lastSyncedCommit = {}",
            c("status.source.commit"),
            c("status.rendering.commit"),
            c("status.sync.commit"),
            c("status.lastSyncedCommit"),
        )
    }

    /// Whether the newest fetched commit is not yet the synced one.
    pub fn behind(&self) -> Option<(String, String)> {
        let src = self.obj.str_at("status.source.commit")?;
        let synced = self.obj.str_at("status.lastSyncedCommit").unwrap_or("");
        (!src.is_empty() && src != synced)
            .then(|| (short_commit(Some(src)), short_commit(Some(synced))))
    }

    /// The condition of a type, as raw JSON.
    pub fn condition(&self, ty: &str) -> Option<&Value> {
        match self.obj.at("status.conditions") {
            Some(Value::Array(a)) => a
                .iter()
                .find(|c| c.get("type").and_then(Value::as_str) == Some(ty)),
            _ => None,
        }
    }

    /// `Syncing: False, reason Sync, message "Sync Completed", commit …, errorSourceRefs […]`.
    pub fn syncing_line(&self) -> Option<String> {
        let c = self.condition("Syncing")?;
        let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
        let mut line = format!(
            "status.conditions[Syncing]: status {}, reason {}, message {:?}",
            s("status"),
            s("reason"),
            s("message")
        );
        if !s("commit").is_empty() {
            line.push_str(&format!(", commit {}", short_commit(Some(s("commit")))));
        }
        if let Some(Value::Array(refs)) = c.get("errorSourceRefs") {
            let refs: Vec<&str> = refs.iter().filter_map(Value::as_str).collect();
            if !refs.is_empty() {
                line.push_str(&format!(", errorSourceRefs [{}]", refs.join(", ")));
            }
        }
        Some(clip(&line, MAX_LINE))
    }

    /// Whether the RootSync has any status the reconciler wrote (conditions or stage commits).
    pub fn has_status(&self) -> bool {
        let conds =
            matches!(self.obj.at("status.conditions"), Some(Value::Array(a)) if !a.is_empty());
        let commits = ["source", "rendering", "sync"].iter().any(|s| {
            self.obj
                .str_at(&format!("status.{s}.commit"))
                .is_some_and(|c| !c.is_empty())
        });
        conds || commits
    }

    /// Why the RootSync is still on its way (no error): `Syncing=True`, the latest generation not
    /// yet observed, or a newer commit fetched than synced. Empty when settled.
    pub fn pending(&self) -> Vec<String> {
        let mut why = Vec::new();
        let generation = self.obj.i64_at("metadata.generation");
        let observed = self.obj.i64_at("status.observedGeneration");
        if let (Some(g), Some(o)) = (generation, observed)
            && o < g
        {
            why.push(format!(
                "status.observedGeneration = {o} < metadata.generation = {g}: the reconciler-manager has not processed the latest spec yet"
            ));
        }
        if let Some(c) = self.condition("Syncing")
            && c.get("status").and_then(Value::as_str) == Some("True")
        {
            let s = |k: &str| c.get(k).and_then(Value::as_str).unwrap_or("");
            why.push(format!(
                "status.conditions[Syncing]: status True (stage {}, {:?}): a sync is in progress",
                s("reason"),
                s("message")
            ));
        }
        if let Some((src, synced)) = self.behind() {
            why.push(format!(
                "status.source.commit {src} is not status.lastSyncedCommit {synced} yet"
            ));
        }
        why
    }
}
