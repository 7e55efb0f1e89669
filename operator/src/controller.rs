//! `skillbox controller`: wires the reconcilers, the trigger ladder, leader election, the
//! metrics endpoint and graceful shutdown together.

use crate::context::{Context, EnvKeys, LiveEvidence};
use crate::error::OperatorError;
use crate::leader::{LeaderElector, LeaderError, LeaseConfig};
use crate::live::{LiveBudget, LiveCluster};
use crate::metrics::Metrics;
use crate::serve::{Health, bind, serve};
use crate::trigger::{TriggerConfig, TriggerHooks};
use crate::{investigations, providers, skills};
use futures::StreamExt;
use kube::api::Api;
use kube::runtime::controller::{Action, Config as ControllerConfig, Controller};
use kube::runtime::watcher;
use kube::{Client, Resource, ResourceExt};
use skillbox::cli::ControllerArgs;
use skillbox::engine::{EngineConfig, SkillEngine};
use skillbox_crds::{Investigation, ModelProvider, Skill};
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// Counts trigger decisions in Prometheus.
struct MetricHooks(Arc<Metrics>);

impl TriggerHooks for MetricHooks {
    fn decision(&self, skill: &str, decision: &str) {
        self.0.trigger(skill, decision);
    }
}

/// Runs the controller until SIGTERM/Ctrl-C (exit 0) or a lost Lease / startup failure (1).
pub fn run(args: ControllerArgs) -> i32 {
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            tracing::error!(error = %e, "cannot start the async runtime");
            return 1;
        }
    };
    match runtime.block_on(main(args)) {
        Ok(()) => 0,
        Err(e) => {
            tracing::error!(error = %e, "controller stopped");
            eprintln!("error: {e}");
            1
        }
    }
}

fn shutdown_on_signal(token: CancellationToken) {
    tokio::spawn(async move {
        #[cfg(unix)]
        {
            let term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate());
            match term {
                Ok(mut term) => {
                    tokio::select! {
                        _ = tokio::signal::ctrl_c() => {}
                        _ = term.recv() => {}
                    }
                }
                Err(_) => {
                    let _ = tokio::signal::ctrl_c().await;
                }
            }
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight reconciles");
        token.cancel();
    });
}

