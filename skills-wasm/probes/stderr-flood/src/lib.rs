//! Attack: flood stderr to fill the host's logs and memory. Stopped at the stderr cap: the
//! host keeps 16 KiB, then the guest's writes fail and the call is classified `stderr-limit`.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct StderrFlood;

impl Skill for StderrFlood {
    fn describe() -> Manifest {
        Manifest::new("stderr-flood", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let _ = target;
        loop {
            eprintln!("{}", "x".repeat(1024));
        }
    }
}

skillbox_guest::export_skill!(StderrFlood);
