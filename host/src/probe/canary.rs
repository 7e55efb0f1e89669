//! The canary snapshot: a small, valid cluster seeded with honeytokens, written to a private
//! folder under the OS temp dir and removed when dropped. Secrets hold the tokens a skill must
//! never be able to read; ConfigMaps, env values and annotations hold tokens it may read but
//! should not echo.

use crate::evidence::KindKey;
use crate::tools::{NamespaceScope, ResourcePolicy};
use serde_json::{Value, json};
use skillbox_crds::SkillSpec;
use skillbox_guest::ObjectRef;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// Where a honeytoken was planted, which decides how bad it is to see it in output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum TokenOrigin {
    /// In a Secret's data: no tool can read it, so seeing it is a sandbox failure.
    Secret,
    /// In a ConfigMap, an env value or an annotation: readable, but often sensitive.
    Readable,
}

/// One planted honeytoken.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Honeytoken {
    /// The unique string, `HONEYTOKEN-<32 hex>`.
    pub value: String,
    /// How bad it is to see it.
    pub origin: TokenOrigin,
    /// Where it was planted, e.g. `Secret default/db-password data.password`.
    pub place: String,
}

/// A target the probe calls the skill on.
#[derive(Debug, Clone)]
pub struct CanaryTarget {
    /// The reference passed to `investigate`.
    pub object: ObjectRef,
    /// The object's JSON, passed to `detect`.
    pub json: String,
}

/// The canary snapshot on disk; its folder is removed on drop.
#[derive(Debug)]
pub struct Canary {
    dir: PathBuf,
    /// Every planted token, sorted by place.
    pub tokens: Vec<Honeytoken>,
    /// The target objects, sorted by kind, namespace, name.
    pub targets: Vec<CanaryTarget>,
}

impl Drop for Canary {
    fn drop(&mut self) {
        // NB: best effort; a leftover temp folder holds only fake tokens.
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Why the canary could not be written.
#[derive(Debug, thiserror::Error)]
pub enum CanaryError {
    /// The temp folder or the snapshot file could not be written.
    #[error("cannot write the canary snapshot in {path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A fresh random honeytoken string.
pub fn honeytoken() -> String {
    format!("HONEYTOKEN-{:032x}", rand::random::<u128>())
}

/// The apiVersion of a target kind: the usual one for well-known kinds, else `<group>/v1`.
fn api_version(kind: &str, group: Option<&str>) -> String {
    match (crate::evidence::well_known_api_version(kind, group), group) {
        (Some(v), _) => v.to_string(),
        (None, Some(g)) if !g.is_empty() => format!("{g}/v1"),
        (None, _) => "v1".to_string(),
    }
}

/// The namespace a target goes in: the first one the skill's grants let it read the target's kind
/// in (the sandbox's own rule), else `default`.
fn target_namespace(policy: &ResourcePolicy, kind: &KindKey) -> String {
    match policy.namespaces_for(kind) {
        Ok(NamespaceScope::Only(namespaces)) if !namespaces.is_empty() => namespaces[0].clone(),
        _ => "default".to_string(),
    }
}

/// Every namespace the skill might read, plus `default`, sorted.
fn namespaces(spec: &SkillSpec) -> BTreeSet<String> {
    let mut out: BTreeSet<String> = spec
        .grants
        .resources
        .iter()
        .flat_map(|g| g.namespaces.iter().cloned())
        .collect();
    out.insert("default".to_string());
    out
}

struct Planter {
    tokens: Vec<Honeytoken>,
}

impl Planter {
    fn plant(&mut self, origin: TokenOrigin, place: String) -> String {
        let value = honeytoken();
        self.tokens.push(Honeytoken {
            value: value.clone(),
            origin,
            place,
        });
        value
    }
}

fn pod_template(p: &mut Planter, at: &str, app: &str) -> Value {
    let env = p.plant(TokenOrigin::Readable, format!("{at} env API_TOKEN"));
    json!({
        "metadata": {"labels": {"app": app}},
        "spec": {"containers": [{
            "name": "app",
            "image": "registry.example/app:1.0",
            "env": [{"name": "API_TOKEN", "value": env}],
        }]},
    })
}

/// A realistic minimal object of `kind` (a bare one for kinds it does not know).
fn object(p: &mut Planter, api: &str, kind: &str, ns: &str, name: &str) -> Value {
    let at = format!("{kind} {ns}/{name}");
    let note = p.plant(TokenOrigin::Readable, format!("{at} annotation"));
    let mut o = json!({
        "apiVersion": api,
        "kind": kind,
        "metadata": {
            "name": name,
            "namespace": ns,
            "uid": format!("00000000-0000-4000-8000-{:012x}", rand::random::<u64>() >> 16),
            "labels": {"app": name},
            "annotations": {"example.com/note": note},
        },
    });
    let template = |p: &mut Planter| pod_template(p, &at, name);
    let extra = match kind {
        "Pod" => {
            let mut t = template(p);
            json!({
                "spec": t["spec"].take(),
                "status": {"phase": "Running", "containerStatuses": [{
                    "name": "app", "ready": true, "restartCount": 0,
                    "image": "registry.example/app:1.0",
                    "state": {"running": {"startedAt": "2026-01-01T00:00:00Z"}},
                }]},
            })
        }
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" => json!({
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": name}},
                     "template": template(p)},
            "status": {"replicas": 1, "readyReplicas": 1, "availableReplicas": 1},
        }),
        "Job" => {
            let mut t = template(p);
            t["spec"]["restartPolicy"] = json!("Never");
            json!({"spec": {"template": t}, "status": {"succeeded": 1}})
        }
        "Service" => json!({
            "spec": {"selector": {"app": name}, "ports": [{"port": 80, "targetPort": 8080}]},
        }),
        "ConfigMap" => {
            let v = p.plant(TokenOrigin::Readable, format!("{at} data.token"));
            json!({"data": {"token": v}})
        }
        _ => json!({"spec": {}}),
    };
    if let (Some(o), Some(extra)) = (o.as_object_mut(), extra.as_object()) {
        for (k, v) in extra {
            o.insert(k.clone(), v.clone());
        }
    }
    o
}

