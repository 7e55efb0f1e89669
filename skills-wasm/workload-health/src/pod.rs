//! Per-pod rules: one pod's statuses, events and logs to findings.

use crate::events;
use crate::owners::{Owners, containers_path, pod_ref, pod_spec_path};
use crate::util::{
    MAX_LINE, MAX_SUMMARY, clip, contains_ci, double_quantity, fmt_json, one_line, str_in,
};
use skillbox_guest::k8s::{Condition, Container, ContainerStatus, Event, PodSpec, PodStatus};
use skillbox_guest::{Finding, Object, ObjectRef, tools};
use std::collections::{BTreeMap, BTreeSet};

/// Finding codes.
pub const CRASHLOOP: &str = "workload.crashloop";
/// Finding codes.
pub const OOM: &str = "workload.oom-killed";
/// Finding codes.
pub const IMAGE_PULL: &str = "workload.image-pull";
/// Finding codes.
pub const CONFIG_MISSING: &str = "workload.config-missing";
/// Finding codes.
pub const UNSCHEDULABLE: &str = "workload.unschedulable";
/// Finding codes.
pub const READINESS: &str = "workload.readiness-failing";

/// Waiting reasons that mean the image cannot be pulled.
pub const IMAGE_PULL_REASONS: [&str; 3] = ["ErrImagePull", "ImagePullBackOff", "InvalidImageName"];

/// Log lines read per crash-looping container.
const LOG_TAIL: u32 = 20;
/// Log lines shown as evidence.
const LOG_SHOWN: usize = 10;
/// Event lines shown per finding.
const EVENTS_SHOWN: usize = 3;

/// A pod with its spec and status read leniently (odd fields leave defaults).
#[derive(Debug)]
pub struct PodView<'a> {
    /// The raw object.
    pub obj: &'a Object,
    /// `spec`, or defaults.
    pub spec: PodSpec,
    /// `status`, or defaults.
    pub status: PodStatus,
}

impl<'a> PodView<'a> {
    /// Reads a pod.
    pub fn new(obj: &'a Object) -> Self {
        Self {
            obj,
            spec: obj.part("spec").unwrap_or_default(),
            status: obj.part("status").unwrap_or_default(),
        }
    }

    /// `Pod ns/name`.
    pub fn label(&self) -> String {
        format!("Pod {}", self.obj.display_name())
    }

    /// The condition of a type.
    pub fn condition(&self, type_: &str) -> Option<&Condition> {
        self.status.conditions.iter().find(|c| c.type_ == type_)
    }

    /// `Ready=True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }

    /// Being deleted.
    pub fn terminating(&self) -> bool {
        self.obj.deletion_timestamp().is_some()
    }

    /// Ready, running and not being deleted: a Service endpoint that serves.
    pub fn serving(&self) -> bool {
        self.is_ready() && self.status.phase == "Running" && !self.terminating()
    }

    /// Init and app container statuses, init first, with their init flag.
    pub fn statuses(&self) -> impl Iterator<Item = (bool, &ContainerStatus)> {
        self.status
            .init_container_statuses
            .iter()
            .map(|c| (true, c))
            .chain(self.status.container_statuses.iter().map(|c| (false, c)))
    }

    /// The spec of a container.
    pub fn container(&self, name: &str, init: bool) -> Option<&Container> {
        let list = if init {
            &self.spec.init_containers
        } else {
            &self.spec.containers
        };
        list.iter().find(|c| c.name == name)
    }

    /// The raw JSON spec of a container (for fields the typed view lacks).
    pub fn container_json(&self, name: &str, init: bool) -> Option<&serde_json::Value> {
        let list = if init {
            "spec.initContainers"
        } else {
            "spec.containers"
        };
        self.obj
            .at(list)?
            .as_array()?
            .iter()
            .find(|c| c.get("name").and_then(|n| n.as_str()) == Some(name))
    }

    /// Waiting reason of a container status.
    pub fn waiting_reason(cs: &ContainerStatus) -> Option<&str> {
        cs.state.waiting.as_ref().and_then(|w| w.reason.as_deref())
    }

