//! Small text helpers: bounded lines, label-map formatting, JSON access without panics.

pub use skillbox_guest::text::{
    MAX_LINE, MAX_LINES, MAX_RESOURCES, MAX_SUMMARY, clip, fmt_json, fmt_map, fmt_selector,
};

use serde_json::Value;
use std::collections::BTreeMap;

/// Pods listed by name in one evidence section before the rest is counted.
pub const MAX_PODS_SHOWN: usize = 6;

/// The string map at `v[key]` (non-string values skipped).
pub fn string_map(v: Option<&Value>) -> BTreeMap<String, String> {
    match v {
        Some(Value::Object(m)) => m
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect(),
        _ => BTreeMap::new(),
    }
}

/// The strings of the array at `v` (non-strings skipped).
pub fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|x| x.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The elements of the array at `v` (empty when absent or not an array).
pub fn items(v: Option<&Value>) -> &[Value] {
    match v {
        Some(Value::Array(a)) => a,
        _ => &[],
    }
}

/// Whether every entry of `want` is in `have`.
pub fn labels_match(want: &BTreeMap<String, String>, have: &BTreeMap<String, String>) -> bool {
    want.iter().all(|(k, v)| have.get(k) == Some(v))
}

/// `names[..MAX_PODS_SHOWN]` joined, with "and N more" for the rest.
pub fn name_list<S: AsRef<str>>(names: &[S]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .take(MAX_PODS_SHOWN)
        .map(AsRef::as_ref)
        .collect();
    let mut s = shown.join(", ");
    if names.len() > MAX_PODS_SHOWN {
        s.push_str(&format!(" and {} more", names.len() - MAX_PODS_SHOWN));
    }
    s
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
    fn name_list_counts_the_rest() {
        let names: Vec<String> = (0..8).map(|i| format!("p{i}")).collect();
        assert_eq!(name_list(&names), "p0, p1, p2, p3, p4, p5 and 2 more");
        assert_eq!(name_list(&["a"]), "a");
    }
}
