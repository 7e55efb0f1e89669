//! Reconcilers against kube's mocked API service (tower-test, the controller-rs fixtures
//! pattern): evidence comes from a public scenario's snapshot, so the mock sees only what the
//! reconcilers themselves send — status patches, Events, ConfigMap reads, deletes.

use crate::context::{Context, EvidenceFactory, KeySource};
use crate::controller::error_policy;
use crate::error::OperatorError;
use crate::metrics::Metrics;
use crate::{investigations, providers, skills};
use http::{Request, Response};
use k8s_openapi::ByteString;
use kube::Client;
use kube::client::Body;
use kube::runtime::controller::Action;
use serde_json::{Value, json};
use skillbox::engine::{EngineConfig, SkillEngine};
use skillbox::evidence::{EvidenceSource, SnapshotSource};
use skillbox_crds::{Investigation, ModelProvider, Skill};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};
use tokio::runtime::Handle;

/// One request the mock API server saw.
#[derive(Debug, Clone)]
struct Call {
    method: String,
    path: String,
    body: Value,
}

type Responder = dyn Fn(&str, &str, &Value) -> (u16, Value) + Send + Sync;

/// A mock API server answering every request with `respond`, recording each.
fn mock_api(respond: Arc<Responder>) -> (Client, Arc<Mutex<Vec<Call>>>) {
    let (svc, mut handle) = tower_test::mock::pair::<Request<Body>, Response<Body>>();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let seen = calls.clone();
    tokio::spawn(async move {
        while let Some((req, send)) = handle.next_request().await {
            let method = req.method().to_string();
            let path = req
                .uri()
                .path_and_query()
                .map(|p| p.to_string())
                .unwrap_or_default();
            let bytes = req.into_body().collect_bytes().await.unwrap_or_default();
            let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
            let (code, answer) = respond(&method, &path, &body);
            seen.lock().unwrap().push(Call {
                method,
                path,
                body: body.clone(),
            });
            let resp = Response::builder()
                .status(code)
                .header("content-type", "application/json")
                .body(Body::from(serde_json::to_vec(&answer).unwrap()))
                .unwrap();
            send.send_response(resp);
        }
    });
    (Client::new(svc, "default"), calls)
}

/// Answers like an API server that accepts every write: status patches echo the object,
/// Events are created, anything else is 404.
fn accepting(method: &str, path: &str, _body: &Value) -> (u16, Value) {
    if path.contains("/events") {
        return (
            201,
            json!({"apiVersion": "events.k8s.io/v1", "kind": "Event", "metadata": {"name": "e", "namespace": "default"}, "eventTime": null}),
        );
    }
    if method == "DELETE" {
        return (
            200,
            json!({"kind": "Status", "apiVersion": "v1", "status": "Success"}),
        );
    }
    (
        404,
        json!({"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404, "message": "not found"}),
    )
}

/// [`accepting`], answering status patches with `object` and the patched status, as a real
/// API server returns the whole object.
fn echoing(object: Value, fallback: Arc<Responder>) -> Arc<Responder> {
    Arc::new(move |method: &str, path: &str, body: &Value| {
        if method == "PATCH" && path.contains("/status") {
            let mut obj = object.clone();
            obj["status"] = body["status"].clone();
            return (200, obj);
        }
        fallback(method, path, body)
    })
}

fn shared() -> Option<PathBuf> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/scenarios");
    if p.is_dir() {
        Some(p)
    } else {
        eprintln!("NOTE: ../shared is absent; scenario-backed reconciler test skipped");
        None
    }
}

struct Snapshot(PathBuf);

impl EvidenceFactory for Snapshot {
    fn source(&self, _: Handle) -> Arc<dyn EvidenceSource> {
        Arc::new(SnapshotSource::load(&self.0).expect("scenario snapshot loads"))
    }
}

struct NoKeys;

impl KeySource for NoKeys {
    fn key(&self, secret: &str, key: &str) -> Result<String, String> {
        Err(format!("Secret {secret:?} key {key:?} is not mounted"))
    }
}

fn engine() -> Arc<SkillEngine> {
    static ENGINE: OnceLock<Arc<SkillEngine>> = OnceLock::new();
    ENGINE
        .get_or_init(|| Arc::new(SkillEngine::new(EngineConfig::default()).unwrap()))
        .clone()
}

fn context(client: Client, evidence: PathBuf) -> Arc<Context> {
    Arc::new(
        Context::new(
            client,
            "skillbox-system".into(),
            engine(),
            Arc::new(Metrics::new()),
            2,
            Arc::new(Snapshot(evidence)),
            Arc::new(NoKeys),
        )
        .unwrap(),
    )
}

fn builtin_skill(name: &str) -> Skill {
    let text = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("../skills-wasm/{name}/skill.yaml")),
    )
    .unwrap();
    let mut s: Skill = serde_yaml_ng::from_str(&text).unwrap();
    s.metadata.generation = Some(1);
    s.metadata.uid = Some(format!("uid-{name}"));
    s
}

