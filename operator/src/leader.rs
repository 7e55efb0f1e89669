//! Leader election on a `coordination.k8s.io/v1` Lease, the way client-go does it, so that of two
//! replicas only one reconciles and a standby takes over when the leader stops renewing.
//!
//! Every write is a `replace` carrying the `resourceVersion` just read: two replicas racing for
//! the Lease cannot both win, the loser gets a 409 and tries again next round.

use crate::metrics::Metrics;
use k8s_openapi::api::coordination::v1::{Lease, LeaseSpec};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{MicroTime, ObjectMeta};
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, PostParams};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Where the election happens and how fast it moves. The defaults of [`LeaseConfig::new`] are
/// client-go's: a leader that stops renewing is replaced within about 15 seconds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeaseConfig {
    /// Namespace of the Lease (the controller's own).
    pub namespace: String,
    /// Name of the Lease, shared by every replica of one controller.
    pub name: String,
    /// This replica's identity (its pod name), written as `holderIdentity`.
    pub identity: String,
    /// How long a Lease stays valid after its last renewal; standbys wait this long.
    pub lease_duration: Duration,
    /// How long the leader keeps trying to renew before it gives up leading.
    pub renew_deadline: Duration,
    /// Pause between attempts, both to acquire and to renew.
    pub retry_period: Duration,
}

impl LeaseConfig {
    /// A config with client-go's timings (15 s lease, 10 s renew deadline, 2 s retry period).
    pub fn new(
        namespace: impl Into<String>,
        name: impl Into<String>,
        identity: impl Into<String>,
    ) -> Self {
        Self {
            namespace: namespace.into(),
            name: name.into(),
            identity: identity.into(),
            lease_duration: Duration::from_secs(15),
            renew_deadline: Duration::from_secs(10),
            retry_period: Duration::from_secs(2),
        }
    }

    /// `namespace/name`, how logs and errors name the Lease.
    fn lease(&self) -> String {
        format!("{}/{}", self.namespace, self.name)
    }

    /// client-go's sanity rules: a leader must give up (renew deadline) before its Lease runs out,
    /// and must get more than one try within the deadline.
    fn validate(&self) -> Result<(), LeaderError> {
        let invalid = |reason| LeaderError::InvalidConfig {
            lease: self.lease(),
            reason,
        };
        if self.namespace.is_empty() || self.name.is_empty() {
            return Err(invalid("the Lease namespace and name must not be empty"));
        }
        if self.identity.is_empty() {
            return Err(invalid("the identity must not be empty"));
        }
        if self.retry_period.is_zero() {
            return Err(invalid("the retry period must be positive"));
        }
        if self.lease_duration <= self.renew_deadline {
            return Err(invalid(
                "the lease duration must be longer than the renew deadline",
            ));
        }
        if self.renew_deadline <= self.retry_period.mul_f64(1.2) {
            return Err(invalid(
                "the renew deadline must be longer than 1.2 retry periods",
            ));
        }
        if i32::try_from(self.lease_duration.as_secs()).is_err()
            || self.lease_duration.as_secs() == 0
        {
            return Err(invalid(
                "the lease duration must be between 1 second and i32::MAX seconds",
            ));
        }
        Ok(())
    }
}

/// Why leader election could not go on. A 409 Conflict is not among them: it only means another
/// replica wrote first, and is answered with "not leader this round".
#[derive(Debug, thiserror::Error)]
pub enum LeaderError {
    /// The timings or names cannot make a safe election; fix the settings.
    #[error("invalid leader election settings for Lease {lease}: {reason}")]
    InvalidConfig {
        /// `namespace/name` of the Lease.
        lease: String,
        /// Which rule the settings break.
        reason: &'static str,
    },
    /// The API server refused or failed a read or write of the Lease (RBAC, outage, timeout).
    #[error("cannot {action} Lease {lease}: {source}")]
    Api {
        /// `namespace/name` of the Lease.
        lease: String,
        /// What was attempted: `read`, `create` or `update`.
        action: &'static str,
        /// The client's error.
        #[source]
        source: Box<kube::Error>,
    },
    /// Shutdown came before this replica became leader.
    #[error("stopped waiting for Lease {lease}: cancelled")]
    Cancelled {
        /// `namespace/name` of the Lease.
        lease: String,
    },
}

