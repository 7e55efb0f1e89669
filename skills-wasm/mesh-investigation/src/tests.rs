//! Native tests: inline fixtures for every rule and shape (positive and negative), the public
//! scenarios, and `detect`.

use crate::MeshInvestigation;
use skillbox_guest::testing::{Fixture, OutcomeAssert, Scenario};
use skillbox_guest::{Outcome, Verdict};
use std::path::PathBuf;

/// What every outcome must satisfy, whatever the input.
fn check_invariants(out: &Outcome) {
    assert!(out.findings.len() <= 50);
    for f in &out.findings {
        assert!(f.code.starts_with("mesh."), "{}", f.code);
        assert!(f.summary.chars().count() <= 512, "{}", f.summary);
        assert!(!f.resources.is_empty(), "{} names no resource", f.code);
        assert!(f.evidence.len() <= 20 && f.suggestions.len() <= 20);
        for e in &f.evidence {
            assert!(e.chars().count() <= 1024, "{e}");
        }
        for s in &f.suggestions {
            assert!(s.chars().count() <= 1024, "{s}");
            assert!(!s.contains("kubectl"), "suggestion with kubectl: {s}");
        }
    }
}

fn run_fixture(f: &Fixture, kind: &str, ns: &str, name: &str) -> Outcome {
    let out = f
        .investigate::<MeshInvestigation>(kind, Some(ns), name)
        .expect("investigation runs");
    check_invariants(&out);
    out
}

fn run(yaml: &str, kind: &str, ns: &str, name: &str) -> Outcome {
    run_fixture(
        &Fixture::from_yaml(yaml).expect("fixture parses"),
        kind,
        ns,
        name,
    )
}

// ---------------------------------------------------------------------------------------------
// Public scenarios

fn check_scenario(dir: PathBuf) {
    if !dir.exists() {
        println!("NOTE: {} is missing; scenario test skipped", dir.display());
        return;
    }
    let s = Scenario::load(&dir).expect("scenario.yaml");
    let f = s.fixture().expect("snapshot loads");
    let out = run_fixture(&f, &s.kind, s.namespace.as_deref().unwrap_or(""), &s.name);
    s.assert_met(&out);
}

fn public(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/scenarios"
    ))
    .join(name)
}

fn own(name: &str) -> PathBuf {
    PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../tests/scenarios"
    ))
    .join(name)
}

#[test]
fn public_mesh_subset_not_found() {
    check_scenario(public("mesh-subset-not-found"));
}
#[test]
fn public_mesh_host_not_found() {
    check_scenario(public("mesh-host-not-found"));
}
#[test]
fn public_mesh_subset_no_pods() {
    check_scenario(public("mesh-subset-no-pods"));
}
#[test]
fn public_mesh_sidecar_not_injected() {
    check_scenario(public("mesh-sidecar-not-injected"));
}
#[test]
fn public_mesh_mtls_strict_plaintext_client() {
    check_scenario(public("mesh-mtls-strict-plaintext-client"));
}
#[test]
fn public_mesh_fault_injection_active() {
    check_scenario(public("mesh-fault-injection-active"));
}
#[test]
fn public_bookinfo_healthy() {
    check_scenario(public("bookinfo-healthy"));
}

#[test]
fn own_scenarios() {
    let root = own("");
    let Ok(entries) = std::fs::read_dir(&root) else {
        println!("NOTE: {} is missing; own scenarios skipped", root.display());
        return;
    };
    let mut dirs: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("mesh-"))
        })
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 5, "own mesh scenarios: {dirs:?}");
    for d in dirs {
        check_scenario(d);
    }
}

// ---------------------------------------------------------------------------------------------
// Fixture builders (flow-style YAML, one document each)

fn ns(name: &str, labels: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Namespace\nmetadata: {{name: {name}, labels: {{{labels}}}}}\n"
    )
}

fn svc(ns: &str, name: &str, selector: &str) -> String {
    format!(
        "---\napiVersion: v1\nkind: Service\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{selector: {{{selector}}}, ports: [{{port: 9080, name: http}}]}}\n"
    )
}

