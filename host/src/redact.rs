//! Redaction: what must be masked before any cluster text leaves the host (the EvidencePack sent
//! to an LLM), and again on what an LLM says (the output filter).
//!
//! Two entry points:
//! - [`redact_text`] masks credentials in free text (log lines, messages, annotations, SKILL.md
//!   prose, LLM output) by shape: bearer/basic credentials, JWTs, private key blocks,
//!   `password=…`-style assignments, URLs with credentials and well-known token formats. The key
//!   name is kept and only the secret part becomes [`MARKER`], so the text stays readable.
//! - [`redact_object`] redacts one Kubernetes object: a Secret never leaves at all (`None`);
//!   everything else loses its env values, managed fields and last-applied configuration, and
//!   every string in it goes through [`redact_text`].
//!
//! Masking by shape errs on the side of masking: a false positive costs the LLM one value, a
//! false negative leaks a credential to a third party.

use regex::{Captures, Regex};
use serde_json::{Map, Value};
use std::sync::LazyLock;

/// What a masked value becomes.
pub const MARKER: &str = "[REDACTED]";

/// The annotation `kubectl apply` writes: a full copy of the applied manifest, which can embed
/// anything (including a Secret's data when someone applied one by mistake).
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// Key names whose value is a credential, as the tail of a longer key (`DB_PASSWORD`,
/// `aws_secret_access_key`, `x-api-key`, `spring.datasource.password`). Only the tail counts, so
/// `secretName`, `tokenExpirationSeconds` and `passwordSecretRef` (names, not values) are kept.
const SECRET_KEY_TAIL: &str = r"(?:password|passwd|passphrase|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|secret[_-]?key)";

