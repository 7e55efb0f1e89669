//! Istio host names: how a host written in a rule resolves, which Service it stands for, and
//! whether a rule in one namespace is visible from another (`exportTo`).
//!
//! The rules follow Istio's `ResolveShortnameToFQDN` and the corpus conventions: a host without a
//! dot is short and resolves in the namespace of the rule that names it (`reviews` in a rule in
//! namespace `bookinfo` is `reviews.bookinfo.svc.cluster.local`); any host with a dot stands for
//! itself (so `reviews.bookinfo` is *not* expanded, exactly as Istio does); a host containing `*`
//! is a wildcard, never a Service, and never "not found".

/// Istio's root namespace: mesh-wide PeerAuthentications and default DestinationRules live here.
pub const ROOT_NS: &str = "istio-system";
/// The Kubernetes Service domain suffix Istio uses by default.
pub const SVC_SUFFIX: &str = ".svc.cluster.local";

/// `host` as Istio reads it in a rule of namespace `rule_ns`, lower-cased.
pub fn fqdn(host: &str, rule_ns: &str) -> String {
    let h = host.trim().to_ascii_lowercase();
    if h.is_empty() || h.contains('.') || h.contains('*') {
        h
    } else {
        format!("{h}.{rule_ns}{SVC_SUFFIX}")
    }
}

/// Whether `host` is a wildcard (`*`, `*.example.com`): such hosts name no single Service.
pub fn is_wildcard(host: &str) -> bool {
    host.contains('*')
}

/// The `(namespace, name)` of the Kubernetes Service a resolved host names, when it has the
/// exact shape `<svc>.<ns>.svc.cluster.local`.
pub fn service_of(fqdn: &str) -> Option<(&str, &str)> {
    let stem = fqdn.strip_suffix(SVC_SUFFIX)?;
    let (name, ns) = stem.split_once('.')?;
    (!name.is_empty() && !ns.is_empty() && !ns.contains('.')).then_some((ns, name))
}

/// Whether the host pattern `pattern` (possibly a wildcard such as `*.example.com` or `*`)
/// covers `host` (both already resolved).
pub fn covers(pattern: &str, host: &str) -> bool {
    if pattern == "*" {
        return true;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) => host.ends_with(suffix) && host.len() > suffix.len(),
        None => pattern == host,
    }
}

/// Whether a rule in `owner_ns` with `exportTo` list `export_to` is visible to rules and proxies
/// in `from_ns`. An empty list (the default) and `*` export everywhere; `.` means the owner's
/// own namespace; `~` exports nowhere.
pub fn visible(export_to: &[String], owner_ns: &str, from_ns: &str) -> bool {
    if export_to.is_empty() {
        return true;
    }
    export_to.iter().any(|e| match e.as_str() {
        "*" => true,
        "." => owner_ns == from_ns,
        "~" => false,
        ns => ns == from_ns,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_hosts_resolve_in_the_rule_namespace() {
        assert_eq!(
            fqdn("reviews", "bookinfo"),
            "reviews.bookinfo.svc.cluster.local"
        );
        assert_eq!(
            fqdn("Reviews.Other.svc.cluster.local", "bookinfo"),
            "reviews.other.svc.cluster.local"
        );
        assert_eq!(
            fqdn("reviews.other", "bookinfo"),
            "reviews.other",
            "not expanded"
        );
        assert_eq!(fqdn("*", "bookinfo"), "*");
    }

    #[test]
    fn services_are_only_exact_fqdns() {
        assert_eq!(
            service_of("reviews.bookinfo.svc.cluster.local"),
            Some(("bookinfo", "reviews"))
        );
        assert_eq!(service_of("reviews.bookinfo"), None);
        assert_eq!(service_of("a.b.c.svc.cluster.local"), None);
        assert_eq!(service_of("httpbin.org"), None);
    }

    #[test]
    fn wildcards_cover_suffixes() {
        assert!(covers("*", "anything"));
        assert!(covers("*.example.com", "api.example.com"));
        assert!(!covers("*.example.com", "example.com"));
        assert!(covers("api.example.com", "api.example.com"));
        assert!(!covers("api.example.com", "web.example.com"));
    }

    #[test]
    fn export_to_visibility() {
        let v =
            |e: &[&str], o, f| visible(&e.iter().map(|s| s.to_string()).collect::<Vec<_>>(), o, f);
        assert!(v(&[], "a", "b"));
        assert!(v(&["*"], "a", "b"));
        assert!(v(&["."], "a", "a"));
        assert!(!v(&["."], "a", "b"));
        assert!(v(&["b"], "a", "b"));
        assert!(!v(&["~"], "a", "a"));
    }
}
