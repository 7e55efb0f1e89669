//! Any JSON as an LLM answer through filter_answer: kept findings are bounded, llm.-prefixed, name
//! only objects of the EvidencePack, and neither they nor the filter's notes carry control
//! characters, secrets or a command the filter's own detector finds.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::output_filter(data));
