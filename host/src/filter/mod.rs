//! The output filter: everything an LLM answers passes here before any of it reaches a report or
//! an Investigation's `.status` (issue 4, deliverable 6; report.md, findings.md).
//!
//! The model is treated as an untrusted author that may have read hostile cluster text. What it
//! says is kept only when:
//! - the answer matches [`answer_schema`] (a top-level violation rejects the whole answer; a
//!   malformed finding is dropped alone, with its reason);
//! - each finding is filed as `"skill": "llm"` under a code `llm.<slug>` ([`llm_code`]): the
//!   model's code lowercased, reduced to `[a-z0-9.-]` and bounded, so it can never pass for a
//!   code of a deterministic skill (`workload.crashloop` becomes `llm.workload.crashloop`);
//! - every object a finding names is in the [`EvidencePack`] (no invented objects): a finding
//!   naming one that is not is dropped; an object given with another `apiVersion` or kind
//!   spelling, but otherwise unique in the pack, is rewritten to the pack's reference;
//! - its text is plain (markup, escapes and control characters stripped, see `sanitize`), has
//!   secrets masked again ([`crate::redact::redact_text`]) and fits report.md's bounds;
//! - no text carries an imperative mutating or destructive command ([`find_mutation`]): such a
//!   suggestion or evidence line is removed; a summary carrying one drops its finding.
//!
//! Every removal or rewrite is recorded in [`FilteredAnswer::filtered`] (the report's
//! `llm.filtered`): short, deterministic lines that name what and why, and never repeat a removed
//! command or secret.

mod mutations;
mod sanitize;
mod schema;

pub use mutations::{Mutation, find_mutation};
pub use schema::answer_schema;

use crate::llm::EvidencePack;
use crate::redact::redact_text;
use crate::report::{MAX_FINDINGS, ReportFinding};
use serde_json::Value;
use skillbox_guest::{ObjectRef, Severity};

/// Longest finding summary, in characters (report.md).
pub const MAX_SUMMARY: usize = 512;
/// Longest evidence or suggestion line, in characters (report.md).
pub const MAX_LINE: usize = 1024;
/// Most evidence lines, and most suggestions, one finding keeps (as for skills' findings).
pub const MAX_LINES: usize = 20;
/// Most resources one finding keeps (as for skills' findings).
pub const MAX_RESOURCES: usize = 20;
/// Longest code, `llm.` included.
pub const MAX_CODE: usize = 64;
/// Findings of one answer examined at most: the work per answer stays bounded whatever it holds.
const MAX_EXAMINED: usize = 4 * MAX_FINDINGS;
/// Lines of one evidence or suggestion list examined at most.
const MAX_LINES_EXAMINED: usize = 5 * MAX_LINES;
/// Notes kept at most; the rest are counted in one last note, so `.status` stays small.
const MAX_NOTES: usize = 100;

/// What survived the filter, and what it removed or rewrote.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FilteredAnswer {
    /// Findings to add to the report, attributed to `llm`, in the answer's order.
    pub findings: Vec<ReportFinding>,
    /// What was removed or rewritten and why: the report's `llm.filtered`.
    pub filtered: Vec<String>,
    /// The answer's own summary, cleaned like a finding summary (empty when rejected). Not part
    /// of report.md's shape; for logs and the text rendering.
    pub summary: String,
}

