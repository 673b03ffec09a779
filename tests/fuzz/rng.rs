//! A small deterministic PRNG: splitmix64 (Steele, Lea & Flood 2014, the
//! seeding generator of xoshiro). Every input is drawn from its own stream,
//! `Rng::for_input(campaign seed, target, index)`, so any one input can be
//! regenerated alone, whatever the number of workers or the order they run in.

#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// The stream of input `index` of `target` in the campaign `seed`.
    pub fn for_input(seed: u64, target: usize, index: u64) -> Rng {
        let mut r = Rng(seed ^ 0x5851_f42d_4c95_7f2d);
        let a = r.next_u64() ^ (target as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15);
        let mut r = Rng(a);
        let b = r.next_u64() ^ index.wrapping_mul(0xbf58_476d_1ce4_e5b9);
        Rng(b)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in 0..n (n > 0).
    pub fn below(&mut self, n: usize) -> usize {
        assert!(n > 0, "below(0)");
        (self.next_u64() % n as u64) as usize
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&mut self, p: f64) -> bool {
        self.unit() < p
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }

    /// An index drawn with the given relative weights.
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u32 = weights.iter().sum();
        let mut x = self.below(total as usize) as u32;
        for (i, &w) in weights.iter().enumerate() {
            if x < w {
                return i;
            }
            x -= w;
        }
        weights.len() - 1
    }

    /// How many mutations to stack on one input: 1, 2, 3... with halving
    /// probability, at most `max`.
    pub fn count(&mut self, max: usize) -> usize {
        let mut n = 1;
        while n < max && self.chance(0.5) {
            n += 1;
        }
        n
    }
}
