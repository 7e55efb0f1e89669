//! Determinism and exact sizes: the same config gives byte-identical files, another seed gives
//! other files, and every size gets exactly the objects asked for (counted by parsing the
//! files, not by trusting the generator's own tally). Also how the writer treats its folder.

use serde_json::Value;
use skillbox_synth::{
    Config, Format, PLANTED_FILE, SNAPSHOT_DIR, Snapshot, SynthError, minimum_objects,
};

fn generate(objects: usize, seed: u64, format: Format) -> Snapshot {
    Snapshot::generate(&Config { objects, seed }, format).expect("generate")
}

/// Objects in the snapshot, counted by parsing every object file (a `kind: List` each).
fn count(s: &Snapshot) -> usize {
    s.files
        .iter()
        .filter(|f| !f.path.ends_with(".log"))
        .map(|f| {
            let v: Value = match s.format {
                Format::Json => serde_json::from_str(&f.text).unwrap(),
                Format::Yaml => serde_yaml_ng::from_str(&f.text).unwrap(),
            };
            assert_eq!(v["kind"], "List", "{}", f.path);
            v["items"].as_array().map_or(0, Vec::len)
        })
        .sum()
}

#[test]
fn the_same_config_gives_byte_identical_files() {
    let a = generate(1_500, 7, Format::Yaml);
    let b = generate(1_500, 7, Format::Yaml);
    assert_eq!(a.files, b.files);
    assert_eq!(a.planted, b.planted);
    assert_eq!(a.healthy, b.healthy);
    assert_eq!(a.planted_json(), b.planted_json());

    // Another seed moves every random choice: hardly a file stays the same.
    let c = generate(1_500, 8, Format::Yaml);
    assert_ne!(a.files, c.files);
    let same = a
        .files
        .iter()
        .zip(&c.files)
        .filter(|(x, y)| x.path == y.path && x.text == y.text)
        .count();
    assert!(
        same < a.files.len() / 10,
        "{same} of {} files identical",
        a.files.len()
    );
}

#[test]
fn every_size_gets_exactly_the_objects_asked_for() {
    let min = minimum_objects();
    for objects in [min, min + 1, 500, 999, 1_000, 2_345, 10_000] {
        let s = generate(objects, 3, Format::Json);
        assert_eq!(s.objects, objects);
        assert_eq!(count(&s), objects, "{objects} objects");
    }
    let s = generate(1_000, 3, Format::Yaml);
    assert_eq!(count(&s), 1_000);
}

#[test]
fn yaml_and_json_hold_the_same_objects() {
    let y = generate(800, 5, Format::Yaml);
    let j = generate(800, 5, Format::Json);
    assert_eq!(y.files.len(), j.files.len());
    for (a, b) in y.files.iter().zip(&j.files) {
        if a.path.ends_with(".log") {
            assert_eq!(a, b);
            continue;
        }
        let va: Value = serde_yaml_ng::from_str(&a.text).unwrap();
        let vb: Value = serde_json::from_str(&b.text).unwrap();
        assert_eq!(va, vb, "{} vs {}", a.path, b.path);
    }
}

#[test]
fn pods_are_realistically_large_and_the_100k_budget_holds() {
    let s = generate(2_000, 11, Format::Yaml);
    let pods: Vec<&str> = s
        .files
        .iter()
        .filter(|f| f.path.ends_with("/pods.yaml") && f.path.starts_with("bookinfo-"))
        .map(|f| f.text.as_str())
        .collect();
    let n: usize = pods
        .iter()
        .map(|t| t.matches("\n  kind: Pod\n").count())
        .sum();
    let bytes: usize = pods.iter().map(|t| t.len()).sum();
    let per_pod = bytes / n;
    assert!(
        (6_000..16_000).contains(&per_pod),
        "{per_pod} bytes per pod"
    );
    // Scaled to 100k objects the snapshot stays well under 400 MB.
    let projected = s.bytes() as f64 * 100_000.0 / 2_000.0;
    assert!(projected < 400e6, "{projected} bytes projected at 100k");
}

#[test]
fn the_writer_refuses_a_non_empty_folder_and_writes_planted_json() {
    let s = generate(minimum_objects(), 1, Format::Yaml);
    let dir = tempfile::tempdir().unwrap();

    let file = dir.path().join("a-file");
    std::fs::write(&file, "x").unwrap();
    assert!(matches!(s.write(&file), Err(SynthError::NotAFolder { .. })));
    let e = s.write(dir.path()).unwrap_err();
    assert!(matches!(e, SynthError::NotEmpty { .. }), "{e}");
    assert!(e.to_string().contains("not empty"), "{e}");

    let out = dir.path().join("new/nested");
    let w = s.write(&out).unwrap();
    assert_eq!(w.files, s.files.len() + 1);
    assert!(out.join(SNAPSHOT_DIR).join("namespaces.yaml").is_file());
    let planted: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join(PLANTED_FILE)).unwrap()).unwrap();
    assert_eq!(planted["snapshot"], SNAPSHOT_DIR);
    assert_eq!(
        planted["planted"][0]["codes"][0],
        "rootsync.knv2009.forbidden"
    );
    // A second write into the now-populated folder is refused too.
    assert!(matches!(s.write(&out), Err(SynthError::NotEmpty { .. })));

    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    s.write(&empty).unwrap();
}

#[test]
fn a_snapshot_with_an_escaping_path_is_not_written() {
    let mut s = generate(minimum_objects(), 1, Format::Yaml);
    s.files[0].path = "../escape.yaml".into();
    let dir = tempfile::tempdir().unwrap();
    let e = s.write(&dir.path().join("out")).unwrap_err();
    assert!(matches!(e, SynthError::BadPath { .. }), "{e}");
}
