//! Attack: call tools without end to load the API server. Stopped by the tool budget: past
//! `maxToolCalls` the host answers budget-exhausted, and after a short grace it traps.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct ToolCallFlood;

impl Skill for ToolCallFlood {
    fn describe() -> Manifest {
        Manifest::new("tool-call-flood", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let ns = target.namespace.as_deref();
        loop {
            let _ = std::hint::black_box(tools::get_object("Pod", ns, &target.name));
        }
    }
}

skillbox_guest::export_skill!(ToolCallFlood);
