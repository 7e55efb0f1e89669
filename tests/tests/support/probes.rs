//! Shared by the sandbox tests: one engine, the hostile probe packages the build writes
//! (`skillbox::builtin::packages_dir()`), and an evidence snapshot with things worth stealing.

#![allow(dead_code)] // NB: each test file uses its own part of this module.

use serde_yaml_ng::Value;
use skillbox::engine::{EngineConfig, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox::package::SkillPackage;
use skillbox_guest::ObjectRef;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// One engine for the whole test binary, as one process has in production.
pub fn engine() -> &'static SkillEngine {
    static ENGINE: OnceLock<SkillEngine> = OnceLock::new();
    ENGINE.get_or_init(|| SkillEngine::new(EngineConfig::default()).expect("engine"))
}

/// A cluster with a target Pod in `default` and, around it, what a probe must never reach: a
/// Secret beside it, objects in `kube-system`, events about both.
pub const SNAPSHOT: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: victim, namespace: default, uid: u-victim, labels: {app: victim}}
  spec: {containers: [{name: app, image: app:1, env: [{name: API_TOKEN, value: tok-3f9a}]}]}
  status: {phase: Running}
- apiVersion: v1
  kind: Secret
  metadata: {name: db-password, namespace: default, labels: {app: victim}}
  type: Opaque
  data: {password: aHVudGVyMg==}
- apiVersion: v1
  kind: Secret
  metadata: {name: canary-secret, namespace: default}
  data: {token: c2VjcmV0}
- apiVersion: v1
  kind: ConfigMap
  metadata: {name: canary-workload, namespace: kube-system}
  data: {k: v}
- apiVersion: v1
  kind: Pod
  metadata: {name: canary-workload, namespace: kube-system, uid: u-ks}
  status: {phase: Running}
- apiVersion: v1
  kind: Event
  metadata: {name: e1, namespace: kube-system}
  involvedObject: {kind: Pod, namespace: kube-system, name: canary-workload, uid: u-ks}
  reason: Started
  message: started
- apiVersion: v1
  kind: Event
  metadata: {name: e2, namespace: default}
  involvedObject: {kind: Secret, namespace: default, name: db-password}
  reason: Mounted
  message: mounted
"#;

/// The snapshot above, loaded once.
pub fn evidence() -> Arc<dyn EvidenceSource> {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        let d = tempfile::tempdir().unwrap();
        std::fs::write(d.path().join("objects.yaml"), SNAPSHOT).unwrap();
        d
    });
    Arc::new(SnapshotSource::load(dir.path()).unwrap())
}

/// The target every probe is run on.
pub fn victim() -> ObjectRef {
    ObjectRef::namespaced("v1", "Pod", "default", "victim")
}

/// The package folder of a hostile probe, as the build wrote it.
pub fn package_dir(probe: &str) -> PathBuf {
    skillbox::builtin::packages_dir().join(probe)
}

/// Every probe package the build wrote, sorted.
pub fn probe_names() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(skillbox::builtin::packages_dir())
        .expect("the build writes the probe packages")
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.starts_with('.'))
        .collect();
    names.sort();
    names
}

/// A probe's package as built.
pub fn package(probe: &str) -> SkillPackage {
    SkillPackage::load_dir(&package_dir(probe))
        .unwrap_or_else(|e| panic!("probe package {probe}: {e}"))
}

/// A copy of a probe's package whose skill.yaml `spec` is changed by `edit` (other grants or
/// limits for one test); the folder lives as long as the returned guard.
pub fn package_with(
    probe: &str,
    edit: impl FnOnce(&mut Value),
) -> (tempfile::TempDir, SkillPackage) {
    let dir = tempfile::tempdir().unwrap();
    let to = dir.path().join(probe);
    copy_dir(&package_dir(probe), &to);
    let yaml = to.join("skill.yaml");
    let mut doc: Value = serde_yaml_ng::from_str(&std::fs::read_to_string(&yaml).unwrap()).unwrap();
    edit(&mut doc["spec"]);
    std::fs::write(&yaml, serde_yaml_ng::to_string(&doc).unwrap()).unwrap();
    let pkg = SkillPackage::load_dir(&to).unwrap_or_else(|e| panic!("edited {probe}: {e}"));
    (dir, pkg)
}

/// Sets `spec.limits.<key>` in a [`package_with`] edit.
pub fn set_limit(spec: &mut Value, key: &str, value: u64) {
    spec["limits"][key] = Value::from(value);
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}
