//! `crdgen`: writes skillbox's CustomResourceDefinitions as YAML, one file per CRD, into the
//! folder given (default `deploy/crds`). `crds/tests/crdgen.rs` fails when the checked-in files
//! differ from what this prints, so regenerate after changing a type:
//! `cargo run -p skillbox-crds --bin crdgen`.

use std::path::PathBuf;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../deploy/crds"));
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("error: cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    for (file, yaml) in skillbox_crds::crd_files() {
        let path = dir.join(&file);
        if let Err(e) = std::fs::write(&path, yaml) {
            eprintln!("error: cannot write {}: {e}", path.display());
            std::process::exit(1);
        }
        println!("{}", path.display());
    }
}
