//! The sandbox: one wasmtime `Engine` (pooling allocator, fuel, epoch deadline), compiled
//! components cached by digest, one `InstancePre` per skill linked with only its granted tools,
//! and a fresh `Store` for every call.

pub(crate) mod bindings;
mod cache;
mod call;
mod slots;
mod ticker;

pub use cache::{CacheHit, default_dir as default_cache_dir, sha256_hex};
pub use call::{CallError, STDERR_CAP};

use crate::evidence::EvidenceSource;
use crate::package::SkillPackage;
use crate::tools::{
    ImportRefusal, ResourcePolicy, ToolBudget, ToolContext, ToolRead, ToolWhitelist,
};
use bindings::{SkillPre, skillbox::skill as abi};
use cache::ComponentCache;
use call::HostState;
use skillbox_crds::{Limits, SkillSpec, Tool};
use skillbox_guest::{Finding, Manifest, ObjectRef, Outcome, Severity, Verdict};
use slots::Slots;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use ticker::EpochTicker;
use wasmtime::component::{HasSelf, Linker};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store};
use wasmtime_wasi::p2::bindings::{cli, clocks, random, sync::io as sync_io};

/// How the engine is built. The defaults suit the CLI; the operator raises `max_instances`.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Use the pooling allocator (fast instantiation from pre-reserved slots).
    pub pooling: bool,
    /// Skill instances alive at once (the pool's size); more concurrent calls wait for a slot.
    pub max_instances: u32,
    /// Hard ceiling on any skill's linear memory, MiB (each Skill's own cap is lower or equal).
    pub max_memory_mib: u32,
    /// Persist compiled components here.
    pub cache_dir: Option<PathBuf>,
    /// Epoch tick: the granularity of deadlines.
    pub epoch_tick: Duration,
    /// Bytes of each pooled linear memory kept resident between calls, MiB.
    pub keep_resident_mib: u32,
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            pooling: true,
            max_instances: 64,
            max_memory_mib: 256,
            cache_dir: None,
            epoch_tick: Duration::from_millis(10),
            keep_resident_mib: 4,
        }
    }
}

/// Why the engine could not be built.
#[derive(Debug, thiserror::Error)]
#[error("cannot build the wasm engine: {0}")]
pub struct EngineError(String);

/// Why a skill package could not be turned into something runnable. Each names the skill.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    /// The bytes are not a valid component (corrupt, truncated, or a core module).
    #[error("skill {skill}: the component does not compile: {message}")]
    Compile {
        /// Skill name.
        skill: String,
        /// wasmtime's reason.
        message: String,
    },
    /// An import outside the Skill's grants.
    #[error("skill {skill} is refused: it {refusal}")]
    Refused {
        /// Skill name.
        skill: String,
        /// The import and why.
        #[source]
        refusal: ImportRefusal,
    },
    /// Linking failed for another reason (e.g. missing exports).
    #[error("skill {skill}: cannot link: {message}")]
    Link {
        /// Skill name.
        skill: String,
        /// wasmtime's reason.
        message: String,
    },
}

/// The sandbox engine. Cheap to share (`Arc`); one per process.
pub struct SkillEngine {
    engine: Engine,
    cache: ComponentCache,
    config: EngineConfig,
    slots: Arc<Slots>,
    // NB: kept last so it stops after everything else is dropped.
    _ticker: EpochTicker,
}

impl SkillEngine {
    /// Builds the engine and starts its epoch ticker.
    pub fn new(config: EngineConfig) -> Result<Self, EngineError> {
        let mut c = Config::new();
        c.wasm_component_model(true)
            .consume_fuel(true)
            .epoch_interruption(true)
            .max_wasm_stack(512 * 1024);
        let ceiling = config.max_memory_mib as usize * 1024 * 1024;
        if config.pooling {
            let n = config.max_instances.max(1);
            let mut pool = PoolingAllocationConfig::default();
            pool.total_component_instances(n)
                .total_core_instances(n.saturating_mul(8))
                .total_memories(n.saturating_mul(2))
                .total_tables(n.saturating_mul(8))
                .total_stacks(n)
                .max_memory_size(ceiling)
                .max_core_instances_per_component(16)
                .max_memories_per_component(4)
                .max_tables_per_component(16)
                // NB: a reused slot is reset with memset (only its resident pages, found with
                // PAGEMAP_SCAN where the kernel has it) instead of madvise, so the next call does
                // not page-fault its heap back in: most of a warm call's cost otherwise.
                .linear_memory_keep_resident(config.keep_resident_mib as usize * 1024 * 1024)
                .table_keep_resident(64 * 1024)
                .pagemap_scan(wasmtime::Enabled::Auto);
            c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
        }
        let engine = Engine::new(&c).map_err(|e| EngineError(format!("{e:#}")))?;
        let ticker = EpochTicker::start(engine.clone(), config.epoch_tick)
            .map_err(|e| EngineError(format!("cannot start the epoch ticker: {e}")))?;
        Ok(Self {
            cache: ComponentCache::new(&engine, config.cache_dir.clone()),
            engine,
            slots: Arc::new(Slots::new(config.max_instances)),
            config,
            _ticker: ticker,
        })
    }