async fn main(args: ControllerArgs) -> Result<(), OperatorError> {
    let namespace = args
        .namespace
        .clone()
        .or_else(|| {
            std::env::var("POD_NAMESPACE")
                .ok()
                .filter(|s| !s.is_empty())
        })
        .unwrap_or_else(|| "skillbox-system".into());
    let shutdown = CancellationToken::new();
    shutdown_on_signal(shutdown.clone());
    let metrics = Arc::new(Metrics::new());
    let health = Health::new();
    let listener = bind(args.metrics_addr)
        .await
        .map_err(|e| OperatorError::Startup(e.to_string()))?;
    let addr = listener.local_addr().ok();
    tracing::info!(addr = ?addr, "serving /metrics, /healthz, /readyz");
    let server = tokio::spawn(serve(
        listener,
        metrics.clone(),
        health.clone(),
        shutdown.clone(),
    ));
    let client = Client::try_default()
        .await
        .map_err(|e| OperatorError::Startup(format!("no Kubernetes client config: {e}")))?;
    let engine = SkillEngine::new(EngineConfig {
        cache_dir: args.cache_dir.clone(),
        ..EngineConfig::default()
    })
    .map_err(|e| OperatorError::Startup(e.to_string()))?;
    // A standby replica is healthy and ready: it serves metrics and waits for the Lease.
    health.set_ready(true);
    let guard = if args.leader_elect {
        let identity = std::env::var("POD_NAME")
            .ok()
            .filter(|s| !s.is_empty())
            .unwrap_or_else(|| format!("skillbox-{}", std::process::id()));
        let elector = LeaderElector::new(
            client.clone(),
            LeaseConfig::new(&namespace, &args.lease_name, identity),
        );
        match elector.run(metrics.clone(), shutdown.clone()).await {
            Ok(g) => Some(g),
            Err(LeaderError::Cancelled { .. }) => {
                let _ = server.await;
                return Ok(());
            }
            Err(e) => return Err(OperatorError::Startup(e.to_string())),
        }
    } else {
        metrics.set_leader(true);
        None
    };
    let work = shutdown.child_token();
    let lost = guard.as_ref().map(|g| g.lost());
    if let Some(lost) = lost.clone() {
        let work = work.clone();
        tokio::spawn(async move {
            lost.cancelled().await;
            work.cancel();
        });
    }
    let evidence = Arc::new(LiveEvidence {
        cluster: Arc::new(LiveCluster::new(client.clone(), namespace.clone())),
        budget: LiveBudget::default(),
    });
    let ctx = Arc::new(
        Context::new(
            client.clone(),
            namespace.clone(),
            Arc::new(engine),
            metrics.clone(),
            usize::from(args.concurrency),
            evidence,
            Arc::new(EnvKeys),
        )
        .map_err(OperatorError::Startup)?,
    );
    // Discovery once up front, so the first investigation's API budget is spent on evidence.
    let warm = ctx.evidence.source(tokio::runtime::Handle::current());
    tokio::task::spawn_blocking(move || {
        if let Err(e) = warm.kinds() {
            tracing::warn!(error = %e, "API discovery failed; investigations will retry it");
        }
    });
    tracing::info!(namespace = %namespace, "reconciling Skills, Investigations and ModelProviders");
    let skill_ctl = Controller::new(
        Api::<Skill>::all(client.clone()),
        watcher::Config::default(),
    );
    let skill_store = skill_ctl.store();
    let skills_fut = skill_ctl
        .graceful_shutdown_on(work.clone().cancelled_owned())
        .run(
            observed("Skill", skills::reconcile),
            error_policy::<Skill>,
            ctx.clone(),
        )
        .for_each(|_| async {});
    let registry_changes = futures::stream::unfold(ctx.registry.subscribe(), |mut rx| async move {
        rx.changed().await.ok()?;
        Some(((), rx))
    });
    let inv_fut = Controller::new(
        Api::<Investigation>::all(client.clone()),
        watcher::Config::default(),
    )
    .with_config(ControllerConfig::default().concurrency(args.concurrency))
    .reconcile_all_on(registry_changes)
    .graceful_shutdown_on(work.clone().cancelled_owned())
    .run(
        observed("Investigation", investigations::reconcile),
        error_policy::<Investigation>,
        ctx.clone(),
    )
    .for_each(|_| async {});
    let mp_fut = Controller::new(
        Api::<ModelProvider>::all(client.clone()),
        watcher::Config::default(),
    )
    .graceful_shutdown_on(work.clone().cancelled_owned())
    .run(
        observed("ModelProvider", providers::reconcile),
        error_policy::<ModelProvider>,
        ctx.clone(),
    )
    .for_each(|_| async {});
    let trigger_fut = crate::trigger::run(
        client.clone(),
        ctx.registry.clone(),
        TriggerConfig::default(),
        Arc::new(MetricHooks(metrics.clone())),
        work.clone(),
    );
    // Deleted Skills leave the registry: kube-runtime does not reconcile an object that is gone.
    let prune_ctx = ctx.clone();
    let prune_work = work.clone();
    let prune = async move {
        loop {
            tokio::select! {
                _ = prune_work.cancelled() => break,
                _ = tokio::time::sleep(Duration::from_secs(5)) => {}
            }
            if skill_store.wait_until_ready().await.is_err() {
                continue;
            }
            let present: Vec<String> = skill_store.state().iter().map(|s| s.name_any()).collect();
            for s in prune_ctx.registry.all() {
                if !present.contains(&s.name) {
                    tracing::info!(skill = %s.name, "Skill deleted; unregistered");
                    prune_ctx.registry.remove(&s.name);
                }
            }
        }
    };
    let (_, _, _, trigger_result, _) =
        tokio::join!(skills_fut, inv_fut, mp_fut, trigger_fut, prune);
    if let Err(e) = trigger_result {
        tracing::error!(error = %e, "trigger ladder stopped");
    }
    let lost_lease = lost.as_ref().is_some_and(|l| l.is_cancelled()) && !shutdown.is_cancelled();
    if let Some(g) = guard {
        g.release().await;
    }
    shutdown.cancel();
    let _ = server.await;
    if lost_lease {
        return Err(OperatorError::Startup(
            "lost the leader Lease; exiting so a fresh replica can compete".into(),
        ));
    }
    Ok(())
}

/// A boxed reconcile, so the three reconcilers share one wrapper.
type ReconcileFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<Action, OperatorError>> + Send>>;

/// Wraps a reconciler with the reconcile counter and backoff reset.
fn observed<K, F, Fut>(
    kind: &'static str,
    reconcile: F,
) -> impl FnMut(Arc<K>, Arc<Context>) -> ReconcileFuture
where
    K: Resource + Send + Sync + 'static,
    F: Fn(Arc<K>, Arc<Context>) -> Fut + Send + Copy + 'static,
    Fut: Future<Output = Result<Action, OperatorError>> + Send + 'static,
{
    move |obj: Arc<K>, ctx: Arc<Context>| {
        Box::pin(async move {
            let key = format!(
                "{kind}/{}/{}",
                obj.meta().namespace.clone().unwrap_or_default(),
                obj.meta().name.clone().unwrap_or_default()
            );
            let started = Instant::now();
            let result = reconcile(obj, ctx.clone()).await;
            if result.is_ok() {
                ctx.metrics.reconciled(kind, "ok");
                ctx.backoff.succeeded(&key);
            }
            tracing::debug!(kind, key = %key, duration_ms = started.elapsed().as_millis() as u64, "reconciled");
            result
        })
    }
}

/// Retries with per-object exponential backoff; conflicts and 5xx land here.
pub fn error_policy<K: Resource>(obj: Arc<K>, error: &OperatorError, ctx: Arc<Context>) -> Action {
    let kind = std::any::type_name::<K>()
        .rsplit("::")
        .next()
        .unwrap_or("object");
    let key = format!(
        "{kind}/{}/{}",
        obj.meta().namespace.clone().unwrap_or_default(),
        obj.meta().name.clone().unwrap_or_default()
    );
    ctx.metrics.reconciled(kind, "error");
    let delay = ctx.backoff.failed(&key);
    tracing::warn!(object = %key, error = %error, retry_in_s = delay.as_secs(), "reconcile failed");
    Action::requeue(delay)
}
