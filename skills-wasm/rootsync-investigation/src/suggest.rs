//! What to change in Git for each cause: the file (from `errorResources[].sourcePath`, else the
//! sync directory, else the RootSync manifest) and the change. Never a cluster command: Config
//! Sync reverts hand edits, so the only durable fix is a commit.

use crate::catalogue::{Cause, RenderProblem, SourceProblem};
use crate::context::RootSync;
use crate::errors::ReportedError;
use crate::rbac::{Denial, RoleRead, RoleRef, verbs_for};
use crate::util::{MAX_LINE, clip, quoted_after};

/// Everything a suggestion may draw on besides the error itself.
pub struct Inputs<'a> {
    /// The RootSync.
    pub rs: &'a RootSync,
    /// The RBAC denial parsed from the text, if any.
    pub denial: Option<&'a Denial>,
    /// `spec.override.roleRefs`.
    pub role_refs: &'a [RoleRef],
    /// The ClusterRoles read for them.
    pub roles: &'a [RoleRead],
}

/// The files the error is about, or the sync directory when it names none.
pub fn files(err: &ReportedError, rs: &RootSync) -> String {
    let mut paths: Vec<&str> = err
        .resources
        .iter()
        .map(|r| r.source_path.as_str())
        .filter(|p| !p.is_empty())
        .collect();
    paths.dedup();
    if paths.is_empty() {
        match rs.dir() {
            Some(d) => format!("the manifests under {d}/"),
            None => "the manifests at the root of the sync directory".into(),
        }
    } else {
        paths.join(", ")
    }
}

/// The suggestions for one error.
pub fn suggestions(err: &ReportedError, cause: Cause, inp: &Inputs<'_>) -> Vec<String> {
    let rs = inp.rs;
    let text = err.text();
    let files = files(err, rs);
    let out: Vec<String> = match cause {
        Cause::CrdMissing => {
            let gk = quoted_after(&text, "for the type").unwrap_or("the type");
            vec![
                format!(
                    "If {files} uses the wrong apiVersion/kind, fix it there; otherwise add the CustomResourceDefinition of {gk} to the repo (for example next to {files}) so Config Sync applies it with the objects that use it"
                ),
                format!(
                    "If {gk} comes from an operator installed outside Config Sync, install or upgrade that operator through the repo that manages it before declaring {gk} objects"
                ),
            ]
        }
        Cause::FieldMismatch => vec![
            format!(
                "In {files}, fix or remove the field the error names so the object matches the cluster's schema (a typo, a wrong type, or a field the installed API version lacks)"
            ),
            "If the field is right, update the CustomResourceDefinition in the repo (or the operator that installs it) to the version whose schema has it".into(),
        ],
        Cause::RenderFailed(p) => render(&text, p, rs),
        Cause::SourceUnreachable(p) => source(p, rs),
        Cause::Forbidden | Cause::InsufficientPermission => rbac(inp),
        Cause::WebhookDenied => {
            let name = quoted_after(&text, "admission webhook")
                .or_else(|| quoted_after(&text, "failed calling webhook"))
                .unwrap_or("(unnamed)");
            if text.to_ascii_lowercase().contains("failed calling webhook") {
                vec![format!(
                    "The API server could not call webhook {name}: fix its Service/Deployment or its caBundle in the repo that manages the webhook, or set failurePolicy: Ignore in its webhook configuration there if it is safe to skip; the apply of {files} then goes through on the next sync"
                )]
            } else {
                vec![
                    format!(
                        "Change {files} so that it satisfies the policy of admission webhook {name} (its reason is in the evidence)"
                    ),
                    format!(
                        "Or, if the policy is wrong, change or exempt it in the repo that manages webhook {name} (e.g. the Gatekeeper constraint or Kyverno policy manifest)"
                    ),
                ]
            }
        }
        Cause::ImmutableField => {
            let field = immutable_field(&text).unwrap_or("an immutable field");
            vec![
                format!(
                    "Revert the change to {field} in {files}: the API server never lets an existing object change it"
                ),
                format!(
                    "If the new value is needed, declare the object under a new metadata.name in {files}: Config Sync creates the new object and prunes the old one"
                ),
            ]
        }
        Cause::Fighting => vec![
            format!(
                "Find the other writer of the object in {files} (an HPA on replicas, a mutating webhook, another RootSync/RepoSync, Argo CD or Flux): stop declaring the contested field there, or change the other controller's config in its repo"
            ),
            format!(
                "If the other writer should win, add the annotation client.lifecycle.config.k8s.io/mutation: ignore to the object in {files}"
            ),
        ],
        Cause::WebhookModified => vec![
            "None needed: Config Sync restores its admission webhook configuration itself; if something keeps editing ValidatingWebhookConfiguration admission-webhook.configsync.gke.io, remove that edit from the repo or tool that makes it".into(),
        ],
        Cause::Unrecognised => Vec::new(),
    };
    out.into_iter().map(|s| clip(&s, MAX_LINE)).collect()
}

