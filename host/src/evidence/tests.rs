//! Tests of the snapshot source against small folders built on the fly, and the shared corpus.

use super::snapshot::tail_text;
use super::*;
use skillbox_guest::selector::Selector;
use std::path::Path;

/// Builds a snapshot folder from (relative path, contents) pairs.
fn folder(files: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (rel, text) in files {
        let p = dir.path().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }
    dir
}

fn load(files: &[(&str, &str)]) -> (tempfile::TempDir, SnapshotSource) {
    let dir = folder(files);
    let src = SnapshotSource::load(dir.path()).unwrap();
    (dir, src)
}

fn pod(ns: &str, name: &str, labels: &[(&str, &str)]) -> String {
    let labels = labels
        .iter()
        .map(|(k, v)| format!("\"{k}\":\"{v}\""))
        .collect::<Vec<_>>()
        .join(",");
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}","namespace":"{ns}","uid":"uid-{ns}-{name}","labels":{{{labels}}}}}}}"#
    )
}

fn key(api_version: &str, kind: &str) -> KindKey {
    KindKey::from_api_version(api_version, kind)
}

fn names_of(objs: &[Arc<StoredObject>]) -> Vec<String> {
    objs.iter()
        .map(|o| format!("{}/{}", o.namespace.as_deref().unwrap_or("-"), o.name))
        .collect()
}

const PODS_LIST: &str = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: reviews-v1-abc
    namespace: bookinfo
    uid: u-reviews
    labels: {app: reviews, version: v1}
- apiVersion: v1
  kind: Pod
  metadata:
    name: details-v1-xyz
    namespace: bookinfo
    labels: {app: details, version: v1}
kind: List
metadata:
  resourceVersion: ""
"#;

#[test]
fn kind_key_spelling() {
    assert_eq!(key("apps/v1", "Deployment").to_string(), "Deployment.apps");
    assert_eq!(key("v1", "Pod").to_string(), "Pod");
    assert_eq!(key("v1", "Pod").group, "");
    assert_eq!(
        key("networking.istio.io/v1beta1", "VirtualService"),
        key("networking.istio.io/v1", "VirtualService")
    );
}

#[test]
fn loads_lists_single_objects_multi_doc_and_json() {
    let (_d, src) = load(&[
        ("pods.yaml", PODS_LIST),
        (
            "apps/deploy.yml",
            "---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: reviews\n  namespace: bookinfo\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: details, namespace: bookinfo}\n---\n",
        ),
        (
            "nodes.json",
            r#"{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"v1","kind":"Node","metadata":{"name":"n1","labels":{"zone":"a"}}}]}"#,
        ),
        (
            "stream.json",
            &format!("{}\n{}", pod("x", "p1", &[]), pod("x", "p2", &[])),
        ),
        // A .json file that is really YAML still loads.
        (
            "yaml-in.json",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cm, namespace: x}\n",
        ),
        ("README.md", "not evidence"),
    ]);
    assert_eq!(src.warnings(), &[], "{:?}", src.warnings());
    assert_eq!(src.object_count(), 8);
    let p = src
        .get(&key("v1", "Pod"), Some("bookinfo"), "reviews-v1-abc")
        .unwrap()
        .unwrap();
    assert_eq!(p.uid.as_deref(), Some("u-reviews"));
    assert_eq!(p.labels.get("app").map(String::as_str), Some("reviews"));
    assert_eq!(p.json.as_ref(), serde_json::to_string(&p.value()).unwrap());
    assert_eq!(
        p.object_ref(),
        skillbox_guest::ObjectRef::namespaced("v1", "Pod", "bookinfo", "reviews-v1-abc")
    );
    assert!(
        src.get(&key("apps/v1", "Deployment"), Some("bookinfo"), "details")
            .unwrap()
            .is_some()
    );
    assert!(src.get(&key("v1", "Node"), None, "n1").unwrap().is_some());
    assert!(
        src.get(&key("v1", "ConfigMap"), Some("x"), "cm")
            .unwrap()
            .is_some()
    );
    assert!(
        src.get(&key("v1", "Pod"), Some("x"), "p2")
            .unwrap()
            .is_some()
    );
    assert!(
        src.get(&key("v1", "Pod"), Some("other"), "p2")
            .unwrap()
            .is_none()
    );
    assert_eq!(
        src.kinds()
            .unwrap()
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>(),
        ["ConfigMap", "Node", "Pod", "Deployment.apps"]
    );
    assert_eq!(
        src.names(&key("v1", "Pod")).unwrap(),
        [
            (Some("bookinfo".into()), "details-v1-xyz".into()),
            (Some("bookinfo".into()), "reviews-v1-abc".into()),
            (Some("x".into()), "p1".into()),
            (Some("x".into()), "p2".into()),
        ]
    );
}

