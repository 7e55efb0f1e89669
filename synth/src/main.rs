//! `synth`: writes a synthetic cluster snapshot with planted failures for benchmarks.
//!
//! ```text
//! synth --objects 100000 --seed 1 --out DIR [--format yaml|json]
//! ```
//! Exit status 0 when written, 1 when it could not be (the message says why), 2 on bad usage.

use skillbox_synth::{Config, Format, Snapshot};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

const USAGE: &str = "usage: synth --objects N --seed S --out DIR [--format yaml|json]

Writes a snapshot of exactly N Kubernetes objects (Bookinfo-like namespaces on Istio, a RootSync,
planted failures) to DIR/cluster, and what is broken to DIR/planted.json. DIR must be new or empty.
The same N and S always give byte-identical files.";

/// Why the command line could not be understood.
#[derive(Debug, thiserror::Error)]
enum UsageError {
    #[error("unknown argument {0:?}")]
    Unknown(String),
    #[error("{0} needs a value")]
    Missing(&'static str),
    #[error("{flag} must be a non-negative integer, not {value:?}")]
    NotANumber { flag: &'static str, value: String },
    #[error("{0} is required")]
    Required(&'static str),
    #[error("{0}")]
    Format(#[from] skillbox_synth::SynthError),
}

struct Args {
    config: Config,
    out: PathBuf,
    format: Format,
}

/// Parses an integer, allowing `_` separators (`100_000`).
fn number<T: std::str::FromStr>(flag: &'static str, value: &str) -> Result<T, UsageError> {
    value
        .replace('_', "")
        .parse()
        .map_err(|_| UsageError::NotANumber {
            flag,
            value: value.to_string(),
        })
}

/// `Ok(None)` for `--help`.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Option<Args>, UsageError> {
    let (mut objects, mut seed, mut out, mut format) = (None, None, None, Format::default());
    let mut it = args.into_iter();
    while let Some(arg) = it.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f.to_string(), Some(v.to_string())),
            _ => (arg.clone(), None),
        };
        let mut value = |name: &'static str| {
            inline
                .clone()
                .or_else(|| it.next())
                .ok_or(UsageError::Missing(name))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(None),
            "--objects" => objects = Some(number("--objects", &value("--objects")?)?),
            "--seed" => seed = Some(number("--seed", &value("--seed")?)?),
            "--out" => out = Some(PathBuf::from(value("--out")?)),
            "--format" => format = value("--format")?.parse()?,
            _ => return Err(UsageError::Unknown(arg)),
        }
    }
    Ok(Some(Args {
        config: Config {
            objects: objects.ok_or(UsageError::Required("--objects"))?,
            seed: seed.ok_or(UsageError::Required("--seed"))?,
        },
        out: out.ok_or(UsageError::Required("--out"))?,
        format,
    }))
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(Some(a)) => a,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("synth: {e}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let started = Instant::now();
    let snapshot = match Snapshot::generate(&args.config, args.format) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("synth: {e}");
            return ExitCode::FAILURE;
        }
    };
    let generated = started.elapsed();
    let written = match snapshot.write(&args.out) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("synth: {e}");
            return ExitCode::FAILURE;
        }
    };
    let total = started.elapsed();
    println!(
        "wrote {} objects ({} Bookinfo namespaces, {} nodes) in {} files, {:.1} MB, to {}",
        snapshot.objects,
        snapshot.namespaces,
        snapshot.nodes,
        written.files,
        written.bytes as f64 / 1e6,
        written.snapshot_dir.display()
    );
    println!(
        "generated in {:.2} s, written in {:.2} s (seed {}, format {})",
        generated.as_secs_f64(),
        (total - generated).as_secs_f64(),
        args.config.seed,
        args.format
    );
    let mut kinds: BTreeMap<&str, usize> = BTreeMap::new();
    for p in &snapshot.planted {
        *kinds.entry(p.failure.name()).or_default() += 1;
    }
    println!(
        "planted {} failures, listed with {} healthy targets in {}:",
        snapshot.planted.len(),
        snapshot.healthy.len(),
        written.planted_file.display()
    );
    for (name, count) in kinds {
        println!("  {count:>3} × {name}");
    }
    if let Some(p) = snapshot.planted.first() {
        let t = &p.target;
        println!(
            "try: skillbox investigate {}/{}{} --snapshot {}",
            t.kind.to_lowercase(),
            t.name,
            t.namespace
                .as_deref()
                .map(|n| format!(" -n {n}"))
                .unwrap_or_default(),
            written.snapshot_dir.display()
        );
    }
    ExitCode::SUCCESS
}
