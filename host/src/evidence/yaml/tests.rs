//! The fast path against serde_yaml_ng: each construct, each refusal, malformed input, every
//! document of the real corpora and of the synthetic generator, and thousands of random
//! kubectl-style documents (some of them mangled). The property throughout: `parse_document`
//! is `None` or exactly serde_yaml_ng's value, and `Some` only where serde_yaml_ng succeeds.

use super::parse_document;
use crate::evidence::snapshot::split_yaml_documents;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

fn serde(doc: &str) -> Result<Value, String> {
    serde_yaml_ng::from_str::<Value>(doc).map_err(|e| e.to_string())
}

/// Whether the fast path took `doc`; panics if it answered differently from serde_yaml_ng.
fn check(doc: &str) -> bool {
    match (parse_document(doc), serde(doc)) {
        (None, _) => false,
        (Some(fast), Ok(slow)) => {
            assert_eq!(
                fast, slow,
                "fast path differs from serde_yaml_ng on:\n{doc}"
            );
            true
        }
        (Some(fast), Err(e)) => {
            panic!("fast path gave {fast} where serde_yaml_ng fails ({e}) on:\n{doc}")
        }
    }
}

/// The fast path takes `doc`, with serde_yaml_ng's value; returns it.
#[track_caller]
fn fast(doc: &str) -> Value {
    assert!(check(doc), "fast path refused:\n{doc}");
    parse_document(doc).unwrap()
}

/// The fast path leaves `doc` to serde_yaml_ng.
#[track_caller]
fn refused(doc: &str) {
    assert_eq!(parse_document(doc), None, "fast path took:\n{doc}");
}

#[test]
fn kubectl_list() {
    let doc = r#"apiVersion: v1
items:
- apiVersion: v1
  kind: Pod
  metadata:
    annotations:
      prometheus.io/port: "15020"
      sidecar.istio.io/status: '{"initContainers":["istio-init"],"imagePullSecrets":null}'
    creationTimestamp: "2026-11-14T19:09:10Z"
    labels:
      app: details
    name: details-v1-2qjznr7fl7-cr884
    ownerReferences:
    - apiVersion: apps/v1
      blockOwnerDeletion: true
      controller: true
      kind: ReplicaSet
      name: details-v1-2qjznr7fl7
  spec:
    containers:
    - args:
      - proxy
      - --domain
      - $(POD_NAMESPACE).svc.cluster.local
      env:
      - name: PROXY_CONFIG
        value: |
          {}
      - name: ISTIO_META_POD_PORTS
        value: |-
          [
              {"containerPort":9080,"protocol":"TCP"}
          ]
      resources: {}
      ports: []
    nodeSelector:
    priority: 0
    terminationGracePeriodSeconds: 30
    tolerations:
    - effect: NoExecute
      tolerationSeconds: 300
  status:
    phase: Running
kind: List
metadata:
  resourceVersion: ""
"#;
    let v = fast(doc);
    assert_eq!(
        v["items"][0]["spec"]["containers"][0]["args"][1],
        "--domain"
    );
    assert_eq!(
        v["items"][0]["spec"]["containers"][0]["env"][0]["value"],
        "{}\n"
    );
    assert_eq!(v["items"][0]["spec"]["nodeSelector"], Value::Null);
    assert_eq!(v["items"][0]["spec"]["priority"], 0);
    assert_eq!(v["metadata"]["resourceVersion"], "");
}

#[test]
fn sequences_in_every_position() {
    for doc in [
        "a:\n- 1\n- 2\nb: 3\n",
        "a:\n  - 1\n  - 2\nb: 3\n",
        "- a\n- b\n",
        "- - a\n  - b\n- - c\n",
        "- - - deep\n",
        "- a: 1\n  b:\n  - x\n  - y\n  c: 2\n- d: 3\n",
        "a:\n-\n- x\n-\n",
        "a:\n-\n  b: 1\n- c\n",
        "- \n- x\n",
        "a:\n- b:\n  - c\n  d: e\n",
        "- {}\n- []\n- ''\n- \"\"\n",
        "  a: 1\n  b:\n  - x\n",
        "a: 1\n\n\nb:\n\n- x\n\n- y\n\n",
    ] {
        fast(doc);
    }
}

