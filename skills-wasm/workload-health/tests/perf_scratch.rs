use skillbox_guest::testing::Fixture;
use std::time::Instant;
#[test]
fn perf() {
    for (sc, kind, ns, name) in [
        (
            "workload-image-pull",
            "Deployment",
            "bookinfo",
            "ratings-v1",
        ),
        (
            "workload-crashloop",
            "Pod",
            "bookinfo",
            "reviews-v2-cxplld9gj5-pkmth",
        ),
    ] {
        let f = Fixture::from_snapshot_dir(format!("/work/shared/scenarios/{sc}/cluster")).unwrap();
        let mut v = vec![];
        for _ in 0..300 {
            let t = Instant::now();
            let o = f
                .investigate::<workload_health::WorkloadHealth>(kind, Some(ns), name)
                .unwrap();
            std::hint::black_box(o);
            v.push(t.elapsed().as_micros());
        }
        v.sort();
        println!("{sc}: native p50 {} us", v[150]);
    }
}