#[test]
fn malformed_documents_are_warned_and_skipped() {
    let (_d, src) = load(&[(
        "mixed.yaml",
        "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a, namespace: n}\n---\nkey: [unclosed\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: b, namespace: n}\n---\n- just\n- a list\n---\nfoo: bar\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {namespace: n}\n---\n# only a comment\n---\n",
    )]);
    assert_eq!(src.object_count(), 2);
    let w: Vec<(Option<usize>, &str)> = src
        .warnings()
        .iter()
        .map(|w| (w.document, w.message.as_str()))
        .collect();
    assert_eq!(w.len(), 4, "{:?}", src.warnings());
    assert!(src.warnings().iter().all(|w| w.file == "mixed.yaml"));
    assert_eq!(w[0].0, Some(1));
    assert!(w[0].1.contains("YAML"), "{}", w[0].1);
    assert_eq!(w[1].0, Some(3));
    assert!(w[1].1.contains("sequence"), "{}", w[1].1);
    assert_eq!(w[2].0, Some(4));
    assert!(w[2].1.contains("apiVersion"), "{}", w[2].1);
    assert_eq!(w[3].0, Some(5));
    assert!(w[3].1.contains("metadata.name"), "{}", w[3].1);
    assert!(
        src.warnings()[0]
            .to_string()
            .starts_with("mixed.yaml (document 1): ")
    );
}

#[test]
fn list_items_are_checked_one_by_one_and_typed_lists_fill_kinds() {
    let (_d, src) = load(&[
        (
            "cms.yaml",
            "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {name: ok, namespace: n}\n- 42\n- apiVersion: v1\n  kind: ConfigMap\n  metadata: {namespace: n}\n",
        ),
        (
            "podlist.json",
            r#"{"apiVersion":"v1","kind":"PodList","items":[{"metadata":{"name":"bare","namespace":"n"}}]}"#,
        ),
        ("empty.yaml", "apiVersion: v1\nitems: []\nkind: List\n"),
        ("empty.json", ""),
        ("blank.yaml", "\n# nothing\n---\n"),
    ]);
    assert_eq!(src.object_count(), 2);
    let p = src
        .get(&key("v1", "Pod"), Some("n"), "bare")
        .unwrap()
        .unwrap();
    assert_eq!(p.api_version, "v1");
    assert_eq!(p.value()["kind"], "Pod");
    let w = src.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!((w[0].file.as_str(), w[0].document), ("cms.yaml", Some(0)));
    assert!(w[0].message.starts_with("items[1]:"), "{}", w[0].message);
    assert!(w[1].message.starts_with("items[2]:"), "{}", w[1].message);
}

#[test]
fn duplicates_last_one_wins_with_a_warning() {
    let (_d, src) = load(&[
        ("a.yaml", &pod("n", "p", &[("v", "1")])),
        ("b.yaml", &pod("n", "p", &[("v", "2")])),
    ]);
    assert_eq!(src.object_count(), 1);
    let p = src.get(&key("v1", "Pod"), Some("n"), "p").unwrap().unwrap();
    assert_eq!(p.labels["v"], "2");
    assert_eq!(src.warnings().len(), 1);
    assert_eq!(src.warnings()[0].file, "b.yaml");
    assert!(src.warnings()[0].message.contains("a.yaml"));
    let sel = Selector::parse("v=1").unwrap();
    assert!(src.list(&key("v1", "Pod"), None, &sel).unwrap().is_empty());
}

