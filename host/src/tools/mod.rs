//! The host side of the tool ABI: every call is checked against the skill's grants, budgeted,
//! answered from an evidence source and recorded (the record is what the skill saw).

mod native;
mod policy;
#[cfg(test)]
mod tests;
mod whitelist;

pub use native::NativeTools;
pub use policy::{Denial, NamespaceScope, ResourcePolicy};
pub use whitelist::{ABI_PACKAGE, ImportName, ImportRefusal, ToolWhitelist};

use crate::engine::bindings::ToolError;
use crate::evidence::{EvidenceError, EvidenceSource, KindKey, StoredObject};
use skillbox_crds::{Limits, Tool};
use skillbox_guest::ObjectRef;
use skillbox_guest::selector::Selector;
use std::sync::Arc;

/// Calls past the budget that still get a polite `budget-exhausted` answer; a skill that keeps
/// calling after that is trapped.
const BUDGET_GRACE_CALLS: u32 = 16;
/// No single answer may exceed this, whatever the skill's byte budget.
const MAX_RESULT_BYTES: u64 = 4 * 1024 * 1024;
/// Denied requests kept per call (all are counted): enough to say what a skill was after.
const MAX_DENIALS_KEPT: usize = 16;
/// Characters of one kept denial.
const MAX_DENIAL_CHARS: usize = 240;
/// Log tails are cut to this many lines and bytes.
const MAX_LOG_LINES: u32 = 1_000;
const MAX_LOG_BYTES: usize = 64 * 1024;

/// Per-call caps on tool use, from the Skill's limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ToolBudget {
    /// Tool calls in one skill call.
    pub max_calls: u32,
    /// Bytes of answers in one skill call.
    pub max_bytes: u64,
}

impl From<&Limits> for ToolBudget {
    fn from(l: &Limits) -> Self {
        Self {
            max_calls: l.max_tool_calls,
            max_bytes: l.max_result_bytes,
        }
    }
}

/// One answered tool call: what the skill asked and the evidence it received.
#[derive(Debug, Clone)]
pub struct ToolRead {
    /// Which tool.
    pub tool: Tool,
    /// The request, readable (`Pod bookinfo/reviews-v2-…`).
    pub request: String,
    /// Objects returned.
    pub objects: Vec<Arc<StoredObject>>,
    /// Log text returned.
    pub log: Option<String>,
}

/// Why the host trapped a skill from inside a tool call.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "tool budget exhausted: {calls} calls (budget {max_calls}), {bytes} bytes (budget {max_bytes})"
)]
pub struct BudgetTrap {
    /// Calls made.
    pub calls: u32,
    /// Call budget.
    pub max_calls: u32,
    /// Bytes answered.
    pub bytes: u64,
    /// Byte budget.
    pub max_bytes: u64,
}

/// The per-call state behind the tools: grants, budget, counters and the record.
pub struct ToolContext {
    evidence: Arc<dyn EvidenceSource>,
    policy: Arc<ResourcePolicy>,
    budget: ToolBudget,
    calls: u32,
    bytes: u64,
    exhausted: bool,
    denials: u32,
    denied: Vec<String>,
    reads: Vec<ToolRead>,
}

impl ToolContext {
    /// A fresh context for one skill call.
    pub fn new(
        evidence: Arc<dyn EvidenceSource>,
        policy: Arc<ResourcePolicy>,
        budget: ToolBudget,
    ) -> Self {
        Self {
            evidence,
            policy,
            budget,
            calls: 0,
            bytes: 0,
            exhausted: false,
            denials: 0,
            denied: Vec::new(),
            reads: Vec::new(),
        }
    }

    /// A context for calls that get no tools (`describe`, `detect`): no evidence, no grants, a
    /// zero budget.
    pub fn toolless() -> Self {
        Self::new(
            Arc::new(NoEvidence),
            Arc::new(ResourcePolicy::default()),
            ToolBudget {
                max_calls: 0,
                max_bytes: 0,
            },
        )
    }

    /// Tool calls the resource policy refused so far.
    pub fn denials(&self) -> u32 {
        self.denials
    }

    /// Counts a call the policy refused — an operator alerts on skills that keep asking for
    /// what they were not granted — and keeps the first few, so a reviewer (`skillbox probe`)
    /// can see what was asked. `request` is only rendered for a denial.
    fn note_denial<T>(&mut self, result: &Result<T, ToolError>, request: impl FnOnce() -> String) {
        if let Err(ToolError::Denied(why)) = result {
            self.denials += 1;
            if self.denied.len() < MAX_DENIALS_KEPT {
                let line: String = format!("{}: {why}", request())
                    .chars()
                    .map(|c| if c.is_control() { ' ' } else { c })
                    .take(MAX_DENIAL_CHARS)
                    .collect();
                self.denied.push(line);
            }
        }
    }

    /// Tool calls made so far.
    pub fn calls(&self) -> u32 {
        self.calls
    }

    /// Whether the skill hit its budget.
    pub fn budget_exhausted(&self) -> bool {
        self.exhausted
    }

