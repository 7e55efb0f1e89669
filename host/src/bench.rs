//! `skillbox bench`: what each skill costs on your own snapshot — how long the snapshot takes to
//! load and how much memory it holds, then every selected skill called repeatedly, sandboxed, on
//! sampled targets (or the ones you name), with time percentiles, fuel, peak memory and tool calls.

use crate::engine::{LoadedSkill, SkillRun};
use crate::evidence::{EvidenceSource, SnapshotSource};
use crate::investigate::find_skill;
use serde::Serialize;
use skillbox_guest::ObjectRef;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// `skillbox bench`: the command's arguments.
#[derive(Debug, Clone, clap::Args)]
pub struct BenchArgs {
    /// Snapshot folder of `kubectl get -o yaml` output.
    #[arg(long, value_name = "DIR")]
    pub snapshot: PathBuf,
    /// Targets to measure, KIND/NAME (in the namespace of -n). Default: a sample of the objects
    /// of every kind an installed skill targets.
    #[arg(value_name = "KIND/NAME")]
    pub targets: Vec<String>,
    /// Namespace of the named targets (default: `default`).
    #[arg(short = 'n', long)]
    pub namespace: Option<String>,
    /// Measure only this skill (repeatable).
    #[arg(long = "skill", value_name = "NAME")]
    pub skill: Vec<String>,
    /// Also load skill packages from this folder (repeatable), as `investigate` does.
    #[arg(long = "skills", value_name = "DIR")]
    pub skills: Vec<PathBuf>,
    /// Calls per skill and target (after one warm-up call).
    #[arg(long, default_value_t = 20, value_name = "N")]
    pub iterations: u32,
    /// Objects sampled per target kind when no target is named, spread evenly over the kind's
    /// objects in namespace/name order.
    #[arg(long, default_value_t = 5, value_name = "N")]
    pub sample: usize,
    /// Output format.
    #[arg(short = 'o', long, value_enum, default_value_t = BenchFormat::Text)]
    pub output: BenchFormat,
}

/// `skillbox bench` output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchFormat {
    /// Tables.
    Text,
    /// [`BenchReport`] as JSON.
    Json,
}

/// How the snapshot loaded.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SnapshotCost {
    /// The folder.
    pub path: String,
    /// Objects indexed.
    pub objects: usize,
    /// Documents skipped (see `skillbox investigate` for the messages).
    pub warnings: usize,
    /// Wall time of the load, microseconds.
    pub load_micros: u64,
    /// Growth of the process's resident memory over the load, bytes (Linux; absent elsewhere).
    pub resident_bytes: Option<u64>,
}

/// One skill on one target, over the iterations.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TargetCost {
    /// The skill.
    pub skill: String,
    /// The target, `Kind ns/name`.
    pub target: String,
    /// The verdict of the last call, or the error class when it failed.
    pub result: String,
    /// Call times, microseconds: p50, p90, max.
    pub p50_micros: u64,
    /// See `p50_micros`.
    pub p90_micros: u64,
    /// See `p50_micros`.
    pub max_micros: u64,
    /// Fuel of the last call (deterministic for the same input, but for HashMap seeds).
    pub fuel: u64,
    /// Peak linear memory of the last call, bytes.
    pub memory_peak_bytes: u64,
    /// Tool calls of the last call.
    pub tool_calls: u32,
}

/// One skill over all its targets.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SkillCost {
    /// The skill.
    pub skill: String,
    /// Targets measured.
    pub targets: usize,
    /// Calls timed.
    pub calls: usize,
    /// Over every call: p50, p90, max, microseconds.
    pub p50_micros: u64,
    /// See `p50_micros`.
    pub p90_micros: u64,
    /// See `p50_micros`.
    pub max_micros: u64,
    /// Mean fuel per call.
    pub mean_fuel: u64,
    /// Largest linear memory of any call, bytes.
    pub memory_peak_bytes: u64,
    /// Mean tool calls per call.
    pub mean_tool_calls: f64,
    /// Calls that failed, by error class.
    pub errors: BTreeMap<String, usize>,
}

/// The whole result; `-o json` prints it as is.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BenchReport {
    /// The snapshot.
    pub snapshot: SnapshotCost,
    /// Per skill, sorted by name.
    pub skills: Vec<SkillCost>,
    /// Per skill and target, sorted.
    pub targets: Vec<TargetCost>,
}

/// The process's resident memory, bytes, from `/proc/self/status` (Linux only).
pub fn resident_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb * 1024)
}

