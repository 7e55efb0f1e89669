//! End-to-end tests against a real API server, all `#[ignore = "needs cluster"]`:
//!
//! ```sh
//! cargo build -p skillbox     # the controller binary the third test runs
//! KUBECONFIG=~/.kube/config cargo test -p skillbox-tests --test e2e_cluster -- --ignored --nocapture --test-threads=1
//! ```
//!
//! The cluster comes only from `$KUBECONFIG` (an identity allowed to create CRDs, RBAC and
//! namespaces, and to impersonate); everything goes through `kubectl` (`$KUBECTL`, else the one on
//! `PATH`), the way a person installs and checks skillbox. Every test first installs what
//! `deploy/README.md` says to install (idempotently): the CRDs, `kubectl apply -k deploy/`, and,
//! from `../shared/k8s-data` when it is there, the Istio and Config Sync CRDs the ClusterRole names.
//!
//! - [`crds_and_rbac_apply`]: the CRDs are Established without warnings, the base applies, the
//!   built-in Skills exist, the controller's pod template passes the namespace's `restricted` Pod
//!   Security admission, the examples pass server-side validation, and the CRDs' CEL rules reject
//!   bad objects with their own messages — evaluated by the API server, not by us.
//! - [`service_account_can_only_do_what_it_must`]: `kubectl auth can-i --as` the ServiceAccount for
//!   every permission `deploy/clusterrole.yaml` and `deploy/role.yaml` grant (derived from them),
//!   a fixed list of forbidden ones (Secrets, writes to other objects, escalation), and the
//!   server's own rule list (`SelfSubjectRulesReview`, i.e. `can-i --list`) checked for any write
//!   the YAML does not grant.
//! - [`controller_fills_investigation_status`]: the `skillbox` binary runs `controller` with a
//!   token of the ServiceAccount (not the admin's identity) against objects loaded from public
//!   scenarios into fresh namespaces; the Investigations' `.status` must carry the scenario's
//!   verdict and finding codes, a missing target `Complete=False`/`TargetNotFound`.
//!
//! Namespaces get a unique name per run and are left behind (deletion needs a namespace controller
//! the cluster may not run); they are labelled `skillbox.dev/e2e=true`:
//! `kubectl delete ns -l skillbox.dev/e2e=true` tidies up a cluster that has one.

use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsString;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

const SA_NAMESPACE: &str = "skillbox-system";
const SA_NAME: &str = "skillbox-controller";
const SA_USER: &str = "system:serviceaccount:skillbox-system:skillbox-controller";
const LEASE: &str = "skillbox-controller";
/// The label on every namespace these tests create.
const E2E_LABEL: &str = "skillbox.dev/e2e";

// ---------------------------------------------------------------------------------------------
// Where things are

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn deploy() -> PathBuf {
    repo().join("deploy")
}

/// `../shared` beside the repository, or `None` after printing a NOTE for `what`.
fn shared(what: &str) -> Option<PathBuf> {
    let dir = repo().join("../shared");
    if dir.join("k8s-data").is_dir() {
        Some(dir)
    } else {
        eprintln!("NOTE: ../shared is absent; skipping {what}");
        None
    }
}

/// The admin kubeconfig: `$KUBECONFIG`, required.
fn admin_kubeconfig() -> OsString {
    match std::env::var_os("KUBECONFIG") {
        Some(k) if !k.is_empty() => k,
        _ => panic!(
            "KUBECONFIG is not set: the e2e_cluster tests need a real API server and a kubeconfig \
             allowed to install CRDs and RBAC (see deploy/README.md, \"End-to-end tests against a \
             real API server\")"
        ),
    }
}

fn kubectl_bin() -> OsString {
    std::env::var_os("KUBECTL").unwrap_or_else(|| "kubectl".into())
}

// ---------------------------------------------------------------------------------------------
// kubectl

#[derive(Debug)]
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

impl Run {
    /// `Warning:` lines the API server (or kubectl) printed.
    fn warnings(&self) -> Vec<String> {
        self.stderr
            .lines()
            .filter(|l| l.starts_with("Warning:"))
            .map(String::from)
            .collect()
    }
}

/// Runs kubectl with `kubeconfig`, feeding `stdin` when given.
fn kubectl_as(kubeconfig: &OsString, args: &[&str], stdin: Option<&str>) -> Run {
    let mut cmd = Command::new(kubectl_bin());
    cmd.args(args)
        .env("KUBECONFIG", kubeconfig)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run kubectl ({e}): install it or point $KUBECTL at it"));
    let feeder = stdin.map(|text| {
        let mut pipe = child.stdin.take().unwrap();
        let text = text.to_string();
        std::thread::spawn(move || {
            let _ = pipe.write_all(text.as_bytes());
        })
    });
    let out = child.wait_with_output().unwrap();
    if let Some(f) = feeder {
        f.join().unwrap();
    }
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// kubectl as the admin of `$KUBECONFIG`.
fn kubectl(args: &[&str], stdin: Option<&str>) -> Run {
    kubectl_as(&admin_kubeconfig(), args, stdin)
}

/// kubectl as the admin; panics with kubectl's stderr when it fails.
fn kubectl_ok(args: &[&str], stdin: Option<&str>) -> String {
    let run = kubectl(args, stdin);
    assert!(
        run.ok,
        "kubectl {} failed:\n{}{}",
        args.join(" "),
        run.stdout,
        run.stderr
    );
    run.stdout
}

fn kubectl_json(args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = kubectl_ok(&all, None);
    serde_json::from_str(&out).unwrap_or_else(|e| panic!("kubectl {args:?}: bad JSON ({e})"))
}

/// The object, or `None` when the server says it is not found.
fn kubectl_get(args: &[&str]) -> Option<Value> {
    let mut all = vec!["get"];
    all.extend(args);
    all.extend(["-o", "json"]);
    let run = kubectl(&all, None);
    if run.ok {
        Some(serde_json::from_str(&run.stdout).unwrap())
    } else if run.stderr.contains("NotFound") || run.stderr.contains("not found") {
        None
    } else {
        panic!("kubectl {}: {}", all.join(" "), run.stderr)
    }
}

/// A DNS-label name unique to this run: `prefix-<seconds>-<pid><n>`.
fn unique(prefix: &str) -> String {
    static N: AtomicU32 = AtomicU32::new(0);
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    format!(
        "{prefix}-{}-{}{}",
        secs % 100_000_000,
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    )
}

/// Creates a namespace labelled [`E2E_LABEL`] (plus `labels`), with its `default` ServiceAccount
/// (no controller-manager may be there to make it, and Pods need it).
fn create_namespace(name: &str, labels: &BTreeMap<String, String>) {
    let mut l = labels.clone();
    l.insert(E2E_LABEL.into(), "true".into());
    let ns =
        json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": l}});
    kubectl_ok(&["create", "-f", "-"], Some(&ns.to_string()));
    let sa = json!({"apiVersion": "v1", "kind": "ServiceAccount",
        "metadata": {"name": "default", "namespace": name}});
    let run = kubectl(&["create", "-f", "-"], Some(&sa.to_string()));
    assert!(
        run.ok || run.stderr.contains("AlreadyExists"),
        "ServiceAccount default in {name}: {}",
        run.stderr
    );
}

fn condition<'a>(obj: &'a Value, kind: &str) -> Option<&'a Value> {
    obj["status"]["conditions"]
        .as_array()?
        .iter()
        .find(|c| c["type"] == kind)
}

