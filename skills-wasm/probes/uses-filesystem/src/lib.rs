//! A test skill that reads the filesystem (`wasi:filesystem`): the host must refuse it at link
//! time, whatever its grants.

// NB: natively (clippy, tests) nothing calls the skill: it only runs as a component.
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

use skillbox_guest::{Finding, Manifest, ObjectRef, Outcome, Skill};

struct UsesFilesystem;

impl Skill for UsesFilesystem {
    fn describe() -> Manifest {
        Manifest::new("uses-filesystem", "0.1.0", "probe.").target_kinds(["Pod"])
    }

    fn investigate(_target: &ObjectRef) -> Result<Outcome, String> {
        let listing = std::fs::read_dir("/")
            .map(|d| d.filter_map(Result::ok).count())
            .unwrap_or(0);
        let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        Ok(Outcome::from_findings(vec![Finding::info(
            "probe.fs",
            format!("{listing} entries, passwd {} bytes", passwd.len()),
        )]))
    }
}

skillbox_guest::export_skill!(UsesFilesystem);