    /// The pod looks unhealthy: what a person would notice, or `None`.
    pub fn problem(&self, failed_pods_expected: bool) -> Option<String> {
        if self.terminating() {
            return None;
        }
        let phase = self.status.phase.as_str();
        let mut line = match phase {
            "Succeeded" => return None,
            "Failed" if failed_pods_expected => return None,
            "Failed" | "Unknown" => format!("{} status.phase = {phase}", self.label()),
            _ if !self.is_ready() => {
                let ph = if phase.is_empty() { "unknown" } else { phase };
                format!("{} is not Ready (phase {ph})", self.label())
            }
            _ => return None,
        };
        if let Some(r) = &self.status.reason {
            line.push_str(&format!(", reason {r}"));
        }
        if let Some(m) = &self.status.message {
            line.push_str(&format!(": {}", one_line(m)));
        }
        if let Some(c) = self.condition("Ready").filter(|c| c.status != "True") {
            line.push_str(&format!(
                "; Ready={} {}{}",
                c.status,
                c.reason.as_deref().unwrap_or(""),
                c.message
                    .as_deref()
                    .map(|m| format!(" ({})", one_line(m)))
                    .unwrap_or_default()
            ));
        }
        for (_, cs) in self.statuses() {
            if let Some(r) = Self::waiting_reason(cs) {
                line.push_str(&format!("; container {} waiting: {r}", cs.name));
            } else if let Some(t) = &cs.state.terminated
                && t.exit_code.unwrap_or(0) != 0
            {
                line.push_str(&format!(
                    "; container {} terminated: {} (exit code {})",
                    cs.name,
                    t.reason.as_deref().unwrap_or("?"),
                    t.exit_code.unwrap_or(0)
                ));
            }
        }
        Some(clip(&line, MAX_LINE))
    }
}

/// Tool-call budgets shared by all pods of one investigation.
#[derive(Debug)]
pub struct Budget {
    /// Pods whose events we may still list.
    pub events: u32,
    /// Containers whose logs we may still read.
    pub logs: u32,
}

impl Default for Budget {
    fn default() -> Self {
        Self {
            events: 40,
            logs: 10,
        }
    }
}

/// What the rest of the target knows that a pod's findings can use.
#[derive(Debug, Default)]
pub struct Context {
    /// The investigation target, added as a second resource when it is not the pod itself.
    pub target: Option<ObjectRef>,
    /// Images that containers of the target's serving pods run, by container name.
    pub serving_images: BTreeMap<String, BTreeSet<String>>,
    /// Failed pods are expected (a completed Job's retries).
    pub failed_pods_expected: bool,
}

/// One pod's result.
#[derive(Debug, Default)]
pub struct PodAnalysis {
    /// Findings about the pod.
    pub findings: Vec<Finding>,
    /// What looks wrong with the pod, if anything.
    pub problem: Option<String>,
}

impl PodAnalysis {
    /// Whether a finding of severity error or warning explains the pod.
    pub fn explained(&self) -> bool {
        self.findings
            .iter()
            .any(|f| f.severity != skillbox_guest::Severity::Info)
    }
}

struct Builder<'p, 'o> {
    pod: &'p PodView<'p>,
    ctx: &'p Context,
    owners: &'o mut Owners,
    owner: Option<ObjectRef>,
}

impl Builder<'_, '_> {
    fn owner(&mut self) -> ObjectRef {
        if self.owner.is_none() {
            self.owner = Some(self.owners.manifest_of(self.pod.obj));
        }
        self.owner.clone().unwrap_or_else(|| pod_ref(self.pod.obj))
    }

    fn finding(&self, f: Finding) -> Finding {
        let mut f = f.resource(pod_ref(self.pod.obj));
        if let Some(t) = &self.ctx.target {
            f = f.resource(t.clone());
        }
        f
    }
}

fn status_path(init: bool, name: &str) -> String {
    let list = if init {
        "initContainerStatuses"
    } else {
        "containerStatuses"
    };
    format!("status.{list}[{name}]")
}

fn spec_path(init: bool, name: &str) -> String {
    let list = if init { "initContainers" } else { "containers" };
    format!("spec.{list}[{name}]")
}

fn container_word(init: bool) -> &'static str {
    if init { "init container" } else { "container" }
}