fn condition_is(obj: &Value, kind: &str, status: &str) -> bool {
    condition(obj, kind).is_some_and(|c| c["status"] == status)
}

fn yaml_docs(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_yaml_ng::Deserializer::from_str(&text)
        .map(|de| {
            <Value as k8s_openapi::serde::Deserialize>::deserialize(de)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        })
        .filter(|v| !v.is_null())
        .collect()
}

// ---------------------------------------------------------------------------------------------
// Installing skillbox (what deploy/README.md says), once per test process

fn install() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        if let Some(shared) = shared("the Istio and Config Sync CRDs (their RBAC rows are skipped)")
        {
            // NB: server-side: Istio's CRDs are too big for client-side apply's annotation.
            for f in [
                "k8s-data/istio/crd-all.gen.yaml",
                "k8s-data/config-sync/rootsync-crd.yaml",
            ] {
                let f = shared.join(f);
                let f = f.to_str().unwrap();
                kubectl_ok(
                    &["apply", "--server-side", "--force-conflicts", "-f", f],
                    None,
                );
                kubectl_ok(
                    &[
                        "wait",
                        "--for=condition=Established",
                        "-f",
                        f,
                        "--timeout=60s",
                    ],
                    None,
                );
            }
        }
        let crds = deploy().join("crds");
        let crds = crds.to_str().unwrap();
        let base = deploy();
        let base = base.to_str().unwrap();
        kubectl_ok(&["apply", "-f", crds], None);
        kubectl_ok(
            &[
                "wait",
                "--for=condition=Established",
                "-f",
                crds,
                "--timeout=60s",
            ],
            None,
        );
        kubectl_ok(&["apply", "-k", base], None);
    });
}

// ---------------------------------------------------------------------------------------------
// 1. CRDs, base, CEL

/// Creates `obj` with `--dry-run=server`; `Err(server's message)` when refused.
fn server_dry_run_create(obj: &Value) -> Result<Run, String> {
    let run = kubectl(
        &["create", "--dry-run=server", "-f", "-"],
        Some(&obj.to_string()),
    );
    if run.ok { Ok(run) } else { Err(run.stderr) }
}

fn builtin_skill(name: &str) -> Value {
    yaml_docs(&deploy().join(format!("skills/{name}.yaml")))
        .pop()
        .unwrap()
}

