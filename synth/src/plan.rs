//! What breaks where: the catalogue of failures the generator plants (each a copy of a public
//! scenario's shape, so the built-in skills detect it), how many of each a cluster of a given
//! size gets, and which namespaces they land in (a seeded permutation, so they are spread across
//! the cluster rather than bunched at the start).

use crate::rng::Rng;

/// A failure planted in the snapshot. Every one but the RootSync's takes one Bookinfo
/// namespace; the RootSync one is cluster-wide and always planted.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Failure {
    /// A `reviews-v2` rollout whose new pod crash-loops (read-only root filesystem), log attached.
    CrashLoop,
    /// A `ratings-v1` rollout to an image tag that does not exist.
    ImagePull,
    /// `productpage-v1` was OOMKilled (64Mi limit) and restarted.
    OomKilled,
    /// `productpage-v1` scaled to 2 with 1500m CPU: the second replica stays Pending.
    Unschedulable,
    /// Service `details` selects `version: v2`; only v1 pods exist.
    ServiceNoEndpoints,
    /// A `details-v1` rollout that reads a ConfigMap nobody created.
    ConfigMissing,
    /// VirtualService `reviews` routes to subset v3; DestinationRule `reviews` defines v1, v2.
    SubsetNotFound,
    /// VirtualService `ratings` routes to host `ratings-v1` (a Deployment name).
    HostNotFound,
    /// VirtualService `ratings` aborts every request with HTTP 500.
    FaultInjection,
    /// The namespace lacks `istio-injection: enabled`: Bookinfo runs without sidecars.
    SidecarNotInjected,
    /// VirtualService `reviews` sends 50% to v3 while `reviews-v3` is scaled to 0.
    SubsetNoPods,
    /// `productpage-v1` runs but its readiness probe fails (events.k8s.io `Unhealthy` events).
    ReadinessFailing,
    /// PeerAuthentication `default` is STRICT while sidecar-less pods elsewhere can reach it.
    MtlsStrict,
    /// The RootSync cannot apply a Gateway: KNV2009, its ClusterRole lacks `patch`.
    RootSyncForbidden,
}

impl Failure {
    /// Namespace failures in planting priority: when a small cluster has room for only some,
    /// the first ones are planted (those the issue requires come first).
    pub const NAMESPACED: [Failure; 13] = [
        Failure::CrashLoop,
        Failure::ImagePull,
        Failure::OomKilled,
        Failure::Unschedulable,
        Failure::ServiceNoEndpoints,
        Failure::ConfigMissing,
        Failure::SubsetNotFound,
        Failure::HostNotFound,
        Failure::FaultInjection,
        Failure::SidecarNotInjected,
        Failure::SubsetNoPods,
        Failure::ReadinessFailing,
        Failure::MtlsStrict,
    ];

    /// A stable name for reports and `planted.json`: the finding code it plants.
    pub fn name(self) -> &'static str {
        self.codes()[0]
    }

    /// The finding codes (../shared/spec/findings.md) a correct investigation of the target
    /// reports.
    pub fn codes(self) -> &'static [&'static str] {
        match self {
            Failure::CrashLoop => &["workload.crashloop"],
            Failure::ImagePull => &["workload.image-pull"],
            Failure::OomKilled => &["workload.oom-killed"],
            Failure::Unschedulable => &["workload.unschedulable"],
            Failure::ServiceNoEndpoints => &["workload.service-no-endpoints"],
            Failure::ConfigMissing => &["workload.config-missing"],
            Failure::SubsetNotFound => &["mesh.subset-not-found"],
            Failure::HostNotFound => &["mesh.host-not-found"],
            Failure::FaultInjection => &["mesh.fault-injection-active"],
            Failure::SidecarNotInjected => &["mesh.sidecar-not-injected"],
            Failure::SubsetNoPods => &["mesh.subset-no-pods"],
            Failure::ReadinessFailing => &["workload.readiness-failing"],
            Failure::MtlsStrict => &["mesh.mtls-strict-plaintext-client"],
            Failure::RootSyncForbidden => &["rootsync.knv2009.forbidden"],
        }
    }

    /// One line saying what is broken.
    pub fn description(self) -> &'static str {
        match self {
            Failure::CrashLoop => {
                "reviews-v2 rollout: the new pod crash-loops on a read-only root filesystem"
            }
            Failure::ImagePull => "ratings-v1 rollout to tag 1.21.0, which does not exist",
            Failure::OomKilled => "productpage-v1 OOMKilled at its 64Mi memory limit",
            Failure::Unschedulable => "productpage-v1 second replica requests 1500m CPU: Pending",
            Failure::ServiceNoEndpoints => "Service details selects version v2; only v1 pods run",
            Failure::ConfigMissing => "details-v1 rollout reads ConfigMap details-settings, absent",
            Failure::SubsetNotFound => "VirtualService reviews routes to subset v3, undefined",
            Failure::HostNotFound => "VirtualService ratings routes to host ratings-v1",
            Failure::FaultInjection => "VirtualService ratings aborts 100% of requests with 500",
            Failure::SidecarNotInjected => "namespace without istio-injection: pods lack sidecars",
            Failure::SubsetNoPods => "VirtualService reviews sends 50% to v3, scaled to 0",
            Failure::ReadinessFailing => "productpage-v1 readiness probe returns 503",
            Failure::MtlsStrict => "PeerAuthentication default is STRICT; plaintext clients exist",
            Failure::RootSyncForbidden => {
                "RootSync cannot patch a Gateway: KNV2009 forbidden for root-reconciler"
            }
        }
    }
}

