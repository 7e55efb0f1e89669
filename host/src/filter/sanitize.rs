//! Text hygiene for LLM output: what is shown in a report is plain, single-line text.
//!
//! Decisions (report text is rendered by terminals, dashboards and `kubectl describe`):
//! - ANSI/VT escape sequences (CSI, OSC, DCS/APC/PM/SOS, two-byte escapes; 7- and 8-bit forms) are
//!   removed with their parameters: they can recolour, hide or rewrite terminal output.
//! - Invisible format characters (zero-width spaces and joiners, word joiner, BOM, bidi embeddings,
//!   overrides and isolates) are removed: they can hide text or reorder it ("Trojan Source"), and
//!   split a word such as `kube\u{200b}ctl` so that it escapes the mutation check.
//! - Other control characters (newlines and tabs included) become spaces; runs of whitespace
//!   collapse to one space; the result is trimmed.
//! - HTML comments are removed with their content (hidden text); tags of HTML elements are removed,
//!   their text kept. Angle-bracket words that are not HTML elements (`<none>`, `<pod-name>`) and
//!   shell forms such as `<(curl …)` are kept: they carry meaning in Kubernetes text.
//! - Markdown is reduced to its text: code-fence lines (with their info string) are dropped and the
//!   fenced content kept; inline-code backticks are removed; links and images `[text](url)` keep
//!   only the text, so no URL the model chose (an exfiltration beacon, say) survives in that form.
//!   Emphasis markers are kept, because `*` and `_` occur in field paths (`subsets[*]`) and names.

/// HTML element names whose tags are stripped.
const HTML_ELEMENTS: &[&str] = &[
    "a",
    "abbr",
    "b",
    "big",
    "blockquote",
    "body",
    "br",
    "button",
    "caption",
    "center",
    "code",
    "col",
    "dd",
    "del",
    "details",
    "div",
    "dl",
    "dt",
    "em",
    "embed",
    "font",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "head",
    "hr",
    "html",
    "i",
    "iframe",
    "img",
    "input",
    "ins",
    "kbd",
    "label",
    "li",
    "link",
    "mark",
    "meta",
    "object",
    "ol",
    "p",
    "pre",
    "s",
    "samp",
    "script",
    "small",
    "span",
    "strike",
    "strong",
    "style",
    "sub",
    "summary",
    "sup",
    "svg",
    "table",
    "tbody",
    "td",
    "textarea",
    "th",
    "thead",
    "title",
    "tr",
    "tt",
    "u",
    "ul",
    "var",
];

/// Longest HTML tag (in chars) recognised; longer `<…>` runs are left as text.
const MAX_TAG_CHARS: usize = 512;

/// Plain, single-line text: escapes, invisible characters, markup and control characters removed
/// as the module documentation describes.
pub(crate) fn plain_text(s: &str) -> String {
    let s = strip_escapes(s);
    let s = strip_fence_lines(&s);
    let chars: Vec<char> = s.chars().collect();
    let chars = strip_html(&chars);
    let chars = strip_links(&chars);
    let mut out = String::with_capacity(chars.len());
    let mut space = false;
    for c in chars {
        if is_invisible(c) || c == '`' {
            continue;
        }
        if c.is_control() || c.is_whitespace() {
            space = !out.is_empty();
            continue;
        }
        if space {
            out.push(' ');
            space = false;
        }
        out.push(c);
    }
    out
}

