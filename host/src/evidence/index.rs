//! The in-memory index over loaded objects: per kind and namespace, by name and by label
//! (key=value posting lists), plus Events by the object they are about. Built once, read-only after.

use super::{KindKey, StoredObject, api_group};
use skillbox_guest::ObjectRef;
use skillbox_guest::selector::{Op, Selector};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// All objects, indexed. Every result it returns is sorted; HashMap order never leaks out.
#[derive(Default)]
pub(super) struct Index {
    kinds: HashMap<KindKey, KindIndex>,
    /// Kinds present with one representative apiVersion each (the first seen), for resolution.
    pub(super) present: BTreeMap<KindKey, String>,
    /// Events by `event_key` of their subject, each list sorted by (time, name).
    events: HashMap<String, Vec<Arc<StoredObject>>>,
    count: usize,
}

#[derive(Default)]
struct KindIndex {
    cluster: Option<NsIndex>,
    namespaced: HashMap<String, NsIndex>,
    /// Keys of `namespaced`, sorted, so all-namespace listings come out in order.
    namespaces: Vec<String>,
}

/// One (kind, namespace) collection.
#[derive(Default)]
struct NsIndex {
    /// Sorted by name; positions in this vector are the ids the postings hold.
    objects: Vec<Arc<StoredObject>>,
    by_name: HashMap<String, u32>,
    /// label key -> value -> ascending positions in `objects`.
    postings: HashMap<String, HashMap<String, Vec<u32>>>,
}

/// `kind NUL namespace NUL name`: one allocation per lookup, and NUL cannot occur in any part.
fn event_key(kind: &str, namespace: Option<&str>, name: &str) -> String {
    let ns = namespace.unwrap_or("");
    let mut k = String::with_capacity(kind.len() + ns.len() + name.len() + 2);
    k.push_str(kind);
    k.push('\0');
    k.push_str(ns);
    k.push('\0');
    k.push_str(name);
    k
}

/// Whether a kind holds Events whose subject the index should record.
fn is_event_kind(kind: &KindKey) -> bool {
    kind.kind == "Event" && (kind.group.is_empty() || kind.group == "events.k8s.io")
}

fn str_at<'a>(v: &'a serde_json::Value, key: &str) -> Option<&'a str> {
    v.get(key).and_then(serde_json::Value::as_str)
}

/// What an Event is about and when, for [`super::StoredObject::event`]; `None` for other kinds
/// and for Events that name no subject.
pub(super) fn event_facts(kind: &KindKey, v: &serde_json::Value) -> Option<super::EventFacts> {
    if !is_event_kind(kind) {
        return None;
    }
    let s = v.get("involvedObject").or_else(|| v.get("regarding"))?;
    let some = |x: Option<&str>| x.filter(|t| !t.is_empty()).map(String::from);
    Some(super::EventFacts {
        subject_api_version: some(str_at(s, "apiVersion")),
        subject_kind: str_at(s, "kind")?.to_string(),
        subject_namespace: some(str_at(s, "namespace")),
        subject_name: str_at(s, "name")?.to_string(),
        subject_uid: some(str_at(s, "uid")),
        time_key: event_time_key(v),
    })
}

/// A sort key for an event's time: the latest time it reports, normalised so that
/// `…:03Z` and `…:03.123456Z` (eventTime's micro-seconds) compare as times, not as text.
fn event_time_key(v: &serde_json::Value) -> String {
    let series_last = v
        .get("series")
        .and_then(|s| s.get("lastObservedTime"))
        .and_then(serde_json::Value::as_str);
    let raw = series_last
        .or_else(|| str_at(v, "lastTimestamp"))
        .or_else(|| str_at(v, "deprecatedLastTimestamp"))
        .or_else(|| str_at(v, "eventTime"))
        .or_else(|| str_at(v, "firstTimestamp"))
        .or_else(|| str_at(v, "deprecatedFirstTimestamp"))
        .or_else(|| {
            v.get("metadata")
                .and_then(|m| str_at(m, "creationTimestamp"))
        })
        .unwrap_or("");
    sortable_time(raw)
}

/// The order events are answered in: by time ([`event_time_key`]), then name, namespace, kind.
fn event_order(e: &StoredObject) -> (&str, &str, &Option<String>, &KindKey) {
    let time = e.event.as_ref().map_or("", |f| f.time_key.as_str());
    (time, &e.name, &e.namespace, &e.kind)
}

/// Sorts events as [`super::EvidenceSource::events_for`] answers them: by the latest time each
/// reports (`series.lastObservedTime`, `lastTimestamp`, `eventTime`, …, compared as times),
/// then by name, namespace and kind. Shared so a live source orders events as a snapshot does.
pub fn sort_events(events: &mut [Arc<StoredObject>]) {
    events.sort_by(|a, b| event_order(a).cmp(&event_order(b)));
}

