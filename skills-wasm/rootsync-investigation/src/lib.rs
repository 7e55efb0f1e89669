//! `rootsync-investigation`: why a Config Sync (≥ 1.16) RootSync does not sync.
//!
//! The skill reads the RootSync once (`get_object`), gathers the errors it reports in
//! `status.source.errors`, `status.rendering.errors`, `status.sync.errors` and the
//! `Stalled`/`Reconciling` conditions' `errors` (whichever commit they belong to; the same error
//! seen in several places is one finding), classifies each by KNV code plus message text
//! ([`catalogue`]), and reports one finding per distinct error with the evidence it rests on and
//! the change to make in Git. Only for an RBAC denial (KNV2009 forbidden, KNV2013) does it read
//! more: the ClusterRoles named by `spec.override.roleRefs`, to show which verb they lack.
//!
//! Verdict (corpus convention 2, findings.md "Verdicts and gating"):
//! - `resolved` when at least one catalogued finding of severity error or warning exists, even if
//!   an unrecognised error is reported beside it (the catalogued one explains what users see; the
//!   `rootsync.unrecognised-error` finding still lists the rest);
//! - `inconclusive` when something is wrong and nothing catalogued explains it: only
//!   `rootsync.unrecognised-error` (an unknown KNV code, a KNV2009 whose wrapped text matches no
//!   cause, a `Stalled=True` without a catalogued error, error counts without listed errors), or
//!   a RootSync with no status at all (`rootsync.no-status`, info: the reconciler-manager never
//!   reported, and the RootSync alone cannot say why);
//! - `healthy` otherwise: no error, possibly with info findings (`rootsync.knv2014.webhook-modified`,
//!   or `rootsync.sync-pending` while a newer commit or spec is still being synced).

pub mod catalogue;
pub mod context;
pub mod errors;
pub mod finding;
pub mod rbac;
pub mod suggest;
mod util;

#[cfg(test)]
mod tests;

use catalogue::{Cause, UNRECOGNISED};
use context::RootSync;
use errors::ReportedError;
use skillbox_guest::{
    Finding, Manifest, Object, ObjectRef, Outcome, Severity, Skill, Verdict, tools,
};
use util::{MAX_LINE, clip};

/// Kind spelling used to read the target (must match the skill's grants).
pub const ROOTSYNC: &str = "RootSync.configsync.gke.io";
/// Extra code: the RootSync has no status yet.
pub const NO_STATUS: &str = "rootsync.no-status";
/// Extra code: no error, but a newer spec or commit is still being synced.
pub const SYNC_PENDING: &str = "rootsync.sync-pending";
/// At most this many findings (the report's bound).
const MAX_FINDINGS: usize = 50;
/// At most this many evidence lines per finding (the report's bound).
const MAX_EVIDENCE: usize = 20;

/// The rootsync-investigation skill.
#[derive(Debug)]
pub struct RootSyncInvestigation;

impl Skill for RootSyncInvestigation {
    fn describe() -> Manifest {
        Manifest::new(
            "rootsync-investigation",
            env!("CARGO_PKG_VERSION"),
            "rootsync.",
        )
        .target_kinds(["RootSync"])
        .tools(["get-object"])
    }

    fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
        if !target.kind.eq_ignore_ascii_case("RootSync") {
            return Err(format!(
                "rootsync-investigation investigates RootSync objects, not {:?}",
                target.kind
            ));
        }
        let ns = target.namespace.as_deref();
        let obj = tools::get_object(ROOTSYNC, ns, &target.name).map_err(|e| {
            format!(
                "cannot read RootSync {}/{}: {e}",
                ns.unwrap_or(""),
                target.name
            )
        })?;
        Ok(analyze(&RootSync::new(obj), target))
    }

    fn detect(object: &Object) -> bool {
        object.kind() == "RootSync" && errors::has_errors(object)
    }
}

skillbox_guest::export_skill!(RootSyncInvestigation);