#[test]
fn oversized_and_non_utf8_files_are_skipped() {
    let dir = folder(&[("ok.yaml", &pod("n", "p", &[]))]);
    let big = std::fs::File::create(dir.path().join("big.yaml")).unwrap();
    big.set_len(64 * 1024 * 1024 + 1).unwrap(); // sparse: cheap to make, never read
    std::fs::write(dir.path().join("bin.yaml"), [0xff, 0xfe, 0x00]).unwrap();
    let src = SnapshotSource::load(dir.path()).unwrap();
    assert_eq!(src.object_count(), 1);
    let w = src.warnings();
    assert_eq!(w.len(), 2, "{w:?}");
    assert_eq!(w[0].file, "big.yaml");
    assert!(w[0].message.contains("64 MiB"));
    assert_eq!(w[1].file, "bin.yaml");
    assert!(w[1].message.contains("UTF-8"));
}

#[cfg(unix)]
#[test]
fn symlinks_are_skipped_and_never_followed() {
    let outside = folder(&[
        ("secret.yaml", &pod("n", "outside", &[])),
        ("x.log", "outside log\n"),
    ]);
    let dir = folder(&[
        ("pods.yaml", &pod("n", "inside", &[])),
        ("logs/n/p/real.log", "ok\n"),
    ]);
    let link = |target: &Path, name: &str| {
        std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
    };
    link(&outside.path().join("secret.yaml"), "linked.yaml");
    link(outside.path(), "linked-dir");
    link(&outside.path().join("x.log"), "logs/n/p/c.log");
    link(outside.path(), "logs/n/q");
    let src = SnapshotSource::load(dir.path()).unwrap();
    assert_eq!(src.object_count(), 1);
    assert!(
        src.get(&key("v1", "Pod"), Some("n"), "outside")
            .unwrap()
            .is_none()
    );
    let files: Vec<&str> = src.warnings().iter().map(|w| w.file.as_str()).collect();
    assert_eq!(
        files,
        ["linked-dir", "linked.yaml", "logs/n/p/c.log", "logs/n/q"]
    );
    assert!(
        src.warnings()
            .iter()
            .all(|w| w.message.contains("symbolic link"))
    );
    assert!(matches!(
        src.logs("n", "p", "c", 10, 1000),
        Err(EvidenceError::LogRead { .. })
    ));
    assert!(matches!(
        src.logs("n", "q", "x", 10, 1000),
        Err(EvidenceError::LogRead { .. })
    ));
    assert_eq!(
        src.logs("n", "p", "real", 10, 1000).unwrap().as_deref(),
        Some("ok\n")
    );
}

#[test]
fn log_paths_must_be_plain_components() {
    let (_d, src) = load(&[("logs/n/p/c.log", "x\n")]);
    for (ns, pod, c) in [
        ("..", "p", "c"),
        ("n", "../n/p", "c"),
        ("n", "p", "../../etc/passwd"),
        ("n", "p", "a/b"),
        ("n", "p", "a\\b"),
        ("", "p", "c"),
        ("n", ".", "c"),
        ("n", "p", "c\0"),
        ("/abs", "p", "c"),
    ] {
        match src.logs(ns, pod, c, 10, 100) {
            Err(EvidenceError::InvalidLogPath { what }) => assert!(!what.is_empty()),
            other => panic!("{ns:?} {pod:?} {c:?}: {other:?}"),
        }
    }
    assert_eq!(
        src.logs("n", "p", "c", 10, 100).unwrap().as_deref(),
        Some("x\n")
    );
    assert_eq!(src.logs("n", "p", "other", 10, 100).unwrap(), None);
    assert_eq!(src.logs("n", "nope", "c", 10, 100).unwrap(), None);
    let (_d2, no_logs) = load(&[]);
    assert_eq!(no_logs.logs("n", "p", "c", 10, 100).unwrap(), None);
}