#[test]
#[ignore = "needs cluster"]
fn crds_and_rbac_apply() {
    install();
    let mut problems: Vec<String> = Vec::new();

    // The CRDs: Established, names accepted, and no warning from the server when created. They
    // exist already, so create renamed copies (another group) with --dry-run=server: the server
    // warns on create (on update only about what changed).
    for path in std::fs::read_dir(deploy().join("crds")).unwrap().flatten() {
        let crd = yaml_docs(&path.path()).pop().unwrap();
        let name = crd["metadata"]["name"].as_str().unwrap().to_string();
        let live = kubectl_json(&["get", "crd", &name]);
        for c in ["Established", "NamesAccepted"] {
            if !condition_is(&live, c, "True") {
                problems.push(format!("CRD {name}: {c} is not True: {}", live["status"]));
            }
        }
        let renamed: Value = serde_json::from_str(
            &crd.to_string()
                .replace("skillbox.dev", "e2e-dry-run.skillbox.dev"),
        )
        .unwrap();
        match server_dry_run_create(&renamed) {
            Ok(run) => {
                for w in run.warnings() {
                    problems.push(format!("CRD {name}: the API server warns on create: {w}"));
                }
            }
            Err(e) => problems.push(format!("CRD {name}: refused: {e}")),
        }
        println!("CRD {name}: Established");
    }

    // The base again, server-side dry run: nothing to warn about (Pod Security `warn: restricted`
    // on the Deployment's template, deprecated APIs, unknown fields).
    let run = kubectl(
        &[
            "apply",
            "--dry-run=server",
            "-k",
            deploy().to_str().unwrap(),
        ],
        None,
    );
    if !run.ok {
        problems.push(format!(
            "kubectl apply -k deploy/ (dry run): {}",
            run.stderr
        ));
    }
    for w in run.warnings() {
        problems.push(format!("kubectl apply -k deploy/: {w}"));
    }

    // The built-in Skills exist as deploy/skills/ has them.
    for name in [
        "workload-health",
        "mesh-investigation",
        "rootsync-investigation",
    ] {
        let want = builtin_skill(name);
        match kubectl_get(&["skill", name]) {
            None => problems.push(format!("Skill {name} was not created by apply -k deploy/")),
            Some(live) => {
                for f in ["module", "targets", "trigger", "codePrefix"] {
                    if live["spec"][f] != want["spec"][f] {
                        problems.push(format!(
                            "Skill {name}: spec.{f} is {} in the cluster, {} in deploy/skills/",
                            live["spec"][f], want["spec"][f]
                        ));
                    }
                }
            }
        }
    }
    let header = kubectl_ok(&["get", "skills"], None);
    println!("{header}");
    for col in ["TOOLS", "READY", "AGE"] {
        if !header.lines().next().unwrap_or("").contains(col) {
            problems.push(format!("kubectl get skills: no {col} column: {header}"));
        }
    }

    // The controller's pod, as the Deployment would make it, is admitted by the namespace's
    // enforced `restricted` Pod Security Standard (no controller-manager needed: a dry-run Pod).
    let dep = kubectl_json(&[
        "-n",
        SA_NAMESPACE,
        "get",
        "deployment",
        "skillbox-controller",
    ]);
    let template = &dep["spec"]["template"];
    let pod = json!({"apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": "e2e-pod-security-check", "namespace": SA_NAMESPACE,
                     "labels": template["metadata"]["labels"]},
        "spec": template["spec"]});
    match server_dry_run_create(&pod) {
        Ok(run) => {
            for w in run.warnings() {
                problems.push(format!("controller Pod in {SA_NAMESPACE}: {w}"));
            }
            println!("controller Pod template: admitted under Pod Security `restricted`");
        }
        Err(e) => problems.push(format!("controller Pod refused in {SA_NAMESPACE}: {e}")),
    }

    // deploy/examples/ passes server-side validation (its Investigation moved to a fresh
    // namespace: the example's `bookinfo` may not exist).
    let ns = unique("e2e-cel");
    create_namespace(&ns, &BTreeMap::new());
    let rendered = kubectl_ok(
        &["kustomize", deploy().join("examples").to_str().unwrap()],
        None,
    );
    let mut examples = Vec::new();
    for de in serde_yaml_ng::Deserializer::from_str(&rendered) {
        let mut v = <Value as k8s_openapi::serde::Deserialize>::deserialize(de).unwrap();
        if v["metadata"].get("namespace").is_some() {
            v["metadata"]["namespace"] = json!(ns);
        }
        examples.push(v);
    }
    for ex in &examples {
        let what = format!("{} {}", ex["kind"], ex["metadata"]["name"]);
        let run = kubectl(
            &["apply", "--dry-run=server", "-f", "-"],
            Some(&ex.to_string()),
        );
        if !run.ok {
            problems.push(format!("deploy/examples {what} refused: {}", run.stderr));
        }
        for w in run.warnings() {
            problems.push(format!("deploy/examples {what}: {w}"));
        }
    }

    // CEL rules, evaluated by the API server: each bad object is refused with the CRD's message.
    let base = || {
        let mut s = builtin_skill("workload-health");
        s["metadata"] = json!({"name": "e2e-cel-check"});
        s
    };
    let digest = "0".repeat(64);
    let mut negatives: Vec<(&str, Value, &str)> = Vec::new();
    let mut s = base();
    s["spec"]["grants"]["resources"][0]["kinds"]
        .as_array_mut()
        .unwrap()
        .push(json!("Secret"));
    negatives.push((
        "Skill granting Secret",
        s,
        "Secrets are never granted to a skill",
    ));
    let mut s = base();
    s["spec"]["grants"]["resources"] = json!([{"kinds": ["Pod", "secrets"]}]);
    negatives.push((
        "Skill granting `secrets`",
        s,
        "Secrets are never granted to a skill",
    ));
    let mut s = base();
    s["spec"]["targets"] = json!([{"kind": "Secret", "group": ""}]);
    negatives.push((
        "Skill targeting Secret",
        s,
        "Secrets are never investigated",
    ));
    let mut s = base();
    s["spec"]["module"] = json!({"builtin": "workload-health", "url": "https://example.com/x.wasm", "sha256": digest});
    negatives.push((
        "Skill with two module sources",
        s,
        "spec.module must set exactly one of builtin, configMapRef or url",
    ));
    let mut s = base();
    s["spec"]["module"] = json!({"sha256": digest});
    negatives.push((
        "Skill with no module source",
        s,
        "spec.module must set exactly one of builtin, configMapRef or url",
    ));
    let mut s = base();
    s["spec"]["module"] = json!({"url": "https://example.com/x.wasm", "sha256": "not-a-digest"});
    negatives.push((
        "Skill with a bad sha256",
        s,
        "spec.module.sha256 must be 64 lowercase hex characters",
    ));
    let mut s = base();
    s["spec"]["module"] =
        json!({"url": "https://example.com/x.wasm", "sha256": "ABCDEF".repeat(10) + "ABCD"});
    negatives.push((
        "Skill with an uppercase sha256",
        s,
        "spec.module.sha256 must be 64 lowercase hex characters",
    ));
    let mut s = base();
    s["spec"]["module"] = json!({"url": "https://example.com/x.wasm"});
    negatives.push((
        "Skill from a URL without sha256",
        s,
        "spec.module.sha256 is required unless the module is builtin",
    ));
    let mut s = base();
    s["spec"]["grants"]["tools"] = json!(["get-object", "exec"]);
    negatives.push((
        "Skill with an unknown tool",
        s,
        "Unsupported value: \"exec\"",
    ));
    let mut s = base();
    s["spec"]["codePrefix"] = json!("Workload");
    negatives.push((
        "Skill with a bad codePrefix",
        s,
        "codePrefix must be lowercase letters",
    ));
    let mp = |spec: Value| {
        json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider",
            "metadata": {"name": "e2e-cel-check"}, "spec": spec})
    };
    negatives.push((
        "managed anthropic ModelProvider",
        mp(json!({"type": "anthropic", "model": "m", "managed": true})),
        "managed: true is only supported for type ollama",
    ));
    negatives.push((
        "ollama ModelProvider without endpoint",
        mp(json!({"type": "ollama", "model": "m"})),
        "spec.endpoint is required for ollama and openai providers unless managed: true",
    ));
    negatives.push((
        "ModelProvider with a non-HTTP endpoint",
        mp(json!({"type": "openai", "model": "m", "endpoint": "ftp://x"})),
        "spec.endpoint must be an http:// or https:// URL",
    ));
    // The unmodified bases are accepted: each refusal below is the rule's doing.
    for ok in [
        base(),
        mp(json!({"type": "ollama", "model": "m", "endpoint": "http://ollama:11434"})),
    ] {
        if let Err(e) = server_dry_run_create(&ok) {
            problems.push(format!("a valid {} was refused: {e}", ok["kind"]));
        }
    }
    for (what, obj, message) in &negatives {
        match server_dry_run_create(obj) {
            Ok(_) => problems.push(format!("{what}: accepted by the API server")),
            Err(e) if e.contains(message) => {
                println!("refused as it should be: {what}: {}", e.trim())
            }
            Err(e) => problems.push(format!("{what}: refused, but without {message:?}: {e}")),
        }
    }

    // The Investigation's target is immutable; its other fields are not.
    let inv = json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "Investigation",
        "metadata": {"name": "immutable-target", "namespace": ns},
        "spec": {"target": {"kind": "Pod", "name": "a"}, "llm": "never"}});
    kubectl_ok(&["create", "-f", "-"], Some(&inv.to_string()));
    let patch = |p: &str| {
        kubectl(
            &[
                "-n",
                &ns,
                "patch",
                "investigation",
                "immutable-target",
                "--type=merge",
                "-p",
                p,
            ],
            None,
        )
    };
    let moved = patch(r#"{"spec":{"target":{"name":"b"}}}"#);
    if moved.ok {
        problems.push("an Investigation's spec.target could be changed".into());
    } else if !moved.stderr.contains("spec.target is immutable") {
        problems.push(format!(
            "changing spec.target refused, but not with \"spec.target is immutable\": {}",
            moved.stderr
        ));
    } else {
        println!("refused as it should be: {}", moved.stderr.trim());
    }
    let other = patch(r#"{"spec":{"llm":"auto"}}"#);
    if !other.ok {
        problems.push(format!(
            "changing spec.llm of an Investigation was refused: {}",
            other.stderr
        ));
    }
    let header = kubectl_ok(&["-n", &ns, "get", "investigations"], None);
    println!("{header}");
    for col in ["TARGET", "VERDICT", "LLM", "AGE"] {
        if !header.lines().next().unwrap_or("").contains(col) {
            problems.push(format!(
                "kubectl get investigations: no {col} column: {header}"
            ));
        }
    }

    assert!(
        problems.is_empty(),
        "{} problem(s) against the real API server:\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// 2. What the ServiceAccount may do

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Access {
    verb: String,
    /// `resource` or `resource.group`, as kubectl takes it.
    resource: String,
    subresource: Option<String>,
    name: Option<String>,
    /// `None`: every namespace (`-A`, also cluster-scoped kinds).
    namespace: Option<String>,
}

fn access(verb: &str, resource: &str, namespace: Option<&str>) -> Access {
    let (resource, subresource) = match resource.split_once('/') {
        Some((r, s)) => (r.to_string(), Some(s.to_string())),
        None => (resource.to_string(), None),
    };
    Access {
        verb: verb.into(),
        resource,
        subresource,
        name: None,
        namespace: namespace.map(String::from),
    }
}

impl Access {
    fn named(mut self, name: &str) -> Self {
        self.name = Some(name.into());
        self
    }

    fn args(&self) -> Vec<String> {
        let mut a = vec![
            "auth".to_string(),
            "can-i".into(),
            format!("--as={SA_USER}"),
            self.verb.clone(),
        ];
        a.push(match &self.name {
            Some(n) => format!("{}/{n}", self.resource),
            None => self.resource.clone(),
        });
        if let Some(s) = &self.subresource {
            a.push(format!("--subresource={s}"));
        }
        match &self.namespace {
            Some(ns) => a.extend(["-n".into(), ns.clone()]),
            None => a.push("-A".into()),
        }
        a
    }

    fn show(&self) -> String {
        let sub = self
            .subresource
            .as_ref()
            .map_or(String::new(), |s| format!("/{s}"));
        let name = self
            .name
            .as_ref()
            .map_or(String::new(), |n| format!(" {n}"));
        let scope = self
            .namespace
            .as_ref()
            .map_or("(all namespaces)".into(), |n| format!("-n {n}"));
        format!("{} {}{sub}{name} {scope}", self.verb, self.resource)
    }

    /// Whether the server allows it; `Err` when kubectl cannot resolve the resource (no CRD).
    fn check(&self) -> Result<bool, String> {
        let args = self.args();
        let run = kubectl(&args.iter().map(String::as_str).collect::<Vec<_>>(), None);
        // NB: kubectl falls back to the bare argument as a core resource when discovery does not
        // know it; right for `users`, wrong for `virtualservices.networking.istio.io`.
        if self.resource.contains('.') && run.stderr.contains("doesn't have a resource type") {
            return Err(run.stderr.trim().to_string());
        }
        match run.stdout.trim() {
            "yes" => Ok(true),
            "no" => Ok(false),
            other => Err(format!(
                "kubectl {}: {other} {}",
                args.join(" "),
                run.stderr
            )),
        }
    }
}

const READS: [&str; 3] = ["get", "list", "watch"];

/// (group, resource with subresource, verb, resourceName) of every rule of a Role/ClusterRole.
fn rules_of(path: &Path) -> Vec<(String, String, String, Option<String>)> {
    let doc = yaml_docs(path).pop().unwrap();
    let mut out = Vec::new();
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    for r in doc["rules"].as_array().unwrap() {
        let names = strs(&r["resourceNames"]);
        for g in strs(&r["apiGroups"]) {
            for res in strs(&r["resources"]) {
                for v in strs(&r["verbs"]) {
                    if names.is_empty() {
                        out.push((g.clone(), res.clone(), v.clone(), None));
                    }
                    for n in &names {
                        out.push((g.clone(), res.clone(), v.clone(), Some(n.clone())));
                    }
                }
            }
        }
    }
    out
}

fn qualified(group: &str, resource: &str) -> String {
    match resource.split_once('/') {
        Some((r, s)) if !group.is_empty() => format!("{r}.{group}/{s}"),
        _ if group.is_empty() => resource.to_string(),
        _ => format!("{resource}.{group}"),
    }
}

/// Kinds whose CRD comes from `../shared` (absent: their checks are skipped).
fn needs_shared(resource: &str) -> bool {
    resource.ends_with(".istio.io") || resource.ends_with(".gke.io")
}

/// What the ServiceAccount must never do, whatever the YAML says.
fn forbidden() -> Vec<Access> {
    let sys = Some(SA_NAMESPACE);
    let def = Some("default");
    let mut out = Vec::new();
    for v in [
        "get", "list", "watch", "create", "update", "patch", "delete",
    ] {
        for ns in [None, sys, def] {
            out.push(access(v, "secrets", ns));
        }
    }
    for v in ["create", "update", "patch", "delete"] {
        for (res, scopes) in [
            ("pods", vec![None, def, sys]),
            ("deployments.apps", vec![None, def]),
            ("services", vec![None, def]),
            ("persistentvolumeclaims", vec![None, def]),
            ("configmaps", vec![None, def, sys]),
            ("serviceaccounts", vec![None, sys]),
            ("replicasets.apps", vec![None]),
            ("statefulsets.apps", vec![None]),
            ("daemonsets.apps", vec![None]),
            ("jobs.batch", vec![None]),
            ("namespaces", vec![None]),
            ("nodes", vec![None]),
            ("networkpolicies.networking.k8s.io", vec![None]),
            ("virtualservices.networking.istio.io", vec![None]),
            ("rootsyncs.configsync.gke.io", vec![None]),
            ("skills.skillbox.dev", vec![None]),
            ("modelproviders.skillbox.dev", vec![None]),
            ("roles.rbac.authorization.k8s.io", vec![None, sys]),
            ("rolebindings.rbac.authorization.k8s.io", vec![None, sys]),
            ("clusterroles.rbac.authorization.k8s.io", vec![None]),
            ("clusterrolebindings.rbac.authorization.k8s.io", vec![None]),
            ("customresourcedefinitions.apiextensions.k8s.io", vec![None]),
            (
                "validatingwebhookconfigurations.admissionregistration.k8s.io",
                vec![None],
            ),
            (
                "mutatingwebhookconfigurations.admissionregistration.k8s.io",
                vec![None],
            ),
            ("leases.coordination.k8s.io", vec![None, def]),
        ] {
            for ns in scopes {
                out.push(access(v, res, ns));
            }
        }
    }
    out.extend([
        access("create", "pods/exec", None),
        access("create", "pods/attach", None),
        access("create", "pods/portforward", None),
        access("create", "pods/eviction", None),
        access("patch", "pods/ephemeralcontainers", None),
        access("get", "nodes/proxy", None),
        access("create", "serviceaccounts/token", sys),
        access("update", "skills.skillbox.dev", None),
        access("delete", "events", None),
        access("deletecollection", "investigations.skillbox.dev", None),
        access("escalate", "clusterroles.rbac.authorization.k8s.io", None),
        access("bind", "clusterroles.rbac.authorization.k8s.io", None),
        access("impersonate", "users", None),
        access("impersonate", "serviceaccounts", None),
        access("impersonate", "groups", None),
        // The Lease: only its own, and never listed or deleted.
        access("list", "leases.coordination.k8s.io", sys),
        access("get", "leases.coordination.k8s.io", sys),
        access("update", "leases.coordination.k8s.io", sys).named("another-lease"),
        access("delete", "leases.coordination.k8s.io", sys).named(LEASE),
        access("*", "*", None),
    ]);
    out
}

/// Resource rules the server grants the ServiceAccount in `namespace` (`kubectl auth can-i --list`).
fn rules_review(namespace: &str) -> Value {
    let review = json!({"apiVersion": "authorization.k8s.io/v1", "kind": "SelfSubjectRulesReview",
        "spec": {"namespace": namespace}});
    let out = kubectl_ok(
        &[
            "create",
            "--validate=false",
            "--as",
            SA_USER,
            "-o",
            "json",
            "-f",
            "-",
        ],
        Some(&review.to_string()),
    );
    serde_json::from_str(&out).unwrap()
}

#[test]
#[ignore = "needs cluster"]
fn service_account_can_only_do_what_it_must() {
    install();
    let have_shared = shared("the Istio and Config Sync rows").is_some();
    let cluster_rules = rules_of(&deploy().join("clusterrole.yaml"));
    let role_rules = rules_of(&deploy().join("role.yaml"));

    // Expected: (access, allowed). Allowed ones come from the YAML, so the two cannot drift.
    let mut want: BTreeMap<Access, bool> = BTreeMap::new();
    let cluster_grants: BTreeSet<(String, String, String)> = cluster_rules
        .iter()
        .map(|(g, r, v, _)| (g.clone(), r.clone(), v.clone()))
        .collect();
    for (g, r, v, n) in &cluster_rules {
        let mut a = access(v, &qualified(g, r), None);
        a.name = n.clone();
        want.insert(a, true);
    }
    for (g, r, v, n) in &role_rules {
        let mut a = access(v, &qualified(g, r), Some(SA_NAMESPACE));
        a.name = n.clone();
        want.insert(a, true);
        // Outside its namespace, a Role's write is denied (unless the ClusterRole grants it).
        if !cluster_grants.contains(&(g.clone(), r.clone(), v.clone())) {
            let mut a = access(v, &qualified(g, r), Some("default"));
            a.name = n.clone();
            want.insert(a, false);
        }
    }
    for a in forbidden() {
        if want.get(&a) == Some(&true) {
            panic!(
                "deploy/ RBAC grants what the ServiceAccount must never do: {}",
                a.show()
            );
        }
        want.insert(a, false);
    }
    let checks: Vec<(Access, bool)> = want
        .into_iter()
        .filter(|(a, _)| have_shared || !needs_shared(&a.resource))
        .collect();

    // Ask the server, a few at a time.
    let results: Vec<Result<bool, String>> = checks
        .chunks(8)
        .flat_map(|chunk| {
            std::thread::scope(|s| {
                let handles: Vec<_> = chunk
                    .iter()
                    .map(|(a, _)| s.spawn(move || a.check()))
                    .collect();
                handles
                    .into_iter()
                    .map(|h| h.join().unwrap())
                    .collect::<Vec<_>>()
            })
        })
        .collect();

    let mut problems = Vec::new();
    let (mut yes, mut no) = (0, 0);
    println!("kubectl auth can-i --as={SA_USER} …");
    println!("{:<8} {:<5} what", "expected", "got");
    for ((a, allowed), got) in checks.iter().zip(&results) {
        let expected = if *allowed { "yes" } else { "no" };
        let shown = match got {
            Ok(true) => "yes",
            Ok(false) => "no",
            Err(_) => "ERROR",
        };
        let mark = if shown == expected {
            ""
        } else {
            "   <-- WRONG"
        };
        println!("{expected:<8} {shown:<5} {}{mark}", a.show());
        match got {
            Ok(g) if g == allowed => {
                if *g {
                    yes += 1;
                } else {
                    no += 1;
                }
            }
            Ok(g) => problems.push(format!(
                "can-i {}: the server says {}, expected {expected}",
                a.show(),
                if *g { "yes" } else { "no" }
            )),
            Err(e) => problems.push(format!("can-i {}: {e}", a.show())),
        }
    }
    println!(
        "{} checks: {yes} allowed and {no} denied as expected, {} wrong",
        checks.len(),
        problems.len()
    );

    // Completeness: the server's own list of the ServiceAccount's rules (can-i --list) holds no
    // write and no read the YAML does not grant, and nothing about Secrets.
    let self_reviews: BTreeSet<(String, String)> = [
        ("authorization.k8s.io", "selfsubjectaccessreviews"),
        ("authorization.k8s.io", "selfsubjectrulesreviews"),
        ("authentication.k8s.io", "selfsubjectreviews"),
    ]
    .into_iter()
    .map(|(g, r)| (g.to_string(), r.to_string()))
    .collect();
    for ns in ["default", SA_NAMESPACE] {
        let mut granted: BTreeSet<(String, String, String)> = cluster_grants.clone();
        if ns == SA_NAMESPACE {
            granted.extend(
                role_rules
                    .iter()
                    .map(|(g, r, v, _)| (g.clone(), r.clone(), v.clone())),
            );
        }
        let review = rules_review(ns);
        if review["status"]["incomplete"] == true {
            problems.push(format!(
                "SelfSubjectRulesReview in {ns} is incomplete: {}",
                review["status"]["evaluationError"]
            ));
        }
        for rule in review["status"]["resourceRules"].as_array().unwrap() {
            let strs = |k: &str| -> Vec<String> {
                rule[k]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|s| s.as_str().unwrap().to_string())
                    .collect()
            };
            for g in strs("apiGroups") {
                for r in strs("resources") {
                    for v in strs("verbs") {
                        let key = (g.clone(), r.clone(), v.clone());
                        let ok = granted.contains(&key)
                            || (v == "create" && self_reviews.contains(&(g.clone(), r.clone())));
                        if r.contains("secret") || g == "*" || r == "*" || v == "*" {
                            problems.push(format!("in {ns} the server grants {v} {r} ({g})"));
                        } else if !ok {
                            let kind = if READS.contains(&v.as_str()) {
                                "read"
                            } else {
                                "write"
                            };
                            problems.push(format!(
                                "in {ns} the server grants a {kind} deploy/ does not: {v} {} (from some other binding?)",
                                qualified(&g, &r)
                            ));
                        }
                    }
                }
            }
        }
        println!(
            "can-i --list -n {ns}: {} resource rules checked against deploy/ RBAC",
            review["status"]["resourceRules"]
                .as_array()
                .map_or(0, Vec::len)
        );
    }

    assert!(
        problems.is_empty(),
        "{} RBAC problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

// ---------------------------------------------------------------------------------------------
// 3. The controller, as the ServiceAccount, fills Investigations' status

/// The `skillbox` binary of this workspace's target folder.
fn skillbox_bin() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR") {
        Some(t) if !t.is_empty() => {
            let t = PathBuf::from(t);
            if t.is_absolute() { t } else { repo().join(t) }
        }
        _ => repo().join("target"),
    };
    let bin = target.join("debug/skillbox");
    assert!(
        bin.is_file(),
        "{} is absent: run `cargo build -p skillbox` first",
        bin.display()
    );
    bin
}

/// A kubeconfig that authenticates as the ServiceAccount with a fresh token (server and CA from
/// the admin's current context).
fn service_account_kubeconfig(dir: &Path) -> OsString {
    let admin = kubectl_json(&["config", "view", "--raw", "--minify", "--flatten"]);
    let cluster = &admin["clusters"][0]["cluster"];
    let token = kubectl_ok(
        &[
            "-n",
            SA_NAMESPACE,
            "create",
            "token",
            SA_NAME,
            "--duration=1h",
        ],
        None,
    );
    let mut c = json!({"server": cluster["server"]});
    for k in [
        "certificate-authority-data",
        "insecure-skip-tls-verify",
        "tls-server-name",
    ] {
        if !cluster[k].is_null() {
            c[k] = cluster[k].clone();
        }
    }
    let config = json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "e2e", "cluster": c}],
        "users": [{"name": SA_NAME, "user": {"token": token.trim()}}],
        "contexts": [{"name": "e2e", "context": {"cluster": "e2e", "user": SA_NAME, "namespace": SA_NAMESPACE}}],
        "current-context": "e2e",
    });
    let path = dir.join("sa.kubeconfig");
    std::fs::write(&path, serde_json::to_string_pretty(&config).unwrap()).unwrap();
    path.into_os_string()
}