/// One masking rule: a pattern and how a match is rewritten (`None` = keep the match as is).
struct Rule {
    re: Option<Regex>,
    rewrite: fn(&Captures<'_>) -> Option<String>,
}

/// Builds a rule from a pattern known at compile time. The unit tests check that every pattern
/// compiles, so a bad one fails them rather than a run; at run time it is logged, never a panic.
fn rule(pattern: &str, rewrite: fn(&Captures<'_>) -> Option<String>) -> Rule {
    Rule {
        re: compile(pattern),
        rewrite,
    }
}

fn compile(pattern: &str) -> Option<Regex> {
    Regex::new(pattern)
        .map_err(|e| tracing::error!("redaction pattern does not compile: {e}"))
        .ok()
}

fn cap<'a>(c: &'a Captures<'_>, i: usize) -> &'a str {
    c.get(i).map_or("", |m| m.as_str())
}

/// The rules, in order: whole blocks and headers before the shapes they may contain, so that one
/// secret is masked (and counted) once.
static RULES: LazyLock<Vec<Rule>> = LazyLock::new(|| {
    vec![
        // PEM private keys (RSA, EC, OPENSSH, ENCRYPTED, plain PKCS#8); a block cut short (a log
        // tail) is masked to the end of the text.
        rule(
            r"(?s)-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\z)",
            |c| {
                let kind = cap(c, 1);
                Some(format!(
                    "-----BEGIN {kind}PRIVATE KEY-----{MARKER}-----END {kind}PRIVATE KEY-----"
                ))
            },
        ),
        // `Authorization: Bearer …`, `"Proxy-Authorization": "Basic …"`: whatever follows the
        // header name is a credential, with or without a scheme.
        rule(
            r#"(?i)(authorization["']?\s*[:=]\s*["']?)(?:(bearer|basic|token|digest|negotiate|aws4-hmac-sha256)\s+)?([^\s"',;]+)"#,
            |c| {
                let value = cap(c, 3);
                if value == MARKER {
                    return None;
                }
                let scheme = cap(c, 2);
                let sep = if scheme.is_empty() { "" } else { " " };
                Some(format!("{}{scheme}{sep}{MARKER}", cap(c, 1)))
            },
        ),
        // `scheme://user:password@host`: the user stays, the password goes.
        rule(
            r#"\b([A-Za-z][A-Za-z0-9+.\-]*://)([^\s:/@"'<>]+):([^\s/@"'<>]+)@"#,
            |c| {
                if cap(c, 3) == MARKER {
                    return None;
                }
                Some(format!("{}{}:{MARKER}@", cap(c, 1), cap(c, 2)))
            },
        ),
        // JWTs: header and payload are base64url JSON, so the header starts `eyJ` (`{"`).
        rule(
            r"\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*",
            |_| Some(MARKER.to_string()),
        ),
        // AWS access key ids (long-term AKIA, temporary ASIA, and the rarer ABIA/ACCA).
        rule(r"\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}\b", |_| {
            Some(MARKER.to_string())
        }),
        // GitHub tokens: classic `ghp_`/`gho_`/`ghu_`/`ghs_`/`ghr_` and fine-grained `github_pat_`.
        rule(
            r"\b(?:gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{22,})",
            |_| Some(MARKER.to_string()),
        ),
        // GitLab personal access tokens.
        rule(r"\bglpat-[A-Za-z0-9_-]{20,}", |_| Some(MARKER.to_string())),
        // Slack tokens.
        rule(r"\bxox[abposr]-[A-Za-z0-9-]{10,}", |_| {
            Some(MARKER.to_string())
        }),
        // Anthropic (`sk-ant-…`) and OpenAI (`sk-…`, `sk-proj-…`) keys. Kubernetes names are
        // lowercase, so a name like `sk-worker-7d9f8b6c5-x2x4z` is kept by requiring an
        // uppercase letter (real keys are mixed case) unless the prefix is unambiguous.
        rule(r"\bsk-(ant-|proj-|svcacct-)?[A-Za-z0-9_-]{20,}", |c| {
            let m = cap(c, 0);
            (c.get(1).is_some() || m.chars().any(|ch| ch.is_ascii_uppercase()))
                .then(|| MARKER.to_string())
        }),
        // Stripe secret and restricted keys.
        rule(r"\b[rs]k_(?:live|test)_[A-Za-z0-9]{16,}", |_| {
            Some(MARKER.to_string())
        }),
        // Google API keys.
        rule(r"\bAIza[0-9A-Za-z_-]{35}", |_| Some(MARKER.to_string())),
        // A bare `Bearer …` / `Basic …` outside a header (curl lines, error messages). Prose
        // ("basic authentication", "a bearer token") is kept: see `looks_like_credential`.
        rule(
            r"(?i)\b(bearer|basic)(\s+)([A-Za-z0-9\-._~+/]{8,}=*)",
            |c| {
                let value = cap(c, 3);
                looks_like_credential(value).then(|| format!("{}{}{MARKER}", cap(c, 1), cap(c, 2)))
            },
        ),
        // `password=…`, `DB_PASSWORD: …`, `"api_key": "…"`, `--token=…`, `?access_token=…&`:
        // the key (ending in a credential word) stays, the value goes. The character before
        // the key may not be a path character, so an image `registry/token:v1` is kept; a colon
        // must follow the key directly (as in YAML and JSON), so `volume "istio-token" : failed`
        // in an Event message is kept.
        rule(
            &format!(
                r#"(?i)(^|[^A-Za-z0-9_./-])([A-Za-z0-9_.-]*{SECRET_KEY_TAIL})(["']?)(\s*=\s*|:[ \t]*)("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^\s,;&"'{{}}\[\]]+)"#
            ),
            |c| {
                let value = cap(c, 5);
                let inner = value.trim_matches(|ch| ch == '"' || ch == '\'');
                if inner.is_empty()
                    || inner == MARKER
                    || inner.chars().all(|ch| ch == '*')
                    || ["null", "true", "false", "none"]
                        .iter()
                        .any(|w| inner.eq_ignore_ascii_case(w))
                {
                    return None;
                }
                let quote = if value.starts_with('"') {
                    "\""
                } else if value.starts_with('\'') {
                    "'"
                } else {
                    ""
                };
                Some(format!(
                    "{}{}{}{}{quote}{MARKER}{quote}",
                    cap(c, 1),
                    cap(c, 2),
                    cap(c, 3),
                    cap(c, 4)
                ))
            },
        ),
    ]
});

/// Whether the word after `Bearer`/`Basic` is a credential rather than prose: credentials carry
/// digits, base64 punctuation, or an uppercase letter after a lowercase one (`dXNlcjpwYXNz`);
/// words like `authentication` or `Authentication` carry none.
fn looks_like_credential(v: &str) -> bool {
    let mut prev_lower = false;
    for ch in v.chars() {
        if ch.is_ascii_digit() || matches!(ch, '+' | '/' | '=' | '_' | '.' | '~') {
            return true;
        }
        if ch.is_ascii_uppercase() && prev_lower {
            return true;
        }
        prev_lower = ch.is_ascii_lowercase();
    }
    false
}

/// Masks secrets in free text; returns the text and how many values were masked.
pub fn redact_text(s: &str) -> (String, usize) {
    let mut out = s.to_string();
    let mut count = 0usize;
    for r in RULES.iter() {
        let Some(re) = &r.re else { continue };
        if !re.is_match(&out) {
            continue;
        }
        let replaced = re.replace_all(&out, |c: &Captures<'_>| match (r.rewrite)(c) {
            Some(s) => {
                count += 1;
                s
            }
            None => cap(c, 0).to_string(),
        });
        out = replaced.into_owned();
    }
    (out, count)
}

/// Whether a map key names a credential (its value is masked whole).
static SECRET_KEY: LazyLock<Option<Regex>> =
    LazyLock::new(|| compile(&format!(r"(?i)^[A-Za-z0-9_.-]*{SECRET_KEY_TAIL}$")));

fn is_secret_key(key: &str) -> bool {
    SECRET_KEY.as_ref().is_some_and(|re| re.is_match(key))
}

/// Whether this JSON object is a Kubernetes Secret (or a list of them), whatever its apiVersion.
fn is_secret(v: &Value) -> bool {
    v.get("kind")
        .and_then(Value::as_str)
        .is_some_and(|k| k.eq_ignore_ascii_case("Secret") || k.eq_ignore_ascii_case("SecretList"))
}

/// Redacts a Kubernetes object (JSON) before it leaves the host; `None` for objects that must
/// never leave (Secrets).
///
/// Otherwise a copy where: `metadata.managedFields` and the last-applied-configuration
/// annotation are dropped; every `env[].value` (containers, initContainers, ephemeralContainers,
/// in Pods and in any template) is masked, the name kept (`valueFrom` only names a secret);
/// ConfigMap `binaryData` is dropped; a string under a credential-named key (`password`,
/// `apiKey`, …) is masked whole; Secrets nested in lists are removed; and every other string goes
/// through [`redact_text`]. The count is every value masked or dropped.
pub fn redact_object(v: &Value) -> Option<(Value, usize)> {
    if is_secret(v) {
        return None;
    }
    let mut out = v.clone();
    let mut count = 0usize;
    let is_config_map = v.get("kind").and_then(Value::as_str) == Some("ConfigMap");
    if is_config_map
        && let Some(obj) = out.as_object_mut()
        && let Some(Value::Object(bin)) = obj.remove("binaryData")
    {
        count += bin.len();
    }
    walk(&mut out, &mut count);
    Some((out, count))
}

/// Redacts every string in place; masks env values and credential-named keys; removes nested
/// Secrets and their managed fields.
fn walk(v: &mut Value, count: &mut usize) {
    match v {
        Value::String(s) => {
            let (r, n) = redact_text(s);
            if n > 0 {
                *s = r;
                *count += n;
            }
        }
        Value::Array(items) => {
            let before = items.len();
            items.retain(|i| !is_secret(i));
            *count += before - items.len();
            for i in items {
                walk(i, count);
            }
        }
        Value::Object(map) => walk_map(map, count),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

fn walk_map(map: &mut Map<String, Value>, count: &mut usize) {
    if let Some(Value::Object(meta)) = map.get_mut("metadata") {
        // Field ownership, not data: dropped as noise, not counted as a redaction.
        meta.remove("managedFields");
        if let Some(Value::Object(ann)) = meta.get_mut("annotations")
            && ann.remove(LAST_APPLIED).is_some()
        {
            *count += 1;
        }
    }
    for (key, value) in map.iter_mut() {
        if key == "env"
            && let Value::Array(vars) = value
        {
            for var in vars.iter_mut() {
                mask_env_value(var, count);
            }
        }
        match value {
            Value::String(s) if is_secret_key(key) => {
                if !s.is_empty() && s != MARKER {
                    *s = MARKER.to_string();
                    *count += 1;
                }
            }
            _ => walk(value, count),
        }
    }
}

/// `env: [{name, value}]`: the value goes, the name stays; `valueFrom` is a reference and stays.
fn mask_env_value(var: &mut Value, count: &mut usize) {
    let Some(obj) = var.as_object_mut() else {
        return;
    };
    if !obj.contains_key("name") {
        return;
    }
    if let Some(value) = obj.get_mut("value") {
        let empty = match value {
            Value::Null => true,
            Value::String(s) => s.is_empty() || s == MARKER,
            _ => false,
        };
        if !empty {
            *value = Value::String(MARKER.to_string());
            *count += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn masked(s: &str) -> (String, usize) {
        let (r, n) = redact_text(s);
        assert!(r.contains(MARKER), "not masked: {s:?} -> {r:?}");
        (r, n)
    }

    fn kept(s: &str) {
        let (r, n) = redact_text(s);
        assert_eq!((r.as_str(), n), (s, 0), "masked a look-alike: {s:?}");
    }

    #[test]
    fn every_pattern_compiles() {
        for r in RULES.iter() {
            assert!(r.re.is_some());
        }
        assert!(SECRET_KEY.is_some());
    }

    #[test]
    fn authorization_headers() {
        let (r, n) = masked("GET / Authorization: Bearer abc.def-ghi_123 host=x");
        assert_eq!(r, "GET / Authorization: Bearer [REDACTED] host=x");
        assert_eq!(n, 1);
        let (r, _) = masked(r#"{"Authorization":"Basic dXNlcjpwYXNz"}"#);
        assert_eq!(r, r#"{"Authorization":"Basic [REDACTED]"}"#);
        let (r, _) = masked("proxy-authorization=s3cr3tvalue");
        assert_eq!(r, "proxy-authorization=[REDACTED]");
        let (r, _) = masked("curl -H 'Authorization: token ghp_notreallyatoken'");
        assert!(!r.contains("ghp_"), "{r}");
    }

    #[test]
    fn bare_bearer_and_basic() {
        let (r, n) = masked("sent bearer Zm9vYmFyYmF6cXV4 to upstream");
        assert_eq!((r.as_str(), n), ("sent bearer [REDACTED] to upstream", 1));
        masked("Basic dXNlcjpwYXNzd29yZA==");
        kept("the server requires basic authentication");
        kept("Basic Authentication failed; send a bearer token");
    }

    #[test]
    fn jwts() {
        let jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U";
        let (r, n) = masked(&format!("id_token {jwt} expired"));
        assert_eq!((r.as_str(), n), ("id_token [REDACTED] expired", 1));
        let (r, n) = masked(&format!("token={jwt}"));
        assert_eq!((r.as_str(), n), ("token=[REDACTED]", 1));
    }

    #[test]
    fn private_keys() {
        let pem = "before\n-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nxyz\n-----END RSA PRIVATE KEY-----\nafter";
        let (r, n) = masked(pem);
        assert_eq!(
            r,
            "before\n-----BEGIN RSA PRIVATE KEY-----[REDACTED]-----END RSA PRIVATE KEY-----\nafter"
        );
        assert_eq!(n, 1);
        let (r, _) = masked("-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqh");
        assert!(!r.contains("MIIE"), "{r}");
        kept("-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----");
    }

    #[test]
    fn assignments() {
        for (input, want) in [
            ("password=hunter2", "password=[REDACTED]"),
            ("DB_PASSWORD: hunter2", "DB_PASSWORD: [REDACTED]"),
            (
                r#"{"password":"hunter2","user":"a"}"#,
                r#"{"password":"[REDACTED]","user":"a"}"#,
            ),
            (
                r#"{"password": "hun ter2"}"#,
                r#"{"password": "[REDACTED]"}"#,
            ),
            ("passwd='x y'", "passwd='[REDACTED]'"),
            ("client_secret = abc123", "client_secret = [REDACTED]"),
            ("--token=abc123 --v=2", "--token=[REDACTED] --v=2"),
            (
                "GET /cb?access_token=abc&x=1",
                "GET /cb?access_token=[REDACTED]&x=1",
            ),
            ("api_key: k1", "api_key: [REDACTED]"),
            ("apikey=k1", "apikey=[REDACTED]"),
            ("X-Api-Key: k1", "X-Api-Key: [REDACTED]"),
            (
                "aws_secret_access_key=wJalr",
                "aws_secret_access_key=[REDACTED]",
            ),
            ("AWS_ACCESS_KEY=abc", "AWS_ACCESS_KEY=[REDACTED]"),
            (
                "spring.datasource.password=p@ss;next",
                "spring.datasource.password=[REDACTED];next",
            ),
        ] {
            let (r, n) = redact_text(input);
            assert_eq!((r.as_str(), n), (want, 1), "{input}");
        }
    }

    #[test]
    fn url_credentials() {
        let (r, n) = masked("cloning https://git:s3cr3t@github.com/org/repo.git failed");
        assert_eq!(
            (r.as_str(), n),
            (
                "cloning https://git:[REDACTED]@github.com/org/repo.git failed",
                1
            )
        );
        masked("postgres://app:pw@db:5432/x");
        kept("see https://github.com/org/repo and http://db:5432/x");
        kept("mailto:someone@example.com");
    }

    #[test]
    fn well_known_tokens() {
        for t in [
            "AKIAIOSFODNN7EXAMPLE",
            "ASIAY34FZKBOKMUTVV7A",
            "ghp_1234567890abcdefghijABCDEFGHIJ123456",
            "github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz",
            "xoxb-123456789012-abcdefghijkl",
            "sk-ant-api03-abcdefghijklmnopqrstuvwxyz012345",
            "sk-proj-abcdefghijklmnopqrstuvwx",
            "sk-AbCdEfGhIjKlMnOpQrStUvWx0123456789",
            "AIzaSyA-1234567890abcdefghijklmnopqrstu",
            "glpat-abcdefghij0123456789",
        ] {
            let (r, n) = redact_text(&format!("key {t} used"));
            assert_eq!((r.as_str(), n), ("key [REDACTED] used", 1), "{t}");
        }
    }

    #[test]
    fn look_alikes_are_kept() {
        kept("Pod token-service is not ready");
        kept("name: token-service");
        kept(r#"{"metadata":{"name":"token-service","namespace":"auth"}}"#);
        kept("authentication failed: wrong password for user admin");
        kept("the password was rejected; reset the secret and retry");
        kept("sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08");
        kept("uid 3fa85f64-5717-4562-b3fc-2c963f66afa6");
        kept("image: ghcr.io/org/token:v1.2.3");
        kept("image docker.io/library/nginx:1.25.3-alpine");
        kept("pod sk-worker-deployment-7d9f8b6c5-x2x4z restarted");
        kept(r#"MountVolume.SetUp failed for volume "istio-token" : failed to fetch token"#);
        kept("secretName: db-creds");
        kept("tokenExpirationSeconds: 3600");
        kept("max_tokens: 1024, input_tokens: 20");
        kept("password: null");
        kept("password=[REDACTED]");
    }

    #[test]
    fn masking_is_idempotent() {
        let once = redact_text("password=x Authorization: Bearer abcdef123456 https://u:p@h/").0;
        let (twice, n) = redact_text(&once);
        assert_eq!((twice.as_str(), n), (once.as_str(), 0));
    }

    #[test]
    fn secrets_never_leave() {
        let s = json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "x"},
                       "data": {"password": "aHVudGVyMg=="}});
        assert_eq!(redact_object(&s), None);
        let list = json!({"apiVersion": "v1", "kind": "List", "items": [
            s, {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}]});
        let (r, n) = redact_object(&list).expect("a List is not a Secret");
        assert_eq!(n, 1);
        assert_eq!(r["items"].as_array().map(Vec::len), Some(1));
        assert!(!r.to_string().contains("aHVudGVyMg"));
    }

    fn container(env: Value) -> Value {
        json!({"name": "app", "image": "nginx:1.25", "env": env})
    }

    #[test]
    fn pod_env_values_are_masked() {
        let env = json!([
            {"name": "DB_HOST", "value": "db.internal"},
            {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "db", "key": "password"}}},
            {"name": "EMPTY", "value": ""}
        ]);
        let pod = json!({"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": "token-service", "namespace": "auth",
                "managedFields": [{"manager": "kubectl"}],
                "annotations": {LAST_APPLIED: "{\"password\":\"x\"}", "team": "a"}},
            "spec": {"containers": [container(env.clone())],
                     "initContainers": [container(env.clone())],
                     "ephemeralContainers": [container(env)]}});
        let (r, n) = redact_object(&pod).expect("not a Secret");
        // 3 env values + the last-applied annotation.
        assert_eq!(n, 4);
        for list in ["containers", "initContainers", "ephemeralContainers"] {
            let env = &r["spec"][list][0]["env"];
            assert_eq!(env[0], json!({"name": "DB_HOST", "value": MARKER}));
            assert_eq!(env[1]["valueFrom"]["secretKeyRef"]["key"], "password");
            assert_eq!(env[2]["value"], "");
        }
        assert_eq!(r["metadata"]["name"], "token-service");
        assert!(r["metadata"].get("managedFields").is_none());
        assert_eq!(r["metadata"]["annotations"], json!({"team": "a"}));
    }

    #[test]
    fn template_env_values_are_masked() {
        let dep = json!({"apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": "web"},
        "spec": {"template": {"spec": {"containers": [container(json!([
            {"name": "API_URL", "value": "https://svc"},
            {"name": "REPLICAS", "value": 3}
        ]))]}}}});
        let (r, n) = redact_object(&dep).expect("not a Secret");
        assert_eq!(n, 2);
        let env = &r["spec"]["template"]["spec"]["containers"][0]["env"];
        assert_eq!(env[0]["value"], MARKER);
        assert_eq!(env[1]["value"], MARKER);
        assert_eq!(env[0]["name"], "API_URL");
    }

    #[test]
    fn config_maps_and_strings() {
        let cm = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c",
                "annotations": {"note": "login with password=hunter2"}},
            "data": {"app.properties": "db.url=x\ndb.password=hunter2\n",
                     "password": "hunter2", "level": "debug"},
            "binaryData": {"blob": "AAEC", "other": "AAEC"}});
        let (r, n) = redact_object(&cm).expect("not a Secret");
        assert_eq!(n, 5);
        assert!(r.get("binaryData").is_none());
        assert_eq!(r["data"]["password"], MARKER);
        assert_eq!(r["data"]["level"], "debug");
        assert_eq!(
            r["data"]["app.properties"],
            "db.url=x\ndb.password=[REDACTED]\n"
        );
        assert_eq!(
            r["metadata"]["annotations"]["note"],
            "login with password=[REDACTED]"
        );
        assert!(!r.to_string().contains("hunter2"));
    }

    #[test]
    fn names_and_references_are_kept() {
        let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p"},
            "spec": {"volumes": [{"name": "token", "secret": {"secretName": "api-token"}},
                                 {"name": "sa", "projected": {"sources": [
                                     {"serviceAccountToken": {"path": "token", "expirationSeconds": 3600}}]}}],
                     "automountServiceAccountToken": true}});
        let (r, n) = redact_object(&pod).expect("not a Secret");
        assert_eq!((r, n), (pod, 0));
    }
}