/// Applies every per-pod rule to one pod.
pub fn analyze(
    obj: &Object,
    ctx: &Context,
    budget: &mut Budget,
    owners: &mut Owners,
) -> PodAnalysis {
    let pod = PodView::new(obj);
    let problem = pod.problem(ctx.failed_pods_expected);
    let phase = pod.status.phase.as_str();
    let needs_events = (problem.is_some() || phase == "Pending") && !pod.terminating();
    let events: Vec<Event> = if needs_events && budget.events > 0 {
        budget.events -= 1;
        tools::list_events(&pod_ref(obj))
            .map(events::sorted)
            .unwrap_or_default()
    } else {
        Vec::new()
    };

    let mut b = Builder {
        pod: &pod,
        ctx,
        owners,
        owner: None,
    };
    let mut findings = Vec::new();
    let mut blocked = false;
    for (init, cs) in pod.statuses() {
        match PodView::waiting_reason(cs) {
            Some("CrashLoopBackOff") => {
                blocked = true;
                findings.push(crashloop(&mut b, init, cs, budget));
            }
            Some(r) if IMAGE_PULL_REASONS.contains(&r) => {
                blocked = true;
                findings.push(image_pull(&mut b, init, cs, r, &events));
            }
            Some("CreateContainerConfigError") => {
                blocked = true;
                findings.push(config_missing(&mut b, init, cs));
            }
            _ => {}
        }
        if let Some(f) = oom_killed(&mut b, init, cs) {
            findings.push(f);
        }
    }
    if let Some(f) = unschedulable(&mut b, &events) {
        findings.push(f);
    }
    if !blocked && let Some(f) = readiness(&mut b, &events) {
        findings.push(f);
    }
    PodAnalysis { findings, problem }
}

fn terminated_line(pod: &PodView, path: &str, t: &skillbox_guest::k8s::StateDetail) -> String {
    let mut parts = Vec::new();
    if let Some(r) = &t.reason {
        parts.push(format!("reason: {r}"));
    }
    if let Some(c) = t.exit_code {
        parts.push(format!("exitCode: {c}"));
    }
    if let Some(f) = &t.finished_at {
        parts.push(format!("finishedAt: {f}"));
    }
    if let Some(m) = t.message.as_deref().filter(|m| !m.trim().is_empty()) {
        parts.push(format!("message: {}", one_line(m)));
    }
    clip(
        &format!("{} {path} = {{{}}}", pod.label(), parts.join(", ")),
        MAX_LINE,
    )
}

fn crashloop(b: &mut Builder, init: bool, cs: &ContainerStatus, budget: &mut Budget) -> Finding {
    let pod = b.pod;
    let sp = status_path(init, &cs.name);
    let last = cs.last_state.terminated.as_ref();
    let exit = last.and_then(|t| t.exit_code);
    let mut summary = format!(
        "{} {} of {} is crash-looping (CrashLoopBackOff, {} restarts",
        capitalise(container_word(init)),
        cs.name,
        pod.label(),
        cs.restart_count
    );
    if let Some(c) = exit {
        summary.push_str(&format!(", last exit code {c}"));
    }
    summary.push(')');
    let mut f = Finding::error(CRASHLOOP, clip(&summary, MAX_SUMMARY)).evidence(format!(
        "{} {sp}.state.waiting.reason = CrashLoopBackOff",
        pod.label()
    ));
    if let Some(m) = cs.state.waiting.as_ref().and_then(|w| w.message.as_deref()) {
        f = f.evidence(clip(
            &format!(
                "{} {sp}.state.waiting.message = {}",
                pod.label(),
                one_line(m)
            ),
            MAX_LINE,
        ));
    }
    f = f.evidence(format!(
        "{} {sp}.restartCount = {}",
        pod.label(),
        cs.restart_count
    ));
    if let Some(t) = last {
        f = f.evidence(terminated_line(
            pod,
            &format!("{sp}.lastState.terminated"),
            t,
        ));
    }
    let logs = read_log(pod, &cs.name, budget);
    if !logs.is_empty() {
        f = f.evidence(format!(
            "Last {} log lines of {} {} in {}:",
            logs.len(),
            container_word(init),
            cs.name,
            pod.label()
        ));
        for l in &logs {
            f = f.evidence(clip(&format!("  | {l}"), MAX_LINE));
        }
    }
    let owner = b.owner();
    let cpath = format!("{}[{}]", containers_path(&owner, init), cs.name);
    let text = logs.join("\n");
    let last_reason = last.and_then(|t| t.reason.as_deref()).unwrap_or("");
    if contains_ci(&text, "read-only file system") {
        f = f.suggestion(format!(
            "The process writes to a read-only filesystem: in the {owner} manifest, mount a writable volume (e.g. an emptyDir) at the path the log names under {cpath}.volumeMounts, or set {cpath}.securityContext.readOnlyRootFilesystem: false"
        ));
    }
    if contains_ci(&text, "permission denied") {
        f = f.suggestion(format!(
            "The process lacks file permissions: check {cpath}.securityContext (runAsUser, runAsGroup) and {}.securityContext.fsGroup in the {owner} manifest against what the image expects",
            pod_spec_path(&owner)
        ));
    }
    if exit == Some(127)
        || exit == Some(126)
        || contains_ci(&text, "executable file not found")
        || contains_ci(&text, "no such file or directory")
    {
        f = f.suggestion(format!(
            "The entrypoint cannot be run: fix {cpath}.command / args in the {owner} manifest (or the image tag) so they name an executable that exists in the image"
        ));
    }
    if last_reason != "OOMKilled" && exit == Some(137) {
        f = f.suggestion(format!(
            "Exit code 137 without OOMKilled means the container was killed: if {cpath}.livenessProbe kills it during start-up, add a startupProbe or raise initialDelaySeconds/failureThreshold in the {owner} manifest"
        ));
    }
    if [
        "connection refused",
        "no such host",
        "unknown host",
        "could not connect",
        "timed out",
    ]
    .iter()
    .any(|n| contains_ci(&text, n))
    {
        f = f.suggestion(format!(
            "The process cannot reach a dependency at start-up: check the addresses in {cpath}.env / the ConfigMaps it reads in Git, and that the dependency is deployed"
        ));
    }
    f = f.suggestion(format!(
        "Fix the command, args, env, config or securityContext of {} {} ({cpath}) in the {owner} manifest so the process stays up (the log lines above show why it exits); if the last change to that manifest started the crashes, revert it in Git",
        container_word(init),
        cs.name
    ));
    b.finding(f)
}