/// The running controller; killed when dropped (a failed assertion included).
struct Controller {
    child: Child,
    log: PathBuf,
    metrics: String,
}

impl Controller {
    fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        let from = lines.len().saturating_sub(60);
        format!(
            "--- controller log (last {} lines of {}) ---\n{}",
            lines.len() - from,
            self.log.display(),
            lines[from..].join("\n")
        )
    }

    fn assert_running(&mut self) {
        if let Some(status) = self.child.try_wait().unwrap() {
            panic!("the controller exited ({status})\n{}", self.log_tail());
        }
    }

    /// SIGTERM, then wait for a graceful exit.
    fn stop(&mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-TERM", &pid]).status();
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "the controller did not exit within 20 s of SIGTERM\n{}",
                self.log_tail()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Controller {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A port nobody listens on now (bound and released).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `GET http://addr/path` → (status, body).
fn http_get(addr: &str, path: &str) -> Result<(u16, String), String> {
    let sock = addr.parse().map_err(|e| format!("{addr}: {e}"))?;
    let mut s =
        TcpStream::connect_timeout(&sock, Duration::from_secs(2)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .map_err(|e| e.to_string())?;
    write!(
        s,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )
    .map_err(|e| e.to_string())?;
    let mut raw = String::new();
    s.read_to_string(&mut raw).map_err(|e| e.to_string())?;
    let status = raw
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("not HTTP: {raw:.200}"))?;
    let body = raw
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_string();
    Ok((status, body))
}

/// Makes way for this test's controller: a Lease left by an earlier run is deleted once it is
/// stale; one still being renewed means another controller runs here, and the test stops.
fn clear_stale_lease() {
    let get = || kubectl_get(&["-n", SA_NAMESPACE, "lease", LEASE]);
    let Some(lease) = get() else { return };
    let holder = lease["spec"]["holderIdentity"].as_str().unwrap_or("");
    if !holder.is_empty() {
        let renewed = lease["spec"]["renewTime"].clone();
        let wait = lease["spec"]["leaseDurationSeconds"]
            .as_u64()
            .unwrap_or(15)
            .min(60)
            + 2;
        println!("Lease {LEASE} held by {holder}: waiting {wait} s to see whether it is renewed");
        std::thread::sleep(Duration::from_secs(wait));
        if let Some(again) = get() {
            assert!(
                again["spec"]["renewTime"] == renewed,
                "Lease {SA_NAMESPACE}/{LEASE} is being renewed by {}: another skillbox controller \
                 runs against this cluster; scale deployment/skillbox-controller to 0 first",
                again["spec"]["holderIdentity"]
            );
        }
    }
    kubectl_ok(
        &[
            "-n",
            SA_NAMESPACE,
            "delete",
            "lease",
            LEASE,
            "--ignore-not-found",
        ],
        None,
    );
}

fn start_controller(dir: &Path, kubeconfig: &OsString) -> Controller {
    let bin = skillbox_bin();
    let metrics = format!("127.0.0.1:{}", free_port());
    let log = dir.join("controller.log");
    let file = std::fs::File::create(&log).unwrap();
    let cache = dir.join("cache");
    let child = Command::new(&bin)
        .args(["controller", "--namespace", SA_NAMESPACE, "--metrics-addr"])
        .arg(&metrics)
        .args(["--leader-elect", "true", "--cache-dir"])
        .arg(&cache)
        .env("KUBECONFIG", kubeconfig)
        // NB: info level on purpose: every log line from a worker thread goes through stderr.
        .env(
            "SKILLBOX_LOG",
            std::env::var("SKILLBOX_E2E_LOG").unwrap_or_else(|_| "info".into()),
        )
        .env("POD_NAME", unique("e2e-controller"))
        .env_remove("POD_NAMESPACE")
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
    println!(
        "started {} controller (pid {}, metrics on {metrics}, log {})",
        bin.display(),
        child.id(),
        log.display()
    );
    let mut c = Controller {
        child,
        log,
        metrics,
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        c.assert_running();
        if let Ok((200, _)) = http_get(&c.metrics, "/healthz") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no /healthz on {} after 30 s\n{}",
            c.metrics,
            c.log_tail()
        );
        std::thread::sleep(Duration::from_millis(300));
    }
    c
}

/// Polls `get` every second until `done` holds, or panics after `timeout` with the last object.
fn wait_for(
    what: &str,
    timeout: Duration,
    controller: &mut Controller,
    get: impl Fn() -> Option<Value>,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let start = Instant::now();
    loop {
        controller.assert_running();
        let last = get();
        if let Some(v) = &last
            && done(v)
        {
            println!("{what}: after {:.1} s", start.elapsed().as_secs_f64());
            return last.unwrap();
        }
        if start.elapsed() > timeout {
            panic!(
                "{what}: not within {} s; last seen:\n{}\n{}",
                timeout.as_secs(),
                last.map_or("(absent)".into(), |v| serde_json::to_string_pretty(
                    &v["status"]
                )
                .unwrap()),
                controller.log_tail()
            );
        }
        std::thread::sleep(Duration::from_secs(1));
    }
}

/// A public scenario: where it is, what to investigate, what a correct report says.
#[derive(Debug)]
struct Scenario {
    name: String,
    dir: PathBuf,
    kind: String,
    namespace: String,
    target: String,
    verdict: String,
    codes: Vec<String>,
    forbid: Vec<String>,
}

fn scenario(shared: &Path, name: &str) -> Scenario {
    let dir = shared.join("scenarios").join(name);
    let sc = yaml_docs(&dir.join("scenario.yaml")).pop().unwrap();
    let strs = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .map(|s| s.as_str().unwrap().to_string())
            .collect()
    };
    Scenario {
        name: name.into(),
        kind: sc["target"]["kind"].as_str().unwrap().into(),
        namespace: sc["target"]["namespace"]
            .as_str()
            .unwrap_or("default")
            .into(),
        target: sc["target"]["name"].as_str().unwrap().into(),
        verdict: sc["expect"]["verdict"].as_str().unwrap().into(),
        codes: strs(&sc["expect"]["codes"]),
        forbid: strs(&sc["expect"]["forbid"]),
        dir,
    }
}

