//! The checked-in CRDs in `deploy/crds/` are exactly what the types generate: change a type,
//! run `cargo run -p skillbox-crds --bin crdgen`, commit both.

use std::path::Path;

#[test]
fn checked_in_crds_match_the_types() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/crds");
    let mut expected: Vec<String> = Vec::new();
    for (file, yaml) in skillbox_crds::crd_files() {
        let path = dir.join(&file);
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == yaml,
            "{} differs from the types (or is missing): run `cargo run -p skillbox-crds --bin crdgen`",
            path.display()
        );
        expected.push(file);
    }
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".yaml"))
        .collect();
    present.sort();
    expected.sort();
    assert_eq!(
        present, expected,
        "deploy/crds holds a CRD the types no longer generate"
    );
}

#[test]
fn crds_have_the_contracted_names_scopes_and_columns() {
    let crds = skillbox_crds::crds();
    let by_kind = |k: &str| crds.iter().find(|c| c.spec.names.kind == k).unwrap();
    let columns = |k: &str| -> Vec<String> {
        by_kind(k).spec.versions[0]
            .additional_printer_columns
            .iter()
            .flatten()
            .filter(|c| c.priority.unwrap_or(0) == 0)
            .map(|c| c.name.to_uppercase())
            .collect()
    };
    assert_eq!(by_kind("Investigation").spec.scope, "Namespaced");
    assert_eq!(by_kind("Skill").spec.scope, "Cluster");
    assert_eq!(by_kind("ModelProvider").spec.scope, "Cluster");
    assert_eq!(
        by_kind("Investigation").spec.names.short_names,
        Some(vec!["inv".into()])
    );
    assert_eq!(
        by_kind("Skill").spec.names.short_names,
        Some(vec!["sk".into()])
    );
    assert_eq!(
        by_kind("ModelProvider").spec.names.short_names,
        Some(vec!["mp".into()])
    );
    assert_eq!(
        columns("Investigation"),
        ["TARGET", "VERDICT", "LLM", "AGE"]
    );
    assert_eq!(columns("Skill"), ["TOOLS", "READY", "AGE"]);
    for c in &crds {
        let v = &c.spec.versions[0];
        assert!(
            v.subresources
                .as_ref()
                .and_then(|s| s.status.as_ref())
                .is_some(),
            "{} has /status",
            c.spec.names.kind
        );
    }
}

/// The CEL rules, evaluated client-side with kube's CEL implementation (the Kubernetes
/// libraries included), on objects the API server must accept and refuse.
#[test]
fn cel_rules_accept_good_objects_and_refuse_bad_ones() {
    use serde_json::{Value, json};
    let schema = |kind: &str| -> Value {
        let crd = skillbox_crds::crds()
            .into_iter()
            .find(|c| c.spec.names.kind == kind)
            .unwrap();
        serde_json::to_value(
            crd.spec.versions[0]
                .schema
                .as_ref()
                .unwrap()
                .open_api_v3_schema
                .as_ref()
                .unwrap(),
        )
        .unwrap()
    };
    let validate = |kind: &str, obj: &Value, old: Option<&Value>| -> Result<(), String> {
        kube::core::cel::Validator::new()
            .validate(&schema(kind), obj, old)
            .map_err(|e| format!("{e:?}"))
    };
    let skill = |module: Value, kinds: Value, targets: Value| {
        json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "Skill", "metadata": {"name": "s"},
               "spec": {"codePrefix": "demo.", "module": module,
                        "grants": {"tools": ["get-object"], "resources": [{"kinds": kinds}]},
                        "targets": targets}})
    };
    let sha = "a".repeat(64);
    let good = skill(
        json!({"builtin": "workload-health"}),
        json!(["Pod"]),
        json!([{"kind": "Pod"}]),
    );
    validate("Skill", &good, None).unwrap();
    let url_ok = skill(
        json!({"url": "https://x/s.wasm", "sha256": sha}),
        json!(["*"]),
        json!([{"kind": "Pod"}]),
    );
    validate("Skill", &url_ok, None).unwrap();
    for (bad, message) in [
        (
            skill(
                json!({"builtin": "a", "url": "https://x", "sha256": sha}),
                json!(["Pod"]),
                json!([{"kind": "Pod"}]),
            ),
            "exactly one of builtin",
        ),
        (
            skill(json!({}), json!(["Pod"]), json!([{"kind": "Pod"}])),
            "exactly one of builtin",
        ),
        (
            skill(
                json!({"url": "https://x"}),
                json!(["Pod"]),
                json!([{"kind": "Pod"}]),
            ),
            "sha256 is required",
        ),
        (
            skill(
                json!({"url": "https://x", "sha256": "ABC"}),
                json!(["Pod"]),
                json!([{"kind": "Pod"}]),
            ),
            "64 lowercase hex",
        ),
        (
            skill(
                json!({"builtin": "a"}),
                json!(["Pod", "Secret"]),
                json!([{"kind": "Pod"}]),
            ),
            "Secrets are never granted",
        ),
        (
            skill(
                json!({"builtin": "a"}),
                json!(["v1/secrets"]),
                json!([{"kind": "Pod"}]),
            ),
            "Secrets are never granted",
        ),
        (
            skill(
                json!({"builtin": "a"}),
                json!(["secrets."]),
                json!([{"kind": "Pod"}]),
            ),
            "Secrets are never granted",
        ),
        (
            skill(
                json!({"builtin": "a"}),
                json!(["Pod"]),
                json!([{"kind": "Secret"}]),
            ),
            "Secrets are never investigated",
        ),
    ] {
        let err = validate("Skill", &bad, None).expect_err(&bad.to_string());
        assert!(err.contains(message), "{err} should say {message:?}");
    }
    let mut bad_prefix = good.clone();
    bad_prefix["spec"]["codePrefix"] = json!("Demo");
    assert!(
        validate("Skill", &bad_prefix, None)
            .unwrap_err()
            .contains("codePrefix")
    );

    let inv = |name: &str| {
        json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "Investigation",
        "metadata": {"name": "i", "namespace": "d"}, "spec": {"target": {"kind": "Pod", "name": name}}})
    };
    validate("Investigation", &inv("a"), None).unwrap();
    validate("Investigation", &inv("a"), Some(&inv("a"))).unwrap();
    let err = validate("Investigation", &inv("b"), Some(&inv("a"))).unwrap_err();
    assert!(err.contains("spec.target is immutable"), "{err}");

    let mp = |spec: Value| json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider", "metadata": {"name": "m"}, "spec": spec});
    validate(
        "ModelProvider",
        &mp(json!({"type": "anthropic", "model": "claude"})),
        None,
    )
    .unwrap();
    validate(
        "ModelProvider",
        &mp(json!({"type": "ollama", "model": "q", "managed": true})),
        None,
    )
    .unwrap();
    assert!(
        validate(
            "ModelProvider",
            &mp(json!({"type": "openai", "model": "g", "managed": true})),
            None
        )
        .unwrap_err()
        .contains("only supported for type ollama")
    );
    assert!(
        validate(
            "ModelProvider",
            &mp(json!({"type": "ollama", "model": "q"})),
            None
        )
        .unwrap_err()
        .contains("endpoint is required")
    );
    assert!(
        validate(
            "ModelProvider",
            &mp(json!({"type": "ollama", "model": "q", "endpoint": "ftp://x"})),
            None
        )
        .unwrap_err()
        .contains("http://")
    );
}
