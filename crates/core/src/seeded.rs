//! A seeded pseudo-random sequence for simulations (the demo's customers, the benchmark's
//! history, the models' recovery tests): the same seed gives the same sequence, so nothing
//! here is a source of real randomness, and the core stays deterministic.

/// SplitMix64: small, fast, and good enough for simulated customers.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Exponentially distributed with the given mean (gaps between visits).
    pub fn exponential(&mut self, mean: f64) -> f64 {
        -mean * (1.0 - self.unit()).ln()
    }

    /// Standard normal, by the Box-Muller transform.
    pub fn normal(&mut self) -> f64 {
        let radius = (-2.0 * (1.0 - self.unit()).ln()).sqrt();
        radius * (std::f64::consts::TAU * self.unit()).cos()
    }

    /// Gamma-distributed with the given shape and scale (shape > 0), by Marsaglia and
    /// Tsang's method; shapes below 1 are lifted by Gamma(k) = Gamma(k + 1) · U^(1/k).
    pub fn gamma(&mut self, shape: f64, scale: f64) -> f64 {
        if shape < 1.0 {
            let lift = (1.0 - self.unit()).powf(1.0 / shape);
            return self.gamma(shape + 1.0, scale) * lift;
        }
        let d = shape - 1.0 / 3.0;
        let c = 1.0 / (9.0 * d).sqrt();
        loop {
            let x = self.normal();
            let v = (1.0 + c * x).powi(3);
            if v <= 0.0 {
                continue;
            }
            let u = 1.0 - self.unit();
            if u.ln() < 0.5 * x * x + d - d * v + d * v.ln() {
                return d * v * scale;
            }
        }
    }

    /// Beta(a, b)-distributed, as the share of one gamma variate in the sum of two.
    pub fn beta(&mut self, a: f64, b: f64) -> f64 {
        let x = self.gamma(a, 1.0);
        let y = self.gamma(b, 1.0);
        x / (x + y)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mean_and_variance(samples: impl Iterator<Item = f64>) -> (f64, f64) {
        let samples: Vec<f64> = samples.collect();
        let n = samples.len() as f64;
        let mean = samples.iter().sum::<f64>() / n;
        let variance = samples.iter().map(|s| (s - mean).powi(2)).sum::<f64>() / n;
        (mean, variance)
    }

    #[test]
    fn gamma_variates_have_the_distributions_mean_and_variance() {
        let mut rng = Rng::new(7);
        for (shape, scale) in [(0.25, 2.0), (3.7, 0.5), (12.0, 1.0)] {
            let (mean, variance) = mean_and_variance((0..200_000).map(|_| rng.gamma(shape, scale)));
            assert!(
                (mean / (shape * scale) - 1.0).abs() < 0.02,
                "{shape}: {mean}"
            );
            assert!(
                (variance / (shape * scale * scale) - 1.0).abs() < 0.05,
                "{shape}: {variance}"
            );
        }
    }

    #[test]
    fn beta_variates_have_the_distributions_mean() {
        let mut rng = Rng::new(11);
        let (mean, _) = mean_and_variance((0..200_000).map(|_| rng.beta(0.8, 2.4)));
        assert!((mean - 0.8 / 3.2).abs() < 0.005, "{mean}");
    }

    #[test]
    fn the_same_seed_gives_the_same_sequence() {
        let (mut a, mut b) = (Rng::new(3), Rng::new(3));
        assert!((0..100).all(|_| a.next_u64() == b.next_u64()));
    }
}