    /// The record of answered calls and the denied requests kept.
    pub fn into_record(self) -> (Vec<ToolRead>, Vec<String>) {
        (self.reads, self.denied)
    }

    /// Counts a call; `Err` traps the guest, `Ok(Some)` answers it with budget-exhausted.
    fn admit(&mut self) -> wasmtime::Result<Option<ToolError>> {
        self.calls = self.calls.saturating_add(1);
        if self.calls <= self.budget.max_calls && self.bytes <= self.budget.max_bytes {
            return Ok(None);
        }
        self.exhausted = true;
        if self.calls > self.budget.max_calls.saturating_add(BUDGET_GRACE_CALLS) {
            return Err(wasmtime::Error::new(self.trap()));
        }
        Ok(Some(ToolError::BudgetExhausted(format!(
            "{} of {} tool calls and {} of {} bytes used",
            self.calls, self.budget.max_calls, self.bytes, self.budget.max_bytes
        ))))
    }

    fn trap(&self) -> BudgetTrap {
        BudgetTrap {
            calls: self.calls,
            max_calls: self.budget.max_calls,
            bytes: self.bytes,
            max_bytes: self.budget.max_bytes,
        }
    }

    /// Charges an answer of `n` bytes against the budget.
    fn charge(&mut self, n: u64) -> Result<(), ToolError> {
        if n > MAX_RESULT_BYTES {
            return Err(ToolError::TooLarge(format!(
                "answer of {n} bytes exceeds the {MAX_RESULT_BYTES}-byte cap; narrow the query"
            )));
        }
        if self.bytes.saturating_add(n) > self.budget.max_bytes {
            self.exhausted = true;
            return Err(ToolError::BudgetExhausted(format!(
                "answer of {n} bytes would exceed the byte budget ({} of {} used)",
                self.bytes, self.budget.max_bytes
            )));
        }
        self.bytes += n;
        Ok(())
    }

    fn resolve(&self, query: &str) -> Result<KindKey, ToolError> {
        self.policy.check_kind_query(query).map_err(denied)?;
        self.evidence.resolve_kind(query).map_err(evidence_error)
    }

