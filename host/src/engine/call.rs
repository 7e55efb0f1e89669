//! One call into a skill: the store's state (WASI context, memory limiter, tools), and the
//! classification of every way a call can fail.

use super::bindings::{self, ToolError};
use crate::tools::{BudgetTrap, ToolContext};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

/// Bytes of a guest's stderr kept per call; a guest that writes more fails its writes.
pub const STDERR_CAP: usize = 16 * 1024;

/// What a store holds for one call.
pub struct HostState {
    pub(crate) wasi: WasiCtx,
    pub(crate) table: ResourceTable,
    pub(crate) limiter: MemoryLimiter,
    pub(crate) tools: ToolContext,
    pub(crate) stderr: MemoryOutputPipe,
    /// Calls to `wasi:cli/environment`, answered empty.
    pub(crate) environment_reads: u32,
}

impl HostState {
    pub(crate) fn new(tools: ToolContext, memory_bytes: usize) -> Self {
        let stderr = MemoryOutputPipe::new(STDERR_CAP);
        // Nothing inherited: no environment, no args, no preopens, no network, closed stdin,
        // stdout discarded, stderr captured and bounded.
        let wasi = WasiCtx::builder()
            .stderr(stderr.clone())
            .allow_ip_name_lookup(false)
            .allow_tcp(false)
            .allow_udp(false)
            .build();
        Self {
            wasi,
            table: ResourceTable::new(),
            limiter: MemoryLimiter::new(memory_bytes),
            tools,
            stderr,
            environment_reads: 0,
        }
    }

    /// The guest's stderr so far, lossily decoded.
    pub(crate) fn stderr_text(&self) -> String {
        String::from_utf8_lossy(&self.stderr.contents()).into_owned()
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

/// Caps linear memory and tables, remembers that the cap was hit so the trap can be named, and
/// the largest size granted (the call's peak memory).
pub struct MemoryLimiter {
    max_bytes: usize,
    hit: bool,
    peak: usize,
}

/// The error a memory grow past the cap traps with.
#[derive(Debug, thiserror::Error)]
#[error("memory cap of {max_bytes} bytes reached (asked for {desired})")]
pub struct MemoryCapTrap {
    /// The cap.
    pub max_bytes: usize,
    /// The size asked for.
    pub desired: usize,
}

impl MemoryLimiter {
    fn new(max_bytes: usize) -> Self {
        Self {
            max_bytes,
            hit: false,
            peak: 0,
        }
    }

    /// The largest linear memory granted so far, bytes.
    pub(crate) fn peak_bytes(&self) -> usize {
        self.peak
    }
}

const MAX_TABLE_ELEMENTS: usize = 100_000;

impl ResourceLimiter for MemoryLimiter {
    fn memory_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        if desired > self.max_bytes {
            self.hit = true;
            return Err(wasmtime::Error::new(MemoryCapTrap {
                max_bytes: self.max_bytes,
                desired,
            }));
        }
        self.peak = self.peak.max(desired);
        Ok(true)
    }

    fn table_growing(
        &mut self,
        _current: usize,
        desired: usize,
        _maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }

    fn instances(&self) -> usize {
        64
    }
    fn tables(&self) -> usize {
        64
    }
    fn memories(&self) -> usize {
        8
    }
}

/// Why a call into a skill did not produce an outcome. The variant names are stable labels.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The wall-clock deadline passed (epoch interrupt).
    #[error("deadline of {timeout_millis} ms exceeded")]
    Deadline {
        /// The deadline.
        timeout_millis: u32,
    },
    /// The fuel budget ran out.
    #[error("fuel budget of {fuel} exhausted")]
    FuelExhausted {
        /// The budget.
        fuel: u64,
    },
    /// Linear memory would grow past the cap.
    #[error("memory cap of {limit_mib} MiB reached")]
    MemoryCap {
        /// The cap.
        limit_mib: u32,
    },
    /// The guest panicked.
    #[error("skill panicked: {message}")]
    Panic {
        /// The panic message from the guest's stderr.
        message: String,
    },
    /// The guest recursed past its stack (wasmtime's stack limit, or the end of the shadow
    /// stack in linear memory).
    #[error("stack overflow")]
    StackOverflow,
    /// The guest kept calling tools after its budget was spent.
    #[error("{0}")]
    ToolBudgetExhausted(String),
    /// The guest wrote more to stderr than the host keeps, and failed.
    #[error("stderr limit of {STDERR_CAP} bytes exceeded")]
    StderrLimit,
    /// Any other trap.
    #[error("trap: {0}")]
    Trap(String),
    /// Instantiation failed (e.g. every pool slot is busy).
    #[error("cannot instantiate: {0}")]
    Instantiate(String),
    /// `investigate` returned `err`: the skill itself says it could not work.
    #[error("skill error: {0}")]
    Skill(String),
}