fn read_log(pod: &PodView, container: &str, budget: &mut Budget) -> Vec<String> {
    if budget.logs == 0 {
        return Vec::new();
    }
    budget.logs -= 1;
    let ns = pod.obj.namespace().unwrap_or("");
    match tools::read_logs(ns, pod.obj.name(), container, LOG_TAIL) {
        Ok(text) => {
            let lines: Vec<String> = text
                .lines()
                .map(str::trim_end)
                .filter(|l| !l.trim().is_empty())
                .map(|l| clip(l, 300))
                .collect();
            let start = lines.len().saturating_sub(LOG_SHOWN);
            lines[start..].to_vec()
        }
        // A missing log (or any other answer) just leaves the log lines out.
        Err(_) => Vec::new(),
    }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().collect::<String>() + c.as_str(),
        None => String::new(),
    }
}

fn oom_killed(b: &mut Builder, init: bool, cs: &ContainerStatus) -> Option<Finding> {
    let pod = b.pod;
    let sp = status_path(init, &cs.name);
    let (which, t) = [
        ("lastState.terminated", cs.last_state.terminated.as_ref()),
        ("state.terminated", cs.state.terminated.as_ref()),
    ]
    .into_iter()
    .find_map(|(w, t)| {
        t.filter(|t| t.reason.as_deref() == Some("OOMKilled"))
            .map(|t| (w, t))
    })?;
    let limit = pod
        .container(&cs.name, init)
        .and_then(|c| str_in(&c.resources, &["limits", "memory"]).map(str::to_string));
    let request = pod
        .container(&cs.name, init)
        .and_then(|c| str_in(&c.resources, &["requests", "memory"]).map(str::to_string));
    let mut f = Finding::error(
        OOM,
        clip(
            &format!(
                "{} {} of {} was OOMKilled (exit code {}): it used more memory than {}",
                capitalise(container_word(init)),
                cs.name,
                pod.label(),
                t.exit_code.unwrap_or(137),
                match &limit {
                    Some(l) => format!("its limit of {l}"),
                    None => "the node could give it".to_string(),
                }
            ),
            MAX_SUMMARY,
        ),
    )
    .evidence(format!("{} {sp}.{which}.reason = OOMKilled", pod.label()))
    .evidence(terminated_line(pod, &format!("{sp}.{which}"), t))
    .evidence(format!(
        "{} {sp}.restartCount = {}",
        pod.label(),
        cs.restart_count
    ));
    let spec = spec_path(init, &cs.name);
    f = match &limit {
        Some(l) => f.evidence(format!(
            "{} {spec}.resources.limits.memory = {l}",
            pod.label()
        )),
        None => f.evidence(format!(
            "{} {spec}.resources.limits.memory is not set",
            pod.label()
        )),
    };
    if let Some(r) = &request {
        f = f.evidence(format!(
            "{} {spec}.resources.requests.memory = {r}",
            pod.label()
        ));
    }
    let owner = b.owner();
    let cpath = format!("{}[{}]", containers_path(&owner, init), cs.name);
    f = match &limit {
        Some(l) => {
            let eg = double_quantity(l)
                .map(|d| format!(", e.g. to {d}"))
                .unwrap_or_default();
            f.suggestion(format!(
                "Raise {cpath}.resources.limits.memory (now {l}) in the {owner} manifest{eg}, and requests.memory with it; or lower the process's memory use (heap/cache settings in its env or config)"
            ))
        }
        None => f.suggestion(format!(
            "Set {cpath}.resources.requests.memory and limits.memory in the {owner} manifest to what the process needs, so it is scheduled on a node with room for it; or lower its memory use (heap/cache settings)"
        )),
    };
    Some(b.finding(f))
}

