//! Gathers the errors a RootSync reports, wherever it reports them, into one deduplicated list.
//!
//! Config Sync ≥ 1.16 writes fetch/parse errors to `status.source.errors`, hydration errors to
//! `status.rendering.errors`, apply errors to `status.sync.errors`, and the reconciler-manager's
//! errors to the `Stalled`/`Reconciling` conditions' `errors` (a `Stalled=True` condition may also
//! carry its error only as `message`). The same error often shows up in more than one of these
//! places, or for more than one commit; it is one problem, so it becomes one [`ReportedError`]
//! that remembers every place it was seen.
//!
//! Messages follow kpt-config-sync's formatter: `KNV<code>: <body>`, then one resource block per
//! object (`source: …\nnamespace: …\nmetadata.name: …\ngroup: …\nversion: …\nkind: …`), then
//! `For more information, see https://g.co/cloud/acm-errors#knv<code>`. The trailer is dropped,
//! the resource blocks are parsed (used when `errorResources` is absent), and the rest is the body.

use serde_json::Value;
use skillbox_guest::Object;

/// Errors read per list, so a huge status cannot make the skill slow.
const MAX_PER_LIST: usize = 100;

/// Where an error was seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Place {
    /// Field path, e.g. `status.sync.errors[0]` or `status.conditions[Stalled].errors[0]`.
    pub path: String,
    /// The commit that list belongs to (the stage's `commit`, or the condition's).
    pub commit: Option<String>,
}