/// How many namespaces each namespaced failure gets in a cluster of `namespaces` Bookinfo
/// namespaces: about one per 200 namespaces (7 each, 6% of namespaces, at 100k objects), at
/// least one.
pub fn per_kind(namespaces: usize) -> usize {
    ((namespaces + 100) / 200).max(1)
}

/// The failure of each namespace (`None`: healthy), by namespace index. At least one namespace
/// stays healthy; with fewer namespaces than failures, the first of [`Failure::NAMESPACED`] are
/// planted.
pub fn assign(seed: u64, namespaces: usize) -> Vec<Option<Failure>> {
    let mut out = vec![None; namespaces];
    let n = per_kind(namespaces);
    let slots: Vec<Failure> = (0..n)
        .flat_map(|_| Failure::NAMESPACED)
        .take(namespaces.saturating_sub(1))
        .collect();
    let mut order: Vec<usize> = (0..namespaces).collect();
    Rng::stream(seed, u64::MAX).shuffle(&mut order);
    for (slot, ns) in slots.into_iter().zip(order) {
        out[ns] = Some(slot);
    }
    out
}

/// The healthy namespaces' indices in the seeded order (the first ones hold the healthy
/// targets and the Gateway the RootSync fails to apply).
pub fn healthy_order(seed: u64, plan: &[Option<Failure>]) -> Vec<usize> {
    let mut order: Vec<usize> = (0..plan.len()).collect();
    Rng::stream(seed, u64::MAX - 1).shuffle(&mut order);
    order.retain(|&i| plan[i].is_none());
    order
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_clusters_keep_one_healthy_namespace() {
        assert_eq!(assign(1, 1), vec![None]);
        let p = assign(1, 5);
        assert_eq!(p.iter().filter(|f| f.is_none()).count(), 1);
        let planted: Vec<Failure> = p.iter().flatten().copied().collect();
        for f in &Failure::NAMESPACED[..4] {
            assert!(planted.contains(f));
        }
    }

    #[test]
    fn large_clusters_get_several_of_each_spread_out() {
        let p = assign(7, 1_450);
        for f in Failure::NAMESPACED {
            assert_eq!(p.iter().filter(|x| **x == Some(f)).count(), 7, "{f:?}");
        }
        let broken: Vec<usize> = (0..p.len()).filter(|&i| p[i].is_some()).collect();
        assert!(broken.first().unwrap() < &100 && broken.last().unwrap() > &1_350);
        assert_ne!(assign(8, 1_450), p);
    }

    #[test]
    fn every_failure_names_a_catalogued_code() {
        for f in Failure::NAMESPACED
            .into_iter()
            .chain([Failure::RootSyncForbidden])
        {
            let prefix = f.name().split('.').next().unwrap();
            assert!(["workload", "mesh", "rootsync"].contains(&prefix));
            assert!(!f.description().is_empty());
        }
    }
}
