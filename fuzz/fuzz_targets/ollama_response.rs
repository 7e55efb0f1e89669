//! Any body and status as an Ollama /api/chat reply: never panics; an answer (a JSON object, only
//! from a 2xx) or an error classified for the ollama provider, bounded.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| skillbox_fuzzing::ollama_response(data));