impl CallError {
    /// A short stable label (`deadline`, `fuel`, `memory`, …) for reports and metrics.
    pub fn class(&self) -> &'static str {
        match self {
            CallError::Deadline { .. } => "deadline",
            CallError::FuelExhausted { .. } => "fuel",
            CallError::MemoryCap { .. } => "memory",
            CallError::Panic { .. } => "panic",
            CallError::StackOverflow => "stack-overflow",
            CallError::ToolBudgetExhausted(_) => "tool-budget",
            CallError::StderrLimit => "stderr-limit",
            CallError::Trap(_) => "trap",
            CallError::Instantiate(_) => "instantiate",
            CallError::Skill(_) => "skill-error",
        }
    }

    /// Whether the sandbox stopped the call (every class but the skill's own `err`).
    pub fn is_trap(&self) -> bool {
        !matches!(self, CallError::Skill(_))
    }

    /// Names a failed call from the error wasmtime returned and what the store observed.
    pub(crate) fn classify(
        err: &wasmtime::Error,
        state: &HostState,
        limits: &skillbox_crds::Limits,
    ) -> Self {
        if let Some(b) = err.downcast_ref::<BudgetTrap>() {
            return CallError::ToolBudgetExhausted(b.to_string());
        }
        if state.limiter.hit || err.downcast_ref::<MemoryCapTrap>().is_some() {
            return CallError::MemoryCap {
                limit_mib: limits.memory_mib,
            };
        }
        let stderr = state.stderr_text();
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => CallError::FuelExhausted { fuel: limits.fuel },
            Some(Trap::Interrupt) => CallError::Deadline {
                timeout_millis: limits.timeout_millis,
            },
            // NB: Rust guests keep their frames in linear memory below a stack-first layout, so
            // running out of that stack is an out-of-bounds access at the bottom of memory, not
            // wasmtime's own stack check; safe Rust has no other way to reach this trap.
            Some(Trap::StackOverflow | Trap::MemoryOutOfBounds) => CallError::StackOverflow,
            Some(Trap::UnreachableCodeReached) if stderr.len() >= STDERR_CAP => {
                CallError::StderrLimit
            }
            Some(Trap::UnreachableCodeReached) if stderr.contains("panicked at") => {
                CallError::Panic {
                    message: panic_message(&stderr),
                }
            }
            Some(Trap::UnreachableCodeReached) if stderr.contains("memory allocation of") => {
                CallError::MemoryCap {
                    limit_mib: limits.memory_mib,
                }
            }
            Some(t) => CallError::Trap(t.to_string()),
            None if stderr.len() >= STDERR_CAP => CallError::StderrLimit,
            None => CallError::Trap(format!("{err:#}")),
        }
    }
}

/// The panic line(s) from a guest's stderr, bounded.
fn panic_message(stderr: &str) -> String {
    let from = stderr.find("panicked at").unwrap_or(0);
    let msg: String = stderr[from..].lines().take(3).collect::<Vec<_>>().join(" ");
    msg.chars().take(512).collect()
}

impl bindings::skillbox::skill::types::Host for HostState {}

/// The environment a skill sees: none. Rust's std imports `wasi:cli/environment` even when a
/// skill never reads it, so the import is linked, but every answer is empty and every call is
/// counted for `skillbox probe`.
impl wasmtime_wasi::p2::bindings::cli::environment::Host for HostState {
    fn get_environment(&mut self) -> wasmtime::Result<Vec<(String, String)>> {
        self.environment_reads = self.environment_reads.saturating_add(1);
        Ok(Vec::new())
    }
    fn get_arguments(&mut self) -> wasmtime::Result<Vec<String>> {
        self.environment_reads = self.environment_reads.saturating_add(1);
        Ok(Vec::new())
    }
    fn initial_cwd(&mut self) -> wasmtime::Result<Option<String>> {
        self.environment_reads = self.environment_reads.saturating_add(1);
        Ok(None)
    }
}

impl bindings::skillbox::skill::get_object::Host for HostState {
    fn get_object(
        &mut self,
        kind: String,
        namespace: Option<String>,
        name: String,
    ) -> wasmtime::Result<Result<String, ToolError>> {
        self.tools.get_object(&kind, namespace.as_deref(), &name)
    }
}

impl bindings::skillbox::skill::list_objects::Host for HostState {
    fn list_objects(
        &mut self,
        kind: String,
        namespace: Option<String>,
        label_selector: String,
    ) -> wasmtime::Result<Result<Vec<String>, ToolError>> {
        self.tools
            .list_objects(&kind, namespace.as_deref(), &label_selector)
    }
}

impl bindings::skillbox::skill::list_events::Host for HostState {
    fn list_events(
        &mut self,
        involved: bindings::ObjectRef,
    ) -> wasmtime::Result<Result<Vec<String>, ToolError>> {
        let r = skillbox_guest::ObjectRef {
            api_version: involved.api_version,
            kind: involved.kind,
            namespace: involved.namespace,
            name: involved.name,
        };
        self.tools.list_events(&r)
    }
}

impl bindings::skillbox::skill::read_logs::Host for HostState {
    fn read_logs(
        &mut self,
        namespace: String,
        pod: String,
        container: String,
        tail_lines: u32,
    ) -> wasmtime::Result<Result<String, ToolError>> {
        self.tools
            .read_logs(&namespace, &pod, &container, tail_lines)
    }
}