impl Canary {
    /// Writes a canary for `spec` under the OS temp dir, with targets of each target kind named
    /// `names`.
    pub fn write(spec: &SkillSpec, names: &[String]) -> Result<Self, CanaryError> {
        let mut p = Planter { tokens: Vec::new() };
        let mut items = Vec::new();
        for ns in namespaces(spec) {
            for secret in ["db-password", "canary-secret"] {
                let v = p.plant(
                    TokenOrigin::Secret,
                    format!("Secret {ns}/{secret} data.password"),
                );
                // NB: `data` is base64; `stringData` is what a careless dump would show.
                items.push(json!({
                    "apiVersion": "v1", "kind": "Secret",
                    "metadata": {"name": secret, "namespace": ns},
                    "type": "Opaque",
                    "data": {"password": base64(&v)},
                    "stringData": {"password": v},
                }));
            }
            items.push(object(&mut p, "v1", "ConfigMap", &ns, "canary-config"));
            items.push(object(&mut p, "v1", "Pod", &ns, "canary-workload"));
            items.push(object(
                &mut p,
                "apps/v1",
                "Deployment",
                &ns,
                "canary-workload",
            ));
        }
        let mut targets = Vec::new();
        let mut seen = BTreeSet::new();
        let policy = ResourcePolicy::new(&spec.grants.resources);
        for t in &spec.targets {
            let api = api_version(&t.kind, t.group.as_deref());
            let ns = target_namespace(&policy, &KindKey::from_api_version(&api, &t.kind));
            for name in names {
                if !seen.insert((t.kind.clone(), ns.clone(), name.clone())) {
                    continue;
                }
                let o = object(&mut p, &api, &t.kind, &ns, name);
                targets.push(CanaryTarget {
                    object: ObjectRef::namespaced(api.clone(), t.kind.clone(), ns.clone(), name),
                    json: o.to_string(),
                });
                // NB: a target may share its name with a seeded object; the target wins.
                items.retain(|i| {
                    !(i["kind"] == t.kind.as_str()
                        && i["metadata"]["namespace"] == ns.as_str()
                        && i["metadata"]["name"] == name.as_str())
                });
                items.push(o);
            }
        }
        targets.sort_by(|a, b| {
            (&a.object.kind, &a.object.namespace, &a.object.name).cmp(&(
                &b.object.kind,
                &b.object.namespace,
                &b.object.name,
            ))
        });
        p.tokens.sort_by(|a, b| a.place.cmp(&b.place));
        let dir = std::env::temp_dir().join(format!(
            "skillbox-probe-{}-{:016x}",
            std::process::id(),
            rand::random::<u64>()
        ));
        let io = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CanaryError::Io { path, source }
        };
        std::fs::create_dir(&dir).map_err(io(&dir))?;
        let canary = Canary {
            dir,
            tokens: p.tokens,
            targets,
        };
        let file = canary.dir.join("canary.json");
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        std::fs::write(&file, list.to_string()).map_err(io(&file))?;
        Ok(canary)
    }

    /// The snapshot folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The planted tokens that occur in `text`.
    pub fn found_in<'a>(&'a self, text: &'a str) -> impl Iterator<Item = &'a Honeytoken> + 'a {
        self.tokens.iter().filter(move |t| text.contains(&t.value))
    }
}

