//! Small text helpers: bounded evidence lines, map formatting, quantities.

pub use skillbox_guest::text::{
    MAX_LINE, MAX_SUMMARY, clip, fmt_json, fmt_map, fmt_selector, one_line,
};

use serde_json::Value;

/// A string value at `path` (slash-free keys) of a JSON value.
pub fn str_in<'a>(v: &'a Value, path: &[&str]) -> Option<&'a str> {
    let mut cur = v;
    for k in path {
        cur = cur.get(*k)?;
    }
    cur.as_str()
}

/// A Kubernetes quantity doubled, keeping its suffix (`256Mi` → `512Mi`, `1.5Gi` → `3Gi`).
pub fn double_quantity(q: &str) -> Option<String> {
    let q = q.trim();
    let split = q
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(q.len());
    let (num, suffix) = q.split_at(split);
    if num.is_empty()
        || !matches!(
            suffix,
            "" | "Ki" | "Mi" | "Gi" | "Ti" | "k" | "K" | "M" | "G" | "T"
        )
    {
        return None;
    }
    let n: f64 = num.parse().ok()?;
    if !n.is_finite() || n <= 0.0 {
        return None;
    }
    let d = n * 2.0;
    let text = if d.fract() == 0.0 && d < 1e15 {
        format!("{}", d as u64)
    } else {
        format!("{d:.1}")
    };
    Some(format!("{text}{suffix}"))
}

/// Case-insensitive substring test.
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("ééééé", 3), "éé…");
        assert_eq!(clip("", 0), "");
    }

    #[test]
    fn quantities_double() {
        assert_eq!(double_quantity("256Mi").as_deref(), Some("512Mi"));
        assert_eq!(double_quantity("1.5Gi").as_deref(), Some("3Gi"));
        assert_eq!(double_quantity("1000000").as_deref(), Some("2000000"));
        assert_eq!(double_quantity("abc"), None);
        assert_eq!(double_quantity("1e3"), None);
        assert_eq!(double_quantity(""), None);
    }

    #[test]
    fn one_line_collapses() {
        assert_eq!(one_line("a\n  b\tc "), "a b c");
    }
}
