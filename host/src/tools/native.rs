//! The tools for skill logic compiled natively (not to wasm): the same [`ToolContext`] — grants,
//! budget, evidence, record — behind the guest SDK's native `ToolBackend`, so a native run of a
//! skill gets exactly the answers its sandboxed run gets. Benchmarks use it to measure what the
//! sandbox itself costs (`host/benches/`).

use super::ToolContext;
use crate::engine::bindings::ToolError as WitToolError;
use skillbox_guest::tools::ToolBackend;
use skillbox_guest::{ObjectRef, ToolError};
use std::cell::RefCell;

/// A [`ToolContext`] as the guest SDK's native tool backend (install it with
/// `skillbox_guest::tools::set_backend`).
pub struct NativeTools(RefCell<ToolContext>);

impl NativeTools {
    /// Answers tool calls from `tools`.
    pub fn new(tools: ToolContext) -> Self {
        Self(RefCell::new(tools))
    }

    /// The context back, with its counters and record.
    pub fn into_inner(self) -> ToolContext {
        self.0.into_inner()
    }
}

/// A trap in the sandbox (the budget's grace spent) is an answer here: native code cannot be
/// stopped mid-call, so it is told `budget-exhausted` and keeps going at its own risk.
fn answer<T>(r: wasmtime::Result<Result<T, WitToolError>>) -> Result<T, ToolError> {
    match r {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(match e {
            WitToolError::Denied(m) => ToolError::Denied(m),
            WitToolError::NotFound(m) => ToolError::NotFound(m),
            WitToolError::TooLarge(m) => ToolError::TooLarge(m),
            WitToolError::BudgetExhausted(m) => ToolError::BudgetExhausted(m),
            WitToolError::Unavailable(m) => ToolError::Unavailable(m),
            WitToolError::Invalid(m) => ToolError::Invalid(m),
        }),
        Err(trap) => Err(ToolError::BudgetExhausted(trap.to_string())),
    }
}

impl ToolBackend for NativeTools {
    fn get_object(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ToolError> {
        answer(self.0.borrow_mut().get_object(kind, namespace, name))
    }

    fn list_objects(
        &self,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<String>, ToolError> {
        answer(
            self.0
                .borrow_mut()
                .list_objects(kind, namespace, label_selector),
        )
    }

    fn list_events(&self, involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        answer(self.0.borrow_mut().list_events(involved))
    }

    fn read_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
    ) -> Result<String, ToolError> {
        answer(
            self.0
                .borrow_mut()
                .read_logs(namespace, pod, container, tail_lines),
        )
    }
}
