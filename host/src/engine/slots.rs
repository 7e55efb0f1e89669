//! A counting bound on live instances: at most the pool's size run at once, the rest wait for a
//! slot instead of failing to instantiate. With it, any number of concurrent investigations uses
//! no more memory than the pool reserves.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// Slots for instances; [`Slots::acquire`] blocks until one is free.
#[derive(Debug)]
pub(crate) struct Slots {
    free: Mutex<u32>,
    freed: Condvar,
}

/// A held slot, released on drop.
#[derive(Debug)]
pub(crate) struct Slot<'a>(&'a Slots);

impl Slots {
    pub(crate) fn new(n: u32) -> Self {
        Self {
            free: Mutex::new(n.max(1)),
            freed: Condvar::new(),
        }
    }

    // NB: the count is valid whatever a panicking holder did, so a poisoned lock is taken as is.
    fn lock(&self) -> MutexGuard<'_, u32> {
        self.free.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Waits for a free slot.
    pub(crate) fn acquire(&self) -> Slot<'_> {
        let mut free = self.lock();
        while *free == 0 {
            free = self
                .freed
                .wait(free)
                .unwrap_or_else(PoisonError::into_inner);
        }
        *free -= 1;
        Slot(self)
    }
}

impl Drop for Slot<'_> {
    fn drop(&mut self) {
        *self.0.lock() += 1;
        self.0.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU32, Ordering};

    #[test]
    fn never_more_holders_than_slots() {
        let slots = Arc::new(Slots::new(3));
        let live = Arc::new(AtomicU32::new(0));
        let peak = Arc::new(AtomicU32::new(0));
        let threads: Vec<_> = (0..32)
            .map(|_| {
                let (slots, live, peak) = (slots.clone(), live.clone(), peak.clone());
                std::thread::spawn(move || {
                    for _ in 0..50 {
                        let _slot = slots.acquire();
                        let now = live.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        std::thread::yield_now();
                        live.fetch_sub(1, Ordering::SeqCst);
                    }
                })
            })
            .collect();
        for t in threads {
            t.join().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 3);
        assert_eq!(*slots.lock(), 3, "every slot came back");
    }
}
