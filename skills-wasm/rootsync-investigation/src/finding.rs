//! Turns one classified error into a finding: a summary naming the RootSync, the object and the
//! cause; evidence (where the error was reported, its code, its message lines without the
//! "For more information" trailer, `errorResources`, the cause's specifics, the commits, the
//! `Syncing` condition and the source spec); and the Git changes of [`crate::suggest`].

use crate::catalogue::{Cause, RenderProblem, SourceProblem};
use crate::context::RootSync;
use crate::errors::ReportedError;
use crate::rbac::{Denial, RoleRead, verbs_for};
use crate::suggest::{self, Inputs, immutable_field, missing_resource, render_dir};
use crate::util::{MAX_LINE, MAX_SUMMARY, clip, quoted_after, short_commit};
use skillbox_guest::{Finding, ObjectRef};

/// Message lines shown per error.
const MAX_MESSAGE_LINES: usize = 6;
/// `errorResources` shown per error.
const MAX_RESOURCES: usize = 5;
/// Evidence lines per finding (the report's bound).
const MAX_EVIDENCE: usize = 20;

/// What a finding is built from.
pub struct Parts<'a> {
    /// The RootSync.
    pub rs: &'a RootSync,
    /// Its reference (a resource of every finding).
    pub rs_ref: &'a ObjectRef,
    /// The error.
    pub err: &'a ReportedError,
    /// Its cause.
    pub cause: Cause,
    /// Suggestion inputs.
    pub inputs: &'a Inputs<'a>,
    /// `errorSummary` notes.
    pub notes: &'a [String],
}

/// Builds the finding for one error.
pub fn build(p: &Parts<'_>) -> Finding {
    let text = p.err.text();
    let mut f = Finding::new(p.cause.code(), p.cause.severity(), summary(p, &text))
        .resource(p.rs_ref.clone());
    if matches!(p.cause, Cause::Forbidden | Cause::InsufficientPermission) {
        for o in p.inputs.roles.iter().filter_map(|r| r.object.as_ref()) {
            f = f.resource(o.object_ref());
        }
    }
    let mut ev: Vec<String> = Vec::new();
    let places: Vec<String> = p
        .err
        .places
        .iter()
        .map(|pl| match &pl.commit {
            Some(c) => format!("{} (commit {})", pl.path, short_commit(Some(c))),
            None => pl.path.clone(),
        })
        .collect();
    ev.push(format!(
        "{} {} reported at {}",
        p.rs.display(),
        p.err.knv(),
        places.join("; ")
    ));
    for l in p.err.lines.iter().take(MAX_MESSAGE_LINES) {
        ev.push(format!("message: {l}"));
    }
    if p.err.lines.len() > MAX_MESSAGE_LINES {
        ev.push(format!(
            "message: … {} more lines",
            p.err.lines.len() - MAX_MESSAGE_LINES
        ));
    }
    for (i, r) in p.err.resources.iter().take(MAX_RESOURCES).enumerate() {
        let mut parts = Vec::new();
        for (k, v) in [
            ("sourcePath", &r.source_path),
            ("kind", &r.kind),
            ("group", &r.group),
            ("version", &r.version),
            ("namespace", &r.namespace),
            ("name", &r.name),
        ] {
            if !v.is_empty() {
                parts.push(format!("{k} {v}"));
            }
        }
        ev.push(format!("errorResources[{i}]: {}", parts.join(", ")));
    }
    if p.err.resources.len() > MAX_RESOURCES {
        ev.push(format!(
            "errorResources: … {} more",
            p.err.resources.len() - MAX_RESOURCES
        ));
    }
    ev.extend(specifics(p, &text));
    ev.extend(p.notes.iter().cloned());
    ev.push(p.rs.commits_line());
    if let Some(l) = p.rs.syncing_line() {
        ev.push(l);
    }
    ev.push(p.rs.source_line());
    ev.truncate(MAX_EVIDENCE);
    for l in ev {
        f = f.evidence(clip(&l, MAX_LINE));
    }
    for s in suggest::suggestions(p.err, p.cause, p.inputs) {
        f = f.suggestion(s);
    }
    f
}