#[test]
fn scalar_typing_matches_serde_yaml_ng() {
    let plain = [
        "0",
        "-0",
        "+0",
        "00",
        "0123",
        "-0123",
        "+0123",
        "1",
        "+1",
        "-1",
        "++1",
        "+-1",
        "-+1",
        "0x1F",
        "0x1f",
        "0X1F",
        "-0x1F",
        "+0x1F",
        "0x",
        "0x-1",
        "0x+1",
        "-0x-1",
        "0o17",
        "-0o17",
        "0o8",
        "0b101",
        "-0b101",
        "0b2",
        "0b",
        "1_000",
        "1e3",
        "1E3",
        "1e+3",
        "1e-3",
        "1e",
        "e3",
        ".5",
        "-.5",
        "+.5",
        "5.",
        "1.5",
        "-1.5e-3",
        "1e400",
        "-1e400",
        "1e-400",
        "0.0",
        "-0.0",
        ".",
        "..",
        "...",
        ".inf",
        ".Inf",
        ".INF",
        "-.inf",
        "+.inf",
        "-.Inf",
        ".nan",
        ".NaN",
        ".NAN",
        "+.nan",
        "-.nan",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "infinity",
        "Infinity",
        "18446744073709551615",
        "18446744073709551616",
        "-9223372036854775808",
        "-9223372036854775809",
        "9223372036854775807",
        "9223372036854775808",
        "340282366920938463463374607431768211455",
        "340282366920938463463374607431768211456",
        "-170141183460469231731687303715884105729",
        "0xFFFFFFFFFFFFFFFF",
        "0x10000000000000000",
        "0x100000000000000000000000000000000",
        "~",
        "null",
        "Null",
        "NULL",
        "nULL",
        "true",
        "True",
        "TRUE",
        "tRUE",
        "false",
        "False",
        "FALSE",
        "yes",
        "Yes",
        "no",
        "No",
        "on",
        "On",
        "off",
        "y",
        "n",
        "2026-11-24T12:00:00Z",
        "2026-11-24",
        "12:30",
        "1:2:3",
        "1.2.3",
        "10.132.0.20",
        "v1",
        "1Gi",
        "100m",
        "e2-standard-2",
        "-x",
        "--x",
        "a#b",
        "a:b",
        "<<",
        "=",
        "é",
        "日本語",
        "a b  c",
        "1 2",
        "0x1F 2",
    ];
    for s in plain {
        check(&format!("k: {s}\n"));
        check(&format!("- {s}\n"));
        // As keys, plain scalars stay strings.
        check(&format!("{s}: v\n"));
    }
    // A few pinned, so a change in serde_yaml_ng would show here too.
    assert_eq!(fast("k: 0x1F\n")["k"], 31);
    assert_eq!(fast("k: -0o17\n")["k"], -15);
    assert_eq!(fast("k: 0123\n")["k"], "0123");
    assert_eq!(fast("k: 1e3\n")["k"], json!(1000.0));
    assert_eq!(fast("k: .inf\n")["k"], Value::Null);
    assert_eq!(fast("k: 1e400\n")["k"], "1e400");
    assert_eq!(fast("k: yes\n")["k"], "yes");
    assert_eq!(fast("k: ~\n")["k"], Value::Null);
    assert_eq!(
        fast("1: a\ntrue: b\n~: c\n\"2\": d\n"),
        json!({"1": "a", "true": "b", "~": "c", "2": "d"})
    );
    // Integers past 64 bits make serde_json's Value fail: left to serde_yaml_ng, which errs.
    refused("k: 18446744073709551616\n");
    assert!(serde("k: 18446744073709551616\n").is_err());
}