/// Every object of a snapshot folder (lists flattened, `logs/` skipped).
fn snapshot_objects(dir: &Path) -> Vec<Value> {
    let mut out = Vec::new();
    let mut files = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if p.file_name().is_some_and(|n| n != "logs") {
                    stack.push(p);
                }
            } else if matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("yaml" | "yml" | "json")
            ) {
                files.push(p);
            }
        }
    }
    files.sort();
    for f in files {
        for doc in yaml_docs(&f) {
            match doc["items"].as_array() {
                Some(items) if doc["kind"].as_str().is_some_and(|k| k.ends_with("List")) => {
                    out.extend(items.iter().cloned())
                }
                _ => out.push(doc),
            }
        }
    }
    out
}

/// Creation order: what others point at first, Events last.
fn rank(kind: &str) -> u8 {
    match kind {
        "ServiceAccount" => 0,
        "ConfigMap" | "Service" | "NetworkPolicy" => 1,
        "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob" => 2,
        "ReplicaSet" => 3,
        "Pod" => 4,
        "Endpoints" | "EndpointSlice" => 5,
        "Event" => 7,
        _ => 6,
    }
}

/// Rewrites the uid of a reference to a loaded object to the uid the server gave it.
fn rewrite_ref(r: &mut Value, ns: &str, uids: &HashMap<(String, String), String>) {
    if let Some(kind) = r["kind"].as_str() {
        let key = (
            kind.to_string(),
            r["name"].as_str().unwrap_or("").to_string(),
        );
        if let Some(uid) = uids.get(&key) {
            r["uid"] = json!(uid);
        }
    }
    if r.get("namespace").is_some() {
        r["namespace"] = json!(ns);
    }
}