/// Loads the snapshot, measuring it.
pub fn load_snapshot(path: &std::path::Path) -> Result<(SnapshotSource, SnapshotCost), String> {
    let before = resident_bytes();
    let started = Instant::now();
    let snap = SnapshotSource::load(path).map_err(|e| format!("snapshot: {e}"))?;
    let load_micros = micros(started.elapsed());
    let after = resident_bytes();
    let cost = SnapshotCost {
        path: path.display().to_string(),
        objects: snap.object_count(),
        warnings: snap.warnings().len(),
        load_micros,
        resident_bytes: before.zip(after).map(|(b, a)| a.saturating_sub(b)),
    };
    Ok((snap, cost))
}

pub(crate) fn micros(d: Duration) -> u64 {
    u64::try_from(d.as_micros()).unwrap_or(u64::MAX)
}

/// The targets to measure with each skill: the named ones, or a sample of each target kind.
fn targets(
    skills: &[Arc<LoadedSkill>],
    evidence: &dyn EvidenceSource,
    args: &BenchArgs,
) -> Result<Vec<(Arc<LoadedSkill>, ObjectRef)>, String> {
    let mut out = Vec::new();
    if !args.targets.is_empty() {
        for t in &args.targets {
            let (target, selected) = crate::cli::target_and_skills(
                skills,
                evidence,
                t,
                args.namespace.as_deref(),
                &args.skill,
            )?;
            for s in selected {
                out.push((Arc::clone(s), target.clone()));
            }
        }
        return Ok(out);
    }
    let chosen: Vec<&Arc<LoadedSkill>> = if args.skill.is_empty() {
        skills.iter().collect()
    } else {
        args.skill
            .iter()
            .map(|n| find_skill(skills, n).map_err(|e| e.to_string()))
            .collect::<Result<_, _>>()?
    };
    for skill in chosen {
        for t in &skill.spec().targets {
            let query = match t.group.as_deref() {
                Some(g) if !g.is_empty() => format!("{}.{g}", t.kind),
                _ => t.kind.clone(),
            };
            // NB: a kind the snapshot does not hold has nothing to sample.
            let Ok(key) = evidence.resolve_kind(&query) else {
                continue;
            };
            let mut names = evidence.names(&key).map_err(|e| e.to_string())?;
            names.sort();
            let n = names.len();
            let take = args.sample.min(n);
            for i in 0..take {
                let (ns, name) = &names[i * n / take];
                if let Some(o) = evidence
                    .get(&key, ns.as_deref(), name)
                    .map_err(|e| e.to_string())?
                {
                    out.push((Arc::clone(skill), o.object_ref()));
                }
            }
        }
    }
    if out.is_empty() {
        return Err(
            "no target to measure: the snapshot holds no object of a kind the selected skills target"
                .into(),
        );
    }
    Ok(out)
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Measures every (skill, target) pair `args.iterations` times after one warm-up call.
pub fn bench(
    skills: &[Arc<LoadedSkill>],
    evidence: Arc<dyn EvidenceSource>,
    snapshot: SnapshotCost,
    args: &BenchArgs,
) -> Result<BenchReport, String> {
    if args.iterations == 0 {
        return Err("--iterations must be at least 1".into());
    }
    let pairs = targets(skills, evidence.as_ref(), args)?;
    let mut per_target = Vec::new();
    let mut per_skill: BTreeMap<String, (Vec<u64>, Vec<SkillRunCost>, usize)> = BTreeMap::new();
    for (skill, target) in pairs {
        let _warm = skill.investigate(Arc::clone(&evidence), &target);
        let mut times = Vec::with_capacity(args.iterations as usize);
        let mut last = None;
        let entry = per_skill.entry(skill.name().to_string()).or_default();
        entry.2 += 1;
        for _ in 0..args.iterations {
            let run = skill.investigate(Arc::clone(&evidence), &target);
            times.push(micros(run.stats.duration));
            entry.1.push(SkillRunCost::of(&run));
            last = Some(run);
        }
        entry.0.extend(&times);
        times.sort_unstable();
        let Some(last) = last else { continue };
        per_target.push(TargetCost {
            skill: skill.name().to_string(),
            target: target.to_string(),
            result: match &last.outcome {
                Ok(o) => o.verdict.as_str().to_string(),
                Err(e) => e.class().to_string(),
            },
            p50_micros: percentile(&times, 0.5),
            p90_micros: percentile(&times, 0.9),
            max_micros: times.last().copied().unwrap_or(0),
            fuel: last.stats.fuel_consumed,
            memory_peak_bytes: last.stats.memory_peak_bytes,
            tool_calls: last.stats.tool_calls,
        });
    }
    per_target.sort_by(|a, b| (&a.skill, &a.target).cmp(&(&b.skill, &b.target)));
    let skills = per_skill
        .into_iter()
        .map(|(skill, (mut times, runs, targets))| {
            times.sort_unstable();
            let n = runs.len().max(1) as u64;
            let mut errors = BTreeMap::new();
            for r in &runs {
                if let Some(class) = r.error {
                    *errors.entry(class.to_string()).or_insert(0) += 1;
                }
            }
            SkillCost {
                skill,
                targets,
                calls: runs.len(),
                p50_micros: percentile(&times, 0.5),
                p90_micros: percentile(&times, 0.9),
                max_micros: times.last().copied().unwrap_or(0),
                mean_fuel: runs.iter().map(|r| r.fuel).sum::<u64>() / n,
                memory_peak_bytes: runs.iter().map(|r| r.memory).max().unwrap_or(0),
                mean_tool_calls: runs.iter().map(|r| f64::from(r.tool_calls)).sum::<f64>()
                    / n as f64,
                errors,
            }
        })
        .collect();
    Ok(BenchReport {
        snapshot,
        skills,
        targets: per_target,
    })
}

/// What one timed call cost.
#[derive(Debug, Clone, Copy)]
struct SkillRunCost {
    fuel: u64,
    memory: u64,
    tool_calls: u32,
    error: Option<&'static str>,
}

impl SkillRunCost {
    fn of(run: &SkillRun) -> Self {
        Self {
            fuel: run.stats.fuel_consumed,
            memory: run.stats.memory_peak_bytes,
            tool_calls: run.stats.tool_calls,
            error: run.outcome.as_ref().err().map(|e| e.class()),
        }
    }
}

fn human_micros(us: u64) -> String {
    if us >= 10_000 {
        format!("{:.1} ms", us as f64 / 1000.0)
    } else {
        format!("{us} µs")
    }
}

fn human_bytes(b: u64) -> String {
    if b >= 1 << 20 {
        format!("{:.1} MiB", b as f64 / f64::from(1 << 20))
    } else {
        format!("{} KiB", b / 1024)
    }
}

/// The text tables.
pub fn render_text(r: &BenchReport) -> String {
    let s = &r.snapshot;
    let rate = s.objects as f64 / (s.load_micros.max(1) as f64 / 1e6);
    let mut out = format!(
        "Snapshot {}: {} objects in {} ({rate:.0} objects/s), {} warnings{}\n\n",
        s.path,
        s.objects,
        human_micros(s.load_micros),
        s.warnings,
        s.resident_bytes
            .map(|b| format!(", resident memory +{}", human_bytes(b)))
            .unwrap_or_default()
    );
    out.push_str(&format!(
        "{:<24} {:>7} {:>6} {:>9} {:>9} {:>9} {:>11} {:>10} {:>6}  ERRORS\n",
        "SKILL", "TARGETS", "CALLS", "P50", "P90", "MAX", "FUEL/CALL", "MEMORY", "TOOLS"
    ));
    for k in &r.skills {
        let errors = if k.errors.is_empty() {
            "-".to_string()
        } else {
            k.errors
                .iter()
                .map(|(c, n)| format!("{c} {n}"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        out.push_str(&format!(
            "{:<24} {:>7} {:>6} {:>9} {:>9} {:>9} {:>11} {:>10} {:>6.1}  {errors}\n",
            k.skill,
            k.targets,
            k.calls,
            human_micros(k.p50_micros),
            human_micros(k.p90_micros),
            human_micros(k.max_micros),
            k.mean_fuel,
            human_bytes(k.memory_peak_bytes),
            k.mean_tool_calls,
        ));
    }
    out.push_str(&format!(
        "\n{:<24} {:<48} {:<13} {:>9} {:>9} {:>11} {:>6}\n",
        "SKILL", "TARGET", "RESULT", "P50", "MAX", "FUEL", "TOOLS"
    ));
    for t in &r.targets {
        out.push_str(&format!(
            "{:<24} {:<48} {:<13} {:>9} {:>9} {:>11} {:>6}\n",
            t.skill,
            t.target,
            t.result,
            human_micros(t.p50_micros),
            human_micros(t.max_micros),
            t.fuel,
            t.tool_calls
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_pick_by_rank() {
        let v: Vec<u64> = (1..=10).collect();
        assert_eq!(percentile(&v, 0.5), 6);
        assert_eq!(percentile(&v, 0.9), 9);
        assert_eq!(percentile(&[], 0.5), 0);
        assert_eq!(percentile(&[7], 0.9), 7);
    }

    #[test]
    fn resident_memory_is_read_on_linux() {
        if cfg!(target_os = "linux") {
            assert!(resident_bytes().is_some_and(|b| b > 0));
        }
    }
}