    /// The engine's configuration.
    pub fn config(&self) -> &EngineConfig {
        &self.config
    }

    /// Compiles (or fetches from cache) a package's component, refuses imports its grants do
    /// not allow, and links it with only those tools.
    pub fn load(&self, package: &SkillPackage) -> Result<LoadedSkill, LoadError> {
        let skill = package.name().to_string();
        let span = tracing::info_span!("load_skill", skill = %skill, digest = %package.digest());
        let _g = span.enter();
        let started = Instant::now();
        let (component, cache_hit) = self
            .cache
            .get_or_compile(&self.engine, package.digest(), package.wasm())
            .map_err(|e| LoadError::Compile {
                skill: skill.clone(),
                message: format!("{e:#}"),
            })?;
        let ty = component.component_type();
        let imports: Vec<String> = ty
            .imports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let exports: Vec<String> = ty
            .exports(&self.engine)
            .map(|(name, _)| name.to_string())
            .collect();
        let spec = package.spec();
        let whitelist = ToolWhitelist::new(spec.grants.tools.iter().copied());
        whitelist
            .check(imports.iter().map(String::as_str))
            .map_err(|refusal| LoadError::Refused {
                skill: skill.clone(),
                refusal,
            })?;
        let linker = self.linker(&whitelist).map_err(|e| LoadError::Link {
            skill: skill.clone(),
            message: format!("{e:#}"),
        })?;
        let pre = linker
            .instantiate_pre(&component)
            .and_then(SkillPre::new)
            .map_err(|e| LoadError::Link {
                skill: skill.clone(),
                message: format!("{e:#}"),
            })?;
        tracing::debug!(
            ?cache_hit,
            micros = started.elapsed().as_micros() as u64,
            "skill loaded"
        );
        Ok(LoadedSkill {
            engine: self.engine.clone(),
            name: skill,
            digest: package.digest().to_string(),
            spec: spec.clone(),
            policy: Arc::new(ResourcePolicy::new(&spec.grants.resources)),
            pre,
            imports,
            exports,
            cache_hit,
            epoch_tick: self.config.epoch_tick,
            memory_ceiling_mib: self.config.max_memory_mib,
            slots: self.slots.clone(),
            prose: package.skill_md().body.clone(),
        })
    }

    /// The imports and exports of a component, compiling it (cached) without linking it.
    pub fn component_interface(
        &self,
        digest: &str,
        wasm: &[u8],
    ) -> Result<(Vec<String>, Vec<String>), String> {
        let (component, _) = self
            .cache
            .get_or_compile(&self.engine, digest, wasm)
            .map_err(|e| format!("the component does not compile: {e:#}"))?;
        let ty = component.component_type();
        Ok((
            ty.imports(&self.engine)
                .map(|(n, _)| n.to_string())
                .collect(),
            ty.exports(&self.engine)
                .map(|(n, _)| n.to_string())
                .collect(),
        ))
    }

    /// A linker with the harmless WASI subset and only the granted tools: the second lock
    /// behind the whitelist check (an import not linked cannot be instantiated).
    fn linker(&self, whitelist: &ToolWhitelist) -> wasmtime::Result<Linker<HostState>> {
        let mut l: Linker<HostState> = Linker::new(&self.engine);
        link_wasi_subset(&mut l)?;
        for tool in whitelist.tools() {
            match tool {
                Tool::GetObject => {
                    abi::get_object::add_to_linker::<_, HasSelf<HostState>>(&mut l, |s| s)?
                }
                Tool::ListObjects => {
                    abi::list_objects::add_to_linker::<_, HasSelf<HostState>>(&mut l, |s| s)?
                }
                Tool::ListEvents => {
                    abi::list_events::add_to_linker::<_, HasSelf<HostState>>(&mut l, |s| s)?
                }
                Tool::ReadLogs => {
                    abi::read_logs::add_to_linker::<_, HasSelf<HostState>>(&mut l, |s| s)?
                }
            }
        }
        Ok(l)
    }
}

struct HasTable;
impl wasmtime::component::HasData for HasTable {
    type Data<'a> = &'a mut wasmtime::component::ResourceTable;
}