/// The current time; a parameter so tests can run the election on tokio's paused clock.
type Clock = Arc<dyn Fn() -> Timestamp + Send + Sync>;

/// What one election step found.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    /// We hold the Lease now (created, taken over or renewed).
    Leader,
    /// Another replica holds a valid Lease.
    HeldBy(String),
    /// Another replica wrote between our read and our write.
    Conflict,
}

/// Competes for one Lease on behalf of this replica. Cheap to clone (a client and a config).
#[derive(Clone)]
pub struct LeaderElector {
    api: Api<Lease>,
    config: LeaseConfig,
    clock: Clock,
}

impl std::fmt::Debug for LeaderElector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LeaderElector")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl LeaderElector {
    /// An elector for the Lease `config` names, talking to the API server through `client`.
    pub fn new(client: kube::Client, config: LeaseConfig) -> Self {
        Self::with_clock(client, config, Arc::new(Timestamp::now))
    }

    fn with_clock(client: kube::Client, config: LeaseConfig, clock: Clock) -> Self {
        Self {
            api: Api::namespaced(client, &config.namespace),
            config,
            clock,
        }
    }

    /// One election step: create the Lease if absent, take it if nobody holds it or its holder
    /// let it expire, renew it if it is ours. `Ok(false)` when another replica holds it or won a
    /// race for it this round.
    pub async fn try_acquire_or_renew(&self) -> Result<bool, LeaderError> {
        self.config.validate()?;
        Ok(self.step().await? == Step::Leader)
    }

    /// Competes until this replica holds the Lease, retrying every retry period, then keeps it
    /// renewed in the background. `Err(Cancelled)` when `cancel` fires first.
    ///
    /// Once leading, `cancel` no longer matters: the returned guard owns the Lease until
    /// [`LeaderGuard::release`] (or drop, which stops renewing and lets the Lease expire).
    pub async fn run(
        self,
        metrics: Arc<Metrics>,
        cancel: CancellationToken,
    ) -> Result<LeaderGuard, LeaderError> {
        self.config.validate()?;
        metrics.set_leader(false);
        let lease = self.config.lease();
        let identity = self.config.identity.clone();
        let cancelled = || LeaderError::Cancelled {
            lease: lease.clone(),
        };
        tracing::info!(%lease, %identity, "waiting to become leader");
        let mut last_holder: Option<String> = None;
        loop {
            let step = tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(cancelled()),
                step = tokio::time::timeout(self.config.renew_deadline, self.step()) => step,
            };
            match step {
                Ok(Ok(Step::Leader)) => break,
                Ok(Ok(Step::HeldBy(holder))) => {
                    if last_holder.as_deref() != Some(holder.as_str()) {
                        tracing::info!(%lease, %identity, %holder, "Lease held by another replica; standing by");
                        last_holder = Some(holder);
                    }
                }
                Ok(Ok(Step::Conflict)) => {
                    tracing::debug!(%lease, %identity, "another replica wrote the Lease first");
                }
                Ok(Err(error)) => {
                    tracing::warn!(%lease, %identity, %error, "leader election attempt failed");
                }
                Err(_) => {
                    tracing::warn!(%lease, %identity, "leader election attempt timed out");
                }
            }
            tokio::select! {
                biased;
                () = cancel.cancelled() => return Err(cancelled()),
                () = tokio::time::sleep(self.config.retry_period) => {}
            }
        }
        tracing::info!(%lease, %identity, "became leader");
        metrics.set_leader(true);
        let lost = CancellationToken::new();
        let stop = CancellationToken::new();
        let task = tokio::spawn(keep_renewing(
            self.clone(),
            Arc::clone(&metrics),
            lost.clone(),
            stop.clone(),
        ));
        Ok(LeaderGuard {
            elector: self,
            metrics,
            lost,
            stop,
            task: Some(task),
        })
    }

    async fn step(&self) -> Result<Step, LeaderError> {
        let config = &self.config;
        let now = (self.clock)();
        let current = match self.api.get(&config.name).await {
            Ok(lease) => Some(lease),
            Err(error) if is_not_found(&error) => None,
            Err(error) => return Err(self.api_error("read", error)),
        };
        let Some(mut lease) = current else {
            let lease = Lease {
                metadata: ObjectMeta {
                    name: Some(config.name.clone()),
                    namespace: Some(config.namespace.clone()),
                    ..ObjectMeta::default()
                },
                spec: Some(LeaseSpec {
                    holder_identity: Some(config.identity.clone()),
                    lease_duration_seconds: Some(self.lease_seconds()),
                    acquire_time: Some(MicroTime(now)),
                    renew_time: Some(MicroTime(now)),
                    lease_transitions: Some(0),
                    ..LeaseSpec::default()
                }),
            };
            return match self.api.create(&PostParams::default(), &lease).await {
                Ok(_) => Ok(Step::Leader),
                Err(error) if is_conflict(&error) => Ok(Step::Conflict),
                Err(error) => Err(self.api_error("create", error)),
            };
        };
        let old = lease.spec.take().unwrap_or_default();
        let holder = old.holder_identity.as_deref().filter(|h| !h.is_empty());
        let ours = holder == Some(config.identity.as_str());
        if let Some(holder) = holder
            && !ours
            && !self.expired(&old, now)
        {
            return Ok(Step::HeldBy(holder.to_owned()));
        }
        let mut spec = old.clone();
        spec.holder_identity = Some(config.identity.clone());
        spec.lease_duration_seconds = Some(self.lease_seconds());
        spec.renew_time = Some(MicroTime(now));
        if !ours {
            spec.acquire_time = Some(MicroTime(now));
            spec.lease_transitions = Some(old.lease_transitions.unwrap_or(0).saturating_add(1));
        }
        lease.spec = Some(spec);
        // NB: `lease.metadata.resourceVersion` is still the one just read, which makes this replace
        // conditional: a write by anyone since then turns it into a 409.
        match self
            .api
            .replace(&config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(Step::Leader),
            Err(error) if is_conflict(&error) => Ok(Step::Conflict),
            Err(error) => Err(self.api_error("update", error)),
        }
    }

    /// Whether the holder's last renewal is older than the duration it promised.
    // NB: this compares the holder's clock (renewTime) with ours, so clock skew between nodes
    // shortens or lengthens the wait; client-go avoids that by timing its own observations, and a
    // lease duration well above the expected skew is what keeps this safe.
    fn expired(&self, spec: &LeaseSpec, now: Timestamp) -> bool {
        let Some(MicroTime(renewed)) = spec.renew_time else {
            return true;
        };
        let seconds = spec
            .lease_duration_seconds
            .unwrap_or_else(|| self.lease_seconds());
        match renewed.checked_add(SignedDuration::from_secs(i64::from(seconds))) {
            Ok(valid_until) => valid_until < now,
            // Past the end of time: never expires.
            Err(_) => false,
        }
    }

    /// Gives the Lease up if we still hold it: no holder and a one-second duration, so a standby
    /// takes over on its next try instead of waiting out the lease duration.
    async fn clear(&self) -> Result<bool, LeaderError> {
        let config = &self.config;
        let mut lease = match self.api.get(&config.name).await {
            Ok(lease) => lease,
            Err(error) if is_not_found(&error) => return Ok(false),
            Err(error) => return Err(self.api_error("read", error)),
        };
        let mut spec = lease.spec.take().unwrap_or_default();
        if spec.holder_identity.as_deref() != Some(config.identity.as_str()) {
            return Ok(false);
        }
        spec.holder_identity = None;
        spec.lease_duration_seconds = Some(1);
        spec.renew_time = Some(MicroTime((self.clock)()));
        lease.spec = Some(spec);
        match self
            .api
            .replace(&config.name, &PostParams::default(), &lease)
            .await
        {
            Ok(_) => Ok(true),
            Err(error) if is_conflict(&error) => Ok(false),
            Err(error) => Err(self.api_error("update", error)),
        }
    }

    fn lease_seconds(&self) -> i32 {
        i32::try_from(self.config.lease_duration.as_secs()).unwrap_or(i32::MAX)
    }

    fn api_error(&self, action: &'static str, error: kube::Error) -> LeaderError {
        LeaderError::Api {
            lease: self.config.lease(),
            action,
            source: Box::new(error),
        }
    }
}