/// `proxy`: "container", "native", "init-only" (istio-proxy init without restartPolicy) or "none".
fn pod(ns: &str, name: &str, labels: &str, proxy: &str, phase: &str, annotations: &str) -> String {
    let (containers, init) = match proxy {
        "container" => (
            "[{name: app, image: app:1}, {name: istio-proxy, image: proxyv2:1.28.2}]",
            "[{name: istio-init, image: proxyv2:1.28.2}]",
        ),
        "native" => (
            "[{name: app, image: app:1}]",
            "[{name: istio-init, image: proxyv2:1.28.2}, {name: istio-proxy, image: proxyv2:1.28.2, restartPolicy: Always}]",
        ),
        "init-only" => (
            "[{name: app, image: app:1}]",
            "[{name: istio-proxy, image: proxyv2:1.28.2}]",
        ),
        _ => ("[{name: app, image: app:1}]", "[]"),
    };
    let tls = if proxy == "container" || proxy == "native" {
        ", security.istio.io/tlsMode: istio"
    } else {
        ""
    };
    format!(
        "---\napiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: {ns}, creationTimestamp: '2026-11-20T10:00:00Z', labels: {{{labels}{tls}}}, annotations: {{{annotations}}}}}\nspec: {{containers: {containers}, initContainers: {init}}}\nstatus: {{phase: {phase}}}\n"
    )
}

fn vs(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {spec}\n"
    )
}

fn dr(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {spec}\n"
    )
}

fn pa(ns: &str, name: &str, spec: &str) -> String {
    format!(
        "---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {spec}\n"
    )
}

/// A healthy injected `reviews` in namespace `shop`: Service, DR v1/v2/v2-mysql, pods v1 and v2.
fn shop() -> String {
    [
        ns("shop", "istio-injection: enabled"),
        ns("istio-system", ""),
        svc("shop", "reviews", "app: reviews"),
        dr("shop", "reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v2, labels: {version: v2}}, {name: v2-mysql, labels: {version: v2-mysql}}]}"),
        pod("shop", "reviews-v1-a", "app: reviews, version: v1", "container", "Running", ""),
        pod("shop", "reviews-v2-a", "app: reviews, version: v2", "container", "Running", ""),
    ]
    .concat()
}

fn route(dest: &str) -> String {
    format!("{{hosts: [reviews], http: [{{route: [{{destination: {dest}}}]}}]}}")
}

// ---------------------------------------------------------------------------------------------
// subset-not-found

