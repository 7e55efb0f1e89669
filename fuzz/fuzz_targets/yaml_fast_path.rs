//! Any text as one YAML document of a snapshot: the loader's fast path never panics, and when it
//! answers, its value is exactly what serde_yaml_ng (the fallback) reads.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::yaml_fast_path(data));