/// Renews every retry period until stopped; cancels `lost` when another replica holds the Lease or
/// no renewal succeeded within the renew deadline.
async fn keep_renewing(
    elector: LeaderElector,
    metrics: Arc<Metrics>,
    lost: CancellationToken,
    stop: CancellationToken,
) {
    let config = &elector.config;
    let lease = config.lease();
    let identity = &config.identity;
    let mut renewed = Instant::now();
    loop {
        tokio::select! {
            biased;
            () = stop.cancelled() => return,
            () = tokio::time::sleep(config.retry_period) => {}
        }
        let left = config.renew_deadline.saturating_sub(renewed.elapsed());
        let step = tokio::select! {
            biased;
            () = stop.cancelled() => return,
            step = tokio::time::timeout(left, elector.step()) => step,
        };
        match step {
            Ok(Ok(Step::Leader)) => {
                renewed = Instant::now();
                continue;
            }
            Ok(Ok(Step::HeldBy(holder))) => {
                tracing::info!(%lease, %identity, %holder, "lost leadership: another replica holds the Lease");
                break;
            }
            Ok(Ok(Step::Conflict)) => {
                tracing::warn!(%lease, %identity, "renewing the Lease conflicted; retrying");
            }
            Ok(Err(error)) => {
                tracing::warn!(%lease, %identity, %error, "renewing the Lease failed; retrying");
            }
            Err(_) => {
                tracing::warn!(%lease, %identity, "renewing the Lease timed out");
            }
        }
        if renewed.elapsed() >= config.renew_deadline {
            tracing::info!(
                %lease,
                %identity,
                deadline = ?config.renew_deadline,
                "lost leadership: no renewal within the renew deadline"
            );
            break;
        }
    }
    metrics.set_leader(false);
    lost.cancel();
}