fn image_pull(
    b: &mut Builder,
    init: bool,
    cs: &ContainerStatus,
    reason: &str,
    events: &[Event],
) -> Finding {
    let pod = b.pod;
    let sp = status_path(init, &cs.name);
    let image = pod
        .container(&cs.name, init)
        .map(|c| c.image.clone())
        .filter(|i| !i.is_empty())
        .unwrap_or_else(|| cs.image.clone());
    let message = cs
        .state
        .waiting
        .as_ref()
        .and_then(|w| w.message.as_deref())
        .map(one_line)
        .unwrap_or_default();
    let mut f = Finding::error(
        IMAGE_PULL,
        clip(
            &format!(
                "{} {} of {} cannot pull image {} ({reason})",
                capitalise(container_word(init)),
                cs.name,
                pod.label(),
                if image.is_empty() { "?" } else { &image }
            ),
            MAX_SUMMARY,
        ),
    )
    .evidence(format!(
        "{} {sp}.state.waiting.reason = {reason}",
        pod.label()
    ));
    if !message.is_empty() {
        f = f.evidence(clip(
            &format!("{} {sp}.state.waiting.message = {message}", pod.label()),
            MAX_LINE,
        ));
    }
    if !image.is_empty() {
        f = f.evidence(clip(
            &format!(
                "{} {}.image = {image}",
                pod.label(),
                spec_path(init, &cs.name)
            ),
            MAX_LINE,
        ));
    }
    let failed: Vec<&Event> = events::with_reason(events, "Failed", "")
        .filter(|e| match events::about_container(e, &cs.name, init) {
            Some(m) => m,
            None => !image.is_empty() && e.text().contains(&image),
        })
        .collect();
    let pod_display = pod.obj.display_name();
    let all_text: String = failed
        .iter()
        .map(|e| e.text())
        .chain(std::iter::once(message.as_str()))
        .collect::<Vec<_>>()
        .join("\n");
    let start = failed.len().saturating_sub(EVENTS_SHOWN);
    for e in &failed[start..] {
        f = f.evidence(events::line(e, &pod_display));
    }
    let others: Vec<String> = b
        .ctx
        .serving_images
        .get(&cs.name)
        .map(|s| s.iter().filter(|i| **i != image).cloned().collect())
        .unwrap_or_default();
    if !others.is_empty() {
        f = f.evidence(clip(
            &format!(
                "Serving pods of the same target run container {} with image {}",
                cs.name,
                others.join(", ")
            ),
            MAX_LINE,
        ));
    }
    let owner = b.owner();
    let cpath = format!("{}[{}]", containers_path(&owner, init), cs.name);
    let lower = all_text.to_ascii_lowercase();
    if reason == "InvalidImageName" || lower.contains("invalid reference format") {
        f = f.suggestion(format!(
            "Fix the syntax of {cpath}.image ({image}) in the {owner} manifest: registry/repository:tag or @sha256:digest"
        ));
    } else if [
        "unauthorized",
        "denied",
        "authentication required",
        "403",
        "forbidden",
    ]
    .iter()
    .any(|n| lower.contains(n))
    {
        f = f.suggestion(format!(
            "The registry refuses the pull: add an imagePullSecrets entry to {}.imagePullSecrets (or to the pod's ServiceAccount) in the {owner} manifest, managed through your secret tooling, or use an image the cluster may pull",
            pod_spec_path(&owner)
        ));
    } else if ["not found", "manifest unknown", "does not exist", "no such"]
        .iter()
        .any(|n| lower.contains(n))
    {
        let back = if others.is_empty() {
            String::new()
        } else {
            format!(" (the serving pods run {})", others.join(", "))
        };
        f = f.suggestion(format!(
            "The image or tag does not exist: set {cpath}.image in the {owner} manifest to a tag that exists in the registry{back}, or push the missing tag before rolling out"
        ));
    } else if [
        "timeout",
        "i/o timeout",
        "no route",
        "connection refused",
        "dial tcp",
    ]
    .iter()
    .any(|n| lower.contains(n))
    {
        f = f.suggestion(format!(
            "The registry is unreachable from the node: use a registry the cluster can reach (or a mirror) for {cpath}.image in the {owner} manifest"
        ));
    }
    f = f.suggestion(format!(
        "Check that {cpath}.image in the {owner} manifest names an image and tag that exist and that the cluster may pull; if a recent commit changed it, revert that change"
    ));
    b.finding(f)
}