#[test]
fn log_tail_and_byte_caps() {
    let body: String = (1..=1000).map(|i| format!("line {i}\n")).collect();
    let (_d, src) = load(&[
        ("logs/n/p/c.log", &body),
        ("logs/n/p/utf8.log", "ééééé\nàààà"),
        ("logs/n/p/long.log", &"x".repeat(5000)),
    ]);
    let logs = |c: &str, n, max| src.logs("n", "p", c, n, max).unwrap().unwrap();
    assert_eq!(logs("c", 2, 10_000), "line 999\nline 1000\n");
    assert_eq!(logs("c", 0, 10_000), "");
    assert_eq!(logs("c", 5000, 100_000), body);
    // 20 bytes hold "line 1000\n" (10) and "line 999\n" (9), not a third line.
    assert_eq!(logs("c", 50, 20), "line 999\nline 1000\n");
    assert_eq!(logs("c", 50, 19), "line 999\nline 1000\n");
    assert_eq!(logs("c", 50, 18), "line 1000\n");
    // No complete line fits: the end of the last line, cut at a character boundary.
    assert_eq!(logs("utf8", 1, 5), "àà");
    assert_eq!(logs("utf8", 2, 12), "àààà");
    assert_eq!(logs("utf8", 2, 19), "ééééé\nàààà");
    assert_eq!(logs("long", 3, 7), "xxxxxxx");
}

/// Reference: the last `n` lines, then whole lines dropped from the front while over `max`.
fn tail_reference(text: &str, n: usize, max: usize) -> Option<String> {
    let lines: Vec<&str> = text.split_inclusive('\n').collect();
    let mut kept = &lines[lines.len().saturating_sub(n)..];
    while kept.iter().map(|l| l.len()).sum::<usize>() > max {
        kept = &kept[1..];
    }
    (!kept.is_empty() || n == 0 || max == 0 || text.is_empty()).then(|| kept.concat())
}

#[test]
fn tail_matches_a_reference_on_every_window() {
    let texts = [
        "a\nbb\nccc\n\ndddd\n",
        "a\nbb\nccc\n\ndddd",
        "\n\n\n",
        "single line no newline",
        "é\nàà\n€€€\n",
    ];
    for text in texts {
        let bytes = text.as_bytes();
        for n in 0..7u32 {
            for max in 0..=bytes.len() + 2 {
                let Some(want) = tail_reference(text, n as usize, max) else {
                    continue;
                };
                // As `tail_file` reads it: the last `max + 1` bytes, or the whole file.
                let window = bytes.len().min(max + 1);
                let buf = &bytes[bytes.len() - window..];
                let got = tail_text(buf, window == bytes.len(), n, max);
                assert_eq!(got, want, "text {text:?} n {n} max {max}");
            }
        }
    }
}