/// The object an error is about: its first errorResource, else the `failed to apply <id>:`
/// prefix of the text.
fn object_of(err: &ReportedError, text: &str) -> Option<String> {
    if let Some(r) = err.resources.first() {
        return Some(r.id());
    }
    for verb in ["failed to apply ", "failed to prune ", "failed to delete "] {
        if let Some(at) = text.find(verb) {
            let rest = &text[at + verb.len()..];
            if let Some(end) = rest.find(": ") {
                return Some(rest[..end].replace(", ", " "));
            }
        }
    }
    None
}

fn summary(p: &Parts<'_>, text: &str) -> String {
    let rs = p.rs.display();
    let obj = object_of(p.err, text);
    let on = obj.as_deref().unwrap_or("its objects");
    let commit = p
        .err
        .places
        .iter()
        .find_map(|pl| pl.commit.as_deref())
        .map(|c| format!(" at commit {}", short_commit(Some(c))))
        .unwrap_or_default();
    let s = match p.cause {
        Cause::CrdMissing => format!(
            "{rs} cannot sync {on}: no CustomResourceDefinition for {} exists in the cluster (KNV1021)",
            quoted_after(text, "for the type").unwrap_or("its type")
        ),
        Cause::FieldMismatch => format!(
            "{rs} cannot sync {on}: a declared field does not match the cluster's schema (KNV1067)"
        ),
        Cause::RenderFailed(rp) => {
            let dir = render_dir(text, p.rs);
            match rp {
                RenderProblem::KustomizationMissing => format!(
                    "{rs} cannot render{commit}: kustomization.yaml is missing from {dir} (KNV1068)"
                ),
                RenderProblem::Kustomize => match missing_resource(text) {
                    Some(f) => format!(
                        "{rs} cannot render{commit}: kustomize build of {dir} fails on {f} (KNV1068)"
                    ),
                    None => format!(
                        "{rs} cannot render{commit}: kustomize build of {dir} fails (KNV1068)"
                    ),
                },
                RenderProblem::Helm => {
                    format!("{rs} cannot render{commit}: helm rendering fails (KNV1068)")
                }
                RenderProblem::Other => {
                    format!("{rs} cannot render{commit}: hydration of {dir} fails (KNV1068)")
                }
            }
        }
        Cause::SourceUnreachable(sp) => {
            let what = match sp {
                SourceProblem::Auth => "the credentials are rejected",
                SourceProblem::Ref => "the branch or revision does not exist",
                SourceProblem::Repo => "the repository is not found",
                SourceProblem::Network => "the source host cannot be reached",
                SourceProblem::Dir => "the sync directory is not in the commit",
                SourceProblem::Other => "the fetch fails",
            };
            let t = p.rs.source_type();
            let src =
                p.rs.obj
                    .str_at(&format!("spec.{t}.repo"))
                    .or_else(|| p.rs.obj.str_at("spec.oci.image"))
                    .unwrap_or("its source");
            format!("{rs} cannot fetch {src}: {what} (KNV2004)")
        }
        Cause::Forbidden => match p.inputs.denial {
            Some(d) => format!(
                "{rs} cannot apply {on}: service account {} is not allowed to {} (KNV2009, RBAC forbidden)",
                p.rs.reconciler(),
                d.describe()
            ),
            None => format!("{rs} cannot apply {on}: RBAC forbids it (KNV2009)"),
        },
        Cause::WebhookDenied => {
            if text.to_ascii_lowercase().contains("failed calling webhook") {
                format!(
                    "{rs} cannot apply {on}: the API server failed calling webhook {} (KNV2009)",
                    quoted_after(text, "failed calling webhook").unwrap_or("(unnamed)")
                )
            } else {
                format!(
                    "{rs} cannot apply {on}: admission webhook {} denied the request (KNV2009)",
                    quoted_after(text, "admission webhook").unwrap_or("(unnamed)")
                )
            }
        }
        Cause::ImmutableField => format!(
            "{rs} cannot apply {on}: it changes immutable field {} (KNV2009)",
            immutable_field(text).unwrap_or("(unnamed)")
        ),
        Cause::InsufficientPermission => match p.inputs.denial {
            Some(d) => format!(
                "{rs}: service account {} lacks the permission to {} (KNV2013)",
                p.rs.reconciler(),
                d.describe()
            ),
            None => format!("{rs}: the reconciler lacks a permission it needs (KNV2013)"),
        },
        Cause::Fighting => {
            format!("{rs} keeps re-applying {on}: another controller changes it too (KNV2005)")
        }
        Cause::WebhookModified => format!(
            "{rs}: the Config Sync admission webhook configuration was modified; Config Sync repairs it (KNV2014, informational)"
        ),
        Cause::Unrecognised => format!(
            "{rs} reports {} which this skill's catalogue does not explain: {}",
            p.err.knv(),
            p.err
                .lines
                .first()
                .map(String::as_str)
                .unwrap_or("(no message)")
        ),
    };
    clip(&s, MAX_SUMMARY)
}

