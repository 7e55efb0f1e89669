//! Label selectors in kubectl syntax (`app=reviews,version in (v1,v2),!canary`), parsed once and
//! matched against label maps. The host uses the same parser, so a selector means one thing on
//! both sides of the sandbox.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

/// A parsed label selector: every requirement must hold. The empty selector matches everything.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Selector {
    requirements: Vec<Requirement>,
}

/// One term of a selector.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The label key.
    pub key: String,
    /// What the key's value must satisfy.
    pub op: Op,
}

/// The operator of a requirement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Op {
    /// `key=value` or `key==value`.
    Equals(String),
    /// `key!=value` (also true when the key is absent, as in Kubernetes).
    NotEquals(String),
    /// `key in (a,b)`.
    In(BTreeSet<String>),
    /// `key notin (a,b)` (also true when the key is absent).
    NotIn(BTreeSet<String>),
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
}

/// Why a selector string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SelectorError {
    /// The selector as given.
    pub input: String,
    /// What is wrong with it.
    pub reason: String,
}

impl fmt::Display for SelectorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid label selector {:?}: {}",
            self.input, self.reason
        )
    }
}

impl std::error::Error for SelectorError {}

/// Longest key or value accepted; Kubernetes allows 253 for a prefixed key, 63 for a value.
const MAX_TOKEN: usize = 317;
/// A bound on terms so that a hostile selector cannot make matching expensive.
const MAX_REQUIREMENTS: usize = 64;

impl Selector {
    /// The selector that matches everything.
    pub fn everything() -> Self {
        Self::default()
    }

    /// Builds a selector from requirements.
    pub fn from_requirements(requirements: Vec<Requirement>) -> Self {
        Self { requirements }
    }

    /// `key=value` for every entry.
    pub fn from_labels<'a>(labels: impl IntoIterator<Item = (&'a String, &'a String)>) -> Self {
        Self {
            requirements: labels
                .into_iter()
                .map(|(k, v)| Requirement {
                    key: k.clone(),
                    op: Op::Equals(v.clone()),
                })
                .collect(),
        }
    }

    /// Parses kubectl syntax. The empty (or all-blank) string is the selector that matches everything.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let err = |reason: &str| SelectorError {
            input: input.to_string(),
            reason: reason.to_string(),
        };
        let mut requirements = Vec::new();
        for term in split_terms(input).map_err(|r| err(&r))? {
            let term = term.trim();
            if term.is_empty() {
                if input.trim().is_empty() {
                    continue;
                }
                return Err(err("empty term"));
            }
            if requirements.len() == MAX_REQUIREMENTS {
                return Err(err(&format!("more than {MAX_REQUIREMENTS} terms")));
            }
            requirements.push(parse_term(term).map_err(|r| err(&r))?);
        }
        Ok(Self { requirements })
    }

    /// The requirements, in the order given.
    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True for the selector that matches everything.
    pub fn is_everything(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Whether a label set satisfies every requirement.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.matches_with(|k| labels.get(k).map(String::as_str))
    }

    /// Whether the labels that `lookup` answers satisfy every requirement.
    pub fn matches_with<'a>(&self, lookup: impl Fn(&str) -> Option<&'a str>) -> bool {
        self.requirements.iter().all(|r| {
            let v = lookup(&r.key);
            match &r.op {
                Op::Equals(want) => v == Some(want.as_str()),
                Op::NotEquals(not) => v != Some(not.as_str()),
                Op::In(set) => v.is_some_and(|v| set.contains(v)),
                Op::NotIn(set) => !v.is_some_and(|v| set.contains(v)),
                Op::Exists => v.is_some(),
                Op::DoesNotExist => v.is_none(),
            }
        })
    }
}

impl fmt::Display for Selector {
    /// The canonical kubectl form, which [`Selector::parse`] reads back to an equal selector.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            match &r.op {
                Op::Equals(v) => write!(f, "{}={}", r.key, v)?,
                Op::NotEquals(v) => write!(f, "{}!={}", r.key, v)?,
                Op::In(s) => write!(f, "{} in ({})", r.key, join(s))?,
                Op::NotIn(s) => write!(f, "{} notin ({})", r.key, join(s))?,
                Op::Exists => write!(f, "{}", r.key)?,
                Op::DoesNotExist => write!(f, "!{}", r.key)?,
            }
        }
        Ok(())
    }
}

fn join(s: &BTreeSet<String>) -> String {
    s.iter().map(String::as_str).collect::<Vec<_>>().join(",")
}