/// The object as it can be created in `ns`: server-set metadata dropped, references to loaded
/// objects given their new uids, Service IPs left to the server.
fn creatable(obj: &Value, ns: &str, uids: &HashMap<(String, String), String>) -> Value {
    let mut o = obj.clone();
    let o_map = o.as_object_mut().unwrap();
    o_map.remove("status");
    let meta = o_map.get_mut("metadata").unwrap().as_object_mut().unwrap();
    for k in [
        "resourceVersion",
        "uid",
        "creationTimestamp",
        "managedFields",
        "generation",
        "selfLink",
        "deletionTimestamp",
        "deletionGracePeriodSeconds",
    ] {
        meta.remove(k);
    }
    meta.insert("namespace".into(), json!(ns));
    if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
        a.remove("kubectl.kubernetes.io/last-applied-configuration");
    }
    for r in meta
        .get_mut("ownerReferences")
        .and_then(Value::as_array_mut)
        .into_iter()
        .flatten()
    {
        rewrite_ref(r, ns, uids);
    }
    match obj["kind"].as_str().unwrap_or("") {
        "Service" => {
            let spec = o["spec"].as_object_mut().unwrap();
            if spec.get("clusterIP").and_then(Value::as_str) != Some("None") {
                spec.remove("clusterIP");
                spec.remove("clusterIPs");
            }
        }
        "Event" => {
            for f in ["involvedObject", "regarding", "related"] {
                if o.get(f).is_some_and(Value::is_object) {
                    rewrite_ref(&mut o[f], ns, uids);
                }
            }
        }
        "EndpointSlice" => {
            for e in o["endpoints"].as_array_mut().into_iter().flatten() {
                if e.get("targetRef").is_some() {
                    rewrite_ref(&mut e["targetRef"], ns, uids);
                }
            }
        }
        "Endpoints" => {
            for s in o["subsets"].as_array_mut().into_iter().flatten() {
                for key in ["addresses", "notReadyAddresses"] {
                    for a in s[key].as_array_mut().into_iter().flatten() {
                        if a.get("targetRef").is_some() {
                            rewrite_ref(&mut a["targetRef"], ns, uids);
                        }
                    }
                }
            }
        }
        _ => {}
    }
    o
}

