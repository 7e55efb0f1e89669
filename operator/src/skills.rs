//! The Skill reconciler: fetches the component (builtin, ConfigMap `binaryData` or URL), checks
//! digest, SKILL.md and imports against the grants, compiles it, and only then registers it.
//! A Skill that fails any check is `Accepted=False` with the reason and never runs.

use crate::context::{Context, FIELD_MANAGER};
use crate::error::OperatorError;
use crate::registry::RegisteredSkill;
use k8s_openapi::api::core::v1::ConfigMap;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::controller::Action;
use kube::runtime::events::{Event, EventType};
use kube::{Resource, ResourceExt};
use skillbox::engine::LoadError;
use skillbox::package::{PackageError, SkillPackage};
use skillbox_crds::{Skill, SkillStatus, conditions};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Largest component the controller downloads (the built-ins are well under 1 MiB).
pub const MAX_MODULE_BYTES: usize = 32 * 1024 * 1024;

/// Why a Skill is not accepted: the condition reason and a message for a person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// CamelCase reason (`DigestMismatch`, `ImportNotGranted`, …).
    pub reason: &'static str,
    /// What is wrong, naming the field or import.
    pub message: String,
    /// Whether trying again later can help (a ConfigMap not there yet, a URL down).
    pub retry: bool,
}

impl Refusal {
    fn new(reason: &'static str, message: impl Into<String>) -> Self {
        Self {
            reason,
            message: message.into(),
            retry: false,
        }
    }
}

/// Reconciles one Skill.
pub async fn reconcile(skill: Arc<Skill>, ctx: Arc<Context>) -> Result<Action, OperatorError> {
    let started = Instant::now();
    let name = skill.name_any();
    let span = tracing::info_span!("reconcile_skill", skill = %name);
    let _g = span.enter();
    let generation = skill.metadata.generation;
    let already = skill.status.as_ref().is_some_and(|s| {
        s.observed_generation == generation && conditions::is_true(&s.conditions, "Ready")
    }) && ctx
        .registry
        .get(&name)
        .is_some_and(|r| r.generation == generation);
    if already {
        return Ok(Action::requeue(Duration::from_secs(3600)));
    }
    let outcome = accept(&skill, &ctx).await;
    let mut status = skill.status.clone().unwrap_or_default();
    status.observed_generation = generation;
    let now = Time(k8s_openapi::jiff::Timestamp::now());
    let (action, event) = match outcome {
        Ok(registered) => {
            let msg = format!(
                "component {} compiled; imports {}",
                registered.loaded.digest(),
                registered.loaded.imports().join(", ")
            );
            status.digest = Some(format!("sha256:{}", registered.loaded.digest()));
            status.imports = registered.loaded.imports().to_vec();
            conditions::set(
                &mut status.conditions,
                "Accepted",
                true,
                "Valid",
                "manifest, SKILL.md, digest and imports passed every check",
                generation,
                now.clone(),
            );
            let changed = conditions::set(
                &mut status.conditions,
                "Ready",
                true,
                "Compiled",
                &msg,
                generation,
                now,
            );
            ctx.registry.insert(registered);
            (
                Action::requeue(Duration::from_secs(3600)),
                changed.then_some((EventType::Normal, "Accepted", msg)),
            )
        }
        Err(refusal) => {
            ctx.registry.remove(&name);
            status.digest = None;
            status.imports.clear();
            let changed = conditions::set(
                &mut status.conditions,
                "Accepted",
                false,
                refusal.reason,
                &refusal.message,
                generation,
                now.clone(),
            );
            conditions::set(
                &mut status.conditions,
                "Ready",
                false,
                refusal.reason,
                "not accepted; see the Accepted condition",
                generation,
                now,
            );
            tracing::warn!(reason = refusal.reason, message = %refusal.message, "skill refused");
            let action = if refusal.retry {
                Action::requeue(Duration::from_secs(30))
            } else {
                Action::await_change()
            };
            (
                action,
                changed.then(|| (EventType::Warning, refusal.reason, refusal.message.clone())),
            )
        }
    };
    patch_status(&ctx, &name, &status).await?;
    if let Some((type_, reason, note)) = event {
        publish(&ctx, skill.as_ref(), type_, reason, note).await;
    }
    ctx.metrics
        .reconcile_duration("Skill", started.elapsed().as_secs_f64());
    Ok(action)
}