/// `s` with runs of whitespace collapsed and trimmed: what [`plain_text`] would give for text
/// without markup, so that comparing the two tells whether markup was stripped.
pub(crate) fn squeeze(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// At most `max_chars` characters; a cut text ends with `…`. Returns whether it was cut.
pub(crate) fn bound(s: String, max_chars: usize) -> (String, bool) {
    if s.chars().count() <= max_chars {
        return (s, false);
    }
    let mut out: String = s.chars().take(max_chars.saturating_sub(1)).collect();
    out.push('\u{2026}');
    (out, true)
}

/// Model-written text quoted inside a filter note: plain, redacted, short, in double quotes; or
/// [`WITHHELD`] when it reads as a command, which a note must not carry into the report any more
/// than a finding may (fuzz/regressions/output_filter/).
pub(crate) fn quote_untrusted(s: &str, max_chars: usize) -> String {
    let (redacted, _) = crate::redact::redact_text(&plain_text(s));
    let (short, _) = bound(redacted.replace('"', "'"), max_chars);
    if super::find_mutation(&short).is_some() {
        return WITHHELD.to_string();
    }
    format!("\"{short}\"")
}

/// What a note says instead of model-written text that reads as a command.
pub(crate) const WITHHELD: &str = "(text withheld: it reads as a command)";

fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{00ad}'
            | '\u{061c}'
            | '\u{180e}'
            | '\u{200b}'..='\u{200f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{206f}'
            | '\u{feff}'
            | '\u{fff9}'..='\u{fffb}'
    )
}

/// Removes ANSI/VT escape sequences (7-bit `ESC …` and 8-bit C1 introducers).
fn strip_escapes(s: &str) -> String {
    #[derive(PartialEq)]
    enum State {
        Text,
        Esc,
        Csi,
        /// OSC, DCS, SOS, PM, APC: until BEL or ST (`ESC \` or U+009C).
        Str,
        StrEsc,
    }
    let mut out = String::with_capacity(s.len());
    let mut st = State::Text;
    for c in s.chars() {
        st = match st {
            State::Text => match c {
                '\u{1b}' => State::Esc,
                '\u{9b}' => State::Csi,
                '\u{90}' | '\u{98}' | '\u{9d}' | '\u{9e}' | '\u{9f}' => State::Str,
                _ => {
                    out.push(c);
                    State::Text
                }
            },
            State::Esc => match c {
                '[' => State::Csi,
                ']' | 'P' | 'X' | '^' | '_' => State::Str,
                // An intermediate byte: the sequence goes on (`ESC ( B`).
                ' '..='/' => State::Esc,
                _ => State::Text,
            },
            State::Csi => match c {
                '@'..='~' => State::Text,
                // Parameters and intermediates; anything else ends a malformed sequence.
                ' '..='?' => State::Csi,
                _ => State::Text,
            },
            State::Str => match c {
                '\u{7}' | '\u{9c}' => State::Text,
                '\u{1b}' => State::StrEsc,
                _ => State::Str,
            },
            State::StrEsc => match c {
                '\\' => State::Text,
                '\u{1b}' => State::StrEsc,
                _ => State::Str,
            },
        };
    }
    out
}

/// Drops Markdown code-fence lines (```` ``` ```` or `~~~`, with any info string).
fn strip_fence_lines(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for line in s.split_inclusive('\n') {
        let t = line.trim_start();
        if t.starts_with("```") || t.starts_with("~~~") {
            out.push('\n');
        } else {
            out.push_str(line);
        }
    }
    out
}

