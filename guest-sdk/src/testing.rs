//! The native test harness: run a skill's logic against fixture objects, without wasm.
//!
//! ```
//! use skillbox_guest::testing::Fixture;
//! # use skillbox_guest::{Manifest, ObjectRef, Outcome, Skill};
//! # struct MySkill;
//! # impl Skill for MySkill {
//! #     fn describe() -> Manifest { Manifest::new("my-skill", "0.1.0", "my.") }
//! #     fn investigate(t: &ObjectRef) -> Result<Outcome, String> {
//! #         skillbox_guest::tools::get_object(&t.kind, t.namespace.as_deref(), &t.name)
//! #             .map_err(|e| e.to_string())?;
//! #         Ok(Outcome::from_findings(vec![]))
//! #     }
//! # }
//! let fixture = Fixture::from_yaml(r#"
//! apiVersion: v1
//! kind: Pod
//! metadata: {name: web, namespace: shop}
//! status: {phase: Running}
//! "#).unwrap();
//! let outcome = fixture.investigate::<MySkill>("Pod", Some("shop"), "web").unwrap();
//! assert!(outcome.findings.is_empty());
//! ```
//!
//! The fixture answers the tools the way the host does for a snapshot (kind spellings, label
//! selectors, events of both API versions, container logs), without the host's grants and budgets:
//! those are the sandbox's job and are tested there.

use crate::k8s::{Event, kind_matches};
use crate::selector::Selector;
use crate::tools::{ToolBackend, clear_backend, set_backend};
use crate::{Object, ObjectRef, Outcome, Skill, ToolError};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;
use std::rc::Rc;

/// Objects and logs that answer a skill's tool calls in a native test.
#[derive(Debug, Clone, Default)]
pub struct Fixture {
    objects: Vec<Object>,
    logs: BTreeMap<(String, String, String), String>,
}

/// Why a fixture could not be built.
#[derive(Debug)]
pub struct FixtureError(pub String);

impl std::fmt::Display for FixtureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for FixtureError {}

impl Fixture {
    /// An empty fixture.
    pub fn new() -> Self {
        Self::default()
    }

    /// Objects from YAML text: one or more `---` separated documents, each an object or a list.
    pub fn from_yaml(text: &str) -> Result<Self, FixtureError> {
        let mut f = Self::new();
        f.add_yaml(text)?;
        Ok(f)
    }

    /// Every `*.yaml`, `*.yml` and `*.json` file under a snapshot folder, plus its
    /// `logs/<namespace>/<pod>/<container>.log` files.
    pub fn from_snapshot_dir(dir: impl AsRef<Path>) -> Result<Self, FixtureError> {
        let mut f = Self::new();
        f.add_dir(dir.as_ref(), dir.as_ref())?;
        Ok(f)
    }

    /// Adds the objects in YAML text.
    pub fn add_yaml(&mut self, text: &str) -> Result<&mut Self, FixtureError> {
        for (i, doc) in serde_yaml_ng::Deserializer::from_str(text).enumerate() {
            let v: Value = serde::Deserialize::deserialize(doc)
                .map_err(|e| FixtureError(format!("document {i}: {e}")))?;
            self.add_value(v);
        }
        Ok(self)
    }

    /// Adds one object (or every item of a list).
    pub fn add_value(&mut self, v: Value) -> &mut Self {
        if let Some(items) = v.get("items").and_then(Value::as_array)
            && v.get("kind")
                .and_then(Value::as_str)
                .is_some_and(|k| k.ends_with("List"))
        {
            for item in items.clone() {
                self.add_value(item);
            }
        } else if let Ok(o) = Object::from_value(v) {
            self.objects.push(o);
        }
        self
    }

    /// Adds a container log.
    pub fn add_log(
        &mut self,
        namespace: &str,
        pod: &str,
        container: &str,
        text: &str,
    ) -> &mut Self {
        self.logs.insert(
            (namespace.into(), pod.into(), container.into()),
            text.into(),
        );
        self
    }

    /// The objects in the fixture.
    pub fn objects(&self) -> &[Object] {
        &self.objects
    }