/// `spec.selector` from `… is invalid: spec.selector: Invalid value: …: field is immutable`.
pub fn immutable_field(text: &str) -> Option<&str> {
    let at = text.find("is invalid: ")? + "is invalid: ".len();
    let rest = &text[at..];
    let field = rest.split(": ").next()?.trim();
    (!field.is_empty() && !field.contains(' ')).then_some(field)
}

/// The repo-relative sync directory a kustomize message names (`/repo/source/<commit>/x/y` →
/// `x/y`), else `spec.git.dir`.
pub fn render_dir(text: &str, rs: &RootSync) -> String {
    let from_text = text
        .find("kustomize build in ")
        .map(|at| &text[at + "kustomize build in ".len()..])
        .or_else(|| {
            text.find("from the sync directory ")
                .map(|at| &text[at + "from the sync directory ".len()..])
        })
        .map(|rest| rest.split([',', ' ']).next().unwrap_or(""))
        .and_then(strip_checkout)
        .map(|s| s.trim_end_matches('.').to_string());
    from_text
        .filter(|s| !s.is_empty())
        .or_else(|| rs.dir().map(str::to_string))
        .unwrap_or_else(|| ".".into())
}

/// `/repo/source/<commit>/overlays/prod` → `overlays/prod` (the checkout prefix is not in Git).
fn strip_checkout(abs: &str) -> Option<&str> {
    let segs: Vec<&str> = abs.split('/').collect();
    let at = segs
        .iter()
        .position(|s| s.len() >= 40 && s.chars().all(|c| c.is_ascii_hexdigit()))?;
    let start: usize = segs[..=at].iter().map(|s| s.len() + 1).sum();
    abs.get(start..)
}

/// The file kustomize could not find (`accumulating resources from 'x.yaml'`).
pub fn missing_resource(text: &str) -> Option<&str> {
    let at = text.find("accumulating resources from '")? + "accumulating resources from '".len();
    let rest = &text[at..];
    Some(&rest[..rest.find('\'')?])
}

fn render(text: &str, p: RenderProblem, rs: &RootSync) -> Vec<String> {
    let dir = render_dir(text, rs);
    match p {
        RenderProblem::KustomizationMissing => vec![format!(
            "Add a kustomization.yaml to {dir}/ listing its manifests, or remove kustomization.yaml from its subdirectories so Config Sync syncs the plain manifests without rendering"
        )],
        RenderProblem::Kustomize => match missing_resource(text) {
            Some(f) if text.contains("no such file or directory") => vec![format!(
                "In {dir}/kustomization.yaml, remove the entry {f} (or commit the file {dir}/{f}): kustomize cannot find it in the commit"
            )],
            _ => vec![format!(
                "Fix {dir}/kustomization.yaml or the files it references so that `kustomize build {dir}` succeeds locally on the failing commit"
            )],
        },
        RenderProblem::Helm => vec![format!(
            "Fix the chart reference or values that fail to render: spec.helm (chart, version, values) in {}, or the chart in its repo",
            rs.manifest()
        )],
        RenderProblem::Other => vec![format!(
            "Fix the rendering input in {dir}/ (kustomization.yaml and what it references) so it renders locally on the failing commit"
        )],
    }
}

