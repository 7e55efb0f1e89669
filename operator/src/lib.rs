//! # skillbox-operator: skillbox in a cluster
//!
//! Reconciles `Skill`, `Investigation` and `ModelProvider` objects with kube-runtime, answers
//! skills' tools from the live API server under the same whitelist as the CLI, creates
//! Investigations for failing objects (the trigger ladder), and runs one active replica behind a
//! Lease. [`run`] is `skillbox controller`.
#![deny(missing_docs)]

pub mod context;
pub mod controller;
pub mod error;
pub mod investigations;
pub mod leader;
pub mod live;
pub mod metrics;
pub mod providers;
pub mod registry;
pub mod serve;
pub mod skills;
pub mod trigger;

#[cfg(test)]
mod reconcile_tests;

pub use controller::run;
