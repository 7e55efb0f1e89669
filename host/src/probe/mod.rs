//! `skillbox probe`: checks a third-party skill package before anyone installs it.
//!
//! The probe validates the package, lists the component's imports next to its grants (an
//! import the grants do not allow is a failure: the engine refuses to link it), warns about
//! over-broad grants and limits, then runs the skill's `investigate` and `detect` on every
//! target of a canary snapshot seeded with honeytokens ([`canary`]) and scans the output:
//!
//! - a Secret's honeytoken in any output is a **failure** (`secret leaked`): Secrets are denied
//!   to every tool, so this would mean the sandbox is broken;
//! - a ConfigMap, env-value or annotation honeytoken in output is a **failure** too (`sensitive
//!   value echoed`): the skill may read these, but repeating them puts credentials people keep
//!   in env values and ConfigMaps into reports and `.status`;
//! - a call that traps (deadline, fuel, memory, panic, stack overflow, tool budget, stderr
//!   limit, instantiation) is a failure; a skill that returns its own error is a warning (the
//!   canary is synthetic and may lack what it looks for);
//! - a tool call the grants deny (a Secret, another namespace, an ungranted kind) is a failure:
//!   the skill asks for what it was not given;
//! - anything the output checks ([`crate::check`]) drop or cut — a foreign code, an object it
//!   never read, a destructive suggestion, a flood, giant text — is a failure;
//! - asking for the environment (`wasi:cli/environment`, answered empty) in a call that returns
//!   is a failure (a trapped call's reads are std's panic handler looking up `RUST_BACKTRACE`).
//!
//! The result is a list of [`Check`]s; [`ProbeReport::passed`] is true when none failed.

pub mod canary;

use crate::check;
use crate::engine::{CallError, CallStats, SkillEngine};
use crate::evidence::{EvidenceSource, SnapshotSource};
use crate::package::{PackageError, SkillPackage};
use crate::tools::ToolWhitelist;
use canary::{Canary, CanaryError, TokenOrigin};
use serde::Serialize;
use skillbox_crds::{Limits, SkillSpec, Tool};
use std::path::Path;
use std::sync::Arc;

/// Memory above this (MiB) is flagged: four times the default is rarely needed to read YAML.
pub const MEMORY_WARN_MIB: u32 = 256;
/// A deadline above this (ms) is flagged: five times the default.
pub const TIMEOUT_WARN_MILLIS: u32 = 10_000;
/// Fuel above this is flagged: ten times the default.
pub const FUEL_WARN: u64 = 50_000_000_000;
/// A resource grant with more kinds than this is flagged as broad.
pub const KINDS_WARN: usize = 8;

/// Why the probe could not run at all (as opposed to a failed check).
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The package is invalid.
    #[error(transparent)]
    Package(#[from] PackageError),
    /// The canary snapshot could not be written or read back.
    #[error(transparent)]
    Canary(#[from] CanaryError),
    /// The canary snapshot was written but does not load.
    #[error("the canary snapshot does not load: {0}")]
    Snapshot(String),
}

/// How a check came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Nothing to worry about.
    Pass,
    /// Allowed, but a reviewer should look (exit status stays 0).
    Warn,
    /// The skill must not be installed as is (exit status 1).
    Fail,
}

impl Status {
    /// `pass`, `warn` or `fail`.
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Warn => "warn",
            Status::Fail => "fail",
        }
    }
}

/// One row of the probe's table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Check {
    /// Stable name: `package`, `import <name>`, `link`, `grant`, `limits`, `canary`,
    /// `investigate <Kind ns/name>`, `detect <Kind ns/name>`, `honeytokens`.
    pub check: String,
    /// The result.
    pub result: Status,
    /// Why, in one line.
    pub detail: String,
}

/// What one sandboxed call cost, and how it ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CallRecord {
    /// `investigate` or `detect`.
    pub call: String,
    /// The canary target, `Kind ns/name`.
    pub target: String,
    /// Wall-clock time, microseconds (instantiation included).
    pub duration_micros: u64,
    /// Fuel consumed.
    pub fuel_consumed: u64,
    /// Peak linear memory, bytes.
    pub memory_peak_bytes: u64,
    /// Tool calls made.
    pub tool_calls: u32,
    /// Tool calls the policy denied (Secrets, ungranted kinds or namespaces).
    pub tool_denials: u32,
    /// Calls to `wasi:cli/environment` (answered empty).
    pub environment_reads: u32,
    /// The error class (`deadline`, `fuel`, `memory`, `panic`, …) when the call failed.
    pub error_class: Option<String>,
    /// The error message when the call failed.
    pub error: Option<String>,
}