#[test]
fn subset_not_found_when_the_dr_lacks_it() {
    let y = shop() + &vs("shop", "reviews", &route("{host: reviews, subset: v3}"));
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::SUBSET_NOT_FOUND);
    assert!(
        f.evidence_contains("spec.subsets[*].name = [v1, v2, v2-mysql]"),
        "{f:#?}"
    );
    assert!(f.suggestions[0].contains("labels {version: v3}"), "{f:#?}");
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn defined_subset_is_fine_and_unused_subsets_are_noise() {
    // v2-mysql has no pods but nothing routes to it: no finding at all.
    let y = shop() + &vs("shop", "reviews", &route("{host: reviews, subset: v1}"));
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    assert_eq!(out.verdict, Verdict::Healthy);
    // The DestinationRule as target: same, unused subsets are not errors.
    let out = run(&y, "DestinationRule", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn subset_not_found_without_any_destination_rule() {
    let y = [
        ns("shop", "istio-injection: enabled"),
        svc("shop", "reviews", "app: reviews"),
        pod(
            "shop",
            "reviews-v1-a",
            "app: reviews, version: v1",
            "container",
            "Running",
            "",
        ),
        vs("shop", "reviews", &route("{host: reviews, subset: v1}")),
    ]
    .concat();
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::SUBSET_NOT_FOUND);
    assert!(f.summary.contains("has no DestinationRule"), "{f:#?}");
}

#[test]
fn destination_rule_in_another_namespace_applies_by_fqdn() {
    let base = [
        ns("bookinfo", "istio-injection: enabled"),
        ns("frontend", "istio-injection: enabled"),
        svc("bookinfo", "reviews", "app: reviews"),
        pod("bookinfo", "reviews-v2-a", "app: reviews, version: v2", "container", "Running", ""),
        vs("frontend", "to-reviews", "{hosts: [reviews.bookinfo.svc.cluster.local], http: [{route: [{destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}}]}]}"),
    ]
    .concat();
    // FQDN host in the DR: applies.
    let y = base.clone()
        + &dr(
            "bookinfo",
            "reviews",
            "{host: reviews.bookinfo.svc.cluster.local, subsets: [{name: v2, labels: {version: v2}}]}",
        );
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // Short host in the DR resolves in the DR's namespace (bookinfo): applies too.
    let y = base.clone()
        + &dr(
            "bookinfo",
            "reviews",
            "{host: reviews, subsets: [{name: v2, labels: {version: v2}}]}",
        );
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // exportTo "." hides it from frontend.
    let y = base.clone()
        + &dr(
            "bookinfo",
            "reviews",
            "{host: reviews, exportTo: ['.'], subsets: [{name: v2, labels: {version: v2}}]}",
        );
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    assert!(out.has(crate::SUBSET_NOT_FOUND), "{:#?}", out.findings);
    // A DR in frontend with a short host means reviews.frontend: does not apply, and is named.
    let y = base
        + &dr(
            "frontend",
            "reviews",
            "{host: reviews, subsets: [{name: v2, labels: {version: v2}}]}",
        );
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    let f = out.expect_finding(crate::SUBSET_NOT_FOUND);
    assert!(
        f.evidence_contains("for host reviews.frontend.svc.cluster.local"),
        "{f:#?}"
    );
}

#[test]
fn a_rule_off_the_lookup_path_never_applies_whatever_it_exports() {
    // Istio looks DestinationRules up in the caller's, the Service's and the root namespace
    // only: a rule in a third namespace, exported everywhere, defines nothing for the route.
    let y = [
        ns("bookinfo", "istio-injection: enabled"),
        svc("bookinfo", "reviews", "app: reviews"),
        pod("bookinfo", "reviews-v2-a", "app: reviews, version: v2", "container", "Running", ""),
        dr("elsewhere", "reviews", "{host: reviews.bookinfo.svc.cluster.local, exportTo: ['*'], subsets: [{name: v2, labels: {version: v2}}]}"),
        vs("frontend", "to-reviews", "{hosts: [reviews.bookinfo.svc.cluster.local], http: [{route: [{destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}}]}]}"),
    ]
    .concat();
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    assert!(out.has(crate::SUBSET_NOT_FOUND), "{:#?}", out.findings);
    // The same rule in the root namespace applies.
    let y = y.replace("namespace: elsewhere", "namespace: istio-system");
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn client_namespace_rule_shadows_the_service_namespace_rule() {
    let y = [
        ns("bookinfo", "istio-injection: enabled"),
        svc("bookinfo", "reviews", "app: reviews"),
        pod("bookinfo", "reviews-v2-a", "app: reviews, version: v2", "container", "Running", ""),
        dr("bookinfo", "reviews", "{host: reviews, subsets: [{name: v2, labels: {version: v2}}]}"),
        dr("frontend", "reviews-override", "{host: reviews.bookinfo.svc.cluster.local, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}"),
        vs("frontend", "to-reviews", "{hosts: [reviews.bookinfo.svc.cluster.local], http: [{route: [{destination: {host: reviews.bookinfo.svc.cluster.local, subset: v2}}]}]}"),
    ]
    .concat();
    let out = run(&y, "VirtualService", "frontend", "to-reviews");
    let f = out.expect_finding(crate::SUBSET_NOT_FOUND);
    assert!(
        f.evidence_contains("DestinationRule frontend/reviews-override"),
        "{f:#?}"
    );
}

// ---------------------------------------------------------------------------------------------
// host-not-found

#[test]
fn host_not_found_for_a_workload_name() {
    let y = shop() + &vs("shop", "reviews", &route("{host: reviews-v1}"));
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::HOST_NOT_FOUND);
    assert!(
        f.evidence_contains("reviews-v1.shop.svc.cluster.local"),
        "{f:#?}"
    );
    assert!(f.suggestions[0].contains("subset: v1"), "{f:#?}");
    assert!(!out.has(crate::SUBSET_NOT_FOUND));
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn fqdn_wildcard_and_service_entry_hosts_are_found() {
    let y = shop()
        + &vs(
            "shop",
            "fqdn",
            &route("{host: reviews.shop.svc.cluster.local, subset: v1}"),
        )
        + &vs(
            "shop",
            "wild",
            "{hosts: ['*'], http: [{route: [{destination: {host: '*.example.com'}}]}]}",
        )
        + &vs(
            "shop",
            "ext",
            "{hosts: [api.example.com], http: [{route: [{destination: {host: api.example.com}}]}]}",
        )
        + "---\napiVersion: networking.istio.io/v1beta1\nkind: ServiceEntry\nmetadata: {name: ext, namespace: egress}\nspec: {hosts: ['*.example.com'], location: MESH_EXTERNAL}\n";
    for name in ["fqdn", "wild", "ext"] {
        let out = run(&y, "VirtualService", "shop", name);
        assert!(out.findings.is_empty(), "{name}: {:#?}", out.findings);
    }
}

#[test]
fn short_host_does_not_resolve_in_another_namespace() {
    // A Service `reviews` exists only in `shop`; the VS in `frontend` names it short.
    let y = shop() + &vs("frontend", "reviews", &route("{host: reviews}"));
    let out = run(&y, "VirtualService", "frontend", "reviews");
    let f = out.expect_finding(crate::HOST_NOT_FOUND);
    assert!(
        f.evidence_contains("reviews.frontend.svc.cluster.local"),
        "{f:#?}"
    );
}

#[test]
fn dotted_short_host_is_taken_literally() {
    let y = shop() + &vs("frontend", "reviews", &route("{host: reviews.shop}"));
    let out = run(&y, "VirtualService", "frontend", "reviews");
    let f = out.expect_finding(crate::HOST_NOT_FOUND);
    assert!(
        f.suggestions[0].contains("reviews.shop.svc.cluster.local"),
        "{f:#?}"
    );
}

#[test]
fn destination_rule_host_typo() {
    let y = shop()
        + &dr(
            "shop",
            "ratings",
            "{host: ratingz, subsets: [{name: v1, labels: {version: v1}}]}",
        );
    let out = run(&y, "DestinationRule", "shop", "ratings");
    let f = out.expect_finding(crate::HOST_NOT_FOUND);
    assert!(
        f.summary
            .contains("DestinationRule shop/ratings applies to host ratingz"),
        "{f:#?}"
    );
    // The healthy DR is fine.
    let out = run(&y, "DestinationRule", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn empty_destination_host_is_not_found() {
    let y = shop()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{route: [{destination: {subset: v1}}]}]}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.has(crate::HOST_NOT_FOUND));
}

// ---------------------------------------------------------------------------------------------
// subset-no-pods

#[test]
fn subset_no_pods_when_scaled_to_zero() {
    let y = [
        ns("shop", "istio-injection: enabled"),
        svc("shop", "reviews", "app: reviews"),
        dr("shop", "reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]}"),
        pod("shop", "reviews-v1-a", "app: reviews, version: v1", "container", "Running", ""),
        "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: reviews-v3, namespace: shop}\nspec: {replicas: 0, template: {metadata: {labels: {app: reviews, version: v3}}}}\n".to_string(),
        vs("shop", "reviews", "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 50}, {destination: {host: reviews, subset: v3}, weight: 50}]}]}"),
    ]
    .concat();
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::SUBSET_NO_PODS);
    assert!(f.summary.contains("50%"), "{f:#?}");
    assert!(f.evidence_contains("Deployment shop/reviews-v3"), "{f:#?}");
    assert!(f.suggestions[0].contains("spec.replicas"), "{f:#?}");
    assert!(!out.has(crate::SUBSET_NOT_FOUND));
    assert!(!out.has(crate::SIDECAR_NOT_INJECTED));
}

