//! Any well-formed outcome returned by a real component (the outcome-echo probe): the call succeeds
//! (a deadline trap aside), the outcome crosses the wasm boundary unchanged, and the host's checks
//! bound what survives.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::wasm_outcome(data));