#[test]
fn events_of_both_api_versions() {
    let core = |name: &str, uid: &str, last: &str, reason: &str| {
        format!(
            r#"{{"apiVersion":"v1","kind":"Event","metadata":{{"name":"{name}","namespace":"n"}},"reason":"{reason}","lastTimestamp":"{last}","involvedObject":{{"apiVersion":"v1","kind":"Pod","name":"p","namespace":"n","uid":"{uid}"}}}}"#
        )
    };
    let (_d, src) = load(&[
        ("pods.json", &pod("n", "p", &[])),
        (
            "events.json",
            &[
                core("e-late", "uid-n-p", "2026-11-24T07:12:05Z", "BackOff"),
                core("e-early", "uid-n-p", "2026-11-24T07:12:03Z", "Pulled"),
                core("e-old-incarnation", "uid-old", "2026-11-24T07:00:00Z", "Killing"),
                r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e-other","namespace":"n"},"involvedObject":{"kind":"Pod","name":"q","namespace":"n"}}"#.to_string(),
                r#"{"apiVersion":"v1","kind":"Event","metadata":{"name":"e-deploy","namespace":"n"},"involvedObject":{"apiVersion":"apps/v1","kind":"Deployment","name":"p","namespace":"n"}}"#.to_string(),
            ]
            .join("\n"),
        ),
        (
            "new-events.yaml",
            "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: e-new, namespace: n}\nreason: Unhealthy\nnote: Readiness probe failed\neventTime: \"2026-11-24T07:12:03.500000Z\"\nregarding: {kind: Pod, name: p, namespace: n}\n",
        ),
    ]);
    assert_eq!(src.warnings(), &[]);
    let target = skillbox_guest::ObjectRef::namespaced("v1", "Pod", "n", "p");
    let got: Vec<String> = src
        .events_for(&target)
        .unwrap()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    // 07:12:03 < 07:12:03.5 < 07:12:05; the old incarnation's event (other uid) is left out.
    assert_eq!(got, ["e-early", "e-new", "e-late"]);
    let deploy = skillbox_guest::ObjectRef::namespaced("apps/v1", "Deployment", "n", "p");
    let got: Vec<String> = src
        .events_for(&deploy)
        .unwrap()
        .iter()
        .map(|e| e.name.clone())
        .collect();
    assert_eq!(got, ["e-deploy"]);
    let none = skillbox_guest::ObjectRef::namespaced("v1", "Pod", "other", "p");
    assert!(src.events_for(&none).unwrap().is_empty());
    // "Event" means the core group when both are present; the other needs its group.
    assert_eq!(src.resolve_kind("events").unwrap(), key("v1", "Event"));
    assert_eq!(
        src.resolve_kind("event.events.k8s.io").unwrap(),
        key("events.k8s.io/v1", "Event")
    );
    // With only the newer API's Events present, "events" means those.
    let (_d, only_new) = load(&[(
        "e.yaml",
        "apiVersion: events.k8s.io/v1\nkind: Event\nmetadata: {name: e, namespace: n}\n",
    )]);
    assert_eq!(
        only_new.resolve_kind("ev").unwrap(),
        key("events.k8s.io/v1", "Event")
    );
    assert_eq!(only_new.resolve_kind("pods").unwrap(), key("v1", "Pod"));
}

#[test]
fn selector_queries_use_the_index_and_agree_with_brute_force() {
    let mut docs = Vec::new();
    let apps = ["reviews", "ratings", "details"];
    let versions = ["v1", "v2", "v3"];
    for ns in ["a", "b", "c"] {
        for i in 0..40 {
            let mut labels = vec![("app", apps[i % 3]), ("version", versions[(i / 3) % 3])];
            if i % 4 == 0 {
                labels.push(("canary", "true"));
            }
            if i % 7 == 0 {
                labels.push(("tier", ""));
            }
            docs.push(pod(ns, &format!("pod-{i:02}"), &labels));
        }
    }
    docs.push(
        r#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"svc","namespace":"a","labels":{"app":"reviews"}}}"#
            .to_string(),
    );
    let (_d, src) = load(&[("all.json", &docs.join("\n"))]);
    let pods = key("v1", "Pod");
    let all = src.list(&pods, None, &Selector::everything()).unwrap();
    assert_eq!(all.len(), 120);
    for sel in [
        "",
        "app=reviews",
        "app==reviews,version=v2",
        "app in (reviews, details)",
        "app in (reviews),version in (v1,v3),canary",
        "version notin (v1)",
        "canary",
        "!canary",
        "app=ratings,!canary,version!=v2",
        "tier=",
        "tier",
        "app=nope",
        "app in (nope)",
        "app=reviews,app=ratings",
    ] {
        let s = Selector::parse(sel).unwrap();
        for ns in [None, Some("a"), Some("c"), Some("missing")] {
            let got = src.list(&pods, ns, &s).unwrap();
            let mut want: Vec<&Arc<StoredObject>> = all
                .iter()
                .filter(|o| ns.is_none_or(|n| o.namespace.as_deref() == Some(n)))
                .filter(|o| s.matches(&o.labels))
                .collect();
            want.sort_by(|a, b| (&a.namespace, &a.name).cmp(&(&b.namespace, &b.name)));
            let want: Vec<Arc<StoredObject>> = want.into_iter().cloned().collect();
            assert_eq!(names_of(&got), names_of(&want), "{sel:?} in {ns:?}");
        }
    }
    let reviews = src
        .list(&pods, Some("a"), &Selector::parse("app=reviews").unwrap())
        .unwrap();
    assert_eq!(reviews.len(), 14);
    assert!(reviews.iter().all(|o| o.kind == pods));
}