/// Standard base64 with padding (the shape of a Secret's `data`).
fn base64(s: &str) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in s.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(char::from(A[(n >> (18 - 6 * i)) as usize & 63]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::evidence::{EvidenceSource, SnapshotSource};

    fn spec(yaml: &str) -> SkillSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    const SPEC: &str = "codePrefix: probe.\nmodule: {url: x.wasm}\ngrants:\n  tools: [get-object]\n  resources: [{kinds: [Pod], namespaces: [team-a]}, {kinds: [Widget.example.com], namespaces: []}]\ntargets: [{kind: Pod}, {kind: Widget, group: example.com}]\n";

    #[test]
    fn base64_matches_the_standard_alphabet() {
        assert_eq!(base64("hunter2"), "aHVudGVyMg==");
        assert_eq!(base64("ab"), "YWI=");
        assert_eq!(base64("abc"), "YWJj");
    }

    #[test]
    fn honeytokens_are_unique_and_shaped() {
        let (a, b) = (honeytoken(), honeytoken());
        assert_ne!(a, b);
        assert!(a.starts_with("HONEYTOKEN-") && a.len() == 11 + 32, "{a}");
    }

    #[test]
    fn the_canary_loads_and_holds_targets_secrets_and_tokens() {
        let names = vec!["canary".to_string()];
        let c = Canary::write(&spec(SPEC), &names).unwrap();
        let snap = SnapshotSource::load(c.dir()).unwrap();
        assert!(snap.warnings().is_empty(), "{:?}", snap.warnings());
        let kinds: Vec<_> = c
            .targets
            .iter()
            .map(|t| (t.object.kind.as_str(), t.object.namespace.as_deref()))
            .collect();
        assert_eq!(
            kinds,
            [("Pod", Some("team-a")), ("Widget", Some("default"))]
        );
        let widget = &c.targets[1].object;
        assert_eq!(widget.api_version, "example.com/v1");
        let key = snap.resolve_kind("Widget.example.com").unwrap();
        let got = snap
            .get(&key, widget.namespace.as_deref(), &widget.name)
            .unwrap();
        assert!(got.is_some(), "the Widget target is in the snapshot");
        for ns in ["default", "team-a"] {
            assert!(
                c.tokens
                    .iter()
                    .any(|t| t.origin == TokenOrigin::Secret && t.place.contains(ns))
            );
        }
        let text = std::fs::read_to_string(c.dir().join("canary.json")).unwrap();
        assert_eq!(c.found_in(&text).count(), c.tokens.len());
        let dir = c.dir().to_path_buf();
        drop(c);
        assert!(!dir.exists(), "the canary folder is removed");
    }
}
