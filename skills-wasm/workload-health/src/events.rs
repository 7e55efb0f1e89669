//! Reading Events about a pod: deterministic order, one-line rendering, container matching.

use crate::util::{MAX_LINE, clip, one_line};
use skillbox_guest::k8s::Event;

/// Events in a stable order: oldest last-seen first, then by name.
pub fn sorted(mut events: Vec<Event>) -> Vec<Event> {
    events.sort_by(|a, b| {
        (when(a), a.metadata.name.as_str()).cmp(&(when(b), b.metadata.name.as_str()))
    });
    events
}

fn when(e: &Event) -> &str {
    e.last_timestamp
        .as_deref()
        .or(e.event_time.as_deref())
        .or(e.metadata.creation_timestamp.as_deref())
        .unwrap_or("")
}

/// `Event Failed (x3, last 2026-…) on Pod ns/p spec.containers{c}: text`.
pub fn line(e: &Event, pod_display: &str) -> String {
    let mut s = format!("Event {}", e.reason);
    let n = e.occurrences();
    let w = when(e);
    match (n > 1, w.is_empty()) {
        (true, false) => s.push_str(&format!(" (x{n}, last {w})")),
        (true, true) => s.push_str(&format!(" (x{n})")),
        (false, false) => s.push_str(&format!(" ({w})")),
        (false, true) => {}
    }
    s.push_str(&format!(" on Pod {pod_display}"));
    if let Some(fp) = e.subject().and_then(|s| s.field_path.as_deref())
        && !fp.is_empty()
    {
        s.push(' ');
        s.push_str(fp);
    }
    s.push_str(": ");
    s.push_str(&one_line(e.text()));
    clip(&s, MAX_LINE)
}

/// Whether the event is about `container` (by field path), or names no container at all.
pub fn about_container(e: &Event, container: &str, init: bool) -> Option<bool> {
    let fp = e.subject().and_then(|s| s.field_path.as_deref())?;
    if fp.is_empty() {
        return None;
    }
    let want = if init {
        format!("spec.initContainers{{{container}}}")
    } else {
        format!("spec.containers{{{container}}}")
    };
    Some(fp == want)
}

/// The events with `reason` whose text contains `needle` (any text when `needle` is empty).
pub fn with_reason<'a>(
    events: &'a [Event],
    reason: &'a str,
    needle: &'a str,
) -> impl Iterator<Item = &'a Event> + 'a {
    events
        .iter()
        .filter(move |e| e.reason == reason && (needle.is_empty() || e.text().contains(needle)))
}
