//! Native tests: every code positive and negative, the four error places, deduplication,
//! several errors at once, healthy / pending / status-less RootSyncs, snapshot files (`kind: List`,
//! `.json`), noise objects, the tool calls made, `detect`, and the public scenarios.

use crate::RootSyncInvestigation;
use skillbox_guest::testing::{Fixture, OutcomeAssert, Scenario};
use skillbox_guest::tools::{ToolBackend, clear_backend, set_backend};
use skillbox_guest::{Finding, Object, ObjectRef, Outcome, Skill, ToolError, Verdict};
use std::cell::RefCell;
use std::path::PathBuf;
use std::rc::Rc;

const NS: &str = "config-management-system";

// ---------------------------------------------------------------- harness

/// A fixture that records every tool call (kind, namespace, name).
struct Recorder {
    inner: Fixture,
    calls: RefCell<Vec<String>>,
}

impl ToolBackend for Recorder {
    fn get_object(&self, kind: &str, ns: Option<&str>, name: &str) -> Result<String, ToolError> {
        self.calls
            .borrow_mut()
            .push(format!("get {kind} {}/{name}", ns.unwrap_or("")));
        self.inner.get_object(kind, ns, name)
    }
    fn list_objects(
        &self,
        kind: &str,
        ns: Option<&str>,
        s: &str,
    ) -> Result<Vec<String>, ToolError> {
        self.calls
            .borrow_mut()
            .push(format!("list {kind} {}", ns.unwrap_or("")));
        self.inner.list_objects(kind, ns, s)
    }
    fn list_events(&self, involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        self.calls.borrow_mut().push(format!("events {involved}"));
        self.inner.list_events(involved)
    }
    fn read_logs(&self, ns: &str, pod: &str, c: &str, tail: u32) -> Result<String, ToolError> {
        self.calls.borrow_mut().push(format!("logs {ns}/{pod}/{c}"));
        self.inner.read_logs(ns, pod, c, tail)
    }
}

/// Runs the skill on `root-sync` (or `name`) with `fixture`, returning the outcome and the calls.
fn run_fixture(fixture: Fixture, name: &str) -> (Outcome, Vec<String>) {
    let rec = Rc::new(Recorder {
        inner: fixture,
        calls: RefCell::new(Vec::new()),
    });
    set_backend(rec.clone());
    let target = ObjectRef::namespaced("configsync.gke.io/v1beta1", "RootSync", NS, name);
    let out = RootSyncInvestigation::investigate(&target).expect("investigation runs");
    clear_backend();
    check_invariants(&out);
    let calls = rec.calls.borrow().clone();
    for c in &calls {
        assert!(
            !c.to_ascii_lowercase().contains("secret"),
            "read a Secret: {c}"
        );
        assert!(
            c.starts_with("get RootSync.configsync.gke.io config-management-system/")
                || c.starts_with("get ClusterRole.rbac.authorization.k8s.io /"),
            "call outside the grants: {c}"
        );
    }
    (out, calls)
}

fn run(yaml: &str) -> Outcome {
    run_fixture(
        Fixture::from_yaml(yaml).expect("fixture parses"),
        "root-sync",
    )
    .0
}

/// What every outcome must satisfy, whatever the input.
fn check_invariants(out: &Outcome) {
    assert!(out.findings.len() <= 50);
    for f in &out.findings {
        assert!(f.code.starts_with("rootsync."), "{}", f.code);
        assert!(f.summary.chars().count() <= 512, "{}", f.summary);
        assert!(!f.summary.contains('\n'), "{}", f.summary);
        assert!(!f.resources.is_empty(), "{} names no resource", f.code);
        assert!(f.evidence.len() <= 20 && f.suggestions.len() <= 20);
        for e in &f.evidence {
            assert!(e.chars().count() <= 1024, "{e}");
            assert!(!e.contains('\n'), "multi-line evidence: {e:?}");
            assert!(!e.contains("For more information"), "{e}");
        }
        for s in &f.suggestions {
            assert!(s.chars().count() <= 1024, "{s}");
            assert!(!s.contains('\n'));
            for bad in ["kubectl", "nomos ", "helm install", "gcloud"] {
                assert!(!s.contains(bad), "cluster command in suggestion: {s}");
            }
        }
    }
    let llm_only = out.findings.iter().all(|f| {
        f.code == "rootsync.unrecognised-error" || f.severity == skillbox_guest::Severity::Info
    });
    if out.verdict == Verdict::Resolved {
        assert!(!llm_only, "resolved without a catalogued error/warning");
    }
}

fn sugg(f: &Finding, needle: &str) -> bool {
    f.suggestions.iter().any(|s| s.contains(needle))
}

