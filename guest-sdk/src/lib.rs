//! # skillbox-guest: write a skillbox skill
//!
//! A skill is deterministic Rust that reads cluster evidence through a few read-only tools and
//! reports [`Finding`]s. Compiled for `wasm32-wasip2` it becomes a WebAssembly component that the
//! skillbox host runs in a sandbox; compiled natively, the same code runs in unit tests against
//! fixture objects ([`testing::Fixture`]).
//!
//! Start here:
//! 1. implement [`Skill`] for a unit struct;
//! 2. call [`export_skill!`] with it;
//! 3. read evidence with the functions in [`tools`] (each one you call becomes an import of your
//!    component, and the host refuses imports your Skill manifest does not grant);
//! 4. build findings with [`Finding::error`] / [`Finding::warning`] / [`Finding::info`] and return
//!    an [`Outcome`].
//!
//! ```
//! use skillbox_guest::{Finding, Manifest, ObjectRef, Outcome, Skill, tools};
//!
//! struct PhaseCheck;
//!
//! impl Skill for PhaseCheck {
//!     fn describe() -> Manifest {
//!         Manifest::new("phase-check", "0.1.0", "phase.")
//!             .target_kinds(["Pod"])
//!             .tools(["get-object"])
//!     }
//!
//!     fn investigate(target: &ObjectRef) -> Result<Outcome, String> {
//!         let pod = tools::get_object(&target.kind, target.namespace.as_deref(), &target.name)
//!             .map_err(|e| e.to_string())?;
//!         let mut findings = Vec::new();
//!         if pod.str_at("status.phase") == Some("Failed") {
//!             findings.push(Finding::error("phase.failed", format!("Pod {} failed", pod.display_name()))
//!                 .resource(pod.object_ref()));
//!         }
//!         Ok(Outcome::from_findings(findings))
//!     }
//! }
//!
//! skillbox_guest::export_skill!(PhaseCheck);
//! ```
#![deny(missing_docs)]

mod fields;
pub mod k8s;
mod object;
pub mod selector;
pub mod text;
pub mod tools;
mod types;

#[cfg(not(target_arch = "wasm32"))]
pub mod testing;

pub use object::Object;
pub use types::{Finding, Manifest, ObjectRef, Outcome, Severity, ToolError, Verdict};

/// The version of the skill ABI (WIT package `skillbox:skill`) this SDK builds against.
pub const ABI_VERSION: &str = "0.1.0";

/// The version of this SDK.
pub const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What every skill implements. The host calls these through the component's exports.
///
/// The functions take no `self`: a fresh instance serves each call, so a skill keeps no state
/// between calls (the host enforces this by building a new sandbox per call).
pub trait Skill {
    /// Static facts about the skill. Must not call tools.
    fn describe() -> Manifest;

    /// Investigate `target` and report what explains its state.
    ///
    /// Return `Err` only when the skill itself cannot work (e.g. the target cannot be read);
    /// "nothing found" is `Ok` with verdict `healthy`, "something is wrong but I cannot say why"
    /// is `Ok` with verdict `inconclusive`.
    fn investigate(target: &ObjectRef) -> Result<Outcome, String>;

    /// A cheap test used by the controller's triggers: is `object` failing in a way this skill
    /// investigates? Must not call tools. The default says no.
    fn detect(object: &Object) -> bool {
        let _ = object;
        false
    }
}

/// Exports a [`Skill`] implementation as the component's `describe`, `investigate` and `detect`.
///
/// Call it once per skill crate, at the crate root. On non-wasm targets it expands to nothing, so
/// the same crate builds natively for unit tests.
#[macro_export]
macro_rules! export_skill {
    ($skill:ty) => {
        #[cfg(target_arch = "wasm32")]
        const _: () = {
            struct __SkillboxExport;
            impl $crate::wit::Guest for __SkillboxExport {
                fn describe() -> $crate::wit::skillbox::skill::types::Manifest {
                    $crate::__export::describe::<$skill>()
                }
                fn investigate(
                    target: $crate::wit::skillbox::skill::types::ObjectRef,
                ) -> ::core::result::Result<
                    $crate::wit::skillbox::skill::types::Outcome,
                    ::std::string::String,
                > {
                    $crate::__export::investigate::<$skill>(target)
                }
                fn detect(object: ::std::string::String) -> bool {
                    $crate::__export::detect::<$skill>(object)
                }
            }
    $crate::wit::__skillbox_export_world!(__SkillboxExport with_types_in $crate::wit);
        };
    };
}

/// The generated bindings of the skill ABI. Not part of the API: use [`Skill`], [`export_skill!`]
/// and [`tools`] instead.
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
#[allow(unsafe_code, missing_docs, clippy::all)] // NB: wit-bindgen's generated glue is `unsafe` by nature; nothing hand-written here.
pub mod wit {
    wit_bindgen::generate!({
        world: "skill",
        path: "wit",
        pub_export_macro: true,
        export_macro_name: "__skillbox_export_world",
        default_bindings_module: "skillbox_guest::wit",
    });
}

/// Conversions between the SDK's types and the generated ones, used by [`export_skill!`].
#[cfg(target_arch = "wasm32")]
#[doc(hidden)]
pub mod __export {
    use crate::wit::skillbox::skill::types as w;
    use crate::{Object, ObjectRef, Skill};

    pub fn describe<S: Skill>() -> w::Manifest {
        S::describe().into()
    }

    pub fn investigate<S: Skill>(target: w::ObjectRef) -> Result<w::Outcome, String> {
        S::investigate(&ObjectRef::from(target)).map(Into::into)
    }

    pub fn detect<S: Skill>(object: String) -> bool {
        match Object::from_json(&object) {
            Ok(o) => S::detect(&o),
            Err(_) => false,
        }
    }
}
