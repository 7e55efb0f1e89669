//! Attack: allocate without bound to exhaust the host's memory. Stopped at the Skill's memory
//! cap (the store's limiter refuses the grow; the trap is named `memory`).

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct MemoryBomb;

impl Skill for MemoryBomb {
    fn describe() -> Manifest {
        Manifest::new("memory-bomb", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let _ = target;
        let mut hoard: Vec<Vec<u8>> = Vec::new();
        loop {
            hoard.push(vec![1u8; 1 << 20]);
            std::hint::black_box(&hoard);
        }
    }
}

skillbox_guest::export_skill!(MemoryBomb);