fn config_missing(b: &mut Builder, init: bool, cs: &ContainerStatus) -> Finding {
    let pod = b.pod;
    let sp = status_path(init, &cs.name);
    let message = cs
        .state
        .waiting
        .as_ref()
        .and_then(|w| w.message.as_deref())
        .map(one_line)
        .unwrap_or_default();
    let mut f = Finding::error(
        CONFIG_MISSING,
        clip(
            &format!(
                "{} {} of {} cannot be created (CreateContainerConfigError){}",
                capitalise(container_word(init)),
                cs.name,
                pod.label(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                }
            ),
            MAX_SUMMARY,
        ),
    )
    .evidence(format!(
        "{} {sp}.state.waiting.reason = CreateContainerConfigError",
        pod.label()
    ));
    if !message.is_empty() {
        f = f.evidence(clip(
            &format!("{} {sp}.state.waiting.message = {message}", pod.label()),
            MAX_LINE,
        ));
    }
    let refs = config_refs(pod, &cs.name, init);
    let named: Vec<&(String, String, String)> = refs
        .iter()
        .filter(|(_, _, name)| {
            let base = name.split(" key ").next().unwrap_or("");
            !base.is_empty() && message.contains(base)
        })
        .collect();
    let shown: Vec<&(String, String, String)> = if named.is_empty() {
        refs.iter().take(5).collect()
    } else {
        named
    };
    for (path, kind, name) in &shown {
        f = f.evidence(clip(
            &format!("{} {path} = {kind} {name}", pod.label()),
            MAX_LINE,
        ));
    }
    let owner = b.owner();
    let ns = pod.obj.namespace().unwrap_or("");
    let is_secret = contains_ci(&message, "secret");
    let what = if is_secret {
        "Secret (through your secret tooling, e.g. a SealedSecret or ExternalSecret, never in plain text)"
    } else {
        "ConfigMap"
    };
    f = f
        .suggestion(format!(
            "Add the missing {what} or key named in the message to the manifests deployed to namespace {ns}, or fix the reference to it in the {owner} manifest ({} env[].valueFrom, envFrom, volumes)",
            containers_path(&owner, init)
        ))
        .suggestion(format!(
            "If the container can run without it, mark the reference optional: true in the {owner} manifest"
        ));
    b.finding(f)
}

/// ConfigMap and Secret references of a container and the pod's volumes: (path, kind, name).
fn config_refs(pod: &PodView, container: &str, init: bool) -> Vec<(String, String, String)> {
    let mut out = Vec::new();
    let base = spec_path(init, container);
    if let Some(c) = pod.container_json(container, init) {
        if let Some(env) = c.get("env").and_then(|v| v.as_array()) {
            for e in env {
                let var = e.get("name").and_then(|v| v.as_str()).unwrap_or("?");
                for (key, kind) in [("configMapKeyRef", "ConfigMap"), ("secretKeyRef", "Secret")] {
                    if let Some(r) = e.get("valueFrom").and_then(|v| v.get(key)) {
                        let name = r.get("name").and_then(|v| v.as_str()).unwrap_or("");
                        let k = r.get("key").and_then(|v| v.as_str()).unwrap_or("");
                        out.push((
                            format!("{base}.env[{var}].valueFrom.{key}"),
                            kind.to_string(),
                            if k.is_empty() {
                                name.to_string()
                            } else {
                                format!("{name} key {k}")
                            },
                        ));
                    }
                }
            }
        }
        if let Some(from) = c.get("envFrom").and_then(|v| v.as_array()) {
            for (i, e) in from.iter().enumerate() {
                for (key, kind) in [("configMapRef", "ConfigMap"), ("secretRef", "Secret")] {
                    if let Some(name) = e
                        .get(key)
                        .and_then(|r| r.get("name"))
                        .and_then(|v| v.as_str())
                    {
                        out.push((
                            format!("{base}.envFrom[{i}].{key}"),
                            kind.to_string(),
                            name.to_string(),
                        ));
                    }
                }
            }
        }
    }
    if let Some(vols) = pod.obj.at("spec.volumes").and_then(|v| v.as_array()) {
        for v in vols {
            let vname = v.get("name").and_then(|v| v.as_str()).unwrap_or("?");
            if let Some(name) = v
                .get("configMap")
                .and_then(|c| c.get("name"))
                .and_then(|n| n.as_str())
            {
                out.push((
                    format!("spec.volumes[{vname}].configMap"),
                    "ConfigMap".into(),
                    name.to_string(),
                ));
            }
            if let Some(name) = v
                .get("secret")
                .and_then(|c| c.get("secretName"))
                .and_then(|n| n.as_str())
            {
                out.push((
                    format!("spec.volumes[{vname}].secret"),
                    "Secret".into(),
                    name.to_string(),
                ));
            }
        }
    }
    out
}