/// Filters one LLM answer against the evidence it was given. Never panics, whatever `answer` is.
pub fn filter_answer(answer: &Value, pack: &EvidencePack) -> FilteredAnswer {
    let mut notes = Notes::default();
    let schema = answer_schema();
    let finding_schema = schema
        .pointer("/properties/findings/items")
        .cloned()
        .unwrap_or(Value::Null);
    // The top level is checked with the findings' item schema taken out: each finding is checked
    // on its own, so that one malformed finding does not cost the others.
    let mut top = schema;
    if let Some(findings) = top
        .pointer_mut("/properties/findings")
        .and_then(Value::as_object_mut)
    {
        findings.remove("items");
    }
    if let Err(e) = schema::validate(answer, &top, "answer") {
        notes.push(format!(
            "answer rejected: it does not match the schema ({e}); no finding kept"
        ));
        return FilteredAnswer {
            findings: Vec::new(),
            filtered: notes.finish(),
            summary: String::new(),
        };
    }

    let raw_summary = answer.get("summary").and_then(Value::as_str).unwrap_or("");
    let s = clean(raw_summary, MAX_SUMMARY);
    let summary = if let Some(m) = &s.mutation {
        notes.push(format!("answer summary removed: {m}"));
        String::new()
    } else {
        let mut counts = Counts::default();
        counts.add(&s);
        counts.report(&mut notes, "the answer's summary");
        s.text
    };

    let list = answer
        .get("findings")
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut findings = Vec::new();
    for (idx, f) in list.iter().enumerate() {
        if findings.len() == MAX_FINDINGS || idx == MAX_EXAMINED {
            notes.push(format!(
                "{} findings from finding {} on not examined: a report holds at most {MAX_FINDINGS}",
                list.len() - idx,
                idx + 1
            ));
            break;
        }
        if let Some(kept) = filter_finding(idx + 1, f, &finding_schema, pack, &mut notes) {
            findings.push(kept);
        }
    }
    FilteredAnswer {
        findings,
        filtered: notes.finish(),
        summary,
    }
}

/// One finding (`n` counts from 1), or `None` when it is dropped (the reason is noted).
fn filter_finding(
    n: usize,
    f: &Value,
    schema: &Value,
    pack: &EvidencePack,
    notes: &mut Notes,
) -> Option<ReportFinding> {
    let raw_code = f.get("code").and_then(Value::as_str);
    let code = raw_code.map(llm_code);
    let label = match &code {
        Some(c) => format!("finding {n} ({c})"),
        None => format!("finding {n}"),
    };
    if let Err(e) = schema::validate(f, schema, "") {
        notes.push(format!("{label} dropped: does not match the schema: {e}"));
        return None;
    }
    let (Some(raw_code), Some(code)) = (raw_code, code) else {
        notes.push(format!("{label} dropped: no code"));
        return None;
    };
    let severity = match f.get("severity").and_then(Value::as_str) {
        Some("error") => Severity::Error,
        Some("warning") => Severity::Warning,
        Some("info") => Severity::Info,
        _ => {
            notes.push(format!("{label} dropped: no valid severity"));
            return None;
        }
    };
    let given = raw_code.trim();
    if given.strip_prefix("llm.").unwrap_or(given) != code.strip_prefix("llm.").unwrap_or("") {
        notes.push(format!(
            "{label}: code {} rewritten as {code}",
            sanitize::quote_untrusted(raw_code, 40)
        ));
    }

    let resources = resolve_resources(f.get("resources"), pack, &label, notes)?;

    let mut counts = Counts::default();
    let s = clean(
        f.get("summary").and_then(Value::as_str).unwrap_or(""),
        MAX_SUMMARY,
    );
    if let Some(m) = &s.mutation {
        notes.push(format!("{label} dropped: its summary contains an {m}"));
        return None;
    }
    if s.text.is_empty() {
        notes.push(format!("{label} dropped: its summary is empty"));
        return None;
    }
    counts.add(&s);
    let summary = s.text;
    let evidence = clean_lines(
        f.get("evidence"),
        "evidence line",
        &label,
        &mut counts,
        notes,
    );
    let suggestions = clean_lines(
        f.get("suggestions"),
        "suggestion",
        &label,
        &mut counts,
        notes,
    );
    counts.report(notes, &label);
    Some(ReportFinding {
        code,
        severity,
        skill: "llm".into(),
        summary,
        resources,
        evidence,
        suggestions,
    })
}

/// The code an LLM finding is filed under: `llm.` and a slug of what the model gave, made of
/// `[a-z0-9.-]` (other characters become `-`; runs of separators collapse; a leading `llm.` is
/// not doubled), at most [`MAX_CODE`] characters; `llm.unclassified` when nothing is left.
///
/// The model's code is kept readable rather than replaced by a fixed one, because it names the
/// cause it found; the `llm.` prefix keeps it from ever passing for a deterministic skill's code.
pub fn llm_code(raw: &str) -> String {
    let mut slug = String::new();
    for c in sanitize::plain_text(raw).to_lowercase().chars() {
        let c = if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' {
            c
        } else {
            '-'
        };
        if (c == '-' || c == '.') && (slug.is_empty() || slug.ends_with(['-', '.'])) {
            continue;
        }
        slug.push(c);
    }
    let mut slug = slug.as_str();
    while let Some(rest) = slug.strip_prefix("llm.") {
        slug = rest;
    }
    if slug == "llm" {
        slug = "";
    }
    let max = MAX_CODE - "llm.".len();
    let slug = slug[..slug.len().min(max)].trim_end_matches(['-', '.']);
    if slug.is_empty() {
        "llm.unclassified".into()
    } else {
        format!("llm.{slug}")
    }
}

