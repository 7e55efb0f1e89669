//! Where each top-level field of a JSON object sits in its text, found by a byte scan that skips
//! values without parsing them, and only as far as the field asked for. A part (`metadata`,
//! `spec`, `status`) is then deserialized from its own slice. Cheaper than asking serde to stop
//! mid-object: that takes an error, and serde_json gives every error a line and column by
//! counting newlines from the start of the text.

use std::cell::RefCell;
use std::ops::Range;

/// The top-level fields found so far, and where the scan stopped.
#[derive(Debug, Clone, Default)]
pub(crate) struct TopLevel {
    state: RefCell<Scan>,
}

#[derive(Debug, Clone, Default)]
struct Scan {
    /// `(key as written, without quotes; value)`.
    found: Vec<(Range<usize>, Range<usize>)>,
    /// Where to go on: just after the last value read (or 0 before the opening brace).
    cursor: usize,
    /// The closing brace was reached, or the text is not what the scan understands.
    done: bool,
}

impl TopLevel {
    /// The slice holding the value of the first top-level field named `key`, or `None` when
    /// there is none (or the text is malformed before it).
    pub(crate) fn value<'t>(&self, text: &'t str, key: &str) -> Option<&'t str> {
        let mut s = self.state.borrow_mut();
        let bytes = text.as_bytes();
        let hit = |s: &Scan| {
            s.found
                .iter()
                .find(|(k, _)| key_is(&text[k.clone()], key))
                .map(|(_, v)| v.clone())
        };
        if let Some(v) = hit(&s) {
            return Some(&text[v]);
        }
        while !s.done {
            match next_field(bytes, s.cursor) {
                Some((k, v)) => {
                    s.cursor = v.end;
                    let found = key_is(&text[k.clone()], key);
                    s.found.push((k, v.clone()));
                    if found {
                        return Some(&text[v]);
                    }
                }
                None => s.done = true,
            }
        }
        None
    }
}

/// Whether a key as written (perhaps with escapes) is `key`.
fn key_is(raw: &str, key: &str) -> bool {
    if !raw.contains('\\') {
        return raw == key;
    }
    serde_json::from_str::<String>(&format!("\"{raw}\"")).is_ok_and(|k| k == key)
}

fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while i < b.len() && matches!(b[i], b' ' | b'\t' | b'\n' | b'\r') {
        i += 1;
    }
    i
}

/// The next field after `at`: at 0 the opening brace is expected, after a value a comma (or
/// the closing brace, which ends the scan).
fn next_field(b: &[u8], at: usize) -> Option<(Range<usize>, Range<usize>)> {
    let mut i = skip_ws(b, at);
    match (at, b.get(i)?) {
        (0, b'{') => {}
        (0, _) => return None,
        (_, b',') => {}
        _ => return None,
    }
    i = skip_ws(b, i + 1);
    if *b.get(i)? != b'"' {
        return None;
    }
    let key_end = string_end(b, i)?;
    let key = i + 1..key_end - 1;
    i = skip_ws(b, key_end);
    if *b.get(i)? != b':' {
        return None;
    }
    let start = skip_ws(b, i + 1);
    let end = value_end(b, start)?;
    Some((key, start..end))
}

/// Just after the string whose opening quote is at `i`.
fn string_end(b: &[u8], i: usize) -> Option<usize> {
    let mut j = i + 1;
    loop {
        j += memchr::memchr2(b'"', b'\\', b.get(j..)?)?;
        if b[j] == b'\\' {
            j += 2;
        } else {
            return Some(j + 1);
        }
    }
}

/// Just after the value that starts at `i`.
fn value_end(b: &[u8], i: usize) -> Option<usize> {
    match *b.get(i)? {
        b'"' => string_end(b, i),
        open @ (b'{' | b'[') => {
            // NB: only this bracket kind and strings matter for finding its match.
            let close = if open == b'{' { b'}' } else { b']' };
            let (mut j, mut depth) = (i + 1, 1usize);
            loop {
                j += memchr::memchr3(b'"', open, close, b.get(j..)?)?;
                match b[j] {
                    b'"' => j = string_end(b, j)?,
                    c if c == open => {
                        depth += 1;
                        j += 1;
                    }
                    _ => {
                        depth -= 1;
                        j += 1;
                        if depth == 0 {
                            return Some(j);
                        }
                    }
                }
            }
        }
        _ => {
            let mut j = i;
            while j < b.len() && !matches!(b[j], b',' | b'}' | b']' | b' ' | b'\t' | b'\n' | b'\r')
            {
                j += 1;
            }
            (j > i).then_some(j)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'t>(text: &'t str, key: &str) -> Option<&'t str> {
        TopLevel::default().value(text, key)
    }

    #[test]
    fn finds_each_field_and_skips_nested_ones() {
        let t = r#" { "a" : 1, "b":{"a":2,"s":"}{]["}, "c":[{"x":"\"]"},[1,2]], "d":"q\"x", "e":null } "#;
        assert_eq!(get(t, "a"), Some("1"));
        assert_eq!(get(t, "b"), Some(r#"{"a":2,"s":"}{]["}"#));
        assert_eq!(get(t, "c"), Some(r#"[{"x":"\"]"},[1,2]]"#));
        assert_eq!(get(t, "d"), Some(r#""q\"x""#));
        assert_eq!(get(t, "e"), Some("null"));
        assert_eq!(get(t, "s"), None, "nested keys are not top-level");
        assert_eq!(get(t, "x"), None);
    }

    #[test]
    fn the_first_of_duplicate_keys_wins_and_escaped_keys_match() {
        assert_eq!(get(r#"{"k":1,"k":2}"#, "k"), Some("1"));
        assert_eq!(get(r#"{"\u006b":3}"#, "k"), Some("3"));
    }

    #[test]
    fn scans_only_as_far_as_asked_and_remembers() {
        let t = r#"{"a":1,"b":2,"c":3}"#;
        let top = TopLevel::default();
        assert_eq!(top.value(t, "a"), Some("1"));
        assert_eq!(top.state.borrow().found.len(), 1);
        assert_eq!(top.value(t, "c"), Some("3"));
        assert_eq!(top.value(t, "b"), Some("2"));
        assert_eq!(top.state.borrow().found.len(), 3);
        assert_eq!(top.value(t, "zz"), None);
        assert!(top.state.borrow().done);
    }

    #[test]
    fn malformed_text_ends_the_scan_without_panicking() {
        for t in [
            "",
            "{",
            "{\"a\"",
            "{\"a\":",
            "{\"a\":\"x",
            "{\"a\":{",
            "[1]",
            "{\"a\":1 \"b\":2}",
            "{\"a\":1,}",
            "{\"a\\",
            "{\"a\":[1,{]}",
        ] {
            let _ = get(t, "b");
            let _ = get(t, "a");
        }
        assert_eq!(get("{\"a\":1 \"b\":2}", "b"), None);
        assert_eq!(get("{\"a\":1 \"b\":2}", "a"), Some("1"));
    }
}
