//! The kinds this skill investigates, and how to ask the tools for them.

use skillbox_guest::k8s::kind_matches;

/// A kind of target.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetKind {
    /// `v1 Pod`.
    Pod,
    /// `apps/v1 Deployment`.
    Deployment,
    /// `apps/v1 ReplicaSet`.
    ReplicaSet,
    /// `apps/v1 StatefulSet`.
    StatefulSet,
    /// `apps/v1 DaemonSet`.
    DaemonSet,
    /// `batch/v1 Job`.
    Job,
    /// `v1 Service`.
    Service,
}

/// Every target kind, as `describe()` lists them.
pub const ALL: [TargetKind; 7] = [
    TargetKind::Pod,
    TargetKind::Deployment,
    TargetKind::ReplicaSet,
    TargetKind::StatefulSet,
    TargetKind::DaemonSet,
    TargetKind::Job,
    TargetKind::Service,
];

impl TargetKind {
    /// The kind's name.
    pub fn name(self) -> &'static str {
        match self {
            TargetKind::Pod => "Pod",
            TargetKind::Deployment => "Deployment",
            TargetKind::ReplicaSet => "ReplicaSet",
            TargetKind::StatefulSet => "StatefulSet",
            TargetKind::DaemonSet => "DaemonSet",
            TargetKind::Job => "Job",
            TargetKind::Service => "Service",
        }
    }

    /// The API group (`""` for core).
    pub fn group(self) -> &'static str {
        match self {
            TargetKind::Pod | TargetKind::Service => "",
            TargetKind::Job => "batch",
            _ => "apps",
        }
    }

    /// The canonical apiVersion.
    pub fn api_version(self) -> &'static str {
        match self.group() {
            "" => "v1",
            "batch" => "batch/v1",
            _ => "apps/v1",
        }
    }

    /// How to name the kind to the tools: `Kind` for core, `Kind.group` otherwise.
    pub fn query(self) -> String {
        match self.group() {
            "" => self.name().to_string(),
            g => format!("{}.{g}", self.name()),
        }
    }

    /// Which target kind `kind` (a kind, plural or short name, optionally `.group`) names; when
    /// `api_version` is given its group must be the kind's.
    pub fn classify(kind: &str, api_version: &str) -> Option<TargetKind> {
        let group = api_version
            .trim()
            .rsplit_once('/')
            .map(|(g, _)| g.to_ascii_lowercase())
            .unwrap_or_default();
        ALL.into_iter().find(|k| {
            kind_matches(kind, k.api_version(), k.name())
                && (api_version.trim().is_empty() || group == k.group())
        })
    }

    /// Whether the kind manages pods through a replica count.
    pub fn has_replicas(self) -> bool {
        matches!(
            self,
            TargetKind::Deployment | TargetKind::ReplicaSet | TargetKind::StatefulSet
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classifies_spellings() {
        assert_eq!(TargetKind::classify("Pod", "v1"), Some(TargetKind::Pod));
        assert_eq!(TargetKind::classify("pods", ""), Some(TargetKind::Pod));
        assert_eq!(
            TargetKind::classify("Deployment", "apps/v1"),
            Some(TargetKind::Deployment)
        );
        assert_eq!(
            TargetKind::classify("deploy", ""),
            Some(TargetKind::Deployment)
        );
        assert_eq!(
            TargetKind::classify("Job", "batch/v1"),
            Some(TargetKind::Job)
        );
        assert_eq!(TargetKind::classify("svc", "v1"), Some(TargetKind::Service));
        assert_eq!(
            TargetKind::classify("Service", "serving.knative.dev/v1"),
            None
        );
        assert_eq!(TargetKind::classify("VirtualService", ""), None);
        assert_eq!(TargetKind::classify("", ""), None);
        assert_eq!(TargetKind::Deployment.query(), "Deployment.apps");
        assert_eq!(TargetKind::Pod.query(), "Pod");
    }
}