/// The finding's objects, each one the pack holds; `None` (noted) when one is not in the pack or
/// none is named.
fn resolve_resources(
    list: Option<&Value>,
    pack: &EvidencePack,
    label: &str,
    notes: &mut Notes,
) -> Option<Vec<ObjectRef>> {
    let list = list
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out: Vec<ObjectRef> = Vec::new();
    for r in list {
        let field = |k: &str| r.get(k).and_then(Value::as_str).unwrap_or("").to_string();
        let namespace = field("namespace");
        let want = ObjectRef {
            api_version: field("apiVersion"),
            kind: field("kind"),
            namespace: (!namespace.is_empty()).then_some(namespace),
            name: field("name"),
        };
        if !pack.contains(&want) {
            notes.push(format!(
                "{label} dropped: names {}, which is not in the evidence",
                shown_ref(&want)
            ));
            return None;
        }
        // The pack matches by kind (any case), namespace and name; the report carries the
        // pack's own spelling and apiVersion where the pack has the object itself.
        let found = match unique_in_pack(&want, pack) {
            Some(canonical) if canonical != want => {
                notes.push(format!(
                    "{label}: {} ({}) rewritten to {canonical} ({}) as in the evidence",
                    shown_ref(&want),
                    sanitize::quote_untrusted(&want.api_version, 63),
                    canonical.api_version
                ));
                canonical
            }
            Some(canonical) => canonical,
            None if plausible_api_version(&want.api_version) => want,
            None => {
                notes.push(format!(
                    "{label} dropped: names {} with the malformed apiVersion {}",
                    shown_ref(&want),
                    sanitize::quote_untrusted(&want.api_version, 63)
                ));
                return None;
            }
        };
        if !out.contains(&found) {
            out.push(found);
        }
    }
    if out.is_empty() {
        notes.push(format!(
            "{label} dropped: it names no object of the evidence"
        ));
        return None;
    }
    if out.len() > MAX_RESOURCES {
        notes.push(format!(
            "{label}: {} resources beyond the first {MAX_RESOURCES} dropped",
            out.len() - MAX_RESOURCES
        ));
        out.truncate(MAX_RESOURCES);
    }
    Some(out)
}

/// The pack's own reference for an object the model named, possibly with another `apiVersion` or
/// kind case (`v1` for a Deployment, `deployment`), when exactly one object of the pack fits.
fn unique_in_pack(want: &ObjectRef, pack: &EvidencePack) -> Option<ObjectRef> {
    let mut found: Option<&ObjectRef> = None;
    for o in pack.items().iter().filter_map(|i| i.object.as_ref()) {
        if o.kind.eq_ignore_ascii_case(&want.kind)
            && o.namespace == want.namespace
            && o.name == want.name
        {
            match found {
                Some(prev) if prev != o => return None,
                _ => found = Some(o),
            }
        }
    }
    found.cloned()
}

/// `Kind ns/name` as the model wrote it, made safe to quote in a note (withheld when it reads as
/// a command).
fn shown_ref(r: &ObjectRef) -> String {
    let part = |s: &str| {
        let (redacted, _) = redact_text(&sanitize::plain_text(s));
        sanitize::bound(redacted, 63).0
    };
    let shown = match &r.namespace {
        Some(ns) => format!("{} {}/{}", part(&r.kind), part(ns), part(&r.name)),
        None => format!("{} {}", part(&r.kind), part(&r.name)),
    };
    if find_mutation(&shown).is_some() {
        return format!("an object {}", sanitize::WITHHELD);
    }
    shown
}