#[test]
fn quoted_scalars() {
    for (doc, want) in [
        (r#"k: "a \"b\" \\ \/ \t\n""#, "a \"b\" \\ / \t\n"),
        (
            r#"k: "\u00e9\x41\U0001F600\N\_\L\P\0\a\b\v\f\r\e\ ""#,
            "éA😀\u{85}\u{a0}\u{2028}\u{2029}\0\u{7}\u{8}\u{b}\u{c}\r\u{1b} ",
        ),
        ("k: \"a\\\tb\"", "a\tb"),
        ("k: ''''", "'"),
        ("k: 'it''s'", "it's"),
        ("k: ''", ""),
        ("k: \"\"", ""),
        ("k: 'a # b: c'", "a # b: c"),
        ("k: \"x\"   \n", "x"),
        ("k: '\u{e9}\t'", "é\t"),
    ] {
        assert_eq!(fast(doc)["k"], want, "{doc}");
    }
    // Wrapped the way go-yaml wraps at 80 columns: folded lines, escaped spaces, escaped breaks,
    // blank lines for line feeds.
    for (doc, want) in [
        ("k: \"aaa bbb\n  ccc\"\n", "aaa bbb ccc"),
        ("k: \"aaa bbb   \n  ccc\"\n", "aaa bbb ccc"),
        ("k: \"aaa\n  \\ ccc\"\n", "aaa  ccc"),
        ("k: \"aaa\\\n  ccc\"\n", "aaaccc"),
        ("k: \"aaa \\\n  \\ ccc\"\n", "aaa  ccc"),
        ("k: \"aaa\n\n  ccc\"\n", "aaa\nccc"),
        ("k: \"aaa\n  \n\n  ccc\"\n", "aaa\n\nccc"),
        ("k: \"aaa\\\n\n  ccc\"\n", "aaa\nccc"),
        ("k: \"a\\t\n  b\"\n", "a\t b"),
        ("k: \"a\\ \n  b\"\n", "a  b"),
        ("k: 'aaa bbb\n  ccc'\n", "aaa bbb ccc"),
        ("k: 'aaa\n\n  ccc'\n", "aaa\nccc"),
        ("k: 'a''\n  b'\n", "a' b"),
        ("- \"aaa\n  bbb\"\n", ""),
        ("k: \"\n  x\"\n", " x"),
        ("k: \"x\n  \"\n", "x "),
    ] {
        let v = fast(doc);
        if !want.is_empty() {
            assert_eq!(v["k"], want, "{doc}");
        }
    }
    assert_eq!(fast("\"a b\": 1\n'c''d': 2\n"), json!({"a b": 1, "c'd": 2}));
    assert_eq!(
        fast("- \"k\": v\n  'l': w\n"),
        json!([{"k": "v", "l": "w"}])
    );
}

#[test]
fn literal_blocks() {
    for (doc, want) in [
        ("k: |\n  a\n  b\n", "a\nb\n"),
        ("k: |-\n  a\n  b\n", "a\nb"),
        ("k: |+\n  a\n  b\n\n\n", "a\nb\n\n\n"),
        ("k: |\n  a\n\n\n", "a\n"),
        ("k: |-\n  a\n\n\n", "a"),
        ("k: |\n  a\n\n  b\n", "a\n\nb\n"),
        ("k: |\n  a\n    b\n  c\n", "a\n  b\nc\n"),
        ("k: |\n  a\n      \n  b\n", "a\n    \nb\n"),
        ("k: |\n\n  a\n", "\na\n"),
        (
            "k: |\n  # not a comment\n  x: y\n  - z\n",
            "# not a comment\nx: y\n- z\n",
        ),
        ("k: |\n  a\tb\n  \tc\n", "a\tb\n\tc\n"),
        ("k: |2\n   a\n  b\n", " a\nb\n"),
        ("k: |1-\n  a\n", " a"),
        ("k: |-2\n   a\n", " a"),
        ("k: |\n  a", "a"),
        ("k: |+\n  a", "a"),
        ("k: |  \n  a\n", "a\n"),
    ] {
        assert_eq!(fast(doc)["k"], want, "{doc}");
    }
    assert_eq!(fast("- |\n  a\n- |-\n  b\n"), json!(["a\n", "b"]));
    assert_eq!(fast("a:\n- |\n  x\nb: 1\n"), json!({"a": ["x\n"], "b": 1}));
    assert_eq!(
        fast("- k: |\n    x\n  l: 1\n"),
        json!([{"k": "x\n", "l": 1}])
    );
}

#[test]
fn wrapped_plain_scalars() {
    for (doc, want) in [
        ("k: aaa bbb\n  ccc\nl: 1\n", "aaa bbb ccc"),
        ("k: aaa\n  bbb\n\n  ccc\n", "aaa bbb\nccc"),
        ("- aaa\n  bbb\n", ""),
        ("k: 1\n  2\n", "1 2"),
        ("k: aaa  \n    bbb  \n", "aaa bbb"),
    ] {
        let v = fast(doc);
        if !want.is_empty() {
            assert_eq!(v["k"], want, "{doc}");
        }
    }
}

#[test]
fn comments() {
    let doc = concat!(
        "# head\n",
        "\n",
        "a: 1 # one\n",
        "  # indented\n",
        "b: # nothing here\n",
        "  # more\n",
        "  c: 'x' # quoted\n",
        "# col 0\n",
        "  d: |- # header\n",
        "    # text\n",
        "  # ends the block\n",
        "e:\n",
        "- # dash\n",
        "  f: [1, 2] # flow\n",
        "- g # plain\n",
        "-   h#i\n",
        "# tail\n",
    );
    assert_eq!(
        fast(doc),
        json!({"a": 1, "b": {"c": "x", "d": "# text"}, "e": [{"f": [1, 2]}, "g", "h#i"]})
    );
    // A comment ends a wrapped plain scalar.
    assert_eq!(fast("a: x\n  y\n  # z\nb: 1\n")["a"], "x y");
    assert_eq!(fast("a: x\n  y # z\nb: 1\n")["a"], "x y");
}

#[test]
fn flow_collections_on_one_line() {
    for (doc, want) in [
        ("a: {}\n", json!({})),
        ("a: { }\n", json!({})),
        ("a: []\n", json!([])),
        ("a: [ ]\n", json!([])),
        (
            "a: {app: x, tier: web}\n",
            json!({"app": "x", "tier": "web"}),
        ),
        (
            "a: {app: x,tier: web,}\n",
            json!({"app": "x", "tier": "web"}),
        ),
        (
            "a: { \"k\": 'v', 'l''m': \"\\t\" }\n",
            json!({"k": "v", "l'm": "\t"}),
        ),
        (
            "a: {n: 1, f: 1.5, b: true, z: ~, e: , s: a b}\n",
            json!({"n": 1, "f": 1.5, "b": true, "z": null, "e": null, "s": "a b"}),
        ),
        (
            "a: [1, -2, 0x1F, .inf, yes, \"q\", 'r', a b, c:d, -e]\n",
            json!([1, -2, 31, null, "yes", "q", "r", "a b", "c:d", "-e"]),
        ),
        (
            "a: [[], {}, [1, [2]], {b: [3]}]\n",
            json!([[], {}, [1, [2]], {"b": [3]}]),
        ),
        ("a: [x, ]\n", json!(["x"])),
        (
            "a: {image: nginx:1.2, url: http://x/y}\n",
            json!({"image": "nginx:1.2", "url": "http://x/y"}),
        ),
    ] {
        assert_eq!(fast(doc)["a"], want, "{doc}");
    }
    assert_eq!(fast("- {a: 1}\n- [b]\n"), json!([{"a": 1}, ["b"]]));
}

#[test]
fn duplicate_keys_keep_the_last_value() {
    assert_eq!(fast("a: 1\nb: 2\na: 3\n"), json!({"a": 3, "b": 2}));
}

#[test]
fn unsupported_constructs_are_refused() {
    for doc in [
        "a: &x 1\nb: *x\n",
        "a: !!str 1\n",
        "a: !foo x\n",
        "? a\n: b\n",
        "a: {b}\n",
        "a: {\"b\":1}\n",
        "a: [b: 1]\n",
        "a: [1,\n  2]\n",
        "a: {b: 1\n  }\n",
        "a: [?x]\n",
        "a: [:x]\n",
        "a: [x #y]\n",
        "a: [x]y\n",
        "a: [x]: y\n",
        "a: [x\ty]\n",
        "a: >\n  folded\n",
        "%YAML 1.2\na: 1\n",
        "a:\n\tb: 1\n",
        "a:\t1\n",
        "a: x\tb\n",
        "a: 1\r\nb: 2\r\n",
        "a: 1\n b: 2\n",
        "a:\n  b: 1\n c: 2\n",
        "a: b: c\n",
        "a: b:\n",
        "a: - b\n",
        "- a\nb: 1\n",
        "a: 1\n- b\n",
        "plain scalar\n",
        "\"quoted\"\n",
        "[]\n",
        "{}\n",
        "a: |\n",
        "a: |\nb: 1\n",
        "a: |0\n  x\n",
        "a: | x\n  y\n",
        "a: |\n     \n  x\n",
        "a: '\u{85}'\n",
        "a: \"\u{2028}\"\n",
        "a: \u{feff}x\n",
        "a: \u{7f}\n",
        "a: \u{1}\n",
        "a: \"\\q\"\n",
        "a: \"\\uD800\"\n",
        "a: \"\\U00110000\"\n",
        "a: \"\\x4\"\n",
        "\"a\nb\": 1\n",
        "a : 1\n",
        ": 1\n",
        "a: 1\n: 2\n",
        "a: @x\n",
        "a: `x\n",
        "a: \"x\" y\n",
        "a: \"x\n",
        "a: 'x\n",
        "a: \"x\ny\"\n",
        "a:\n  - \"x\n  y\"\n",
        "a: x\n  # y\n  z\n",
        "a: x\n  y: z\n",
        "a: x # y\n  z\n",
        "",
        "\n\n",
        "--- a: 1\n",
        "a: 1\n...\n",
        "a:\n--- b\n",
    ] {
        refused(doc);
    }
    let long_key = "k".repeat(1025);
    refused(&format!("{long_key}: 1\n"));
    fast(&format!("{}: 1\n", "k".repeat(1000)));
}

#[test]
fn malformed_input_never_panics() {
    let doc = concat!(
        "apiVersion: v1\n",
        "items:\n",
        "- a: \"x\\u00e9 y\n",
        "    z\"\n",
        "  b: |-\n",
        "    l1\n",
        "\n",
        "    l2\n",
        "  c:\n",
        "  - 'q''r'\n",
        "  - - 0x1F\n",
        "    - .inf\n",
        "kind: List\n",
    );
    fast(doc);
    // Every prefix (truncated documents), and every prefix with the rest shifted by a space.
    for (i, _) in doc.char_indices() {
        check(&doc[..i]);
        check(&format!("{} {}", &doc[..i], &doc[i..]));
        check(&format!("{}{}", &doc[..i], &doc[i..].replacen(' ', "", 1)));
    }
    // Unterminated quotes and escapes at the very end.
    for doc in [
        "a: \"",
        "a: '",
        "a: \"\\",
        "a: \"\\u12",
        "a: 'x''",
        "a: |",
        "a: |-\n",
        "- ",
        "-",
    ] {
        check(doc);
    }
    // Nesting far past the limit: refused without exhausting the stack.
    let deep_seq = format!("{}x\n", "- ".repeat(10_000));
    refused(&deep_seq);
    let mut deep_map = String::new();
    for d in 0..10_000 {
        deep_map.push_str(&" ".repeat(d));
        deep_map.push_str("a:\n");
    }
    refused(&deep_map);
    // Within the limit, nesting is fine.
    let mut ok = String::new();
    for d in 0..60 {
        ok.push_str(&" ".repeat(d * 2));
        ok.push_str("a:\n");
    }
    ok.push_str(&" ".repeat(120));
    ok.push_str("b: 1\n");
    fast(&ok);
}

// ---- The corpora ----

/// Documents of every YAML file under `dir`, in sorted path order.
fn corpus_documents(dir: &Path) -> Vec<(PathBuf, usize, String)> {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        let mut paths: Vec<PathBuf> = entries.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for p in paths {
            if p.is_dir() {
                walk(&p, files);
            } else if p
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
            {
                files.push(p);
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    let mut docs = Vec::new();
    for f in files {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
        for (i, chunk) in split_yaml_documents(text) {
            docs.push((f.clone(), i, chunk.to_string()));
        }
    }
    docs
}

/// Checks every document under `dir`; returns (documents, taken by the fast path), printing
/// those left to serde_yaml_ng.
fn differential(dir: &Path) -> (usize, usize) {
    let docs = corpus_documents(dir);
    let mut taken = 0;
    for (file, i, doc) in &docs {
        if check(doc) {
            taken += 1;
        } else {
            println!("  fallback: {} (document {i})", file.display());
        }
    }
    (docs.len(), taken)
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared");
    if p.is_dir() {
        Some(p)
    } else {
        println!("NOTE: ../shared is absent; the public corpus is not checked");
        None
    }
}

#[test]
fn real_corpora_agree_with_serde_yaml_ng() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut dirs = vec![
        root.join("examples"),
        root.join("tests/scenarios"),
        root.join("deploy"),
    ];
    if let Some(shared) = shared() {
        dirs.push(shared.join("scenarios"));
        dirs.push(shared.join("k8s-data"));
    }
    for dir in dirs {
        let (docs, taken) = differential(&dir);
        println!(
            "{}: {taken}/{docs} documents on the fast path",
            dir.display()
        );
    }
}

#[test]
fn kubectl_corpora_take_the_fast_path() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut scenario_roots = vec![root.join("examples"), root.join("tests/scenarios")];
    if let Some(shared) = shared() {
        scenario_roots.push(shared.join("scenarios"));
    }
    for scenarios in scenario_roots {
        let Ok(entries) = std::fs::read_dir(&scenarios) else {
            continue;
        };
        let (mut docs, mut taken) = (0, 0);
        for e in entries.flatten() {
            let cluster = e.path().join("cluster");
            if cluster.is_dir() {
                let (d, t) = differential(&cluster);
                docs += d;
                taken += t;
            }
        }
        println!(
            "{}/*/cluster: {taken}/{docs} documents on the fast path",
            scenarios.display()
        );
        assert!(
            taken * 100 >= docs * 95,
            "{}: only {taken} of {docs} documents on the fast path",
            scenarios.display()
        );
    }
}

#[test]
fn synthetic_snapshots_all_take_the_fast_path() {
    use skillbox_synth::{Config, Format, generate};
    for seed in [1, 2, 3] {
        let snapshot = generate(
            &Config {
                objects: 2000,
                seed,
            },
            Format::Yaml,
        )
        .unwrap();
        let mut docs = 0;
        for file in &snapshot.files {
            if !file.path.ends_with(".yaml") {
                continue;
            }
            for (i, doc) in split_yaml_documents(&file.text) {
                docs += 1;
                assert!(
                    check(doc),
                    "seed {seed}: {} (document {i}) left the fast path",
                    file.path
                );
            }
        }
        assert!(docs > 0);
    }
}

// ---- Random kubectl-style documents ----

/// SplitMix64: small, and the same sequence on every platform and crate version.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn chance(&mut self, percent: usize) -> bool {
        self.below(100) < percent
    }

    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