/// The probe's whole result; `-o json` prints it as is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProbeReport {
    /// The skill's name.
    pub skill: String,
    /// sha256 of its component.
    pub digest: String,
    /// The granted tools, sorted.
    pub granted_tools: Vec<String>,
    /// The component's imports, sorted.
    pub imports: Vec<String>,
    /// Every check, in table order.
    pub checks: Vec<Check>,
    /// Every sandboxed call, sorted by call then target.
    pub calls: Vec<CallRecord>,
    /// Number of failed checks.
    pub failures: usize,
    /// Number of warnings.
    pub warnings: usize,
    /// No check failed.
    pub passed: bool,
}

/// A row; control characters (from skill-controlled text) become spaces, one line per row.
fn check(result: Status, name: impl Into<String>, detail: impl Into<String>) -> Check {
    let clean = |s: String| s.replace(|c: char| c.is_control(), " ");
    Check {
        check: clean(name.into()),
        result,
        detail: clean(detail.into()),
    }
}

/// Warnings for grants and limits wider than a skill usually needs.
pub fn grant_checks(spec: &SkillSpec) -> Vec<Check> {
    let mut out = Vec::new();
    for (i, g) in spec.grants.resources.iter().enumerate() {
        let at = format!("resources[{i}]");
        if g.namespaces.is_empty() {
            out.push(check(
                Status::Warn,
                "grant",
                format!("{at} has no namespaces: cluster-wide reads"),
            ));
        }
        if g.kinds.iter().any(|k| k.trim() == "*") {
            out.push(check(
                Status::Warn,
                "grant",
                format!("{at} grants `*`: every kind but Secret"),
            ));
        }
        if g.kinds.len() > KINDS_WARN {
            out.push(check(
                Status::Warn,
                "grant",
                format!(
                    "{at} grants {} kinds (more than {KINDS_WARN})",
                    g.kinds.len()
                ),
            ));
        }
    }
    if spec.grants.tools.contains(&Tool::ReadLogs) {
        out.push(check(
            Status::Warn,
            "grant",
            "read-logs is granted: logs often carry secrets",
        ));
    }
    let l: &Limits = &spec.limits;
    let d = Limits::default();
    if l.memory_mib > MEMORY_WARN_MIB {
        out.push(check(
            Status::Warn,
            "limits",
            format!(
                "memoryMib {} > {MEMORY_WARN_MIB} (default {})",
                l.memory_mib, d.memory_mib
            ),
        ));
    }
    if l.timeout_millis > TIMEOUT_WARN_MILLIS {
        out.push(check(
            Status::Warn,
            "limits",
            format!(
                "timeoutMillis {} > {TIMEOUT_WARN_MILLIS} (default {})",
                l.timeout_millis, d.timeout_millis
            ),
        ));
    }
    if l.fuel > FUEL_WARN {
        out.push(check(
            Status::Warn,
            "limits",
            format!("fuel {} > {FUEL_WARN} (default {})", l.fuel, d.fuel),
        ));
    }
    if out.is_empty() {
        out.push(check(Status::Pass, "grant", "no over-broad grant or limit"));
    }
    out
}

/// A call failure's status: the skill's own error is a warning, any trap a failure.
fn error_status(e: &CallError) -> Status {
    if e.is_trap() {
        Status::Fail
    } else {
        Status::Warn
    }
}

