//! Any body and status as an OpenAI-compatible chat-completions reply: never panics; an answer (a
//! JSON object, only from a 2xx) or an error classified for the openai provider, bounded, with the
//! API key scrubbed.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::openai_response(data));
