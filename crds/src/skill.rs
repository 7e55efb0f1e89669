//! The `Skill` resource: a sandboxed skill's module, grants, targets and limits.

use crate::conditions::Conditions;
use kube::{CustomResource, KubeSchema};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::OnceLock;

/// A skill the platform team installed: where its component comes from and what it may do.
///
/// The API server enforces the rules a client could get wrong (CEL rules); the operator checks
/// them again, and what CEL cannot see (the component's imports and digest), before a Skill is
/// `Accepted`.
// kube-derive repeats `printcolumn(...)`, which clippy mistakes for a duplicated attribute.
#[allow(clippy::duplicated_attributes)]
#[derive(CustomResource, Debug, Clone, PartialEq, Serialize, Deserialize, KubeSchema)]
#[kube(
    group = "skillbox.dev",
    version = "v1alpha1",
    kind = "Skill",
    shortname = "sk",
    category = "skillbox",
    status = "SkillStatus",
    doc = "A sandboxed skill: its WebAssembly component, what it may import and read, and when it runs.",
    printcolumn(name = "Tools", type_ = "string", json_path = ".spec.grants.tools"),
    printcolumn(
        name = "Trigger",
        type_ = "string",
        json_path = ".spec.trigger.mode",
        priority = 1
    ),
    printcolumn(
        name = "Ready",
        type_ = "string",
        json_path = ".status.conditions[?(@.type==\"Ready\")].status"
    ),
    printcolumn(
        name = "Age",
        type_ = "date",
        json_path = ".metadata.creationTimestamp"
    )
)]
#[serde(rename_all = "camelCase")]
pub struct SkillSpec {
    /// The skill's version, as its author released it.
    #[serde(default)]
    #[schemars(length(max = 64))]
    pub version: Option<String>,
    /// Every finding code the skill reports starts with this (e.g. `workload.`).
    #[schemars(length(max = 63))]
    #[x_kube(validation = Rule::new("self.matches('^[a-z0-9-]+[.]$')").message("codePrefix must be lowercase letters, digits and hyphens ending in '.', e.g. 'workload.'"))]
    pub code_prefix: String,
    /// Where the WebAssembly component comes from.
    pub module: ModuleSource,
    /// What the component may import and read.
    pub grants: Grants,
    /// Kinds the skill investigates.
    #[schemars(length(min = 1, max = 16))]
    #[x_kube(validation = Rule::new("self.all(t, !t.kind.lowerAscii().matches('^[ ]*(.*/)?[ ]*secret'))").message("Secrets are never investigated: remove the Secret target"))]
    pub targets: Vec<TargetKind>,
    /// Resource caps for one call.
    #[serde(default)]
    pub limits: Limits,
    /// When the operator runs the skill on its own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trigger: Option<Trigger>,
    /// The skill's SKILL.md body (domain knowledge for people and LLMs), when installed in-cluster.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 262144))]
    pub prose: Option<String>,
}

/// Exactly one source, and a digest unless built in.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
#[serde(rename_all = "camelCase")]
#[x_kube(
    validation = Rule::new("(has(self.builtin) ? 1 : 0) + (has(self.configMapRef) ? 1 : 0) + (has(self.url) ? 1 : 0) == 1").message("spec.module must set exactly one of builtin, configMapRef or url"),
    validation = Rule::new("has(self.builtin) || has(self.sha256)").message("spec.module.sha256 is required unless the module is builtin")
)]
pub struct ModuleSource {
    /// A component embedded in the skillbox binary, by skill name.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 63))]
    pub builtin: Option<String>,
    /// A component stored in a ConfigMap's `binaryData`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config_map_ref: Option<ConfigMapKeyRef>,
    /// An `https://` URL, or, in a skill package folder, a path relative to the folder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 2048))]
    pub url: Option<String>,
    /// Lowercase hex sha256 of the component; verified before it is compiled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 64))]
    #[x_kube(validation = Rule::new("self.matches('^[0-9a-f]{64}$')").message("spec.module.sha256 must be 64 lowercase hex characters"))]
    pub sha256: Option<String>,
}