/// Probes the package folder at `path`; `names` are the canary targets' names (each target kind
/// gets one object per name; a skill may behave by name).
pub fn probe(
    engine: &SkillEngine,
    path: &Path,
    names: &[String],
) -> Result<ProbeReport, ProbeError> {
    let pkg = SkillPackage::load_dir(path)?;
    let spec = pkg.spec();
    let mut checks = vec![check(
        Status::Pass,
        "package",
        format!("{} {} is valid", pkg.name(), short(pkg.digest())),
    )];
    let mut granted: Vec<String> = spec.grants.tools.iter().map(|t| t.to_string()).collect();
    granted.sort();
    granted.dedup();
    let mut imports = Vec::new();
    match engine.component_interface(pkg.digest(), pkg.wasm()) {
        Ok((mut i, _)) => {
            i.sort();
            i.dedup();
            let wl = ToolWhitelist::new(spec.grants.tools.iter().copied());
            for import in &i {
                checks.push(match wl.check_one(import) {
                    Ok(()) => check(Status::Pass, format!("import {import}"), "allowed"),
                    Err(r) => check(Status::Fail, format!("import {import}"), r.to_string()),
                });
            }
            imports = i;
        }
        Err(e) => checks.push(check(Status::Fail, "imports", e)),
    }
    checks.extend(grant_checks(spec));
    let mut calls = Vec::new();
    match engine.load(&pkg) {
        Err(e) => {
            checks.push(check(Status::Fail, "link", e.to_string()));
            checks.push(check(
                Status::Fail,
                "canary",
                "not run: the skill does not link",
            ));
        }
        Ok(skill) => {
            checks.push(check(
                Status::Pass,
                "link",
                format!("linked with {}", granted.join(", ")),
            ));
            let canary = Canary::write(spec, names)?;
            let snap = SnapshotSource::load(canary.dir())
                .map_err(|e| ProbeError::Snapshot(e.to_string()))?;
            let evidence: Arc<dyn EvidenceSource> = Arc::new(snap);
            let mut output = String::new();
            for t in &canary.targets {
                let label = t.object.to_string();
                let run = skill.investigate(evidence.clone(), &t.object);
                let s = &run.stats;
                let error = run.outcome.as_ref().err().cloned();
                let (status, detail) = match run.outcome {
                    Ok(o) => {
                        output.push_str(&serde_json::to_string(&o).unwrap_or_default());
                        let summary =
                            format!("{}, {} findings", o.verdict.as_str(), o.findings.len());
                        let checked = check::check_outcome(&skill, &t.object, &run.reads, o);
                        if let Some(first) = checked.rejected.first() {
                            let mut classes: Vec<_> =
                                checked.rejected.iter().map(|r| r.class()).collect();
                            classes.dedup();
                            checks.push(check(
                                Status::Fail,
                                format!("output {label}"),
                                format!(
                                    "{} rejected by the output checks ({}): {first}",
                                    checked.rejected.len(),
                                    classes.join(", ")
                                ),
                            ));
                        }
                        (Status::Pass, format!("{summary}; {}", cost(s)))
                    }
                    Err(ref e) => {
                        output.push_str(&e.to_string());
                        (error_status(e), format!("{}: {e}; {}", e.class(), cost(s)))
                    }
                };
                checks.push(check(status, format!("investigate {label}"), detail));
                if s.tool_denials > 0 {
                    checks.push(check(
                        Status::Fail,
                        format!("policy {label}"),
                        format!(
                            "{} tool calls denied, first: {}",
                            s.tool_denials,
                            run.denied.first().map(String::as_str).unwrap_or("")
                        ),
                    ));
                }
                if !matches!(error, Some(ref e) if e.is_trap()) {
                    checks.extend(environment_check(&label, s));
                }
                calls.push(record("investigate", &label, s, error.as_ref()));
            }
            for t in &canary.targets {
                let label = t.object.to_string();
                let (result, s) = skill.detect_measured(&t.json);
                let (status, detail) = match &result {
                    Ok(b) => (Status::Pass, format!("returned {b}; {}", cost(&s))),
                    Err(e) => {
                        output.push_str(&e.to_string());
                        (error_status(e), format!("{}: {e}; {}", e.class(), cost(&s)))
                    }
                };
                checks.push(check(status, format!("detect {label}"), detail));
                if !matches!(result, Err(ref e) if e.is_trap()) {
                    checks.extend(environment_check(&label, &s));
                }
                calls.push(record("detect", &label, &s, result.as_ref().err()));
            }
            checks.extend(honeytoken_checks(&canary, &output));
        }
    }
    let failures = checks.iter().filter(|c| c.result == Status::Fail).count();
    let warnings = checks.iter().filter(|c| c.result == Status::Warn).count();
    Ok(ProbeReport {
        skill: pkg.name().to_string(),
        digest: pkg.digest().to_string(),
        granted_tools: granted,
        imports,
        checks,
        calls,
        failures,
        warnings,
        passed: failures == 0,
    })
}