/// One object an error is about (`errorResources[]`, or a resource block of the message).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrResource {
    /// Repo-relative file the object is declared in.
    pub source_path: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.namespace` (empty for cluster-scoped objects).
    pub namespace: String,
    /// API group (empty for the core group).
    pub group: String,
    /// API version.
    pub version: String,
    /// Kind.
    pub kind: String,
}

impl ErrResource {
    /// `Gateway.networking.istio.io bookinfo/bookinfo-gateway`, as Config Sync prints IDs.
    pub fn id(&self) -> String {
        let gk = if self.group.is_empty() {
            self.kind.clone()
        } else {
            format!("{}.{}", self.kind, self.group)
        };
        let name = if self.namespace.is_empty() {
            self.name.clone()
        } else {
            format!("{}/{}", self.namespace, self.name)
        };
        format!("{gk} {name}")
    }

    fn from_error_resource(v: &Value) -> Self {
        let s = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let g = |k: &str| {
            v.get("gvk")
                .and_then(|g| g.get(k))
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string()
        };
        Self {
            source_path: s("sourcePath"),
            name: s("name"),
            namespace: s("namespace"),
            group: g("group"),
            version: g("version"),
            kind: g("kind"),
        }
    }
}

/// One distinct error, with every place it was reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportedError {
    /// The KNV code as digits (`2009`); empty when neither `code` nor the message gives one.
    pub code: String,
    /// The message body: no `KNV<code>: ` prefix, no resource blocks, no trailer; one entry per
    /// non-empty line.
    pub lines: Vec<String>,
    /// The objects it is about.
    pub resources: Vec<ErrResource>,
    /// Where it was seen, in reading order.
    pub places: Vec<Place>,
}

impl ReportedError {
    /// The body on one line (what the catalogue matches on, and the deduplication key).
    pub fn text(&self) -> String {
        self.lines.join(" ")
    }

    /// `KNV2009`, or `(no KNV code)`.
    pub fn knv(&self) -> String {
        if self.code.is_empty() {
            "(no KNV code)".into()
        } else {
            format!("KNV{}", self.code)
        }
    }
}

/// What the gathering saw besides the errors themselves.
#[derive(Debug, Clone, Default)]
pub struct Gathered {
    /// Distinct errors, in reading order.
    pub errors: Vec<ReportedError>,
    /// `errorSummary` notes worth showing (truncation, counts the lists do not hold).
    pub summary_notes: Vec<String>,
    /// Errors counted by an `errorSummary` while no list holds any error at all.
    pub counted_but_unlisted: bool,
}

/// The three stage fields, in the order the reconciler runs them.
pub const STAGES: [&str; 3] = ["source", "rendering", "sync"];

/// Gathers every error of the RootSync.
pub fn gather(rs: &Object) -> Gathered {
    let mut g = Gathered::default();
    let mut counted = 0i64;
    for stage in STAGES {
        let commit = rs.str_at(&format!("status.{stage}.commit"));
        if let Some(Value::Array(list)) = rs.at(&format!("status.{stage}.errors")) {
            for (i, e) in list.iter().take(MAX_PER_LIST).enumerate() {
                add(
                    &mut g.errors,
                    e,
                    format!("status.{stage}.errors[{i}]"),
                    commit,
                );
            }
        }
        counted += summary_note(
            rs.at(&format!("status.{stage}.errorSummary")),
            &format!("status.{stage}.errorSummary"),
            &mut g.summary_notes,
        );
    }
    if let Some(Value::Array(conds)) = rs.at("status.conditions") {
        for c in conds {
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            if ty != "Stalled" && ty != "Reconciling" {
                continue;
            }
            let commit = c.get("commit").and_then(Value::as_str);
            let mut listed = false;
            if let Some(Value::Array(list)) = c.get("errors") {
                for (i, e) in list.iter().take(MAX_PER_LIST).enumerate() {
                    listed = true;
                    add(
                        &mut g.errors,
                        e,
                        format!("status.conditions[{ty}].errors[{i}]"),
                        commit,
                    );
                }
            }
            // A Stalled=True condition carries the reconciler-manager's error as its message
            // when it has no `errors` list (e.g. a RootSync spec that fails validation).
            let stalled =
                ty == "Stalled" && c.get("status").and_then(Value::as_str) == Some("True");
            if stalled && !listed {
                let msg = c.get("message").and_then(Value::as_str).unwrap_or("");
                let reason = c.get("reason").and_then(Value::as_str).unwrap_or("");
                let text = if msg.trim().is_empty() {
                    format!("Stalled=True, reason {reason:?}, without a message")
                } else {
                    msg.to_string()
                };
                let e = serde_json::json!({ "errorMessage": text });
                add(
                    &mut g.errors,
                    &e,
                    "status.conditions[Stalled].message".into(),
                    commit,
                );
            }
        }
    }
    g.counted_but_unlisted = g.errors.is_empty() && counted > 0;
    g
}

/// Notes an `errorSummary` worth mentioning; returns its total count.
fn summary_note(v: Option<&Value>, path: &str, notes: &mut Vec<String>) -> i64 {
    let Some(v) = v else { return 0 };
    let total = v.get("totalCount").and_then(Value::as_i64).unwrap_or(0);
    if v.get("truncated").and_then(Value::as_bool) == Some(true) {
        let kept = v
            .get("errorCountAfterTruncation")
            .and_then(Value::as_i64)
            .unwrap_or(0);
        notes.push(format!(
            "{path}: truncated = true, totalCount = {total}, errorCountAfterTruncation = {kept} (the status lists only some of the errors)"
        ));
    }
    total
}

/// Adds one raw `ConfigSyncError` (merging it into an equal one already seen).
fn add(out: &mut Vec<ReportedError>, raw: &Value, path: String, commit: Option<&str>) {
    let message = raw
        .get("errorMessage")
        .and_then(Value::as_str)
        .unwrap_or("");
    let field_code = raw
        .get("code")
        .and_then(|c| match c {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .unwrap_or_default();
    let parsed = parse_message(message);
    let code = normalise_code(&field_code)
        .or(parsed.code.clone())
        .unwrap_or_default();
    let mut resources: Vec<ErrResource> = match raw.get("errorResources") {
        Some(Value::Array(rs)) => rs.iter().map(ErrResource::from_error_resource).collect(),
        _ => Vec::new(),
    };
    if resources.is_empty() {
        resources = parsed.resources;
    }
    let place = Place {
        path,
        commit: commit.filter(|c| !c.is_empty()).map(str::to_string),
    };
    let key = parsed.lines.join(" ");
    if let Some(seen) = out.iter_mut().find(|e| e.code == code && e.text() == key) {
        seen.places.push(place);
        for r in resources {
            if !seen.resources.contains(&r) {
                seen.resources.push(r);
            }
        }
        return;
    }
    out.push(ReportedError {
        code,
        lines: parsed.lines,
        resources,
        places: vec![place],
    });
}

/// `"2009"`, `"KNV2009"`, `"knv2009"` → `2009`; anything without digits → `None`.
fn normalise_code(c: &str) -> Option<String> {
    let c = c.trim();
    let c = c
        .strip_prefix("KNV")
        .or_else(|| c.strip_prefix("knv"))
        .unwrap_or(c);
    (!c.is_empty() && c.chars().all(|ch| ch.is_ascii_digit())).then(|| c.to_string())
}

/// A message taken apart.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ParsedMessage {
    /// The code of a leading `KNV<code>: `.
    pub code: Option<String>,
    /// The body's non-empty lines, trimmed.
    pub lines: Vec<String>,
    /// Resource blocks.
    pub resources: Vec<ErrResource>,
}

/// Splits a Config Sync message into code, body lines and resource blocks; drops the trailer.
pub fn parse_message(message: &str) -> ParsedMessage {
    let mut text = message.trim();
    if let Some(at) = text.find("For more information, see") {
        text = text[..at].trim_end();
    }
    let mut code = None;
    if let Some(rest) = text.strip_prefix("KNV") {
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        if !digits.is_empty() && rest[digits.len()..].starts_with(':') {
            text = rest[digits.len() + 1..].trim_start();
            code = Some(digits);
        }
    }
    let mut out = ParsedMessage {
        code,
        ..ParsedMessage::default()
    };
    for para in text.split("\n\n") {
        if let Some(r) = resource_block(para) {
            out.resources.push(r);
            continue;
        }
        out.lines.extend(
            para.lines()
                .map(str::trim)
                .filter(|l| !l.is_empty())
                .map(str::to_string),
        );
    }
    out
}

/// A paragraph that is exactly a resource block (every line a known `key: value`).
fn resource_block(para: &str) -> Option<ErrResource> {
    let mut r = ErrResource::default();
    let mut any = false;
    for line in para.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (k, v) = line.split_once(':')?;
        let v = v.trim().to_string();
        match k.trim() {
            "source" => r.source_path = v,
            "namespace" => r.namespace = v,
            "metadata.name" => r.name = v,
            "group" => r.group = v,
            "version" => r.version = v,
            "kind" => r.kind = v,
            _ => return None,
        }
        any = true;
    }
    (any && (!r.kind.is_empty() || !r.name.is_empty())).then_some(r)
}

/// Whether the RootSync reports any error, or is stalled: the cheap trigger test.
pub fn has_errors(rs: &Object) -> bool {
    let listed = |p: &str| matches!(rs.at(p), Some(Value::Array(a)) if !a.is_empty());
    if STAGES.iter().any(|s| listed(&format!("status.{s}.errors"))) {
        return true;
    }
    match rs.at("status.conditions") {
        Some(Value::Array(conds)) => conds.iter().any(|c| {
            let ty = c.get("type").and_then(Value::as_str).unwrap_or("");
            let errs = matches!(c.get("errors"), Some(Value::Array(a)) if !a.is_empty());
            (ty == "Stalled" || ty == "Reconciling") && errs
                || ty == "Stalled" && c.get("status").and_then(Value::as_str) == Some("True")
        }),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn message_is_taken_apart() {
        let m = "KNV1021: No CustomResourceDefinition is defined for the type \"Rollout.argoproj.io\" in the cluster.\nResource types that are not native Kubernetes objects must have a CustomResourceDefinition.\n\nConfig Sync will retry until a CustomResourceDefinition is defined for the type \"Rollout.argoproj.io\" in the cluster.\n\nsource: apps/rollout.yaml\nnamespace: shop\nmetadata.name: web\ngroup: argoproj.io\nversion: v1alpha1\nkind: Rollout\n\nFor more information, see https://g.co/cloud/acm-errors#knv1021";
        let p = parse_message(m);
        assert_eq!(p.code.as_deref(), Some("1021"));
        assert_eq!(p.lines.len(), 3);
        assert!(p.lines[0].starts_with("No CustomResourceDefinition"));
        assert!(!p.lines.iter().any(|l| l.contains("For more information")));
        assert_eq!(p.resources.len(), 1);
        assert_eq!(p.resources[0].source_path, "apps/rollout.yaml");
        assert_eq!(p.resources[0].id(), "Rollout.argoproj.io shop/web");
    }

    #[test]
    fn message_without_prefix_or_trailer() {
        let p = parse_message("plain text");
        assert_eq!(p.code, None);
        assert_eq!(p.lines, vec!["plain text".to_string()]);
        let p = parse_message("KNVxx: odd");
        assert_eq!(p.code, None);
        assert_eq!(p.lines, vec!["KNVxx: odd".to_string()]);
        assert_eq!(parse_message("").lines.len(), 0);
    }

    #[test]
    fn codes_normalise() {
        assert_eq!(normalise_code("2009").as_deref(), Some("2009"));
        assert_eq!(normalise_code("KNV2009").as_deref(), Some("2009"));
        assert_eq!(normalise_code(""), None);
        assert_eq!(normalise_code("abc"), None);
    }
}
