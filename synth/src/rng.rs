//! The generator's only source of randomness: SplitMix64, seeded from the config, with one
//! independent stream per namespace so namespaces can be built in parallel and in any order
//! without changing a byte of the output. No `rand` crate, no clock, no OS entropy.

/// Alphabet Kubernetes uses for generated name suffixes (`pod-template-hash`, pod names):
/// consonants and digits without vowels or look-alikes, so no words are formed.
pub const K8S_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, fast, and every 64-bit seed gives a good stream.
#[derive(Debug, Clone)]
pub struct Rng(u64);

/// The SplitMix64 output function, also used to derive stream seeds.
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Rng {
    /// Stream `stream` of seed `seed`: streams of one seed are unrelated to each other, so adding
    /// a namespace never shifts the values another namespace draws.
    pub fn stream(seed: u64, stream: u64) -> Self {
        Self(mix(seed ^ mix(stream.wrapping_add(0x9E37_79B9_7F4A_7C15))))
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        mix(self.0)
    }

    /// A value in `0..n` (0 when `n` is 0), by multiply-shift: no modulo bias worth noticing.
    pub fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// A value in `lo..hi` (`lo` when the range is empty).
    pub fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        let span = hi.abs_diff(lo);
        lo.wrapping_add_unsigned(self.below(span))
    }

    /// An index into a slice of length `len` (0 for an empty one).
    pub fn index(&mut self, len: usize) -> usize {
        usize::try_from(self.below(len as u64)).unwrap_or(0)
    }

    /// `n` characters drawn from `alphabet`.
    pub fn chars(&mut self, alphabet: &[u8], n: usize) -> String {
        (0..n)
            .map(|_| char::from(alphabet[self.index(alphabet.len())]))
            .collect()
    }

    /// A Kubernetes-style generated suffix of `n` characters.
    pub fn suffix(&mut self, n: usize) -> String {
        self.chars(K8S_ALPHABET, n)
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        self.chars(b"0123456789abcdef", n)
    }

    /// A UUID in the usual 8-4-4-4-12 form, version 5 and RFC 4122 variant bits set, like the
    /// uids in the public scenarios.
    pub fn uid(&mut self) -> String {
        let hi = self.next_u64();
        let lo = self.next_u64();
        let hi = (hi & !0xF000) | 0x5000;
        let lo = (lo & !(0xC000_u64 << 48)) | (0x8000_u64 << 48);
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            hi >> 32,
            (hi >> 16) & 0xFFFF,
            hi & 0xFFFF,
            lo >> 48,
            lo & 0xFFFF_FFFF_FFFF
        )
    }

    /// Fisher–Yates: a deterministic permutation of `items`.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.index(i + 1);
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_reproducible_and_distinct() {
        let a: Vec<u64> = (0..4).map(|_| Rng::stream(1, 7).next_u64()).collect();
        assert!(a.windows(2).all(|w| w[0] == w[1]));
        assert_ne!(Rng::stream(1, 7).next_u64(), Rng::stream(1, 8).next_u64());
        assert_ne!(Rng::stream(1, 7).next_u64(), Rng::stream(2, 7).next_u64());
    }

    #[test]
    fn ranges_stay_in_bounds() {
        let mut r = Rng::stream(3, 0);
        for _ in 0..10_000 {
            let v = r.range(-5, 5);
            assert!((-5..5).contains(&v));
            assert!(r.below(3) < 3);
        }
        assert_eq!(r.range(4, 4), 4);
        assert_eq!(r.below(0), 0);
        assert_eq!(r.index(0), 0);
    }

    #[test]
    fn uids_look_like_uuids() {
        let u = Rng::stream(9, 9).uid();
        assert_eq!(u.len(), 36);
        assert_eq!(&u[14..15], "5");
        assert!(matches!(&u[19..20], "8" | "9" | "a" | "b"), "{u}");
    }
}
