//! Any text as a label selector: Selector::parse never panics; a parsed selector has well-formed
//! terms, its Display parses back to an equal selector, and the index's label postings select
//! exactly what plain matching selects.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::label_selector(data));
