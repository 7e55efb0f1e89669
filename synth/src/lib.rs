//! Synthetic cluster snapshots for benchmarks: deterministic from a seed, Bookinfo-like namespaces
//! replicated, with known planted failures.
//!
//! [`generate`] makes a snapshot of exactly [`Config::objects`] Kubernetes objects in the format
//! of `../shared/spec/scenarios.md` (what `kubectl get -A -o yaml` prints, one `kind: List` per
//! file), and says what is broken in it: each [`Planted`] failure names its target and the
//! finding codes a correct investigation reports, and [`Snapshot::healthy`] names targets whose
//! verdict is `healthy`. [`Snapshot::write`] puts it on disk:
//!
//! ```text
//! <out>/cluster/                       the snapshot (skillbox investigate … --snapshot <out>/cluster)
//!   namespaces.yaml  nodes.yaml  clusterroles.yaml
//!   <namespace>/<resource>.yaml        e.g. bookinfo-0007/pods.yaml, istio-system/services.yaml
//!   logs/<namespace>/<pod>/<container>.log
//! <out>/planted.json                   the planted failures and healthy targets (machine-readable)
//! ```
//!
//! The cluster: a GKE-like node pool (one node per four namespaces), `istio-system` (istiod and
//! the ingress gateway), `config-management-system` with one RootSync, and N namespaces
//! `bookinfo-0001`… labelled `istio-injection: enabled`, each with Bookinfo's ServiceAccounts,
//! ConfigMaps, Services, Deployments, ReplicaSets, Pods (app container plus the classic
//! `istio-proxy` sidecar and `istio-init`, full status), EndpointSlices, Events, VirtualServices,
//! DestinationRules, a Gateway and a PeerAuthentication. N is the largest count that fits; the
//! objects left over are filler Events and ConfigMaps spread over the namespaces.
//!
//! Failures ([`Failure`]) are copies of the public scenarios' shapes, one per broken namespace,
//! about one namespace in 200 per kind (at least one each, as room allows; at least one
//! namespace stays healthy), placed by a seeded permutation. The RootSync always fails with
//! KNV2009 (forbidden).
//!
//! Determinism: the same [`Config`] gives byte-identical files. All randomness is SplitMix64
//! streams derived from the seed (one per namespace, so namespaces are built in parallel), all
//! times are offsets from a fixed snapshot instant (2026-11-24T12:00:00Z), and every map is
//! written with sorted keys.

mod base;
mod bookinfo;
mod emit;
mod k8s;
mod plan;
mod rng;
mod time;

pub use plan::Failure;

use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::fmt;
use std::path::{Component, Path, PathBuf};
use std::str::FromStr;

/// Folder under the output folder that holds the snapshot.
pub const SNAPSHOT_DIR: &str = "cluster";
/// File beside it that lists the planted failures.
pub const PLANTED_FILE: &str = "planted.json";
/// The largest snapshot [`generate`] makes: everything is built in memory (about 3 KB of text
/// per object), so a million objects already needs a few GB.
pub const MAX_OBJECTS: usize = 1_000_000;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Config {
    /// Exactly this many Kubernetes objects in the snapshot.
    pub objects: usize,
    /// The seed every random choice derives from.
    pub seed: u64,
}

/// How files are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// `kubectl get -o yaml` (the default: it is what users have).
    #[default]
    Yaml,
    /// `kubectl get -o json`.
    Json,
}

impl Format {
    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            Format::Yaml => "yaml",
            Format::Json => "json",
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.extension())
    }
}

impl FromStr for Format {
    type Err = SynthError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "yaml" | "yml" => Ok(Format::Yaml),
            "json" => Ok(Format::Json),
            other => Err(SynthError::UnknownFormat {
                format: other.to_string(),
            }),
        }
    }
}

/// An object an investigation can target.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    /// `apiVersion`, e.g. `networking.istio.io/v1`.
    pub api_version: String,
    /// `kind`, e.g. `VirtualService`.
    pub kind: String,
    /// Namespace (`None` for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Name.
    pub name: String,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {ns}/{}", self.kind, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