/// A YAML list item of a ConfigSyncError (indented for a `errors:` key at `indent` spaces).
fn err(code: &str, msg: &str, resources: &str, indent: usize) -> String {
    let pad = " ".repeat(indent);
    let body: String = msg
        .lines()
        .map(|l| {
            if l.is_empty() {
                "\n".to_string()
            } else {
                format!("{pad}    {l}\n")
            }
        })
        .collect();
    let mut s = format!(
        "{pad}- code: \"{code}\"\n{pad}  errorMessage: |-\n{body}\n{pad}    For more information, see https://g.co/cloud/acm-errors#knv{code}\n"
    );
    if !resources.is_empty() {
        s.push_str(&format!("{pad}  errorResources:\n"));
        for l in resources.lines() {
            s.push_str(&format!("{pad}  {l}\n"));
        }
    }
    s
}

const COMMIT: &str = "a6727aab1eca428d3a0fa9b78cfe4f601cc51be4";
const OLD: &str = "8ae088e89188927777d458b03e0d141e29cccfce";

/// Where errors go.
#[derive(Clone, Copy, PartialEq)]
enum At {
    Source,
    Rendering,
    Sync,
    Stalled,
    Reconciling,
}

/// A RootSync named `root-sync` with `errors` (already YAML list items indented 6 for stage
/// lists, 4 for condition lists) at `at`; `spec_extra` is extra YAML under `spec:` (2 spaces).
fn rootsync_with(at: &[(At, String)], spec_extra: &str) -> String {
    let list = |w: At| -> String {
        at.iter()
            .filter(|(a, _)| *a == w)
            .map(|(_, e)| e.as_str())
            .collect()
    };
    let stage = |name: &str, w: At, commit: &str| -> String {
        let errs = list(w);
        let mut s = format!(
            "  {name}:\n    commit: {commit}\n    gitStatus: {{repo: https://github.com/acme/platform, branch: main, revision: HEAD, dir: clusters/prod}}\n"
        );
        if !errs.is_empty() {
            s.push_str(
                "    errorSummary: {totalCount: 1, errorCountAfterTruncation: 1}\n    errors:\n",
            );
            s.push_str(&errs);
        }
        s
    };
    let cond = |ty: &str, w: At| -> String {
        let errs = list(w);
        if errs.is_empty() {
            format!("  - {{type: {ty}, status: \"False\"}}\n")
        } else {
            format!(
                "  - type: {ty}\n    status: \"True\"\n    reason: Validation\n    message: failed\n    errors:\n{errs}"
            )
        }
    };
    let any = !at.is_empty();
    let synced = if any { OLD } else { COMMIT };
    let sync_commit = if at.iter().any(|(a, _)| *a == At::Sync) || !any {
        COMMIT
    } else {
        OLD
    };
    format!(
        r#"apiVersion: configsync.gke.io/v1beta1
kind: RootSync
metadata:
  name: root-sync
  namespace: {NS}
  generation: 2
spec:
  sourceType: git
  sourceFormat: unstructured
  git:
    repo: https://github.com/acme/platform
    branch: main
    revision: HEAD
    dir: clusters/prod
    auth: token
    secretRef: {{name: git-creds}}
{spec_extra}status:
  observedGeneration: 2
  reconciler: root-reconciler
  lastSyncedCommit: {synced}
{src}{ren}{syn}  conditions:
{rec}{stl}  - type: Syncing
    status: "False"
    reason: Sync
    message: Sync Completed
    commit: {COMMIT}
"#,
        src = stage("source", At::Source, COMMIT),
        ren = stage("rendering", At::Rendering, COMMIT),
        syn = stage("sync", At::Sync, sync_commit),
        rec = cond("Reconciling", At::Reconciling),
        stl = cond("Stalled", At::Stalled),
    )
}

fn one(at: At, code: &str, msg: &str, resources: &str) -> String {
    rootsync_with(&[(at, err(code, msg, resources, 4))], "")
}

const GATEWAY_RES: &str = "- gvk: {group: networking.istio.io, kind: Gateway, version: v1}\n  name: bookinfo-gateway\n  namespace: bookinfo\n  sourcePath: clusters/prod/bookinfo/gateway.yaml";
const DEPLOY_RES: &str = "- gvk: {group: apps, kind: Deployment, version: v1}\n  name: web\n  namespace: shop\n  sourcePath: clusters/prod/shop/web.yaml";

const FORBIDDEN: &str = r#"failed to apply Gateway.networking.istio.io, bookinfo/bookinfo-gateway: gateways.networking.istio.io "bookinfo-gateway" is forbidden: User "system:serviceaccount:config-management-system:root-reconciler" cannot patch resource "gateways" in API group "networking.istio.io" in the namespace "bookinfo"

source: clusters/prod/bookinfo/gateway.yaml
namespace: bookinfo
metadata.name: bookinfo-gateway
group: networking.istio.io
version: v1
kind: Gateway"#;

