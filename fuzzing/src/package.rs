//! A skill package's text: its SKILL.md and its Skill manifest.

use skillbox::package::{SkillMd, SkillMdError, SkillPackage};
use skillbox_crds::{Skill, SkillSpec};

/// agentskills.io's name rule, restated: 1-64 of `[a-z0-9-]`, no leading, trailing or double `-`.
fn name_ok(name: &str) -> bool {
    (1..=64).contains(&name.len())
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--")
}

/// Property: any text as SKILL.md parses or is refused, never panics; what is accepted has a
/// name and description within agentskills.io's rules, its body is the text's tail, a folder of
/// its name changes nothing and any other folder is refused; and the body cannot reach the
/// frontmatter (a second frontmatter block in it stays body).
pub fn skill_md(data: &[u8]) {
    // NB: the package loader reads SKILL.md as UTF-8 and refuses anything else before parsing.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let md = match SkillMd::parse(text, None) {
        Ok(md) => md,
        Err(_) => {
            assert!(
                SkillMd::parse(text, Some("some-skill")).is_err(),
                "a folder lifted a rule"
            );
            return;
        }
    };
    assert!(name_ok(&md.name), "name {:?} accepted", md.name);
    let len = md.description.chars().count();
    assert!(
        (1..=1024).contains(&len),
        "description of {len} characters accepted"
    );
    assert!(
        !md.description.contains(['<', '>']),
        "description with < or > accepted"
    );
    assert!(text.ends_with(&md.body), "the body is not the text's tail");
    assert_eq!(
        SkillMd::parse(text, Some(&md.name)).as_ref(),
        Ok(&md),
        "the folder of its own name changed the parse"
    );
    let other = if md.name == "other" {
        "another"
    } else {
        "other"
    };
    assert!(
        matches!(
            SkillMd::parse(text, Some(other)),
            Err(SkillMdError::NameNotFolder { .. })
        ),
        "a folder of another name was accepted"
    );

    let head = &text[..text.len() - md.body.len()];
    let sep = if head.ends_with('\n') { "" } else { "\n" };
    let payload = "---\nname: forged\ndescription: from the body\n---\nrest\n";
    let forged = format!("{head}{sep}{payload}");
    match SkillMd::parse(&forged, None) {
        Ok(again) => {
            assert_eq!(
                (&again.name, &again.description),
                (&md.name, &md.description),
                "a frontmatter block in the body replaced the real one"
            );
            assert_eq!(again.body, payload, "the body was not kept whole");
        }
        Err(e) => panic!("appending to the body made the SKILL.md invalid: {e}"),
    }
}

/// Whether the API server's CEL rule `!k.lowerAscii().matches('^[ ]*(.*/)?[ ]*secret')` refuses
/// `kind`, evaluated as RE2 does (`.` stops at a newline; `^` is the start of the text).
fn cel_names_secret(kind: &str) -> bool {
    let k = kind.to_ascii_lowercase();
    let secret_after = |rest: &str| rest.trim_start_matches(' ').starts_with("secret");
    if secret_after(&k) {
        return true;
    }
    k.char_indices()
        .take_while(|&(_, c)| c != '\n')
        .any(|(i, c)| c == '/' && secret_after(&k[i + 1..]))
}

/// The API server's CEL rules on a Skill's spec (crds/src/skill.rs `x_kube` rules), restated.
fn cel_accepts(spec: &SkillSpec) -> Result<(), String> {
    let p = &spec.code_prefix;
    let stem = p.strip_suffix('.').unwrap_or("");
    if stem.is_empty()
        || !stem
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
    {
        return Err(format!("codePrefix {p:?}"));
    }
    let m = &spec.module;
    let sources = usize::from(m.builtin.is_some())
        + usize::from(m.config_map_ref.is_some())
        + usize::from(m.url.is_some());
    if sources != 1 {
        return Err(format!("{sources} module sources"));
    }
    if m.builtin.is_none() && m.sha256.is_none() {
        return Err("no sha256".into());
    }
    if let Some(d) = &m.sha256
        && !(d.len() == 64 && d.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
    {
        return Err(format!("sha256 {d:?}"));
    }
    for g in &spec.grants.resources {
        if let Some(k) = g.kinds.iter().find(|k| cel_names_secret(k)) {
            return Err(format!("grant of {k:?}"));
        }
    }
    if let Some(t) = spec.targets.iter().find(|t| cel_names_secret(&t.kind)) {
        return Err(format!("target {:?}", t.kind));
    }
    Ok(())
}

/// Property: any text as skill.yaml goes through the host's manifest parse (YAML, the
/// apiVersion/kind check, the `Skill` type, `SkillSpec::validate`) without panic; a manifest
/// `validate` accepts is one the API server's CEL rules accept too ("refused on a laptop for the
/// same reasons as in a cluster"), survives a JSON round trip unchanged and valid, and makes a
/// package (or a named refusal) from a cluster's Skill.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    // The steps of host/src/package/mod.rs `parse_manifest`.
    let Ok(value) = serde_yaml_ng::from_str::<serde_json::Value>(text) else {
        return;
    };
    let field = |k: &str| value.get(k).and_then(|v| v.as_str()).unwrap_or("");
    if (field("apiVersion"), field("kind")) != ("skillbox.dev/v1alpha1", "Skill") {
        return;
    }
    let Ok(skill) = serde_json::from_value::<Skill>(value) else {
        return;
    };
    if skill.spec.validate().is_err() {
        return;
    }
    if let Err(rule) = cel_accepts(&skill.spec) {
        panic!("validate accepted what the API server refuses: {rule}");
    }
    let json = serde_json::to_value(&skill).expect("a Skill serialises");
    let back: Skill = serde_json::from_value(json).expect("a serialised Skill reads back");
    assert!(
        back.spec == skill.spec && back.metadata == skill.metadata,
        "a Skill changed through JSON"
    );
    assert!(back.spec.validate().is_ok(), "a round trip made it invalid");

    let name = skill.metadata.name.clone().unwrap_or_default();
    if let Ok(pkg) = SkillPackage::from_cluster(skill.clone(), None, "fuzz") {
        assert_eq!(pkg.name(), name, "the package is named otherwise");
        assert_eq!(pkg.spec(), &skill.spec, "the package changed the spec");
    }
}