/// Classifies the RootSync's errors and decides the verdict.
pub fn analyze(rs: &RootSync, target: &ObjectRef) -> Outcome {
    let rs_ref = rs.object_ref(target);
    let gathered = errors::gather(&rs.obj);
    let classified: Vec<(&ReportedError, Cause)> = gathered
        .errors
        .iter()
        .map(|e| (e, catalogue::classify(&e.code, &e.text())))
        .collect();

    let is_rbac = |c: Cause| matches!(c, Cause::Forbidden | Cause::InsufficientPermission);
    let denials: Vec<Option<rbac::Denial>> = classified
        .iter()
        .map(|(e, c)| {
            if is_rbac(*c) {
                rbac::parse_denial(&e.text())
            } else {
                None
            }
        })
        .collect();
    let role_refs = rbac::role_refs(&rs.obj);
    let roles = if denials.iter().any(Option::is_some) {
        rbac::read_roles(&role_refs)
    } else {
        Vec::new()
    };

    let mut findings: Vec<Finding> = Vec::new();
    for ((err, cause), denial) in classified.iter().zip(&denials) {
        let inputs = suggest::Inputs {
            rs,
            denial: denial.as_ref(),
            role_refs: &role_refs,
            roles: if denial.is_some() { &roles } else { &[] },
        };
        findings.push(finding::build(&finding::Parts {
            rs,
            rs_ref: &rs_ref,
            err,
            cause: *cause,
            inputs: &inputs,
            notes: &gathered.summary_notes,
        }));
    }
    if gathered.counted_but_unlisted {
        let mut f = Finding::warning(
            UNRECOGNISED,
            clip(
                &format!(
                    "{} counts errors in an errorSummary but lists none, so their cause is unknown",
                    rs.display()
                ),
                util::MAX_SUMMARY,
            ),
        )
        .resource(rs_ref.clone());
        for n in &gathered.summary_notes {
            f = f.evidence(clip(n, MAX_LINE));
        }
        for (stage, path) in errors::STAGES
            .iter()
            .map(|s| (s, format!("status.{s}.errorSummary.totalCount")))
        {
            if let Some(n) = rs.obj.i64_at(&path).filter(|n| *n > 0) {
                f = f.evidence(format!(
                    "status.{stage}.errorSummary.totalCount = {n}, status.{stage}.errors is empty"
                ));
            }
        }
        f = f.evidence(rs.commits_line());
        findings.push(f);
    }

    if findings.is_empty() {
        if !rs.has_status() {
            let f = Finding::info(
                NO_STATUS,
                format!(
                    "{} has no status yet: the reconciler-manager has not reported on it",
                    rs.display()
                ),
            )
            .resource(rs_ref.clone())
            .evidence("status: no conditions and no source, rendering or sync commit")
            .evidence(rs.source_line());
            return Outcome::inconclusive(vec![f]);
        }
        let pending = rs.pending();
        if !pending.is_empty() {
            let mut f = Finding::info(
                SYNC_PENDING,
                format!(
                    "{} reports no error; a newer spec or commit is still being synced",
                    rs.display()
                ),
            )
            .resource(rs_ref.clone());
            for l in pending {
                f = f.evidence(clip(&l, MAX_LINE));
            }
            f = f.evidence(rs.commits_line());
            if let Some(l) = rs.syncing_line() {
                f = f.evidence(l);
            }
            findings.push(f);
        }
    }

    // Severity, then code, keeping the order errors were read in (stable sort).
    findings.sort_by(|a, b| (a.severity, &a.code).cmp(&(b.severity, &b.code)));
    if findings.len() > MAX_FINDINGS {
        let dropped: Vec<String> = findings[MAX_FINDINGS..]
            .iter()
            .map(|f| f.code.clone())
            .collect();
        findings.truncate(MAX_FINDINGS);
        if let Some(last) = findings.last_mut() {
            last.evidence.truncate(MAX_EVIDENCE - 1);
            last.evidence.push(clip(
                &format!(
                    "… and {} more findings not listed: {}",
                    dropped.len(),
                    dropped.join(", ")
                ),
                MAX_LINE,
            ));
        }
    }
    let verdict = verdict(&findings);
    Outcome { verdict, findings }
}

/// `resolved` when a catalogued finding of severity error or warning exists; `inconclusive` when
/// only uncatalogued ones (or `rootsync.no-status`) describe the problem; else `healthy`.
fn verdict(findings: &[Finding]) -> Verdict {
    let explained = findings
        .iter()
        .any(|f| f.code != UNRECOGNISED && f.severity != Severity::Info);
    if explained {
        Verdict::Resolved
    } else if findings
        .iter()
        .any(|f| f.code == UNRECOGNISED || f.code == NO_STATUS)
    {
        Verdict::Inconclusive
    } else {
        Verdict::Healthy
    }
}