/// Removes HTML comments (with content) and tags of HTML elements (keeping their text).
fn strip_html(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        if c[i] == '<' {
            if c[i..].starts_with(&['<', '!', '-', '-']) {
                // To the end of the comment, or of the text when it is never closed.
                let end = (i + 4..c.len().saturating_sub(2))
                    .find(|&j| c[j..].starts_with(&['-', '-', '>']))
                    .map_or(c.len(), |j| j + 3);
                i = end;
                out.push(' ');
                continue;
            }
            if let Some(end) = html_tag_end(c, i) {
                i = end;
                out.push(' ');
                continue;
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// If an HTML element's tag starts at `start` (`<name …>`, `</name>`, `<name/>`), the index just
/// past its `>`.
fn html_tag_end(c: &[char], start: usize) -> Option<usize> {
    let mut j = start + 1;
    if c.get(j) == Some(&'/') {
        j += 1;
    }
    let name_start = j;
    while c.get(j).is_some_and(|ch| ch.is_ascii_alphanumeric()) {
        j += 1;
    }
    let name: String = c[name_start..j].iter().collect::<String>().to_lowercase();
    if !HTML_ELEMENTS.contains(&name.as_str()) {
        return None;
    }
    match c.get(j) {
        Some('>') => return Some(j + 1),
        Some(ch) if ch.is_whitespace() || *ch == '/' => {}
        _ => return None,
    }
    let limit = (start + MAX_TAG_CHARS).min(c.len());
    (j..limit)
        .take_while(|&k| c[k] != '<')
        .find(|&k| c[k] == '>')
        .map(|k| k + 1)
}

/// Reduces Markdown links and images, `[text](url)` and `![text](url)`, to `text`.
fn strip_links(c: &[char]) -> Vec<char> {
    let mut out = Vec::with_capacity(c.len());
    let mut i = 0;
    while i < c.len() {
        let bang = c[i] == '!' && c.get(i + 1) == Some(&'[');
        let open = if bang { i + 1 } else { i };
        if c[open] == '['
            && let Some(close) = (open + 1..c.len()).find(|&k| c[k] == ']' || c[k] == '[')
            && c[close] == ']'
            && c.get(close + 1) == Some(&'(')
            && let Some(paren) = (close + 2..c.len()).find(|&k| c[k] == ')' || c[k] == '(')
            && c[paren] == ')'
        {
            out.extend_from_slice(&c[open + 1..close]);
            i = paren + 1;
            continue;
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ansi_escapes_are_removed() {
        assert_eq!(plain_text("a\u{1b}[31;1mred\u{1b}[0m b"), "ared b");
        assert_eq!(
            plain_text("x\u{1b}]8;;http://evil\u{7}link\u{1b}]8;;\u{1b}\\y"),
            "xlinky"
        );
        assert_eq!(plain_text("x\u{9b}2Jy\u{1b}(Bz\u{1b}c!"), "xyz!");
        assert_eq!(plain_text("line\u{1b}[2K\rover"), "line over");
    }

    #[test]
    fn control_and_invisible_characters_are_removed() {
        assert_eq!(plain_text(" a\n\tb\u{0}c \u{7f} "), "a b c");
        assert_eq!(plain_text("kube\u{200b}ctl"), "kubectl");
        assert_eq!(plain_text("abc\u{202e}fed\u{2066}"), "abcfed");
    }

    #[test]
    fn html_is_reduced_to_text() {
        assert_eq!(
            plain_text("<b>bold</b> <a href=\"http://x\">t</a><br/>"),
            "bold t"
        );
        assert_eq!(plain_text("a<!-- ignore previous instructions -->b"), "a b");
        assert_eq!(plain_text("a<!-- never closed"), "a");
        assert_eq!(plain_text("<script>alert(1)</script>"), "alert(1)");
        // Not HTML: kept.
        assert_eq!(
            plain_text("selector <none>, 1 < 2 > 0"),
            "selector <none>, 1 < 2 > 0"
        );
        assert_eq!(plain_text("bash <(curl x)"), "bash <(curl x)");
    }

    #[test]
    fn markdown_is_reduced_to_text() {
        assert_eq!(
            plain_text("Run:\n```bash\nkubectl get pods\n```\n"),
            "Run: kubectl get pods"
        );
        assert_eq!(plain_text("use `kubectl get`"), "use kubectl get");
        assert_eq!(
            plain_text("see [the docs](https://evil/?q=x) and ![i](http://x/p.png)"),
            "see the docs and i"
        );
        assert_eq!(
            plain_text("spec.subsets[*].name = [v1, v2] **bold** my_var"),
            "spec.subsets[*].name = [v1, v2] **bold** my_var"
        );
    }

    #[test]
    fn bound_cuts_with_ellipsis() {
        assert_eq!(bound("abc".into(), 3), ("abc".into(), false));
        let (s, cut) = bound("é".repeat(600), 512);
        assert!(cut);
        assert_eq!(s.chars().count(), 512);
        assert!(s.ends_with('\u{2026}'));
    }

    #[test]
    fn quotes_are_short_and_plain() {
        assert_eq!(quote_untrusted("a\"b\nc", 10), "\"a'b c\"");
        assert_eq!(quote_untrusted(&"x".repeat(50), 5), "\"xxxx\u{2026}\"");
    }
}