fn unschedulable(b: &mut Builder, events: &[Event]) -> Option<Finding> {
    let pod = b.pod;
    if pod.status.phase != "Pending" {
        return None;
    }
    let cond = pod.condition("PodScheduled");
    let by_condition =
        cond.filter(|c| c.status == "False" && c.reason.as_deref() == Some("Unschedulable"));
    let scheduled = cond.is_some_and(|c| c.status == "True")
        || pod.spec.node_name.as_deref().is_some_and(|n| !n.is_empty());
    let failed: Vec<&Event> = events::with_reason(events, "FailedScheduling", "").collect();
    if by_condition.is_none() && (scheduled || failed.is_empty()) {
        return None;
    }
    let message = by_condition
        .and_then(|c| c.message.as_deref())
        .map(one_line)
        .or_else(|| failed.last().map(|e| one_line(e.text())))
        .unwrap_or_default();
    let mut f = Finding::error(
        UNSCHEDULABLE,
        clip(
            &format!(
                "{} cannot be scheduled{}",
                pod.label(),
                if message.is_empty() {
                    String::new()
                } else {
                    format!(": {message}")
                }
            ),
            MAX_SUMMARY,
        ),
    );
    if let Some(c) = by_condition {
        f = f.evidence(clip(
            &format!(
                "{} status.conditions[PodScheduled] = False (Unschedulable){}",
                pod.label(),
                c.message
                    .as_deref()
                    .map(|m| format!(": {}", one_line(m)))
                    .unwrap_or_default()
            ),
            MAX_LINE,
        ));
    }
    f = f.evidence(format!("{} status.phase = Pending", pod.label()));
    let display = pod.obj.display_name();
    let start = failed.len().saturating_sub(EVENTS_SHOWN);
    for e in &failed[start..] {
        f = f.evidence(events::line(e, &display));
    }
    for c in &pod.spec.containers {
        if let Some(req) = c.resources.get("requests").filter(|r| r.is_object()) {
            f = f.evidence(format!(
                "{} {}.resources.requests = {}",
                pod.label(),
                spec_path(false, &c.name),
                fmt_json(req, 300)
            ));
        }
    }
    let owner = b.owner();
    let spec = pod_spec_path(&owner);
    let lower = message.to_ascii_lowercase();
    let mut any = false;
    if lower.contains("insufficient") {
        any = true;
        let res: Vec<&str> = ["cpu", "memory", "ephemeral-storage", "nvidia.com/gpu"]
            .into_iter()
            .filter(|r| lower.contains(&format!("insufficient {r}")))
            .collect();
        let what = if res.is_empty() {
            "resources".to_string()
        } else {
            res.join(", ")
        };
        let now: Vec<String> = pod
            .spec
            .containers
            .iter()
            .flat_map(|c| {
                res.iter().filter_map(move |r| {
                    str_in(&c.resources, &["requests", r]).map(|q| format!("{}: {r} {q}", c.name))
                })
            })
            .collect();
        f = f.suggestion(format!(
            "No node has enough free {what} for the pod's requests{}: lower {}[*].resources.requests in the {owner} manifest (or its replicas), or add capacity to the node pool in its infrastructure configuration",
            if now.is_empty() {
                String::new()
            } else {
                format!(" ({})", now.join(", "))
            },
            containers_path(&owner, false)
        ));
    }
    if lower.contains("affinity") || lower.contains("selector") {
        any = true;
        f = f.suggestion(format!(
            "No node matches the pod's placement rules: fix {spec}.nodeSelector / {spec}.affinity in the {owner} manifest to match labels your nodes carry"
        ));
    }
    if lower.contains("taint") {
        any = true;
        f = f.suggestion(format!(
            "The nodes carry taints the pod does not tolerate: add the matching {spec}.tolerations in the {owner} manifest, or schedule it on an untainted pool"
        ));
    }
    if lower.contains("persistentvolumeclaim") || lower.contains("volume") {
        any = true;
        f = f.suggestion(format!(
            "A volume cannot be bound: fix the PersistentVolumeClaim (name, storageClassName, size, zone) referenced by {spec}.volumes in Git"
        ));
    }
    if lower.contains("too many pods") {
        any = true;
        f = f.suggestion(
            "The nodes are at their pod limit: add nodes to the pool (infrastructure configuration) or reduce replicas in Git".to_string(),
        );
    }
    if !any {
        f = f.suggestion(format!(
            "Make the pod fit a node: adjust requests, nodeSelector, affinity, tolerations or topologySpreadConstraints under {spec} in the {owner} manifest, or add matching nodes"
        ));
    }
    Some(b.finding(f))
}

