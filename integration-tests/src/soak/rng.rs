//! A seeded xorshift64* source: the soak prints its seed, so a run's choices (which daemon,
//! which node, which churn step) can be replayed with `SOAK_SEED`.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        // Zero is xorshift's one fixed point.
        Rng(seed.max(1))
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// Uniform in `lo..=hi` (modulo bias is irrelevant at these ranges).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo + 1)
    }

    /// An index into a slice of `len` (> 0).
    pub fn pick(&mut self, len: usize) -> usize {
        (self.next_u64() % len.max(1) as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.range(0, 99) < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_choices_and_ranges_hold() {
        let (mut a, mut b) = (Rng::new(42), Rng::new(42));
        for _ in 0..1000 {
            assert_eq!(a.next_u64(), b.next_u64());
            let v = a.range(3, 8);
            b.range(3, 8);
            assert!((3..=8).contains(&v), "{v}");
        }
        let mut z = Rng::new(0);
        assert_ne!(z.next_u64(), 0, "seed 0 still moves");
        let seen: std::collections::BTreeSet<u64> = (0..200).map(|_| a.range(0, 3)).collect();
        assert_eq!(seen.len(), 4, "every value of a small range comes up");
    }
}
