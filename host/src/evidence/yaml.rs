//! A fast path for reading the YAML that `kubectl get -o yaml` prints (go-yaml through
//! `sigs.k8s.io/yaml`) straight into a `serde_json::Value`.
//!
//! Why: loading a large snapshot spent most of its time in libyaml's event machinery and
//! serde_yaml_ng's event loader, one allocation per event. kubectl's output uses a small, regular
//! part of YAML, which a line-oriented parser reads several times faster.
//!
//! The contract is strict: [`parse_document`] answers only for documents entirely inside the
//! subset below, and then with exactly the value `serde_yaml_ng::from_str::<Value>` gives (the
//! scalar typing of `serde_yaml_ng::de` is mirrored, not reinvented). Anything else — or any
//! doubt — is `None`, and the caller falls back to serde_yaml_ng, so the fast path can only make
//! loading faster, never different.
//!
//! The subset: block mappings and block sequences (also kubectl's "indentless" sequences, whose
//! `- ` items sit at their parent key's indentation), plain scalars (also wrapped over several
//! lines), single- and double-quoted scalars (also wrapped; every double-quoted escape), literal
//! block scalars (`|`, `|-`, `|+`, with an indentation indicator), `key:` with nothing after it,
//! comments, and flow collections written on one line (`{}`, `[a, b]`, `{app: x, tier: y}`, as
//! hand-written snapshots have them). Outside it: anchors, aliases, tags, `? ` keys, flow
//! collections over several lines, folded `>` scalars, directives, tabs and carriage returns
//! outside quoted and block scalars, and characters libyaml reads as line breaks or refuses.

use serde_json::{Map, Number, Value};
use std::num::ParseIntError;

/// Deepest nesting of collections taken on the fast path. serde_yaml_ng refuses documents
/// nested deeper than 128; stopping well below keeps the recursion shallow and never accepts
/// what it would refuse.
const MAX_DEPTH: usize = 64;

/// libyaml drops a candidate key (an error in block context) when its `:` comes more than 1024
/// characters after the key's start; any key this long is left to it.
const MAX_KEY_BYTES: usize = 1024;

/// Parses one YAML document (as `split_yaml_documents` yields it: no `---` line).
///
/// `Some(value)` only when the document is entirely within the subset this parser understands;
/// then `value` equals what `serde_yaml_ng::from_str::<serde_json::Value>(doc)` returns. `None`
/// otherwise (the caller then uses serde_yaml_ng), never a wrong value, never a panic.
pub fn parse_document(doc: &str) -> Option<Value> {
    if !chars_supported(doc.as_bytes()) {
        return None;
    }
    let mut p = Parser {
        text: doc,
        b: doc.as_bytes(),
        pos: 0,
        depth: 0,
    };
    // A document is a block collection; a lone scalar is not an object, so it is left to
    // serde_yaml_ng rather than handled here.
    let Line::At(ind) = p.next_line()? else {
        return None;
    };
    p.pos += ind;
    let value = p.block_collection(ind)?;
    match p.next_line()? {
        Line::Eof => Some(value),
        Line::At(_) => None,
    }
}

/// Bytes that may start a character the fast path refuses: C0 controls other than tab and line
/// feed (carriage returns included: libyaml reads them as line breaks), DEL, and the lead bytes
/// of U+0080..U+009F, U+2028/U+2029 (more line breaks to libyaml), U+FEFF and U+FFFE/U+FFFF.
const SUSPECT: [bool; 256] = {
    let mut t = [false; 256];
    let mut i = 0;
    while i < 0x20 {
        t[i] = i != 0x09 && i != 0x0A;
        i += 1;
    }
    t[0x7F] = true;
    t[0xC2] = true;
    t[0xE2] = true;
    t[0xEF] = true;
    t
};

/// Whether every character is one libyaml accepts and treats as the fast path does. NUL is
/// refused here, so [`Parser::at`] can use 0 for "end of text".
fn chars_supported(b: &[u8]) -> bool {
    let mut i = 0;
    while let Some(off) = b
        .get(i..)
        .and_then(|r| r.iter().position(|&c| SUSPECT[usize::from(c)]))
    {
        let at = i + off;
        let next = |k: usize| b.get(at + k).copied();
        let refused = match b[at] {
            0xC2 => matches!(next(1), Some(0x80..=0x9F)),
            0xE2 => next(1) == Some(0x80) && matches!(next(2), Some(0xA8 | 0xA9)),
            0xEF => matches!(
                (next(1), next(2)),
                (Some(0xBB), Some(0xBF)) | (Some(0xBF), Some(0xBE | 0xBF))
            ),
            _ => true,
        };
        if refused {
            return false;
        }
        i = at + 1;
    }
    true
}