#[test]
fn kind_spellings_resolve() {
    let (_d, src) = load(&[
        ("pods.yaml", PODS_LIST),
        (
            "d.yaml",
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: bookinfo}\n",
        ),
        (
            "vs.yaml",
            "apiVersion: networking.istio.io/v1\nkind: VirtualService\nmetadata: {name: reviews, namespace: bookinfo}\n",
        ),
        (
            "crd.yaml",
            "apiVersion: a.example.com/v1\nkind: Widget\nmetadata: {name: w}\n---\napiVersion: b.example.com/v1\nkind: Widget\nmetadata: {name: w}\n",
        ),
    ]);
    let pod_key = key("v1", "Pod");
    let deploy = key("apps/v1", "Deployment");
    for q in ["pods", "po", "Pod", "POD", " pods "] {
        assert_eq!(src.resolve_kind(q).unwrap(), pod_key, "{q}");
    }
    for q in [
        "deployment.apps",
        "DEPLOYMENTS",
        "deploy",
        "Deployment",
        "deployments.apps",
    ] {
        assert_eq!(src.resolve_kind(q).unwrap(), deploy, "{q}");
    }
    for q in [
        "vs",
        "virtualservices.networking.istio.io",
        "VirtualService",
    ] {
        assert_eq!(
            src.resolve_kind(q).unwrap(),
            key("networking.istio.io/v1", "VirtualService"),
            "{q}"
        );
    }
    // Well-known kinds resolve with no objects, and list empty.
    let sts = src.resolve_kind("statefulsets").unwrap();
    assert_eq!(sts, key("apps/v1", "StatefulSet"));
    assert!(
        src.list(&sts, None, &Selector::everything())
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        src.resolve_kind("dr").unwrap(),
        key("networking.istio.io/v1", "DestinationRule")
    );
    let e = src.resolve_kind("frobnicators").unwrap_err();
    assert!(e.to_string().contains("Deployment.apps"), "{e}");
    let EvidenceError::UnknownKind { known, query } = e else {
        panic!("{e:?}")
    };
    assert_eq!(query, "frobnicators");
    assert_eq!(
        known,
        [
            "Pod",
            "Widget.a.example.com",
            "Deployment.apps",
            "Widget.b.example.com",
            "VirtualService.networking.istio.io"
        ]
    );
    match src.resolve_kind("widgets") {
        Err(EvidenceError::AmbiguousKind { candidates, .. }) => {
            assert_eq!(candidates, ["Widget.a.example.com", "Widget.b.example.com"]);
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        src.resolve_kind("widget.b.example.com").unwrap(),
        key("b.example.com/v1", "Widget")
    );
    assert_eq!(
        src.resolve_kind("widget.b").unwrap(),
        key("b.example.com/v1", "Widget")
    );
}

