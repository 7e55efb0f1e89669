//! Serializing objects the way `kubectl get -o yaml|json` prints them: keys sorted, sequences
//! under a key at the key's indentation, strings quoted only when YAML would read them as
//! something else (numbers, booleans, timestamps, indicators), multi-line strings as literal
//! blocks. Our own emitter rather than a YAML library's: the output must be byte-identical for a
//! seed whatever serde_json's map order is in a given build, and look like kubectl's.

use serde_json::{Map, Value};

/// Appends `v` as a YAML document (a mapping at column 0, as kubectl prints one).
pub fn yaml_document(out: &mut String, v: &Value) {
    match v {
        Value::Object(m) if !m.is_empty() => write_map(out, m, 0, false),
        other => {
            write_scalar_or_empty(out, other);
            out.push('\n');
        }
    }
}

/// Appends `v` as pretty JSON (4-space indentation, sorted keys, like `kubectl -o json`),
/// followed by a newline.
pub fn json_document(out: &mut String, v: &Value) {
    write_json(out, v, 0, true);
    out.push('\n');
}

/// `v` as compact JSON with sorted keys (for `last-applied-configuration` annotations).
pub fn json_compact(v: &Value) -> String {
    let mut out = String::new();
    write_json(&mut out, v, 0, false);
    out
}

fn sorted(m: &Map<String, Value>) -> Vec<(&String, &Value)> {
    let mut entries: Vec<(&String, &Value)> = m.iter().collect();
    entries.sort_by(|a, b| a.0.cmp(b.0));
    entries
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// Whether a value is written on the same line as its key (`key: value`).
fn is_inline(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        // Only multi-line strings can be literal blocks; don't pay for `style` on the rest.
        Value::String(s) => !(s.contains('\n') && matches!(style(s), Style::Literal(_))),
        _ => true,
    }
}

/// Writes the entries of a non-empty mapping at `ind`; when `first_inline`, the first entry
/// continues a line already started (after `- `).
fn write_map(out: &mut String, m: &Map<String, Value>, ind: usize, first_inline: bool) {
    for (i, (k, v)) in sorted(m).into_iter().enumerate() {
        if i > 0 || !first_inline {
            indent(out, ind);
        }
        write_key(out, k);
        out.push(':');
        write_value_after_key(out, v, ind);
    }
}

/// Writes what follows `key:` for a key at indentation `ind`.
fn write_value_after_key(out: &mut String, v: &Value, ind: usize) {
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('\n');
            write_map(out, m, ind + 2, false);
        }
        // kubectl style: a sequence under a key starts at the key's own indentation.
        Value::Array(a) if !a.is_empty() => {
            out.push('\n');
            write_seq(out, a, ind, false);
        }
        Value::String(s) if !is_inline(v) => write_literal(out, s, ind + 2),
        other => {
            out.push(' ');
            write_scalar_or_empty(out, other);
            out.push('\n');
        }
    }
}

fn write_seq(out: &mut String, a: &[Value], ind: usize, first_inline: bool) {
    for (i, item) in a.iter().enumerate() {
        if i > 0 || !first_inline {
            indent(out, ind);
        }
        out.push_str("- ");
        match item {
            Value::Object(m) if !m.is_empty() => write_map(out, m, ind + 2, true),
            Value::Array(inner) if !inner.is_empty() => write_seq(out, inner, ind + 2, true),
            Value::String(s) if !is_inline(item) => {
                // `- |` with the block's lines indented past the dash.
                out.pop();
                write_literal(out, s, ind + 2);
            }
            other => {
                write_scalar_or_empty(out, other);
                out.push('\n');
            }
        }
    }
}

fn write_scalar_or_empty(out: &mut String, v: &Value) {
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => write_inline_string(out, s),
        Value::Array(_) => out.push_str("[]"),
        Value::Object(_) => out.push_str("{}"),
    }
}

fn write_key(out: &mut String, k: &str) {
    match style(k) {
        Style::Literal(_) => write_double(out, k),
        _ => write_inline_string(out, k),
    }
}

/// How a string is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Style {
    Plain,
    /// Double quotes: a string that would otherwise read as a number, boolean, null or time,
    /// or one with characters that need escapes.
    Double,
    /// Single quotes: printable text with characters that cannot start or appear in a plain
    /// scalar.
    Single,
    /// A literal block (`|`), with the number of trailing newlines it keeps.
    Literal(usize),
}

fn style(s: &str) -> Style {
    if s.contains('\n') {
        return match literal_chomp(s) {
            Some(n) => Style::Literal(n),
            None => Style::Double,
        };
    }
    if !s.chars().all(printable) || s.contains(['\r', '\t']) {
        return Style::Double;
    }
    if resolves_to_non_string(s) {
        return Style::Double;
    }
    if plain_safe(s) {
        Style::Plain
    } else if s.is_empty() || s.bytes().all(|b| b"*&!|>%@-?:#".contains(&b)) {
        // kubectl's printer double-quotes the empty string and lone indicators (`"*"`).
        Style::Double
    } else {
        Style::Single
    }
}