/// A key of a ConfigMap in the controller's namespace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ConfigMapKeyRef {
    /// ConfigMap name.
    #[schemars(length(max = 253))]
    pub name: String,
    /// Key under `binaryData`.
    #[schemars(length(max = 253))]
    pub key: String,
}

/// What a skill may import and read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Grants {
    /// Tools the component may import; any other import is refused before it runs.
    #[schemars(length(max = 4), extend("x-kubernetes-list-type" = "set"))]
    pub tools: Vec<Tool>,
    /// What the tools may read. Secrets are never readable, whatever is written here.
    #[serde(default)]
    #[schemars(length(max = 16))]
    pub resources: Vec<ResourceGrant>,
}

/// One tool of the skill ABI.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum Tool {
    /// `get-object`.
    GetObject,
    /// `list-objects`.
    ListObjects,
    /// `list-events`.
    ListEvents,
    /// `read-logs`.
    ReadLogs,
}

impl Tool {
    /// Every tool, in ABI order.
    pub const ALL: [Tool; 4] = [
        Tool::GetObject,
        Tool::ListObjects,
        Tool::ListEvents,
        Tool::ReadLogs,
    ];

    /// The tool's interface name in the WIT package (`get-object`, …).
    pub fn interface(self) -> &'static str {
        match self {
            Tool::GetObject => "get-object",
            Tool::ListObjects => "list-objects",
            Tool::ListEvents => "list-events",
            Tool::ReadLogs => "read-logs",
        }
    }

    /// The tool whose interface is `name`.
    pub fn from_interface(name: &str) -> Option<Tool> {
        Tool::ALL.into_iter().find(|t| t.interface() == name)
    }
}

impl fmt::Display for Tool {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.interface())
    }
}

/// Kinds a skill may read, in some namespaces.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, KubeSchema)]
pub struct ResourceGrant {
    /// Kinds as `Kind` or `Kind.group` (`Pod`, `Deployment.apps`); `*` for every kind but Secret.
    #[schemars(length(min = 1, max = 32), inner(length(min = 1, max = 253)))]
    #[x_kube(validation = Rule::new("self.all(k, !k.lowerAscii().matches('^[ ]*(.*/)?[ ]*secret'))").message("Secrets are never granted to a skill: remove Secret from spec.grants.resources[].kinds"))]
    pub kinds: Vec<String>,
    /// Namespaces; empty means every namespace (and cluster-scoped objects).
    #[serde(default)]
    #[schemars(length(max = 64), inner(length(max = 63)))]
    pub namespaces: Vec<String>,
}

/// A kind the skill investigates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TargetKind {
    /// The kind, e.g. `Deployment`.
    #[schemars(length(min = 1, max = 63))]
    pub kind: String,
    /// The API group (empty for the core group); any group when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 253))]
    pub group: Option<String>,
}

/// Resource caps for one call of the skill. Defaults suit the built-in skills.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase", default)]
pub struct Limits {
    /// Linear memory cap, MiB.
    #[schemars(range(min = 1, max = 4096))]
    pub memory_mib: u32,
    /// Fuel (about one unit per wasm instruction).
    #[schemars(range(min = 1000, max = 1_000_000_000_000u64))]
    pub fuel: u64,
    /// Wall-clock deadline, milliseconds.
    #[schemars(range(min = 1, max = 600000))]
    pub timeout_millis: u32,
    /// Tool calls allowed in one call.
    #[schemars(range(max = 100000))]
    pub max_tool_calls: u32,
    /// Bytes of tool results allowed in one call.
    #[schemars(range(max = 1073741824u64))]
    pub max_result_bytes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            memory_mib: 64,
            fuel: 5_000_000_000,
            timeout_millis: 2_000,
            max_tool_calls: 256,
            max_result_bytes: 16 * 1024 * 1024,
        }
    }
}

/// When the operator investigates on its own.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Trigger {
    /// The rung of the trigger ladder.
    pub mode: TriggerMode,
}