/// Splits on commas outside parentheses.
fn split_terms(input: &str) -> Result<Vec<&str>, String> {
    let mut out = Vec::new();
    let mut depth = 0usize;
    let mut start = 0usize;
    for (i, c) in input.char_indices() {
        match c {
            '(' => {
                if depth == 1 {
                    return Err("nested parentheses".into());
                }
                depth += 1;
            }
            ')' => {
                if depth == 0 {
                    return Err("unbalanced ')'".into());
                }
                depth -= 1;
            }
            ',' if depth == 0 => {
                out.push(&input[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    if depth != 0 {
        return Err("unbalanced '('".into());
    }
    out.push(&input[start..]);
    Ok(out)
}

fn parse_term(term: &str) -> Result<Requirement, String> {
    if let Some(key) = term.strip_prefix('!') {
        let key = key.trim();
        check_key(key)?;
        return Ok(Requirement {
            key: key.to_string(),
            op: Op::DoesNotExist,
        });
    }
    if let Some((k, v)) = term.split_once("!=") {
        return eq_like(k, v, true);
    }
    if let Some((k, v)) = term.split_once("==") {
        return eq_like(k, v, false);
    }
    if let Some((k, v)) = term.split_once('=') {
        return eq_like(k, v, false);
    }
    if let Some(open) = term.find('(') {
        let head = term[..open].trim_end();
        let (key, negate) = if let Some(k) = head.strip_suffix(" notin") {
            (k.trim(), true)
        } else if let Some(k) = head.strip_suffix(" in") {
            (k.trim(), false)
        } else {
            return Err(format!("expected `in` or `notin` before '(' in {term:?}"));
        };
        check_key(key)?;
        let close = term
            .rfind(')')
            .ok_or_else(|| format!("missing ')' in {term:?}"))?;
        if !term[close + 1..].trim().is_empty() {
            return Err(format!("unexpected text after ')' in {term:?}"));
        }
        let mut set = BTreeSet::new();
        for v in term[open + 1..close].split(',') {
            let v = v.trim();
            check_value(v)?;
            set.insert(v.to_string());
        }
        let op = if negate { Op::NotIn(set) } else { Op::In(set) };
        return Ok(Requirement {
            key: key.to_string(),
            op,
        });
    }
    check_key(term)?;
    Ok(Requirement {
        key: term.to_string(),
        op: Op::Exists,
    })
}

fn eq_like(k: &str, v: &str, negate: bool) -> Result<Requirement, String> {
    let (k, v) = (k.trim(), v.trim());
    check_key(k)?;
    if v.starts_with('=') {
        return Err(format!("unexpected '=' in value {v:?}"));
    }
    check_value(v)?;
    let op = if negate {
        Op::NotEquals(v.to_string())
    } else {
        Op::Equals(v.to_string())
    };
    Ok(Requirement {
        key: k.to_string(),
        op,
    })
}

fn check_key(k: &str) -> Result<(), String> {
    if k.is_empty() {
        return Err("empty key".into());
    }
    check_chars(k, "key")
}

fn check_value(v: &str) -> Result<(), String> {
    // NB: an empty value is legal in Kubernetes (`tier=`).
    check_chars(v, "value")
}

fn check_chars(s: &str, what: &str) -> Result<(), String> {
    if s.len() > MAX_TOKEN {
        return Err(format!("{what} longer than {MAX_TOKEN} characters"));
    }
    match s
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/')))
    {
        Some(c) => Err(format!("{what} {s:?} contains {c:?}")),
        None => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn empty_matches_everything() {
        let s = Selector::parse("").unwrap();
        assert!(s.is_everything());
        assert!(s.matches(&labels(&[])));
        assert!(Selector::parse("  ").unwrap().is_everything());
    }

    #[test]
    fn equality_and_inequality() {
        let s = Selector::parse("app=reviews,version!=v3").unwrap();
        assert!(s.matches(&labels(&[("app", "reviews"), ("version", "v1")])));
        assert!(s.matches(&labels(&[("app", "reviews")])));
        assert!(!s.matches(&labels(&[("app", "reviews"), ("version", "v3")])));
        assert!(!s.matches(&labels(&[("app", "ratings")])));
        assert_eq!(
            Selector::parse("app==x").unwrap(),
            Selector::parse("app=x").unwrap()
        );
    }

    #[test]
    fn set_based_terms() {
        let s = Selector::parse("version in (v1, v2),tier notin (db),app,!canary").unwrap();
        assert!(s.matches(&labels(&[("version", "v2"), ("app", "a")])));
        assert!(!s.matches(&labels(&[("version", "v3"), ("app", "a")])));
        assert!(!s.matches(&labels(&[("version", "v1"), ("app", "a"), ("tier", "db")])));
        assert!(!s.matches(&labels(&[("version", "v1")])));
        assert!(!s.matches(&labels(&[("version", "v1"), ("app", "a"), ("canary", "")])));
    }

    #[test]
    fn display_round_trips() {
        for input in [
            "app=reviews",
            "a!=b,c in (x,y),d notin (z),e,!f",
            "app.kubernetes.io/name=x",
        ] {
            let s = Selector::parse(input).unwrap();
            assert_eq!(Selector::parse(&s.to_string()).unwrap(), s, "{input}");
        }
    }

    #[test]
    fn rejects_malformed_selectors() {
        for bad in [
            "a=b=c",
            "a in (b",
            "a in b)",
            "a (b)",
            "a=b,,c=d",
            "a=b c",
            "=b",
            "a in ((b))",
            "a=$(rm -rf)",
        ] {
            let e = Selector::parse(bad).unwrap_err();
            assert_eq!(e.input, bad);
            assert!(!e.reason.is_empty());
        }
    }

    #[test]
    fn bounds_term_count() {
        let many = (0..65)
            .map(|i| format!("k{i}=v"))
            .collect::<Vec<_>>()
            .join(",");
        assert!(Selector::parse(&many).is_err());
    }
}
