//! Any body and status as an Anthropic Messages reply: never panics; an answer (a JSON object, only
//! from a 2xx) or an error classified for the anthropic provider, bounded, with the API key
//! scrubbed.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::anthropic_response(data));
