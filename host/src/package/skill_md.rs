//! SKILL.md: agentskills.io frontmatter (`name`, `description`) over prose for people and LLMs.

use serde::Deserialize;

/// A parsed SKILL.md.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillMd {
    /// Frontmatter `name`.
    pub name: String,
    /// Frontmatter `description`.
    pub description: String,
    /// Everything after the frontmatter.
    pub body: String,
}

/// The rule a SKILL.md breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkillMdError {
    /// No `---` frontmatter block at the top.
    #[error("must start with a `---` frontmatter block closed by another `---` line")]
    NoFrontmatter,
    /// The frontmatter is not a YAML mapping with string fields.
    #[error("frontmatter is not valid YAML: {0}")]
    Yaml(String),
    /// `name` missing.
    #[error("frontmatter has no `name`")]
    NameMissing,
    /// `name` breaks the agentskills.io rule.
    #[error(
        "name {0:?} must be 1-64 characters of [a-z0-9-], without leading, trailing or double hyphens"
    )]
    NameFormat(String),
    /// `name` differs from the folder.
    #[error("name {name:?} must equal the skill's folder name {folder:?}")]
    NameNotFolder {
        /// Frontmatter name.
        name: String,
        /// Folder name.
        folder: String,
    },
    /// `description` missing.
    #[error("frontmatter has no `description`")]
    DescriptionMissing,
    /// `description` breaks the agentskills.io rule.
    #[error("description must be 1-1024 characters without `<` or `>` ({0})")]
    DescriptionFormat(String),
}

#[derive(Deserialize)]
struct Frontmatter {
    name: Option<String>,
    description: Option<String>,
}

impl SkillMd {
    /// Parses and checks a SKILL.md; `folder` is the package folder's name when known.
    pub fn parse(text: &str, folder: Option<&str>) -> Result<Self, SkillMdError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let rest = text
            .strip_prefix("---\n")
            .or_else(|| text.strip_prefix("---\r\n"))
            .ok_or(SkillMdError::NoFrontmatter)?;
        let (front, body) = split_at_fence(rest).ok_or(SkillMdError::NoFrontmatter)?;
        let fm: Frontmatter =
            serde_yaml_ng::from_str(front).map_err(|e| SkillMdError::Yaml(e.to_string()))?;
        let name = fm.name.ok_or(SkillMdError::NameMissing)?;
        check_name(&name)?;
        if let Some(folder) = folder
            && folder != name
        {
            return Err(SkillMdError::NameNotFolder {
                name,
                folder: folder.into(),
            });
        }
        let description = fm.description.ok_or(SkillMdError::DescriptionMissing)?;
        let len = description.chars().count();
        if len == 0 || len > 1024 {
            return Err(SkillMdError::DescriptionFormat(format!("{len} characters")));
        }
        if description.contains(['<', '>']) {
            return Err(SkillMdError::DescriptionFormat("contains < or >".into()));
        }
        Ok(Self {
            name,
            description,
            body: body.to_string(),
        })
    }
}

/// Splits at the first line that is exactly `---`.
fn split_at_fence(s: &str) -> Option<(&str, &str)> {
    let mut offset = 0;
    for line in s.split_inclusive('\n') {
        if line.trim_end_matches(['\n', '\r']) == "---" {
            return Some((&s[..offset], &s[offset + line.len()..]));
        }
        offset += line.len();
    }
    None
}

fn check_name(name: &str) -> Result<(), SkillMdError> {
    let ok = (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    if ok {
        Ok(())
    } else {
        Err(SkillMdError::NameFormat(name.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn md(name: &str, desc: &str) -> String {
        format!("---\nname: {name}\ndescription: {desc}\nlicense: Apache-2.0\n---\n# Body\ntext\n")
    }

    #[test]
    fn parses_frontmatter_and_body() {
        let s = SkillMd::parse(
            &md("workload-health", "Why pods fail"),
            Some("workload-health"),
        )
        .unwrap();
        assert_eq!(s.name, "workload-health");
        assert_eq!(s.description, "Why pods fail");
        assert_eq!(s.body, "# Body\ntext\n");
    }

    #[test]
    fn each_rule_is_named() {
        assert_eq!(
            SkillMd::parse("# no frontmatter", None),
            Err(SkillMdError::NoFrontmatter)
        );
        assert_eq!(
            SkillMd::parse("---\nname: a\n", None),
            Err(SkillMdError::NoFrontmatter)
        );
        assert!(matches!(
            SkillMd::parse("---\nname: [\n---\n", None),
            Err(SkillMdError::Yaml(_))
        ));
        assert_eq!(
            SkillMd::parse("---\ndescription: d\n---\n", None),
            Err(SkillMdError::NameMissing)
        );
        for bad in ["-a", "a-", "a--b", "A", "a_b", &"a".repeat(65)] {
            assert!(
                matches!(
                    SkillMd::parse(&md(bad, "d"), None),
                    Err(SkillMdError::NameFormat(_))
                ),
                "{bad}"
            );
        }
        assert!(matches!(
            SkillMd::parse(&md("a", "d"), Some("b")),
            Err(SkillMdError::NameNotFolder { .. })
        ));
        assert_eq!(
            SkillMd::parse("---\nname: a\n---\n", None),
            Err(SkillMdError::DescriptionMissing)
        );
        assert!(matches!(
            SkillMd::parse(&md("a", "uses <script>"), None),
            Err(SkillMdError::DescriptionFormat(_))
        ));
        assert!(matches!(
            SkillMd::parse(&md("a", &"x".repeat(1025)), None),
            Err(SkillMdError::DescriptionFormat(_))
        ));
        assert!(matches!(
            SkillMd::parse(&md("a", "''"), None),
            Err(SkillMdError::DescriptionFormat(_))
        ));
    }
}
