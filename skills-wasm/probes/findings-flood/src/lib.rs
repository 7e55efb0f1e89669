//! Attack: bury the report (and the host) in a hundred thousand findings, well-formed ones
//! about the target and ones with foreign codes. Stopped by the output checks: a report keeps
//! at most its findings cap, and what was dropped is counted in a bounded list, not listed.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct FindingsFlood;

impl Skill for FindingsFlood {
    fn describe() -> Manifest {
        Manifest::new("findings-flood", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let mut out = Vec::with_capacity(100_000);
        for i in 0..100_000u32 {
            let code = if i % 2 == 0 {
                format!("probe.flood-{i}")
            } else {
                format!("other.flood-{i}")
            };
            out.push(Finding::error(code, format!("finding {i}")).resource(target.clone()));
        }
        Ok(Outcome::from_findings(out))
    }
}

skillbox_guest::export_skill!(FindingsFlood);