#[test]
fn subset_no_pods_skips_weight_zero_mirrors_and_counts_pending() {
    let base = [
        ns("shop", "istio-injection: enabled"),
        svc("shop", "reviews", "app: reviews"),
        dr("shop", "reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]}"),
        pod("shop", "reviews-v1-a", "app: reviews, version: v1", "container", "Running", ""),
    ]
    .concat();
    let zero = base.clone()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{route: [{destination: {host: reviews, subset: v1}, weight: 100}, {destination: {host: reviews, subset: v3}, weight: 0}], mirror: {host: reviews, subset: v3}}]}",
        );
    let out = run(&zero, "VirtualService", "shop", "reviews");
    assert!(!out.has(crate::SUBSET_NO_PODS), "{:#?}", out.findings);
    let pending =
        base + &pod(
            "shop",
            "reviews-v3-a",
            "app: reviews, version: v3",
            "container",
            "Pending",
            "",
        ) + &vs("shop", "reviews", &route("{host: reviews, subset: v3}"));
    let out = run(&pending, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::SUBSET_NO_PODS);
    assert!(f.evidence_contains("reviews-v3-a (Pending)"), "{f:#?}");
    assert!(f.summary.contains("all of its traffic"), "{f:#?}");
}

#[test]
fn subset_no_pods_from_the_destination_rule_target() {
    let y = [
        ns("shop", "istio-injection: enabled"),
        svc("shop", "reviews", "app: reviews"),
        dr("shop", "reviews", "{host: reviews, subsets: [{name: v1, labels: {version: v1}}, {name: v3, labels: {version: v3}}]}"),
        pod("shop", "reviews-v1-a", "app: reviews, version: v1", "container", "Running", ""),
        vs("shop", "reviews", &route("{host: reviews, subset: v3}")),
    ]
    .concat();
    let out = run(&y, "DestinationRule", "shop", "reviews");
    assert!(out.has(crate::SUBSET_NO_PODS), "{:#?}", out.findings);
}

