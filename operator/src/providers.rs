//! The ModelProvider reconciler: resolves the key, checks the endpoint answers and has the
//! model (`Ready` with reasons `Reachable`, `Unreachable`, `ModelMissing`, `Unauthorized`,
//! `SecretMissing`), runs the model server itself when `managed: true`, and builds the
//! provider an Investigation calls.

use crate::context::{Context, FIELD_MANAGER, KeySource};
use crate::error::OperatorError;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DynamicObject, Patch, PatchParams};
use kube::core::{ApiResource, GroupVersionKind};
use kube::runtime::controller::Action;
use kube::runtime::events::EventType;
use kube::{Resource, ResourceExt};
use serde_json::{Value, json};
use skillbox::llm::{
    AnthropicProvider, ErrorClass, OllamaProvider, OpenAiProvider, Provider, ProviderOptions,
    SchemaMode,
};
use skillbox_crds::{
    ModelProvider, ModelProviderSpec, ModelProviderStatus, ProviderType, ResponseFormat, conditions,
};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Port of a managed Ollama server.
pub const OLLAMA_PORT: u16 = 11434;

/// Why a provider is not usable: the `Ready` reason and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unusable {
    /// `Unreachable`, `ModelMissing`, `Unauthorized`, `SecretMissing`, `InvalidSpec`.
    pub reason: &'static str,
    /// For a person.
    pub message: String,
}

fn unusable(reason: &'static str, message: impl Into<String>) -> Unusable {
    Unusable {
        reason,
        message: message.into(),
    }
}

/// Name of a managed server's Deployment, Service and PVC.
pub fn managed_name(provider: &str) -> String {
    let mut n = format!("skillbox-model-{provider}");
    n.truncate(63);
    n.trim_end_matches('-').to_string()
}

/// The endpoint investigations use: the managed Service's, the spec's, or Anthropic's default.
pub fn endpoint(name: &str, spec: &ModelProviderSpec, namespace: &str) -> String {
    if spec.managed == Some(true) {
        return format!(
            "http://{}.{namespace}.svc:{OLLAMA_PORT}",
            managed_name(name)
        );
    }
    match (&spec.endpoint, spec.provider_type) {
        (Some(e), _) => e.clone(),
        (None, ProviderType::Anthropic) => "https://api.anthropic.com".into(),
        (None, ProviderType::Ollama) => "http://127.0.0.1:11434".into(),
        (None, ProviderType::Openai) => "https://api.openai.com".into(),
    }
}

/// The provider an investigation calls, built from the spec and the key.
pub fn build(
    mp: &ModelProvider,
    keys: &dyn KeySource,
    namespace: &str,
) -> Result<Box<dyn Provider>, Unusable> {
    let spec = &mp.spec;
    let name = mp.name_any();
    let key = match &spec.secret_ref {
        Some(r) => Some(
            keys.key(&r.name, &r.key)
                .map_err(|m| unusable("SecretMissing", m))?,
        ),
        None => None,
    };
    let options = ProviderOptions {
        deadline: Duration::from_secs(u64::from(spec.timeouts.request_seconds.max(1))),
        ..ProviderOptions::default()
    };
    let url = endpoint(&name, spec, namespace);
    let invalid = |e: skillbox::llm::LlmError| unusable("InvalidSpec", e.to_string());
    Ok(match spec.provider_type {
        ProviderType::Anthropic => {
            let key = key.ok_or_else(|| {
                unusable(
                    "SecretMissing",
                    "type anthropic needs spec.secretRef (the API key)",
                )
            })?;
            Box::new(AnthropicProvider::new(url, &spec.model, key, options).map_err(invalid)?)
        }
        ProviderType::Ollama => {
            Box::new(OllamaProvider::new(url, &spec.model, options).map_err(invalid)?)
        }
        ProviderType::Openai => {
            let mode = match spec.response_format {
                Some(ResponseFormat::JsonObject) => SchemaMode::JsonObject,
                _ => SchemaMode::JsonSchema,
            };
            Box::new(
                OpenAiProvider::new(url, &spec.model, key, options)
                    .map_err(invalid)?
                    .with_schema_mode(mode),
            )
        }
    })
}

