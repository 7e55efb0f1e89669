//! The evidence side: snapshot folders as the CLI loads them, and label selectors as skills and
//! the index use them.

use serde_json::Value;
use skillbox::evidence::{
    EvidenceSource, KindKey, SnapshotSource, StoredObject, parse_yaml_document,
};
use skillbox_guest::ObjectRef;
use skillbox_guest::selector::{Op, Selector};
use std::path::Path;
use std::sync::{Arc, OnceLock};

/// Splits one input into several snapshot files, so that duplicates across files, the folder
/// walk and the parallel parse are reached too.
const FILE_BREAK: &[u8] = b"\n#--8<--\n";
/// Where the pieces go, in walk order: the third in a subfolder.
const FILES: [&str; 3] = ["a", "b", "sub/c"];

/// `.json` when the text starts like JSON, else `.yaml`: the extension picks the parser.
fn extension(bytes: &[u8]) -> &'static str {
    match bytes.iter().find(|b| !b.is_ascii_whitespace()) {
        Some(b'{' | b'[') => "json",
        _ => "yaml",
    }
}

fn pieces(data: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut rest = data;
    while out.len() + 1 < FILES.len() {
        match rest.windows(FILE_BREAK.len()).position(|w| w == FILE_BREAK) {
            Some(i) => {
                out.push(&rest[..i]);
                rest = &rest[i + FILE_BREAK.len()..];
            }
            None => break,
        }
    }
    out.push(rest);
    out
}

/// A fresh folder for one input: on tmpfs where there is one, since creating and removing files
/// on a disk costs milliseconds (most of an execution) and tmpfs microseconds.
fn scratch() -> tempfile::TempDir {
    let shm = Path::new("/dev/shm");
    let builder = tempfile::Builder::new();
    let dir = if shm.is_dir() {
        builder.tempdir_in(shm)
    } else {
        builder.tempdir()
    };
    dir.expect("a temporary folder")
}

/// Property: any bytes as snapshot files load without panic (only a missing folder is an
/// error; anything wrong inside is a warning naming a file written), and the index answers
/// consistently: per kind, `list` is sorted by (namespace, name) and agrees with `names`, all
/// kinds together hold `object_count` objects, every listed object has the apiVersion, kind,
/// name, namespace and labels its JSON text says and is the one `get` returns, a selector made
/// of its own labels lists it, and every Event is among `events_for` its subject.
pub fn snapshot(data: &[u8]) {
    let dir = scratch();
    let mut written = Vec::new();
    for (piece, name) in pieces(data).into_iter().zip(FILES) {
        let rel = format!("{name}.{}", extension(piece));
        let path = dir.path().join(&rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).expect("create a folder");
        }
        std::fs::write(&path, piece).expect("write a snapshot file");
        written.push(rel);
    }
    let source = match SnapshotSource::load(dir.path()) {
        Ok(s) => s,
        Err(e) => panic!("a readable snapshot folder was refused: {e}"),
    };
    for w in source.warnings() {
        assert!(
            written.contains(&w.file),
            "warning names a file never written: {w}"
        );
    }
    check_index(&source, source.object_count());
}

/// The index's self-consistency, over every kind it holds.
fn check_index(source: &dyn EvidenceSource, count: usize) {
    let kinds = source.kinds().expect("a snapshot always answers");
    assert!(
        kinds.windows(2).all(|w| w[0] < w[1]),
        "kinds not sorted and unique"
    );
    let mut total = 0;
    for kind in &kinds {
        let all = source
            .list(kind, None, &Selector::everything())
            .expect("a snapshot always answers");
        assert!(!all.is_empty(), "kind {kind} is present but lists nothing");
        total += all.len();
        assert!(
            all.windows(2)
                .all(|w| (&w[0].namespace, &w[0].name) < (&w[1].namespace, &w[1].name)),
            "{kind} not listed in (namespace, name) order"
        );
        let names = source.names(kind).expect("a snapshot always answers");
        let listed: Vec<_> = all
            .iter()
            .map(|o| (o.namespace.clone(), o.name.clone()))
            .collect();
        assert_eq!(names, listed, "names and list disagree for {kind}");
        // Whatever the spelling, resolution must not panic.
        let _ = source.resolve_kind(&kind.to_string());
        let _ = source.resolve_kind(&kind.kind);
        for o in &all {
            assert_eq!(&o.kind, kind, "{kind} lists an object of kind {}", o.kind);
            check_fields(o);
            let got = source
                .get(kind, o.namespace.as_deref(), &o.name)
                .expect("a snapshot always answers");
            assert!(
                got.as_ref().is_some_and(|g| Arc::ptr_eq(g, o)),
                "{kind} {:?}/{} is listed but get does not return it",
                o.namespace,
                o.name
            );
            let own = Selector::from_labels(&o.labels);
            let hits = source
                .list(kind, o.namespace.as_deref(), &own)
                .expect("a snapshot always answers");
            assert!(
                hits.iter().any(|h| Arc::ptr_eq(h, o)),
                "{kind} {}: a selector of its own labels does not list it",
                o.name
            );
            if is_event(kind) {
                check_event(source, o);
            }
        }
    }
    assert_eq!(total, count, "the kinds hold another number of objects");
}

