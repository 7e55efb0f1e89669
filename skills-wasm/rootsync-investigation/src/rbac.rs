//! RBAC denials (KNV2009 forbidden, KNV2013): what the reconciler was refused, and what the
//! ClusterRoles its RootSync binds (`spec.override.roleRefs`) grant for it.
//!
//! The API server's text is `<res> "<name>" is forbidden: User "<user>" cannot <verb> resource
//! "<resource>" in API group "<group>" in the namespace "<ns>"` (or `at the cluster scope`).
//! Reading the ClusterRole named in roleRefs turns "forbidden" into "this rule lacks this verb",
//! which is the line a person changes in Git.

use crate::util::quoted_after;
use serde_json::Value;
use skillbox_guest::{Object, tools};

/// Kind spelling used to read ClusterRoles (must match the skill's grants).
pub const CLUSTER_ROLE: &str = "ClusterRole.rbac.authorization.k8s.io";
/// At most this many roleRefs are read.
const MAX_ROLES: usize = 4;

/// What the API server refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Denial {
    /// `system:serviceaccount:config-management-system:root-reconciler`.
    pub user: String,
    /// `patch`.
    pub verb: String,
    /// `gateways` (may carry a subresource: `deployments/scale`).
    pub resource: String,
    /// `networking.istio.io` (empty: core group).
    pub group: String,
    /// The namespace, or `None` at cluster scope.
    pub namespace: Option<String>,
}

impl Denial {
    /// `patch gateways.networking.istio.io in namespace bookinfo`.
    pub fn describe(&self) -> String {
        // `resourcegroups/status` in kpt.dev reads `resourcegroups.kpt.dev/status`, as kubectl names it.
        let (base, sub) = match self.resource.split_once('/') {
            Some((b, s)) => (b, format!("/{s}")),
            None => (self.resource.as_str(), String::new()),
        };
        let res = if self.group.is_empty() {
            format!("{base}{sub}")
        } else {
            format!("{base}.{}{sub}", self.group)
        };
        match &self.namespace {
            Some(ns) => format!("{} {res} in namespace {ns}", self.verb),
            None => format!("{} {res} at cluster scope", self.verb),
        }
    }

    /// The rule a role needs, in YAML flow style.
    pub fn rule(&self) -> String {
        format!(
            "{{apiGroups: [\"{}\"], resources: [{}], verbs: [{}]}}",
            self.group, self.resource, self.verb
        )
    }
}

/// Parses the first `User "…" cannot <verb> resource "…" in API group "…"` of a text.
pub fn parse_denial(text: &str) -> Option<Denial> {
    let user = quoted_after(text, "User")?.to_string();
    let after_user = &text[text.find("User \"")? + 6 + user.len()..];
    let rest = after_user.trim_start_matches('"').trim_start();
    let rest = rest.strip_prefix("cannot ")?;
    let verb: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
    if verb.is_empty() {
        return None;
    }
    let resource = quoted_after(rest, "resource")?.to_string();
    let group = quoted_after(rest, "in API group")?.to_string();
    let namespace = quoted_after(rest, "in the namespace").map(str::to_string);
    Some(Denial {
        user,
        verb,
        resource,
        group,
        namespace,
    })
}

/// One roleRef of the RootSync spec.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleRef {
    /// `Role` or `ClusterRole`.
    pub kind: String,
    /// The role's name.
    pub name: String,
    /// Where the binding is created (a RoleBinding), if set.
    pub namespace: Option<String>,
    /// Its index in `spec.override.roleRefs`.
    pub index: usize,
}

/// `spec.override.roleRefs` (empty when unset: Config Sync then binds cluster-admin).
pub fn role_refs(rs: &Object) -> Vec<RoleRef> {
    match rs.at("spec.override.roleRefs") {
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .filter_map(|(index, r)| {
                Some(RoleRef {
                    kind: r.get("kind")?.as_str()?.to_string(),
                    name: r.get("name")?.as_str()?.to_string(),
                    namespace: r
                        .get("namespace")
                        .and_then(Value::as_str)
                        .map(str::to_string),
                    index,
                })
            })
            .collect(),
        _ => Vec::new(),
    }
}