/// Loads the objects of the scenario's target namespace into a fresh namespace (its labels
/// copied), status through the status subresource. Returns the namespace.
fn load_scenario(sc: &Scenario) -> String {
    let objects = snapshot_objects(&sc.dir.join("cluster"));
    let ns = unique(&format!("e2e-{}", &sc.name[..sc.name.len().min(24)]));
    let labels: BTreeMap<String, String> = objects
        .iter()
        .find(|o| o["kind"] == "Namespace" && o["metadata"]["name"] == sc.namespace.as_str())
        .and_then(|o| o["metadata"]["labels"].as_object())
        .into_iter()
        .flatten()
        .filter(|(k, _)| *k != "kubernetes.io/metadata.name")
        .map(|(k, v)| (k.clone(), v.as_str().unwrap_or("").to_string()))
        .collect();
    create_namespace(&ns, &labels);
    let mut mine: Vec<&Value> = objects
        .iter()
        .filter(|o| o["metadata"]["namespace"] == sc.namespace.as_str())
        .filter(|o| !(o["kind"] == "ServiceAccount" && o["metadata"]["name"] == "default"))
        .collect();
    mine.sort_by_key(|o| rank(o["kind"].as_str().unwrap_or("")));

    let mut uids: HashMap<(String, String), String> = HashMap::new();
    let mut statuses = Vec::new();
    let mut created = 0;
    for group in
        mine.chunk_by(|a, b| rank(a["kind"].as_str().unwrap()) == rank(b["kind"].as_str().unwrap()))
    {
        let items: Vec<Value> = group.iter().map(|o| creatable(o, &ns, &uids)).collect();
        let list = json!({"apiVersion": "v1", "kind": "List", "items": items});
        let out = kubectl_ok(
            &["create", "-o", "json", "-f", "-"],
            Some(&list.to_string()),
        );
        // NB: kubectl prints one JSON document per created object (a List only sometimes).
        let mut made: Vec<Value> = Vec::new();
        for doc in serde_json::Deserializer::from_str(&out).into_iter::<Value>() {
            let doc = doc.unwrap();
            match doc["items"].as_array() {
                Some(items) if doc["kind"] == "List" => made.extend(items.iter().cloned()),
                _ => made.push(doc),
            }
        }
        assert_eq!(made.len(), group.len(), "kubectl create: {out:.2000}");
        for (orig, new) in group.iter().zip(&made) {
            let kind = new["kind"].as_str().unwrap().to_string();
            let name = new["metadata"]["name"].as_str().unwrap().to_string();
            uids.insert(
                (kind, name),
                new["metadata"]["uid"].as_str().unwrap().into(),
            );
            created += 1;
            let Some(status) = orig
                .get("status")
                .filter(|s| s.as_object().is_some_and(|m| !m.is_empty()))
            else {
                continue;
            };
            let mut status = status.clone();
            // Keep how far status lagged behind the spec, on the new generation.
            if let (Some(gen_old), Some(obs_old), Some(gen_new)) = (
                orig["metadata"]["generation"].as_i64(),
                status["observedGeneration"].as_i64(),
                new["metadata"]["generation"].as_i64(),
            ) {
                status["observedGeneration"] = json!((gen_new - (gen_old - obs_old).max(0)).max(0));
            }
            statuses.push(json!({"apiVersion": new["apiVersion"], "kind": new["kind"],
                "metadata": {"name": new["metadata"]["name"], "namespace": ns},
                "status": status}));
        }
    }
    if !statuses.is_empty() {
        let list = json!({"apiVersion": "v1", "kind": "List", "items": statuses});
        kubectl_ok(
            &[
                "apply",
                "--server-side",
                "--subresource=status",
                "--field-manager=e2e-scenario",
                "-f",
                "-",
            ],
            Some(&list.to_string()),
        );
    }
    println!(
        "scenario {}: {created} objects of namespace {} loaded into {ns} ({} with status)",
        sc.name,
        sc.namespace,
        statuses.len()
    );
    ns
}

fn create_investigation(ns: &str, name: &str, kind: &str, target: &str) {
    let inv = json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "Investigation",
        "metadata": {"name": name, "namespace": ns},
        "spec": {"target": {"kind": kind, "name": target}, "llm": "never"}});
    kubectl_ok(&["create", "-f", "-"], Some(&inv.to_string()));
}

/// `Complete` has this status and (when given) reason. NB: an Investigation reconciled before the
/// controller registered its Skills is `Complete=False` (`NoSkillForKind`) until they are, so a
/// first `False` is no final answer.
fn complete(inv: &Value, status: &str, reason: Option<&str>) -> bool {
    condition(inv, "Complete")
        .is_some_and(|c| c["status"] == status && reason.is_none_or(|r| c["reason"] == r))
}

/// Events about an Investigation that report the same thing more than once (a transition is
/// reported once; a reconcile that changes nothing reports nothing).
fn repeated_events(ns: &str, name: &str) -> Vec<String> {
    let selector = format!("involvedObject.kind=Investigation,involvedObject.name={name}");
    let list = kubectl_json(&["-n", ns, "get", "events", "--field-selector", &selector]);
    let mut seen: BTreeMap<(String, String), u64> = BTreeMap::new();
    for e in list["items"].as_array().into_iter().flatten() {
        let times = [e["count"].as_u64(), e["series"]["count"].as_u64()]
            .into_iter()
            .flatten()
            .max()
            .unwrap_or(1);
        let key = (
            e["reason"].as_str().unwrap_or("").to_string(),
            e["message"].as_str().unwrap_or("").to_string(),
        );
        println!("  event about {ns}/{name}: {} {} (x{times})", key.0, key.1);
        *seen.entry(key).or_default() += times;
    }
    seen.into_iter()
        .filter(|(_, n)| *n > 1)
        .map(|((reason, message), n)| format!("{ns}/{name}: Event {reason} ({message}) {n} times"))
        .collect()
}