// ---------------------------------------------------------------------------------------------
// sidecar-not-injected

fn sidecar_case(ns_labels: &str, proxy: &str, annotations: &str, pod_labels: &str) -> Outcome {
    let y = [
        ns("shop", ns_labels),
        svc("shop", "reviews", "app: reviews"),
        pod(
            "shop",
            "reviews-v1-a",
            &format!("app: reviews, version: v1{pod_labels}"),
            proxy,
            "Running",
            annotations,
        ),
        vs("shop", "reviews", &route("{host: reviews}")),
    ]
    .concat();
    run(&y, "VirtualService", "shop", "reviews")
}

#[test]
fn sidecar_missing_because_namespace_is_unlabelled() {
    let out = sidecar_case("team: a", "none", "", "");
    let f = out.expect_finding(crate::SIDECAR_NOT_INJECTED);
    assert_eq!(f.severity, skillbox_guest::Severity::Error);
    assert!(
        f.evidence_contains("neither istio-injection=enabled nor an istio.io/rev"),
        "{f:#?}"
    );
    assert!(
        f.suggestions[0].contains("istio-injection: enabled"),
        "{f:#?}"
    );
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn native_sidecar_and_revision_label_count_as_injected() {
    let out = sidecar_case("istio.io/rev: canary", "native", "", "");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let out = sidecar_case("istio-injection: enabled", "container", "", "");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // An istio-proxy initContainer without restartPolicy Always is not a sidecar.
    let out = sidecar_case("istio-injection: enabled", "init-only", "", "");
    assert!(out.has(crate::SIDECAR_NOT_INJECTED));
}

#[test]
fn sidecar_opt_out_by_annotation_or_label() {
    for (ann, lab) in [
        ("'sidecar.istio.io/inject': 'false'", ""),
        ("", ", sidecar.istio.io/inject: 'false'"),
    ] {
        let out = sidecar_case("istio-injection: enabled", "none", ann, lab);
        let f = out.expect_finding(crate::SIDECAR_NOT_INJECTED);
        assert!(
            f.evidence_contains("sidecar.istio.io/inject: \"false\""),
            "{f:#?}"
        );
        assert!(
            f.suggestions
                .iter()
                .any(|s| s.contains("Remove sidecar.istio.io/inject")),
            "{f:#?}"
        );
    }
}

#[test]
fn sidecar_missing_because_pod_predates_the_label() {
    let out = sidecar_case("istio-injection: enabled", "none", "", "");
    let f = out.expect_finding(crate::SIDECAR_NOT_INJECTED);
    assert!(
        f.evidence_contains("created before injection was enabled"),
        "{f:#?}"
    );
    assert!(f.suggestions[0].contains("Roll"), "{f:#?}");
}

#[test]
fn partial_injection_is_a_warning() {
    let y = [
        ns("shop", "istio-injection: enabled"),
        svc("shop", "reviews", "app: reviews"),
        pod(
            "shop",
            "reviews-v1-a",
            "app: reviews, version: v1",
            "container",
            "Running",
            "",
        ),
        pod(
            "shop",
            "reviews-v1-b",
            "app: reviews, version: v1",
            "none",
            "Running",
            "",
        ),
        pod(
            "shop",
            "reviews-v1-c",
            "app: reviews, version: v1",
            "none",
            "Succeeded",
            "",
        ),
        vs("shop", "reviews", &route("{host: reviews}")),
    ]
    .concat();
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::SIDECAR_NOT_INJECTED);
    assert_eq!(f.severity, skillbox_guest::Severity::Warning);
    assert!(f.summary.starts_with("1 of 2"), "{f:#?}");
}