/// Checks that the provider answers and has the model.
pub async fn check(
    mp: &ModelProvider,
    keys: &dyn KeySource,
    namespace: &str,
    http: &reqwest::Client,
) -> Result<String, Unusable> {
    let spec = &mp.spec;
    let name = mp.name_any();
    let url = endpoint(&name, spec, namespace);
    let key = match &spec.secret_ref {
        Some(r) => Some(
            keys.key(&r.name, &r.key)
                .map_err(|m| unusable("SecretMissing", m))?,
        ),
        None => None,
    };
    let timeout = Duration::from_secs(u64::from(spec.timeouts.connect_seconds.max(1)) * 2);
    match spec.provider_type {
        ProviderType::Ollama => {
            let options = ProviderOptions {
                deadline: timeout,
                ..ProviderOptions::default()
            };
            let p = OllamaProvider::new(&url, &spec.model, options)
                .map_err(|e| unusable("InvalidSpec", e.to_string()))?;
            p.health().await.map_err(|e| {
                let reason = match e.class {
                    ErrorClass::ModelNotFound => "ModelMissing",
                    ErrorClass::Auth | ErrorClass::Permission => "Unauthorized",
                    _ => "Unreachable",
                };
                unusable(reason, e.to_string())
            })?;
            Ok(format!("{url} serves {}", spec.model))
        }
        ProviderType::Anthropic | ProviderType::Openai => {
            let models = skillbox::llm::http::join_url(&url, "/v1/models");
            let mut req = http.get(&models).timeout(timeout);
            if spec.provider_type == ProviderType::Anthropic {
                req = req
                    .header("anthropic-version", "2023-06-01")
                    .header("x-api-key", key.clone().unwrap_or_default());
            } else if let Some(k) = &key {
                req = req.bearer_auth(k);
            }
            let resp = req
                .send()
                .await
                .map_err(|e| unusable("Unreachable", format!("{models}: {e}")))?;
            let status = resp.status().as_u16();
            if status == 401 || status == 403 {
                return Err(unusable(
                    "Unauthorized",
                    format!("{models}: HTTP {status}: the key was refused"),
                ));
            }
            if !(200..300).contains(&status) {
                return Err(unusable("Unreachable", format!("{models}: HTTP {status}")));
            }
            let body: Value = resp.json().await.unwrap_or(Value::Null);
            let ids: Vec<&str> = body
                .get("data")
                .and_then(Value::as_array)
                .map(|d| d.iter().filter_map(|m| m.get("id")?.as_str()).collect())
                .unwrap_or_default();
            // Anthropic model aliases are not always listed; only an OpenAI-style server that
            // lists models and lacks this one is a definite "missing".
            if spec.provider_type == ProviderType::Openai
                && !ids.is_empty()
                && !ids.contains(&spec.model.as_str())
            {
                return Err(unusable(
                    "ModelMissing",
                    format!(
                        "{models} does not list {} (it has {})",
                        spec.model,
                        ids.join(", ")
                    ),
                ));
            }
            Ok(format!("{url} answered"))
        }
    }
}

/// Reconciles one ModelProvider.
pub async fn reconcile(mp: Arc<ModelProvider>, ctx: Arc<Context>) -> Result<Action, OperatorError> {
    let started = Instant::now();
    let name = mp.name_any();
    let span = tracing::info_span!("reconcile_model_provider", provider = %name);
    let _g = span.enter();
    if mp.spec.managed == Some(true) {
        apply_managed_server(&ctx, &mp).await?;
    }
    let result = check(&mp, ctx.keys.as_ref(), &ctx.namespace, &ctx.http).await;
    let generation = mp.metadata.generation;
    let mut status: ModelProviderStatus = mp.status.clone().unwrap_or_default();
    status.observed_generation = generation;
    status.endpoint = Some(endpoint(&name, &mp.spec, &ctx.namespace));
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let (ready, reason, message) = match &result {
        Ok(m) => (true, "Reachable", m.clone()),
        Err(u) => (false, u.reason, u.message.clone()),
    };
    let changed = conditions::set(
        &mut status.conditions,
        "Ready",
        ready,
        reason,
        &message,
        generation,
        now,
    );
    let api: Api<ModelProvider> = Api::all(ctx.client.clone());
    let patch =
        json!({"apiVersion": "skillbox.dev/v1alpha1", "kind": "ModelProvider", "status": status});
    api.patch_status(
        &name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|e| OperatorError::kube("patch status of", format!("ModelProvider {name}"), e))?;
    if changed {
        let t = if ready {
            EventType::Normal
        } else {
            EventType::Warning
        };
        crate::skills::publish(&ctx, mp.as_ref(), t, reason, message).await;
    }
    ctx.metrics
        .reconcile_duration("ModelProvider", started.elapsed().as_secs_f64());
    // Re-check periodically: endpoints come and go without any change to the object.
    Ok(Action::requeue(if ready {
        Duration::from_secs(300)
    } else {
        Duration::from_secs(60)
    }))
}

