//! The skills compiled into this binary by `host/build.rs`.

/// One embedded skill package: its component, SKILL.md and Skill manifest.
#[derive(Debug)]
pub struct Builtin {
    /// Skill name (its folder under `skills-wasm/`).
    pub name: &'static str,
    /// The component.
    pub wasm: &'static [u8],
    /// SKILL.md.
    pub skill_md: &'static str,
    /// skill.yaml: the Skill manifest.
    pub manifest: &'static str,
}

include!(concat!(env!("OUT_DIR"), "/builtin.rs"));

/// Every built-in skill.
pub fn all() -> &'static [Builtin] {
    BUILTIN
}

/// The built-in skill named `name`.
pub fn find(name: &str) -> Option<&'static Builtin> {
    BUILTIN.iter().find(|b| b.name == name)
}

/// The folder holding every component the build produced, probes included (for tests).
#[doc(hidden)]
pub fn wasm_dir() -> &'static std::path::Path {
    std::path::Path::new(env!("SKILLBOX_WASM_DIR"))
}

/// The folder holding a package (SKILL.md, skill.yaml, skill.wasm) for every non-built-in skill
/// the build produced — the hostile probes: `<target>/wasm-skills/packages/<name>/`.
#[doc(hidden)]
pub fn packages_dir() -> &'static std::path::Path {
    std::path::Path::new(env!("SKILLBOX_PACKAGES_DIR"))
}
