//! The fuzz harness's guest, not an attack by itself: it returns, verbatim, the outcome that the
//! target ConfigMap's `data.outcome` holds as JSON (the SDK's `Outcome` shape). The fuzzer
//! writes arbitrary outcomes there, so they cross the real component boundary (lifted by the
//! host from guest memory) before the host's output checks see them.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Manifest, ObjectRef, Outcome, Skill, tools};

struct OutcomeEcho;

impl Skill for OutcomeEcho {
    fn describe() -> Manifest {
        Manifest::new("outcome-echo", "0.1.0", "probe.")
            .target_kinds(["ConfigMap"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let cm = tools::get_object("ConfigMap", target.namespace.as_deref(), &target.name)
            .map_err(|e| e.to_string())?;
        let text = cm
            .value()
            .pointer("/data/outcome")
            .and_then(|v| v.as_str())
            .ok_or("the ConfigMap has no data.outcome")?;
        serde_json::from_str(text).map_err(|e| format!("data.outcome is not an outcome: {e}"))
    }
}

skillbox_guest::export_skill!(OutcomeEcho);
