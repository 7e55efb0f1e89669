//! # skillbox: investigate Kubernetes incidents with sandboxed skills
//!
//! A skill is a WebAssembly component (see the `skillbox-guest` crate) plus a Skill manifest and
//! SKILL.md prose. This crate runs skills against evidence and reports what they found.
//!
//! Where to start:
//! - [`package::SkillPackage`] loads and checks a skill package;
//! - [`engine::SkillEngine`] compiles it (cached), refuses imports its grants do not allow
//!   ([`tools::ToolWhitelist`]) and runs each call in a fresh, capped store;
//! - [`evidence::SnapshotSource`] answers the tools from a `kubectl get -o yaml` snapshot, with
//!   [`tools::ResourcePolicy`] checking every read (Secrets never);
//! - [`investigate::investigate`] runs the selected skills, checks their outcomes
//!   ([`check::check_outcome`]) into a [`report::Report`];
//! - [`probe`] checks a third-party skill package before anyone installs it;
//! - [`cli::run`] is the `skillbox` command.
#![deny(missing_docs)]

pub mod bench;
pub mod builtin;
pub mod check;
pub mod cli;
pub mod engine;
pub mod evidence;
pub mod filter;
pub mod investigate;
pub mod llm;
pub mod package;
pub mod probe;
pub mod redact;
pub mod report;
pub mod tools;