#[test]
fn cluster_scoped_objects_ignore_a_namespace() {
    let (_d, src) = load(&[(
        "nodes.yaml",
        "apiVersion: v1\nkind: NodeList\nitems:\n- metadata: {name: n2}\n- metadata: {name: n1}\n",
    )]);
    let node = src.resolve_kind("no").unwrap();
    assert!(src.get(&node, None, "n1").unwrap().is_some());
    assert!(src.get(&node, Some("default"), "n1").unwrap().is_some());
    let all = src
        .list(&node, Some("default"), &Selector::everything())
        .unwrap();
    assert_eq!(names_of(&all), ["-/n1", "-/n2"]);
    assert_eq!(
        src.names(&node).unwrap(),
        [(None, "n1".into()), (None, "n2".into())]
    );
}

#[test]
fn missing_folder_and_file_path_are_errors() {
    let d = folder(&[("f.yaml", "a: b\n")]);
    match SnapshotSource::load(&d.path().join("absent")) {
        Err(e @ EvidenceError::SnapshotMissing { .. }) => {
            assert!(e.to_string().contains("absent"), "{e}");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        SnapshotSource::load(&d.path().join("f.yaml")),
        Err(EvidenceError::NotADirectory { .. })
    ));
}

#[test]
fn loading_is_deterministic() {
    let files: Vec<(String, String)> = (0..30)
        .map(|i| {
            (
                format!("d{}/f{i}.yaml", i % 3),
                pod("n", &format!("p{}", i % 10), &[("i", &i.to_string())]),
            )
        })
        .collect();
    let refs: Vec<(&str, &str)> = files
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    let dir = folder(&refs);
    let first = SnapshotSource::load(dir.path()).unwrap();
    for _ in 0..3 {
        let again = SnapshotSource::load(dir.path()).unwrap();
        assert_eq!(again.warnings(), first.warnings());
        let a = again
            .list(&key("v1", "Pod"), None, &Selector::everything())
            .unwrap();
        let b = first
            .list(&key("v1", "Pod"), None, &Selector::everything())
            .unwrap();
        let labels =
            |v: &[Arc<StoredObject>]| v.iter().map(|o| o.json.to_string()).collect::<Vec<_>>();
        assert_eq!(labels(&a), labels(&b));
    }
    // Walk order is sorted path order: d2/f29.yaml is the last word on p9.
    let p9 = first
        .get(&key("v1", "Pod"), Some("n"), "p9")
        .unwrap()
        .unwrap();
    assert_eq!(p9.labels["i"], "29");
}

#[test]
fn every_shared_scenario_loads_cleanly() {
    let root = Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/scenarios"
    ));
    let Ok(entries) = std::fs::read_dir(root) else {
        println!("skipped: no scenario corpus at {}", root.display());
        return;
    };
    let mut dirs: Vec<_> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.join("cluster").is_dir())
        .collect();
    dirs.sort();
    assert!(!dirs.is_empty());
    for dir in dirs {
        let src = SnapshotSource::load(&dir.join("cluster")).unwrap();
        assert_eq!(src.warnings(), &[], "{}", dir.display());
        assert!(src.object_count() > 0, "{}", dir.display());
        let scenario: serde_json::Value =
            serde_yaml_ng::from_str(&std::fs::read_to_string(dir.join("scenario.yaml")).unwrap())
                .unwrap();
        let target = &scenario["target"];
        let kind = src.resolve_kind(target["kind"].as_str().unwrap()).unwrap();
        let ns = target["namespace"].as_str();
        let name = target["name"].as_str().unwrap();
        let obj = src
            .get(&kind, ns, name)
            .unwrap()
            .unwrap_or_else(|| panic!("{}: target {kind} {ns:?}/{name} not found", dir.display()));
        assert_eq!(obj.kind, kind);
        if kind == key("v1", "Pod") {
            let events = src.events_for(&obj.object_ref()).unwrap();
            assert!(
                events
                    .iter()
                    .all(|e| e.value()["involvedObject"]["name"] == name),
                "{}",
                dir.display()
            );
        }
    }
}