/// What a call cost, for a row's detail.
fn cost(s: &CallStats) -> String {
    format!(
        "{} µs, {} fuel, {} KiB memory, {} tool calls",
        s.duration.as_micros(),
        s.fuel_consumed,
        s.memory_peak_bytes / 1024,
        s.tool_calls
    )
}

/// A failure row when the call asked for the environment.
fn environment_check(label: &str, s: &CallStats) -> Option<Check> {
    (s.environment_reads > 0).then(|| {
        check(
            Status::Fail,
            format!("environment {label}"),
            format!(
                "asked for the environment, arguments or working directory {} times (the sandbox answers empty)",
                s.environment_reads
            ),
        )
    })
}

fn record(call: &str, label: &str, s: &CallStats, error: Option<&CallError>) -> CallRecord {
    CallRecord {
        call: call.into(),
        target: label.to_string(),
        duration_micros: crate::bench::micros(s.duration),
        fuel_consumed: s.fuel_consumed,
        memory_peak_bytes: s.memory_peak_bytes,
        tool_calls: s.tool_calls,
        tool_denials: s.tool_denials,
        environment_reads: s.environment_reads,
        error_class: error.map(|e| e.class().to_string()),
        error: error.map(|e| e.to_string()),
    }
}

/// The honeytoken rows: one per token found (sorted by where it was planted), or one pass row.
fn honeytoken_checks(canary: &Canary, output: &str) -> Vec<Check> {
    let mut out: Vec<Check> = canary
        .found_in(output)
        .map(|t| match t.origin {
            TokenOrigin::Secret => check(
                Status::Fail,
                "honeytokens",
                format!("secret leaked: {}", t.place),
            ),
            TokenOrigin::Readable => check(
                Status::Fail,
                "honeytokens",
                format!(
                    "sensitive value echoed: {} (a skill must not repeat values it reads)",
                    t.place
                ),
            ),
        })
        .collect();
    if out.is_empty() {
        out.push(check(
            Status::Pass,
            "honeytokens",
            format!(
                "none of {} honeytokens reached the output",
                canary.tokens.len()
            ),
        ));
    }
    out
}

/// `skillbox probe` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ProbeFormat {
    /// The check table.
    Text,
    /// [`ProbeReport`] as JSON.
    Json,
}

/// `skillbox probe SKILL_PATH`: the command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct ProbeArgs {
    /// The skill package folder (SKILL.md, skill.yaml, the component).
    pub path: std::path::PathBuf,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = ProbeFormat::Text)]
    pub output: ProbeFormat,
    /// Name of the canary target objects (repeatable; default `canary`): a skill may behave
    /// by its target's name, so a reviewer can try the names it special-cases.
    #[arg(long = "target-name", value_name = "NAME")]
    pub target_names: Vec<String>,
}

/// Runs `skillbox probe`: writes the report to `out`; exit status 0 when every check passed
/// (warnings allowed), 1 when one failed. `Err` when the probe could not run (e.g. an invalid
/// package).
pub fn cmd_probe(
    engine: &SkillEngine,
    args: &ProbeArgs,
    out: &mut dyn std::io::Write,
) -> Result<i32, String> {
    let names = if args.target_names.is_empty() {
        vec!["canary".to_string()]
    } else {
        let mut n = args.target_names.clone();
        n.sort();
        n.dedup();
        n
    };
    if let Some(bad) = names.iter().find(|n| !valid_name(n)) {
        return Err(format!(
            "--target-name {bad:?} is not a valid object name (lowercase letters, digits, '-', '.')"
        ));
    }
    let report = probe(engine, &args.path, &names).map_err(|e| e.to_string())?;
    let text = match args.output {
        ProbeFormat::Text => render_text(&report),
        ProbeFormat::Json => {
            serde_json::to_string_pretty(&report).map_err(|e| e.to_string())? + "\n"
        }
    };
    out.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write the report: {e}"))?;
    Ok(if report.passed { 0 } else { 1 })
}

