//! Skill packages: a folder with `SKILL.md`, a Skill manifest (`skill.yaml`) and the component it
//! names, or the same three embedded in the binary. Loading checks every rule a cluster would.

mod skill_md;

pub use skill_md::{SkillMd, SkillMdError};

use crate::builtin::{self, Builtin};
use crate::engine::sha256_hex;
use skillbox_crds::{ManifestError, Skill, SkillSpec};
use std::borrow::Cow;
use std::path::{Component, Path, PathBuf};

/// The manifest's file name in a package folder.
pub const MANIFEST_FILE: &str = "skill.yaml";
/// The prose's file name in a package folder.
pub const SKILL_MD_FILE: &str = "SKILL.md";

/// Where a package came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageSource {
    /// Embedded in this binary.
    Builtin,
    /// A folder on disk.
    Dir(PathBuf),
    /// A Skill object of a cluster; the component came from the place named (a builtin, a
    /// ConfigMap `namespace/name#key`, or a URL).
    Cluster(String),
}

/// A validated skill package.
#[derive(Debug, Clone)]
pub struct SkillPackage {
    skill_md: SkillMd,
    manifest: Skill,
    wasm: Cow<'static, [u8]>,
    digest: String,
    source: PackageSource,
}

/// Why a package was refused. Each names the file and the rule.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    /// The folder or a file in it cannot be read.
    #[error("{path}: {source}")]
    Io {
        /// The path.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// SKILL.md breaks a rule.
    #[error("{path}: {source}")]
    SkillMd {
        /// The file.
        path: PathBuf,
        /// The rule.
        #[source]
        source: SkillMdError,
    },
    /// The manifest is not a Skill object.
    #[error("{path}: not a skillbox.dev/v1alpha1 Skill: {message}")]
    ManifestParse {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The manifest breaks a rule.
    #[error("{path}: {source}")]
    Manifest {
        /// The file.
        path: PathBuf,
        /// The rule.
        #[source]
        source: ManifestError,
    },
    /// Manifest, SKILL.md and folder disagree on the name.
    #[error("{path}: metadata.name {manifest:?} must equal the SKILL.md name {skill_md:?}")]
    NameMismatch {
        /// The manifest file.
        path: PathBuf,
        /// metadata.name.
        manifest: String,
        /// SKILL.md name.
        skill_md: String,
    },
    /// The manifest names a builtin this binary does not have.
    #[error(
        "{path}: spec.module.builtin {name:?} is not built into this skillbox (built in: {known})"
    )]
    UnknownBuiltin {
        /// The manifest file.
        path: PathBuf,
        /// The name asked for.
        name: String,
        /// What exists.
        known: String,
    },
    /// A module URL a package folder cannot hold.
    #[error("{path}: spec.module.url {url:?} must be a relative path inside the package folder")]
    ModulePath {
        /// The manifest file.
        path: PathBuf,
        /// The URL.
        url: String,
    },
    /// A cluster Skill without SKILL.md prose and without a builtin to take it from.
    #[error("{path}: spec.prose (the skill's SKILL.md) is required unless the module is builtin")]
    ProseMissing {
        /// The Skill.
        path: PathBuf,
    },
    /// A configMapRef module, which only the operator can read.
    #[error(
        "{path}: spec.module.configMapRef is read by the operator in a cluster; a package folder needs spec.module.url"
    )]
    ConfigMapModule {
        /// The manifest file.
        path: PathBuf,
    },
    /// The component's sha256 is not the manifest's.
    #[error("{path}: sha256 {actual} does not match spec.module.sha256 {expected}")]
    DigestMismatch {
        /// The component file.
        path: PathBuf,
        /// From the manifest.
        expected: String,
        /// Of the file.
        actual: String,
    },
    /// Not a WebAssembly component.
    #[error("{path}: {reason}")]
    NotAComponent {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        reason: String,
    },
}