/// Bytes that end a run of plain-scalar text on a line: what may end the scalar (`: `, ` #`),
/// what the fast path refuses in it (tab), and the line's end.
const PLAIN_STOP: [bool; 256] = {
    let mut t = [false; 256];
    t[b':' as usize] = true;
    t[b'#' as usize] = true;
    t[b'\t' as usize] = true;
    t[b'\n' as usize] = true;
    t
};

/// How a run of plain-scalar text ends on its line.
#[derive(Clone, Copy, PartialEq, Eq)]
enum PlainEnd {
    /// At a `:` followed by a blank or the line's end: the text is a mapping key.
    Key,
    /// At the line's end.
    Eol,
    /// At ` #`: the rest of the line is a comment.
    Comment,
}

/// What the next non-blank line holds.
enum Line {
    /// No more content.
    Eof,
    /// Content indented this many spaces; `pos` is at the line's start.
    At(usize),
}

/// Whether the text at a collection position starts a mapping entry or something else.
enum Start {
    /// A key, already read, with `pos` just past its `:`.
    Key(String),
    /// Not a key; `pos` unchanged.
    Scalar,
}

/// How a literal block scalar treats its final line breaks.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Chomp {
    Clip,
    Strip,
    Keep,
}

/// A cursor over one document. Every method returns `None` for input outside the subset.
struct Parser<'a> {
    text: &'a str,
    b: &'a [u8],
    /// The next byte to read.
    pos: usize,
    /// Collections currently open.
    depth: usize,
}

