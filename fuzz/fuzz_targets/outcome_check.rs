//! Any skill outcome through check::check: what survives is under the skill's prefix, names only
//! the target and what was read, is bounded, single-line and mutation-free, with a bounded
//! rejection list and a verdict its findings support; a well-formed outcome passes unchanged.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::outcome_check(data));