/// `v1`, `apps/v1`, `networking.istio.io/v1beta1`: the shape of an apiVersion, so that an object
/// the pack knows only by reference (an owner, a finding's resource) carries no free text.
fn plausible_api_version(v: &str) -> bool {
    let (group, version) = v.rsplit_once('/').unwrap_or(("", v));
    let group_ok = group
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '.' || c == '-')
        && group.len() <= 253;
    let version_ok = version.len() <= 32
        && version.starts_with('v')
        && version[1..].starts_with(|c: char| c.is_ascii_digit())
        && version
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    group_ok && version_ok
}

/// An evidence or suggestion list: each line cleaned; lines carrying a mutating command removed
/// (noted, without the command's text); empty lines dropped; at most [`MAX_LINES`] kept.
fn clean_lines(
    list: Option<&Value>,
    what: &str,
    label: &str,
    counts: &mut Counts,
    notes: &mut Notes,
) -> Vec<String> {
    let list = list
        .and_then(Value::as_array)
        .map(Vec::as_slice)
        .unwrap_or_default();
    let mut out = Vec::new();
    let mut beyond = list.len().saturating_sub(MAX_LINES_EXAMINED);
    for (j, line) in list.iter().take(MAX_LINES_EXAMINED).enumerate() {
        let c = clean(line.as_str().unwrap_or(""), MAX_LINE);
        if let Some(m) = &c.mutation {
            notes.push(format!("{label}: {what} {} removed: {m}", j + 1));
            continue;
        }
        if c.text.is_empty() {
            continue;
        }
        if out.len() == MAX_LINES {
            beyond += 1;
            continue;
        }
        counts.add(&c);
        out.push(c.text);
    }
    if beyond > 0 {
        notes.push(format!(
            "{label}: {beyond} {what}s beyond the first {MAX_LINES} dropped"
        ));
    }
    out
}

/// One text field after cleaning.
struct Cleaned {
    text: String,
    /// Markup, escapes or control characters were removed.
    stripped: bool,
    /// Secret-like values masked.
    redacted: usize,
    /// Cut to the bound.
    cut: bool,
    /// A mutating command it carries.
    mutation: Option<Mutation>,
}

/// Plain text, secrets masked, bounded; and whether it carries a mutating command (looked for
/// before and after masking and cutting, so that neither can hide or forge one).
fn clean(s: &str, max_chars: usize) -> Cleaned {
    let plain = sanitize::plain_text(s);
    let stripped = plain != sanitize::squeeze(s);
    let (redacted_text, redacted) = redact_text(&plain);
    let (text, cut) = sanitize::bound(redacted_text, max_chars);
    let mutation = find_mutation(&plain).or_else(|| find_mutation(&text));
    Cleaned {
        text,
        stripped,
        redacted,
        cut,
        mutation,
    }
}

/// Per-finding tallies, reported as one note each.
#[derive(Default)]
struct Counts {
    stripped: usize,
    redacted: usize,
    cut: usize,
}

impl Counts {
    fn add(&mut self, c: &Cleaned) {
        self.stripped += usize::from(c.stripped);
        self.redacted += c.redacted;
        self.cut += usize::from(c.cut);
    }

    fn report(&self, notes: &mut Notes, what: &str) {
        if self.redacted > 0 {
            notes.push(format!(
                "redacted {} secret-like value{} in {what}",
                self.redacted,
                plural(self.redacted)
            ));
        }
        if self.stripped > 0 {
            notes.push(format!(
                "{what}: markup or control characters stripped from {} field{}",
                self.stripped,
                plural(self.stripped)
            ));
        }
        if self.cut > 0 {
            notes.push(format!(
                "{what}: {} field{} cut to the report's length bounds",
                self.cut,
                plural(self.cut)
            ));
        }
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

/// The filter's notes, bounded.
#[derive(Default)]
struct Notes {
    lines: Vec<String>,
    omitted: usize,
}

impl Notes {
    fn push(&mut self, line: String) {
        if self.lines.len() < MAX_NOTES {
            self.lines.push(line);
        } else {
            self.omitted += 1;
        }
    }

    fn finish(mut self) -> Vec<String> {
        if self.omitted > 0 {
            self.lines
                .push(format!("{} more filter notes omitted", self.omitted));
        }
        self.lines
    }
}

#[cfg(test)]
mod tests;