impl Parser<'_> {
    /// The byte at `i`, or 0 past the end (NUL itself never gets this far: `chars_supported`).
    fn at(&self, i: usize) -> u8 {
        self.b.get(i).copied().unwrap_or(0)
    }

    /// The start of the line after the one `end` (a `\n` or the end of text) closes.
    fn after_line(&self, end: usize) -> usize {
        if end < self.b.len() { end + 1 } else { end }
    }

    /// Index of the `\n` ending the line that `i` is on, or the end of text.
    fn line_end(&self, i: usize) -> usize {
        self.b
            .get(i..)
            .and_then(|r| memchr::memchr(b'\n', r))
            .map_or(self.b.len(), |off| i + off)
    }

    /// Whether a block sequence entry (`-` then a blank or the line's end) starts at `i`.
    fn dash_entry(&self, i: usize) -> bool {
        self.at(i) == b'-' && matches!(self.at(i + 1), b' ' | b'\n' | b'\t' | 0)
    }

    /// Skips blank and comment lines from a line start and reports the next content line,
    /// leaving `pos` at its start. Tabs in indentation are outside the subset.
    fn next_line(&mut self) -> Option<Line> {
        loop {
            let mut i = self.pos;
            while self.at(i) == b' ' {
                i += 1;
            }
            match self.at(i) {
                0 => {
                    self.pos = self.b.len();
                    return Some(Line::Eof);
                }
                b'\n' => self.pos = i + 1,
                b'#' => self.pos = self.after_line(self.line_end(i)),
                b'\t' => return None,
                // `---` and `...` at column 0 are document markers to libyaml.
                b'-' | b'.' if i == self.pos && self.document_marker(i) => return None,
                _ => return Some(Line::At(i - self.pos)),
            }
        }
    }

    /// Whether a `---` or `...` marker (followed by a blank or the line's end) starts at `i`.
    fn document_marker(&self, i: usize) -> bool {
        let c = self.at(i);
        self.at(i + 1) == c
            && self.at(i + 2) == c
            && matches!(self.at(i + 3), b' ' | b'\t' | b'\n' | 0)
    }

    /// Skips spaces from `i`, then a comment when one follows at least one of them; returns
    /// where the line's break (or the end of text) is, or `None` if anything else is there.
    fn blank_to_eol(&self, mut i: usize) -> Option<usize> {
        let start = i;
        while self.at(i) == b' ' {
            i += 1;
        }
        match self.at(i) {
            b'\n' | 0 => Some(i),
            b'#' if i > start => Some(self.line_end(i)),
            _ => None,
        }
    }

    /// Opens a collection, refusing nesting past [`MAX_DEPTH`].
    fn enter(&mut self) -> Option<()> {
        if self.depth >= MAX_DEPTH {
            return None;
        }
        self.depth += 1;
        Some(())
    }

    /// A block mapping or sequence whose first entry starts at `pos`, at column `col`.
    fn block_collection(&mut self, col: usize) -> Option<Value> {
        if self.dash_entry(self.pos) {
            return self.sequence(col);
        }
        match self.key_or_scalar()? {
            Start::Key(key) => self.mapping(col, key),
            Start::Scalar => None,
        }
    }

    /// A block mapping at column `col` whose first key has been read.
    fn mapping(&mut self, col: usize, first: String) -> Option<Value> {
        self.enter()?;
        let mut map = Map::new();
        let mut key = first;
        loop {
            let value = self.value_after_key(col)?;
            // NB: a repeated key replaces the earlier value, as serde_json's own visitor does
            // with what serde_yaml_ng hands it.
            map.insert(key, value);
            match self.next_line()? {
                Line::At(j) if j == col => {
                    self.pos += j;
                    match self.key_or_scalar()? {
                        Start::Key(k) => key = k,
                        Start::Scalar => return None,
                    }
                }
                Line::At(j) if j > col => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Value::Object(map))
    }

    /// A block sequence whose first `-` is at `pos`, at column `col`.
    fn sequence(&mut self, col: usize) -> Option<Value> {
        self.enter()?;
        let mut items = Vec::new();
        loop {
            let mut i = self.pos + 1;
            while self.at(i) == b' ' {
                i += 1;
            }
            let item = match self.at(i) {
                0 | b'\n' | b'#' => {
                    self.pos = self.after_line(self.blank_to_eol(self.pos + 1)?);
                    self.block_item(col)?
                }
                b'\t' => return None,
                _ => {
                    let content_col = col + (i - self.pos);
                    self.pos = i;
                    self.inline_item(col, content_col)?
                }
            };
            items.push(item);
            match self.next_line()? {
                Line::At(j) if j == col && self.dash_entry(self.pos + j) => self.pos += j,
                Line::At(j) if j > col => return None,
                _ => break,
            }
        }
        self.depth -= 1;
        Some(Value::Array(items))
    }

    /// A sequence item after a `-` that ends its line: a collection on the lines below, or null.
    fn block_item(&mut self, seq_col: usize) -> Option<Value> {
        match self.next_line()? {
            Line::At(j) if j > seq_col => {
                self.pos += j;
                self.block_collection(j)
            }
            _ => Some(Value::Null),
        }
    }

    /// A sequence item on the `-` line, starting at `pos`, at column `col`.
    fn inline_item(&mut self, seq_col: usize, col: usize) -> Option<Value> {
        if self.dash_entry(self.pos) {
            return self.sequence(col);
        }
        match self.key_or_scalar()? {
            Start::Key(key) => self.mapping(col, key),
            Start::Scalar => self.inline_scalar(seq_col),
        }
    }

    /// What follows `key:` in a mapping at column `col`; `pos` is just past the `:`.
    fn value_after_key(&mut self, col: usize) -> Option<Value> {
        let mut i = self.pos;
        while self.at(i) == b' ' {
            i += 1;
        }
        match self.at(i) {
            0 | b'\n' | b'#' => {
                self.pos = self.after_line(self.blank_to_eol(self.pos)?);
                self.block_value(col)
            }
            b'\t' => None,
            _ => {
                self.pos = i;
                self.inline_scalar(col)
            }
        }
    }

    /// The value of a `key:` that ends its line: a collection below (deeper, or a sequence at
    /// the key's own column, as kubectl writes them), or null.
    fn block_value(&mut self, col: usize) -> Option<Value> {
        match self.next_line()? {
            Line::At(j) if j > col => {
                self.pos += j;
                self.block_collection(j)
            }
            Line::At(j) if j == col && self.dash_entry(self.pos + j) => {
                self.pos += j;
                self.sequence(j)
            }
            _ => Some(Value::Null),
        }
    }

    /// Reads a mapping key at `pos` when there is one: a plain or quoted scalar on one line,
    /// followed by `:` and a blank or the line's end.
    fn key_or_scalar(&mut self) -> Option<Start> {
        let start = self.pos;
        let c = self.at(start);
        if c == b'"' || c == b'\'' {
            let Some(close) = self.closing_quote_on_line(start) else {
                return Some(Start::Scalar);
            };
            if self.at(close + 1) != b':' || !matches!(self.at(close + 2), b' ' | b'\n' | 0) {
                return Some(Start::Scalar);
            }
            if close + 1 - start > MAX_KEY_BYTES {
                return None;
            }
            let key = if c == b'"' {
                self.double_quoted(0, false)?
            } else {
                self.single_quoted(0, false)?
            };
            if self.pos != close + 1 {
                return None;
            }
            self.pos += 1;
            return Some(Start::Key(key));
        }
        if !plain_start(c, self.at(start + 1)) {
            return Some(Start::Scalar);
        }
        let (end, kind) = self.scan_plain_line(start)?;
        if kind != PlainEnd::Key {
            return Some(Start::Scalar);
        }
        let key = self.text.get(start..end)?;
        if key.ends_with(' ') || key.len() > MAX_KEY_BYTES {
            return None;
        }
        self.pos = end + 1;
        Some(Start::Key(key.to_owned()))
    }

    /// Where the quoted scalar opening at `start` closes, when it closes on the same line.
    fn closing_quote_on_line(&self, start: usize) -> Option<usize> {
        let quote = self.at(start);
        let mut i = start + 1;
        loop {
            match self.at(i) {
                0 | b'\n' => return None,
                b'\\' if quote == b'"' => {
                    if matches!(self.at(i + 1), 0 | b'\n') {
                        return None;
                    }
                    i += 2;
                }
                b'\'' if quote == b'\'' && self.at(i + 1) == b'\'' => i += 2,
                c if c == quote => return Some(i),
                _ => i += 1,
            }
        }
    }

    /// Scans plain-scalar text from `start` to the end of its line: returns where it ends and
    /// how. Tabs are outside the subset.
    fn scan_plain_line(&self, start: usize) -> Option<(usize, PlainEnd)> {
        let mut i = start;
        loop {
            let Some(off) = self
                .b
                .get(i..)
                .and_then(|r| r.iter().position(|&c| PLAIN_STOP[usize::from(c)]))
            else {
                return Some((self.b.len(), PlainEnd::Eol));
            };
            i += off;
            match self.at(i) {
                b':' => match self.at(i + 1) {
                    b' ' | b'\n' | 0 => return Some((i, PlainEnd::Key)),
                    b'\t' => return None,
                    _ => {}
                },
                b'#' => {
                    if i > start && self.at(i - 1) == b' ' {
                        return Some((i, PlainEnd::Comment));
                    }
                }
                b'\n' => return Some((i, PlainEnd::Eol)),
                _ => return None,
            }
            i += 1;
        }
    }

    /// A scalar or flow collection starting at `pos` on the current line, inside a block
    /// collection at column `parent`; leaves `pos` at the start of the line after it.
    fn inline_scalar(&mut self, parent: usize) -> Option<Value> {
        let c = self.at(self.pos);
        match c {
            b'"' | b'\'' => {
                let s = if c == b'"' {
                    self.double_quoted(parent, true)?
                } else {
                    self.single_quoted(parent, true)?
                };
                self.end_of_line()?;
                Some(Value::String(s))
            }
            b'|' => self.literal(parent).map(Value::String),
            b'{' | b'[' => {
                let value = self.flow_collection()?;
                self.end_of_line()?;
                Some(value)
            }
            _ if plain_start(c, self.at(self.pos + 1)) => self.plain(parent),
            _ => None,
        }
    }

    /// Skips trailing spaces, a comment and the line break after a scalar.
    fn end_of_line(&mut self) -> Option<()> {
        self.pos = self.after_line(self.blank_to_eol(self.pos)?);
        Some(())
    }

    /// A plain scalar starting at `pos`, continued on following lines indented past `parent`
    /// (go-yaml wraps long plain strings at spaces), typed as serde_yaml_ng types it.
    fn plain(&mut self, parent: usize) -> Option<Value> {
        let start = self.pos;
        let (end, kind) = self.scan_plain_line(start)?;
        let first = self.text.get(start..end)?.trim_end_matches(' ');
        let next = match kind {
            PlainEnd::Key => return None,
            // A comment ends the scalar.
            PlainEnd::Comment => None,
            PlainEnd::Eol => {
                self.pos = self.after_line(end);
                self.continuation(parent)?
            }
        };
        let Some((mut breaks, mut content)) = next else {
            self.pos = self.after_line(self.line_end(end));
            return plain_value(first);
        };
        let mut text = first.to_owned();
        loop {
            // NB: libyaml reads continuation text as is: indicators (`- `, `&`, `*`, quotes, …)
            // start no token here; only `#` (a comment, see `continuation`) and `: ` end it.
            let (end, kind) = self.scan_plain_line(content)?;
            fold(&mut text, breaks, false);
            text.push_str(self.text.get(content..end)?.trim_end_matches(' '));
            self.pos = self.after_line(self.line_end(end));
            let next = match kind {
                PlainEnd::Key => return None,
                PlainEnd::Comment => None,
                PlainEnd::Eol => self.continuation(parent)?,
            };
            match next {
                Some((b, c)) => (breaks, content) = (b, c),
                None => break,
            }
        }
        plain_value(&text)
    }

    /// After a plain scalar's line: when the next content line is indented past `parent` (so
    /// libyaml continues the scalar there), the number of blank lines before it and where its
    /// text starts. Otherwise `None`, with `pos` unchanged; a comment line also ends the scalar.
    fn continuation(&self, parent: usize) -> Option<Option<(usize, usize)>> {
        let mut i = self.pos;
        let mut breaks = 0;
        loop {
            let line = i;
            while self.at(i) == b' ' {
                i += 1;
            }
            match self.at(i) {
                b'\n' => {
                    breaks += 1;
                    i += 1;
                }
                b'\t' => return None,
                0 | b'#' => return Some(None),
                _ if i - line > parent => return Some(Some((breaks, i))),
                _ => return Some(None),
            }
        }
    }

    /// A double-quoted scalar at `pos`; `multiline` allows line breaks, whose continuation
    /// lines must be indented past `parent`. Leaves `pos` just past the closing quote.
    fn double_quoted(&mut self, parent: usize, multiline: bool) -> Option<String> {
        let mut out = String::new();
        // `out`'s length without the unescaped blanks at its end, which a line break drops.
        let mut keep = 0;
        let mut i = self.pos + 1;
        loop {
            let off = memchr::memchr3(b'"', b'\\', b'\n', self.b.get(i..)?)?;
            if off > 0 {
                keep = push_run(&mut out, self.text.get(i..i + off)?, keep);
            }
            i += off;
            match self.at(i) {
                b'"' => {
                    self.pos = i + 1;
                    return Some(out);
                }
                b'\\' if self.at(i + 1) == b'\n' => {
                    if !multiline {
                        return None;
                    }
                    i = self.fold_lines(i + 2, parent, &mut out, true)?;
                    keep = out.len();
                }
                b'\\' => {
                    i = escape(self.b, i + 1, &mut out)?;
                    keep = out.len();
                }
                _ => {
                    if !multiline {
                        return None;
                    }
                    out.truncate(keep);
                    i = self.fold_lines(i + 1, parent, &mut out, false)?;
                    keep = out.len();
                }
            }
        }
    }

    /// A single-quoted scalar at `pos`, as [`Parser::double_quoted`].
    fn single_quoted(&mut self, parent: usize, multiline: bool) -> Option<String> {
        let mut out = String::new();
        let mut keep = 0;
        let mut i = self.pos + 1;
        loop {
            let off = memchr::memchr2(b'\'', b'\n', self.b.get(i..)?)?;
            if off > 0 {
                keep = push_run(&mut out, self.text.get(i..i + off)?, keep);
            }
            i += off;
            if self.at(i) == b'\'' {
                if self.at(i + 1) == b'\'' {
                    out.push('\'');
                    keep = out.len();
                    i += 2;
                } else {
                    self.pos = i + 1;
                    return Some(out);
                }
            } else {
                if !multiline {
                    return None;
                }
                out.truncate(keep);
                i = self.fold_lines(i + 1, parent, &mut out, false)?;
                keep = out.len();
            }
        }
    }

    /// Folds the line break before `i` inside a quoted scalar (libyaml's rules): blank lines
    /// become line feeds, a lone break a space (nothing after an escaped break), and the next
    /// line's indentation is dropped. Returns where its text starts.
    fn fold_lines(
        &self,
        mut i: usize,
        parent: usize,
        out: &mut String,
        escaped: bool,
    ) -> Option<usize> {
        let mut breaks = 0;
        loop {
            let line = i;
            while self.at(i) == b' ' {
                i += 1;
            }
            match self.at(i) {
                b'\n' => {
                    breaks += 1;
                    i += 1;
                }
                // Unterminated, or a tab where only the fast path's spaces are expected.
                0 | b'\t' => return None,
                // NB: libyaml does not check this indentation, but a less indented line is not
                // what go-yaml writes; leave such text to it.
                _ if i - line <= parent => return None,
                _ => {
                    fold(out, breaks, escaped);
                    return Some(i);
                }
            }
        }
    }

    /// A flow collection at `pos` that closes on its line: entries are plain or quoted scalars
    /// and nested flow collections, mapping entries `key: value`. Leaves `pos` past the closer.
    fn flow_collection(&mut self) -> Option<Value> {
        self.enter()?;
        let is_map = self.at(self.pos) == b'{';
        let close = if is_map { b'}' } else { b']' };
        self.pos += 1;
        let mut map = Map::new();
        let mut items = Vec::new();
        loop {
            self.skip_spaces();
            if self.at(self.pos) == close {
                break;
            }
            if is_map {
                let key = self.flow_key()?;
                self.skip_spaces();
                let value = if matches!(self.at(self.pos), b',' | b'}') {
                    Value::Null
                } else {
                    self.flow_node()?
                };
                map.insert(key, value);
            } else {
                items.push(self.flow_node()?);
            }
            self.skip_spaces();
            match self.at(self.pos) {
                b',' => self.pos += 1,
                c if c == close => break,
                _ => return None,
            }
        }
        self.pos += 1;
        self.depth -= 1;
        Some(if is_map {
            Value::Object(map)
        } else {
            Value::Array(items)
        })
    }

    fn skip_spaces(&mut self) {
        while self.at(self.pos) == b' ' {
            self.pos += 1;
        }
    }

    /// A flow mapping's key and its `: `. (`{a}` and `{"a":b}` are valid YAML too, but rare
    /// enough to leave to libyaml.)
    fn flow_key(&mut self) -> Option<String> {
        let start = self.pos;
        let key = match self.at(start) {
            b'"' => self.double_quoted(0, false)?,
            b'\'' => self.single_quoted(0, false)?,
            c if flow_plain_start(c, self.at(start + 1)) => {
                let (end, is_key) = self.scan_flow_plain(start)?;
                let key = self.text.get(start..end)?;
                if !is_key || key.ends_with(' ') {
                    return None;
                }
                self.pos = end;
                key.to_owned()
            }
            _ => return None,
        };
        if self.at(self.pos) != b':'
            || self.at(self.pos + 1) != b' '
            || self.pos - start > MAX_KEY_BYTES
        {
            return None;
        }
        self.pos += 2;
        Some(key)
    }

    /// A value inside a flow collection.
    fn flow_node(&mut self) -> Option<Value> {
        let start = self.pos;
        match self.at(start) {
            b'{' | b'[' => self.flow_collection(),
            b'"' => self.double_quoted(0, false).map(Value::String),
            b'\'' => self.single_quoted(0, false).map(Value::String),
            c if flow_plain_start(c, self.at(start + 1)) => {
                let (end, is_key) = self.scan_flow_plain(start)?;
                // `[a: b]` is a one-entry mapping inside a sequence; leave it to libyaml.
                if is_key {
                    return None;
                }
                self.pos = end;
                plain_value(self.text.get(start..end)?.trim_end_matches(' '))
            }
            _ => None,
        }
    }

    /// Scans a plain scalar in flow context (libyaml's rules with `flow_level > 0`) to where it
    /// ends on its line: at a flow indicator, or at a `: ` that makes it a key.
    fn scan_flow_plain(&self, start: usize) -> Option<(usize, bool)> {
        let mut i = start;
        loop {
            match self.at(i) {
                b':' => match self.at(i + 1) {
                    b' ' => return Some((i, true)),
                    // An error to libyaml, or a key at the line's end.
                    b',' | b'?' | b'[' | b']' | b'{' | b'}' | b'\n' | b'\t' | 0 => return None,
                    _ => {}
                },
                b',' | b'[' | b']' | b'{' | b'}' => return Some((i, false)),
                b'#' if i > start && self.at(i - 1) == b' ' => return None,
                b'\n' | b'\t' | 0 => return None,
                _ => {}
            }
            i += 1;
        }
    }

    /// A literal block scalar whose `|` is at `pos`, in a collection at column `parent`;
    /// libyaml's `yaml_parser_scan_block_scalar` step by step. Leaves `pos` at the start of the
    /// first line after it.
    fn literal(&mut self, parent: usize) -> Option<String> {
        let mut i = self.pos + 1;
        let mut chomp = None;
        let mut increment = 0;
        for _ in 0..2 {
            match self.at(i) {
                b'+' if chomp.is_none() => chomp = Some(Chomp::Keep),
                b'-' if chomp.is_none() => chomp = Some(Chomp::Strip),
                c @ b'1'..=b'9' if increment == 0 => increment = usize::from(c - b'0'),
                _ => break,
            }
            i += 1;
        }
        let chomp = chomp.unwrap_or(Chomp::Clip);
        i = self.after_line(self.blank_to_eol(i)?);

        let len = self.b.len();
        let mut indent = if increment > 0 { parent + increment } else { 0 };
        let mut trailing = 0;
        let mut max_indent = 0;
        let mut line_start;
        let mut col;
        loop {
            line_start = i;
            col = 0;
            while self.at(i) == b' ' && (indent == 0 || col < indent) {
                i += 1;
                col += 1;
            }
            max_indent = max_indent.max(col);
            match self.at(i) {
                b'\t' if indent == 0 || col < indent => return None,
                b'\n' => {
                    trailing += 1;
                    i += 1;
                }
                _ => break,
            }
        }
        if indent == 0 {
            indent = max_indent.max(parent + 1);
        }
        let mut out = String::new();
        let mut leading_break = false;
        let mut lines = 0;
        while col == indent && i < len {
            lines += 1;
            if leading_break {
                out.push('\n');
            }
            push_newlines(&mut out, trailing);
            trailing = 0;
            let end = self.line_end(i);
            out.push_str(self.text.get(i..end)?);
            leading_break = end < len;
            i = self.after_line(end);
            loop {
                line_start = i;
                col = 0;
                while self.at(i) == b' ' && col < indent {
                    i += 1;
                    col += 1;
                }
                match self.at(i) {
                    b'\t' if col < indent => return None,
                    b'\n' => {
                        trailing += 1;
                        i += 1;
                    }
                    _ => break,
                }
            }
        }
        // A block with no text line is rare and has odd corners; leave it to libyaml.
        if lines == 0 {
            return None;
        }
        if chomp != Chomp::Strip && leading_break {
            out.push('\n');
        }
        if chomp == Chomp::Keep {
            push_newlines(&mut out, trailing);
        }
        self.pos = line_start;
        Some(out)
    }
}

