//! Compiled components, cached by sha256 of the wasm and the engine's compatibility hash: in
//! memory for the process, and on disk across runs. For workload-health (BENCHMARKS.md) compiling
//! costs ~0.4 s, a disk hit ~2.7 ms (1 ms of it the integrity check), a memory hit ~46 µs.

use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use wasmtime::Engine;
use wasmtime::component::Component;

/// Where a component came from on this load.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CacheHit {
    /// Compiled now.
    Compiled,
    /// Found in this process's memory.
    Memory,
    /// Loaded from the on-disk cache.
    Disk,
}

/// The component cache of one engine.
pub struct ComponentCache {
    engine_hash: String,
    dir: Option<PathBuf>,
    memory: Mutex<HashMap<String, Component>>,
}

impl ComponentCache {
    /// A cache for `engine`, persisting to `dir` when given.
    pub fn new(engine: &Engine, dir: Option<PathBuf>) -> Self {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        engine.precompile_compatibility_hash().hash(&mut h);
        Self {
            engine_hash: format!("{:016x}", h.finish()),
            dir,
            memory: Mutex::new(HashMap::new()),
        }
    }

    /// Returns the compiled component for `wasm` (whose sha256 is `digest`), compiling at most once.
    pub fn get_or_compile(
        &self,
        engine: &Engine,
        digest: &str,
        wasm: &[u8],
    ) -> wasmtime::Result<(Component, CacheHit)> {
        let key = format!("{digest}-{}", self.engine_hash);
        if let Some(c) = self.lock().get(&key) {
            return Ok((c.clone(), CacheHit::Memory));
        }
        if let Some(c) = self
            .dir
            .as_deref()
            .and_then(|d| disk::load(engine, d, &key))
        {
            self.lock().insert(key, c.clone());
            return Ok((c, CacheHit::Disk));
        }
        let component = Component::new(engine, wasm)?;
        if let Some(dir) = self.dir.as_deref() {
            // NB: a cache that cannot be written only costs speed; say so and go on.
            if let Err(e) = disk::store(&component, dir, &key) {
                tracing::warn!(dir = %dir.display(), error = %e, "cannot write the component cache");
            }
        }
        self.lock().insert(key, component.clone());
        Ok((component, CacheHit::Compiled))
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Component>> {
        // A poisoned map only means another thread panicked mid-insert; its entries are whole.
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// Hex sha256 of bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// The default on-disk cache folder: `$SKILLBOX_CACHE_DIR`, else `$XDG_CACHE_HOME/skillbox`,
/// else `~/.cache/skillbox`.
pub fn default_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("SKILLBOX_CACHE_DIR") {
        return Some(PathBuf::from(d));
    }
    if let Some(d) = std::env::var_os("XDG_CACHE_HOME") {
        return Some(Path::new(&d).join("skillbox"));
    }
    std::env::var_os("HOME").map(|h| Path::new(&h).join(".cache").join("skillbox"))
}

/// Reading and writing precompiled artifacts.
///
/// Loading precompiled code is `unsafe` in wasmtime: the bytes are trusted to be what
/// `precompile` wrote. The invariant kept here: an artifact is loaded only if its sha256 matches
/// the sidecar written with it by this process's code, in a folder named by the wasm's digest and
/// the engine's compatibility hash; anything else is ignored and recompiled.
#[allow(unsafe_code)] // NB: the one scoped exception to the crate's no-unsafe rule; see above.
mod disk {
    use super::sha256_hex;
    use std::path::{Path, PathBuf};
    use wasmtime::Engine;
    use wasmtime::component::Component;

    fn paths(dir: &Path, key: &str) -> (PathBuf, PathBuf) {
        (
            dir.join(format!("{key}.cwasm")),
            dir.join(format!("{key}.sha256")),
        )
    }

    pub(super) fn load(engine: &Engine, dir: &Path, key: &str) -> Option<Component> {
        let (art, sum) = paths(dir, key);
        let bytes = std::fs::read(&art).ok()?;
        let want = std::fs::read_to_string(&sum).ok()?;
        if sha256_hex(&bytes) != want.trim() {
            tracing::warn!(artifact = %art.display(), "component cache entry is corrupt; recompiling");
            return None;
        }
        // SAFETY: `bytes` is exactly what `store` below wrote for this engine configuration
        // (checked by the sha256 sidecar); wasmtime also checks the engine compatibility header.
        unsafe { Component::deserialize(engine, &bytes) }.ok()
    }

    pub(super) fn store(component: &Component, dir: &Path, key: &str) -> std::io::Result<()> {
        let bytes = component
            .serialize()
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        std::fs::create_dir_all(dir)?;
        let (art, sum) = paths(dir, key);
        let tmp = dir.join(format!("{key}.{}.tmp", std::process::id()));
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &art)?;
        std::fs::write(&sum, sha256_hex(&bytes))
    }
}