const WEBHOOK: &str = r#"failed to apply Deployment.apps, shop/web: admission webhook "validation.gatekeeper.sh" denied the request: [require-resource-limits] container <web> has no resource limits"#;
const WEBHOOK_CALL: &str = r#"failed to apply Deployment.apps, shop/web: Internal error occurred: failed calling webhook "mutate.kyverno.svc-fail": failed to call webhook: Post "https://kyverno-svc.kyverno.svc:443/mutate/fail?timeout=10s": dial tcp 10.96.12.7:443: connect: connection refused"#;
const IMMUTABLE: &str = r#"failed to apply Deployment.apps, shop/web: Deployment.apps "web" is invalid: spec.selector: Invalid value: v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"front"}, MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"#;
const KNV2013: &str = r#"failed to get the ResourceGroup config-management-system/root-sync: Insufficient permission. To fix, make sure the reconciler has sufficient permissions.: resourcegroups.kpt.dev "root-sync" is forbidden: User "system:serviceaccount:config-management-system:root-reconciler" cannot get resource "resourcegroups" in API group "kpt.dev" in the namespace "config-management-system""#;
const KNV1021: &str = "No CustomResourceDefinition is defined for the type \"Rollout.argoproj.io\" in the cluster.\nResource types that are not native Kubernetes objects must have a CustomResourceDefinition.\n\nConfig Sync will retry until a CustomResourceDefinition is defined for the type \"Rollout.argoproj.io\" in the cluster.\n\nsource: clusters/prod/shop/rollout.yaml\nnamespace: shop\nmetadata.name: web\ngroup: argoproj.io\nversion: v1alpha1\nkind: Rollout";
const KNV1067: &str = "failed to encode declared fields: .spec.template.spec.containers[name=\"web\"].resources.limits.memroy: field not declared in schema\n\nsource: clusters/prod/shop/web.yaml\nnamespace: shop\nmetadata.name: web\ngroup: apps\nversion: v1\nkind: Deployment";
const KNV2004_BRANCH: &str = "error in the git-sync container: {\"Msg\":\"unexpected error syncing repo, will retry\",\"Err\":\"Run(git fetch -f --prune --no-auto-gc --depth 1 origin mian): exit status 128: { stdout: \\\"\\\", stderr: \\\"fatal: couldn't find remote ref mian\\\" }\"}";
const KNV2004_AUTH: &str = "error in the git-sync container: {\"Msg\":\"unexpected error syncing repo, will retry\",\"Err\":\"Run(git ls-remote -q https://github.com/acme/platform main): exit status 128: { stdout: \\\"\\\", stderr: \\\"remote: Invalid username or password.\\\\nfatal: Authentication failed for 'https://github.com/acme/platform/'\\\" }\"}";
const KNV2005: &str = "detected excessive object updates, approximately 12 times per minute. This may indicate Config Sync is fighting with another controller over the object.\n\nsource: clusters/prod/shop/web.yaml\nnamespace: shop\nmetadata.name: web\ngroup: apps\nversion: v1\nkind: Deployment";
const KNV2014: &str = "ValidatingWebhookConfiguration admission-webhook.configsync.gke.io was modified: webhook v1.admission-webhook.configsync.gke.io had failurePolicy changed; the change is reverted";
const KNV1068_MISSING: &str = "Kustomization config file is missing from the sync directory /repo/source/a6727aab1eca428d3a0fa9b78cfe4f601cc51be4/clusters/prod. To fix, either add kustomization.yaml in the sync directory to trigger the rendering process, or remove kustomizaiton.yaml from all sub directories to skip rendering.";
const KNV2002: &str = "failed to update ResourceGroup: config-management-system/root-sync: APIServer error: etcdserver: request timed out";

const CLUSTER_ROLE: &str = r#"
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: bookinfo-reconciler}
rules:
- apiGroups: [networking.istio.io]
  resources: [gateways]
  verbs: [get, list, watch]
- apiGroups: [apps]
  resources: [deployments]
  verbs: ["*"]
"#;

const ROLE_REFS: &str =
    "  override:\n    roleRefs:\n    - {kind: ClusterRole, name: bookinfo-reconciler}\n";

// ---------------------------------------------------------------- knv2009

#[test]
fn knv2009_forbidden_reads_the_roleref_clusterrole() {
    let rs = rootsync_with(
        &[(At::Sync, err("2009", FORBIDDEN, GATEWAY_RES, 4))],
        ROLE_REFS,
    );
    let (out, calls) = run_fixture(
        Fixture::from_yaml(&format!("{rs}---{CLUSTER_ROLE}")).unwrap(),
        "root-sync",
    );
    assert_eq!(out.verdict, Verdict::Resolved);
    assert_eq!(out.codes(), vec!["rootsync.knv2009.forbidden"]);
    let f = out.expect_finding("rootsync.knv2009.forbidden");
    assert!(f.summary.contains("root-reconciler"), "{}", f.summary);
    assert!(
        f.summary
            .contains("is not allowed to patch gateways.networking.istio.io in namespace bookinfo")
    );
    assert!(
        f.evidence_contains("status.sync.errors[0] (commit a6727aab1eca)"),
        "{:#?}",
        f.evidence
    );
    assert!(f.evidence_contains("KNV2009"));
    assert!(f.evidence_contains(
        "errorResources[0]: sourcePath clusters/prod/bookinfo/gateway.yaml, kind Gateway"
    ));
    assert!(
        f.evidence_contains("ClusterRole bookinfo-reconciler rules for gateways in API group \"networking.istio.io\": verbs [get, list, watch], not patch"
        ),
        "{:#?}",
        f.evidence
    );
    assert!(f.evidence_contains("status.lastSyncedCommit = 8ae088e8"));
    assert!(f.evidence_contains("secretRef git-creds (Secret not read)"));
    assert!(
        sugg(f, "ClusterRole bookinfo-reconciler"),
        "{:#?}",
        f.suggestions
    );
    assert!(sugg(f, "add verb patch"));
    assert!(
        f.resources
            .iter()
            .any(|r| r.kind == "ClusterRole" && r.name == "bookinfo-reconciler")
    );
    assert_eq!(calls.len(), 2, "{calls:?}");
}