/// Plain scalars of every type and many that only look typed.
const PLAIN: &[&str] = &[
    "0",
    "-0",
    "+0",
    "00",
    "0123",
    "1",
    "+1",
    "-1",
    "42",
    "0x1F",
    "0X1F",
    "-0x1F",
    "0x",
    "0o17",
    "0o8",
    "0b101",
    "1_000",
    "1e3",
    "1E3",
    "1e+3",
    "1e",
    ".5",
    "-.5",
    "5.",
    "1.5",
    "1e400",
    "1e-400",
    "-0.0",
    ".",
    "...",
    ".inf",
    "-.Inf",
    "+.inf",
    ".nan",
    ".NaN",
    "+.nan",
    "inf",
    "nan",
    "Infinity",
    "18446744073709551615",
    "-9223372036854775808",
    "9223372036854775808",
    "~",
    "null",
    "Null",
    "NULL",
    "nUll",
    "true",
    "True",
    "TRUE",
    "false",
    "FALSE",
    "yes",
    "No",
    "On",
    "off",
    "y",
    "2026-11-24T12:00:00Z",
    "12:30",
    "10.0.0.1",
    "v1",
    "1Gi",
    "100m",
    "-x",
    "--x",
    "a#b",
    "a:b",
    "http://x.y:80/z",
    "<<",
    "=",
    "é",
    "日本語",
    "a b",
    "a  b",
    "x-y_z.w",
    "$(POD_NAMESPACE)",
    "a'b",
    "a\"b",
    "a]",
    "a}",
    "a,b",
    "a|b",
    "a>b",
    "a@b",
    "a%b",
    "a!b",
    "a&b",
    "a*b",
    "a?",
    "a:",
    "a #b",
    "?",
    "?x",
    ":x",
    "-",
    "- x",
];

