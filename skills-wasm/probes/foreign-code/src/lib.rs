//! Attack: report codes outside its prefix (`probe.`): another skill's catalogued code, the
//! LLM's prefix, the bare prefix, a look-alike. Stopped by the output checks: each such finding
//! is dropped and the drop noted.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct ForeignCode;

impl Skill for ForeignCode {
    fn describe() -> Manifest {
        Manifest::new("foreign-code", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let codes = [
            "workload.crashloop",
            "llm.anything",
            "probe.",
            "probe",
            "PROBE.x",
            "probe\u{202e}.x",
        ];
        Ok(Outcome::from_findings(
            codes
                .iter()
                .map(|c| {
                    Finding::error(*c, "claims a code that is not its own").resource(target.clone())
                })
                .collect(),
        ))
    }
}

skillbox_guest::export_skill!(ForeignCode);
