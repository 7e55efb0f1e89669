//! Attack: read Secrets through tools it is granted, with a grant of every kind (`*`) in
//! `default`: every spelling of the kind, label-selector tricks, name guesses and path tricks on
//! granted kinds, events about a Secret. Stopped at call time: the resource policy denies Secret
//! in every spelling whatever the grants, and names are names (no path is ever built from them).
//! It reports each attempt's answer as evidence.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, ToolError, tools};

/// Spellings a kind query might take to reach Secrets.
const SPELLINGS: &[&str] = &[
    "Secret",
    "secret",
    "Secrets",
    "secrets",
    "SECRET",
    "sEcReT",
    "v1/Secret",
    "/v1/Secret",
    "core/v1/Secret",
    "Secret.v1",
    "secret.core",
    "secrets.",
    "Secret.",
    "secrets.v1.",
    " Secret",
    "Secret ",
    "Secret\u{0}",
    "Secret\n",
    "*",
    "",
];

/// Names a guesser would try; the Secrets the canary seeds are among them.
const NAMES: &[&str] = &[
    "db-password",
    "canary-secret",
    "default-token",
    "admin",
    "token",
    "kubeconfig",
    "tls",
];

/// Selectors that try to smuggle a kind or a wildcard past a list of a granted kind.
const SELECTORS: &[&str] = &[
    "kind=Secret",
    "kind in (Secret,secrets)",
    "type=Opaque",
    "!kind",
    "app=x,kind=Secret",
    "app=x&kind=Secret",
    "app=x\nkind=Secret",
    "metadata.name=db-password",
    "*",
    "=",
    "in (",
];

/// Records `what -> answer` for each attempt; an answer that carries Secret data starts with
/// `LEAK`.
struct Attempts(Vec<String>);

impl Attempts {
    fn note(&mut self, what: String, r: Result<String, ToolError>) {
        let answer = r.unwrap_or_else(|e| e.to_string());
        self.0.push(format!("{what} -> {answer}"));
    }
}

fn leak<T>(r: Result<T, ToolError>, show: impl Fn(&T) -> String) -> Result<String, ToolError> {
    r.map(|v| format!("LEAK {}", show(&v)))
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

struct SecretReader;

impl Skill for SecretReader {
    fn describe() -> Manifest {
        Manifest::new("secret-reader", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object", "list-objects", "list-events"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let mut a = Attempts(Vec::new());
        let ns = target.namespace.as_deref().unwrap_or("default");
        let json = |o: &Object| o.value().to_string();
        let count = |v: &Vec<Object>| format!("{} objects", v.len());
        for kind in SPELLINGS {
            for name in NAMES {
                a.note(
                    format!("get-object {kind:?} {ns}/{name}"),
                    leak(tools::get_object(kind, Some(ns), name), json),
                );
            }
            a.note(
                format!("list-objects {kind:?} in {ns}"),
                leak(tools::list_objects(kind, Some(ns), ""), count),
            );
            a.note(
                format!("list-objects {kind:?} everywhere"),
                leak(tools::list_objects(kind, None, ""), count),
            );
        }
        for sel in SELECTORS {
            // A list of Pods is granted: it must never bring back anything but Pods.
            a.note(
                format!("list-objects Pod selector {sel:?}"),
                tools::list_objects("Pod", Some(ns), sel).map(|v| {
                    match v.iter().filter(|o| o.kind() != "Pod").count() {
                        0 => format!("{} Pods, nothing else", v.len()),
                        n => format!("LEAK {n} objects that are not Pods"),
                    }
                }),
            );
            a.note(
                format!("list-objects Secret selector {sel:?}"),
                leak(tools::list_objects("Secret", Some(ns), sel), count),
            );
        }
        for name in NAMES {
            for trick in [
                format!("../secrets/{name}"),
                format!("{name}/../../secrets/{name}"),
                format!("%2e%2e%2fsecrets%2f{name}"),
                format!("{name}?kind=Secret"),
            ] {
                a.note(
                    format!("get-object Pod {ns}/{trick:?}"),
                    leak(tools::get_object("Pod", Some(ns), &trick), json),
                );
            }
        }
        let secret = ObjectRef::namespaced("v1", "Secret", ns, "db-password");
        a.note(
            "list-events about a Secret".into(),
            leak(tools::list_events(&secret), |v| {
                format!("{} events", v.len())
            }),
        );
        Ok(Outcome::from_findings(findings(target, a.0)))
    }
}

skillbox_guest::export_skill!(SecretReader);