impl SkillPackage {
    /// Loads and checks a package folder.
    pub fn load_dir(dir: &Path) -> Result<Self, PackageError> {
        let io = |path: PathBuf| move |source| PackageError::Io { path, source };
        let meta = std::fs::metadata(dir).map_err(io(dir.to_path_buf()))?;
        if !meta.is_dir() {
            return Err(PackageError::Io {
                path: dir.to_path_buf(),
                source: std::io::Error::other("not a folder"),
            });
        }
        let folder = dir
            .canonicalize()
            .ok()
            .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()));
        let md_path = dir.join(SKILL_MD_FILE);
        let md_text = std::fs::read_to_string(&md_path).map_err(io(md_path.clone()))?;
        let skill_md = SkillMd::parse(&md_text, folder.as_deref()).map_err(|source| {
            PackageError::SkillMd {
                path: md_path.clone(),
                source,
            }
        })?;
        let man_path = dir.join(MANIFEST_FILE);
        let man_text = std::fs::read_to_string(&man_path).map_err(io(man_path.clone()))?;
        let manifest = parse_manifest(&man_text, &man_path)?;
        check_names(&manifest, &skill_md, &man_path)?;
        let m = &manifest.spec.module;
        let wasm: Cow<'static, [u8]> = if let Some(name) = &m.builtin {
            Cow::Borrowed(find_builtin(name, &man_path)?.wasm)
        } else if let Some(url) = &m.url {
            let rel = Path::new(url);
            let inside = !url.contains("://")
                && rel
                    .components()
                    .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
            if !inside {
                return Err(PackageError::ModulePath {
                    path: man_path,
                    url: url.clone(),
                });
            }
            let p = dir.join(rel);
            Cow::Owned(std::fs::read(&p).map_err(io(p.clone()))?)
        } else {
            return Err(PackageError::ConfigMapModule { path: man_path });
        };
        let wasm_path = match &m.url {
            Some(u) => dir.join(u),
            None => man_path.clone(),
        };
        Self::assemble(
            skill_md,
            manifest,
            wasm,
            PackageSource::Dir(dir.to_path_buf()),
            &wasm_path,
        )
    }

    /// The built-in package `b`.
    pub fn from_builtin(b: &'static Builtin) -> Result<Self, PackageError> {
        let path = PathBuf::from(format!("builtin:{}", b.name));
        let skill_md =
            SkillMd::parse(b.skill_md, Some(b.name)).map_err(|source| PackageError::SkillMd {
                path: path.join(SKILL_MD_FILE),
                source,
            })?;
        let man_path = path.join(MANIFEST_FILE);
        let manifest = parse_manifest(b.manifest, &man_path)?;
        check_names(&manifest, &skill_md, &man_path)?;
        Self::assemble(
            skill_md,
            manifest,
            Cow::Borrowed(b.wasm),
            PackageSource::Builtin,
            &path,
        )
    }

    /// A package from a cluster's Skill object and the component bytes the operator fetched from
    /// `origin` (a ConfigMap key or a URL; ignored for builtins, whose embedded bytes are used).
    ///
    /// The SKILL.md is `spec.prose` when set (it must then parse, frontmatter and all, and name
    /// the Skill); a builtin without prose uses its embedded SKILL.md. The same manifest rules as
    /// a package folder apply, and the digest is checked before anything compiles the bytes.
    pub fn from_cluster(
        manifest: Skill,
        wasm: Option<Vec<u8>>,
        origin: &str,
    ) -> Result<Self, PackageError> {
        let name = manifest.metadata.name.clone().unwrap_or_default();
        let path = PathBuf::from(format!("skill/{name}"));
        manifest
            .spec
            .validate()
            .map_err(|source| PackageError::Manifest {
                path: path.clone(),
                source,
            })?;
        let builtin = match &manifest.spec.module.builtin {
            Some(b) => Some(find_builtin(b, &path)?),
            None => None,
        };
        let md_text = match (&manifest.spec.prose, builtin) {
            (Some(p), _) => p.as_str(),
            (None, Some(b)) => b.skill_md,
            (None, None) => {
                return Err(PackageError::ProseMissing { path });
            }
        };
        let skill_md =
            SkillMd::parse(md_text, Some(&name)).map_err(|source| PackageError::SkillMd {
                path: path.join(SKILL_MD_FILE),
                source,
            })?;
        check_names(&manifest, &skill_md, &path)?;
        let wasm: Cow<'static, [u8]> = match (builtin, wasm) {
            (Some(b), _) => Cow::Borrowed(b.wasm),
            (None, Some(bytes)) => Cow::Owned(bytes),
            (None, None) => {
                return Err(PackageError::Io {
                    path: PathBuf::from(origin),
                    source: std::io::Error::other("no component bytes were fetched"),
                });
            }
        };
        Self::assemble(
            skill_md,
            manifest,
            wasm,
            PackageSource::Cluster(origin.to_string()),
            Path::new(origin),
        )
    }

    /// Every built-in package.
    pub fn builtins() -> Result<Vec<Self>, PackageError> {
        builtin::all().iter().map(Self::from_builtin).collect()
    }

    fn assemble(
        skill_md: SkillMd,
        manifest: Skill,
        wasm: Cow<'static, [u8]>,
        source: PackageSource,
        wasm_path: &Path,
    ) -> Result<Self, PackageError> {
        check_component_header(&wasm).map_err(|reason| PackageError::NotAComponent {
            path: wasm_path.to_path_buf(),
            reason,
        })?;
        let digest = sha256_hex(&wasm);
        if let Some(expected) = &manifest.spec.module.sha256
            && *expected != digest
        {
            return Err(PackageError::DigestMismatch {
                path: wasm_path.to_path_buf(),
                expected: expected.clone(),
                actual: digest,
            });
        }
        Ok(Self {
            skill_md,
            manifest,
            wasm,
            digest,
            source,
        })
    }

    /// The skill's name.
    pub fn name(&self) -> &str {
        &self.skill_md.name
    }
    /// The parsed SKILL.md.
    pub fn skill_md(&self) -> &SkillMd {
        &self.skill_md
    }
    /// The Skill manifest.
    pub fn manifest(&self) -> &Skill {
        &self.manifest
    }
    /// The manifest's spec.
    pub fn spec(&self) -> &SkillSpec {
        &self.manifest.spec
    }
    /// The component bytes.
    pub fn wasm(&self) -> &[u8] {
        &self.wasm
    }
    /// Hex sha256 of the component.
    pub fn digest(&self) -> &str {
        &self.digest
    }
    /// Where it came from.
    pub fn source(&self) -> &PackageSource {
        &self.source
    }
}

