//! Call-time resource checks: which kinds, in which namespaces, a skill's grants let it read.
//! Secrets are denied here whatever the grants say.

use crate::evidence::KindKey;
use skillbox_crds::{ResourceGrant, names_secret};
use skillbox_guest::k8s::kind_matches;

/// The kinds and namespaces one skill may read, built from its Skill manifest's grants.
#[derive(Debug, Clone, Default)]
pub struct ResourcePolicy {
    grants: Vec<Grant>,
}

#[derive(Debug, Clone)]
struct Grant {
    kinds: Vec<String>,
    /// Empty: every namespace and cluster-scoped objects.
    namespaces: Vec<String>,
}

/// Why a read was refused; becomes the guest's `tool-error::denied` message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial(pub String);

/// The namespaces a list over "every namespace" may cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NamespaceScope {
    /// A cluster-wide grant covers every namespace.
    All,
    /// Only these, sorted.
    Only(Vec<String>),
}

impl ResourcePolicy {
    /// The policy of these grants.
    pub fn new(grants: &[ResourceGrant]) -> Self {
        Self {
            grants: grants
                .iter()
                .map(|g| Grant {
                    kinds: g.kinds.clone(),
                    namespaces: g.namespaces.clone(),
                })
                .collect(),
        }
    }

    /// Refuses a kind spelling before it is even resolved: no spelling of Secret gets through.
    pub fn check_kind_query(&self, query: &str) -> Result<(), Denial> {
        if names_secret(query) {
            return Err(Denial(format!(
                "kind {query:?} names Secrets, which skills may never read"
            )));
        }
        Ok(())
    }

    /// Whether objects of `kind` in `namespace` (None: cluster-scoped) may be read.
    pub fn check(&self, kind: &KindKey, namespace: Option<&str>) -> Result<(), Denial> {
        self.deny_secret(kind)?;
        let ok = self.grants.iter().any(|g| {
            g.covers_kind(kind)
                && match namespace {
                    None => g.namespaces.is_empty(),
                    Some(ns) => g.namespaces.is_empty() || g.namespaces.iter().any(|n| n == ns),
                }
        });
        if ok {
            Ok(())
        } else {
            let place = match namespace {
                Some(ns) => format!("namespace {ns}"),
                None => "cluster scope".to_string(),
            };
            Err(Denial(format!(
                "the skill's grants do not cover {kind} in {place}"
            )))
        }
    }

    /// The namespaces a list of `kind` over every namespace may cover.
    pub fn namespaces_for(&self, kind: &KindKey) -> Result<NamespaceScope, Denial> {
        self.deny_secret(kind)?;
        let mut out = Vec::new();
        for g in self.grants.iter().filter(|g| g.covers_kind(kind)) {
            if g.namespaces.is_empty() {
                return Ok(NamespaceScope::All);
            }
            out.extend(g.namespaces.iter().cloned());
        }
        if out.is_empty() {
            return Err(Denial(format!("the skill's grants do not cover {kind}")));
        }
        out.sort();
        out.dedup();
        Ok(NamespaceScope::Only(out))
    }

    fn deny_secret(&self, kind: &KindKey) -> Result<(), Denial> {
        if names_secret(&kind.kind) {
            return Err(Denial(format!(
                "{kind} is never readable by skills, whatever their grants say"
            )));
        }
        Ok(())
    }
}

impl Grant {
    fn covers_kind(&self, kind: &KindKey) -> bool {
        let api_version = if kind.group.is_empty() {
            "v1".to_string()
        } else {
            format!("{}/v1", kind.group)
        };
        self.kinds.iter().any(|k| {
            if k == "*" {
                return true;
            }
            // A grant without a group ("Pod") means the core group when such a kind exists there,
            // and otherwise any group (custom kinds are usually written bare).
            match k.split_once('.') {
                Some(_) => kind_matches(k, &api_version, &kind.kind),
                None => {
                    k.eq_ignore_ascii_case(&kind.kind)
                        && (kind.group.is_empty() || !is_core_kind(&kind.kind))
                }
            }
        })
    }
}

/// Core-group kinds whose bare name must not grant a same-named kind of another group.
fn is_core_kind(kind: &str) -> bool {
    matches!(
        kind,
        "Pod"
            | "Service"
            | "Event"
            | "ConfigMap"
            | "Namespace"
            | "Node"
            | "Endpoints"
            | "ServiceAccount"
            | "PersistentVolumeClaim"
            | "PersistentVolume"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(group: &str, kind: &str) -> KindKey {
        KindKey {
            group: group.into(),
            kind: kind.into(),
        }
    }

    fn policy() -> ResourcePolicy {
        ResourcePolicy::new(&[
            ResourceGrant {
                kinds: vec!["Pod".into(), "Deployment.apps".into()],
                namespaces: vec!["shop".into()],
            },
            ResourceGrant {
                kinds: vec!["Event".into()],
                namespaces: vec![],
            },
        ])
    }

    #[test]
    fn grants_cover_kind_and_namespace() {
        let p = policy();
        p.check(&key("", "Pod"), Some("shop")).unwrap();
        p.check(&key("apps", "Deployment"), Some("shop")).unwrap();
        assert!(p.check(&key("", "Pod"), Some("kube-system")).is_err());
        assert!(p.check(&key("", "Pod"), None).is_err());
        assert!(p.check(&key("", "ConfigMap"), Some("shop")).is_err());
        p.check(&key("", "Event"), Some("anywhere")).unwrap();
        assert!(
            p.check(&key("events.k8s.io", "Event"), Some("anywhere"))
                .is_err(),
            "a bare core kind grants the core group only"
        );
        assert!(
            p.check(&key("example.com", "Pod"), Some("shop")).is_err(),
            "a bare core kind does not grant another group's kind of the same name"
        );
    }

    #[test]
    fn secrets_are_denied_even_when_granted() {
        let p = ResourcePolicy::new(&[ResourceGrant {
            kinds: vec!["*".into(), "Secret".into()],
            namespaces: vec![],
        }]);
        assert!(p.check(&key("", "Secret"), Some("a")).is_err());
        assert!(p.namespaces_for(&key("", "Secret")).is_err());
        for q in ["secret", "Secrets", "v1/Secret", "secrets.", "SECRET"] {
            assert!(p.check_kind_query(q).is_err(), "{q}");
        }
        p.check(&key("", "ConfigMap"), Some("a")).unwrap();
    }

    #[test]
    fn list_scope_follows_grants() {
        let p = policy();
        assert_eq!(
            p.namespaces_for(&key("", "Pod")).unwrap(),
            NamespaceScope::Only(vec!["shop".into()])
        );
        assert_eq!(
            p.namespaces_for(&key("", "Event")).unwrap(),
            NamespaceScope::All
        );
        assert!(p.namespaces_for(&key("", "Node")).is_err());
    }
}
