//! Hive's streaming numeric histogram (Ben-Haim and Tom-Tov, "A streaming parallel decision
//! tree algorithm", JMLR 2010), as `histogram_numeric` and `percentile_approx` use it.
//!
//! It follows Hive's `NumericHistogram` step by step, ties between equally close bins
//! included (broken by `java.util.Random` seeded with 31183, as in Hive), so that the answers
//! are Hive's, not merely close to them.

/// Java's `java.util.Random` linear congruential generator (only `nextDouble`).
#[derive(Debug, Clone)]
pub(crate) struct JavaRandom {
    seed: u64,
}

const MULTIPLIER: u64 = 0x5_DEEC_E66D;
const MASK: u64 = (1 << 48) - 1;

impl JavaRandom {
    /// `new java.util.Random(seed)`.
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            seed: (seed ^ MULTIPLIER) & MASK,
        }
    }

    fn next(&mut self, bits: u32) -> u64 {
        self.seed = (self.seed.wrapping_mul(MULTIPLIER).wrapping_add(0xB)) & MASK;
        self.seed >> (48 - bits)
    }

    /// `Random.nextDouble()`: a value in [0, 1).
    pub(crate) fn next_double(&mut self) -> f64 {
        let high = self.next(26);
        let low = self.next(27);
        ((high << 27) + low) as f64 * (1.0 / (1u64 << 53) as f64)
    }
}

/// One bin: its centre `x` and its height `y` (a count).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Bin {
    /// The bin's centre.
    pub x: f64,
    /// The number of values in the bin.
    pub y: f64,
}

/// A histogram of at most `max_bins` bins, ordered by `x`.
#[derive(Debug, Clone)]
pub(crate) struct NumericHistogram {
    max_bins: usize,
    bins: Vec<Bin>,
    prng: JavaRandom,
}

impl NumericHistogram {
    /// An empty histogram of at most `max_bins` bins (Hive's `allocate`).
    pub(crate) fn new(max_bins: usize) -> Self {
        Self {
            max_bins: max_bins.max(1),
            bins: Vec::new(),
            prng: JavaRandom::new(31183),
        }
    }

    /// The bins, by increasing `x`.
    pub(crate) fn bins(&self) -> &[Bin] {
        &self.bins
    }

    /// Adds one value (Hive's `add`: Algorithm 1 of the paper).
    pub(crate) fn add(&mut self, v: f64) {
        let mut bin = 0;
        let (mut l, mut r) = (0, self.bins.len());
        while l < r {
            bin = (l + r) / 2;
            if self.bins[bin].x > v {
                r = bin;
            } else if self.bins[bin].x < v {
                bin += 1;
                l = bin;
            } else {
                break;
            }
        }
        if bin < self.bins.len() && self.bins[bin].x == v {
            self.bins[bin].y += 1.0;
        } else {
            self.bins.insert(bin, Bin { x: v, y: 1.0 });
            if self.bins.len() > self.max_bins {
                self.trim();
            }
        }
    }

    /// Merges the bins of another histogram (Hive's `merge`: Algorithm 2 of the paper).
    /// An empty histogram takes the other's bin limit, as Hive's does.
    pub(crate) fn merge(&mut self, max_bins: usize, other: &[Bin]) {
        if other.is_empty() {
            return;
        }
        if self.bins.is_empty() {
            self.max_bins = max_bins.max(1);
            self.bins = other.to_vec();
            return;
        }
        self.bins.extend_from_slice(other);
        // Java's Collections.sort is stable, as is sort_by.
        self.bins.sort_by(|a, b| a.x.total_cmp(&b.x));
        self.trim();
    }

    /// Merges the closest pairs of bins until at most `max_bins` are left.
    fn trim(&mut self) {
        while self.bins.len() > self.max_bins {
            let mut smallest = self.bins[1].x - self.bins[0].x;
            let mut location = 0;
            let mut count = 1u32;
            for i in 1..self.bins.len() - 1 {
                let diff = self.bins[i + 1].x - self.bins[i].x;
                if diff < smallest {
                    smallest = diff;
                    location = i;
                    count = 1;
                } else if diff == smallest {
                    count += 1;
                    if self.prng.next_double() <= 1.0 / f64::from(count) {
                        location = i;
                    }
                }
            }
            let right = self.bins.remove(location + 1);
            let left = &mut self.bins[location];
            let d = left.y + right.y;
            left.x *= left.y / d;
            left.x += right.x / d * right.y;
            left.y = d;
        }
    }

    /// The approximate `q`-quantile (Hive's `quantile`); `None` when the histogram is empty.
    pub(crate) fn quantile(&self, q: f64) -> Option<f64> {
        let first = self.bins.first()?;
        let sum: f64 = self.bins.iter().map(|b| b.y).sum();
        let mut csum = 0.0;
        for (b, bin) in self.bins.iter().enumerate() {
            csum += bin.y;
            if csum / sum >= q {
                if b == 0 {
                    return Some(first.x);
                }
                csum -= bin.y;
                let prev = self.bins[b - 1];
                return Some(prev.x + (q * sum - csum) * (bin.x - prev.x) / bin.y);
            }
        }
        // Only reached when rounding leaves csum / sum below q: Hive answers -1 there.
        Some(-1.0)
    }

    /// The state for a partial aggregate: `[max_bins, x1, y1, x2, y2, ...]` (Hive's
    /// `serialize`).
    pub(crate) fn serialize(&self) -> Vec<f64> {
        let mut out = Vec::with_capacity(1 + 2 * self.bins.len());
        out.push(self.max_bins as f64);
        for b in &self.bins {
            out.push(b.x);
            out.push(b.y);
        }
        out
    }

    /// Merges a state made by [`NumericHistogram::serialize`].
    pub(crate) fn merge_serialized(&mut self, state: &[f64]) {
        let Some((&max_bins, rest)) = state.split_first() else {
            return;
        };
        let bins: Vec<Bin> = rest
            .chunks_exact(2)
            .map(|c| Bin { x: c[0], y: c[1] })
            .collect();
        self.merge(max_bins as usize, &bins);
    }

    /// Approximate memory use in bytes.
    pub(crate) fn size(&self) -> usize {
        std::mem::size_of::<Self>() + self.bins.capacity() * std::mem::size_of::<Bin>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_random_matches_java() {
        // new java.util.Random(42).nextDouble() in Java: 0.7275636800328681
        let mut r = JavaRandom::new(42);
        assert_eq!(r.next_double(), 0.7275636800328681);
        assert_eq!(r.next_double(), 0.6832234717598454);
    }

    #[test]
    fn merges_the_closest_bins() {
        let mut h = NumericHistogram::new(3);
        for v in [1.0, 2.0, 3.0, 4.0, 10.0, 11.0, 30.0] {
            h.add(v);
        }
        // Hive: histogram_numeric(x, 3) = [{2.5, 4}, {10.5, 2}, {30, 1}]
        assert_eq!(
            h.bins(),
            [
                Bin { x: 2.5, y: 4.0 },
                Bin { x: 10.5, y: 2.0 },
                Bin { x: 30.0, y: 1.0 }
            ]
        );
        assert!(NumericHistogram::new(3).quantile(0.5).is_none());
    }
}