/// The trigger ladder: manual → onFailure → continuous.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub enum TriggerMode {
    /// Only when a person creates an Investigation.
    #[default]
    Manual,
    /// When the skill's `detect` says a watched object fails.
    OnFailure,
    /// Again and again while the failure persists.
    Continuous,
}

/// What the operator observed about a Skill.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkillStatus {
    /// The generation these conditions describe.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub observed_generation: Option<i64>,
    /// `Accepted` (the manifest and component passed every check) and `Ready` (compiled and
    /// runnable).
    #[serde(default)]
    #[schemars(schema_with = "crate::conditions::schema")]
    pub conditions: Conditions,
    /// sha256 of the component the operator compiled, `sha256:<hex>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub digest: Option<String>,
    /// Tools the component imports (a subset of the granted ones once Accepted).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub imports: Vec<String>,
}

/// Why a Skill manifest is not acceptable. Each names the rule it breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ManifestError {
    /// Zero or several of builtin / configMapRef / url.
    #[error("spec.module must set exactly one of builtin, configMapRef or url (found {0})")]
    ModuleSourceCount(usize),
    /// A non-builtin module without a digest.
    #[error("spec.module.sha256 is required unless the module is builtin")]
    DigestMissing,
    /// A digest that is not 64 lowercase hex characters.
    #[error("spec.module.sha256 must be 64 lowercase hex characters, got {0:?}")]
    DigestFormat(String),
    /// A grant that names Secrets.
    #[error("spec.grants.resources[{index}].kinds names {kind:?}: Secrets are never granted")]
    SecretGranted {
        /// Index of the offending grant.
        index: usize,
        /// The kind as written.
        kind: String,
    },
    /// An empty or malformed kind in a grant.
    #[error("spec.grants.resources[{index}].kinds has an invalid kind {kind:?}")]
    InvalidKind {
        /// Index of the offending grant.
        index: usize,
        /// The kind as written.
        kind: String,
    },
    /// A code prefix that is not `word.`.
    #[error(
        "spec.codePrefix must be lowercase letters, digits and hyphens ending in '.', got {0:?}"
    )]
    CodePrefix(String),
    /// No target kinds.
    #[error("spec.targets must name at least one kind")]
    NoTargets,
    /// A target kind that names Secrets: investigating one would hand its name and data to a skill.
    #[error("spec.targets[{index}] names {kind:?}: Secrets are never investigated")]
    SecretTarget {
        /// Index of the offending target.
        index: usize,
        /// The kind as written.
        kind: String,
    },
    /// A string, list or number outside the CRD schema's bounds (`maxLength`, `maxItems`,
    /// `minimum`, a set listing an item twice), which the API server would refuse.
    #[error("{path} {problem}")]
    Bound {
        /// The field, e.g. `spec.grants.resources[0].namespaces`.
        path: String,
        /// What the schema allows, e.g. `has 65 items; at most 64 are allowed`.
        problem: String,
    },
    /// Limits out of range.
    #[error("spec.limits.{field} must be between {min} and {max}, got {value}")]
    Limit {
        /// Field name.
        field: &'static str,
        /// Lowest accepted.
        min: u64,
        /// Highest accepted.
        max: u64,
        /// As written.
        value: u64,
    },
}

/// Whether a kind string, in any spelling (`Secret`, `secrets`, `v1/Secret`, `secrets.`, `Secret.v1`),
/// names Kubernetes Secrets. Errs on the side of denial: any spelling that starts with "secret" after
/// dropping an apiVersion prefix counts.
pub fn names_secret(kind: &str) -> bool {
    let k = kind.trim().to_ascii_lowercase();
    // NB: every `/`-separated part counts, not only the last: the CEL rule
    // `^[ ]*(.*/)?[ ]*secret` refuses `Secret/x` too, and a Skill the API server refuses must
    // not pass `validate` (fuzz/regressions/manifest/target-kind-secret-slash.json).
    k.split('/')
        .any(|part| part.trim_start().starts_with("secret"))
}