/// Keys, plain and quoted.
const KEYS: &[&str] = &[
    "a",
    "b",
    "name",
    "apiVersion",
    "kind",
    "metadata",
    "x.y/z",
    "1",
    "0x1F",
    "true",
    "~",
    "?q",
    ":c",
    "a?",
    "a]",
    "a,b",
    "null",
    "<<",
    "-k",
    "k-",
    "a b",
    "k:v",
    "\"1\"",
    "\"true\"",
    "\"a: b\"",
    "\"\"",
    "''",
    "'x''y'",
    "\"\\u00e9\"",
    "\"\\t\"",
    "é",
    "\"n\"",
    "'on'",
];

/// Quoted scalars, well-formed or not.
const QUOTED: &[&str] = &[
    "\"\"",
    "''",
    "''''",
    "'it''s'",
    "\"\\u00e9\"",
    "\"\\x41\"",
    "\"\\U0001F600\"",
    "\"\\t\"",
    "\"\\\\\"",
    "\"\\\"\"",
    "\"\\/\"",
    "\"\\N\\_\\L\\P\"",
    "\"\\0\"",
    "\"\\e\"",
    "\"a\\ b\"",
    "\"\\uD800\"",
    "\"\\q\"",
    "\"15020\"",
    "\"true\"",
    "'a: b'",
    "'a # b'",
    "\"2026-11-24T12:00:00Z\"",
    "\"*\"",
    "\"\\u00\"",
    "'unterminated",
    "\"unterminated",
];

