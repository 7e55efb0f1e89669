//! Attack: recurse without bound to overflow the host's stack. Stopped as a stack overflow:
//! a Rust guest's frames live in its own linear memory (and wasmtime caps its native stack).

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct DeepRecursion;

/// Recursion with a live frame the optimiser cannot turn into a loop.
#[allow(unconditional_recursion)]
fn recurse(n: u64) -> u64 {
    let frame = [n; 32];
    std::hint::black_box(&frame);
    let below = recurse(std::hint::black_box(n + 1));
    std::hint::black_box(below ^ frame[31])
}

impl Skill for DeepRecursion {
    fn describe() -> Manifest {
        Manifest::new("deep-recursion", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let _ = target;
        Ok(Outcome::from_findings(vec![Finding::info(
            "probe.never",
            recurse(0).to_string(),
        )]))
    }
}

skillbox_guest::export_skill!(DeepRecursion);
