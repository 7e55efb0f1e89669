//! The `skillbox` command line: `investigate`, `skill validate`, `skill inspect`, `probe`,
//! `bench`, `demo`, and the
//! flags of `controller` (run by the `skillbox-operator` crate, which the binary links in).
//! Lives in the library so tests drive it in-process with their own output buffers.

use crate::engine::{EngineConfig, LoadedSkill, SkillEngine, default_cache_dir};
use crate::evidence::{EvidenceSource, SnapshotSource};
use crate::investigate::{
    LlmMode, consult_llm, investigate_deterministic, llm_should_call, resolve_target, select_skills,
};
use crate::llm::{
    AnthropicProvider, OllamaProvider, OpenAiProvider, Provider, ProviderOptions, SchemaMode,
};
use crate::package::{MANIFEST_FILE, SKILL_MD_FILE, SkillPackage};
use crate::report::Report;
use clap::{Parser, Subcommand, ValueEnum};
use skillbox_guest::ObjectRef;
use std::ffi::OsString;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

/// Investigates Kubernetes incidents with sandboxed WebAssembly skills.
#[derive(Debug, Parser)]
#[command(name = "skillbox", version, about, max_term_width = 100)]
struct Cli {
    #[command(subcommand)]
    command: Command,
    /// Folder for compiled components (default: $SKILLBOX_CACHE_DIR, $XDG_CACHE_HOME/skillbox or
    /// ~/.cache/skillbox).
    #[arg(long, global = true, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Compile components every time instead of using the on-disk cache.
    #[arg(long, global = true)]
    no_cache: bool,
    /// Log format on stderr (also $SKILLBOX_LOG_FORMAT); the level comes from $SKILLBOX_LOG.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

/// How the binary writes its `tracing` logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log pipelines.
    Json,
}

/// `skillbox controller`: run the operator in a cluster.
#[derive(Debug, Clone, clap::Args)]
pub struct ControllerArgs {
    /// The controller's own namespace: Skill module ConfigMaps, its Lease and a
    /// managed model server live here (default: $POD_NAMESPACE, else `skillbox-system`).
    #[arg(long, value_name = "NS")]
    pub namespace: Option<String>,
    /// Address of the `/metrics`, `/healthz` and `/readyz` endpoints.
    #[arg(long, value_name = "ADDR", default_value = "0.0.0.0:8080")]
    pub metrics_addr: std::net::SocketAddr,
    /// Take a Lease before reconciling, so only one of several replicas acts.
    #[arg(long, default_value_t = true, action = clap::ArgAction::Set, value_name = "BOOL")]
    pub leader_elect: bool,
    /// Name of the Lease used for leader election.
    #[arg(long, default_value = "skillbox-controller", value_name = "NAME")]
    pub lease_name: String,
    /// Investigations run at once; more wait in the queue.
    #[arg(long, default_value_t = 4, value_name = "N")]
    pub concurrency: u16,
    /// Folder for compiled components (inherits --cache-dir).
    #[arg(skip)]
    pub cache_dir: Option<PathBuf>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Investigate one object of a snapshot with the skills that target its kind.
    Investigate(InvestigateArgs),
    /// Check or describe a skill package.
    #[command(subcommand)]
    Skill(SkillCommand),
    /// Run the operator: reconcile Skills, Investigations and ModelProviders in the cluster of
    /// the current kubeconfig or service account.
    Controller(ControllerArgs),
    /// Check a third-party skill package before installing it: imports against grants,
    /// over-broad grants, and a canary run seeded with honeytokens (exit 1 on any failure).
    Probe(crate::probe::ProbeArgs),
    /// Measure what each skill costs on a snapshot: its load, then repeated sandboxed calls on
    /// sampled (or named) targets — time percentiles, fuel, peak memory, tool calls.
    Bench(crate::bench::BenchArgs),
    /// Investigate the bundled example snapshots (no cluster needed).
    Demo {
        /// Folder of examples (`<name>/scenario.yaml` + `<name>/cluster/`).
        #[arg(long, value_name = "DIR")]
        examples: Option<PathBuf>,
    },
}