/// Only the WASI interfaces the whitelist calls harmless; never filesystem, sockets or http.
fn link_wasi_subset(l: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi::cli::{WasiCli, WasiCliView};
    use wasmtime_wasi::clocks::{WasiClocks, WasiClocksView};
    use wasmtime_wasi::random::{WasiRandom, WasiRandomView};
    wasmtime_wasi::p2::bindings::io::error::add_to_linker::<HostState, HasTable>(l, |s| {
        &mut s.table
    })?;
    sync_io::poll::add_to_linker::<HostState, HasTable>(l, |s| &mut s.table)?;
    sync_io::streams::add_to_linker::<HostState, HasTable>(l, |s| &mut s.table)?;
    clocks::wall_clock::add_to_linker::<HostState, WasiClocks>(l, |s| s.clocks())?;
    clocks::monotonic_clock::add_to_linker::<HostState, WasiClocks>(l, |s| s.clocks())?;
    random::random::add_to_linker::<HostState, WasiRandom>(l, |s| s.random())?;
    random::insecure::add_to_linker::<HostState, WasiRandom>(l, |s| s.random())?;
    random::insecure_seed::add_to_linker::<HostState, WasiRandom>(l, |s| s.random())?;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    // NB: our own environment (empty, and counted), not the WASI context's.
    cli::environment::add_to_linker::<HostState, HasSelf<HostState>>(l, |s| s)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, |s| s.cli())?;
    Ok(())
}

/// A skill ready to run: compiled, checked and linked.
pub struct LoadedSkill {
    engine: Engine,
    name: String,
    digest: String,
    spec: SkillSpec,
    policy: Arc<ResourcePolicy>,
    pre: SkillPre<HostState>,
    imports: Vec<String>,
    exports: Vec<String>,
    cache_hit: CacheHit,
    epoch_tick: Duration,
    memory_ceiling_mib: u32,
    prose: String,
    slots: Arc<Slots>,
}

/// What one call cost.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CallStats {
    /// Wall time of the call, instantiation included.
    pub duration: Duration,
    /// Fuel used.
    pub fuel_consumed: u64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Tool calls the resource policy refused (asked for a kind or namespace not granted).
    pub tool_denials: u32,
    /// The largest linear memory the skill grew to, bytes (what its `memoryMib` must cover).
    pub memory_peak_bytes: u64,
    /// Calls to `wasi:cli/environment` (environment, arguments, working directory). The
    /// sandbox answers them empty; a skill has no reason to ask.
    pub environment_reads: u32,
}

/// The result of one `investigate` call.
#[derive(Debug)]
pub struct SkillRun {
    /// The outcome, or why there is none.
    pub outcome: Result<Outcome, CallError>,
    /// What it cost.
    pub stats: CallStats,
    /// Every tool answer the skill received.
    pub reads: Vec<ToolRead>,
    /// The first denied tool requests (`tool request: reason`); `stats.tool_denials` counts all.
    pub denied: Vec<String>,
}

impl LoadedSkill {
    /// The skill's name.
    pub fn name(&self) -> &str {
        &self.name
    }
    /// Hex sha256 of the component.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// The Skill manifest's spec.
    pub fn spec(&self) -> &SkillSpec {
        &self.spec
    }
    /// The component's imports, as it names them.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }
    /// The component's exports.
    pub fn exports(&self) -> &[String] {
        &self.exports
    }
    /// Where the compiled code came from.
    pub fn cache_hit(&self) -> CacheHit {
        self.cache_hit
    }
    /// The SKILL.md body: domain knowledge an LLM receives with the evidence.
    pub fn prose(&self) -> &str {
        &self.prose
    }

    fn limits(&self) -> Limits {
        let mut l = self.spec.limits.clone();
        l.memory_mib = l.memory_mib.min(self.memory_ceiling_mib);
        l
    }

    fn store(&self, tools: ToolContext, limits: &Limits) -> wasmtime::Result<Store<HostState>> {
        let mut store = Store::new(
            &self.engine,
            HostState::new(tools, limits.memory_mib as usize * 1024 * 1024),
        );
        store.limiter(|s| &mut s.limiter);
        store.set_fuel(limits.fuel)?;
        let tick = self.epoch_tick.as_millis().max(1) as u64;
        store.set_epoch_deadline((u64::from(limits.timeout_millis)).div_ceil(tick).max(1));
        store.epoch_deadline_trap();
        Ok(store)
    }

