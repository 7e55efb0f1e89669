//! The Claude Code skills shipped in `.claude/skills/`: all four present, each valid for
//! `skillbox skill validate`, and the rootsync one the very same file as the in-cluster skill's
//! SKILL.md (one artefact, two homes).

use std::path::{Path, PathBuf};

const SKILLS: [&str; 4] = [
    "operator-investigation-design",
    "rootsync-investigation",
    "ai-invocation-discipline",
    "kro-platform-packaging",
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn every_claude_skill_validates() {
    for name in SKILLS {
        let dir = repo().join(".claude/skills").join(name);
        let mut out = Vec::new();
        let mut err = Vec::new();
        let args = ["skillbox", "skill", "validate", &dir.display().to_string()]
            .map(std::ffi::OsString::from);
        let code = skillbox::cli::run(args, &mut out, &mut err);
        assert_eq!(code, 0, "{name}: {}", String::from_utf8_lossy(&err));
        let out = String::from_utf8(out).unwrap();
        assert!(out.contains("prose-only skill"), "{name}: {out}");
    }
}

#[test]
fn the_rootsync_claude_skill_is_the_in_cluster_skill_md() {
    let claude = repo().join(".claude/skills/rootsync-investigation/SKILL.md");
    let in_cluster = repo().join("skills-wasm/rootsync-investigation/SKILL.md");
    let same_file = claude.canonicalize().unwrap() == in_cluster.canonicalize().unwrap();
    assert!(
        same_file,
        "{} must be a link to {} so the two cannot drift",
        claude.display(),
        in_cluster.display()
    );
    assert_eq!(
        std::fs::read(&claude).unwrap(),
        std::fs::read(&in_cluster).unwrap()
    );
    // The built-in package embeds the same bytes.
    let builtin = skillbox::builtin::find("rootsync-investigation").unwrap();
    assert_eq!(
        builtin.skill_md.as_bytes(),
        std::fs::read(&in_cluster).unwrap()
    );
}