/// Whether a plain scalar may start with `c` (followed by `next`) in block context.
fn plain_start(c: u8, next: u8) -> bool {
    match c {
        b'-' | b'?' | b':' => !matches!(next, b' ' | b'\n' | b'\t' | 0),
        b',' | b'[' | b']' | b'{' | b'}' | b'#' | b'&' | b'*' | b'!' | b'|' | b'>' | b'\''
        | b'"' | b'%' | b'@' | b'`' | b' ' | b'\t' | b'\n' | 0 => false,
        _ => true,
    }
}

/// Whether a plain scalar may start with `c` (followed by `next`) in flow context, where `?`
/// and `:` are always indicators.
fn flow_plain_start(c: u8, next: u8) -> bool {
    match c {
        b'-' => !matches!(
            next,
            b' ' | b'\n' | b'\t' | 0 | b',' | b'[' | b']' | b'{' | b'}'
        ),
        b'?' | b':' => false,
        _ => plain_start(c, next),
    }
}

/// Appends a run of quoted text with no quote, escape or line break in it, and returns the new
/// length of `out` without the run's trailing blanks (a following line break drops them).
fn push_run(out: &mut String, run: &str, keep: usize) -> usize {
    out.push_str(run);
    let trimmed = run.trim_end_matches([' ', '\t']);
    if trimmed.is_empty() {
        keep
    } else {
        out.len() - (run.len() - trimmed.len())
    }
}