// ---------------------------------------------------------------------------------------------
// mtls-strict-plaintext-client

fn mtls_base() -> String {
    shop()
        + &ns("legacy", "")
        + &pod("legacy", "sleep-a", "app: sleep", "none", "Running", "")
        + &pod(
            "istio-system",
            "istiod-a",
            "app: istiod, istio: pilot",
            "none",
            "Running",
            "'sidecar.istio.io/inject': 'false'",
        )
        + &pod(
            "kube-system",
            "coredns-a",
            "k8s-app: kube-dns",
            "none",
            "Running",
            "",
        )
        + &vs("shop", "reviews", &route("{host: reviews, subset: v1}"))
}

#[test]
fn strict_namespace_with_plaintext_client() {
    let y = mtls_base() + &pa("shop", "default", "{mtls: {mode: STRICT}}");
    let out = run(&y, "PeerAuthentication", "shop", "default");
    let f = out.expect_finding(crate::MTLS_STRICT_PLAINTEXT);
    assert_eq!(f.severity, skillbox_guest::Severity::Error);
    assert!(f.summary.contains("legacy/sleep-a"), "{f:#?}");
    assert!(
        !f.summary.contains("istiod") && !f.summary.contains("coredns"),
        "{f:#?}"
    );
    assert_eq!(out.verdict, Verdict::Resolved);
    // The same policy is found from the VirtualService.
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.has(crate::MTLS_STRICT_PLAINTEXT), "{:#?}", out.findings);
}

#[test]
fn strict_without_plaintext_clients_or_permissive_is_healthy() {
    let y = shop() + &pa("shop", "default", "{mtls: {mode: STRICT}}");
    let out = run(&y, "PeerAuthentication", "shop", "default");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let y = mtls_base() + &pa("shop", "default", "{mtls: {mode: PERMISSIVE}}");
    let out = run(&y, "PeerAuthentication", "shop", "default");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    // A workload-level PERMISSIVE overrides the namespace STRICT for reviews.
    let y = mtls_base()
        + &pa("shop", "default", "{mtls: {mode: STRICT}}")
        + &pa(
            "shop",
            "reviews-permissive",
            "{selector: {matchLabels: {app: reviews}}, mtls: {mode: PERMISSIVE}}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(
        !out.has(crate::MTLS_STRICT_PLAINTEXT),
        "{:#?}",
        out.findings
    );
}

#[test]
fn mesh_wide_strict_in_the_root_namespace() {
    let y = mtls_base() + &pa("istio-system", "default", "{mtls: {mode: STRICT}}");
    let out = run(&y, "PeerAuthentication", "istio-system", "default");
    let f = out.expect_finding(crate::MTLS_STRICT_PLAINTEXT);
    assert!(f.evidence_contains("mesh-wide"), "{f:#?}");
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.has(crate::MTLS_STRICT_PLAINTEXT), "{:#?}", out.findings);
    // A STRICT policy in another, non-root namespace does not cover shop.
    let y = mtls_base() + &pa("other", "default", "{mtls: {mode: STRICT}}");
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(
        !out.has(crate::MTLS_STRICT_PLAINTEXT),
        "{:#?}",
        out.findings
    );
}

#[test]
fn network_policy_lowers_to_warning() {
    let y = mtls_base()
        + &pa("shop", "default", "{mtls: {mode: STRICT}}")
        + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: only-shop, namespace: shop}\nspec: {podSelector: {}}\n";
    let out = run(&y, "PeerAuthentication", "shop", "default");
    let f = out.expect_finding(crate::MTLS_STRICT_PLAINTEXT);
    assert_eq!(f.severity, skillbox_guest::Severity::Warning);
}

// ---------------------------------------------------------------------------------------------
// fault-injection-active