/// Proof of leadership: while it lives, the Lease is renewed in the background. Dropping it stops
/// renewing (the Lease then expires); [`LeaderGuard::release`] hands it over at once.
#[derive(Debug)]
pub struct LeaderGuard {
    elector: LeaderElector,
    metrics: Arc<Metrics>,
    lost: CancellationToken,
    stop: CancellationToken,
    task: Option<JoinHandle<()>>,
}

impl LeaderGuard {
    /// Cancelled when leadership is lost (another replica took the Lease, or renewals failed for
    /// longer than the renew deadline): the controller must stop reconciling then.
    pub fn lost(&self) -> CancellationToken {
        self.lost.clone()
    }

    /// On graceful shutdown: stops renewing and clears the holder so a standby takes over on its
    /// next try. Best effort, bounded by the renew deadline; failures are logged, since the Lease
    /// expires on its own anyway.
    pub async fn release(mut self) {
        self.stop.cancel();
        if let Some(task) = self.task.take()
            && let Err(error) = task.await
        {
            tracing::warn!(%error, "the Lease renewal task failed");
        }
        self.metrics.set_leader(false);
        let config = &self.elector.config;
        let (lease, identity) = (config.lease(), &config.identity);
        if self.lost.is_cancelled() {
            return;
        }
        match tokio::time::timeout(config.renew_deadline, self.elector.clear()).await {
            Ok(Ok(true)) => tracing::info!(%lease, %identity, "released leadership"),
            Ok(Ok(false)) => {
                tracing::info!(%lease, %identity, "Lease no longer ours; nothing to release");
            }
            Ok(Err(error)) => {
                tracing::warn!(%lease, %identity, %error, "releasing the Lease failed; it will expire");
            }
            Err(_) => {
                tracing::warn!(%lease, %identity, "releasing the Lease timed out; it will expire");
            }
        }
    }
}