/// Joins lines: `breaks` blank lines become that many line feeds; none becomes a space, or
/// nothing after an escaped line break.
fn fold(out: &mut String, breaks: usize, escaped: bool) {
    if breaks == 0 {
        if !escaped {
            out.push(' ');
        }
    } else {
        push_newlines(out, breaks);
    }
}

fn push_newlines(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n('\n', n));
}

/// Decodes the escape whose letter is at `i` (just after a `\`) into `out`; returns the index
/// after it. Unknown escapes, bad hex digits and code points that are not characters (UTF-16
/// surrogates, past U+10FFFF) are errors to libyaml too.
fn escape(b: &[u8], i: usize, out: &mut String) -> Option<usize> {
    let letter = *b.get(i)?;
    let c = match letter {
        b'0' => '\0',
        b'a' => '\u{7}',
        b'b' => '\u{8}',
        b't' | b'\t' => '\t',
        b'n' => '\n',
        b'v' => '\u{B}',
        b'f' => '\u{C}',
        b'r' => '\r',
        b'e' => '\u{1B}',
        b' ' => ' ',
        b'"' => '"',
        b'/' => '/',
        b'\\' => '\\',
        b'N' => '\u{85}',
        b'_' => '\u{A0}',
        b'L' => '\u{2028}',
        b'P' => '\u{2029}',
        b'x' | b'u' | b'U' => {
            let digits = match letter {
                b'x' => 2,
                b'u' => 4,
                _ => 8,
            };
            let hex = b.get(i + 1..i + 1 + digits)?;
            let mut code: u32 = 0;
            for &h in hex {
                code = code.checked_mul(16)? + char::from(h).to_digit(16)?;
            }
            out.push(char::from_u32(code)?);
            return Some(i + 1 + digits);
        }
        _ => return None,
    };
    out.push(c);
    Some(i + 1)
}