/// A Kubernetes object name (DNS subdomain), so the canary stays a valid snapshot.
fn valid_name(n: &str) -> bool {
    !n.is_empty()
        && n.len() <= 253
        && n.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
        && n.starts_with(|c: char| c.is_ascii_alphanumeric())
        && n.ends_with(|c: char| c.is_ascii_alphanumeric())
}

fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}

/// Column widths are capped so one long detail does not push the table off screen.
const MAX_CHECK_WIDTH: usize = 48;

/// The text table: `CHECK  RESULT  DETAIL` rows, then a summary line.
pub fn render_text(r: &ProbeReport) -> String {
    let w = r
        .checks
        .iter()
        .map(|c| c.check.chars().count())
        .max()
        .unwrap_or(5)
        .clamp(5, MAX_CHECK_WIDTH);
    let mut s = format!("Probe of skill {} ({})\n", r.skill, short(&r.digest));
    s.push_str(&format!("{:<w$}  {:<6}  DETAIL\n", "CHECK", "RESULT"));
    for c in &r.checks {
        s.push_str(&format!(
            "{:<w$}  {:<6}  {}\n",
            c.check,
            c.result.as_str(),
            c.detail
        ));
    }
    s.push_str(&format!(
        "Result: {} ({} failed, {} warnings)\n",
        if r.passed { "passed" } else { "failed" },
        r.failures,
        r.warnings
    ));
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(yaml: &str) -> SkillSpec {
        serde_yaml_ng::from_str(yaml).unwrap()
    }

    #[test]
    fn narrow_grants_pass_and_broad_ones_warn() {
        let ok = spec(
            "codePrefix: p.\nmodule: {url: x}\ngrants: {tools: [get-object], resources: [{kinds: [Pod], namespaces: [a]}]}\ntargets: [{kind: Pod}]\n",
        );
        let c = grant_checks(&ok);
        assert_eq!(c.len(), 1);
        assert_eq!(c[0].result, Status::Pass);
        let broad = spec(
            "codePrefix: p.\nmodule: {url: x}\ngrants: {tools: [read-logs], resources: [{kinds: ['*']}, {kinds: [A, B, C, D, E, F, G, H, I], namespaces: [a]}]}\ntargets: [{kind: Pod}]\nlimits: {memoryMib: 512, timeoutMillis: 60000, fuel: 100000000000}\n",
        );
        let details: Vec<_> = grant_checks(&broad)
            .into_iter()
            .inspect(|c| assert_eq!(c.result, Status::Warn))
            .map(|c| c.detail)
            .collect();
        assert_eq!(details.len(), 7, "{details:?}");
        assert!(details[0].contains("cluster-wide"));
        assert!(details[1].contains("`*`"));
        assert!(details[2].contains("9 kinds"));
        assert!(details[3].contains("read-logs"));
        assert!(details[4].starts_with("memoryMib 512"));
        assert!(details[5].starts_with("timeoutMillis 60000"));
        assert!(details[6].starts_with("fuel "));
    }

    #[test]
    fn a_trap_fails_and_a_skill_error_warns() {
        assert_eq!(error_status(&CallError::StackOverflow), Status::Fail);
        assert_eq!(
            error_status(&CallError::FuelExhausted { fuel: 1 }),
            Status::Fail
        );
        assert_eq!(error_status(&CallError::Skill("no".into())), Status::Warn);
    }

    #[test]
    fn the_text_table_has_a_header_rows_and_a_result() {
        let r = ProbeReport {
            skill: "s".into(),
            digest: "0123456789abcdef".into(),
            granted_tools: vec![],
            imports: vec![],
            checks: vec![
                check(Status::Pass, "package", "ok"),
                check(Status::Fail, "link", "refused"),
            ],
            calls: vec![],
            failures: 1,
            warnings: 0,
            passed: false,
        };
        assert_eq!(
            render_text(&r),
            "Probe of skill s (0123456789ab)\nCHECK    RESULT  DETAIL\npackage  pass    ok\nlink     fail    refused\nResult: failed (1 failed, 0 warnings)\n"
        );
    }
}
