//! Bounded, single-line text for findings. The host truncates whatever exceeds the report's
//! bounds (`../shared/spec/report.md`) and strips control characters; cutting here first keeps
//! the cut where the skill wants it.

use serde_json::Value;
use std::collections::BTreeMap;

/// Longest evidence or suggestion line worth producing (the report bound is 1024).
pub const MAX_LINE: usize = 1000;
/// Longest summary worth producing (the report bound is 512).
pub const MAX_SUMMARY: usize = 500;
/// Evidence or suggestion lines per finding (the host keeps 20).
pub const MAX_LINES: usize = 20;
/// Objects named per finding (the host keeps 20).
pub const MAX_RESOURCES: usize = 20;

/// `s` cut to at most `max` characters (on a char boundary), with `…` when cut.
pub fn clip(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    let mut out: String = s.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// `s` on one line: newlines and runs of whitespace become single spaces.
pub fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// `{a: 1, b: 2}`: a label map as evidence shows it.
pub fn fmt_map(m: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}: {v}")).collect();
    format!("{{{}}}", inner.join(", "))
}

/// `a=1,b=2`: kubectl label-selector syntax for an equality map.
pub fn fmt_selector(m: &BTreeMap<String, String>) -> String {
    let inner: Vec<String> = m.iter().map(|(k, v)| format!("{k}={v}")).collect();
    inner.join(",")
}

/// Compact JSON, clipped.
pub fn fmt_json(v: &Value, max: usize) -> String {
    clip(&serde_json::to_string(v).unwrap_or_default(), max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_counts_characters_and_marks_the_cut() {
        assert_eq!(clip("héllo", 5), "héllo");
        assert_eq!(clip("héllo wörld", 6), "héllo…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn formats() {
        let m: BTreeMap<String, String> = [("b", "2"), ("a", "1")]
            .into_iter()
            .map(|(k, v)| (k.into(), v.into()))
            .collect();
        assert_eq!(fmt_map(&m), "{a: 1, b: 2}");
        assert_eq!(fmt_selector(&m), "a=1,b=2");
        assert_eq!(one_line(" a\n  b\tc "), "a b c");
        assert_eq!(
            fmt_json(&serde_json::json!({"k": [1, 2]}), 100),
            r#"{"k":[1,2]}"#
        );
    }
}