#[test]
fn abort_for_everyone_is_a_warning_that_resolves() {
    let y = shop()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{fault: {abort: {httpStatus: 500, percentage: {value: 100.0}}}, route: [{destination: {host: reviews, subset: v1}}]}]}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::FAULT_INJECTION_ACTIVE);
    assert_eq!(f.severity, skillbox_guest::Severity::Warning);
    assert!(f.summary.contains("HTTP 500 for 100%"), "{f:#?}");
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn header_matched_delay_is_reported() {
    let y = shop()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{match: [{headers: {end-user: {exact: jason}}}], fault: {delay: {fixedDelay: 7s, percentage: {value: 100.0}}}, route: [{destination: {host: reviews, subset: v1}}]}, {route: [{destination: {host: reviews, subset: v1}}]}]}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::FAULT_INJECTION_ACTIVE);
    assert!(f.summary.contains("headers match"), "{f:#?}");
    assert!(f.evidence_contains("jason"), "{f:#?}");
    assert_eq!(out.verdict, Verdict::Resolved);
}

#[test]
fn zero_percent_fault_is_inactive_and_legacy_percent_counts() {
    let y = shop()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{fault: {abort: {httpStatus: 500, percentage: {value: 0}}}, route: [{destination: {host: reviews, subset: v1}}]}]}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let y = shop()
        + "---\napiVersion: networking.istio.io/v1alpha3\nkind: VirtualService\nmetadata: {name: reviews, namespace: shop}\nspec: {hosts: [reviews], http: [{fault: {delay: {fixedDelay: 5s, percent: 50}}, route: [{destination: {host: reviews, subset: v1}}]}]}\n";
    let out = run(&y, "VirtualService", "shop", "reviews");
    let f = out.expect_finding(crate::FAULT_INJECTION_ACTIVE);
    assert!(f.summary.contains("5s for 50%"), "{f:#?}");
}

#[test]
fn fault_found_from_the_destination_rule_target() {
    let y = shop()
        + &vs(
            "shop",
            "reviews",
            "{hosts: [reviews], http: [{fault: {abort: {httpStatus: 503}}, route: [{destination: {host: reviews, subset: v1}}]}]}",
        );
    let out = run(&y, "DestinationRule", "shop", "reviews");
    assert!(
        out.has(crate::FAULT_INJECTION_ACTIVE),
        "{:#?}",
        out.findings
    );
}

// ---------------------------------------------------------------------------------------------
// Gateway targets, input shapes, errors, detect

fn gateway(ns: &str, name: &str) -> String {
    format!(
        "---\napiVersion: networking.istio.io/v1beta1\nkind: Gateway\nmetadata: {{name: {name}, namespace: {ns}}}\nspec: {{selector: {{istio: ingressgateway}}, servers: [{{port: {{number: 8080, name: http, protocol: HTTP}}, hosts: ['*']}}]}}\n"
    )
}

#[test]
fn gateway_checks_its_bound_virtual_services() {
    let y = shop()
        + &gateway("shop", "web")
        + &vs(
            "shop",
            "front",
            "{hosts: ['*'], gateways: [web], http: [{route: [{destination: {host: reviews, subset: v9}}]}]}",
        )
        + &vs(
            "other",
            "elsewhere",
            "{hosts: ['*'], gateways: [shop/web], http: [{route: [{destination: {host: nowhere}}]}]}",
        )
        + &vs(
            "shop",
            "unbound",
            "{hosts: ['*'], gateways: [other-gw], http: [{fault: {abort: {httpStatus: 500}}, route: [{destination: {host: reviews}}]}]}",
        );
    let out = run(&y, "Gateway", "shop", "web");
    assert!(out.has(crate::SUBSET_NOT_FOUND), "{:#?}", out.findings);
    assert!(out.has(crate::HOST_NOT_FOUND), "{:#?}", out.findings);
    assert!(
        !out.has(crate::FAULT_INJECTION_ACTIVE),
        "{:#?}",
        out.findings
    );
    assert_eq!(out.findings[0].resources[0].kind, "Gateway");
}

#[test]
fn unbound_gateway_is_info_only() {
    let y = shop() + &gateway("shop", "web");
    let out = run(&y, "Gateway", "shop", "web");
    assert_eq!(out.codes(), vec![crate::GATEWAY_UNBOUND]);
    assert_eq!(out.verdict, Verdict::Healthy);
}