#[derive(Debug, clap::Args)]
struct InvestigateArgs {
    /// KIND/NAME: KIND is a kind, plural, short name or kind.group, case-insensitive.
    target: String,
    /// Namespace of the target (default: `default`; ignored for cluster-scoped kinds).
    #[arg(short = 'n', long)]
    namespace: Option<String>,
    /// Snapshot folder of `kubectl get -o yaml` output.
    #[arg(long, value_name = "DIR")]
    snapshot: PathBuf,
    /// Run only this skill (repeatable).
    #[arg(long = "skill", value_name = "NAME")]
    skill: Vec<String>,
    /// Also load skill packages from this folder (a package, or a folder of packages; repeatable).
    #[arg(long = "skills", value_name = "DIR")]
    skills: Vec<PathBuf>,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
    output: Format,
    /// When to ask an LLM: `auto` only when the deterministic pass is inconclusive, `never`, or
    /// `always` (for evaluation). Needs --llm-provider.
    #[arg(long, value_enum, default_value_t = LlmArg::Auto)]
    llm: LlmArg,
    /// The LLM provider. API keys come only from the environment (ANTHROPIC_API_KEY,
    /// OPENAI_API_KEY), never from a flag.
    #[arg(long, value_enum)]
    llm_provider: Option<ProviderArg>,
    /// The provider's base URL (default: its public API, or http://127.0.0.1:11434 for Ollama).
    #[arg(long, value_name = "URL")]
    llm_endpoint: Option<String>,
    /// The model to ask.
    #[arg(long, value_name = "NAME")]
    llm_model: Option<String>,
    /// Deadline of the whole LLM call, retries included.
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    llm_timeout: u64,
    /// How an OpenAI-compatible server is asked for structured output: `json-schema`
    /// (`response_format` json_schema: OpenAI, vLLM, llama-server) or `json-object`
    /// (`{"type":"json_object","schema":…}`: llama-cpp-python's server).
    #[arg(long, value_enum, default_value_t = ResponseFormatArg::JsonSchema)]
    llm_response_format: ResponseFormatArg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ResponseFormatArg {
    JsonSchema,
    JsonObject,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum LlmArg {
    Auto,
    Never,
    Always,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ProviderArg {
    Anthropic,
    Ollama,
    Openai,
}

#[derive(Debug, Subcommand)]
enum SkillCommand {
    /// Check a skill package: SKILL.md frontmatter, manifest, digest, imports against grants.
    Validate {
        /// The package folder.
        path: PathBuf,
    },
    /// Show a package's (or a bare component's) imports, exports, digest and size.
    Inspect {
        /// A package folder or a `.wasm` component.
        path: PathBuf,
        /// Output format.
        #[arg(short = 'o', long, value_enum, default_value_t = Format::Text)]
        output: Format,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    Text,
    Json,
    Yaml,
}

/// Exit status: a report was produced (whatever its verdict) or a check passed.
pub const EXIT_OK: i32 = 0;
/// Exit status: the command could not do its job (bad input, a refused skill).
pub const EXIT_FAILED: i32 = 1;
/// Exit status: bad usage.
pub const EXIT_USAGE: i32 = 2;

/// Runs `skillbox controller`; returns the exit status. The binary supplies the operator's.
pub type ControllerMain<'a> = &'a dyn Fn(ControllerArgs) -> i32;

/// Runs the CLI with `args` (program name first), writing to `out` and `err`; returns the exit
/// status. `controller` is refused: it needs the operator, which only the binary links.
pub fn run(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> i32 {
    let refuse = |_: ControllerArgs| -> i32 {
        eprintln!("error: this build of skillbox has no controller; run the skillbox binary");
        EXIT_FAILED
    };
    run_with(args, out, err, &refuse)
}

/// The log format asked for in `args` (`--log-format`) or $SKILLBOX_LOG_FORMAT, read before the
/// full parse so logging is set up first.
pub fn log_format(args: &[OsString]) -> LogFormat {
    let mut it = args.iter().filter_map(|a| a.to_str());
    let mut chosen = std::env::var("SKILLBOX_LOG_FORMAT").ok();
    while let Some(a) = it.next() {
        if let Some(v) = a.strip_prefix("--log-format=") {
            chosen = Some(v.to_string());
        } else if a == "--log-format" {
            chosen = it.next().map(str::to_string);
        }
    }
    match chosen.as_deref() {
        Some("json") => LogFormat::Json,
        _ => LogFormat::Text,
    }
}

/// [`run`], with the operator's entry point for `skillbox controller`.
pub fn run_with(
    args: impl IntoIterator<Item = OsString>,
    out: &mut dyn Write,
    err: &mut dyn Write,
    controller: ControllerMain<'_>,
) -> i32 {
    let cli = match Cli::try_parse_from(args) {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_USAGE } else { EXIT_OK };
            let text = e.render().to_string();
            let _ = if e.use_stderr() {
                write!(err, "{text}")
            } else {
                write!(out, "{text}")
            };
            return code;
        }
    };
    match dispatch(cli, out, err, controller) {
        Ok(code) => code,
        Err(msg) => {
            let _ = writeln!(err, "error: {msg}");
            EXIT_FAILED
        }
    }
}

fn dispatch(
    cli: Cli,
    out: &mut dyn Write,
    err: &mut dyn Write,
    controller: ControllerMain<'_>,
) -> Result<i32, String> {
    let cache_dir = if cli.no_cache {
        None
    } else {
        cli.cache_dir.or_else(default_cache_dir)
    };
    let engine = || {
        SkillEngine::new(EngineConfig {
            cache_dir: cache_dir.clone(),
            ..EngineConfig::default()
        })
        .map_err(|e| e.to_string())
    };
    match cli.command {
        Command::Investigate(a) => cmd_investigate(&engine()?, a, out, err),
        Command::Skill(SkillCommand::Validate { path }) => cmd_validate(&engine()?, &path, out),
        Command::Skill(SkillCommand::Inspect { path, output }) => {
            cmd_inspect(&engine()?, &path, output, out)
        }
        Command::Probe(a) => crate::probe::cmd_probe(&engine()?, &a, out),
        Command::Bench(a) => cmd_bench(&engine()?, &a, out, err),
        Command::Demo { examples } => cmd_demo(&engine()?, examples, out, err),
        Command::Controller(mut a) => {
            a.cache_dir = cache_dir;
            Ok(controller(a))
        }
    }
}

fn cmd_bench(
    engine: &SkillEngine,
    a: &crate::bench::BenchArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, String> {
    let (snap, cost) = crate::bench::load_snapshot(&a.snapshot)?;
    print_snapshot_warnings(&snap, err);
    let skills = load_skills(engine, &a.skills)?;
    let report = crate::bench::bench(&skills, Arc::new(snap), cost, a)?;
    let text = match a.output {
        crate::bench::BenchFormat::Text => crate::bench::render_text(&report),
        crate::bench::BenchFormat::Json => {
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"
        }
    };
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    Ok(EXIT_OK)
}

/// The built-in packages plus those under each `--skills` folder; a later package of the same
/// name replaces an earlier one.
fn load_skills(engine: &SkillEngine, dirs: &[PathBuf]) -> Result<Vec<Arc<LoadedSkill>>, String> {
    let mut packages = SkillPackage::builtins().map_err(|e| e.to_string())?;
    for dir in dirs {
        for p in package_dirs(dir)? {
            let pkg = SkillPackage::load_dir(&p).map_err(|e| e.to_string())?;
            packages.retain(|q| q.name() != pkg.name());
            packages.push(pkg);
        }
    }
    packages
        .iter()
        .map(|p| engine.load(p).map(Arc::new).map_err(|e| e.to_string()))
        .collect()
}

/// `dir` itself when it is a package, else its sub-folders that are packages (sorted).
fn package_dirs(dir: &Path) -> Result<Vec<PathBuf>, String> {
    if dir.join(SKILL_MD_FILE).is_file() {
        return Ok(vec![dir.to_path_buf()]);
    }
    let entries = std::fs::read_dir(dir).map_err(|e| format!("--skills {}: {e}", dir.display()))?;
    let mut out: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join(SKILL_MD_FILE).is_file() && p.join(MANIFEST_FILE).is_file())
        .collect();
    out.sort();
    if out.is_empty() {
        return Err(format!(
            "--skills {}: no skill package here (a package folder holds {SKILL_MD_FILE} and {MANIFEST_FILE})",
            dir.display()
        ));
    }
    Ok(out)
}

fn load_snapshot(path: &Path, err: &mut dyn Write) -> Result<Arc<SnapshotSource>, String> {
    let snap = SnapshotSource::load(path).map_err(|e| format!("snapshot: {e}"))?;
    print_snapshot_warnings(&snap, err);
    Ok(Arc::new(snap))
}

/// Each document the snapshot skipped, with its file and why.
fn print_snapshot_warnings(snap: &SnapshotSource, err: &mut dyn Write) {
    for w in snap.warnings() {
        let doc = w
            .document
            .map(|d| format!(" document {d}"))
            .unwrap_or_default();
        let _ = writeln!(err, "warning: {}{doc}: {} (skipped)", w.file, w.message);
    }
}

fn split_target(target: &str) -> Result<(&str, &str), String> {
    match target.split_once('/') {
        Some((k, n)) if !k.is_empty() && !n.is_empty() && !n.contains('/') => Ok((k, n)),
        _ => Err(format!(
            "target {target:?} must be KIND/NAME, e.g. pod/web-0 or deployment.apps/checkout"
        )),
    }
}

/// The LLM part of an investigation request.
struct LlmChoice {
    mode: LlmMode,
    provider: Option<Box<dyn Provider>>,
}

impl LlmChoice {
    fn none() -> Self {
        Self {
            mode: LlmMode::Never,
            provider: None,
        }
    }
}

/// The object a `KIND/NAME` argument names (in `namespace`, else `default`) and the skills that
/// investigate it (only those named in `only`, when any are).
pub(crate) fn target_and_skills<'a>(
    skills: &'a [Arc<LoadedSkill>],
    evidence: &dyn EvidenceSource,
    target: &str,
    namespace: Option<&str>,
    only: &[String],
) -> Result<(ObjectRef, Vec<&'a Arc<LoadedSkill>>), String> {
    let (kind, name) = split_target(target)?;
    let ns = namespace.unwrap_or("default");
    let target = resolve_target(evidence, kind, Some(ns), name).map_err(|e| e.to_string())?;
    let key = evidence
        .resolve_kind(&target.kind)
        .map_err(|e| e.to_string())?;
    let selected = select_skills(skills, &key, only).map_err(|e| e.to_string())?;
    Ok((target, selected))
}

fn run_investigation(
    skills: &[Arc<LoadedSkill>],
    evidence: Arc<SnapshotSource>,
    target: &str,
    namespace: Option<&str>,
    only: &[String],
    llm: LlmChoice,
) -> Result<Report, String> {
    let (target, selected) = target_and_skills(skills, evidence.as_ref(), target, namespace, only)?;
    let evidence: Arc<dyn EvidenceSource> = evidence;
    let mut det = investigate_deterministic(&selected, evidence, &target);
    if let Some(provider) = &llm.provider
        && llm_should_call(llm.mode, det.report.llm.required, true)
    {
        // NB: the CLI is synchronous; the LLM call runs on a runtime of its own for its duration.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| format!("cannot start the async runtime for the LLM call: {e}"))?;
        runtime.block_on(consult_llm(
            &mut det,
            &selected,
            provider.as_ref(),
            CancellationToken::new(),
        ));
    }
    Ok(det.report)
}

fn cmd_investigate(
    engine: &SkillEngine,
    a: InvestigateArgs,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, String> {
    let llm = LlmChoice {
        mode: match a.llm {
            LlmArg::Auto => LlmMode::Auto,
            LlmArg::Never => LlmMode::Never,
            LlmArg::Always => LlmMode::Always,
        },
        provider: build_provider(&a)?,
    };
    if a.llm == LlmArg::Always && llm.provider.is_none() {
        return Err("--llm always needs --llm-provider".into());
    }
    let evidence = load_snapshot(&a.snapshot, err)?;
    let skills = load_skills(engine, &a.skills)?;
    let report = run_investigation(
        &skills,
        evidence,
        &a.target,
        a.namespace.as_deref(),
        &a.skill,
        llm,
    )?;
    write_report(&report, a.output, out)?;
    Ok(EXIT_OK)
}

/// The provider the flags ask for. Keys come only from the environment and are never printed.
fn build_provider(a: &InvestigateArgs) -> Result<Option<Box<dyn Provider>>, String> {
    let Some(kind) = a.llm_provider else {
        for (flag, set) in [
            ("--llm-endpoint", a.llm_endpoint.is_some()),
            ("--llm-model", a.llm_model.is_some()),
        ] {
            if set {
                return Err(format!("{flag} needs --llm-provider"));
            }
        }
        return Ok(None);
    };
    if a.llm_timeout == 0 {
        return Err("--llm-timeout must be at least 1 second".into());
    }
    let options = ProviderOptions {
        deadline: std::time::Duration::from_secs(a.llm_timeout),
        ..ProviderOptions::default()
    };
    let model = a.llm_model.clone().ok_or_else(|| {
        "--llm-model is required with --llm-provider (e.g. claude-sonnet-4-5, qwen2.5:7b, gpt-4.1-mini)"
            .to_string()
    })?;
    let env_key = |name: &str| std::env::var(name).ok().filter(|k| !k.trim().is_empty());
    let provider: Box<dyn Provider> = match kind {
        ProviderArg::Anthropic => {
            let key = env_key("ANTHROPIC_API_KEY")
                .ok_or("--llm-provider anthropic needs ANTHROPIC_API_KEY in the environment")?;
            let endpoint = a
                .llm_endpoint
                .clone()
                .unwrap_or_else(|| "https://api.anthropic.com".into());
            Box::new(
                AnthropicProvider::new(endpoint, model, key, options).map_err(|e| e.to_string())?,
            )
        }
        ProviderArg::Ollama => {
            let endpoint = a
                .llm_endpoint
                .clone()
                .unwrap_or_else(|| "http://127.0.0.1:11434".into());
            Box::new(OllamaProvider::new(endpoint, model, options).map_err(|e| e.to_string())?)
        }
        ProviderArg::Openai => {
            let endpoint = a
                .llm_endpoint
                .clone()
                .unwrap_or_else(|| "https://api.openai.com".into());
            let mode = match a.llm_response_format {
                ResponseFormatArg::JsonSchema => SchemaMode::JsonSchema,
                ResponseFormatArg::JsonObject => SchemaMode::JsonObject,
            };
            Box::new(
                OpenAiProvider::new(endpoint, model, env_key("OPENAI_API_KEY"), options)
                    .map_err(|e| e.to_string())?
                    .with_schema_mode(mode),
            )
        }
    };
    Ok(Some(provider))
}

fn write_report(report: &Report, format: Format, out: &mut dyn Write) -> Result<(), String> {
    let text = match format {
        Format::Text => report.to_text(),
        Format::Json => {
            let mut s = serde_json::to_string_pretty(report).map_err(|e| e.to_string())?;
            s.push('\n');
            s
        }
        Format::Yaml => serde_yaml_ng::to_string(report).map_err(|e| e.to_string())?,
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())
}

/// A folder with SKILL.md and no manifest is a prose-only skill (a Claude Code skill, say): only
/// its frontmatter is checked.
fn validate_prose_only(path: &Path, out: &mut dyn Write) -> Result<i32, String> {
    let md_path = path.join(SKILL_MD_FILE);
    let text = std::fs::read_to_string(&md_path)
        .map_err(|e| format!("invalid skill: {}: {e}", md_path.display()))?;
    let folder = path
        .canonicalize()
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
    let md = crate::package::SkillMd::parse(&text, folder.as_deref())
        .map_err(|e| format!("invalid skill: {}: {e}", md_path.display()))?;
    writeln!(
        out,
        "ok   SKILL.md: name {:?}, description of {} characters\n\
         ok   prose-only skill: no {MANIFEST_FILE} and no component, so nothing runs in the sandbox\n\
         valid: {}",
        md.name,
        md.description.chars().count(),
        path.display()
    )
    .map_err(|e| e.to_string())?;
    Ok(EXIT_OK)
}

fn cmd_validate(engine: &SkillEngine, path: &Path, out: &mut dyn Write) -> Result<i32, String> {
    if path.join(SKILL_MD_FILE).is_file() && !path.join(MANIFEST_FILE).exists() {
        return validate_prose_only(path, out);
    }
    let pkg = SkillPackage::load_dir(path).map_err(|e| format!("invalid skill package: {e}"))?;
    let w = |out: &mut dyn Write, s: String| writeln!(out, "{s}").map_err(|e| e.to_string());
    w(
        out,
        format!(
            "ok   SKILL.md: name {:?}, description of {} characters",
            pkg.name(),
            pkg.skill_md().description.chars().count()
        ),
    )?;
    w(
        out,
        format!(
            "ok   {MANIFEST_FILE}: a valid skillbox.dev/v1alpha1 Skill (codePrefix {:?})",
            pkg.spec().code_prefix
        ),
    )?;
    w(out, format!("ok   module: sha256 {}", pkg.digest()))?;
    let loaded = engine
        .load(&pkg)
        .map_err(|e| format!("invalid skill package: {e}"))?;
    w(
        out,
        format!(
            "ok   imports within grants: {}",
            loaded
                .imports()
                .iter()
                .filter(|i| i.starts_with(crate::tools::ABI_PACKAGE))
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )?;
    let described = loaded
        .describe()
        .map_err(|e| format!("invalid skill package: describe() failed: {e}"))?;
    if described.name != pkg.name() {
        return Err(format!(
            "invalid skill package: describe() says name {:?}, the package is {:?}",
            described.name,
            pkg.name()
        ));
    }
    if described.code_prefix != pkg.spec().code_prefix {
        return Err(format!(
            "invalid skill package: describe() says code prefix {:?}, {MANIFEST_FILE} says {:?}",
            described.code_prefix,
            pkg.spec().code_prefix
        ));
    }
    w(
        out,
        format!(
            "ok   describe(): {} {} matches the manifest",
            described.name, described.version
        ),
    )?;
    w(out, format!("valid: {}", path.display()))?;
    Ok(EXIT_OK)
}

#[derive(serde::Serialize)]
#[serde(rename_all = "camelCase")]
struct Inspection {
    path: String,
    name: Option<String>,
    digest: String,
    size_bytes: usize,
    imports: Vec<String>,
    exports: Vec<String>,
    granted_tools: Vec<String>,
    targets: Vec<String>,
}

fn cmd_inspect(
    engine: &SkillEngine,
    path: &Path,
    format: Format,
    out: &mut dyn Write,
) -> Result<i32, String> {
    let insp = if path.is_dir() {
        let pkg = SkillPackage::load_dir(path).map_err(|e| e.to_string())?;
        let (imports, exports) = engine
            .component_interface(pkg.digest(), pkg.wasm())
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Inspection {
            path: path.display().to_string(),
            name: Some(pkg.name().into()),
            digest: format!("sha256:{}", pkg.digest()),
            size_bytes: pkg.wasm().len(),
            imports,
            exports,
            granted_tools: pkg
                .spec()
                .grants
                .tools
                .iter()
                .map(|t| t.to_string())
                .collect(),
            targets: pkg.spec().targets.iter().map(|t| t.kind.clone()).collect(),
        }
    } else {
        let wasm = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
        let digest = crate::engine::sha256_hex(&wasm);
        let (imports, exports) = engine
            .component_interface(&digest, &wasm)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        Inspection {
            path: path.display().to_string(),
            name: None,
            digest: format!("sha256:{digest}"),
            size_bytes: wasm.len(),
            imports,
            exports,
            granted_tools: vec![],
            targets: vec![],
        }
    };
    let text = match format {
        Format::Json => serde_json::to_string_pretty(&insp).map_err(|e| e.to_string())? + "\n",
        Format::Yaml => serde_yaml_ng::to_string(&insp).map_err(|e| e.to_string())?,
        Format::Text => {
            let mut s = format!(
                "path:    {}\nname:    {}\ndigest:  {}\nsize:    {} bytes\n",
                insp.path,
                insp.name.as_deref().unwrap_or("(bare component)"),
                insp.digest,
                insp.size_bytes
            );
            s.push_str("imports:\n");
            for i in &insp.imports {
                s.push_str(&format!("  {i}\n"));
            }
            s.push_str("exports:\n");
            for e in &insp.exports {
                s.push_str(&format!("  {e}\n"));
            }
            if insp.name.is_some() {
                s.push_str(&format!(
                    "granted tools: {}\n",
                    insp.granted_tools.join(", ")
                ));
                s.push_str(&format!("targets: {}\n", insp.targets.join(", ")));
            }
            s
        }
    };
    out.write_all(text.as_bytes()).map_err(|e| e.to_string())?;
    Ok(EXIT_OK)
}

/// The examples shipped in the repository.
fn default_examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join("examples")
}

#[derive(serde::Deserialize)]
struct Example {
    description: String,
    target: ExampleTarget,
}

#[derive(serde::Deserialize)]
struct ExampleTarget {
    kind: String,
    namespace: Option<String>,
    name: String,
}

fn cmd_demo(
    engine: &SkillEngine,
    examples: Option<PathBuf>,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> Result<i32, String> {
    let dir = examples.unwrap_or_else(default_examples);
    let dir = dir.canonicalize().unwrap_or(dir);
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&dir)
        .map_err(|e| format!("examples folder {}: {e}", dir.display()))?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("scenario.yaml").is_file())
        .collect();
    folders.sort();
    if folders.is_empty() {
        return Err(format!(
            "no examples (folders with scenario.yaml) in {}",
            dir.display()
        ));
    }
    let skills = load_skills(engine, &[])?;
    let w = |out: &mut dyn Write, s: &str| out.write_all(s.as_bytes()).map_err(|e| e.to_string());
    w(
        out,
        &format!(
            "skillbox demo: {} example snapshot(s) from {}, skills: {}\n",
            folders.len(),
            dir.display(),
            skills
                .iter()
                .map(|s| s.name())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    )?;
    for f in folders {
        let spec_path = f.join("scenario.yaml");
        let text = std::fs::read_to_string(&spec_path)
            .map_err(|e| format!("{}: {e}", spec_path.display()))?;
        let ex: Example =
            serde_yaml_ng::from_str(&text).map_err(|e| format!("{}: {e}", spec_path.display()))?;
        let name = f
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        w(
            out,
            &format!("\n\u{2500}\u{2500} {name}: {}\n", ex.description),
        )?;
        let ns = ex.target.namespace.as_deref();
        w(
            out,
            &format!(
                "$ skillbox investigate {}/{}{} --snapshot {}\n",
                ex.target.kind,
                ex.target.name,
                ns.map(|n| format!(" -n {n}")).unwrap_or_default(),
                f.join("cluster").display()
            ),
        )?;
        let evidence = load_snapshot(&f.join("cluster"), err)?;
        let target = format!("{}/{}", ex.target.kind, ex.target.name);
        let report = run_investigation(&skills, evidence, &target, ns, &[], LlmChoice::none())?;
        w(out, &report.to_text())?;
    }
    Ok(EXIT_OK)
}