fn readiness(b: &mut Builder, events: &[Event]) -> Option<Finding> {
    let pod = b.pod;
    if pod.is_ready() || pod.status.phase != "Running" || pod.terminating() {
        return None;
    }
    let app = &pod.status.container_statuses;
    if app.is_empty() || !app.iter().all(|c| c.state.running.is_some()) {
        return None;
    }
    let probe_events: Vec<&Event> =
        events::with_reason(events, "Unhealthy", "Readiness probe failed").collect();
    if probe_events.is_empty() {
        return None;
    }
    let unready: Vec<&ContainerStatus> = app.iter().filter(|c| !c.ready).collect();
    let names: Vec<&str> = unready.iter().map(|c| c.name.as_str()).collect();
    let failures: i64 = probe_events.iter().map(|e| e.occurrences()).sum();
    let mut f = Finding::warning(
        READINESS,
        clip(
            &format!(
                "{} runs but is not Ready: the readiness probe{} of {} failed {failures} time{}",
                pod.label(),
                if names.len() == 1 { "" } else { "s" },
                if names.is_empty() {
                    "its containers".to_string()
                } else {
                    format!("container {}", names.join(", "))
                },
                if failures == 1 { "" } else { "s" }
            ),
            MAX_SUMMARY,
        ),
    );
    if let Some(c) = pod.condition("Ready") {
        f = f.evidence(clip(
            &format!(
                "{} status.conditions[Ready] = {}{}{}",
                pod.label(),
                c.status,
                c.reason
                    .as_deref()
                    .map(|r| format!(" ({r})"))
                    .unwrap_or_default(),
                c.message
                    .as_deref()
                    .map(|m| format!(": {}", one_line(m)))
                    .unwrap_or_default()
            ),
            MAX_LINE,
        ));
    }
    for c in &unready {
        f = f.evidence(format!(
            "{} {}.ready = false (state running)",
            pod.label(),
            status_path(false, &c.name)
        ));
    }
    let display = pod.obj.display_name();
    let start = probe_events.len().saturating_sub(EVENTS_SHOWN);
    for e in &probe_events[start..] {
        f = f.evidence(events::line(e, &display));
    }
    for c in &unready {
        if let Some(p) = pod
            .container(&c.name, false)
            .and_then(|c| c.readiness_probe.as_ref())
        {
            f = f.evidence(format!(
                "{} {}.readinessProbe = {}",
                pod.label(),
                spec_path(false, &c.name),
                fmt_json(p, 400)
            ));
        }
    }
    let owner = b.owner();
    let first = names.first().copied().unwrap_or("*");
    let cpath = format!("{}[{first}]", containers_path(&owner, false));
    f = f.suggestion(format!(
        "Make {cpath}.readinessProbe in the {owner} manifest match what the app serves (path, port, scheme, timeoutSeconds, initialDelaySeconds, failureThreshold), or fix what the app's readiness endpoint reports as failing (its config or a dependency it checks)"
    ));
    if pod
        .obj
        .annotations()
        .contains_key("sidecar.istio.io/status")
    {
        f = f.suggestion(
            "With an Istio sidecar the probe runs through :15020/app-health/<container>/readyz; the original probe from the manifest is what to fix".to_string(),
        );
    }
    Some(b.finding(f))
}
