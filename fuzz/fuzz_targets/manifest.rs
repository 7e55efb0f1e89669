//! Any text as skill.yaml: parsing and SkillSpec::validate never panic, and a manifest validate
//! accepts is one the API server's CEL rules accept, that round-trips through JSON and that makes a
//! package or a named refusal.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::manifest(data));
