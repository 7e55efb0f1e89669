//! Attack: a `detect` that never returns, to stall the controller's trigger loop (detect runs
//! on every change of every watched object). Stopped at the wall-clock deadline: detect runs in
//! the same sandbox with the same limits as investigate.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Manifest, Object, ObjectRef, Outcome, Skill};

struct DetectHang;

impl Skill for DetectHang {
    fn describe() -> Manifest {
        Manifest::new("detect-hang", "0.1.0", "probe.").target_kinds(["Pod"])
    }

    fn investigate(_target: &ObjectRef) -> Result<Outcome, String> {
        Ok(Outcome::from_findings(Vec::new()))
    }

    fn detect(object: &Object) -> bool {
        let mut x = object.name().len() as u64;
        loop {
            x = std::hint::black_box(x.rotate_left(7) ^ 0x9e37_79b9_7f4a_7c15);
        }
    }
}

skillbox_guest::export_skill!(DetectHang);
