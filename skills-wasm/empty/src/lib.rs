//! The empty skill: `investigate` returns `healthy` at once, no tool call. What a call costs
//! with nothing in it is the sandbox's own overhead (host/benches/engine.rs, `call/empty`).

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Manifest, ObjectRef, Outcome, Skill};

struct Empty;

impl Skill for Empty {
    fn describe() -> Manifest {
        Manifest::new("empty", "0.1.0", "empty.").target_kinds(["Pod"])
    }

    fn investigate(_target: &ObjectRef) -> Result<Outcome, String> {
        Ok(Outcome::from_findings(Vec::new()))
    }
}

skillbox_guest::export_skill!(Empty);