/// A ClusterRole named by roleRefs, as read (or why it could not be).
#[derive(Debug, Clone)]
pub struct RoleRead {
    /// The roleRef.
    pub role_ref: RoleRef,
    /// The object, when the read succeeded.
    pub object: Option<Object>,
    /// Why not, otherwise.
    pub error: Option<String>,
}

/// Reads the ClusterRoles the roleRefs name (Roles are named, not read: the skill's grants cover
/// ClusterRoles only, and a Role cannot grant cluster-scoped resources anyway).
pub fn read_roles(refs: &[RoleRef]) -> Vec<RoleRead> {
    refs.iter()
        .filter(|r| r.kind == "ClusterRole")
        .take(MAX_ROLES)
        .map(|r| match tools::get_object(CLUSTER_ROLE, None, &r.name) {
            Ok(o) => RoleRead {
                role_ref: r.clone(),
                object: Some(o),
                error: None,
            },
            Err(e) => RoleRead {
                role_ref: r.clone(),
                object: None,
                error: Some(e.to_string()),
            },
        })
        .collect()
}

/// The verbs a role's rules give on the denied resource (`*` included as is).
pub fn verbs_for(role: &Object, d: &Denial) -> Vec<String> {
    let mut verbs = Vec::new();
    let Some(Value::Array(rules)) = role.at("rules") else {
        return verbs;
    };
    let has = |rule: &Value, key: &str, want: &str| {
        rule.get(key).and_then(Value::as_array).is_some_and(|a| {
            a.iter()
                .any(|v| v.as_str().is_some_and(|s| s == want || s == "*"))
        })
    };
    for rule in rules {
        if has(rule, "apiGroups", &d.group) && has(rule, "resources", &d.resource) {
            for v in rule
                .get("verbs")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
            {
                if !verbs.iter().any(|x| x == v) {
                    verbs.push(v.to_string());
                }
            }
        }
    }
    verbs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn denial_is_parsed() {
        let t = r#"failed to apply Gateway.networking.istio.io, bookinfo/bookinfo-gateway: gateways.networking.istio.io "bookinfo-gateway" is forbidden: User "system:serviceaccount:config-management-system:root-reconciler" cannot patch resource "gateways" in API group "networking.istio.io" in the namespace "bookinfo""#;
        let d = parse_denial(t).unwrap();
        assert_eq!(
            d.user,
            "system:serviceaccount:config-management-system:root-reconciler"
        );
        assert_eq!(d.verb, "patch");
        assert_eq!(d.resource, "gateways");
        assert_eq!(d.group, "networking.istio.io");
        assert_eq!(d.namespace.as_deref(), Some("bookinfo"));
        assert_eq!(
            d.describe(),
            "patch gateways.networking.istio.io in namespace bookinfo"
        );
        let c = r#"x is forbidden: User "u" cannot list resource "namespaces" in API group "" at the cluster scope"#;
        let d = parse_denial(c).unwrap();
        assert_eq!(d.namespace, None);
        assert_eq!(d.describe(), "list namespaces at cluster scope");
        let s = r#"User "u" cannot update resource "resourcegroups/status" in API group "kpt.dev" in the namespace "n""#;
        assert_eq!(
            parse_denial(s).unwrap().describe(),
            "update resourcegroups.kpt.dev/status in namespace n"
        );
        assert_eq!(d.group, "");
        assert!(parse_denial("is forbidden: violates PodSecurity").is_none());
        assert!(parse_denial(r#"User "u" can"#).is_none());
    }

    #[test]
    fn verbs_are_collected_from_matching_rules() {
        let role = Object::from_json(
            r#"{"kind":"ClusterRole","metadata":{"name":"r"},"rules":[
            {"apiGroups":["networking.istio.io"],"resources":["gateways"],"verbs":["get","list"]},
            {"apiGroups":["*"],"resources":["gateways"],"verbs":["watch"]},
            {"apiGroups":["apps"],"resources":["gateways"],"verbs":["patch"]}]}"#,
        )
        .unwrap();
        let d = Denial {
            user: "u".into(),
            verb: "patch".into(),
            resource: "gateways".into(),
            group: "networking.istio.io".into(),
            namespace: None,
        };
        assert_eq!(verbs_for(&role, &d), vec!["get", "list", "watch"]);
    }
}