/// A failure planted in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Planted {
    /// What was broken.
    pub failure: Failure,
    /// The object to investigate.
    pub target: Target,
    /// Finding codes a correct investigation of the target reports (verdict `resolved`).
    pub codes: Vec<&'static str>,
}

/// One file of the snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFile {
    /// Path relative to the snapshot root, `/`-separated.
    pub path: String,
    /// Its text.
    pub text: String,
}

/// A generated snapshot, in memory.
#[derive(Debug, Clone)]
pub struct Snapshot {
    /// What it was generated from.
    pub config: Config,
    /// How its object files are written.
    pub format: Format,
    /// Every file, sorted by path.
    pub files: Vec<SnapshotFile>,
    /// Kubernetes objects in the files (always `config.objects`).
    pub objects: usize,
    /// Bookinfo namespaces.
    pub namespaces: usize,
    /// Nodes.
    pub nodes: usize,
    /// What is broken, sorted by failure then target.
    pub planted: Vec<Planted>,
    /// Targets whose investigation is `healthy` (in healthy namespaces).
    pub healthy: Vec<Target>,
}

/// What [`Snapshot::write`] wrote.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    /// The snapshot folder (`<out>/cluster`).
    pub snapshot_dir: PathBuf,
    /// `<out>/planted.json`.
    pub planted_file: PathBuf,
    /// Files written, `planted.json` included.
    pub files: usize,
    /// Bytes written, `planted.json` included.
    pub bytes: u64,
}

/// Why a snapshot could not be generated or written.
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// Fewer objects than the cluster base and one Bookinfo namespace need.
    #[error(
        "{requested} objects are too few: the cluster base and one Bookinfo namespace need at least {minimum}"
    )]
    TooFewObjects {
        /// As asked.
        requested: usize,
        /// The smallest count that works.
        minimum: usize,
    },
    /// More objects than [`MAX_OBJECTS`].
    #[error("{requested} objects are too many: at most {maximum} are generated (all in memory)")]
    TooManyObjects {
        /// As asked.
        requested: usize,
        /// [`MAX_OBJECTS`].
        maximum: usize,
    },
    /// A format other than `yaml` or `json`.
    #[error("unknown format {format:?}: use yaml or json")]
    UnknownFormat {
        /// As given.
        format: String,
    },
    /// The output path exists and is not a folder.
    #[error("output path {} exists and is not a folder", path.display())]
    NotAFolder {
        /// The output path.
        path: PathBuf,
    },
    /// The output folder has something in it: we never mix a snapshot with other files.
    #[error("output folder {} is not empty; choose a new or empty folder", path.display())]
    NotEmpty {
        /// The output folder.
        path: PathBuf,
    },
    /// A snapshot file path that would leave the snapshot folder (or is empty).
    #[error("snapshot file path {path:?} is not a plain relative path")]
    BadPath {
        /// The path.
        path: String,
    },
    /// Reading, creating or writing on disk failed.
    #[error("cannot {action} {}: {source}", path.display())]
    Io {
        /// What was being done (`create folder`, `write`, `read`).
        action: &'static str,
        /// The path it was done to.
        path: PathBuf,
        /// The OS error.
        source: std::io::Error,
    },
    /// The generator built a different number of objects than planned (a bug in this crate).
    #[error("internal error: planned {planned} objects but built {built}")]
    CountMismatch {
        /// Planned.
        planned: usize,
        /// Built.
        built: usize,
    },
}

/// The smallest [`Config::objects`] that [`generate`] accepts.
pub fn minimum_objects() -> usize {
    Sizing::measure().minimum()
}

/// Generates the snapshot `config` describes.
pub fn generate(config: &Config, format: Format) -> Result<Snapshot, SynthError> {
    Snapshot::generate(config, format)
}

/// What each part of the cluster costs in objects, measured by building it once (so the
/// count is exact by construction, whatever the shapes become).
struct Sizing {
    /// Base objects (system namespaces, control plane, Config Sync), Nodes excluded.
    base: usize,
    /// A healthy namespace.
    healthy: usize,
    /// A namespace with each failure, in [`Failure::NAMESPACED`] order.
    broken: Vec<usize>,
}

