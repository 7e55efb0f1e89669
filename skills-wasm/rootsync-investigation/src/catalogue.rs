//! The catalogue: which finding code a KNV code plus its message text stands for.
//!
//! Codes with one cause (1021, 1067, 1068, 2004, 2005, 2013, 2014) are decided by the code alone;
//! the text only refines the suggestion (which kind of fetch failure, which kustomize problem).
//! KNV2009 wraps whatever the API server said, so it is split on the wrapped text (corpus
//! convention 6): a webhook denial or failed webhook call, an immutable field, or an RBAC
//! `… is forbidden: User "…"`. A KNV2009 matching none of these (a dependency that never became
//! ready, a ResourceGroup too big, a PodSecurity or quota rejection) is unrecognised, as is any
//! code outside the table. KNV2013 is its own code even though its text says "is forbidden".

use crate::util::contains_ci;
use skillbox_guest::Severity;

/// What kind of fetch failure a KNV2004 is, from its text; picks the suggestion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceProblem {
    /// Credentials rejected or missing.
    Auth,
    /// Branch, tag or revision does not exist.
    Ref,
    /// Repository does not exist (or is hidden from these credentials).
    Repo,
    /// DNS, TCP, TLS or timeout.
    Network,
    /// The sync directory is not in the commit.
    Dir,
    /// Anything else git-sync/oci-sync/helm-sync reported.
    Other,
}

/// What kind of hydration failure a KNV1068 is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RenderProblem {
    /// `Kustomization config file is missing from the sync directory`.
    KustomizationMissing,
    /// `failed to run kustomize build …`.
    Kustomize,
    /// A helm inflation failure.
    Helm,
    /// Another hydration message.
    Other,
}

/// A decided cause.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cause {
    /// KNV1021.
    CrdMissing,
    /// KNV1067.
    FieldMismatch,
    /// KNV1068.
    RenderFailed(RenderProblem),
    /// KNV2004.
    SourceUnreachable(SourceProblem),
    /// KNV2009, RBAC.
    Forbidden,
    /// KNV2009, admission webhook.
    WebhookDenied,
    /// KNV2009, immutable field.
    ImmutableField,
    /// KNV2013.
    InsufficientPermission,
    /// KNV2005.
    Fighting,
    /// KNV2014.
    WebhookModified,
    /// Outside the catalogue.
    Unrecognised,
}

/// The finding code for errors the catalogue does not cover.
pub const UNRECOGNISED: &str = "rootsync.unrecognised-error";

impl Cause {
    /// The finding code.
    pub fn code(self) -> &'static str {
        match self {
            Cause::CrdMissing => "rootsync.knv1021.crd-missing",
            Cause::FieldMismatch => "rootsync.knv1067.field-mismatch",
            Cause::RenderFailed(_) => "rootsync.knv1068.render-failed",
            Cause::SourceUnreachable(_) => "rootsync.knv2004.source-unreachable",
            Cause::Forbidden => "rootsync.knv2009.forbidden",
            Cause::WebhookDenied => "rootsync.knv2009.webhook-denied",
            Cause::ImmutableField => "rootsync.knv2009.immutable-field",
            Cause::InsufficientPermission => "rootsync.knv2013.insufficient-permission",
            Cause::Fighting => "rootsync.knv2005.fighting",
            Cause::WebhookModified => "rootsync.knv2014.webhook-modified",
            Cause::Unrecognised => UNRECOGNISED,
        }
    }

    /// The severity: KNV2014 is informational (Config Sync repairs it itself); KNV2005 is a
    /// warning (its own text says it "may indicate" a fight, and the object is applied); an
    /// unrecognised error is a warning (something is wrong, but this finding does not explain
    /// it: the verdict, not the severity, says so); every other catalogued error stops
    /// the sync of what it names and is an error.
    pub fn severity(self) -> Severity {
        match self {
            Cause::WebhookModified => Severity::Info,
            Cause::Fighting | Cause::Unrecognised => Severity::Warning,
            _ => Severity::Error,
        }
    }
}

/// Decides the cause of one error from its KNV code (digits) and its body text.
pub fn classify(code: &str, text: &str) -> Cause {
    match code {
        "1021" => Cause::CrdMissing,
        "1067" => Cause::FieldMismatch,
        "1068" => Cause::RenderFailed(render_problem(text)),
        "2004" => Cause::SourceUnreachable(source_problem(text)),
        "2005" => Cause::Fighting,
        "2009" => apply_problem(text),
        "2013" => Cause::InsufficientPermission,
        "2014" => Cause::WebhookModified,
        _ => Cause::Unrecognised,
    }
}

/// KNV2009, split on the wrapped API server error. A webhook is checked first: its denial
/// reason may itself say "forbidden" or "immutable".
fn apply_problem(text: &str) -> Cause {
    let t = text.to_ascii_lowercase();
    if (t.contains("admission webhook \"") && t.contains("denied the request"))
        || t.contains("failed calling webhook")
    {
        Cause::WebhookDenied
    } else if t.contains("field is immutable") {
        Cause::ImmutableField
    } else if t.contains("is forbidden: user \"") {
        Cause::Forbidden
    } else {
        Cause::Unrecognised
    }
}