fn source(p: SourceProblem, rs: &RootSync) -> Vec<String> {
    let t = rs.source_type();
    let m = rs.manifest();
    let secret = rs
        .obj
        .str_at(&format!("spec.{t}.secretRef.name"))
        .map(|s| format!("Secret config-management-system/{s} named by spec.{t}.secretRef"))
        .unwrap_or_else(|| format!("the credentials spec.{t}.auth expects"));
    let first = match p {
        SourceProblem::Auth => format!(
            "Fix the credentials: in {m} set spec.{t}.auth to the method the repo accepts (token, ssh, gcpserviceaccount, githubapp, …), and renew the token or key in {secret} through your secret tooling"
        ),
        SourceProblem::Ref => format!(
            "In {m}, set spec.{t}.branch / spec.{t}.revision (or the OCI tag) to one that exists in the source; the current values are in the evidence"
        ),
        SourceProblem::Repo => format!(
            "In {m}, fix spec.{t}.repo (or spec.oci.image): the source does not exist or the credentials cannot see it"
        ),
        SourceProblem::Network => format!(
            "Check that the host in spec.{t}.repo is right in {m}; if the cluster needs a proxy or custom CA, set spec.{t}.proxy / spec.{t}.caCertSecretRef there"
        ),
        SourceProblem::Dir => format!(
            "In {m}, set spec.{t}.dir to a directory that exists in the fetched commit, or commit that directory"
        ),
        SourceProblem::Other => format!(
            "Check spec.{t} (repo, branch, revision, dir, auth) in {m} against the source; the fetch error is in the evidence"
        ),
    };
    vec![first]
}

fn rbac(inp: &Inputs<'_>) -> Vec<String> {
    let rs = inp.rs;
    let sa = format!("config-management-system/{}", rs.reconciler());
    let Some(d) = inp.denial else {
        return vec![format!(
            "Grant service account {sa} what the error says it lacks: in the repo that manages RBAC, extend the ClusterRole named by spec.override.roleRefs of {} (or add a roleRef there)",
            rs.manifest()
        )];
    };
    let need = d.describe();
    let rule = d.rule();
    let mut out = Vec::new();
    for r in inp.roles {
        let Some(role) = &r.object else { continue };
        let verbs = verbs_for(role, d);
        if verbs.iter().any(|v| v == &d.verb || v == "*") {
            continue;
        }
        let file = role
            .annotations()
            .get(crate::context::SOURCE_PATH)
            .map(|p| format!(" ({p})"))
            .unwrap_or_default();
        let change = if verbs.is_empty() {
            format!("add the rule {rule}")
        } else {
            format!(
                "add verb {} to its rule for {} in API group {:?} (or add the rule {rule})",
                d.verb, d.resource, d.group
            )
        };
        out.push(format!(
            "In the repo that manages ClusterRole {}{file} (spec.override.roleRefs[{}] of {}), {change}; Config Sync binds it to service account {sa}",
            r.role_ref.name,
            r.role_ref.index,
            rs.display(),
        ));
    }
    if out.is_empty() {
        if inp.role_refs.is_empty() {
            out.push(format!(
                "{} has no spec.override.roleRefs, so Config Sync should bind {sa} to cluster-admin: in {}, add spec.override.roleRefs naming a ClusterRole that allows it to {need} ({rule}), and commit that ClusterRole to the repo that manages RBAC",
                rs.display(),
                rs.manifest()
            ));
        } else {
            let names: Vec<String> = inp
                .role_refs
                .iter()
                .map(|r| format!("{} {}", r.kind, r.name))
                .collect();
            out.push(format!(
                "Allow service account {sa} to {need}: add {rule} to one of the roles named by spec.override.roleRefs ({}) in the repo that manages them, or add a roleRef to a role that grants it in {}",
                names.join(", "),
                rs.manifest()
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use skillbox_guest::Object;

    fn rs() -> RootSync {
        RootSync::new(
            Object::from_json(
                r#"{"kind":"RootSync","metadata":{"name":"root-sync","namespace":"config-management-system"},
                "spec":{"git":{"dir":"clusters/prod"}}}"#,
            )
            .unwrap(),
        )
    }

    #[test]
    fn render_dir_strips_the_checkout() {
        let t = "failed to run kustomize build in /repo/source/7d64d00e291d6614ba5e14b2e82efaf497eceb78/overlays/prod, stdout: : Error";
        assert_eq!(render_dir(t, &rs()), "overlays/prod");
        let t = "Kustomization config file is missing from the sync directory /repo/source/7d64d00e291d6614ba5e14b2e82efaf497eceb78/apps. To fix";
        assert_eq!(render_dir(t, &rs()), "apps");
        assert_eq!(render_dir("other", &rs()), "clusters/prod");
    }

    #[test]
    fn immutable_field_is_found() {
        let t = r#"Deployment.apps "web" is invalid: spec.selector: Invalid value: {}: field is immutable"#;
        assert_eq!(immutable_field(t), Some("spec.selector"));
        assert_eq!(immutable_field("field is immutable"), None);
    }

    #[test]
    fn missing_resource_is_found() {
        let t = "accumulation err='accumulating resources from 'reviews-v4.yaml': evalsymlink";
        assert_eq!(missing_resource(t), Some("reviews-v4.yaml"));
    }
}