impl Sizing {
    fn measure() -> Self {
        let (nodes, _) = base::nodes(0, 3);
        let build = |failure| {
            bookinfo::build(&bookinfo::NsSpec {
                seed: 0,
                index: 0,
                name: "bookinfo-0001",
                failure,
                nodes: &nodes,
                ca: "",
                extras: 0,
            })
            .count()
        };
        Self {
            base: base::build(0, &nodes, "", "bookinfo-0001").count(),
            healthy: build(None),
            broken: Failure::NAMESPACED
                .iter()
                .map(|f| build(Some(*f)))
                .collect(),
        }
    }

    fn namespace(&self, failure: Option<Failure>) -> usize {
        match failure {
            None => self.healthy,
            Some(f) => Failure::NAMESPACED
                .iter()
                .position(|x| *x == f)
                .map_or(self.healthy, |i| self.broken[i]),
        }
    }

    fn total(&self, plan: &[Option<Failure>]) -> usize {
        self.base
            + base::nodes_for(plan.len())
            + plan.iter().map(|f| self.namespace(*f)).sum::<usize>()
    }

    fn minimum(&self) -> usize {
        self.total(&[None])
    }

    /// The most namespaces that fit in `objects`, and their failures.
    fn fit(&self, seed: u64, objects: usize) -> Option<Vec<Option<Failure>>> {
        let cheapest = self.broken.iter().copied().chain([self.healthy]).min()?;
        let mut n = objects.saturating_sub(self.base) / cheapest.max(1) + 1;
        while n > 0 {
            let plan = plan::assign(seed, n);
            if self.total(&plan) <= objects {
                return Some(plan);
            }
            n -= 1;
        }
        None
    }
}

/// One namespace, built and serialized.
struct NsDone {
    namespace: Value,
    files: Vec<SnapshotFile>,
    objects: usize,
    planted: Option<Planted>,
    healthy: Vec<Target>,
}

/// A `kind: List` document holding `items`, as text.
fn list_text(items: Vec<Value>, format: Format) -> String {
    let doc = json!({"apiVersion": "v1", "items": items, "kind": "List", "metadata": {"resourceVersion": ""}});
    let mut out = String::new();
    match format {
        Format::Yaml => emit::yaml_document(&mut out, &doc),
        Format::Json => emit::json_document(&mut out, &doc),
    }
    out
}

fn file(path: String, items: Vec<Value>, format: Format) -> SnapshotFile {
    SnapshotFile {
        path,
        text: list_text(items, format),
    }
}