#[test]
fn knv2009_forbidden_without_rolerefs_reads_only_the_rootsync() {
    let rs = one(At::Sync, "2009", FORBIDDEN, GATEWAY_RES);
    let (out, calls) = run_fixture(Fixture::from_yaml(&rs).unwrap(), "root-sync");
    assert_eq!(calls.len(), 1, "{calls:?}");
    let f = out.expect_finding("rootsync.knv2009.forbidden");
    assert!(f.evidence_contains("roleRefs: not set"));
    assert!(sugg(f, "add spec.override.roleRefs"));
}

#[test]
fn knv2009_forbidden_with_an_unreadable_clusterrole_still_reports() {
    let rs = rootsync_with(
        &[(At::Sync, err("2009", FORBIDDEN, GATEWAY_RES, 4))],
        ROLE_REFS,
    );
    let out = run(&rs);
    let f = out.expect_finding("rootsync.knv2009.forbidden");
    assert!(
        f.evidence_contains("could not be read"),
        "{:#?}",
        f.evidence
    );
    assert_eq!(f.resources.len(), 1, "an unread ClusterRole is not named");
    assert!(
        sugg(
            f,
            "spec.override.roleRefs (ClusterRole bookinfo-reconciler)"
        ),
        "{:#?}",
        f.suggestions
    );
}

#[test]
fn knv2009_webhook_denied_and_failed_call() {
    for text in [WEBHOOK, WEBHOOK_CALL] {
        let out = run(&one(At::Sync, "2009", text, DEPLOY_RES));
        assert_eq!(
            out.codes(),
            vec!["rootsync.knv2009.webhook-denied"],
            "{text}"
        );
        assert_eq!(out.verdict, Verdict::Resolved);
        let f = &out.findings[0];
        assert!(
            f.summary.contains("Deployment.apps shop/web"),
            "{}",
            f.summary
        );
        assert!(sugg(f, "clusters/prod/shop/web.yaml") || sugg(f, "webhook"));
        assert!(!out.has("rootsync.knv2009.forbidden"));
    }
    let out = run(&one(At::Sync, "2009", WEBHOOK, DEPLOY_RES));
    let f = &out.findings[0];
    assert!(f.summary.contains("validation.gatekeeper.sh"));
    assert!(f.evidence_contains("webhook reason: [require-resource-limits]"));
    assert!(sugg(f, "Change clusters/prod/shop/web.yaml"));
}

#[test]
fn knv2009_immutable_field() {
    let out = run(&one(At::Sync, "2009", IMMUTABLE, DEPLOY_RES));
    assert_eq!(out.codes(), vec!["rootsync.knv2009.immutable-field"]);
    let f = &out.findings[0];
    assert!(f.summary.contains("spec.selector"), "{}", f.summary);
    assert!(sugg(
        f,
        "Revert the change to spec.selector in clusters/prod/shop/web.yaml"
    ));
}

#[test]
fn knv2009_with_unmatched_text_is_unrecognised_and_inconclusive() {
    let psa = r#"failed to apply Pod, shop/debug: pods "debug" is forbidden: violates PodSecurity "restricted:latest": privileged (container "debug" must not set securityContext.privileged=true)"#;
    let out = run(&one(At::Sync, "2009", psa, ""));
    assert_eq!(out.codes(), vec!["rootsync.unrecognised-error"]);
    assert_eq!(out.verdict, Verdict::Inconclusive);
    assert!(out.findings[0].summary.contains("KNV2009"));
    assert!(
        out.findings[0]
            .summary
            .contains("failed to apply Pod, shop/debug")
    );
}

// ---------------------------------------------------------------- knv2013

#[test]
fn knv2013_is_not_knv2009_forbidden() {
    let out = run(&one(At::Sync, "2013", KNV2013, ""));
    assert_eq!(
        out.codes(),
        vec!["rootsync.knv2013.insufficient-permission"]
    );
    assert_eq!(out.verdict, Verdict::Resolved);
    let f = &out.findings[0];
    assert!(
        f.summary
            .contains("lacks the permission to get resourcegroups.kpt.dev"),
        "{}",
        f.summary
    );
    // And a KNV2009 forbidden is not KNV2013.
    let out = run(&one(At::Sync, "2009", FORBIDDEN, GATEWAY_RES));
    assert!(!out.has("rootsync.knv2013.insufficient-permission"));
}

