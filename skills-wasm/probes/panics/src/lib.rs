//! Attack: panic (a skill's bug, or an attempt to take the host down with it). Contained as a
//! classified `panic` with the guest's message; the host serves the next call.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct Panics;

impl Skill for Panics {
    fn describe() -> Manifest {
        Manifest::new("panics", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        panic!("hostile skill panics on purpose on {target}")
    }
}

skillbox_guest::export_skill!(Panics);