impl Snapshot {
    /// Generates the snapshot `config` describes (see the crate documentation).
    pub fn generate(config: &Config, format: Format) -> Result<Self, SynthError> {
        if config.objects > MAX_OBJECTS {
            return Err(SynthError::TooManyObjects {
                requested: config.objects,
                maximum: MAX_OBJECTS,
            });
        }
        let sizing = Sizing::measure();
        let too_few = || SynthError::TooFewObjects {
            requested: config.objects,
            minimum: sizing.minimum(),
        };
        if config.objects < sizing.minimum() {
            return Err(too_few());
        }
        let seed = config.seed;
        let plan = sizing.fit(seed, config.objects).ok_or_else(too_few)?;
        let n = plan.len();
        let width = n.to_string().len().max(4);
        let ns_name = |i: usize| format!("bookinfo-{:0width$}", i + 1);
        let healthy_order = plan::healthy_order(seed, &plan);
        let gateway_ns = ns_name(healthy_order.first().copied().unwrap_or(0));
        let (nodes, node_objects) = base::nodes(seed, base::nodes_for(n));
        let ca = base::ca(seed);
        let base = base::build(seed, &nodes, &ca, &gateway_ns);
        let planned = sizing.total(&plan);
        let spare = config.objects - planned;
        let extras = |i: usize| spare / n + usize::from(i < spare % n);
        let healthy_namespaces: BTreeSet<usize> = healthy_order.iter().take(3).copied().collect();

        // Namespaces are independent: build and serialize them on every core.
        let build_one = |i: usize| -> NsDone {
            let name = ns_name(i);
            let out = bookinfo::build(&bookinfo::NsSpec {
                seed,
                index: i,
                name: &name,
                failure: plan[i],
                nodes: &nodes,
                ca: &ca,
                extras: extras(i),
            });
            let objects = out.count();
            let ext = format.extension();
            let mut files: Vec<SnapshotFile> = out
                .files
                .into_iter()
                .map(|(stem, items)| file(format!("{name}/{stem}.{ext}"), items, format))
                .collect();
            files.extend(
                out.logs
                    .into_iter()
                    .map(|(path, text)| SnapshotFile { path, text }),
            );
            NsDone {
                namespace: out.namespace,
                files,
                objects,
                planted: out.planted,
                healthy: if healthy_namespaces.contains(&i) {
                    out.healthy
                } else {
                    Vec::new()
                },
            }
        };
        let done = parallel_map(n, build_one);

        let ext = format.extension();
        let mut objects = base.count() + node_objects.len();
        let mut files = Vec::new();
        let mut namespaces = base.namespaces;
        let mut planted = Vec::new();
        let mut healthy = Vec::new();
        for d in done {
            objects += d.objects;
            namespaces.push(d.namespace);
            files.extend(d.files);
            planted.extend(d.planted);
            healthy.extend(d.healthy);
        }
        if objects != config.objects {
            return Err(SynthError::CountMismatch {
                planned: config.objects,
                built: objects,
            });
        }
        files.push(file(format!("namespaces.{ext}"), namespaces, format));
        files.push(file(format!("nodes.{ext}"), node_objects, format));
        for (stem, items) in base.cluster {
            files.push(file(format!("{stem}.{ext}"), items, format));
        }
        for ((ns, stem), items) in base.namespaced {
            files.push(file(format!("{ns}/{stem}.{ext}"), items, format));
        }
        files.sort_by(|a, b| a.path.cmp(&b.path));
        planted.push(Planted {
            failure: Failure::RootSyncForbidden,
            target: base::root_sync_target(),
            codes: Failure::RootSyncForbidden.codes().to_vec(),
        });
        planted.sort_by(|a, b| (a.failure, &a.target).cmp(&(b.failure, &b.target)));
        Ok(Snapshot {
            config: *config,
            format,
            files,
            objects,
            namespaces: n,
            nodes: nodes.len(),
            planted,
            healthy,
        })
    }

    /// Bytes of all files.
    pub fn bytes(&self) -> usize {
        self.files.iter().map(|f| f.text.len()).sum()
    }

    /// `planted.json`: the config, the snapshot folder, and per planted failure its target,
    /// expected codes and verdict, then the healthy targets.
    pub fn planted_json(&self) -> String {
        let target = |t: &Target| {
            let mut v = json!({"apiVersion": t.api_version, "kind": t.kind, "name": t.name});
            if let Some(ns) = &t.namespace {
                v["namespace"] = json!(ns);
            }
            v
        };
        let planted: Vec<Value> = self
            .planted
            .iter()
            .map(|p| {
                json!({
                    "failure": p.failure.name(),
                    "description": p.failure.description(),
                    "target": target(&p.target),
                    "codes": p.codes,
                    "verdict": "resolved",
                })
            })
            .collect();
        let healthy: Vec<Value> = self
            .healthy
            .iter()
            .map(|t| json!({"target": target(t), "verdict": "healthy"}))
            .collect();
        let doc = json!({
            "generator": "skillbox-synth",
            "seed": self.config.seed,
            "objects": self.objects,
            "format": self.format.extension(),
            "snapshot": SNAPSHOT_DIR,
            "namespaces": self.namespaces,
            "nodes": self.nodes,
            "planted": planted,
            "healthy": healthy,
        });
        let mut out = String::new();
        emit::json_document(&mut out, &doc);
        out
    }

