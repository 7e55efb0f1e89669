//! skillbox's custom resource types, shared by the CLI (a skill package's manifest is a `Skill`
//! object) and the operator (which reads them from the API server).
//!
//! Start with [`Skill`]: its spec is the contract between a skill's author and the platform team
//! that installs it — what the component may import ([`Grants::tools`]), what it may read
//! ([`Grants::resources`]), which kinds it investigates and how much it may spend.
#![deny(missing_docs)]

mod skill;

pub use skill::{
    ConfigMapKeyRef, Grants, Limits, ManifestError, ModuleSource, ResourceGrant, Skill, SkillSpec,
    SkillStatus, TargetKind, Tool, Trigger, TriggerMode, names_secret,
};

/// The API group of every skillbox resource.
pub const GROUP: &str = "skillbox.dev";
/// The served version.
pub const VERSION: &str = "v1alpha1";
