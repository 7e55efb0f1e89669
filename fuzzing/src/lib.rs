//! The properties skillbox's fuzz targets check (`fuzz/`), one function per target, so the same
//! code runs under libFuzzer and, on stable, over the checked-in corpora (`tests/corpus.rs`).
//!
//! Each function takes the fuzzer's bytes, runs the code under test and panics, naming the
//! property, when it does not hold. Where to start: [`outcome_check`] and [`wasm_outcome`] (a
//! skill's outcome through the host's output checks, in process and across the component
//! boundary), [`output_filter`] (an LLM's answer through the filter), [`snapshot`] (evidence
//! loading and its index). How to run them: `FUZZING.md`.

mod evidence;
mod generate;
mod llm;
mod outcome;
mod package;

pub use evidence::{label_selector, snapshot, yaml_fast_path};
pub use llm::{anthropic_response, ollama_response, openai_response, output_filter};
pub use outcome::{outcome_check, wasm_outcome};
pub use package::{manifest, skill_md};

/// A fixture's object as every evidence source stores it.
pub(crate) fn stored(value: serde_json::Value) -> std::sync::Arc<skillbox::evidence::StoredObject> {
    std::sync::Arc::new(
        skillbox::evidence::StoredObject::from_value(value)
            .expect("the fixture's objects are objects"),
    )
}

/// No control character (what every bounded text the host keeps must be).
pub(crate) fn is_clean(s: &str) -> bool {
    !s.chars().any(char::is_control)
}

/// Length in characters, as report.md's bounds count.
pub(crate) fn chars(s: &str) -> usize {
    s.chars().count()
}

/// A property: panics when the input shows it does not hold.
pub type Property = fn(&[u8]);

/// Every target by name, as `fuzz/fuzz_targets/<name>.rs` and `fuzz/corpus/<name>/` know it.
pub const TARGETS: &[(&str, Property)] = &[
    ("snapshot", snapshot),
    ("yaml_fast_path", yaml_fast_path),
    ("skill_md", skill_md),
    ("manifest", manifest),
    ("outcome_check", outcome_check),
    ("output_filter", output_filter),
    ("anthropic_response", anthropic_response),
    ("ollama_response", ollama_response),
    ("openai_response", openai_response),
    ("label_selector", label_selector),
    ("wasm_outcome", wasm_outcome),
];