/// The fields an object is indexed by are the ones its JSON text (what a skill receives) says.
fn check_fields(o: &StoredObject) {
    let v = o.value();
    fn text(v: Option<&Value>) -> Option<&str> {
        v.and_then(Value::as_str).filter(|s| !s.is_empty())
    }
    let meta = v.get("metadata");
    assert_eq!(text(v.get("apiVersion")), Some(o.api_version.as_str()));
    assert_eq!(text(v.get("kind")), Some(o.kind.kind.as_str()));
    assert_eq!(
        text(meta.and_then(|m| m.get("name"))),
        Some(o.name.as_str())
    );
    assert_eq!(
        text(meta.and_then(|m| m.get("namespace"))),
        o.namespace.as_deref(),
        "namespace of {} differs from its JSON",
        o.name
    );
    let labels: std::collections::BTreeMap<&str, &str> = meta
        .and_then(|m| m.get("labels"))
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
        .filter_map(|(k, v)| Some((k.as_str(), v.as_str()?)))
        .collect();
    let indexed: std::collections::BTreeMap<&str, &str> = o
        .labels
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(indexed, labels, "labels of {} differ from its JSON", o.name);
}

fn is_event(kind: &KindKey) -> bool {
    kind.kind == "Event" && (kind.group.is_empty() || kind.group == "events.k8s.io")
}

/// An Event with a subject (kind and name) is among the events of that subject.
fn check_event(source: &dyn EvidenceSource, event: &Arc<StoredObject>) {
    let v = event.value();
    let Some(subject) = v.get("involvedObject").or_else(|| v.get("regarding")) else {
        return;
    };
    let field = |k: &str| subject.get(k).and_then(Value::as_str);
    let (Some(kind), Some(name)) = (field("kind"), field("name")) else {
        return;
    };
    let subject = ObjectRef {
        // An empty apiVersion asks for every event about the name, whatever its group or uid.
        api_version: String::new(),
        kind: kind.into(),
        namespace: field("namespace").filter(|n| !n.is_empty()).map(Into::into),
        name: name.into(),
    };
    let events = source
        .events_for(&subject)
        .expect("a snapshot always answers");
    assert!(
        events.iter().any(|e| Arc::ptr_eq(e, event)),
        "event {} is not among the events of its subject {subject}",
        event.name
    );
}

/// Whether `line` is a document marker as the snapshot loader splits on (`---` or `...` alone or
/// followed by a blank): the fast path is only ever given the text between markers.
fn is_marker(line: &str) -> bool {
    let bare = line.trim_end_matches(['\n', '\r']);
    ["---", "..."].iter().any(|m| {
        bare == *m
            || bare
                .strip_prefix(m)
                .is_some_and(|r| r.starts_with([' ', '\t']))
    })
}

/// Property: the snapshot loader's fast YAML path never panics, and whenever it answers for a
/// document (text between markers), its value is exactly the one serde_yaml_ng gives, which the
/// loader would otherwise have used: the fast path may only ever make loading faster.
pub fn yaml_fast_path(data: &[u8]) {
    let Ok(doc) = std::str::from_utf8(data) else {
        return;
    };
    if doc.split_inclusive('\n').any(is_marker) {
        return;
    }
    let Some(fast) = parse_yaml_document(doc) else {
        return;
    };
    match serde_yaml_ng::from_str::<Value>(doc) {
        Ok(slow) => assert!(
            fast == slow,
            "the fast path read {fast} where serde_yaml_ng reads {slow}"
        ),
        Err(e) => panic!("the fast path read {fast} where serde_yaml_ng refuses: {e}"),
    }
}

