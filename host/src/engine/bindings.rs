//! Host bindings of the skill ABI, generated from the one WIT source in `guest-sdk/wit`.

// NB: `bindgen!` expands to code that implements the canonical ABI; the generated code is the
// only place in this crate allowed to contain `unsafe`.
#![allow(unsafe_code)]

wasmtime::component::bindgen!({
    world: "skill",
    path: "../guest-sdk/wit",
    imports: { default: trappable },
});

pub use self::skillbox::skill::types::{Severity, ToolError, Verdict};
