//! The Skills the controller accepted, compiled and ready to run: written by the Skill
//! reconciler, read by investigations and the trigger ladder.

use skillbox::engine::LoadedSkill;
use skillbox_crds::SkillSpec;
use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};
use tokio::sync::watch;

/// One accepted Skill.
pub struct RegisteredSkill {
    /// The Skill object's name.
    pub name: String,
    /// Its spec, as accepted.
    pub spec: SkillSpec,
    /// The Skill object's uid (owner of what the trigger ladder creates).
    pub uid: Option<String>,
    /// The generation accepted.
    pub generation: Option<i64>,
    /// The compiled component.
    pub loaded: Arc<LoadedSkill>,
}

impl std::fmt::Debug for RegisteredSkill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredSkill")
            .field("name", &self.name)
            .field("digest", &self.loaded.digest())
            .field("generation", &self.generation)
            .finish_non_exhaustive()
    }
}

/// Accepted Skills by name. Cheap to clone; every change bumps a version that
/// [`SkillRegistry::subscribe`] receivers see.
#[derive(Debug, Clone)]
pub struct SkillRegistry {
    skills: Arc<RwLock<BTreeMap<String, Arc<RegisteredSkill>>>>,
    version: Arc<watch::Sender<u64>>,
}

impl Default for SkillRegistry {
    fn default() -> Self {
        Self::new()
    }
}

impl SkillRegistry {
    /// An empty registry.
    pub fn new() -> Self {
        Self {
            skills: Arc::default(),
            version: Arc::new(watch::channel(0).0),
        }
    }

    /// Adds or replaces a skill.
    pub fn insert(&self, skill: RegisteredSkill) {
        let name = skill.name.clone();
        self.write().insert(name, Arc::new(skill));
        self.version.send_modify(|v| *v += 1);
    }

    /// Removes a skill (deleted, or no longer accepted). True when it was there.
    pub fn remove(&self, name: &str) -> bool {
        let removed = self.write().remove(name).is_some();
        if removed {
            self.version.send_modify(|v| *v += 1);
        }
        removed
    }

    /// The skill called `name`.
    pub fn get(&self, name: &str) -> Option<Arc<RegisteredSkill>> {
        self.read().get(name).cloned()
    }

    /// Every skill, by name.
    pub fn all(&self) -> Vec<Arc<RegisteredSkill>> {
        self.read().values().cloned().collect()
    }

    /// A receiver that changes whenever a skill is added, replaced or removed.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.version.subscribe()
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, BTreeMap<String, Arc<RegisteredSkill>>> {
        self.skills.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write(&self) -> std::sync::RwLockWriteGuard<'_, BTreeMap<String, Arc<RegisteredSkill>>> {
        self.skills.write().unwrap_or_else(|p| p.into_inner())
    }
}