    /// Runs `f` on a fresh instance in a fresh store, and classifies whatever goes wrong.
    fn call<R>(
        &self,
        tools: ToolContext,
        f: impl FnOnce(&bindings::Skill, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> (Result<R, CallError>, CallStats, Vec<ToolRead>, Vec<String>) {
        let limits = self.limits();
        // NB: the wait for a slot is not the skill's time: duration and deadline start after it.
        let _slot = self.slots.acquire();
        let started = Instant::now();
        let mut store = match self.store(tools, &limits) {
            Ok(s) => s,
            Err(e) => {
                return (
                    Err(CallError::Instantiate(format!("{e:#}"))),
                    CallStats::default(),
                    Vec::new(),
                    Vec::new(),
                );
            }
        };
        let result = match self.pre.instantiate(&mut store) {
            Ok(instance) => {
                f(&instance, &mut store).map_err(|e| CallError::classify(&e, store.data(), &limits))
            }
            Err(e) if e.downcast_ref::<wasmtime::Trap>().is_some() => {
                Err(CallError::classify(&e, store.data(), &limits))
            }
            Err(e) => Err(CallError::Instantiate(format!("{e:#}"))),
        };
        let fuel_left = store.get_fuel().unwrap_or(0);
        let stderr = store.data().stderr_text();
        if !stderr.is_empty() {
            // NB: bounded by STDERR_CAP; a skill cannot flood the host's log.
            tracing::info!(skill = %self.name, stderr = %stderr.trim_end(), "skill stderr");
        }
        let state = store.into_data();
        let stats = CallStats {
            duration: started.elapsed(),
            fuel_consumed: limits.fuel.saturating_sub(fuel_left),
            tool_calls: state.tools.calls(),
            tool_denials: state.tools.denials(),
            memory_peak_bytes: state.limiter.peak_bytes() as u64,
            environment_reads: state.environment_reads,
        };
        let (reads, denied) = state.tools.into_record();
        (result, stats, reads, denied)
    }

    /// Calls `investigate(target)` with tools answered from `evidence`.
    pub fn investigate(&self, evidence: Arc<dyn EvidenceSource>, target: &ObjectRef) -> SkillRun {
        let span = tracing::info_span!("skill_call", skill = %self.name, target = %target, verdict = tracing::field::Empty, duration_us = tracing::field::Empty);
        let _g = span.enter();
        let tools = ToolContext::new(
            evidence,
            self.policy.clone(),
            ToolBudget::from(&self.spec.limits),
        );
        let wt = abi::types::ObjectRef {
            api_version: target.api_version.clone(),
            kind: target.kind.clone(),
            namespace: target.namespace.clone(),
            name: target.name.clone(),
        };
        let (result, stats, reads, denied) =
            self.call(tools, |skill, store| skill.call_investigate(store, &wt));
        let outcome = match result {
            Ok(Ok(o)) => Ok(outcome_from_abi(o)),
            Ok(Err(msg)) => Err(CallError::Skill(bounded(&msg, 1024))),
            Err(e) => Err(e),
        };
        match &outcome {
            Ok(o) => span.record("verdict", tracing::field::debug(o.verdict)),
            Err(e) => span.record("verdict", e.class()),
        };
        span.record("duration_us", stats.duration.as_micros() as u64);
        SkillRun {
            outcome,
            stats,
            reads,
            denied,
        }
    }

    /// Calls `detect(object)`; it gets no tools (no evidence, no grants, a zero budget).
    pub fn detect(&self, object_json: &str) -> Result<bool, CallError> {
        self.detect_measured(object_json).0
    }

    /// [`Self::detect`], with what the call cost.
    pub fn detect_measured(&self, object_json: &str) -> (Result<bool, CallError>, CallStats) {
        let (result, stats, _, _) = self.call(ToolContext::toolless(), |skill, store| {
            skill.call_detect(store, object_json)
        });
        (result, stats)
    }

    /// Calls `describe()`; it gets no tools.
    pub fn describe(&self) -> Result<Manifest, CallError> {
        self.call(ToolContext::toolless(), |skill, store| {
            skill.call_describe(store)
        })
        .0
        .map(|m| Manifest {
            name: m.name,
            version: m.version,
            code_prefix: m.code_prefix,
            target_kinds: m.target_kinds,
            tools: m.tools,
        })
    }
}

fn bounded(s: &str, max_chars: usize) -> String {
    s.chars().take(max_chars).collect()
}

fn outcome_from_abi(o: bindings::Outcome) -> Outcome {
    Outcome {
        verdict: match o.verdict {
            bindings::Verdict::Resolved => Verdict::Resolved,
            bindings::Verdict::Healthy => Verdict::Healthy,
            bindings::Verdict::Inconclusive => Verdict::Inconclusive,
        },
        findings: o
            .findings
            .into_iter()
            .map(|f| Finding {
                code: f.code,
                severity: match f.severity {
                    bindings::Severity::Error => Severity::Error,
                    bindings::Severity::Warning => Severity::Warning,
                    bindings::Severity::Info => Severity::Info,
                },
                summary: f.summary,
                resources: f
                    .resources
                    .into_iter()
                    .map(|r| ObjectRef {
                        api_version: r.api_version,
                        kind: r.kind,
                        namespace: r.namespace,
                        name: r.name,
                    })
                    .collect(),
                evidence: f.evidence,
                suggestions: f.suggestions,
            })
            .collect(),
    }
}
