//! Attack: spin forever to burn the host's CPU. Stopped by fuel (the skill's `fuel` limit) or,
//! with fuel to spare, by the wall-clock deadline (epoch interruption).

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[allow(unused_imports)]
use skillbox_guest::{Finding, Manifest, Object, ObjectRef, Outcome, Skill, tools};

struct FuelBomb;

impl Skill for FuelBomb {
    fn describe() -> Manifest {
        Manifest::new("fuel-bomb", "0.1.0", "probe.")
            .target_kinds(["Pod"])
            .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        let _ = target;
        let mut x: u64 = 0;
        loop {
            x = std::hint::black_box(x.wrapping_mul(6364136223846793005).wrapping_add(1));
        }
    }
}

skillbox_guest::export_skill!(FuelBomb);