/// The managed Ollama server: a PVC for models, a Deployment whose init container pulls the
/// model, and a Service. Applied server-side, owned by the ModelProvider so they go with it.
pub fn managed_server_objects(mp: &ModelProvider, namespace: &str) -> Vec<Value> {
    let name = managed_name(&mp.name_any());
    let server = mp.spec.server.clone().unwrap_or_default();
    let owner = mp.controller_owner_ref(&()).map(|mut o| {
        // Deleting the ModelProvider deletes the server; no finalizer rights are needed.
        o.block_owner_deletion = None;
        o
    });
    let labels = json!({
        "app.kubernetes.io/name": "ollama",
        "app.kubernetes.io/instance": name,
        "app.kubernetes.io/managed-by": "skillbox",
    });
    let meta = |kind_labels: &Value| {
        json!({
            "name": name,
            "namespace": namespace,
            "labels": kind_labels,
            "ownerReferences": owner.iter().collect::<Vec<_>>(),
        })
    };
    let security = json!({
        "runAsNonRoot": true, "runAsUser": 65532, "runAsGroup": 65532,
        "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    });
    let env = json!([{"name": "OLLAMA_MODELS", "value": "/models"}, {"name": "HOME", "value": "/models"}]);
    let mounts = json!([{"name": "models", "mountPath": "/models"}]);
    vec![
        json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": meta(&labels),
            "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": server.storage}}},
        }),
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": meta(&labels),
            "spec": {
                "replicas": 1,
                "strategy": {"type": "Recreate"},
                "selector": {"matchLabels": {"app.kubernetes.io/instance": name}},
                "template": {
                    "metadata": {"labels": labels},
                    "spec": {
                        "securityContext": {"fsGroup": 65532, "seccompProfile": {"type": "RuntimeDefault"}},
                        "initContainers": [{
                            "name": "pull-model",
                            "image": server.image,
                            "command": ["/bin/sh", "-c", "ollama serve & pid=$!; sleep 3; ollama pull \"$MODEL\"; status=$?; kill $pid; exit $status"],
                            "env": env.as_array().into_iter().flatten().cloned().chain([json!({"name": "MODEL", "value": mp.spec.model})]).collect::<Vec<_>>(),
                            "volumeMounts": mounts,
                            "securityContext": security,
                        }],
                        "containers": [{
                            "name": "ollama",
                            "image": server.image,
                            "ports": [{"name": "http", "containerPort": OLLAMA_PORT}],
                            "env": env,
                            "volumeMounts": mounts,
                            "securityContext": security,
                            "readinessProbe": {"httpGet": {"path": "/api/version", "port": "http"}},
                            "resources": {
                                "requests": {"cpu": "500m", "memory": "1Gi"},
                                "limits": {"cpu": server.cpu, "memory": server.memory},
                            },
                        }],
                        "volumes": [{"name": "models", "persistentVolumeClaim": {"claimName": name}}],
                    },
                },
            },
        }),
        json!({
            "apiVersion": "v1", "kind": "Service", "metadata": meta(&labels),
            "spec": {
                "selector": {"app.kubernetes.io/instance": name},
                "ports": [{"name": "http", "port": OLLAMA_PORT, "targetPort": "http"}],
            },
        }),
    ]
}

async fn apply_managed_server(ctx: &Context, mp: &ModelProvider) -> Result<(), OperatorError> {
    for obj in managed_server_objects(mp, &ctx.namespace) {
        let (api_version, kind) = (
            obj["apiVersion"].as_str().unwrap_or_default(),
            obj["kind"].as_str().unwrap_or_default(),
        );
        let (group, version) = api_version.rsplit_once('/').unwrap_or(("", api_version));
        let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
        let api: Api<DynamicObject> = Api::namespaced_with(ctx.client.clone(), &ctx.namespace, &ar);
        let name = obj["metadata"]["name"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        api.patch(
            &name,
            &PatchParams::apply(FIELD_MANAGER).force(),
            &Patch::Apply(&obj),
        )
        .await
        .map_err(|e| OperatorError::kube("apply", format!("{kind} {}/{name}", ctx.namespace), e))?;
    }
    Ok(())
}