    /// `get-object`.
    pub fn get_object(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> wasmtime::Result<Result<String, ToolError>> {
        if let Some(e) = self.admit()? {
            return Ok(Err(e));
        }
        let result = self.get_object_inner(kind, namespace, name);
        self.note_denial(&result, || {
            format!("get-object {kind:?} {} {name:?}", scope(namespace))
        });
        Ok(result)
    }

    fn get_object_inner(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ToolError> {
        let key = self.resolve(kind)?;
        self.policy.check(&key, namespace).map_err(denied)?;
        let obj = self
            .evidence
            .get(&key, namespace, name)
            .map_err(evidence_error)?
            .ok_or_else(|| ToolError::NotFound(describe_request(&key, namespace, name)))?;
        self.charge(obj.json.len() as u64)?;
        let json = obj.json.to_string();
        self.reads.push(ToolRead {
            tool: Tool::GetObject,
            request: describe_request(&key, namespace, name),
            objects: vec![obj],
            log: None,
        });
        Ok(json)
    }

    /// `list-objects`.
    pub fn list_objects(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> wasmtime::Result<Result<Vec<String>, ToolError>> {
        if let Some(e) = self.admit()? {
            return Ok(Err(e));
        }
        let result = self.list_objects_inner(kind, namespace, label_selector);
        self.note_denial(&result, || {
            format!(
                "list-objects {kind:?} {} selector {label_selector:?}",
                scope(namespace)
            )
        });
        Ok(result)
    }

    fn list_objects_inner(
        &mut self,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<String>, ToolError> {
        let key = self.resolve(kind)?;
        let selector =
            Selector::parse(label_selector).map_err(|e| ToolError::Invalid(e.to_string()))?;
        let objects = match namespace {
            Some(ns) => {
                self.policy.check(&key, Some(ns)).map_err(denied)?;
                self.evidence.list(&key, Some(ns), &selector)
            }
            None => match self.policy.namespaces_for(&key).map_err(denied)? {
                NamespaceScope::All => self.evidence.list(&key, None, &selector),
                // NB: one failed namespace fails the whole answer: a partial list would read as
                // "these are all the objects there are".
                NamespaceScope::Only(nss) => nss.iter().try_fold(Vec::new(), |mut all, ns| {
                    all.extend(self.evidence.list(&key, Some(ns), &selector)?);
                    Ok(all)
                }),
            },
        }
        .map_err(evidence_error)?;
        let total: u64 = objects.iter().map(|o| o.json.len() as u64).sum();
        self.charge(total)?;
        let out = objects.iter().map(|o| o.json.to_string()).collect();
        self.reads.push(ToolRead {
            tool: Tool::ListObjects,
            request: format!(
                "{key} in {} with selector {:?}",
                namespace.unwrap_or("every granted namespace"),
                label_selector
            ),
            objects,
            log: None,
        });
        Ok(out)
    }

    /// `list-events`.
    pub fn list_events(
        &mut self,
        involved: &ObjectRef,
    ) -> wasmtime::Result<Result<Vec<String>, ToolError>> {
        if let Some(e) = self.admit()? {
            return Ok(Err(e));
        }
        let result = self.list_events_inner(involved);
        self.note_denial(&result, || format!("list-events {involved}"));
        Ok(result)
    }

    fn list_events_inner(&mut self, involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        self.policy
            .check_kind_query(&involved.kind)
            .map_err(denied)?;
        let event_kind = KindKey {
            group: String::new(),
            kind: "Event".into(),
        };
        self.policy
            .check(&event_kind, involved.namespace.as_deref())
            .map_err(denied)?;
        let events = self.evidence.events_for(involved).map_err(evidence_error)?;
        let total: u64 = events.iter().map(|o| o.json.len() as u64).sum();
        self.charge(total)?;
        let out = events.iter().map(|o| o.json.to_string()).collect();
        self.reads.push(ToolRead {
            tool: Tool::ListEvents,
            request: format!("events about {involved}"),
            objects: events,
            log: None,
        });
        Ok(out)
    }

    /// `read-logs`.
    pub fn read_logs(
        &mut self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
    ) -> wasmtime::Result<Result<String, ToolError>> {
        if let Some(e) = self.admit()? {
            return Ok(Err(e));
        }
        let result = self.read_logs_inner(namespace, pod, container, tail_lines);
        self.note_denial(&result, || {
            format!("read-logs in {namespace:?} pod {pod:?} container {container:?}")
        });
        Ok(result)
    }

    fn read_logs_inner(
        &mut self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
    ) -> Result<String, ToolError> {
        let pod_kind = KindKey {
            group: String::new(),
            kind: "Pod".into(),
        };
        self.policy
            .check(&pod_kind, Some(namespace))
            .map_err(denied)?;
        let text = self
            .evidence
            .logs(
                namespace,
                pod,
                container,
                tail_lines.min(MAX_LOG_LINES),
                MAX_LOG_BYTES,
            )
            .map_err(evidence_error)?
            .ok_or_else(|| {
                ToolError::NotFound(format!(
                    "no log for container {container} of Pod {namespace}/{pod}"
                ))
            })?;
        self.charge(text.len() as u64)?;
        self.reads.push(ToolRead {
            tool: Tool::ReadLogs,
            request: format!("log of Pod {namespace}/{pod} container {container}"),
            objects: Vec::new(),
            log: Some(text.clone()),
        });
        Ok(text)
    }
}

/// A request's namespace, as a denial names it.
fn scope(namespace: Option<&str>) -> String {
    match namespace {
        Some(ns) => format!("in {ns:?}"),
        None => "in every namespace".into(),
    }
}

/// Evidence for calls that must not read any.
struct NoEvidence;

impl EvidenceSource for NoEvidence {
    fn resolve_kind(&self, query: &str) -> Result<KindKey, EvidenceError> {
        Err(EvidenceError::UnknownKind {
            query: query.into(),
            known: Vec::new(),
        })
    }
    fn get(
        &self,
        _: &KindKey,
        _: Option<&str>,
        _: &str,
    ) -> Result<Option<Arc<StoredObject>>, EvidenceError> {
        Ok(None)
    }
    fn list(
        &self,
        _: &KindKey,
        _: Option<&str>,
        _: &Selector,
    ) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Ok(Vec::new())
    }
    fn events_for(&self, _: &ObjectRef) -> Result<Vec<Arc<StoredObject>>, EvidenceError> {
        Ok(Vec::new())
    }
    fn logs(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: u32,
        _: usize,
    ) -> Result<Option<String>, EvidenceError> {
        Ok(None)
    }
    fn names(&self, _: &KindKey) -> Result<Vec<(Option<String>, String)>, EvidenceError> {
        Ok(Vec::new())
    }
    fn kinds(&self) -> Result<Vec<KindKey>, EvidenceError> {
        Ok(Vec::new())
    }
}

fn describe_request(key: &KindKey, namespace: Option<&str>, name: &str) -> String {
    match namespace {
        Some(ns) => format!("{key} {ns}/{name}"),
        None => format!("{key} {name}"),
    }
}

fn denied(d: Denial) -> ToolError {
    ToolError::Denied(d.0)
}

/// The guest's view of a source's failure. Exhaustive on purpose: a new failure must be
/// classified here, or a skill could read it as something it is not.
fn evidence_error(e: EvidenceError) -> ToolError {
    let message = e.to_string();
    match e {
        EvidenceError::UnknownKind { .. } => ToolError::NotFound(message),
        EvidenceError::AmbiguousKind { .. }
        | EvidenceError::InvalidSelector(_)
        | EvidenceError::InvalidLogPath { .. }
        | EvidenceError::InvalidName { .. } => ToolError::Invalid(message),
        EvidenceError::Denied { .. } => ToolError::Denied(message),
        EvidenceError::BudgetExhausted { .. } => ToolError::BudgetExhausted(message),
        EvidenceError::Unavailable { .. }
        | EvidenceError::NotAnObject { .. }
        | EvidenceError::SnapshotMissing { .. }
        | EvidenceError::NotADirectory { .. }
        | EvidenceError::LogRead { .. } => ToolError::Unavailable(message),
    }
}