async fn register(ctx: &Context, name: &str) {
    let reg = skills::accept(&builtin_skill(name), ctx).await.unwrap();
    ctx.registry.insert(reg);
}

fn investigation(name: &str, kind: &str, target: &str, ns: &str) -> Investigation {
    serde_json::from_value(json!({
        "apiVersion": "skillbox.dev/v1alpha1", "kind": "Investigation",
        "metadata": {"name": name, "namespace": ns, "generation": 1, "uid": "inv-uid"},
        "spec": {"target": {"kind": kind, "name": target}},
    }))
    .unwrap()
}

fn status_patches(calls: &Mutex<Vec<Call>>) -> Vec<Call> {
    calls
        .lock()
        .unwrap()
        .iter()
        .filter(|c| c.method == "PATCH" && c.path.contains("/status"))
        .cloned()
        .collect()
}

fn condition<'a>(status: &'a Value, type_: &str) -> &'a Value {
    status["conditions"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["type"] == type_))
        .unwrap_or(&Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn investigation_happy_path_writes_the_report_to_status() {
    let Some(scenarios) = shared() else { return };
    let inv = investigation("crash", "Pod", "reviews-v2-cxplld9gj5-pkmth", "bookinfo");
    let (client, calls) = mock_api(echoing(
        serde_json::to_value(&inv).unwrap(),
        Arc::new(accepting),
    ));
    let ctx = context(client, scenarios.join("workload-crashloop/cluster"));
    register(&ctx, "workload-health").await;
    let action = investigations::reconcile(Arc::new(inv), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        format!("{action:?}"),
        format!("{:?}", Action::await_change())
    );
    let patches = status_patches(&calls);
    assert_eq!(patches.len(), 1, "{patches:?}");
    let p = &patches[0];
    assert!(
        p.path.starts_with(
            "/apis/skillbox.dev/v1alpha1/namespaces/bookinfo/investigations/crash/status?"
        ) && p.path.contains("fieldManager=skillbox-controller")
            && p.path.contains("force=true"),
        "{}",
        p.path
    );
    assert_eq!(p.body["kind"], "Investigation");
    let status = &p.body["status"];
    assert_eq!(status["verdict"], "resolved");
    assert_eq!(status["observedGeneration"], 1);
    let codes: Vec<&str> = status["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["code"].as_str())
        .collect();
    assert!(codes.contains(&"workload.crashloop"), "{codes:?}");
    assert_eq!(status["target"]["name"], "reviews-v2-cxplld9gj5-pkmth");
    assert_eq!(status["skills"][0]["name"], "workload-health");
    assert_eq!(condition(status, "Complete")["status"], "True");
    assert_eq!(condition(status, "Complete")["reason"], "Investigated");
    assert_eq!(condition(status, "Ready")["status"], "True");
    assert!(
        calls
            .lock()
            .unwrap()
            .iter()
            .any(|c| c.method == "POST" && c.path.contains("/events"))
    );
    assert!(
        ctx.metrics
            .encode()
            .contains("skillbox_investigations_total{verdict=\"resolved\"} 1")
    );

    // The status it wrote makes the next reconcile a no-op: no loop on our own write.
    let mut done = investigation("crash", "Pod", "reviews-v2-cxplld9gj5-pkmth", "bookinfo");
    done.status = Some(serde_json::from_value(status.clone()).unwrap());
    let before = calls.lock().unwrap().len();
    investigations::reconcile(Arc::new(done.clone()), ctx.clone())
        .await
        .unwrap();
    assert_eq!(
        calls.lock().unwrap().len(),
        before,
        "an up-to-date Investigation is left alone"
    );

    // A new rerun annotation value runs it again.
    done.metadata.annotations =
        Some([(skillbox_crds::RERUN_ANNOTATION.to_string(), "1".to_string())].into());
    investigations::reconcile(Arc::new(done), ctx.clone())
        .await
        .unwrap();
    let patches = status_patches(&calls);
    assert_eq!(patches.len(), 2);
    assert_eq!(patches[1].body["status"]["observedRerun"], "1");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_target_is_target_not_found_without_retry() {
    let Some(scenarios) = shared() else { return };
    let inv = investigation("gone", "Pod", "no-such-pod", "bookinfo");
    let (client, calls) = mock_api(echoing(
        serde_json::to_value(&inv).unwrap(),
        Arc::new(accepting),
    ));
    let ctx = context(client, scenarios.join("workload-crashloop/cluster"));
    register(&ctx, "workload-health").await;
    let action = investigations::reconcile(Arc::new(inv), ctx).await.unwrap();
    assert_eq!(
        format!("{action:?}"),
        format!("{:?}", Action::await_change())
    );
    let patches = status_patches(&calls);
    let status = &patches[0].body["status"];
    let complete = condition(status, "Complete");
    assert_eq!(complete["status"], "False");
    assert_eq!(complete["reason"], "TargetNotFound");
    assert!(
        complete["message"]
            .as_str()
            .unwrap()
            .contains("no-such-pod")
    );
    assert!(status.get("verdict").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_accepted_skill_is_retried_later() {
    let Some(scenarios) = shared() else { return };
    let mut inv = investigation("early", "Pod", "reviews-v2-cxplld9gj5-pkmth", "bookinfo");
    inv.spec.skills = vec!["workload-health".into()];
    let (client, calls) = mock_api(echoing(
        serde_json::to_value(&inv).unwrap(),
        Arc::new(accepting),
    ));
    let ctx = context(client, scenarios.join("workload-crashloop/cluster"));
    let action = investigations::reconcile(Arc::new(inv), ctx).await.unwrap();
    assert_eq!(
        format!("{action:?}"),
        format!("{:?}", Action::requeue(std::time::Duration::from_secs(30)))
    );
    let status = &status_patches(&calls)[0].body["status"];
    assert_eq!(condition(status, "Complete")["reason"], "SkillNotReady");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unreachable_model_provider_degrades_to_the_deterministic_result() {
    let Some(scenarios) = shared() else { return };
    let provider = json!({
        "apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider",
        "metadata": {"name": "local"},
        "spec": {"type": "ollama", "endpoint": "http://127.0.0.1:9", "model": "qwen2.5:7b"},
        "status": {"conditions": [{"type": "Ready", "status": "False", "reason": "Unreachable",
            "message": "connection refused", "lastTransitionTime": "2026-11-25T00:00:00Z"}]},
    });
    let respond = move |method: &str, path: &str, body: &Value| {
        if method == "GET" && path.starts_with("/apis/skillbox.dev/v1alpha1/modelproviders/local") {
            return (200, provider.clone());
        }
        accepting(method, path, body)
    };
    let mut inv = investigation("sync", "RootSync", "root-sync", "config-management-system");
    inv.spec.model_provider_ref = Some(skillbox_crds::ModelProviderRef {
        name: "local".into(),
    });
    let (client, calls) = mock_api(echoing(
        serde_json::to_value(&inv).unwrap(),
        Arc::new(respond),
    ));
    let ctx = context(
        client,
        scenarios.join("rootsync-unrecognised-error/cluster"),
    );
    register(&ctx, "rootsync-investigation").await;
    investigations::reconcile(Arc::new(inv), ctx).await.unwrap();
    let status = &status_patches(&calls)[0].body["status"];
    assert_eq!(status["verdict"], "inconclusive");
    assert_eq!(status["llm"]["required"], true);
    assert_eq!(status["llm"]["called"], false);
    assert_eq!(condition(status, "Complete")["status"], "True");
    let ready = condition(status, "Ready");
    assert_eq!(ready["status"], "False");
    assert_eq!(ready["reason"], "ModelProviderUnavailable");
    assert!(
        ready["message"]
            .as_str()
            .unwrap()
            .contains("deterministic result")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_conflict_and_server_errors_back_off() {
    let Some(scenarios) = shared() else { return };
    for code in [409u16, 500] {
        let respond = move |method: &str, path: &str, body: &Value| {
            if method == "PATCH" && path.contains("/status") {
                return (
                    code,
                    json!({"kind": "Status", "apiVersion": "v1", "status": "Failure",
                    "reason": if code == 409 { "Conflict" } else { "InternalError" },
                    "code": code, "message": "try again"}),
                );
            }
            accepting(method, path, body)
        };
        let (client, _calls) = mock_api(Arc::new(respond));
        let ctx = context(client, scenarios.join("workload-crashloop/cluster"));
        register(&ctx, "workload-health").await;
        let inv = Arc::new(investigation(
            "crash",
            "Pod",
            "reviews-v2-cxplld9gj5-pkmth",
            "bookinfo",
        ));
        let err = investigations::reconcile(inv.clone(), ctx.clone())
            .await
            .unwrap_err();
        assert!(
            matches!(
                &err,
                OperatorError::Kube {
                    action: "patch status of",
                    ..
                }
            ),
            "{err}"
        );
        let first = error_policy(inv.clone(), &err, ctx.clone());
        let second = error_policy(inv, &err, ctx.clone());
        assert_eq!(
            format!("{first:?}"),
            format!("{:?}", Action::requeue(std::time::Duration::from_secs(5)))
        );
        assert_eq!(
            format!("{second:?}"),
            format!("{:?}", Action::requeue(std::time::Duration::from_secs(10)))
        );
        assert!(ctx.metrics.encode().contains("outcome=\"error\""));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn expired_investigation_is_deleted() {
    let (client, calls) = mock_api(Arc::new(accepting));
    let ctx = context(client, PathBuf::from("/nonexistent"));
    let mut inv = investigation("old", "Pod", "p", "default");
    inv.spec.ttl_seconds_after_finished = Some(60);
    inv.status = Some(serde_json::from_value(json!({
        "observedGeneration": 1,
        "conditions": [{"type": "Complete", "status": "True", "reason": "Investigated", "message": "",
            "lastTransitionTime": "2020-01-01T00:00:00Z"}],
    })).unwrap());
    investigations::reconcile(Arc::new(inv), ctx).await.unwrap();
    let calls = calls.lock().unwrap();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0].method, "DELETE");
    assert_eq!(
        calls[0].path.split('?').next().unwrap(),
        "/apis/skillbox.dev/v1alpha1/namespaces/default/investigations/old"
    );
}

/// Runs the Skill reconciler and returns the `Accepted` condition it wrote.
async fn accepted_condition(skill: Skill, respond: Arc<Responder>) -> (Value, Arc<Context>) {
    let (client, calls) = mock_api(echoing(serde_json::to_value(&skill).unwrap(), respond));
    let ctx = context(client, PathBuf::from("/nonexistent"));
    let name = skill.metadata.name.clone().unwrap();
    skills::reconcile(Arc::new(skill), ctx.clone())
        .await
        .unwrap();
    let patches = status_patches(&calls);
    assert_eq!(patches.len(), 1, "{patches:?}");
    assert_eq!(
        patches[0].path.split('?').next().unwrap(),
        format!("/apis/skillbox.dev/v1alpha1/skills/{name}/status")
    );
    (
        condition(&patches[0].body["status"], "Accepted").clone(),
        ctx,
    )
}

fn config_map_skill(wasm: &[u8], sha: &str, prose: Option<&str>) -> (Skill, Arc<Responder>) {
    let mut skill = builtin_skill("workload-health");
    skill.spec.module = serde_json::from_value(
        json!({"configMapRef": {"name": "modules", "key": "skill.wasm"}, "sha256": sha}),
    )
    .unwrap();
    skill.spec.prose = prose.map(str::to_string);
    let cm = json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": "modules", "namespace": "skillbox-system"},
        "binaryData": {"skill.wasm": ByteString(wasm.to_vec())},
    });
    let respond = move |method: &str, path: &str, body: &Value| {
        if method == "GET"
            && path.starts_with("/api/v1/namespaces/skillbox-system/configmaps/modules")
        {
            return (200, cm.clone());
        }
        accepting(method, path, body)
    };
    (skill, Arc::new(respond))
}

fn workload_md() -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../skills-wasm/workload-health/SKILL.md"),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skill_accepted_and_registered() {
    let (cond, ctx) =
        accepted_condition(builtin_skill("workload-health"), Arc::new(accepting)).await;
    assert_eq!(cond["status"], "True");
    assert!(ctx.registry.get("workload-health").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn skill_refusals_name_their_reason_and_never_register() {
    let wasm = skillbox::builtin::find("workload-health").unwrap().wasm;
    let digest = skillbox::engine::sha256_hex(wasm);
    let md = workload_md();
    let mut junk = b"\0asm\x0d\0\x01\0".to_vec();
    junk.extend_from_slice(b"definitely not a component");
    let junk_digest = skillbox::engine::sha256_hex(&junk);

    let mut not_granted = builtin_skill("workload-health");
    not_granted.spec.grants.tools = vec![skillbox_crds::Tool::GetObject];
    let mut unknown = builtin_skill("workload-health");
    unknown.spec.module.builtin = Some("no-such-skill".into());

    let cases: Vec<(&str, Skill, Arc<Responder>)> = vec![
        ("ImportNotGranted", not_granted, Arc::new(accepting)),
        ("UnknownBuiltin", unknown, Arc::new(accepting)),
        {
            let (s, r) = config_map_skill(wasm, &"0".repeat(64), Some(&md));
            ("DigestMismatch", s, r)
        },
        {
            let (s, r) = config_map_skill(wasm, &digest, Some("no frontmatter here"));
            ("InvalidSkillMd", s, r)
        },
        {
            let (s, r) = config_map_skill(wasm, &digest, None);
            ("InvalidSkillMd", s, r)
        },
        {
            let (s, r) = config_map_skill(&junk, &junk_digest, Some(&md));
            ("CompileFailed", s, r)
        },
    ];
    for (reason, skill, respond) in cases {
        let (cond, ctx) = accepted_condition(skill, respond).await;
        assert_eq!(cond["status"], "False", "{reason}: {cond}");
        assert_eq!(cond["reason"], reason, "{cond}");
        assert!(!cond["message"].as_str().unwrap().is_empty());
        assert!(
            ctx.registry.get("workload-health").is_none(),
            "{reason}: a refused skill is never registered"
        );
    }

    // The same bytes with the right digest and prose from a ConfigMap are accepted.
    let (s, r) = config_map_skill(wasm, &digest, Some(&md));
    let (cond, ctx) = accepted_condition(s, r).await;
    assert_eq!(cond["status"], "True", "{cond}");
    assert!(ctx.registry.get("workload-health").is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn model_provider_unreachable_and_missing_secret() {
    for (spec, reason) in [
        (
            json!({"type": "ollama", "endpoint": "http://127.0.0.1:9", "model": "m"}),
            "Unreachable",
        ),
        (
            json!({"type": "anthropic", "model": "m", "secretRef": {"name": "keys", "key": "ANTHROPIC_API_KEY"}}),
            "SecretMissing",
        ),
    ] {
        let mp: ModelProvider = serde_json::from_value(json!({
            "apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider",
            "metadata": {"name": "p", "generation": 2}, "spec": spec,
        }))
        .unwrap();
        let (client, calls) = mock_api(echoing(
            serde_json::to_value(&mp).unwrap(),
            Arc::new(accepting),
        ));
        let ctx = context(client, PathBuf::from("/nonexistent"));
        providers::reconcile(Arc::new(mp), ctx).await.unwrap();
        let status = &status_patches(&calls)[0].body["status"];
        let ready = condition(status, "Ready");
        assert_eq!(ready["status"], "False");
        assert_eq!(ready["reason"], reason, "{ready}");
        assert_eq!(ready["observedGeneration"], 2);
    }
}

#[test]
fn managed_server_is_owned_and_restricted() {
    let mp: ModelProvider = serde_json::from_value(json!({
        "apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider",
        "metadata": {"name": "local", "uid": "u1"},
        "spec": {"type": "ollama", "model": "qwen2.5:7b", "managed": true},
    }))
    .unwrap();
    let objs = providers::managed_server_objects(&mp, "skillbox-system");
    let kinds: Vec<&str> = objs.iter().filter_map(|o| o["kind"].as_str()).collect();
    assert_eq!(kinds, ["PersistentVolumeClaim", "Deployment", "Service"]);
    for o in &objs {
        assert_eq!(o["metadata"]["namespace"], "skillbox-system");
        assert_eq!(o["metadata"]["ownerReferences"][0]["uid"], "u1");
    }
    let pod = &objs[1]["spec"]["template"]["spec"];
    for c in pod["containers"]
        .as_array()
        .unwrap()
        .iter()
        .chain(pod["initContainers"].as_array().unwrap())
    {
        assert_eq!(c["securityContext"]["runAsNonRoot"], true);
        assert_eq!(c["securityContext"]["capabilities"]["drop"][0], "ALL");
    }
    assert_eq!(
        providers::endpoint("local", &mp.spec, "skillbox-system"),
        "http://skillbox-model-local.skillbox-system.svc:11434"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_target_in_another_namespace_is_refused() {
    let Some(scenarios) = shared() else { return };
    let mut inv = investigation("peek", "Pod", "reviews-v2-cxplld9gj5-pkmth", "team-a");
    inv.spec.target.namespace = Some("bookinfo".into());
    let (client, calls) = mock_api(echoing(
        serde_json::to_value(&inv).unwrap(),
        Arc::new(accepting),
    ));
    let ctx = context(client, scenarios.join("workload-crashloop/cluster"));
    register(&ctx, "workload-health").await;
    investigations::reconcile(Arc::new(inv), ctx).await.unwrap();
    let status = &status_patches(&calls)[0].body["status"];
    assert_eq!(
        condition(status, "Complete")["reason"],
        "TargetNamespaceForbidden"
    );
    assert!(
        status.get("findings").is_none(),
        "nothing of another namespace is reported"
    );
}