    /// Writes the snapshot to `<out>/cluster/` and the planted failures to
    /// `<out>/planted.json`. `out` is created if missing; an existing `out` must be an empty
    /// folder.
    pub fn write(&self, out: &Path) -> Result<Written, SynthError> {
        let io = |action, path: &Path| {
            let path = path.to_path_buf();
            move |source| SynthError::Io {
                action,
                path,
                source,
            }
        };
        match std::fs::metadata(out) {
            Ok(m) if !m.is_dir() => {
                return Err(SynthError::NotAFolder {
                    path: out.to_path_buf(),
                });
            }
            Ok(_) => {
                let mut entries = std::fs::read_dir(out).map_err(io("read", out))?;
                if entries.next().is_some() {
                    return Err(SynthError::NotEmpty {
                        path: out.to_path_buf(),
                    });
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(io("read", out)(e)),
        }
        let root = out.join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&root).map_err(io("create folder", &root))?;
        let mut made: BTreeSet<PathBuf> = BTreeSet::new();
        let mut bytes = 0u64;
        for f in &self.files {
            let rel = Path::new(&f.path);
            let plain =
                !f.path.is_empty() && rel.components().all(|c| matches!(c, Component::Normal(_)));
            if !plain {
                return Err(SynthError::BadPath {
                    path: f.path.clone(),
                });
            }
            let path = root.join(rel);
            if let Some(parent) = path.parent()
                && !made.contains(parent)
            {
                std::fs::create_dir_all(parent).map_err(io("create folder", parent))?;
                made.insert(parent.to_path_buf());
            }
            std::fs::write(&path, &f.text).map_err(io("write", &path))?;
            bytes += f.text.len() as u64;
        }
        let planted_file = out.join(PLANTED_FILE);
        let planted = self.planted_json();
        std::fs::write(&planted_file, &planted).map_err(io("write", &planted_file))?;
        Ok(Written {
            snapshot_dir: root,
            planted_file,
            files: self.files.len() + 1,
            bytes: bytes + planted.len() as u64,
        })
    }
}

/// `f(0..n)` on all cores, results in index order (so the output does not depend on
/// scheduling).
fn parallel_map<T: Send>(n: usize, f: impl Fn(usize) -> T + Sync) -> Vec<T> {
    let workers = std::thread::available_parallelism()
        .map_or(1, usize::from)
        .min(n)
        .max(1);
    if workers == 1 {
        return (0..n).map(f).collect();
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let mut results: Vec<(usize, T)> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                s.spawn(|| {
                    let mut done = Vec::new();
                    loop {
                        let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        if i >= n {
                            break;
                        }
                        done.push((i, f(i)));
                    }
                    done
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(done) => done,
                Err(panic) => std::panic::resume_unwind(panic),
            })
            .collect()
    });
    results.sort_by_key(|(i, _)| *i);
    results.into_iter().map(|(_, t)| t).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn too_few_objects_names_the_minimum() {
        let min = minimum_objects();
        let e = generate(
            &Config {
                objects: min - 1,
                seed: 1,
            },
            Format::Yaml,
        )
        .unwrap_err();
        match e {
            SynthError::TooFewObjects { requested, minimum } => {
                assert_eq!((requested, minimum), (min - 1, min));
            }
            other => panic!("{other}"),
        }
        assert!(
            generate(
                &Config {
                    objects: 0,
                    seed: 1
                },
                Format::Yaml
            )
            .is_err()
        );
        let s = generate(
            &Config {
                objects: min,
                seed: 1,
            },
            Format::Yaml,
        )
        .unwrap();
        assert_eq!((s.objects, s.namespaces), (min, 1));
        // Only the RootSync is broken when one namespace is all there is.
        assert_eq!(s.planted.len(), 1);
    }

    #[test]
    fn too_many_objects_is_refused() {
        let e = generate(
            &Config {
                objects: MAX_OBJECTS + 1,
                seed: 1,
            },
            Format::Yaml,
        )
        .unwrap_err();
        assert!(matches!(e, SynthError::TooManyObjects { .. }), "{e}");
        assert!("xml".parse::<Format>().is_err());
        assert_eq!("json".parse::<Format>().unwrap(), Format::Json);
    }
}
