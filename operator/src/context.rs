//! What every reconciler shares: the client, the sandbox engine, the accepted skills, the
//! evidence source factory, metrics, the Event recorder and the limits on concurrent work.

use crate::live::{LiveBudget, LiveCluster, LiveSource};
use crate::metrics::Metrics;
use crate::registry::SkillRegistry;
use kube::Client;
use kube::runtime::events::{Recorder, Reporter};
use skillbox::engine::SkillEngine;
use skillbox::evidence::EvidenceSource;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::runtime::Handle;
use tokio::sync::Semaphore;

/// The field manager of every status write: one owner for the fields the controller sets.
pub const FIELD_MANAGER: &str = "skillbox-controller";

/// Makes the evidence source of one investigation. The controller's is the live cluster; tests
/// hand in a snapshot so that only status writes go through the mocked API server.
pub trait EvidenceFactory: Send + Sync {
    /// A fresh source (with a fresh API-call budget) for one investigation.
    fn source(&self, handle: Handle) -> Arc<dyn EvidenceSource>;
}

/// Evidence from the API server, through the controller's own client.
pub struct LiveEvidence {
    /// Discovery and the client, shared by every investigation.
    pub cluster: Arc<LiveCluster>,
    /// Per-investigation limits.
    pub budget: LiveBudget,
}

impl EvidenceFactory for LiveEvidence {
    fn source(&self, handle: Handle) -> Arc<dyn EvidenceSource> {
        Arc::new(LiveSource::new(self.cluster.clone(), handle, self.budget))
    }
}

/// Looks up a ModelProvider's API key. The ServiceAccount cannot read Secrets: keys reach the
/// controller as environment variables mounted from one Secret (deploy/README.md).
pub trait KeySource: Send + Sync {
    /// The key for `secretRef {name, key}`, or why there is none.
    fn key(&self, secret: &str, key: &str) -> Result<String, String>;
}

/// Keys from the controller's environment: `secretRef.name` must be the Secret named in
/// `$SKILLBOX_MODEL_KEYS_SECRET` (the one the Deployment mounts) and `secretRef.key` is the
/// variable name.
#[derive(Debug, Default)]
pub struct EnvKeys;

impl KeySource for EnvKeys {
    fn key(&self, secret: &str, key: &str) -> Result<String, String> {
        let mounted = std::env::var("SKILLBOX_MODEL_KEYS_SECRET").unwrap_or_default();
        if mounted.is_empty() || mounted != secret {
            return Err(format!(
                "Secret {secret:?} is not mounted into the controller (mounted: {:?}); the controller cannot read Secrets itself",
                mounted
            ));
        }
        match std::env::var(key) {
            Ok(v) if !v.trim().is_empty() => Ok(v),
            _ => Err(format!(
                "Secret {secret:?} has no key {key:?} in the controller's environment"
            )),
        }
    }
}

/// Calls per hour per ModelProvider: a sliding window, so a burst of inconclusive
/// investigations (say, a trapped skill on every object) cannot run up a bill.
#[derive(Debug, Default)]
pub struct LlmRateLimit {
    calls: Mutex<HashMap<String, Vec<Instant>>>,
}

impl LlmRateLimit {
    /// Takes one call of `provider`'s hourly budget; false when it is spent.
    pub fn try_take(&self, provider: &str, per_hour: u32, now: Instant) -> bool {
        let mut calls = self.calls.lock().unwrap_or_else(|p| p.into_inner());
        let window = calls.entry(provider.to_string()).or_default();
        window.retain(|t| now.duration_since(*t) < Duration::from_secs(3600));
        if window.len() >= per_hour as usize {
            return false;
        }
        window.push(now);
        true
    }
}

/// Shared by the three reconcilers.
pub struct Context {
    /// The controller's client.
    pub client: Client,
    /// The controller's namespace (ConfigMaps of modules, managed model servers).
    pub namespace: String,
    /// The sandbox.
    pub engine: Arc<SkillEngine>,
    /// Accepted skills.
    pub registry: SkillRegistry,
    /// Evidence for investigations.
    pub evidence: Arc<dyn EvidenceFactory>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Kubernetes Events.
    pub recorder: Recorder,
    /// Investigations running at once.
    pub workers: Arc<Semaphore>,
    /// ModelProvider keys.
    pub keys: Arc<dyn KeySource>,
    /// LLM calls per provider per hour.
    pub llm_rate: LlmRateLimit,
    /// Fetches skill modules from `https://` URLs.
    pub http: reqwest::Client,
    /// Retry delays after failed reconciles.
    pub backoff: Backoff,
}

impl Context {
    /// A context with the live cluster as evidence and keys from the environment.
    pub fn new(
        client: Client,
        namespace: String,
        engine: Arc<SkillEngine>,
        metrics: Arc<Metrics>,
        concurrency: usize,
        evidence: Arc<dyn EvidenceFactory>,
        keys: Arc<dyn KeySource>,
    ) -> Result<Self, String> {
        let reporter = Reporter {
            controller: FIELD_MANAGER.into(),
            instance: std::env::var("POD_NAME").ok(),
        };
        // Installs the TLS provider reqwest needs, as the LLM adapters do.
        let http = skillbox::llm::http::build_client("skill-module").map_err(|e| e.to_string())?;
        Ok(Self {
            recorder: Recorder::new(client.clone(), reporter),
            client,
            namespace,
            engine,
            registry: SkillRegistry::new(),
            evidence,
            metrics,
            workers: Arc::new(Semaphore::new(concurrency.max(1))),
            keys,
            llm_rate: LlmRateLimit::default(),
            http,
            backoff: Backoff::default(),
        })
    }
}

/// Per-object retry delays after failed reconciles: 5 s doubling to 5 min, reset on success,
/// so a 409 or a flapping API server backs off instead of hammering.
#[derive(Debug, Default)]
pub struct Backoff {
    failures: Mutex<HashMap<String, u32>>,
}

impl Backoff {
    /// The delay before retrying `key` after one more failure.
    pub fn failed(&self, key: &str) -> Duration {
        let mut f = self.failures.lock().unwrap_or_else(|p| p.into_inner());
        let n = f.entry(key.to_string()).or_default();
        *n = n.saturating_add(1);
        let secs = 5u64.saturating_mul(1u64 << (*n - 1).min(6));
        Duration::from_secs(secs.min(300))
    }

    /// Forgets `key`'s failures.
    pub fn succeeded(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}