/// Every check a Skill must pass, in the order a platform engineer would fix them.
pub async fn accept(skill: &Skill, ctx: &Context) -> Result<RegisteredSkill, Refusal> {
    let name = skill.name_any();
    if let Err(e) = skill.spec.validate() {
        return Err(Refusal::new("InvalidManifest", e.to_string()));
    }
    let module = &skill.spec.module;
    let (bytes, origin) = if let Some(b) = &module.builtin {
        (None, format!("builtin:{b}"))
    } else if let Some(cm) = &module.config_map_ref {
        let origin = format!("ConfigMap {}/{} key {}", ctx.namespace, cm.name, cm.key);
        (
            Some(from_config_map(ctx, &cm.name, &cm.key, &origin).await?),
            origin,
        )
    } else if let Some(url) = &module.url {
        (Some(from_url(ctx, url).await?), url.clone())
    } else {
        return Err(Refusal::new("InvalidManifest", "spec.module has no source"));
    };
    let mut manifest = skill.clone();
    manifest.status = None;
    let package = SkillPackage::from_cluster(manifest, bytes, &origin).map_err(|e| {
        let reason = match &e {
            PackageError::DigestMismatch { .. } => "DigestMismatch",
            PackageError::SkillMd { .. }
            | PackageError::ProseMissing { .. }
            | PackageError::NameMismatch { .. } => "InvalidSkillMd",
            PackageError::NotAComponent { .. } => "CompileFailed",
            PackageError::UnknownBuiltin { .. } => "UnknownBuiltin",
            PackageError::Manifest { .. } | PackageError::ManifestParse { .. } => "InvalidManifest",
            _ => "ModuleUnavailable",
        };
        Refusal::new(reason, e.to_string())
    })?;
    let engine = ctx.engine.clone();
    // Compiling takes hundreds of milliseconds of CPU: off the async threads.
    let loaded = tokio::task::spawn_blocking(move || engine.load(&package))
        .await
        .map_err(|e| Refusal::new("CompileFailed", format!("compiler thread failed: {e}")))?
        .map_err(|e| {
            let reason = match &e {
                LoadError::Refused { .. } => "ImportNotGranted",
                LoadError::Compile { .. } | LoadError::Link { .. } => "CompileFailed",
            };
            Refusal::new(reason, e.to_string())
        })?;
    Ok(RegisteredSkill {
        name,
        spec: skill.spec.clone(),
        uid: skill.metadata.uid.clone(),
        generation: skill.metadata.generation,
        loaded: Arc::new(loaded),
    })
}

async fn from_config_map(
    ctx: &Context,
    name: &str,
    key: &str,
    origin: &str,
) -> Result<Vec<u8>, Refusal> {
    let api: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), &ctx.namespace);
    let cm = match api.get_opt(name).await {
        Ok(Some(cm)) => cm,
        Ok(None) => {
            return Err(Refusal {
                reason: "ModuleUnavailable",
                message: format!("{origin}: the ConfigMap does not exist"),
                retry: true,
            });
        }
        Err(e) => {
            return Err(Refusal {
                reason: "ModuleUnavailable",
                message: format!("{origin}: {e}"),
                retry: true,
            });
        }
    };
    match cm.binary_data.as_ref().and_then(|d| d.get(key)) {
        Some(bytes) => Ok(bytes.0.clone()),
        None => Err(Refusal::new(
            "ModuleUnavailable",
            format!("{origin}: no such key under binaryData"),
        )),
    }
}

async fn from_url(ctx: &Context, url: &str) -> Result<Vec<u8>, Refusal> {
    let unavailable = |message: String| Refusal {
        reason: "ModuleUnavailable",
        message,
        retry: true,
    };
    if !url.starts_with("https://") {
        return Err(Refusal::new(
            "InvalidManifest",
            format!("spec.module.url {url:?} must be an https:// URL in a cluster"),
        ));
    }
    let mut resp = ctx
        .http
        .get(url)
        .send()
        .await
        .map_err(|e| unavailable(format!("{url}: {e}")))?;
    if !resp.status().is_success() {
        return Err(unavailable(format!("{url}: HTTP {}", resp.status())));
    }
    let mut body = Vec::new();
    while let Some(chunk) = resp
        .chunk()
        .await
        .map_err(|e| unavailable(format!("{url}: {e}")))?
    {
        if body.len() + chunk.len() > MAX_MODULE_BYTES {
            return Err(Refusal::new(
                "ModuleUnavailable",
                format!("{url}: larger than {MAX_MODULE_BYTES} bytes"),
            ));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

async fn patch_status(
    ctx: &Context,
    name: &str,
    status: &SkillStatus,
) -> Result<(), OperatorError> {
    let api: Api<Skill> = Api::all(ctx.client.clone());
    let patch = serde_json::json!({
        "apiVersion": "skillbox.dev/v1alpha1",
        "kind": "Skill",
        "status": status,
    });
    api.patch_status(
        name,
        &PatchParams::apply(FIELD_MANAGER).force(),
        &Patch::Apply(&patch),
    )
    .await
    .map_err(|e| OperatorError::kube("patch status of", format!("Skill {name}"), e))?;
    Ok(())
}

/// Publishes an Event about `obj`; a failure is logged, never fatal (Events are best effort).
pub async fn publish<K: Resource<DynamicType = ()>>(
    ctx: &Context,
    obj: &K,
    type_: EventType,
    reason: &str,
    note: String,
) {
    let event = Event {
        type_,
        reason: reason.to_string(),
        note: Some(skillbox_guest::text::clip(&note, 1000)),
        action: "Reconcile".into(),
        secondary: None,
    };
    if let Err(e) = ctx.recorder.publish(&event, &obj.object_ref(&())).await {
        tracing::debug!(error = %e, "event not recorded");
    }
}