impl Drop for LeaderGuard {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

fn is_not_found(error: &kube::Error) -> bool {
    // NB: kube's `Status::is_not_found` matches the reason only; a bare 404 counts too.
    matches!(error, kube::Error::Api(status) if status.code == 404 || status.reason == "NotFound")
}

/// 409: a Conflict on update or AlreadyExists on create, both "someone else wrote first".
fn is_conflict(error: &kube::Error) -> bool {
    matches!(error, kube::Error::Api(status) if status.code == 409
        || status.reason == "Conflict"
        || status.reason == "AlreadyExists")
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::{Method, Request, Response, StatusCode};
    use kube::client::Body;
    use tower_test::mock;

    type Handle = mock::Handle<Request<Body>, Response<Body>>;
    type Reply = mock::SendResponse<Response<Body>>;

    const NS: &str = "skillbox-system";
    const NAME: &str = "skillbox-controller";
    const ME: &str = "skillbox-0";
    const OTHER: &str = "skillbox-1";
    const LEASE_PATH: &str =
        "/apis/coordination.k8s.io/v1/namespaces/skillbox-system/leases/skillbox-controller";
    const LEASES_PATH: &str = "/apis/coordination.k8s.io/v1/namespaces/skillbox-system/leases";

    fn t0() -> Timestamp {
        Timestamp::from_second(1_700_000_000).unwrap()
    }

    fn at(seconds: i64) -> MicroTime {
        MicroTime(
            t0().checked_add(SignedDuration::from_secs(seconds))
                .unwrap(),
        )
    }

    fn config() -> LeaseConfig {
        LeaseConfig::new(NS, NAME, ME)
    }

    /// An elector whose clock stands still at `t0`.
    fn elector_at_t0() -> (LeaderElector, Handle) {
        let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let client = kube::Client::new(service, "default");
        let elector = LeaderElector::with_clock(client, config(), Arc::new(t0));
        (elector, handle)
    }

    /// An elector whose clock is `t0` plus tokio's (paused) time since the call.
    fn elector_on_tokio_time() -> (LeaderElector, Handle) {
        let (service, handle) = mock::pair::<Request<Body>, Response<Body>>();
        let client = kube::Client::new(service, "default");
        let start = Instant::now();
        let clock: Clock = Arc::new(move || {
            let elapsed = SignedDuration::try_from(start.elapsed()).unwrap();
            t0().checked_add(elapsed).unwrap()
        });
        (LeaderElector::with_clock(client, config(), clock), handle)
    }

    fn lease(holder: Option<&str>, renewed: MicroTime, transitions: i32, rv: &str) -> Lease {
        Lease {
            metadata: ObjectMeta {
                name: Some(NAME.into()),
                namespace: Some(NS.into()),
                resource_version: Some(rv.into()),
                ..ObjectMeta::default()
            },
            spec: Some(LeaseSpec {
                holder_identity: holder.map(str::to_owned),
                lease_duration_seconds: Some(15),
                acquire_time: Some(at(-100)),
                renew_time: Some(renewed),
                lease_transitions: Some(transitions),
                ..LeaseSpec::default()
            }),
        }
    }

    /// The next request, checked for method and path; its body parsed as a Lease when it has one.
    async fn expect(handle: &mut Handle, method: Method, path: &str) -> (Option<Lease>, Reply) {
        let (request, reply) = handle.next_request().await.expect("another request");
        assert_eq!(request.method(), method);
        assert_eq!(request.uri().path(), path);
        let bytes = request.into_body().collect_bytes().await.unwrap();
        let body = (!bytes.is_empty()).then(|| serde_json::from_slice(&bytes).unwrap());
        (body, reply)
    }

    fn ok(reply: Reply, status: StatusCode, lease: &Lease) {
        let body = Body::from(serde_json::to_vec(lease).unwrap());
        let mut response = Response::new(body);
        *response.status_mut() = status;
        reply.send_response(response);
    }

    fn fail(reply: Reply, code: u16, reason: &str) {
        let status = serde_json::json!({
            "kind": "Status", "apiVersion": "v1", "metadata": {},
            "status": "Failure", "message": format!("test says {reason}"),
            "reason": reason, "code": code,
        });
        let mut response = Response::new(Body::from(serde_json::to_vec(&status).unwrap()));
        *response.status_mut() = StatusCode::from_u16(code).unwrap();
        reply.send_response(response);
    }

    fn spec(lease: &Lease) -> &LeaseSpec {
        lease.spec.as_ref().expect("a spec")
    }

    /// Runs one step against `server`, then checks the elector made no further call.
    async fn one_step<F>(server: F) -> Result<bool, LeaderError>
    where
        F: AsyncFnOnce(&mut Handle),
    {
        let (elector, mut handle) = elector_at_t0();
        let (result, ()) = tokio::join!(elector.try_acquire_or_renew(), server(&mut handle));
        drop(elector);
        assert!(
            handle.next_request().await.is_none(),
            "an unexpected request"
        );
        result
    }

    #[tokio::test]
    async fn absent_lease_is_created_with_us_as_holder() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            fail(reply, 404, "NotFound");
            let (body, reply) = expect(h, Method::POST, LEASES_PATH).await;
            let created = body.expect("a Lease");
            assert_eq!(created.metadata.name.as_deref(), Some(NAME));
            assert_eq!(created.metadata.namespace.as_deref(), Some(NS));
            let s = spec(&created);
            assert_eq!(s.holder_identity.as_deref(), Some(ME));
            assert_eq!(s.lease_duration_seconds, Some(15));
            assert_eq!(s.lease_transitions, Some(0));
            assert_eq!(s.acquire_time, Some(at(0)));
            assert_eq!(s.renew_time, Some(at(0)));
            ok(reply, StatusCode::CREATED, &created);
        })
        .await;
        assert!(result.unwrap());
    }

    #[tokio::test]
    async fn fresh_lease_of_another_replica_is_left_alone() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(Some(OTHER), at(-5), 3, "41"));
        })
        .await;
        assert!(!result.unwrap());
    }

    #[tokio::test]
    async fn expired_lease_of_another_replica_is_taken_over() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(Some(OTHER), at(-16), 3, "41"));
            let (body, reply) = expect(h, Method::PUT, LEASE_PATH).await;
            let taken = body.expect("a Lease");
            assert_eq!(taken.metadata.resource_version.as_deref(), Some("41"));
            let s = spec(&taken);
            assert_eq!(s.holder_identity.as_deref(), Some(ME));
            assert_eq!(s.lease_transitions, Some(4));
            assert_eq!(s.acquire_time, Some(at(0)));
            assert_eq!(s.renew_time, Some(at(0)));
            assert_eq!(s.lease_duration_seconds, Some(15));
            ok(reply, StatusCode::OK, &taken);
        })
        .await;
        assert!(result.unwrap());
    }

    #[tokio::test]
    async fn released_lease_is_taken_at_once() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(None, at(-1), 3, "41"));
            let (body, reply) = expect(h, Method::PUT, LEASE_PATH).await;
            let taken = body.expect("a Lease");
            assert_eq!(spec(&taken).holder_identity.as_deref(), Some(ME));
            assert_eq!(spec(&taken).lease_transitions, Some(4));
            ok(reply, StatusCode::OK, &taken);
        })
        .await;
        assert!(result.unwrap());
    }

    #[tokio::test]
    async fn our_lease_is_renewed_keeping_acquire_time_and_transitions() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(Some(ME), at(-2), 3, "42"));
            let (body, reply) = expect(h, Method::PUT, LEASE_PATH).await;
            let renewed = body.expect("a Lease");
            assert_eq!(renewed.metadata.resource_version.as_deref(), Some("42"));
            let s = spec(&renewed);
            assert_eq!(s.holder_identity.as_deref(), Some(ME));
            assert_eq!(s.lease_transitions, Some(3));
            assert_eq!(s.acquire_time, Some(at(-100)));
            assert_eq!(s.renew_time, Some(at(0)));
            ok(reply, StatusCode::OK, &renewed);
        })
        .await;
        assert!(result.unwrap());
    }

    #[tokio::test]
    async fn conflict_on_update_is_not_leader_this_round() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(Some(OTHER), at(-60), 3, "41"));
            let (_, reply) = expect(h, Method::PUT, LEASE_PATH).await;
            fail(reply, 409, "Conflict");
        })
        .await;
        assert!(!result.unwrap());
    }

    #[tokio::test]
    async fn losing_the_create_race_is_not_leader_this_round() {
        let result = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            fail(reply, 404, "NotFound");
            let (_, reply) = expect(h, Method::POST, LEASES_PATH).await;
            fail(reply, 409, "AlreadyExists");
        })
        .await;
        assert!(!result.unwrap());
    }

    #[tokio::test]
    async fn server_errors_are_errors_naming_the_lease_and_action() {
        let read = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            fail(reply, 500, "InternalError");
        })
        .await
        .unwrap_err();
        assert!(
            matches!(&read, LeaderError::Api { action: "read", lease, .. } if lease == "skillbox-system/skillbox-controller"),
            "{read:?}"
        );
        let update = one_step(async |h: &mut Handle| {
            let (_, reply) = expect(h, Method::GET, LEASE_PATH).await;
            ok(reply, StatusCode::OK, &lease(Some(ME), at(-2), 0, "7"));
            let (_, reply) = expect(h, Method::PUT, LEASE_PATH).await;
            fail(reply, 500, "InternalError");
        })
        .await
        .unwrap_err();
        assert!(
            matches!(
                update,
                LeaderError::Api {
                    action: "update",
                    ..
                }
            ),
            "{update:?}"
        );
    }

    #[test]
    fn unsafe_timings_are_refused() {
        let mut c = config();
        assert!(c.validate().is_ok());
        c.renew_deadline = Duration::from_secs(15);
        assert!(matches!(
            c.validate(),
            Err(LeaderError::InvalidConfig { .. })
        ));
        let mut c = config();
        c.retry_period = Duration::from_secs(9);
        assert!(c.validate().is_err());
        let mut c = config();
        c.identity.clear();
        assert!(c.validate().is_err());
    }

    /// Serves GETs of a Lease the test mutates, and applies every PUT to it, as the API server
    /// would (resourceVersion checked and bumped).
    async fn api_server(
        mut handle: Handle,
        mut stored: Lease,
        mut on_request: impl FnMut(&Method, &mut Lease) -> Option<u16>,
    ) -> Lease {
        while let Some((request, reply)) = handle.next_request().await {
            let method = request.method().clone();
            assert_eq!(request.uri().path(), LEASE_PATH);
            let bytes = request.into_body().collect_bytes().await.unwrap();
            if let Some(code) = on_request(&method, &mut stored) {
                fail(
                    reply,
                    code,
                    if code == 409 {
                        "Conflict"
                    } else {
                        "InternalError"
                    },
                );
                continue;
            }
            match method {
                Method::GET => ok(reply, StatusCode::OK, &stored),
                Method::PUT => {
                    let written: Lease = serde_json::from_slice(&bytes).unwrap();
                    if written.metadata.resource_version != stored.metadata.resource_version {
                        fail(reply, 409, "Conflict");
                        continue;
                    }
                    let rv: u64 = stored
                        .metadata
                        .resource_version
                        .as_deref()
                        .unwrap()
                        .parse()
                        .unwrap();
                    stored = written;
                    stored.metadata.resource_version = Some((rv + 1).to_string());
                    ok(reply, StatusCode::OK, &stored);
                }
                other => panic!("unexpected {other}"),
            }
        }
        stored
    }

    #[tokio::test(start_paused = true)]
    async fn run_waits_for_expiry_then_renews_until_another_replica_takes_over() {
        let (elector, handle) = elector_on_tokio_time();
        let metrics = Arc::new(Metrics::new());
        let puts = Arc::new(std::sync::Mutex::new(Vec::<Instant>::new()));
        let seen = Arc::clone(&puts);
        let server = tokio::spawn(api_server(
            handle,
            lease(Some(OTHER), at(0), 1, "10"),
            move |method, stored| {
                if *method == Method::PUT {
                    seen.lock().unwrap().push(Instant::now());
                }
                // 30 s in, the other replica takes the Lease back (a fresh renewal of its own).
                let elapsed = seen.lock().unwrap().first().map(|first| first.elapsed());
                if *method == Method::GET && elapsed.is_some_and(|e| e >= Duration::from_secs(30)) {
                    let spec = stored.spec.as_mut().unwrap();
                    spec.holder_identity = Some(OTHER.into());
                    spec.renew_time = Some(MicroTime(
                        t0().checked_add(SignedDuration::from_secs(10_000)).unwrap(),
                    ));
                }
                None
            },
        ));
        let start = Instant::now();
        let guard = elector
            .run(Arc::clone(&metrics), CancellationToken::new())
            .await
            .unwrap();
        // The other replica's Lease ran out 15 s after t0; attempts come every 2 s.
        assert_eq!(start.elapsed(), Duration::from_secs(16));
        assert!(metrics.encode().contains("\nskillbox_leader 1\n"));
        let lost = guard.lost();
        tokio::time::timeout(Duration::from_secs(60), lost.cancelled())
            .await
            .expect("leadership is lost once the other replica holds the Lease");
        assert!(metrics.encode().contains("\nskillbox_leader 0\n"));
        let puts = puts.lock().unwrap().clone();
        assert!(
            puts.len() >= 15,
            "renewed every retry period: {}",
            puts.len()
        );
        assert!(
            puts.windows(2)
                .all(|w| w[1] - w[0] == Duration::from_secs(2))
        );
        drop(guard);
        server.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn failing_renewals_lose_leadership_after_the_renew_deadline() {
        let (elector, handle) = elector_on_tokio_time();
        let metrics = Arc::new(Metrics::new());
        let failing = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let fail_now = Arc::clone(&failing);
        let server = tokio::spawn(api_server(
            handle,
            lease(Some(ME), at(0), 1, "10"),
            move |_, _| {
                fail_now
                    .load(std::sync::atomic::Ordering::SeqCst)
                    .then_some(500)
            },
        ));
        let guard = elector
            .run(Arc::clone(&metrics), CancellationToken::new())
            .await
            .unwrap();
        let lost = guard.lost();
        tokio::time::sleep(Duration::from_secs(5)).await;
        assert!(!lost.is_cancelled());
        failing.store(true, std::sync::atomic::Ordering::SeqCst);
        let failing_since = Instant::now();
        lost.cancelled().await;
        let took = failing_since.elapsed();
        assert!(
            took >= Duration::from_secs(9) && took <= Duration::from_secs(12),
            "{took:?}"
        );
        assert!(metrics.encode().contains("\nskillbox_leader 0\n"));
        guard.release().await; // already lost: writes nothing
        server.abort();
    }

    #[tokio::test(start_paused = true)]
    async fn release_clears_the_holder_for_a_standby() {
        let (elector, handle) = elector_on_tokio_time();
        let metrics = Arc::new(Metrics::new());
        let server = tokio::spawn(api_server(handle, lease(None, at(0), 2, "10"), |_, _| None));
        let guard = elector
            .run(Arc::clone(&metrics), CancellationToken::new())
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(3)).await;
        guard.release().await;
        assert!(metrics.encode().contains("\nskillbox_leader 0\n"));
        // The release dropped the last client, which ends the fake API server.
        let stored = server.await.unwrap();
        let s = spec(&stored);
        assert_eq!(s.holder_identity, None, "{stored:?}");
        assert_eq!(s.lease_duration_seconds, Some(1));
        assert_eq!(
            s.lease_transitions,
            Some(3),
            "taking a released Lease is a transition"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn run_gives_up_when_cancelled() {
        let (elector, handle) = elector_on_tokio_time();
        let server = tokio::spawn(api_server(
            handle,
            lease(Some(OTHER), at(1_000_000), 1, "10"),
            |_, _| None,
        ));
        let cancel = CancellationToken::new();
        let stop = cancel.clone();
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_secs(7)).await;
            stop.cancel();
        });
        let error = elector
            .run(Arc::new(Metrics::new()), cancel)
            .await
            .unwrap_err();
        assert!(matches!(error, LeaderError::Cancelled { .. }), "{error:?}");
        server.abort();
    }
}