#[test]
fn list_documents_and_json_files_load() {
    let dir = std::env::temp_dir().join(format!("mesh-investigation-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let list = "apiVersion: v1\nkind: List\nitems:\n- {apiVersion: v1, kind: Namespace, metadata: {name: shop, labels: {istio-injection: enabled}}}\n- {apiVersion: v1, kind: Service, metadata: {name: reviews, namespace: shop}, spec: {selector: {app: reviews}}}\n";
    std::fs::write(dir.join("a.yaml"), list).unwrap();
    let json = r#"{"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"reviews-v1-a","namespace":"shop","labels":{"app":"reviews","version":"v1"}},"spec":{"containers":[{"name":"app"}]},"status":{"phase":"Running"}}]}"#;
    std::fs::write(dir.join("b.json"), json).unwrap();
    std::fs::write(dir.join("c.json"), r#"{"apiVersion":"networking.istio.io/v1","kind":"VirtualService","metadata":{"name":"reviews","namespace":"shop"},"spec":{"hosts":["reviews"],"http":[{"route":[{"destination":{"host":"reviews"}}]}]}}"#).unwrap();
    let f = Fixture::from_snapshot_dir(&dir).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let out = run_fixture(&f, "VirtualService", "shop", "reviews");
    // The pod from the JSON list has no sidecar: proves both files were read.
    assert!(out.has(crate::SIDECAR_NOT_INJECTED), "{:#?}", out.findings);
}

#[test]
fn noise_with_similar_names_in_other_namespaces_is_ignored() {
    // Another copy of reviews in `staging` is broken (no sidecars, scaled to zero); shop is not.
    let y = shop()
        + &vs("shop", "reviews", &route("{host: reviews, subset: v1}"))
        + &ns("staging", "")
        + &svc("staging", "reviews", "app: reviews")
        + &pod(
            "staging",
            "reviews-v1-x",
            "app: reviews, version: v1",
            "none",
            "Running",
            "",
        )
        + &dr(
            "staging",
            "reviews",
            "{host: reviews, subsets: [{name: v9, labels: {version: v9}}]}",
        )
        + &vs(
            "staging",
            "reviews",
            "{hosts: [reviews], http: [{fault: {abort: {httpStatus: 500}}, route: [{destination: {host: reviews, subset: v9}}]}]}",
        );
    let out = run(&y, "VirtualService", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    let out = run(&y, "DestinationRule", "shop", "reviews");
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
}

#[test]
fn unreadable_target_is_an_error_and_other_kinds_are_refused() {
    let f = Fixture::from_yaml(&shop()).unwrap();
    assert!(
        f.investigate::<MeshInvestigation>("VirtualService", Some("shop"), "nope")
            .is_err()
    );
    assert!(
        f.investigate::<MeshInvestigation>("Pod", Some("shop"), "reviews-v1-a")
            .is_err()
    );
    // Plural and kind.group spellings are accepted.
    let y = shop() + &vs("shop", "reviews", &route("{host: reviews, subset: v1}"));
    let f = Fixture::from_yaml(&y).unwrap();
    assert!(
        f.investigate::<MeshInvestigation>(
            "virtualservices.networking.istio.io",
            Some("shop"),
            "reviews"
        )
        .is_ok()
    );
}

#[test]
fn detect_sees_faults_and_malformed_rules_only() {
    use skillbox_guest::{Object, Skill};
    let obj = |y: &str| {
        let f = Fixture::from_yaml(y).unwrap();
        f.objects()[0].clone()
    };
    let d = |o: &Object| MeshInvestigation::detect(o);
    assert!(d(&obj(&vs(
        "a",
        "b",
        "{http: [{fault: {abort: {httpStatus: 500}}, route: [{destination: {host: r}}]}]}"
    ))));
    assert!(d(&obj(&vs(
        "a",
        "b",
        "{http: [{route: [{destination: {subset: v1}}]}]}"
    ))));
    assert!(!d(&obj(&vs(
        "a",
        "b",
        "{http: [{fault: {abort: {httpStatus: 500, percentage: {value: 0}}}, route: [{destination: {host: r}}]}]}"
    ))));
    assert!(!d(&obj(&vs(
        "a",
        "b",
        &route("{host: reviews, subset: v3}")
    ))));
    assert!(d(&obj(&dr("a", "b", "{subsets: [{name: v1}]}"))));
    assert!(d(&obj(&dr(
        "a",
        "b",
        "{host: r, subsets: [{name: v1}, {name: v1}]}"
    ))));
    assert!(!d(&obj(&dr(
        "a",
        "b",
        "{host: r, subsets: [{name: v1}, {name: v2}]}"
    ))));
    assert!(!d(&obj(&pa("a", "b", "{mtls: {mode: STRICT}}"))));
}