    /// Runs `S::investigate` on `kind namespace/name` with this fixture answering its tools.
    /// The target's apiVersion is taken from the fixture's matching object, if any.
    pub fn investigate<S: Skill>(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<Outcome, String> {
        let target = self
            .find(kind, namespace, name)
            .map(Object::object_ref)
            .unwrap_or_else(|| ObjectRef {
                api_version: String::new(),
                kind: kind.into(),
                namespace: namespace.map(Into::into),
                name: name.into(),
            });
        self.investigate_ref::<S>(&target)
    }

    /// Runs `S::investigate` on `target` with this fixture answering its tools.
    pub fn investigate_ref<S: Skill>(&self, target: &ObjectRef) -> Result<Outcome, String> {
        set_backend(Rc::new(self.clone()));
        let out = S::investigate(target);
        clear_backend();
        out
    }

    fn find(&self, kind: &str, namespace: Option<&str>, name: &str) -> Option<&Object> {
        self.objects.iter().find(|o| {
            kind_matches(kind, o.api_version(), o.kind())
                && o.name() == name
                && (namespace.is_none() || o.namespace() == namespace)
        })
    }

    fn add_dir(&mut self, root: &Path, dir: &Path) -> Result<(), FixtureError> {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .map_err(|e| FixtureError(format!("{}: {e}", dir.display())))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                self.add_dir(root, &p)?;
                continue;
            }
            let read = || {
                std::fs::read_to_string(&p)
                    .map_err(|e| FixtureError(format!("{}: {e}", p.display())))
            };
            let rel: Vec<String> = p
                .strip_prefix(root)
                .unwrap_or(&p)
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            match p.extension().and_then(|e| e.to_str()) {
                Some("yaml" | "yml" | "json") => {
                    self.add_yaml(&read()?)
                        .map_err(|e| FixtureError(format!("{}: {e}", p.display())))?;
                }
                Some("log") if rel.len() == 4 && rel[0] == "logs" => {
                    let container = rel[3].trim_end_matches(".log").to_string();
                    self.add_log(&rel[1], &rel[2], &container, &read()?);
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// A scenario folder (`../shared/spec/scenarios.md`): `scenario.yaml` (target and expectations)
/// beside `cluster/` (the snapshot). Skills check themselves against the public corpus with it.
#[derive(Debug, Clone, PartialEq)]
pub struct Scenario {
    /// The folder.
    pub dir: std::path::PathBuf,
    /// Target kind.
    pub kind: String,
    /// Target namespace (none for cluster-scoped targets).
    pub namespace: Option<String>,
    /// Target name.
    pub name: String,
    /// Expected verdict.
    pub verdict: crate::Verdict,
    /// Codes that must be among the findings.
    pub codes: Vec<String>,
    /// Codes that must not be.
    pub forbid: Vec<String>,
}

#[derive(serde::Deserialize)]
struct ScenarioFile {
    target: ScenarioTarget,
    expect: ScenarioExpect,
}

#[derive(serde::Deserialize)]
struct ScenarioTarget {
    kind: String,
    #[serde(default)]
    namespace: Option<String>,
    name: String,
}

#[derive(serde::Deserialize)]
struct ScenarioExpect {
    verdict: crate::Verdict,
    #[serde(default)]
    codes: Vec<String>,
    #[serde(default)]
    forbid: Vec<String>,
}

impl Scenario {
    /// Reads `dir/scenario.yaml`.
    pub fn load(dir: impl AsRef<Path>) -> Result<Self, FixtureError> {
        let dir = dir.as_ref();
        let path = dir.join("scenario.yaml");
        let text = std::fs::read_to_string(&path)
            .map_err(|e| FixtureError(format!("{}: {e}", path.display())))?;
        let f: ScenarioFile = serde_yaml_ng::from_str(&text)
            .map_err(|e| FixtureError(format!("{}: {e}", path.display())))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            kind: f.target.kind,
            namespace: f.target.namespace,
            name: f.target.name,
            verdict: f.expect.verdict,
            codes: f.expect.codes,
            forbid: f.expect.forbid,
        })
    }

    /// The snapshot under `cluster/`.
    pub fn fixture(&self) -> Result<Fixture, FixtureError> {
        Fixture::from_snapshot_dir(self.dir.join("cluster"))
    }

    /// Runs `S::investigate` on the target against the snapshot.
    pub fn investigate<S: Skill>(&self) -> Result<Outcome, String> {
        self.fixture().map_err(|e| e.to_string())?.investigate::<S>(
            &self.kind,
            self.namespace.as_deref(),
            &self.name,
        )
    }

    /// Panics, naming the scenario and showing the findings, unless `out` meets the
    /// expectations (verdict, every expected code, no forbidden one).
    pub fn assert_met(&self, out: &Outcome) {
        let name = self.dir.display();
        assert_eq!(out.verdict, self.verdict, "{name}: {:#?}", out.findings);
        for c in &self.codes {
            assert!(out.has(c), "{name}: expected {c} in {:#?}", out.findings);
        }
        for c in &self.forbid {
            assert!(!out.has(c), "{name}: forbidden {c} in {:#?}", out.findings);
        }
    }
}

/// Test assertions on an [`Outcome`].
pub trait OutcomeAssert {
    /// The first finding with `code`; panics, showing every finding, when there is none.
    fn expect_finding(&self, code: &str) -> &crate::Finding;
}

impl OutcomeAssert for Outcome {
    fn expect_finding(&self, code: &str) -> &crate::Finding {
        self.finding(code)
            .unwrap_or_else(|| panic!("no {code} in {:#?}", self.findings))
    }
}

fn to_json(o: &Object) -> String {
    o.to_json()
}

impl ToolBackend for Fixture {
    fn get_object(
        &self,
        kind: &str,
        namespace: Option<&str>,
        name: &str,
    ) -> Result<String, ToolError> {
        self.find(kind, namespace, name)
            .map(to_json)
            .ok_or_else(|| {
                ToolError::NotFound(format!("{kind} {}/{name}", namespace.unwrap_or("")))
            })
    }

    fn list_objects(
        &self,
        kind: &str,
        namespace: Option<&str>,
        label_selector: &str,
    ) -> Result<Vec<String>, ToolError> {
        let sel = Selector::parse(label_selector).map_err(|e| ToolError::Invalid(e.to_string()))?;
        Ok(self
            .objects
            .iter()
            .filter(|o| {
                kind_matches(kind, o.api_version(), o.kind())
                    && (namespace.is_none() || o.namespace() == namespace)
                    && sel.matches(&o.labels())
            })
            .map(to_json)
            .collect())
    }

    fn list_events(&self, involved: &ObjectRef) -> Result<Vec<String>, ToolError> {
        Ok(self
            .objects
            .iter()
            .filter(|o| o.kind() == "Event")
            .filter(|o| {
                o.typed::<Event>().ok().is_some_and(|e| {
                    e.subject().is_some_and(|s| {
                        s.kind == involved.kind
                            && s.name == involved.name
                            && s.namespace.as_deref().or(o.namespace())
                                == involved.namespace.as_deref()
                    })
                })
            })
            .map(to_json)
            .collect())
    }

    fn read_logs(
        &self,
        namespace: &str,
        pod: &str,
        container: &str,
        tail_lines: u32,
    ) -> Result<String, ToolError> {
        let text = self
            .logs
            .get(&(namespace.into(), pod.into(), container.into()))
            .ok_or_else(|| ToolError::NotFound(format!("log of {namespace}/{pod}/{container}")))?;
        let lines: Vec<&str> = text.lines().collect();
        let start = lines.len().saturating_sub(tail_lines as usize);
        Ok(lines[start..].join("\n"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools;

    const YAML: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: v1
  kind: Pod
  metadata: {name: a, namespace: n, labels: {app: x}}
- apiVersion: v1
  kind: Pod
  metadata: {name: b, namespace: n, labels: {app: y}}
---
apiVersion: events.k8s.io/v1
kind: Event
metadata: {name: e1, namespace: n}
reason: BackOff
note: restarting
regarding: {kind: Pod, name: a, namespace: n}
"#;

    #[test]
    fn answers_tools_like_a_snapshot() {
        let mut f = Fixture::from_yaml(YAML).unwrap();
        f.add_log("n", "a", "c", "1\n2\n3");
        set_backend(Rc::new(f));
        assert_eq!(
            tools::get_object("pods", Some("n"), "a").unwrap().name(),
            "a"
        );
        assert!(matches!(
            tools::get_object("Pod", Some("n"), "zz"),
            Err(ToolError::NotFound(_))
        ));
        let listed = tools::list_objects("Pod", None, "app in (y)").unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].name(), "b");
        let ev = tools::list_events(&ObjectRef::namespaced("v1", "Pod", "n", "a")).unwrap();
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0].text(), "restarting");
        assert_eq!(tools::read_logs("n", "a", "c", 2).unwrap(), "2\n3");
        clear_backend();
        assert!(matches!(
            tools::get_object("Pod", Some("n"), "a"),
            Err(ToolError::Unavailable(_))
        ));
    }

    #[test]
    fn scenarios_load_and_judge() {
        let dir = std::env::temp_dir().join(format!("skillbox-scenario-{}", std::process::id()));
        std::fs::create_dir_all(dir.join("cluster")).unwrap();
        std::fs::write(
            dir.join("scenario.yaml"),
            "description: d\ntarget: {kind: Pod, namespace: n, name: a}\nexpect:\n  verdict: resolved\n  codes: [x.a]\n  forbid: [x.b]\n  llmRequired: false\n",
        )
        .unwrap();
        let sc = Scenario::load(&dir).unwrap();
        assert_eq!(
            (sc.kind.as_str(), sc.namespace.as_deref(), sc.name.as_str()),
            ("Pod", Some("n"), "a")
        );
        assert_eq!(sc.verdict, crate::Verdict::Resolved);
        sc.assert_met(&Outcome::from_findings(vec![crate::Finding::error(
            "x.a", "a",
        )]));
        let wrong = std::panic::catch_unwind(|| {
            sc.assert_met(&Outcome::from_findings(vec![crate::Finding::error(
                "x.b", "b",
            )]))
        });
        assert!(wrong.is_err());
        assert!(Scenario::load(dir.join("absent")).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn malformed_yaml_is_an_error() {
        assert!(Fixture::from_yaml("a: [").is_err());
    }
}