/// The value serde_yaml_ng gives an untagged plain scalar (`visit_untagged_scalar` in its
/// `de.rs`): null, bool, integer, float or string. `None` where it fails: integers that fit
/// u128/i128 but not u64/i64, which serde_json's `Value` refuses.
fn plain_value(s: &str) -> Option<Value> {
    let Some(&first) = s.as_bytes().first() else {
        return Some(Value::Null);
    };
    // NB: only these can start a null, a bool or a number: `from_str_radix` and `f64::from_str`
    // read no letter first except in "inf"/"nan", which `parse_f64` refuses as not finite.
    match first {
        b'0'..=b'9' | b'+' | b'-' | b'.' => number_or_string(s),
        b'n' | b'N' | b'~' if matches!(s, "null" | "Null" | "NULL" | "~") => Some(Value::Null),
        b't' | b'T' if matches!(s, "true" | "True" | "TRUE") => Some(Value::Bool(true)),
        b'f' | b'F' if matches!(s, "false" | "False" | "FALSE") => Some(Value::Bool(false)),
        _ => Some(Value::String(s.to_owned())),
    }
}

/// The rest of `visit_untagged_scalar`, in its order.
fn number_or_string(s: &str) -> Option<Value> {
    if let Some(n) = parse_unsigned_int(s, u64::from_str_radix) {
        return Some(Value::Number(n.into()));
    }
    if let Some(n) = parse_negative_int(s, i64::from_str_radix) {
        return Some(Value::Number(n.into()));
    }
    // serde_yaml_ng visits these as u128/i128, which serde_json's `Number` accepts only when
    // they fit in 64 bits; those were taken above, so the document fails to deserialize.
    if parse_unsigned_int(s, u128::from_str_radix).is_some()
        || parse_negative_int(s, i128::from_str_radix).is_some()
    {
        return None;
    }
    if !digits_but_not_number(s)
        && let Some(f) = parse_f64(s)
    {
        // NaN and infinities have no JSON number: serde_json's visitor makes them null.
        return Some(Number::from_f64(f).map_or(Value::Null, Value::Number));
    }
    Some(Value::String(s.to_owned()))
}