/// Evidence lines particular to a cause.
fn specifics(p: &Parts<'_>, text: &str) -> Vec<String> {
    let mut out = Vec::new();
    match p.cause {
        Cause::Forbidden | Cause::InsufficientPermission => {
            if let Some(d) = p.inputs.denial {
                out.push(denial_line(d, p.rs));
                out.extend(role_lines(p, d));
            }
        }
        Cause::WebhookDenied => {
            if let Some(at) = text.find("denied the request: ") {
                out.push(format!(
                    "webhook reason: {}",
                    &text[at + "denied the request: ".len()..]
                ));
            }
        }
        Cause::RenderFailed(RenderProblem::Kustomize) => {
            if let Some(f) = missing_resource(text) {
                out.push(format!(
                    "kustomize: resource {f} listed in {}/kustomization.yaml is not in the commit (no such file or directory)",
                    render_dir(text, p.rs)
                ));
            }
        }
        _ => {}
    }
    out
}

fn denial_line(d: &Denial, rs: &RootSync) -> String {
    format!(
        "denied: User {:?} cannot {} resource {:?} in API group {:?}{} (reconciler service account of {})",
        d.user,
        d.verb,
        d.resource,
        d.group,
        d.namespace
            .as_deref()
            .map(|n| format!(" in namespace {n}"))
            .unwrap_or_else(|| " at cluster scope".into()),
        rs.display()
    )
}

fn role_lines(p: &Parts<'_>, d: &Denial) -> Vec<String> {
    let refs = p.inputs.role_refs;
    if refs.is_empty() {
        return vec![
            "spec.override.roleRefs: not set (Config Sync binds the reconciler to cluster-admin)"
                .into(),
        ];
    }
    let mut out = Vec::new();
    let names: Vec<String> = refs
        .iter()
        .map(|r| match &r.namespace {
            Some(ns) => format!("{} {} (RoleBinding in {ns})", r.kind, r.name),
            None => format!("{} {}", r.kind, r.name),
        })
        .collect();
    out.push(format!("spec.override.roleRefs: [{}]", names.join(", ")));
    for r in p.inputs.roles {
        out.push(role_line(r, d));
    }
    out
}

fn role_line(r: &RoleRead, d: &Denial) -> String {
    let Some(o) = &r.object else {
        return format!(
            "ClusterRole {} (spec.override.roleRefs[{}]) could not be read: {}",
            r.role_ref.name,
            r.role_ref.index,
            r.error.as_deref().unwrap_or("unknown")
        );
    };
    let verbs = verbs_for(o, d);
    let res = format!("{} in API group {:?}", d.resource, d.group);
    if verbs.is_empty() {
        format!(
            "ClusterRole {} rules: no rule covers {res}, so {} is not granted",
            r.role_ref.name, d.verb
        )
    } else if verbs.iter().any(|v| v == &d.verb || v == "*") {
        format!(
            "ClusterRole {} rules for {res}: verbs [{}] include {}; the binding may be missing or scoped to another namespace",
            r.role_ref.name,
            verbs.join(", "),
            d.verb
        )
    } else {
        format!(
            "ClusterRole {} rules for {res}: verbs [{}], not {}",
            r.role_ref.name,
            verbs.join(", "),
            d.verb
        )
    }
}