/// Characters YAML allows unescaped in a document (YAML 1.2 §5.1, minus the line and byte-order
/// marks a reader would act on).
fn printable(c: char) -> bool {
    matches!(c, '\t' | '\n' | ' '..='~' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
        && c != '\u{FEFF}'
}

/// Whether a plain scalar with this text would be read as something other than a string, by
/// YAML 1.1 readers (kubectl's go-yaml) or YAML 1.2 ones (serde_yaml_ng).
fn resolves_to_non_string(s: &str) -> bool {
    const WORDS: [&str; 11] = [
        "null", "~", "true", "false", "yes", "no", "on", "off", "y", "n", "<<",
    ];
    // Fast path: only these can start a number, a timestamp or a reserved word.
    match s.as_bytes().first() {
        Some(c) if c.is_ascii_digit() || b"+-.nNyYtTfFoO~<=".contains(c) => {}
        _ => return false,
    }
    let lower = s.to_ascii_lowercase();
    if WORDS.contains(&lower.as_str()) || s == "=" {
        return true;
    }
    let body = s.strip_prefix(['+', '-']).unwrap_or(s);
    let b = body.as_bytes();
    // Numbers in any base, with `_` separators (YAML 1.1), and .inf / .nan.
    let unsigned = lower.trim_start_matches(['+', '-']);
    let radix = |prefix: &str, digits: &str| {
        unsigned.strip_prefix(prefix).is_some_and(|rest| {
            !rest.is_empty() && rest.chars().all(|c| c == '_' || digits.contains(c))
        })
    };
    if body.replace('_', "").parse::<f64>().is_ok()
        || radix("0x", "0123456789abcdef")
        || radix("0o", "01234567")
        || radix("0b", "01")
        || matches!(unsigned, ".inf" | ".nan")
    {
        return true;
    }
    // Timestamps (`2026-11-24…`) and sexagesimal numbers (`1:30`).
    let digits =
        |r: std::ops::Range<usize>| b.get(r).is_some_and(|x| x.iter().all(u8::is_ascii_digit));
    if digits(0..4) && b.get(4) == Some(&b'-') {
        return true;
    }
    !b.is_empty()
        && b[0].is_ascii_digit()
        && b.iter()
            .all(|c| c.is_ascii_digit() || matches!(c, b':' | b'.' | b'_'))
        && b.contains(&b':')
}

/// Whether the (single-line, printable) text may be written as a plain scalar in block context.
fn plain_safe(s: &str) -> bool {
    let b = s.as_bytes();
    let (Some(&first), Some(&last)) = (b.first(), b.last()) else {
        return false;
    };
    if first == b' ' || last == b' ' || last == b':' {
        return false;
    }
    if b",[]{}#&*!|>'\"%@`".contains(&first) {
        return false;
    }
    if matches!(first, b'-' | b'?' | b':') && b.get(1).is_none_or(|c| *c == b' ') {
        return false;
    }
    if s.starts_with("---") || s.starts_with("...") {
        return false;
    }
    !(s.contains(": ") || s.contains(" #"))
}

/// The number of trailing newlines a literal block must keep, or `None` when the text cannot
/// be a literal block (characters that need escapes, or a first line starting with whitespace,
/// which would need an indentation indicator).
fn literal_chomp(s: &str) -> Option<usize> {
    if !s.chars().all(printable) || s.contains('\r') {
        return None;
    }
    let body = s.trim_end_matches('\n');
    if body.is_empty() || body.starts_with([' ', '\t']) {
        return None;
    }
    Some(s.len() - body.len())
}

fn write_inline_string(out: &mut String, s: &str) {
    match style(s) {
        Style::Plain => out.push_str(s),
        Style::Single => {
            out.push('\'');
            out.push_str(&s.replace('\'', "''"));
            out.push('\'');
        }
        Style::Double | Style::Literal(_) => write_double(out, s),
    }
}

fn write_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if printable(c) => out.push(c),
            c => out.push_str(&format!("\\u{:04X}", u32::from(c))),
        }
    }
    out.push('"');
}

/// ` |`/` |-`/` |+`, then the lines at `ind`; ends with a newline.
fn write_literal(out: &mut String, s: &str, ind: usize) {
    let keep = match style(s) {
        Style::Literal(n) => n,
        _ => 1,
    };
    out.push_str(match keep {
        0 => " |-\n",
        1 => " |\n",
        _ => " |+\n",
    });
    let body = s.trim_end_matches('\n');
    for line in body.split('\n') {
        if !line.is_empty() {
            indent(out, ind);
            out.push_str(line);
        }
        out.push('\n');
    }
    for _ in 1..keep {
        out.push('\n');
    }
}