fn render_problem(text: &str) -> RenderProblem {
    if contains_ci(text, "Kustomization config file is missing") {
        RenderProblem::KustomizationMissing
    } else if contains_ci(text, "kustomize build") {
        RenderProblem::Kustomize
    } else if contains_ci(text, "helm") {
        RenderProblem::Helm
    } else {
        RenderProblem::Other
    }
}

fn source_problem(text: &str) -> SourceProblem {
    let t = text.to_ascii_lowercase();
    let any = |needles: &[&str]| needles.iter().any(|n| t.contains(n));
    if any(&[
        "authentication failed",
        "could not read username",
        "could not read password",
        "permission denied (publickey)",
        "invalid username or password",
        "terminal prompts disabled",
        "unauthorized",
        "http 401",
        "http 403",
        "error: 403",
        "error: 401",
    ]) {
        SourceProblem::Auth
    } else if any(&[
        "remote branch",
        "couldn't find remote ref",
        "unknown revision",
        "not a valid object name",
        "invalid reference",
        "did not match any file(s) known to git",
        "reference is not a tree",
        "manifest unknown",
    ]) {
        SourceProblem::Ref
    } else if any(&[
        "repository not found",
        "does not appear to be a git repository",
    ]) {
        SourceProblem::Repo
    } else if any(&[
        "could not resolve host",
        "connection timed out",
        "connection refused",
        "no route to host",
        "i/o timeout",
        "tls handshake",
        "network is unreachable",
        "context deadline exceeded",
    ]) {
        SourceProblem::Network
    } else if any(&["no such file or directory", "sync directory"]) {
        SourceProblem::Dir
    } else {
        SourceProblem::Other
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn knv2009_is_split_on_the_wrapped_text() {
        let forbidden = r#"failed to apply Gateway.networking.istio.io, bookinfo/gw: gateways.networking.istio.io "gw" is forbidden: User "system:serviceaccount:config-management-system:root-reconciler" cannot patch resource "gateways""#;
        assert_eq!(classify("2009", forbidden), Cause::Forbidden);
        let webhook = r#"failed to apply Deployment.apps, shop/web: admission webhook "validation.gatekeeper.sh" denied the request: [no-privileged] privileged containers are forbidden"#;
        assert_eq!(classify("2009", webhook), Cause::WebhookDenied);
        let call = r#"failed to apply ConfigMap, shop/c: Internal error occurred: failed calling webhook "v1.admission-webhook.configsync.gke.io": connection refused"#;
        assert_eq!(classify("2009", call), Cause::WebhookDenied);
        let immutable = r#"failed to apply Deployment.apps, shop/web: Deployment.apps "web" is invalid: spec.selector: Invalid value: {"matchLabels":{"app":"web2"}}: field is immutable"#;
        assert_eq!(classify("2009", immutable), Cause::ImmutableField);
        // Not RBAC: a PodSecurity or quota rejection says "forbidden" without `User "`.
        let psa = r#"failed to apply Pod, shop/p: pods "p" is forbidden: violates PodSecurity "restricted:latest""#;
        assert_eq!(classify("2009", psa), Cause::Unrecognised);
        let wait = "failed to wait for Deployment.apps, shop/web: reconcile failed";
        assert_eq!(classify("2009", wait), Cause::Unrecognised);
    }

    #[test]
    fn knv2013_is_its_own_code() {
        let t = r#"failed to get ResourceGroup: Insufficient permission. To fix, make sure the reconciler has sufficient permissions.: resourcegroups.kpt.dev "root-sync" is forbidden: User "system:serviceaccount:config-management-system:root-reconciler" cannot get resource "resourcegroups""#;
        assert_eq!(classify("2013", t), Cause::InsufficientPermission);
    }

    #[test]
    fn single_cause_codes_and_unknown_codes() {
        assert_eq!(classify("1021", "x"), Cause::CrdMissing);
        assert_eq!(classify("1067", "x"), Cause::FieldMismatch);
        assert_eq!(classify("2005", "x"), Cause::Fighting);
        assert_eq!(classify("2014", "x"), Cause::WebhookModified);
        assert_eq!(classify("2002", "APIServer error"), Cause::Unrecognised);
        assert_eq!(classify("", "anything"), Cause::Unrecognised);
        assert_eq!(classify("2015", "internal"), Cause::Unrecognised);
    }

    #[test]
    fn subproblems() {
        assert_eq!(
            classify(
                "1068",
                "Kustomization config file is missing from the sync directory /repo/source/x/a"
            ),
            Cause::RenderFailed(RenderProblem::KustomizationMissing)
        );
        assert_eq!(
            classify("1068", "failed to run kustomize build in /repo"),
            Cause::RenderFailed(RenderProblem::Kustomize)
        );
        assert_eq!(
            classify(
                "2004",
                "fatal: Remote branch mian not found in upstream origin"
            ),
            Cause::SourceUnreachable(SourceProblem::Ref)
        );
        assert_eq!(
            classify("2004", "fatal: Authentication failed for 'https://x'"),
            Cause::SourceUnreachable(SourceProblem::Auth)
        );
        assert_eq!(
            classify("2004", "Could not resolve host: github.example"),
            Cause::SourceUnreachable(SourceProblem::Network)
        );
        assert_eq!(
            classify("2004", "something new"),
            Cause::SourceUnreachable(SourceProblem::Other)
        );
    }
}