const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "x",
    "longerword",
    "0",
    "a'b",
    "c\"d",
    "é",
    "#",
    ":",
    "-",
    "e\\f",
    "true",
];

fn words(rng: &mut Rng, n: usize) -> Vec<String> {
    (0..n).map(|_| rng.pick(WORDS).to_string()).collect()
}

fn indent(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// A long string wrapped over lines the way go-yaml does (or a little differently), with its
/// continuation lines indented to `ind`.
fn wrapped(rng: &mut Rng, out: &mut String, ind: usize) {
    let n = 2 + rng.below(12);
    let ws = words(rng, n);
    match rng.below(3) {
        0 => {
            out.push('"');
            for (i, w) in ws.iter().enumerate() {
                let w = w.replace('\\', "\\\\").replace('"', "\\\"");
                if i > 0 {
                    // What precedes a break: blanks the break drops, escapes it keeps.
                    if rng.chance(15) {
                        out.push_str(
                            rng.pick(&["  ", "\t", " \t ", "\\t", "\\ ", "\\t  ", "\\x20"]),
                        );
                    }
                    match rng.below(6) {
                        0 => {
                            out.push('\n');
                            indent(out, ind);
                        }
                        1 => {
                            out.push('\n');
                            indent(out, ind);
                            out.push_str("\\ ");
                        }
                        2 => {
                            out.push_str("\\\n");
                            indent(out, ind);
                        }
                        3 => {
                            out.push_str("\n\n");
                            indent(out, ind);
                        }
                        4 => out.push_str(" \\n"),
                        _ => out.push(' '),
                    }
                }
                out.push_str(&w);
            }
            out.push('"');
        }
        1 => {
            out.push('\'');
            for (i, w) in ws.iter().enumerate() {
                if i > 0 {
                    if rng.chance(15) {
                        out.push_str(rng.pick(&["  ", "\t", "''", " '' "]));
                    }
                    match rng.below(4) {
                        0 => {
                            out.push('\n');
                            indent(out, ind);
                        }
                        1 => {
                            out.push_str("\n\n");
                            indent(out, ind);
                        }
                        _ => out.push(' '),
                    }
                }
                out.push_str(&w.replace('\'', "''"));
            }
            out.push('\'');
        }
        _ => {
            // Plain, wrapped at spaces. Continuation lines may start with indicators, which
            // libyaml reads as text there.
            out.push_str("plain");
            let tokens: Vec<&str> = (0..n)
                .map(|_| {
                    rng.pick(&[
                        "word", "0x1F", "`x`", "&a", "*b", "-", "- c", "'q'", "\"d\"", "[e]",
                        "{f}", "!g", "%h", "@i", "|", ">", "?", "?l", ":m", ",n", "#o", "p:",
                        "q:r", "s #t", "é", "~",
                    ])
                })
                .collect();
            for w in tokens {
                if rng.chance(30) {
                    out.push('\n');
                    if rng.chance(20) {
                        out.push('\n');
                    }
                    indent(out, ind);
                } else {
                    out.push(' ');
                }
                out.push_str(w);
            }
        }
    }
}

/// ` |…` and a literal block's lines at `ind`.
fn literal(rng: &mut Rng, out: &mut String, ind: usize) {
    out.push_str(rng.pick(&[" |", " |-", " |+", " |2", " |1-", " |+2", " |  "]));
    out.push('\n');
    if rng.chance(10) {
        out.push('\n');
    }
    for _ in 0..1 + rng.below(4) {
        if rng.chance(15) {
            out.push('\n');
            continue;
        }
        indent(out, ind);
        if rng.chance(20) {
            out.push_str("  ");
        }
        let n = 1 + rng.below(4);
        out.push_str(&words(rng, n).join(" "));
        out.push('\n');
    }
    for _ in 0..rng.below(3) {
        if rng.chance(50) {
            indent(out, rng.below(ind + 3));
        }
        out.push('\n');
    }
}

/// A flow collection on one line, of scalars that may or may not be valid there.
fn flow(rng: &mut Rng, out: &mut String, depth: usize) {
    let is_map = rng.chance(50);
    out.push(if is_map { '{' } else { '[' });
    if rng.chance(20) {
        out.push(' ');
    }
    let n = rng.below(4);
    for i in 0..n {
        if i > 0 {
            out.push_str(rng.pick(&[", ", ",", " , "]));
        }
        if is_map {
            out.push_str(rng.pick(KEYS));
            out.push_str(rng.pick(&[": ", ": ", ": ", ":", " : "]));
        }
        match rng.below(if depth > 3 { 3 } else { 4 }) {
            0 | 1 => out.push_str(rng.pick(PLAIN)),
            2 => out.push_str(rng.pick(QUOTED)),
            _ => flow(rng, out, depth + 1),
        }
    }
    if n > 0 && rng.chance(15) {
        out.push(',');
    }
    out.push(if is_map { '}' } else { ']' });
}

/// Ends a line, now and then with a comment.
fn eol(rng: &mut Rng, out: &mut String) {
    if rng.chance(8) {
        out.push_str(rng.pick(&[" # note", "  #", " #: x", "#glued"]));
    }
    out.push('\n');
    if rng.chance(4) {
        indent(out, rng.below(8));
        out.push_str("# a comment line\n");
    }
}

/// What follows `key:` (or `- `) on its line, then any lines below, for a node whose
/// collection is at column `ind`.
fn value(rng: &mut Rng, out: &mut String, ind: usize, depth: usize, in_seq: bool) {
    let choice = if depth > 4 {
        rng.below(7)
    } else {
        rng.below(11)
    };
    match choice {
        0 | 1 => {
            out.push(' ');
            out.push_str(rng.pick(PLAIN));
            eol(rng, out);
        }
        2 => {
            out.push(' ');
            out.push_str(rng.pick(QUOTED));
            eol(rng, out);
        }
        3 => {
            out.push(' ');
            wrapped(rng, out, ind + 2);
            eol(rng, out);
        }
        4 => {
            literal(rng, out, ind + 2);
        }
        5 => {
            out.push_str(rng.pick(&["", " {}", " []", " ", " ''"]));
            eol(rng, out);
        }
        6 => {
            out.push(' ');
            flow(rng, out, 0);
            eol(rng, out);
        }
        7 | 8 => {
            eol(rng, out);
            mapping(rng, out, ind + 2, depth + 1, false);
        }
        _ => {
            eol(rng, out);
            // kubectl's sequences sit at their key's column; other writers indent them.
            let seq_ind = if in_seq || rng.chance(30) {
                ind + 2
            } else {
                ind
            };
            sequence(rng, out, seq_ind, depth + 1, false);
        }
    }
}

fn mapping(rng: &mut Rng, out: &mut String, ind: usize, depth: usize, first_inline: bool) {
    for i in 0..1 + rng.below(4) {
        if i > 0 || !first_inline {
            indent(out, ind);
        }
        out.push_str(rng.pick(KEYS));
        out.push(':');
        value(rng, out, ind, depth, false);
    }
}

fn sequence(rng: &mut Rng, out: &mut String, ind: usize, depth: usize, first_inline: bool) {
    for i in 0..1 + rng.below(4) {
        if i > 0 || !first_inline {
            indent(out, ind);
        }
        out.push('-');
        match rng.below(if depth > 4 { 2 } else { 5 }) {
            0 | 1 => value(rng, out, ind, depth, true),
            2 | 3 => {
                out.push(' ');
                mapping(rng, out, ind + 2, depth + 1, true);
            }
            _ => {
                out.push(' ');
                sequence(rng, out, ind + 2, depth + 1, true);
            }
        }
    }
}

/// A random document: a mapping (or now and then a sequence) in kubectl's style.
fn random_document(rng: &mut Rng) -> String {
    let mut out = String::new();
    let ind = if rng.chance(5) { 1 + rng.below(3) } else { 0 };
    if rng.chance(85) {
        indent(&mut out, ind);
        mapping(rng, &mut out, ind, 0, true);
    } else {
        indent(&mut out, ind);
        sequence(rng, &mut out, ind, 0, true);
    }
    out
}

/// Damages a document a little: a character dropped, inserted or repeated, a line's
/// indentation changed, a line repeated.
fn mangle(rng: &mut Rng, doc: &str) -> String {
    let mut chars: Vec<char> = doc.chars().collect();
    for _ in 0..1 + rng.below(3) {
        if chars.is_empty() {
            break;
        }
        let at = rng.below(chars.len());
        match rng.below(5) {
            4 => {
                // Repeat the line holding `at` (a duplicate key, an extra item, a longer block).
                let start = chars[..at]
                    .iter()
                    .rposition(|&c| c == '\n')
                    .map_or(0, |p| p + 1);
                let end = chars[at..]
                    .iter()
                    .position(|&c| c == '\n')
                    .map_or(chars.len(), |p| at + p + 1);
                let line: Vec<char> = chars[start..end].to_vec();
                chars.splice(end..end, line);
            }
            0 => {
                chars.remove(at);
            }
            1 => {
                let c = [
                    ' ', '\n', ':', '-', '#', '"', '\'', '\t', '|', '\\', 'x', '{', '}', '[', ']',
                    '&', '*', '!', '?', '>', '0', '.', '\r', '\u{85}', 'é',
                ][rng.below(25)];
                chars.insert(at, c);
            }
            2 => {
                let c = chars[at];
                chars.insert(at, c);
            }
            _ => {
                // Shift the line holding `at` by a space either way.
                let start = chars[..at]
                    .iter()
                    .rposition(|&c| c == '\n')
                    .map_or(0, |p| p + 1);
                if chars.get(start) == Some(&' ') && rng.chance(50) {
                    chars.remove(start);
                } else {
                    chars.insert(start, ' ');
                }
            }
        }
    }
    chars.into_iter().collect()
}

#[test]
fn random_documents_agree_with_serde_yaml_ng() {
    // YAML_RANDOM_CASES and YAML_RANDOM_SEED run a longer or different hunt by hand.
    let env = |name: &str, default: u64| {
        std::env::var(name)
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let mut rng = Rng(env("YAML_RANDOM_SEED", 0x005E_ED0F_5EED));
    let (mut whole, mut whole_taken) = (0, 0);
    let (mut mangled, mut mangled_taken) = (0, 0);
    for _ in 0..env("YAML_RANDOM_CASES", 10_000) {
        let doc = random_document(&mut rng);
        whole += 1;
        if check(&doc) {
            whole_taken += 1;
        }
        let bad = mangle(&mut rng, &doc);
        mangled += 1;
        if check(&bad) {
            mangled_taken += 1;
        }
    }
    println!("random: {whole_taken}/{whole} documents on the fast path");
    println!("mangled: {mangled_taken}/{mangled} documents on the fast path");
    // The generator is meant to exercise the fast path, not only its refusals.
    assert!(whole_taken * 100 >= whole * 30, "{whole_taken}/{whole}");
    assert!(
        mangled_taken * 100 >= mangled * 10,
        "{mangled_taken}/{mangled}"
    );
}