/// `YYYY-MM-DDTHH:MM:SS` followed by a 9-digit fraction; anything else is kept as is.
pub(super) fn sortable_time(raw: &str) -> String {
    match (raw.get(..19), raw.get(19..)) {
        (Some(head), Some(rest)) => {
            let frac: String = rest
                .strip_prefix('.')
                .map(|r| r.chars().take_while(char::is_ascii_digit).take(9).collect())
                .unwrap_or_default();
            format!("{head}.{frac:0<9}")
        }
        _ => raw.to_string(),
    }
}

impl Index {
    /// Indexes `objects` (already de-duplicated).
    pub(super) fn build(objects: Vec<Arc<StoredObject>>) -> Self {
        let mut index = Index {
            count: objects.len(),
            ..Index::default()
        };
        let mut groups: HashMap<KindKey, BTreeMap<Option<String>, Vec<Arc<StoredObject>>>> =
            HashMap::new();
        let mut events: HashMap<String, Vec<Arc<StoredObject>>> = HashMap::new();
        for obj in objects {
            index
                .present
                .entry(obj.kind.clone())
                .or_insert_with(|| obj.api_version.clone());
            if let Some(f) = &obj.event {
                events
                    .entry(event_key(
                        &f.subject_kind,
                        f.subject_namespace.as_deref(),
                        &f.subject_name,
                    ))
                    .or_default()
                    .push(Arc::clone(&obj));
            }
            groups
                .entry(obj.kind.clone())
                .or_default()
                .entry(obj.namespace.clone())
                .or_default()
                .push(obj);
        }
        for (kind, by_ns) in groups {
            let mut ki = KindIndex::default();
            for (ns, objs) in by_ns {
                let nsi = NsIndex::build(objs);
                match ns {
                    None => ki.cluster = Some(nsi),
                    Some(ns) => {
                        ki.namespaces.push(ns.clone());
                        ki.namespaced.insert(ns, nsi);
                    }
                }
            }
            // `by_ns` is a BTreeMap, so `namespaces` is already sorted.
            index.kinds.insert(kind, ki);
        }
        for list in events.values_mut() {
            sort_events(list);
        }
        index.events = events;
        index
    }

    pub(super) fn object_count(&self) -> usize {
        self.count
    }

    /// The collection of one (kind, namespace). A namespace given for a kind that only has
    /// cluster-scoped objects is ignored, as kubectl ignores `-n` for Nodes.
    fn collection<'a>(ki: &'a KindIndex, namespace: Option<&str>) -> Option<&'a NsIndex> {
        match namespace {
            Some(ns) if !ki.namespaced.is_empty() => ki.namespaced.get(ns),
            _ => ki.cluster.as_ref(),
        }
    }

    pub(super) fn get(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        name: &str,
    ) -> Option<Arc<StoredObject>> {
        let ki = self.kinds.get(kind)?;
        let nsi = Self::collection(ki, namespace)?;
        let pos = *nsi.by_name.get(name)?;
        nsi.objects.get(pos as usize).cloned()
    }

    /// The collections a listing visits, in (namespace, name) order: cluster-scoped first
    /// (`None` sorts before any namespace), then namespaces by name.
    fn collections<'a>(&'a self, kind: &KindKey, namespace: Option<&str>) -> Vec<&'a NsIndex> {
        let Some(ki) = self.kinds.get(kind) else {
            return Vec::new();
        };
        if namespace.is_some() {
            return Self::collection(ki, namespace).into_iter().collect();
        }
        ki.cluster
            .iter()
            .chain(ki.namespaces.iter().filter_map(|ns| ki.namespaced.get(ns)))
            .collect()
    }

    pub(super) fn list(
        &self,
        kind: &KindKey,
        namespace: Option<&str>,
        selector: &Selector,
    ) -> Vec<Arc<StoredObject>> {
        let mut out = Vec::new();
        for nsi in self.collections(kind, namespace) {
            nsi.select(selector, &mut out);
        }
        out
    }

    pub(super) fn names(&self, kind: &KindKey) -> Vec<(Option<String>, String)> {
        self.collections(kind, None)
            .into_iter()
            .flat_map(|nsi| nsi.objects.iter())
            .map(|o| (o.namespace.clone(), o.name.clone()))
            .collect()
    }

    pub(super) fn kinds(&self) -> Vec<KindKey> {
        self.present.keys().cloned().collect()
    }

    pub(super) fn events_for(&self, involved: &ObjectRef) -> Vec<Arc<StoredObject>> {
        let key = event_key(
            &involved.kind,
            involved.namespace.as_deref(),
            &involved.name,
        );
        let Some(list) = self.events.get(&key) else {
            return Vec::new();
        };
        let group = (!involved.api_version.is_empty()).then(|| api_group(&involved.api_version));
        // The subject's uid tells its current incarnation from a deleted namesake's events.
        let uid = group.and_then(|g| {
            let kind = KindKey {
                group: g.to_string(),
                kind: involved.kind.clone(),
            };
            self.get(&kind, involved.namespace.as_deref(), &involved.name)
                .and_then(|o| o.uid.clone())
        });
        list.iter()
            .filter(|e| e.event_about(group, uid.as_deref()))
            .cloned()
            .collect()
    }
}