/// Pods with overlapping labels, for comparing indexed selection with plain matching.
const LABELLED: &str = r#"
apiVersion: v1
kind: PodList
items:
- metadata: {name: p1, namespace: shop, labels: {app: web, tier: front, version: v1}}
- metadata: {name: p2, namespace: shop, labels: {app: web, tier: front, version: v2}}
- metadata: {name: p3, namespace: shop, labels: {app: web, tier: back, version: v2, canary: "true"}}
- metadata: {name: p4, namespace: shop, labels: {app: db, tier: back}}
- metadata: {name: p5, namespace: shop, labels: {app: db, tier: back, version: v1}}
- metadata: {name: p6, namespace: shop, labels: {app: "", x: y}}
- metadata: {name: p7, namespace: shop}
- metadata: {name: p8, namespace: shop, labels: {app.kubernetes.io/name: web, version: v3}}
- metadata: {name: p9, namespace: other, labels: {app: web, tier: front, version: v1}}
- metadata: {name: q1, namespace: shop, labels: {a: b, c: d, e: f, g: h}}
"#;

fn labelled() -> &'static (tempfile::TempDir, SnapshotSource) {
    static SOURCE: OnceLock<(tempfile::TempDir, SnapshotSource)> = OnceLock::new();
    SOURCE.get_or_init(|| {
        let dir = tempfile::tempdir().expect("a temporary folder");
        std::fs::write(dir.path().join("pods.yaml"), LABELLED).expect("write pods.yaml");
        let source = SnapshotSource::load(dir.path()).expect("the fixture loads");
        assert!(source.warnings().is_empty(), "{:?}", source.warnings());
        (dir, source)
    })
}

/// kubectl's syntax: keys and values of `[A-Za-z0-9._/-]`, at most 317 characters.
fn token_ok(s: &str) -> bool {
    s.len() <= 317
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '/'))
}

/// Property: any text as a selector parses or is refused with a reason, never panics; a parsed
/// selector holds at most 64 well-formed terms, its Display parses back to an equal selector,
/// and listing through the index's label postings selects exactly the objects plain matching
/// does.
pub fn label_selector(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let selector = match Selector::parse(text) {
        Ok(s) => s,
        Err(e) => {
            assert_eq!(e.input, text, "the error does not quote the input");
            assert!(!e.reason.is_empty(), "an error without a reason");
            return;
        }
    };
    assert!(selector.requirements().len() <= 64, "more than 64 terms");
    for r in selector.requirements() {
        assert!(
            !r.key.is_empty() && token_ok(&r.key),
            "malformed key {:?}",
            r.key
        );
        let values: Vec<&String> = match &r.op {
            Op::Equals(v) | Op::NotEquals(v) => vec![v],
            Op::In(s) | Op::NotIn(s) => s.iter().collect(),
            Op::Exists | Op::DoesNotExist => vec![],
        };
        assert!(
            values.iter().all(|v| token_ok(v)),
            "malformed value in {r:?}"
        );
    }
    let shown = selector.to_string();
    match Selector::parse(&shown) {
        Ok(again) => assert_eq!(
            again, selector,
            "{text:?} shown as {shown:?} reads back otherwise"
        ),
        Err(e) => panic!("{text:?} shown as {shown:?} does not parse: {e}"),
    }

    let (_, source) = labelled();
    let pod = KindKey {
        group: String::new(),
        kind: "Pod".into(),
    };
    for ns in [Some("shop"), None] {
        let all = source
            .list(&pod, ns, &Selector::everything())
            .expect("a snapshot always answers");
        let want: Vec<&str> = all
            .iter()
            .filter(|o| selector.matches(&o.labels))
            .map(|o| o.name.as_str())
            .collect();
        let got = source
            .list(&pod, ns, &selector)
            .expect("a snapshot always answers");
        let got: Vec<&str> = got.iter().map(|o| o.name.as_str()).collect();
        assert_eq!(
            got, want,
            "indexed selection of {shown:?} in {ns:?} differs"
        );
    }
}
