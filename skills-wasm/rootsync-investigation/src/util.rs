//! Small text helpers: bounded single-line evidence, quoted-value extraction.
//!
//! The host strips control characters from every evidence line, so a multi-line Config Sync
//! message must be cut into lines (or joined) here, before it crosses the boundary.

pub use skillbox_guest::text::{MAX_LINE, MAX_SUMMARY, clip};

/// The text between the first `"` after `marker` and the next `"` (`admission webhook "x"` → `x`).
pub fn quoted_after<'a>(s: &'a str, marker: &str) -> Option<&'a str> {
    let at = s.find(marker)? + marker.len();
    let rest = s[at..].trim_start();
    let rest = rest.strip_prefix('"')?;
    let end = rest.find('"')?;
    Some(&rest[..end])
}

/// Case-insensitive substring test (ASCII).
pub fn contains_ci(hay: &str, needle: &str) -> bool {
    hay.to_ascii_lowercase()
        .contains(&needle.to_ascii_lowercase())
}

/// A git SHA (or OCI digest) as people read it: the first 12 characters, or `(none)`.
pub fn short_commit(c: Option<&str>) -> String {
    match c {
        Some(c) if !c.is_empty() => c.chars().take(12).collect(),
        _ => "(none)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clip_respects_char_boundaries() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("ééééé", 3), "éé…");
    }

    #[test]
    fn quoted_values() {
        assert_eq!(
            quoted_after(r#"admission webhook "a.b" denied"#, "admission webhook"),
            Some("a.b")
        );
        assert_eq!(quoted_after("no quotes here", "no"), None);
        assert_eq!(quoted_after(r#"x "unterminated"#, "x"), None);
    }

    #[test]
    fn commits_shorten() {
        assert_eq!(short_commit(Some("0123456789abcdef")), "0123456789ab");
        assert_eq!(short_commit(Some("")), "(none)");
        assert_eq!(short_commit(None), "(none)");
    }
}
