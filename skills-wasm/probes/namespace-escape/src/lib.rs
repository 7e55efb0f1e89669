//! Attack: read outside the granted namespace (`default`) with every tool: other namespaces by
//! name and by spelling tricks, lists across all namespaces, events and logs of objects
//! elsewhere, a cluster-scoped kind. Stopped at call time: the resource policy checks the
//! namespace of every call, and an all-namespaces list is narrowed to the granted ones. Each
//! attempt's answer is reported as evidence.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Finding, Manifest, ObjectRef, Outcome, Skill, tools};

const ELSEWHERE: &[&str] = &[
    "kube-system",
    "skillbox-system",
    "KUBE-SYSTEM",
    "default/../kube-system",
    "default ",
    "*",
    "",
    "kube-system\u{0}",
];

struct NamespaceEscape;

fn note(out: &mut Vec<String>, what: String, answer: String) {
    out.push(format!("{what} -> {answer}"));
}

/// Each attempt's answer as an evidence line (`what -> answer`), twenty to a finding (the
/// report's bound), so a test can check that none leaked.
fn findings(target: &ObjectRef, attempts: Vec<String>) -> Vec<Finding> {
    attempts
        .chunks(20)
        .enumerate()
        .map(|(i, lines)| {
            let f = Finding::info("probe.attempts", format!("attempts {}..", i * 20))
                .resource(target.clone());
            lines.iter().fold(f, |f, l| f.evidence(l.clone()))
        })
        .collect()
}

impl Skill for NamespaceEscape {
    fn describe() -> Manifest {
        Manifest::new("namespace-escape", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object", "list-objects", "list-events", "read-logs"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let mut out = Vec::new();
        for ns in ELSEWHERE {
            for kind in ["Pod", "ConfigMap"] {
                let r = match tools::get_object(kind, Some(ns), "canary-workload") {
                    Ok(o) => format!("LEAK {}", o.value()),
                    Err(e) => e.to_string(),
                };
                note(&mut out, format!("get-object {kind} in {ns:?}"), r);
                let r = match tools::list_objects(kind, Some(ns), "") {
                    Ok(v) if v.is_empty() => "empty".to_string(),
                    Ok(v) => format!("LEAK {} objects", v.len()),
                    Err(e) => e.to_string(),
                };
                note(&mut out, format!("list-objects {kind} in {ns:?}"), r);
            }
            let elsewhere = ObjectRef::namespaced("v1", "Pod", *ns, "canary-workload");
            let r = match tools::list_events(&elsewhere) {
                Ok(v) if v.is_empty() => "empty".to_string(),
                Ok(v) => format!("LEAK {} events", v.len()),
                Err(e) => e.to_string(),
            };
            note(&mut out, format!("list-events of a Pod in {ns:?}"), r);
            let r = match tools::read_logs(ns, "canary-workload", "app", 100) {
                Ok(l) => format!("LEAK {} bytes", l.len()),
                Err(e) => e.to_string(),
            };
            note(&mut out, format!("read-logs in {ns:?}"), r);
        }
        // All namespaces: only what the grant covers may come back.
        for kind in ["Pod", "ConfigMap", "Event"] {
            let r = match tools::list_objects(kind, None, "") {
                Ok(v) => {
                    let outside = v
                        .iter()
                        .filter(|o| o.namespace() != Some("default"))
                        .count();
                    if outside == 0 {
                        format!("{} objects, all in default", v.len())
                    } else {
                        format!("LEAK {outside} objects outside default")
                    }
                }
                Err(e) => e.to_string(),
            };
            note(&mut out, format!("list-objects {kind} everywhere"), r);
        }
        let r = match tools::get_object("Namespace", None, "kube-system") {
            Ok(o) => format!("LEAK {}", o.value()),
            Err(e) => e.to_string(),
        };
        note(&mut out, "get-object Namespace kube-system".into(), r);
        Ok(Outcome::from_findings(findings(target, out)))
    }
}

skillbox_guest::export_skill!(NamespaceEscape);
