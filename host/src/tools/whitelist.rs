//! Link-time refusal: a component's imports are compared with its Skill's granted tools and a
//! fixed set of harmless WASI interfaces before anything is linked or run.

use skillbox_crds::Tool;
use std::collections::BTreeSet;
use std::fmt;

/// The WIT package of the skill ABI.
pub const ABI_PACKAGE: &str = "skillbox:skill";
/// ABI versions this host links: `0.1.x` (minor bumps break while < 1.0).
const ABI_COMPATIBLE: (u64, u64) = (0, 1);

/// WASI interfaces a Rust `std` guest imports even when it does no I/O (panic messages, stdio
/// handles, `HashMap` seeds, clocks). None reaches the filesystem, the network or the environment:
/// the context linked behind them has no preopens, no sockets, an empty environment, closed stdin,
/// discarded stdout and a bounded stderr.
const HARMLESS_WASI: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stderr",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stderr",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:clocks/monotonic-clock",
    "wasi:clocks/wall-clock",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
    "wasi:random/insecure",
    "wasi:random/insecure-seed",
    "wasi:random/random",
];

/// The tools a Skill grants; everything else a component imports is refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolWhitelist {
    tools: BTreeSet<Tool>,
}

/// Why a component's import was refused. Each names the import.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportRefusal {
    /// A skill ABI tool the Skill does not grant.
    #[error("imports tool `{import}`, which its Skill does not grant (granted: {granted})")]
    ToolNotGranted {
        /// The import as the component names it.
        import: String,
        /// The granted tools, comma-separated.
        granted: String,
    },
    /// A WASI interface outside the harmless set (filesystem, sockets, http, …).
    #[error("imports `{import}`: {reason}")]
    Forbidden {
        /// The import as the component names it.
        import: String,
        /// Why this import is never linked.
        reason: String,
    },
    /// Built against a skill ABI this host does not speak.
    #[error(
        "imports `{import}`: skill ABI version {version} is not compatible with this host's 0.1"
    )]
    IncompatibleAbi {
        /// The import as the component names it.
        import: String,
        /// The version it asks for.
        version: String,
    },
}

/// One import, split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportName<'a> {
    /// `wasi:io`, `skillbox:skill`.
    pub package: &'a str,
    /// `streams`, `get-object`; empty for a bare (non-interface) import.
    pub interface: &'a str,
    /// `0.2.6`; empty when unversioned.
    pub version: &'a str,
}

impl<'a> ImportName<'a> {
    /// Splits `pkg:name/interface@version`.
    pub fn parse(import: &'a str) -> Self {
        let (name, version) = import.split_once('@').unwrap_or((import, ""));
        let (package, interface) = name.split_once('/').unwrap_or((name, ""));
        Self {
            package,
            interface,
            version,
        }
    }
}

impl fmt::Display for ImportName<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.package, self.interface)
    }
}

impl ToolWhitelist {
    /// The whitelist of these granted tools.
    pub fn new(tools: impl IntoIterator<Item = Tool>) -> Self {
        Self {
            tools: tools.into_iter().collect(),
        }
    }

    /// The granted tools.
    pub fn tools(&self) -> impl Iterator<Item = Tool> + '_ {
        self.tools.iter().copied()
    }

    /// Checks every import; the first refusal, in import order, is returned.
    pub fn check<'a>(
        &self,
        imports: impl IntoIterator<Item = &'a str>,
    ) -> Result<(), ImportRefusal> {
        imports.into_iter().try_for_each(|i| self.check_one(i))
    }

    /// Checks one import name.
    pub fn check_one(&self, import: &str) -> Result<(), ImportRefusal> {
        let name = ImportName::parse(import);
        if name.package == ABI_PACKAGE {
            if !abi_compatible(name.version) {
                return Err(ImportRefusal::IncompatibleAbi {
                    import: import.into(),
                    version: name.version.into(),
                });
            }
            if name.interface == "types" {
                return Ok(());
            }
            return match Tool::from_interface(name.interface) {
                Some(t) if self.tools.contains(&t) => Ok(()),
                Some(_) => Err(ImportRefusal::ToolNotGranted {
                    import: import.into(),
                    granted: self.granted_list(),
                }),
                None => Err(ImportRefusal::Forbidden {
                    import: import.into(),
                    reason: "no such tool in the skill ABI".into(),
                }),
            };
        }
        if name.package.starts_with("wasi:") && name.version.starts_with("0.2.") {
            let unversioned = name.to_string();
            if HARMLESS_WASI.contains(&unversioned.as_str()) {
                return Ok(());
            }
        }
        let reason = match name.package {
            "wasi:filesystem" => "skills have no filesystem; evidence comes through tools",
            "wasi:sockets" => "skills have no network; evidence comes through tools",
            "wasi:http" => "skills have no network; evidence comes through tools",
            p if p.starts_with("wasi:") => "this WASI interface is not linked for skills",
            _ => "not part of the skill ABI or the WASI subset skills may import",
        };
        Err(ImportRefusal::Forbidden {
            import: import.into(),
            reason: reason.into(),
        })
    }

    fn granted_list(&self) -> String {
        if self.tools.is_empty() {
            return "none".into();
        }
        self.tools
            .iter()
            .map(|t| t.interface())
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn abi_compatible(version: &str) -> bool {
    let mut parts = version.split('.').map(str::parse::<u64>);
    matches!(
        (parts.next(), parts.next()),
        (Some(Ok(major)), Some(Ok(minor))) if (major, minor) == ABI_COMPATIBLE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wl() -> ToolWhitelist {
        ToolWhitelist::new([Tool::GetObject, Tool::ListObjects])
    }

    #[test]
    fn granted_tools_and_harmless_wasi_pass() {
        wl().check([
            "skillbox:skill/types@0.1.0",
            "skillbox:skill/get-object@0.1.0",
            "skillbox:skill/list-objects@0.1.3",
            "wasi:io/streams@0.2.6",
            "wasi:cli/environment@0.2.0",
            "wasi:random/insecure-seed@0.2.6",
        ])
        .unwrap();
    }

    #[test]
    fn ungranted_tool_is_named() {
        let e = wl()
            .check_one("skillbox:skill/read-logs@0.1.0")
            .unwrap_err();
        assert!(matches!(e, ImportRefusal::ToolNotGranted { .. }));
        let msg = e.to_string();
        assert!(msg.contains("skillbox:skill/read-logs@0.1.0"), "{msg}");
        assert!(msg.contains("get-object, list-objects"), "{msg}");
    }

    #[test]
    fn filesystem_sockets_and_strangers_are_refused() {
        for i in [
            "wasi:filesystem/types@0.2.6",
            "wasi:filesystem/preopens@0.2.6",
            "wasi:sockets/tcp@0.2.6",
            "wasi:http/outgoing-handler@0.2.6",
            "wasi:io/streams@0.3.0",
            "evil:host/exec",
            "skillbox:skill/delete-object@0.1.0",
        ] {
            let e = wl().check_one(i).unwrap_err();
            assert!(matches!(e, ImportRefusal::Forbidden { .. }), "{i}: {e}");
            assert!(e.to_string().contains(i));
        }
    }

    #[test]
    fn incompatible_abi_is_refused() {
        for v in ["1.0.0", "0.2.0", "", "x.y"] {
            let import = format!("skillbox:skill/get-object@{v}");
            assert!(matches!(
                wl().check_one(&import),
                Err(ImportRefusal::IncompatibleAbi { .. })
            ));
        }
    }
}
