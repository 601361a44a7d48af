//! The special functions the customer-lifetime models need, in double precision: the log
//! gamma function, the digamma function and the Gauss hypergeometric function 2F1 on
//! [0, 1). Written here because they are small and their accuracy is testable against
//! tabulated values; a numerics crate would bring far more than these three.

/// ln Γ(x) for x > 0, by the Lanczos approximation (g = 7, 9 coefficients), accurate to
/// about 1e-15 relative; the reflection formula is not needed since the models only ask
/// for positive arguments. Returns NaN for x ≤ 0.
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const COEFFICIENTS: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    if x < 0.5 {
        // Γ(x) = Γ(x + 1) / x keeps the approximation in its accurate range.
        return ln_gamma(x + 1.0) - x.ln();
    }
    let z = x - 1.0;
    let mut series = COEFFICIENTS[0];
    for (k, coefficient) in COEFFICIENTS.iter().enumerate().skip(1) {
        series += coefficient / (z + k as f64);
    }
    let t = z + G + 0.5;
    0.5 * (2.0 * std::f64::consts::PI).ln() + (z + 0.5) * t.ln() - t + series.ln()
}

/// ψ(x) = d/dx ln Γ(x) for x > 0: the recurrence ψ(x) = ψ(x + 1) − 1/x lifts the argument
/// above 10, where the asymptotic series is accurate to about 1e-15. NaN for x ≤ 0.
pub fn digamma(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return f64::NAN;
    }
    let mut x = x;
    let mut shift = 0.0;
    while x < 10.0 {
        shift -= 1.0 / x;
        x += 1.0;
    }
    let inverse_square = 1.0 / (x * x);
    let tail = inverse_square
        * (1.0 / 12.0
            - inverse_square
                * (1.0 / 120.0
                    - inverse_square
                        * (1.0 / 252.0
                            - inverse_square
                                * (1.0 / 240.0
                                    - inverse_square
                                        * (1.0 / 132.0 - inverse_square * 691.0 / 32_760.0)))));
    shift + x.ln() - 0.5 / x - tail
}

/// The most terms the hypergeometric series may take. Its terms shrink like zⁿ, so this
/// bounds z near 0.9997; the models' arguments t / (α + T + t) stay far below for any
/// horizon that is not thousands of times the customer's history.
const HYPERGEOMETRIC_TERMS_MAX: usize = 200_000;

/// The Gauss hypergeometric function 2F1(a, b; c; z) for 0 ≤ z < 1 and c > 0, summed as its
/// power series until a term no longer changes the sum. `None` when the arguments are
/// outside that range or the series did not settle within its bound.
pub fn hyp2f1(a: f64, b: f64, c: f64, z: f64) -> Option<f64> {
    if !(0.0..1.0).contains(&z) || c <= 0.0 || !(a.is_finite() && b.is_finite()) {
        return None;
    }
    let mut term = 1.0;
    let mut sum = 1.0;
    for n in 0..HYPERGEOMETRIC_TERMS_MAX {
        let n = n as f64;
        term *= (a + n) * (b + n) / ((c + n) * (n + 1.0)) * z;
        sum += term;
        if term.abs() <= f64::EPSILON * sum.abs() {
            return sum.is_finite().then_some(sum);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(actual: f64, expected: f64, relative: f64) -> bool {
        (actual - expected).abs() <= relative * expected.abs().max(1e-300)
    }

    #[test]
    fn ln_gamma_agrees_with_factorials_and_tabulated_values() {
        let mut factorial: f64 = 1.0;
        for n in 1..30 {
            // Γ(n + 1) = n!
            factorial *= n as f64;
            assert!(
                close(ln_gamma(n as f64 + 1.0), factorial.ln(), 1e-14),
                "n = {n}"
            );
        }
        // Γ(1/2) = √π, Γ(1/3) and ln Γ(1000) from tables.
        assert!(close(
            ln_gamma(0.5),
            std::f64::consts::PI.sqrt().ln(),
            1e-14
        ));
        assert!(close(
            ln_gamma(1.0 / 3.0),
            2.678_938_534_707_747_6_f64.ln(),
            1e-14
        ));
        assert!(close(ln_gamma(1000.0), 5_905.220_423_209_181, 1e-14));
        assert!(close(ln_gamma(1e-8), 18.420_680_738_180_21, 1e-12));
        assert!(ln_gamma(0.0).is_nan() && ln_gamma(-1.5).is_nan());
    }

    #[test]
    fn digamma_agrees_with_tabulated_values_and_its_recurrence() {
        const EULER_MASCHERONI: f64 = 0.577_215_664_901_532_9;
        assert!(close(digamma(1.0), -EULER_MASCHERONI, 1e-14));
        assert!(close(
            digamma(0.5),
            -EULER_MASCHERONI - 2.0 * std::f64::consts::LN_2,
            1e-14
        ));
        assert!(close(digamma(100.0), 4.600_161_852_738_087, 1e-14));
        for x in [0.01, 0.3, 2.5, 7.0, 40.0] {
            assert!(
                close(digamma(x + 1.0), digamma(x) + 1.0 / x, 1e-13),
                "x = {x}"
            );
        }
    }

    #[test]
    fn digamma_is_the_derivative_of_ln_gamma() {
        for x in [0.2, 1.7, 5.5, 33.0] {
            let h = 1e-6 * x;
            let numeric = (ln_gamma(x + h) - ln_gamma(x - h)) / (2.0 * h);
            assert!(close(digamma(x), numeric, 1e-7), "x = {x}");
        }
    }

    #[test]
    fn hyp2f1_agrees_with_closed_forms() {
        for z in [0.0_f64, 0.1, 0.5, 0.9, 0.99] {
            // 2F1(1, 1; 2; z) = −ln(1 − z) / z
            let expected: f64 = if z == 0.0 {
                1.0
            } else {
                -(1.0_f64 - z).ln() / z
            };
            assert!(close(hyp2f1(1.0, 1.0, 2.0, z).unwrap(), expected, 1e-13));
            // 2F1(a, b; b; z) = (1 − z)^(−a)
            assert!(close(
                hyp2f1(2.5, 1.3, 1.3, z).unwrap(),
                (1.0 - z).powf(-2.5),
                1e-12
            ));
        }
        // 2F1(1/2, 1/2; 3/2; z²) = arcsin(z) / z
        let z: f64 = 0.8;
        assert!(close(
            hyp2f1(0.5, 0.5, 1.5, z * z).unwrap(),
            z.asin() / z,
            1e-13
        ));
    }

    #[test]
    fn hyp2f1_refuses_arguments_outside_its_range() {
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, 1.0), None);
        assert_eq!(hyp2f1(1.0, 1.0, 2.0, -0.5), None);
        assert_eq!(hyp2f1(1.0, 1.0, 0.0, 0.5), None);
    }
}