impl NsIndex {
    fn build(mut objects: Vec<Arc<StoredObject>>) -> Self {
        objects.sort_by(|a, b| a.name.cmp(&b.name));
        let mut by_name = HashMap::with_capacity(objects.len());
        let mut postings: HashMap<String, HashMap<String, Vec<u32>>> = HashMap::new();
        for (pos, obj) in objects.iter().enumerate() {
            // An index past u32 would need 4 billion objects in one namespace; stop indexing there.
            let Ok(pos) = u32::try_from(pos) else { break };
            by_name.insert(obj.name.clone(), pos);
            for (k, v) in &obj.labels {
                postings
                    .entry(k.clone())
                    .or_default()
                    .entry(v.clone())
                    .or_default()
                    .push(pos);
            }
        }
        NsIndex {
            objects,
            by_name,
            postings,
        }
    }

    fn posting(&self, key: &str, value: &str) -> &[u32] {
        self.postings
            .get(key)
            .and_then(|m| m.get(value))
            .map_or(&[], Vec::as_slice)
    }

    /// Appends the objects matching `selector`, in name order. Equality and `in` terms narrow
    /// the candidates through the postings; the full selector then checks each candidate.
    fn select(&self, selector: &Selector, out: &mut Vec<Arc<StoredObject>>) {
        let mut lists: Vec<Cow<'_, [u32]>> = Vec::new();
        for req in selector.requirements() {
            let list = match &req.op {
                Op::Equals(v) => Cow::Borrowed(self.posting(&req.key, v)),
                Op::In(values) if values.len() == 1 => Cow::Borrowed(
                    values
                        .first()
                        .map_or(&[][..], |v| self.posting(&req.key, v)),
                ),
                Op::In(values) => {
                    let mut u: Vec<u32> = values
                        .iter()
                        .flat_map(|v| self.posting(&req.key, v).iter().copied())
                        .collect();
                    u.sort_unstable();
                    u.dedup();
                    Cow::Owned(u)
                }
                _ => continue,
            };
            if list.is_empty() {
                return;
            }
            lists.push(list);
        }
        lists.sort_by_key(|l| l.len());
        let mut lists = lists.into_iter();
        let matches = |o: &&Arc<StoredObject>| selector.matches(&o.labels);
        match lists.next() {
            None => out.extend(self.objects.iter().filter(matches).cloned()),
            Some(first) => {
                let candidates = lists.fold(first, |acc, l| Cow::Owned(intersect(&acc, &l)));
                out.extend(
                    candidates
                        .iter()
                        .filter_map(|&p| self.objects.get(p as usize))
                        .filter(matches)
                        .cloned(),
                );
            }
        }
    }
}

/// Intersection of two ascending lists, `small` no longer than `large`. A much shorter list
/// is looked up in the longer one by binary search rather than merged with it.
fn intersect(small: &[u32], large: &[u32]) -> Vec<u32> {
    let mut out = Vec::with_capacity(small.len());
    if small.len().saturating_mul(16) < large.len() {
        let mut rest = large;
        for &x in small {
            match rest.binary_search(&x) {
                Ok(i) => {
                    out.push(x);
                    rest = &rest[i + 1..];
                }
                Err(i) => rest = &rest[i..],
            }
        }
        return out;
    }
    let (a, b) = (small, large);
    let (mut i, mut j) = (0, 0);
    while let (Some(&x), Some(&y)) = (a.get(i), b.get(j)) {
        match x.cmp(&y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                out.push(x);
                i += 1;
                j += 1;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn intersect_agrees_with_a_set_intersection() {
        let large: Vec<u32> = (0..1000).filter(|i| i % 3 != 0).collect();
        for small in [
            vec![],
            vec![0, 1, 2, 3, 999],
            vec![5, 500, 998],
            (0..1000).step_by(7).collect(),
            (0..1000).collect(),
        ] {
            let want: Vec<u32> = small
                .iter()
                .copied()
                .filter(|x| large.contains(x))
                .collect();
            let (s, l) = if small.len() <= large.len() {
                (&small[..], &large[..])
            } else {
                (&large[..], &small[..])
            };
            assert_eq!(intersect(s, l), want);
        }
    }

    #[test]
    fn event_times_sort_as_times() {
        let mut times = [
            "2026-11-24T07:12:03.5Z",
            "2026-11-24T07:12:03Z",
            "2026-11-24T07:12:03.000001Z",
            "",
            "2026-11-24T07:12:02.999999Z",
        ]
        .map(sortable_time);
        times.sort();
        assert_eq!(
            times,
            [
                "",
                "2026-11-24T07:12:02.999999000",
                "2026-11-24T07:12:03.000000000",
                "2026-11-24T07:12:03.000001000",
                "2026-11-24T07:12:03.500000000",
            ]
        );
    }
}
