//! Prometheus metrics of the controller: what it reconciled, what investigations concluded, how
//! skills, tools, LLM calls and triggers fared, and whether this replica leads — served as
//! OpenMetrics text on `/metrics` (see [`crate::serve`]).

use prometheus_client::encoding::{EncodeLabelSet, EncodeMetric, MetricEncoder};
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::{MetricType, TypedMetric};
use prometheus_client::registry::{Registry, Unit};
use std::collections::BTreeMap;
use std::sync::{Arc, PoisonError, RwLock};

/// Longest label value kept: skill and provider names come from cluster objects, so a clip keeps
/// one odd object from bloating every scrape.
const MAX_LABEL_CHARS: usize = 63;

/// Reconcile times: a Skill compile or an Investigation with an LLM call can take tens of seconds.
const RECONCILE_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// Skill call times: a sandboxed call runs in micro- to milliseconds and is cut at its deadline.
const SKILL_BUCKETS: [f64; 12] = [
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 2.0,
];

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct KindOutcome {
    kind: String,
    outcome: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct KindLabel {
    kind: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct VerdictLabel {
    verdict: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct SkillLabel {
    skill: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct SkillClass {
    skill: String,
    class: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct ProviderClass {
    provider: String,
    class: String,
}

#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, EncodeLabelSet)]
struct SkillDecision {
    skill: String,
    decision: String,
}

/// A metric family kept in label order.
// NB: prometheus-client's own `Family` is a HashMap, so its series come out in a different order
// in every process; a BTreeMap makes a scrape (and a test's expectation) deterministic.
#[derive(Debug)]
struct Family<L, M> {
    series: Arc<RwLock<BTreeMap<L, M>>>,
    make: fn() -> M,
}

impl<L, M> Clone for Family<L, M> {
    fn clone(&self) -> Self {
        Self {
            series: Arc::clone(&self.series),
            make: self.make,
        }
    }
}

impl<L: Ord + Clone, M: Default> Default for Family<L, M> {
    fn default() -> Self {
        Self::with_constructor(M::default)
    }
}

impl<L: Ord + Clone, M> Family<L, M> {
    fn with_constructor(make: fn() -> M) -> Self {
        Self {
            series: Arc::default(),
            make,
        }
    }

    /// Runs `f` on the series of `labels`, creating it on first use.
    fn with(&self, labels: L, f: impl FnOnce(&M)) {
        {
            let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
            if let Some(metric) = series.get(&labels) {
                f(metric);
                return;
            }
        }
        let mut series = self.series.write().unwrap_or_else(PoisonError::into_inner);
        f(series.entry(labels).or_insert_with(self.make));
    }
}

impl<L: Ord + Clone> Family<L, Counter> {
    fn inc_by(&self, labels: L, n: u64) {
        self.with(labels, |counter| {
            counter.inc_by(n);
        });
    }
}

impl<L, M> EncodeMetric for Family<L, M>
where
    L: EncodeLabelSet + std::fmt::Debug,
    M: EncodeMetric + TypedMetric,
{
    fn encode(&self, mut encoder: MetricEncoder) -> Result<(), std::fmt::Error> {
        let series = self.series.read().unwrap_or_else(PoisonError::into_inner);
        for (labels, metric) in series.iter() {
            metric.encode(encoder.encode_family(labels)?)?;
        }
        Ok(())
    }

    fn metric_type(&self) -> MetricType {
        M::TYPE
    }
}

fn reconcile_histogram() -> Histogram {
    Histogram::new(RECONCILE_BUCKETS)
}

fn skill_histogram() -> Histogram {
    Histogram::new(SKILL_BUCKETS)
}

/// The controller's metrics under the `skillbox` prefix. Every handle is internally shared and
/// atomic, so one `Arc<Metrics>` serves reconcilers, the trigger ladder and `/metrics` without a
/// lock.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    reconciles: Family<KindOutcome, Counter>,
    reconcile_duration: Family<KindLabel, Histogram>,
    investigations: Family<VerdictLabel, Counter>,
    skill_duration: Family<SkillLabel, Histogram>,
    skill_errors: Family<SkillClass, Counter>,
    tool_denials: Family<SkillLabel, Counter>,
    llm_calls: Family<ProviderClass, Counter>,
    triggers: Family<SkillDecision, Counter>,
    leader: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Registers every metric up front so a scrape shows the full set (with HELP and TYPE) even
    /// before the first reconcile.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("skillbox");
        let reconciles = Family::<KindOutcome, Counter>::default();
        registry.register(
            "reconciles",
            "Reconciles by kind (Investigation, Skill, ModelProvider) and outcome (ok, error)",
            reconciles.clone(),
        );
        let reconcile_duration: Family<KindLabel, Histogram> =
            Family::with_constructor(reconcile_histogram);
        registry.register_with_unit(
            "reconcile_duration",
            "Time one reconcile took, by kind",
            Unit::Seconds,
            reconcile_duration.clone(),
        );
        let investigations = Family::<VerdictLabel, Counter>::default();
        registry.register(
            "investigations",
            "Finished investigations by verdict (resolved, healthy, inconclusive, failed)",
            investigations.clone(),
        );
        let skill_duration: Family<SkillLabel, Histogram> =
            Family::with_constructor(skill_histogram);
        registry.register_with_unit(
            "skill_duration",
            "Time one sandboxed skill call took, by skill",
            Unit::Seconds,
            skill_duration.clone(),
        );
        let skill_errors = Family::<SkillClass, Counter>::default();
        registry.register(
            "skill_errors",
            "Skill calls that failed, by skill and trap class",
            skill_errors.clone(),
        );
        let tool_denials = Family::<SkillLabel, Counter>::default();
        registry.register(
            "tool_denials",
            "Tool calls the policy denied, by skill",
            tool_denials.clone(),
        );
        let llm_calls = Family::<ProviderClass, Counter>::default();
        registry.register(
            "llm_calls",
            "LLM calls by provider and class (ok or the error class)",
            llm_calls.clone(),
        );
        let triggers = Family::<SkillDecision, Counter>::default();
        registry.register(
            "trigger_decisions",
            "Trigger ladder decisions by skill (created, deduplicated, rate-limited, capped, healthy)",
            triggers.clone(),
        );
        let leader = Gauge::default();
        registry.register(
            "leader",
            "1 while this replica holds the leader Lease, else 0",
            leader.clone(),
        );
        Self {
            registry,
            reconciles,
            reconcile_duration,
            investigations,
            skill_duration,
            skill_errors,
            tool_denials,
            llm_calls,
            triggers,
            leader,
        }
    }

    /// Counts one reconcile so an error rate per kind can alert.
    pub fn reconciled(&self, kind: &str, outcome: &str) {
        self.reconciles.inc_by(
            KindOutcome {
                kind: label(kind),
                outcome: label(outcome),
            },
            1,
        );
    }

    /// Records how long one reconcile of `kind` took.
    pub fn reconcile_duration(&self, kind: &str, seconds: f64) {
        self.reconcile_duration
            .with(KindLabel { kind: label(kind) }, |h| h.observe(seconds));
    }

    /// Counts one finished investigation by its verdict.
    pub fn investigation(&self, verdict: &str) {
        self.investigations.inc_by(
            VerdictLabel {
                verdict: label(verdict),
            },
            1,
        );
    }

    /// Records one skill call's time, and its trap class when it failed, so a slow or failing
    /// skill stands out by name.
    pub fn skill_call(&self, skill: &str, seconds: f64, error_class: Option<&str>) {
        let skill = label(skill);
        if let Some(class) = error_class {
            self.skill_errors.inc_by(
                SkillClass {
                    skill: skill.clone(),
                    class: label(class),
                },
                1,
            );
        }
        self.skill_duration
            .with(SkillLabel { skill }, |h| h.observe(seconds));
    }

    /// Adds a skill's denied tool calls: a rising count means a skill asks for more than its grants.
    pub fn tool_denials(&self, skill: &str, count: u64) {
        if count == 0 {
            return;
        }
        self.tool_denials.inc_by(
            SkillLabel {
                skill: label(skill),
            },
            count,
        );
    }

    /// Counts one LLM call by provider and `class` (`ok` or the error class).
    pub fn llm_call(&self, provider: &str, class: &str) {
        self.llm_calls.inc_by(
            ProviderClass {
                provider: label(provider),
                class: label(class),
            },
            1,
        );
    }

    /// Counts one trigger-ladder decision, to see dedupe, rate limits and caps at work.
    pub fn trigger(&self, skill: &str, decision: &str) {
        self.triggers.inc_by(
            SkillDecision {
                skill: label(skill),
                decision: label(decision),
            },
            1,
        );
    }

    /// Marks whether this replica leads, so a dashboard shows exactly one active replica.
    pub fn set_leader(&self, leader: bool) {
        self.leader.set(i64::from(leader));
    }

    /// The whole registry as OpenMetrics text (ending in `# EOF`), what `/metrics` serves.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if let Err(error) = prometheus_client::encoding::text::encode(&mut out, &self.registry) {
            // NB: writing into a String cannot fail; only a metric's own encoder could.
            tracing::warn!(%error, "encoding metrics failed; serving what was encoded");
        }
        out
    }
}

/// A label value clipped to [`MAX_LABEL_CHARS`] characters and escaped for the text format.
// NB: prometheus-client writes label values verbatim, so a `"`, `\` or newline in a cluster
// object's name would break the whole exposition; the OpenMetrics escapes are applied here.
fn label(value: &str) -> String {
    let mut out = String::with_capacity(value.len().min(MAX_LABEL_CHARS));
    for c in value.chars().take(MAX_LABEL_CHARS) {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encode_holds_every_family_with_its_labels() {
        let metrics = Metrics::new();
        metrics.reconciled("Investigation", "ok");
        metrics.reconciled("Investigation", "ok");
        metrics.reconciled("Skill", "error");
        metrics.reconcile_duration("Skill", 0.2);
        metrics.investigation("resolved");
        metrics.skill_call("workload-health", 0.0003, None);
        metrics.skill_call("workload-health", 0.004, Some("fuel"));
        metrics.tool_denials("workload-health", 3);
        metrics.tool_denials("mesh-investigation", 0);
        metrics.llm_call("ollama", "ok");
        metrics.llm_call("anthropic", "timeout");
        metrics.trigger("workload-health", "rate-limited");
        metrics.set_leader(true);
        let text = metrics.encode();
        for line in [
            "# TYPE skillbox_reconciles counter",
            "skillbox_reconciles_total{kind=\"Investigation\",outcome=\"ok\"} 2",
            "skillbox_reconciles_total{kind=\"Skill\",outcome=\"error\"} 1",
            "# TYPE skillbox_reconcile_duration_seconds histogram",
            "# UNIT skillbox_reconcile_duration_seconds seconds",
            "skillbox_reconcile_duration_seconds_count{kind=\"Skill\"} 1",
            "skillbox_reconcile_duration_seconds_bucket{le=\"0.25\",kind=\"Skill\"} 1",
            "skillbox_reconcile_duration_seconds_bucket{le=\"0.1\",kind=\"Skill\"} 0",
            "skillbox_investigations_total{verdict=\"resolved\"} 1",
            "skillbox_skill_duration_seconds_count{skill=\"workload-health\"} 2",
            "skillbox_skill_errors_total{skill=\"workload-health\",class=\"fuel\"} 1",
            "skillbox_tool_denials_total{skill=\"workload-health\"} 3",
            "skillbox_llm_calls_total{provider=\"ollama\",class=\"ok\"} 1",
            "skillbox_llm_calls_total{provider=\"anthropic\",class=\"timeout\"} 1",
            "skillbox_trigger_decisions_total{skill=\"workload-health\",decision=\"rate-limited\"} 1",
            "skillbox_leader 1",
            "# EOF",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in:\n{text}"
            );
        }
        assert!(
            !text.contains("mesh-investigation"),
            "a zero count adds no series"
        );
        metrics.set_leader(false);
        assert!(metrics.encode().lines().any(|l| l == "skillbox_leader 0"));
    }

    #[test]
    fn fresh_registry_lists_every_family_once() {
        let text = Metrics::new().encode();
        for name in [
            "skillbox_reconciles",
            "skillbox_reconcile_duration_seconds",
            "skillbox_investigations",
            "skillbox_skill_duration_seconds",
            "skillbox_skill_errors",
            "skillbox_tool_denials",
            "skillbox_llm_calls",
            "skillbox_trigger_decisions",
            "skillbox_leader",
        ] {
            let help = format!("# HELP {name} ");
            assert_eq!(
                text.lines().filter(|l| l.starts_with(&help)).count(),
                1,
                "{name} in:\n{text}"
            );
        }
        assert!(text.ends_with("# EOF\n"));
    }

    #[test]
    fn label_values_are_clipped_and_escaped() {
        let long = "ß".repeat(100);
        assert_eq!(label(&long).chars().count(), MAX_LABEL_CHARS);
        assert_eq!(label("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
        let metrics = Metrics::new();
        metrics.investigation(&"x".repeat(200));
        metrics.llm_call("evil\"} 1\nfake_metric{a=\"", "ok");
        let text = metrics.encode();
        let clipped = format!(
            "skillbox_investigations_total{{verdict=\"{}\"}} 1",
            "x".repeat(63)
        );
        assert!(text.lines().any(|l| l == clipped), "{text}");
        assert!(
            !text.lines().any(|l| l.starts_with("fake_metric")),
            "{text}"
        );
    }

    #[test]
    fn series_come_out_in_label_order() {
        let metrics = Metrics::new();
        for skill in ["b", "a", "c"] {
            metrics.trigger(skill, "created");
        }
        let text = metrics.encode();
        let skills: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("skillbox_trigger_decisions_total{skill=\""))
            .map(|rest| &rest[..1])
            .collect();
        assert_eq!(skills, ["a", "b", "c"], "{text}");
        assert_eq!(text, metrics.encode());
    }
}