fn find_builtin(name: &str, man_path: &Path) -> Result<&'static Builtin, PackageError> {
    builtin::find(name).ok_or_else(|| PackageError::UnknownBuiltin {
        path: man_path.to_path_buf(),
        name: name.into(),
        known: builtin::all()
            .iter()
            .map(|b| b.name)
            .collect::<Vec<_>>()
            .join(", "),
    })
}

fn parse_manifest(text: &str, path: &Path) -> Result<Skill, PackageError> {
    let bad = |message: String| PackageError::ManifestParse {
        path: path.to_path_buf(),
        message,
    };
    let value: serde_json::Value = serde_yaml_ng::from_str(text).map_err(|e| bad(e.to_string()))?;
    let field = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or("");
    let (api, kind) = (field("apiVersion"), field("kind"));
    if (api, kind) != ("skillbox.dev/v1alpha1", "Skill") {
        return Err(bad(format!(
            "apiVersion {api:?} kind {kind:?}, want skillbox.dev/v1alpha1 Skill"
        )));
    }
    let skill: Skill = serde_json::from_value(value).map_err(|e| bad(e.to_string()))?;
    skill
        .spec
        .validate()
        .map_err(|source| PackageError::Manifest {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(skill)
}

fn check_names(manifest: &Skill, md: &SkillMd, path: &Path) -> Result<(), PackageError> {
    let name = manifest.metadata.name.clone().unwrap_or_default();
    if name != md.name {
        return Err(PackageError::NameMismatch {
            path: path.to_path_buf(),
            manifest: name,
            skill_md: md.name.clone(),
        });
    }
    Ok(())
}

/// A component starts with `\0asm` and layer 1 (`0d 00 01 00`); a core module with `01 00 00 00`.
fn check_component_header(bytes: &[u8]) -> Result<(), String> {
    match bytes {
        [0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00, ..] => Ok(()),
        [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, ..] => Err(
            "a core wasm module, not a component: build the skill with `cargo build --target wasm32-wasip2`"
                .into(),
        ),
        _ => Err(format!(
            "not a WebAssembly component ({} bytes, no `\\0asm` component header)",
            bytes.len()
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn component_header_is_checked() {
        assert!(check_component_header(b"\0asm\x0d\0\x01\0rest").is_ok());
        assert!(
            check_component_header(b"\0asm\x01\0\0\0")
                .unwrap_err()
                .contains("core wasm module")
        );
        assert!(check_component_header(b"PK\x03\x04").is_err());
        assert!(check_component_header(b"").is_err());
    }

    #[test]
    fn builtins_are_valid_packages() {
        let all = SkillPackage::builtins().unwrap();
        assert!(all.iter().any(|p| p.name() == "workload-health"));
        for p in &all {
            assert_eq!(p.source(), &PackageSource::Builtin);
            assert_eq!(p.digest().len(), 64);
        }
    }

    #[test]
    fn folder_package_rules() {
        let dir = tempfile::tempdir().unwrap();
        let pkg = dir.path().join("my-skill");
        std::fs::create_dir(&pkg).unwrap();
        std::fs::write(
            pkg.join(SKILL_MD_FILE),
            "---\nname: my-skill\ndescription: test\n---\nbody\n",
        )
        .unwrap();
        let wasm = crate::builtin::find("workload-health").unwrap().wasm;
        std::fs::write(pkg.join("skill.wasm"), wasm).unwrap();
        let manifest = |sha: &str, url: &str| {
            format!(
                "apiVersion: skillbox.dev/v1alpha1\nkind: Skill\nmetadata: {{name: my-skill}}\nspec:\n  codePrefix: workload.\n  module: {{url: {url:?}, sha256: {sha:?}}}\n  grants: {{tools: [get-object]}}\n  targets: [{{kind: Pod}}]\n"
            )
        };
        let good = sha256_hex(wasm);
        std::fs::write(pkg.join(MANIFEST_FILE), manifest(&good, "skill.wasm")).unwrap();
        let p = SkillPackage::load_dir(&pkg).unwrap();
        assert_eq!(p.digest(), good);

        std::fs::write(
            pkg.join(MANIFEST_FILE),
            manifest(&"0".repeat(64), "skill.wasm"),
        )
        .unwrap();
        assert!(matches!(
            SkillPackage::load_dir(&pkg),
            Err(PackageError::DigestMismatch { .. })
        ));
        std::fs::write(pkg.join(MANIFEST_FILE), manifest(&good, "../skill.wasm")).unwrap();
        assert!(matches!(
            SkillPackage::load_dir(&pkg),
            Err(PackageError::ModulePath { .. })
        ));
        std::fs::write(pkg.join("skill.wasm"), b"garbage").unwrap();
        std::fs::write(
            pkg.join(MANIFEST_FILE),
            manifest(&sha256_hex(b"garbage"), "skill.wasm"),
        )
        .unwrap();
        let e = SkillPackage::load_dir(&pkg).unwrap_err();
        assert!(matches!(e, PackageError::NotAComponent { .. }), "{e}");
    }
}