impl SkillSpec {
    /// Checks the rules the API server's CEL validation also enforces, so a package is refused
    /// on a laptop for the same reasons it would be refused in a cluster.
    pub fn validate(&self) -> Result<(), ManifestError> {
        let m = &self.module;
        let sources = [
            m.builtin.is_some(),
            m.config_map_ref.is_some(),
            m.url.is_some(),
        ]
        .iter()
        .filter(|b| **b)
        .count();
        if sources != 1 {
            return Err(ManifestError::ModuleSourceCount(sources));
        }
        match (&m.sha256, m.builtin.is_some()) {
            (None, false) => return Err(ManifestError::DigestMissing),
            (Some(d), _)
                if !(d.len() == 64
                    && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))) =>
            {
                return Err(ManifestError::DigestFormat(d.clone()));
            }
            _ => {}
        }
        let p = &self.code_prefix;
        let stem = p.strip_suffix('.').unwrap_or("");
        if stem.is_empty()
            || !stem
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(ManifestError::CodePrefix(p.clone()));
        }
        for (index, g) in self.grants.resources.iter().enumerate() {
            for kind in &g.kinds {
                if names_secret(kind) {
                    return Err(ManifestError::SecretGranted {
                        index,
                        kind: kind.clone(),
                    });
                }
                let ok = kind == "*"
                    || (!kind.is_empty()
                        && kind.len() <= 253
                        && kind
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-'));
                if !ok {
                    return Err(ManifestError::InvalidKind {
                        index,
                        kind: kind.clone(),
                    });
                }
            }
        }
        if self.targets.is_empty() {
            return Err(ManifestError::NoTargets);
        }
        if let Some((index, t)) = self
            .targets
            .iter()
            .enumerate()
            .find(|(_, t)| names_secret(&t.kind))
        {
            return Err(ManifestError::SecretTarget {
                index,
                kind: t.kind.clone(),
            });
        }
        let l = &self.limits;
        let checks: [(&'static str, u64, u64, u64); 5] = [
            ("memoryMib", 1, 4096, l.memory_mib.into()),
            ("fuel", 1_000, 1_000_000_000_000, l.fuel),
            ("timeoutMillis", 1, 600_000, l.timeout_millis.into()),
            ("maxToolCalls", 0, 100_000, l.max_tool_calls.into()),
            ("maxResultBytes", 0, 1 << 30, l.max_result_bytes),
        ];
        for (field, min, max, value) in checks {
            if value < min || value > max {
                return Err(ManifestError::Limit {
                    field,
                    min,
                    max,
                    value,
                });
            }
        }
        self.check_schema_bounds()
    }

    /// The generated CRD schema's bounds, which the API server enforces before any CEL rule.
    fn check_schema_bounds(&self) -> Result<(), ManifestError> {
        static SPEC_SCHEMA: OnceLock<Option<serde_json::Value>> = OnceLock::new();
        let schema = SPEC_SCHEMA.get_or_init(|| {
            use kube::CustomResourceExt;
            let crd = serde_json::to_value(Skill::crd()).ok()?;
            crd.pointer("/spec/versions/0/schema/openAPIV3Schema/properties/spec")
                .cloned()
        });
        // The schema is generated from these types; it is always there (a test says so).
        let (Some(schema), Ok(value)) = (schema, serde_json::to_value(self)) else {
            return Ok(());
        };
        match crate::bounds::first_violation(schema, &value, "spec") {
            Some(v) => Err(ManifestError::Bound {
                path: v.path,
                problem: v.problem,
            }),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec() -> SkillSpec {
        serde_yaml_ng::from_str(
            r#"
codePrefix: workload.
module: {builtin: workload-health}
grants:
  tools: [get-object, list-objects]
  resources: [{kinds: [Pod, Deployment.apps], namespaces: []}]
targets: [{kind: Pod}]
"#,
        )
        .unwrap()
    }

    #[test]
    fn accepts_a_builtin_skill() {
        let s = spec();
        assert_eq!(s.limits, Limits::default());
        s.validate().unwrap();
    }

    #[test]
    fn module_needs_exactly_one_source_and_a_digest() {
        let mut s = spec();
        s.module.url = Some("skill.wasm".into());
        assert_eq!(s.validate(), Err(ManifestError::ModuleSourceCount(2)));
        s.module.builtin = None;
        assert_eq!(s.validate(), Err(ManifestError::DigestMissing));
        s.module.sha256 = Some("ABC".into());
        assert!(matches!(s.validate(), Err(ManifestError::DigestFormat(_))));
        s.module.sha256 = Some("a".repeat(64));
        s.validate().unwrap();
    }

    #[test]
    fn secrets_are_never_granted_in_any_spelling() {
        for kind in [
            "Secret",
            "secrets",
            "v1/Secret",
            "secrets.",
            "SECRET",
            " Secret",
        ] {
            let mut s = spec();
            s.grants.resources[0].kinds.push(kind.into());
            assert!(
                matches!(s.validate(), Err(ManifestError::SecretGranted { .. })),
                "{kind}"
            );
        }
        // Errs on the side of denial: a kind that merely starts with "secret" is refused too.
        assert!(names_secret("SecretStore.external-secrets.io"));
        assert!(!names_secret("ConfigMap"));
    }

    #[test]
    fn secrets_are_never_targets() {
        let mut s = spec();
        s.targets.push(TargetKind {
            kind: "secrets".into(),
            group: None,
        });
        assert!(matches!(
            s.validate(),
            Err(ManifestError::SecretTarget { index: 1, .. })
        ));
    }

    #[test]
    fn unknown_tools_do_not_parse() {
        let r: Result<SkillSpec, _> = serde_yaml_ng::from_str(
            "codePrefix: a.\nmodule: {builtin: x}\ngrants: {tools: [delete-object]}\ntargets: [{kind: Pod}]",
        );
        assert!(r.unwrap_err().to_string().contains("delete-object"));
    }

    #[test]
    fn schema_bounds_are_checked_as_the_api_server_checks_them() {
        let bound = |s: &SkillSpec| match s.validate() {
            Err(ManifestError::Bound { path, problem }) => format!("{path} {problem}"),
            other => panic!("expected a bound violation, got {other:?}"),
        };
        let mut s = spec();
        s.grants.resources[0].namespaces = (0..65).map(|i| format!("ns-{i}")).collect();
        assert_eq!(
            bound(&s),
            "spec.grants.resources[0].namespaces has 65 items; at most 64 are allowed"
        );
        s.grants.resources[0].namespaces.truncate(64);
        s.validate().unwrap();
        s.grants.resources[0].namespaces[3] = "n".repeat(64);
        assert_eq!(
            bound(&s),
            "spec.grants.resources[0].namespaces[3] is 64 characters long; at most 63 are allowed"
        );

        let mut s = spec();
        s.code_prefix = format!("{}.", "a".repeat(63));
        assert!(bound(&s).starts_with("spec.codePrefix is 64 characters long"));

        let mut s = spec();
        s.targets = (0..17)
            .map(|i| TargetKind {
                kind: format!("Kind{i}"),
                group: None,
            })
            .collect();
        assert_eq!(
            bound(&s),
            "spec.targets has 17 items; at most 16 are allowed"
        );

        let mut s = spec();
        s.grants.tools.push(Tool::GetObject);
        assert_eq!(
            bound(&s),
            "spec.grants.tools lists \"get-object\" twice; it is a set"
        );

        let mut s = spec();
        s.version = Some("v".repeat(65));
        assert!(bound(&s).starts_with("spec.version is 65 characters long"));
    }

    #[test]
    fn code_prefix_and_limits_are_checked() {
        let mut s = spec();
        s.code_prefix = "Workload".into();
        assert!(matches!(s.validate(), Err(ManifestError::CodePrefix(_))));
        let mut s = spec();
        s.limits.memory_mib = 0;
        assert!(matches!(
            s.validate(),
            Err(ManifestError::Limit {
                field: "memoryMib",
                ..
            })
        ));
    }
}