// ---------------------------------------------------------------- other codes

#[test]
fn knv1021_crd_missing_from_source_errors() {
    let out = run(&one(At::Source, "1021", KNV1021, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv1021.crd-missing"]);
    let f = &out.findings[0];
    assert!(f.summary.contains("Rollout.argoproj.io"), "{}", f.summary);
    // The resource block of the message stands in for absent errorResources.
    assert!(
        f.evidence_contains("errorResources[0]: sourcePath clusters/prod/shop/rollout.yaml"),
        "{:#?}",
        f.evidence
    );
    assert!(f.evidence_contains("status.source.errors[0]"));
    assert!(
        !f.evidence_contains("source: clusters/prod"),
        "resource block not repeated as message"
    );
    assert!(sugg(f, "CustomResourceDefinition of Rollout.argoproj.io"));
}

#[test]
fn knv1067_field_mismatch() {
    let out = run(&one(At::Source, "1067", KNV1067, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv1067.field-mismatch"]);
    assert!(sugg(&out.findings[0], "In clusters/prod/shop/web.yaml"));
    assert!(out.findings[0].evidence_contains("memroy"));
}

#[test]
fn knv1068_missing_kustomization_in_rendering_errors() {
    let out = run(&one(At::Rendering, "1068", KNV1068_MISSING, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv1068.render-failed"]);
    let f = &out.findings[0];
    assert!(f.evidence_contains("status.rendering.errors[0]"));
    assert!(
        f.summary
            .contains("kustomization.yaml is missing from clusters/prod"),
        "{}",
        f.summary
    );
    assert!(sugg(f, "Add a kustomization.yaml to clusters/prod/"));
}

#[test]
fn knv2004_branch_and_auth() {
    let out = run(&one(At::Source, "2004", KNV2004_BRANCH, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv2004.source-unreachable"]);
    let f = &out.findings[0];
    assert!(f.summary.contains("branch or revision"), "{}", f.summary);
    assert!(sugg(f, "spec.git.branch"));
    assert!(f.evidence_contains("spec.git: repo https://github.com/acme/platform, branch main"));
    let out = run(&one(At::Source, "2004", KNV2004_AUTH, ""));
    let f = &out.findings[0];
    assert!(f.summary.contains("credentials"), "{}", f.summary);
    assert!(sugg(f, "Secret config-management-system/git-creds"));
}

#[test]
fn knv2004_names_the_rootsync_file_when_config_sync_manages_it() {
    let rs = one(At::Source, "2004", KNV2004_BRANCH, "").replace(
        "  generation: 2\n",
        "  generation: 2\n  annotations: {configmanagement.gke.io/source-path: bootstrap/root-sync.yaml}\n",
    );
    let out = run(&rs);
    assert!(
        sugg(
            &out.findings[0],
            "the RootSync manifest bootstrap/root-sync.yaml"
        ),
        "{:#?}",
        out.findings[0].suggestions
    );
}

#[test]
fn knv2005_fighting_is_a_warning_that_resolves() {
    let out = run(&one(At::Sync, "2005", KNV2005, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv2005.fighting"]);
    assert_eq!(out.findings[0].severity, skillbox_guest::Severity::Warning);
    assert_eq!(out.verdict, Verdict::Resolved);
    assert!(sugg(
        &out.findings[0],
        "client.lifecycle.config.k8s.io/mutation: ignore"
    ));
}

#[test]
fn knv2014_alone_is_healthy_info() {
    let out = run(&one(At::Sync, "2014", KNV2014, ""));
    assert_eq!(out.codes(), vec!["rootsync.knv2014.webhook-modified"]);
    assert_eq!(out.findings[0].severity, skillbox_guest::Severity::Info);
    assert_eq!(out.verdict, Verdict::Healthy);
}

#[test]
fn unknown_code_is_unrecognised() {
    let out = run(&one(At::Sync, "2002", KNV2002, ""));
    assert_eq!(out.codes(), vec!["rootsync.unrecognised-error"]);
    assert_eq!(out.verdict, Verdict::Inconclusive);
    assert!(out.findings[0].evidence_contains("KNV2002"));
    assert!(out.findings[0].evidence_contains("etcdserver: request timed out"));
}

#[test]
fn unrecognised_beside_a_catalogued_error_still_resolves() {
    let rs = rootsync_with(
        &[
            (At::Sync, err("2002", KNV2002, "", 4)),
            (At::Sync, err("2009", IMMUTABLE, DEPLOY_RES, 4)),
        ],
        "",
    );
    let out = run(&rs);
    assert_eq!(out.verdict, Verdict::Resolved);
    assert!(out.has("rootsync.unrecognised-error"));
    assert!(out.has("rootsync.knv2009.immutable-field"));
}

// ---------------------------------------------------------------- places, duplicates, several

#[test]
fn errors_in_each_of_the_four_places_are_found() {
    for (at, path) in [
        (At::Source, "status.source.errors[0]"),
        (At::Rendering, "status.rendering.errors[0]"),
        (At::Sync, "status.sync.errors[0]"),
        (At::Stalled, "status.conditions[Stalled].errors[0]"),
        (At::Reconciling, "status.conditions[Reconciling].errors[0]"),
    ] {
        let out = run(&one(at, "2004", KNV2004_BRANCH, ""));
        assert_eq!(
            out.codes(),
            vec!["rootsync.knv2004.source-unreachable"],
            "{path}"
        );
        assert!(
            out.findings[0].evidence_contains(path),
            "{path}: {:#?}",
            out.findings[0].evidence
        );
    }
}

#[test]
fn stalled_message_without_errors_is_read() {
    let rs = rootsync_with(&[], "").replace(
        "  - {type: Stalled, status: \"False\"}\n",
        "  - type: Stalled\n    status: \"True\"\n    reason: Validation\n    message: \"KNV1061: RootSyncs must specify spec.git.auth when spec.sourceType is git\"\n",
    );
    let out = run(&rs);
    assert_eq!(out.codes(), vec!["rootsync.unrecognised-error"]);
    assert_eq!(out.verdict, Verdict::Inconclusive);
    assert!(out.findings[0].evidence_contains("status.conditions[Stalled].message"));
    assert!(out.findings[0].summary.contains("KNV1061"));
}

#[test]
fn the_same_error_in_several_places_is_one_finding() {
    let rs = rootsync_with(
        &[
            (At::Sync, err("2009", FORBIDDEN, GATEWAY_RES, 4)),
            (At::Stalled, err("2009", FORBIDDEN, "", 4)),
        ],
        "",
    );
    let out = run(&rs);
    assert_eq!(out.codes(), vec!["rootsync.knv2009.forbidden"]);
    let f = &out.findings[0];
    assert!(
        f.evidence_contains(
            "status.sync.errors[0] (commit a6727aab1eca); status.conditions[Stalled].errors[0]"
        ),
        "{:#?}",
        f.evidence
    );
}

#[test]
fn several_errors_give_several_findings() {
    let second = FORBIDDEN
        .replace("bookinfo-gateway", "public-gateway")
        .replace(
            "clusters/prod/bookinfo/gateway.yaml",
            "clusters/prod/bookinfo/public.yaml",
        );
    let rs = rootsync_with(
        &[
            (At::Source, err("1021", KNV1021, "", 4)),
            (At::Sync, err("2009", FORBIDDEN, GATEWAY_RES, 4)),
            (At::Sync, err("2009", &second, "", 4)),
            (At::Sync, err("2009", WEBHOOK, DEPLOY_RES, 4)),
            (At::Sync, err("2005", KNV2005, "", 4)),
        ],
        "",
    );
    let out = run(&rs);
    assert_eq!(
        out.codes(),
        vec![
            "rootsync.knv1021.crd-missing",
            "rootsync.knv2009.forbidden",
            "rootsync.knv2009.forbidden",
            "rootsync.knv2009.webhook-denied",
            "rootsync.knv2005.fighting",
        ]
    );
    assert_eq!(out.verdict, Verdict::Resolved);
    let forb: Vec<&Finding> = out
        .findings
        .iter()
        .filter(|f| f.code == "rootsync.knv2009.forbidden")
        .collect();
    assert!(
        forb[1].summary.contains("public-gateway"),
        "{}",
        forb[1].summary
    );
}

#[test]
fn many_errors_stay_within_bounds() {
    let errs: Vec<(At, String)> = (0..70)
        .map(|i| {
            (
                At::Sync,
                err(
                    "2009",
                    &FORBIDDEN.replace("bookinfo-gateway", &format!("gw-{i}")),
                    "",
                    4,
                ),
            )
        })
        .collect();
    let out = run(&rootsync_with(&errs, ""));
    assert_eq!(out.findings.len(), 50);
    assert!(
        out.findings
            .last()
            .unwrap()
            .evidence_contains("20 more findings not listed")
    );
}

#[test]
fn truncated_error_summary_is_noted() {
    let rs = one(At::Sync, "2009", IMMUTABLE, DEPLOY_RES).replace(
        "errorSummary: {totalCount: 1, errorCountAfterTruncation: 1}\n    errors:\n",
        "errorSummary: {totalCount: 412, truncated: true, errorCountAfterTruncation: 1}\n    errors:\n",
    );
    let out = run(&rs);
    assert!(out.findings[0].evidence_contains("truncated = true, totalCount = 412"));
}

#[test]
fn counted_but_unlisted_errors_are_unrecognised() {
    let rs =
        rootsync_with(&[], "").replace("  sync:\n", "  sync:\n    errorSummary: {totalCount: 3}\n");
    let out = run(&rs);
    assert_eq!(out.codes(), vec!["rootsync.unrecognised-error"]);
    assert_eq!(out.verdict, Verdict::Inconclusive);
    assert!(out.findings[0].evidence_contains("status.sync.errorSummary.totalCount = 3"));
}

// ---------------------------------------------------------------- healthy, pending, no status

#[test]
fn healthy_rootsync_has_no_findings() {
    let rs = rootsync_with(&[], "");
    let (out, calls) = run_fixture(Fixture::from_yaml(&rs).unwrap(), "root-sync");
    assert_eq!(out.verdict, Verdict::Healthy);
    assert!(out.findings.is_empty(), "{:#?}", out.findings);
    assert_eq!(
        calls,
        vec!["get RootSync.configsync.gke.io config-management-system/root-sync"]
    );
}

#[test]
fn pending_sync_is_healthy_with_info() {
    let rs = rootsync_with(&[], "")
        .replace(
            "    status: \"False\"\n    reason: Sync\n    message: Sync Completed",
            "    status: \"True\"\n    reason: Sync\n    message: Syncing",
        )
        .replace(
            &format!("lastSyncedCommit: {COMMIT}"),
            &format!("lastSyncedCommit: {OLD}"),
        );
    let out = run(&rs);
    assert_eq!(out.verdict, Verdict::Healthy);
    assert_eq!(out.codes(), vec!["rootsync.sync-pending"]);
    assert!(out.findings[0].evidence_contains("a sync is in progress"));
}

#[test]
fn missing_status_is_inconclusive() {
    let rs = format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata: {{name: root-sync, namespace: {NS}, generation: 1}}\nspec:\n  git: {{repo: https://github.com/acme/platform, branch: main, dir: clusters/prod, auth: none}}\n"
    );
    let out = run(&rs);
    assert_eq!(out.verdict, Verdict::Inconclusive);
    assert_eq!(out.codes(), vec!["rootsync.no-status"]);
    assert!(out.findings[0].evidence_contains("spec.git: repo https://github.com/acme/platform"));
}

#[test]
fn malformed_status_fields_do_not_panic() {
    let rs = format!(
        "apiVersion: configsync.gke.io/v1beta1\nkind: RootSync\nmetadata: {{name: root-sync, namespace: {NS}}}\nspec: 7\nstatus:\n  source: {{errors: [1, \"x\", {{code: 2009}}, {{errorMessage: 5}}], commit: 3}}\n  sync: {{errors: {{}}}}\n  conditions: [1, {{type: Stalled, status: \"True\"}}, {{type: Reconciling, errors: [null]}}]\n"
    );
    let out = run(&rs);
    assert_eq!(out.verdict, Verdict::Inconclusive);
}

#[test]
fn target_that_does_not_exist_is_an_error() {
    let f = Fixture::from_yaml(&rootsync_with(&[], "")).unwrap();
    assert!(
        f.investigate::<RootSyncInvestigation>("RootSync", Some(NS), "other")
            .is_err()
    );
    assert!(
        f.investigate::<RootSyncInvestigation>("RepoSync", Some(NS), "root-sync")
            .is_err()
    );
}

// ---------------------------------------------------------------- snapshot files and noise

/// A scratch snapshot folder under the target dir, removed afterwards.
fn scratch(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../target/rootsync-tests")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for (f, text) in files {
        std::fs::write(dir.join(f), text).unwrap();
    }
    dir
}

#[test]
fn list_files_json_files_and_noise_objects() {
    let failing = one(At::Sync, "2009", FORBIDDEN, GATEWAY_RES);
    let item: String = failing.lines().map(|l| format!("  {l}\n")).collect();
    let list = format!(
        "apiVersion: v1\nkind: List\nmetadata: {{resourceVersion: \"\"}}\nitems:\n-{}",
        &item[1..]
    );
    // Noise: a failing RootSync of the same name in another namespace, a failing RepoSync with
    // the target's name, both must be ignored; the target itself is healthy and in a .json file.
    let noise_rs = failing.replace(&format!("namespace: {NS}"), "namespace: team-a");
    let noise_repo = failing.replace("kind: RootSync", "kind: RepoSync");
    let healthy = rootsync_with(&[], "");
    let healthy_json = {
        let f = Fixture::from_yaml(&healthy).unwrap();
        f.objects()[0].value().to_string()
    };
    let dir = scratch(
        "noise",
        &[
            ("noise.yaml", &format!("{noise_rs}---\n{noise_repo}")),
            ("rootsyncs.json", &healthy_json),
        ],
    );
    let (out, _) = run_fixture(Fixture::from_snapshot_dir(&dir).unwrap(), "root-sync");
    assert_eq!(out.verdict, Verdict::Healthy, "{:#?}", out.findings);
    assert!(out.findings.is_empty());
    // The failing one, as a `kind: List` file, next to the same noise.
    let dir2 = scratch(
        "list",
        &[
            ("noise.yaml", &format!("{noise_rs}---\n{noise_repo}")),
            ("rootsyncs.yaml", &list),
        ],
    );
    let (out, _) = run_fixture(Fixture::from_snapshot_dir(&dir2).unwrap(), "root-sync");
    assert_eq!(out.codes(), vec!["rootsync.knv2009.forbidden"]);
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir2);
}

// ---------------------------------------------------------------- detect

fn obj(yaml: &str) -> Object {
    Fixture::from_yaml(yaml).unwrap().objects()[0].clone()
}

#[test]
fn detect_is_cheap_and_right() {
    assert!(RootSyncInvestigation::detect(&obj(&one(
        At::Sync,
        "2009",
        FORBIDDEN,
        ""
    ))));
    assert!(RootSyncInvestigation::detect(&obj(&one(
        At::Rendering,
        "1068",
        KNV1068_MISSING,
        ""
    ))));
    assert!(RootSyncInvestigation::detect(&obj(&one(
        At::Reconciling,
        "2004",
        KNV2004_AUTH,
        ""
    ))));
    assert!(!RootSyncInvestigation::detect(&obj(&rootsync_with(
        &[],
        ""
    ))));
    let stalled = rootsync_with(&[], "").replace(
        "  - {type: Stalled, status: \"False\"}\n",
        "  - {type: Stalled, status: \"True\", message: boom}\n",
    );
    assert!(RootSyncInvestigation::detect(&obj(&stalled)));
    let repo = one(At::Sync, "2009", FORBIDDEN, "").replace("kind: RootSync", "kind: RepoSync");
    assert!(!RootSyncInvestigation::detect(&obj(&repo)));
}

#[test]
fn manifest_matches_skill_yaml() {
    let m = RootSyncInvestigation::describe();
    let yaml = include_str!("../skill.yaml");
    assert_eq!(m.name, "rootsync-investigation");
    assert_eq!(m.code_prefix, "rootsync.");
    assert!(yaml.contains("tools: [get-object]"));
    assert!(yaml.contains(crate::ROOTSYNC) && yaml.contains(crate::rbac::CLUSTER_ROLE));
    let md = include_str!("../SKILL.md");
    assert!(md.starts_with("---\nname: rootsync-investigation\ndescription: "));
    for code in [
        "rootsync.knv1021.crd-missing",
        "rootsync.knv1067.field-mismatch",
        "rootsync.knv1068.render-failed",
        "rootsync.knv2004.source-unreachable",
        "rootsync.knv2009.forbidden",
        "rootsync.knv2009.webhook-denied",
        "rootsync.knv2009.immutable-field",
        "rootsync.knv2013.insufficient-permission",
        "rootsync.knv2005.fighting",
        "rootsync.knv2014.webhook-modified",
        "rootsync.unrecognised-error",
        crate::NO_STATUS,
        crate::SYNC_PENDING,
    ] {
        assert!(md.contains(code), "SKILL.md does not document {code}");
    }
}

// ---------------------------------------------------------------- scenarios

fn corpus_dir(rel: &str) -> Option<PathBuf> {
    let d = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(rel);
    if d.is_dir() {
        Some(d)
    } else {
        eprintln!(
            "NOTE: {} is absent; skipping its scenario tests",
            d.display()
        );
        None
    }
}

/// Runs one scenario folder against its scenario.yaml (target, verdict, codes, forbid).
fn check_scenario(dir: &std::path::Path) -> Outcome {
    let name = dir.display().to_string();
    let sc = Scenario::load(dir).unwrap_or_else(|e| panic!("{name}: {e}"));
    assert_eq!(sc.kind, "RootSync", "{name}");
    assert_eq!(sc.namespace.as_deref(), Some(NS), "{name}");
    let f = sc.fixture().unwrap_or_else(|e| panic!("{name}: {e}"));
    let (out, calls) = run_fixture(f, &sc.name);
    sc.assert_met(&out);
    assert!(calls.len() <= 2, "{name}: {calls:?}");
    out
}

#[test]
fn public_scenarios() {
    let Some(d) = corpus_dir("../../../shared/scenarios") else {
        return;
    };
    let out = check_scenario(&d.join("rootsync-knv2009-forbidden"));
    let f = out.expect_finding("rootsync.knv2009.forbidden");
    assert!(
        f.evidence_contains("verbs [get, list, watch], not patch"),
        "{:#?}",
        f.evidence
    );
    assert!(sugg(f, "ClusterRole bookinfo-reconciler"));
    let out = check_scenario(&d.join("rootsync-knv1068-render-failed"));
    let f = out.expect_finding("rootsync.knv1068.render-failed");
    assert!(f.summary.contains("overlays/prod"), "{}", f.summary);
    assert!(
        sugg(
            f,
            "In overlays/prod/kustomization.yaml, remove the entry reviews-v4.yaml"
        ),
        "{:#?}",
        f.suggestions
    );
    let out = check_scenario(&d.join("rootsync-unrecognised-error"));
    assert!(
        out.expect_finding("rootsync.unrecognised-error")
            .summary
            .contains("KNV2002")
    );
}

#[test]
fn own_scenarios() {
    let Some(d) = corpus_dir("../../tests/scenarios") else {
        return;
    };
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&d)
        .unwrap()
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("rootsync-"))
        })
        .collect();
    dirs.sort();
    for dir in &dirs {
        check_scenario(dir);
    }
    eprintln!("checked {} own rootsync scenarios", dirs.len());
}