fn codes(status: &Value) -> BTreeSet<String> {
    status["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["code"].as_str().map(String::from))
        .collect()
}

/// What `skillbox investigate` says about the same scenario from its snapshot.
fn cli_report(bin: &Path, sc: &Scenario, cache: &Path) -> Option<Value> {
    let out = Command::new(bin)
        .args([
            "investigate",
            &format!("{}/{}", sc.kind, sc.target),
            "-n",
            &sc.namespace,
        ])
        .arg("--snapshot")
        .arg(sc.dir.join("cluster"))
        .args(["-o", "json", "--cache-dir"])
        .arg(cache)
        .output()
        .ok()?;
    serde_json::from_slice(&out.stdout).ok()
}

#[test]
#[ignore = "needs cluster"]
fn controller_fills_investigation_status() {
    let _ = admin_kubeconfig();
    let bin = skillbox_bin();
    let Some(shared) = shared("the controller test (it needs the public scenarios)") else {
        return;
    };
    install();
    let scenarios = ["workload-crashloop", "mesh-subset-not-found"].map(|n| scenario(&shared, n));
    let dir = tempfile::tempdir().unwrap();

    // The controller's identity: a token of the ServiceAccount, checked.
    let sa = service_account_kubeconfig(dir.path());
    let whoami = kubectl_as(&sa, &["auth", "whoami", "-o", "json"], None);
    assert!(
        whoami.ok,
        "the ServiceAccount token does not work: {}",
        whoami.stderr
    );
    let whoami: Value = serde_json::from_str(&whoami.stdout).unwrap();
    assert_eq!(whoami["status"]["userInfo"]["username"], SA_USER);
    let secrets = kubectl_as(&sa, &["-n", SA_NAMESPACE, "get", "secrets"], None);
    assert!(
        !secrets.ok && secrets.stderr.contains("Forbidden"),
        "the ServiceAccount's own token lists Secrets: {secrets:?}"
    );

    let loaded: Vec<(String, &Scenario)> =
        scenarios.iter().map(|sc| (load_scenario(sc), sc)).collect();

    clear_stale_lease();
    let mut controller = start_controller(dir.path(), &sa);

    // The built-in Skills are accepted and ready (their components compiled), as written by this
    // controller: an earlier run's status is cleared first.
    for name in ["workload-health", "mesh-investigation"] {
        kubectl_ok(
            &[
                "patch",
                "skill",
                name,
                "--subresource=status",
                "--type=merge",
                "-p",
                r#"{"status":null}"#,
            ],
            None,
        );
    }
    for name in ["workload-health", "mesh-investigation"] {
        wait_for(
            &format!("Skill {name} Ready"),
            Duration::from_secs(180),
            &mut controller,
            || kubectl_get(&["skill", name]),
            |s| {
                if condition_is(s, "Accepted", "False") {
                    panic!("Skill {name} not accepted: {}", s["status"]);
                }
                condition_is(s, "Ready", "True")
            },
        );
    }

    let mut problems = Vec::new();
    for (ns, sc) in &loaded {
        let name = format!("e2e-{}", sc.name);
        create_investigation(ns, &name, &sc.kind, &sc.target);
        let inv = wait_for(
            &format!("Investigation {ns}/{name} complete"),
            Duration::from_secs(60),
            &mut controller,
            || kubectl_get(&["-n", ns, "investigation", &name, "--show-managed-fields"]),
            |inv| complete(inv, "True", None),
        );
        let status = &inv["status"];
        println!("{}", serde_json::to_string_pretty(status).unwrap());
        if !condition_is(&inv, "Complete", "True") {
            problems.push(format!(
                "{}: Complete is not True: {}",
                sc.name, status["conditions"]
            ));
            continue;
        }
        if status["verdict"] != sc.verdict.as_str() {
            problems.push(format!(
                "{}: verdict {} (expected {})",
                sc.name, status["verdict"], sc.verdict
            ));
        }
        let got = codes(status);
        for c in &sc.codes {
            if !got.contains(c) {
                problems.push(format!("{}: finding {c} missing (got {got:?})", sc.name));
            }
        }
        for c in &sc.forbid {
            if got.contains(c) {
                problems.push(format!("{}: finding {c} must not appear", sc.name));
            }
        }
        if status["target"]["name"] != sc.target.as_str()
            || status["skills"].as_array().is_none_or(Vec::is_empty)
        {
            problems.push(format!(
                "{}: status.target or status.skills missing",
                sc.name
            ));
        }
        let by_controller = inv["metadata"]["managedFields"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|m| {
                m["manager"] == "skillbox-controller"
                    && m["operation"] == "Apply"
                    && m["subresource"] == "status"
            });
        if !by_controller {
            problems.push(format!(
                "{}: .status was not server-side applied by field manager skillbox-controller: {}",
                sc.name, inv["metadata"]["managedFields"]
            ));
        }
        // The same scenario from its snapshot, for comparison (the live one has no logs: there may
        // be no kubelet to serve them).
        if let Some(cli) = cli_report(&bin, sc, &dir.path().join("cache")) {
            let cli_codes = codes(&cli);
            if cli_codes != got || cli["verdict"] != status["verdict"] {
                println!(
                    "NOTE: {}: live {} {got:?}, snapshot (CLI) {} {cli_codes:?}",
                    sc.name, status["verdict"], cli["verdict"]
                );
            }
        }
    }

    // A target that does not exist: Complete=False, reason TargetNotFound.
    let (ns, _) = &loaded[0];
    create_investigation(ns, "e2e-missing", "Pod", "does-not-exist");
    let inv = wait_for(
        "Investigation of a missing Pod: Complete=False TargetNotFound",
        Duration::from_secs(60),
        &mut controller,
        || kubectl_get(&["-n", ns, "investigation", "e2e-missing"]),
        |inv| complete(inv, "False", Some("TargetNotFound")),
    );
    // … and stays so without a retry storm: the object does not change for a while.
    std::thread::sleep(Duration::from_secs(5));
    let later = kubectl_get(&["-n", ns, "investigation", "e2e-missing"]).unwrap();
    if later["metadata"]["resourceVersion"] != inv["metadata"]["resourceVersion"] {
        problems.push(format!(
            "missing target: the Investigation keeps changing: {}",
            later["status"]
        ));
    }

    // Events: one per transition.
    for (ns, sc) in &loaded {
        problems.extend(repeated_events(ns, &format!("e2e-{}", sc.name)));
    }
    problems.extend(repeated_events(ns, "e2e-missing"));

    // Metrics.
    match http_get(&controller.metrics, "/metrics") {
        Ok((200, body)) if body.contains("skillbox_investigations_total") => {
            for l in body
                .lines()
                .filter(|l| l.starts_with("skillbox_investigations_total"))
            {
                println!("{l}");
            }
        }
        Ok((code, body)) => problems.push(format!(
            "/metrics: HTTP {code}, no skillbox_investigations_total:\n{body:.2000}"
        )),
        Err(e) => problems.push(format!("/metrics: {e}")),
    }

    // As the ServiceAccount, nothing was forbidden: the RBAC covers what the controller does.
    let log = std::fs::read_to_string(&controller.log).unwrap_or_default();
    let forbidden: Vec<&str> = log
        .lines()
        .filter(|l| l.to_lowercase().contains("forbidden"))
        .collect();
    if !forbidden.is_empty() {
        problems.push(format!(
            "the controller was refused by RBAC {} time(s), e.g.:\n    {}",
            forbidden.len(),
            forbidden
                .iter()
                .take(5)
                .copied()
                .collect::<Vec<_>>()
                .join("\n    ")
        ));
    }

    let status = controller.stop();
    if !status.success() {
        problems.push(format!("the controller exited with {status} after SIGTERM"));
    }
    if !problems.is_empty() {
        println!("{}", controller.log_tail());
    }
    assert!(
        problems.is_empty(),
        "{} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}