// The four functions below are serde_yaml_ng 0.10's own (`src/de.rs`), kept as written there
// (only `parse_negative_int`'s three prefixes folded into a loop) so that every spelling is typed
// exactly as it types it.

fn parse_unsigned_int<T>(
    scalar: &str,
    from_str_radix: fn(&str, radix: u32) -> Result<T, ParseIntError>,
) -> Option<T> {
    let unpositive = scalar.strip_prefix('+').unwrap_or(scalar);
    if let Some(rest) = unpositive.strip_prefix("0x") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 16) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0o") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 8) {
            return Some(int);
        }
    }
    if let Some(rest) = unpositive.strip_prefix("0b") {
        if rest.starts_with(['+', '-']) {
            return None;
        }
        if let Ok(int) = from_str_radix(rest, 2) {
            return Some(int);
        }
    }
    if unpositive.starts_with(['+', '-']) {
        return None;
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(unpositive, 10).ok()
}

fn parse_negative_int<T>(
    scalar: &str,
    from_str_radix: fn(&str, radix: u32) -> Result<T, ParseIntError>,
) -> Option<T> {
    for (prefix, radix) in [("-0x", 16), ("-0o", 8), ("-0b", 2)] {
        if let Some(rest) = scalar.strip_prefix(prefix) {
            let negative = format!("-{rest}");
            if let Ok(int) = from_str_radix(&negative, radix) {
                return Some(int);
            }
        }
    }
    if digits_but_not_number(scalar) {
        return None;
    }
    from_str_radix(scalar, 10).ok()
}

fn parse_f64(scalar: &str) -> Option<f64> {
    let unpositive = if let Some(unpositive) = scalar.strip_prefix('+') {
        if unpositive.starts_with(['+', '-']) {
            return None;
        }
        unpositive
    } else {
        scalar
    };
    if let ".inf" | ".Inf" | ".INF" = unpositive {
        return Some(f64::INFINITY);
    }
    if let "-.inf" | "-.Inf" | "-.INF" = scalar {
        return Some(f64::NEG_INFINITY);
    }
    if let ".nan" | ".NaN" | ".NAN" = scalar {
        return Some(f64::NAN.copysign(1.0));
    }
    if let Ok(float) = unpositive.parse::<f64>()
        && float.is_finite()
    {
        return Some(float);
    }
    None
}

fn digits_but_not_number(scalar: &str) -> bool {
    // Leading zero(s) followed by numeric characters is a string according to YAML 1.2.
    let scalar = scalar.strip_prefix(['-', '+']).unwrap_or(scalar);
    scalar.len() > 1 && scalar.starts_with('0') && scalar[1..].bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests;