fn write_json(out: &mut String, v: &Value, ind: usize, pretty: bool) {
    let nl = |out: &mut String, n: usize| {
        if pretty {
            out.push('\n');
            indent(out, n);
        }
    };
    match v {
        Value::Object(m) if !m.is_empty() => {
            out.push('{');
            for (i, (k, val)) in sorted(m).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, ind + 4);
                write_json_string(out, k);
                out.push_str(if pretty { ": " } else { ":" });
                write_json(out, val, ind + 4, pretty);
            }
            nl(out, ind);
            out.push('}');
        }
        Value::Array(a) if !a.is_empty() => {
            out.push('[');
            for (i, val) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                nl(out, ind + 4);
                write_json(out, val, ind + 4, pretty);
            }
            nl(out, ind);
            out.push(']');
        }
        Value::Object(_) => out.push_str("{}"),
        Value::Array(_) => out.push_str("[]"),
        Value::String(s) => write_json_string(out, s),
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
    }
}

fn write_json_string(out: &mut String, s: &str) {
    // serde_json's string escaping is exactly JSON's; a `String` always serializes.
    match serde_json::to_string(s) {
        Ok(q) => out.push_str(&q),
        Err(_) => out.push_str("\"\""),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn yaml(v: &Value) -> String {
        let mut s = String::new();
        yaml_document(&mut s, v);
        s
    }

    #[test]
    fn prints_like_kubectl() {
        let v = json!({
            "kind": "List",
            "apiVersion": "v1",
            "metadata": {"resourceVersion": ""},
            "items": [{
                "metadata": {"name": "a", "labels": {"app": "x"}, "annotations": {}},
                "spec": {"ports": [{"port": 9080}], "args": ["--x", "-b", "*", "15090,15021"]},
                "status": {"t": "2026-11-24T12:00:00Z", "n": "0", "on": "on", "m": "a: b", "e": null, "u": "0b7c3222-3e9f"}
            }]
        });
        let want = r#"apiVersion: v1
items:
- metadata:
    annotations: {}
    labels:
      app: x
    name: a
  spec:
    args:
    - --x
    - -b
    - "*"
    - 15090,15021
    ports:
    - port: 9080
  status:
    e: null
    m: 'a: b'
    "n": "0"
    "on": "on"
    t: "2026-11-24T12:00:00Z"
    u: 0b7c3222-3e9f
kind: List
metadata:
  resourceVersion: ""
"#;
        assert_eq!(yaml(&v), want);
    }

    #[test]
    fn quotes_what_would_not_read_back_as_a_string() {
        for s in [
            "",
            "0",
            "1.5",
            "-3",
            "1e3",
            "0x1F",
            ".inf",
            "true",
            "No",
            "null",
            "~",
            "2026-11-24",
            "1:30",
            "- x",
            "-",
            "#x",
            "a #b",
            "x:",
            "'q'",
            "\"d\"",
            "{\"a\":1}",
            "[x]",
            " lead",
            "trail ",
            "*",
            "&a",
            "!t",
            "|",
            ">",
            "%",
            "@",
            "`",
            "---",
            "...",
            "<<",
            "=",
            "a\tb",
            "\u{7f}",
            "\u{feff}x",
            "10.132.0.20",
            "1Gi",
            "100m",
            "e2-standard-2",
            "v1",
        ] {
            let v = json!({ "k": s });
            let text = yaml(&v);
            let back = serde_yaml_round_trip(&text);
            assert_eq!(back["k"], Value::String(s.to_string()), "{s:?} -> {text}");
        }
    }

    #[test]
    fn multi_line_strings_are_literal_blocks() {
        for s in [
            "a\nb",
            "a\nb\n",
            "a\n\nb\n\n\n",
            "{}\n",
            " x\ny",
            "a\r\nb",
            "\n",
        ] {
            let v = json!({ "k": s, "l": [s, {"m": s}] });
            let text = yaml(&v);
            let back = serde_yaml_round_trip(&text);
            assert_eq!(back["k"], Value::String(s.to_string()), "{s:?} -> {text}");
            assert_eq!(
                back["l"][0],
                Value::String(s.to_string()),
                "{s:?} -> {text}"
            );
            assert_eq!(
                back["l"][1]["m"],
                Value::String(s.to_string()),
                "{s:?} -> {text}"
            );
        }
        assert!(yaml(&json!({"k": "a\nb\n"})).starts_with("k: |\n  a\n  b\n"));
    }

    #[test]
    fn json_is_sorted_and_round_trips() {
        let v = json!({"b": [1, {"d": "x\n\"y\"", "c": []}], "a": {}, "e": null});
        let mut s = String::new();
        json_document(&mut s, &v);
        assert!(
            s.starts_with("{\n    \"a\": {},\n    \"b\": [\n        1,"),
            "{s}"
        );
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
        assert_eq!(
            json_compact(&v),
            r#"{"a":{},"b":[1,{"c":[],"d":"x\n\"y\""}],"e":null}"#
        );
    }

    /// Reads YAML back with the same reader the host's snapshot loader uses.
    fn serde_yaml_round_trip(text: &str) -> Value {
        serde_yaml_ng::from_str(text).unwrap_or_else(|e| panic!("{e}: {text}"))
    }
}
