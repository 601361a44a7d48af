//! A small quasi-Newton minimiser (BFGS with a backtracking line search) for the models'
//! few parameters. The models hand it their negative mean log-likelihood and its exact
//! gradient in log-parameter space, where every point is a valid parameter set, so no
//! constraint handling is needed.

/// The iterations a fit may take; the models' likelihoods converge in a few dozen.
const ITERATIONS_MAX: usize = 500;
/// Halvings of the step a line search may try before the fit gives up.
const LINE_SEARCH_STEPS_MAX: usize = 60;
/// Converged when no gradient component of the mean log-likelihood exceeds this.
const GRADIENT_TOLERANCE: f64 = 1e-10;
/// Near the optimum the objective's changes fall below what a double resolves, and no step
/// shows a decrease; there, a gradient this small also counts as converged. On a flat
/// ridge (very regular customers, whose r and α grow together) that floor comes early; a
/// step of 0.01 in a log-parameter then changes the mean log-likelihood by 1e-6 at most.
const GRADIENT_TOLERANCE_AT_PRECISION: f64 = 1e-4;

/// Where the minimiser stopped.
#[derive(Clone, Debug, PartialEq)]
pub struct Minimum<const N: usize> {
    pub point: [f64; N],
    pub value: f64,
    pub iterations: usize,
    /// False when the iteration or line-search bound ended the search first.
    pub converged: bool,
}

/// Minimises `objective` (value and gradient at a point) from `start`.
pub fn minimize<const N: usize>(
    objective: impl Fn(&[f64; N]) -> (f64, [f64; N]),
    start: [f64; N],
) -> Minimum<N> {
    let mut point = start;
    let (mut value, mut gradient) = objective(&point);
    let mut inverse_hessian = identity::<N>();
    for iteration in 0..ITERATIONS_MAX {
        if gradient.iter().all(|g| g.abs() <= GRADIENT_TOLERANCE) {
            return Minimum {
                point,
                value,
                iterations: iteration,
                converged: true,
            };
        }
        let mut direction = times(&inverse_hessian, &gradient).map(|d| -d);
        if dot(&direction, &gradient) >= 0.0 {
            // Not a descent direction (the curvature estimate went stale): restart it.
            inverse_hessian = identity::<N>();
            direction = gradient.map(|g| -g);
        }
        let Some((next, next_value, next_gradient)) =
            line_search(&objective, &point, value, &gradient, &direction)
        else {
            let converged = gradient
                .iter()
                .all(|g| g.abs() <= GRADIENT_TOLERANCE_AT_PRECISION);
            return Minimum {
                point,
                value,
                iterations: iteration,
                converged,
            };
        };
        let step: [f64; N] = std::array::from_fn(|i| next[i] - point[i]);
        let change: [f64; N] = std::array::from_fn(|i| next_gradient[i] - gradient[i]);
        update_inverse_hessian(&mut inverse_hessian, &step, &change);
        (point, value, gradient) = (next, next_value, next_gradient);
    }
    Minimum {
        point,
        value,
        iterations: ITERATIONS_MAX,
        converged: false,
    }
}

/// Maximises a total log-likelihood over positive parameters from `start`: searches in log
/// space (every point is valid there), on the mean over `customers` so that the tolerance
/// does not depend on their number. Returns the parameters and the total log-likelihood
/// at them, or `None` where the search did not converge.
pub fn maximize_likelihood<const N: usize>(
    log_likelihood_and_gradient: impl Fn([f64; N]) -> (f64, [f64; N]),
    customers: f64,
    start: [f64; N],
) -> Option<([f64; N], f64)> {
    let minimum = minimize(
        |log_parameters| {
            let parameters = log_parameters.map(f64::exp);
            let (value, gradient) = log_likelihood_and_gradient(parameters);
            // The chain rule takes the gradient into log space.
            let gradient = std::array::from_fn(|i| -gradient[i] * parameters[i] / customers);
            (-value / customers, gradient)
        },
        start.map(f64::ln),
    );
    minimum
        .converged
        .then(|| (minimum.point.map(f64::exp), -minimum.value * customers))
}

type Evaluated<const N: usize> = ([f64; N], f64, [f64; N]);

/// Backtracks from the full quasi-Newton step until the Armijo condition holds (a
/// sufficient decrease); a non-finite value counts as no decrease, and so does an equal
/// one (the decrease asked for can be below what a double resolves).
fn line_search<const N: usize>(
    objective: &impl Fn(&[f64; N]) -> (f64, [f64; N]),
    point: &[f64; N],
    value: f64,
    gradient: &[f64; N],
    direction: &[f64; N],
) -> Option<Evaluated<N>> {
    const SUFFICIENT_DECREASE: f64 = 1e-4;
    let slope = dot(gradient, direction);
    let mut length = 1.0;
    for _ in 0..LINE_SEARCH_STEPS_MAX {
        let candidate: [f64; N] = std::array::from_fn(|i| point[i] + length * direction[i]);
        let (candidate_value, candidate_gradient) = objective(&candidate);
        if candidate_value.is_finite()
            && candidate_gradient.iter().all(|g| g.is_finite())
            && candidate_value < value
            && candidate_value <= value + SUFFICIENT_DECREASE * length * slope
        {
            return Some((candidate, candidate_value, candidate_gradient));
        }
        length *= 0.5;
    }
    None
}

/// The BFGS update of the inverse Hessian from one step and its change of gradient;
/// skipped when the pair carries no positive curvature, which keeps it positive definite.
fn update_inverse_hessian<const N: usize>(
    inverse_hessian: &mut [[f64; N]; N],
    step: &[f64; N],
    change: &[f64; N],
) {
    let curvature = dot(step, change);
    if curvature <= 1e-16 {
        return;
    }
    let rho = 1.0 / curvature;
    let h_change = times(inverse_hessian, change);
    let change_h_change = dot(change, &h_change);
    for i in 0..N {
        for j in 0..N {
            inverse_hessian[i][j] += (1.0 + rho * change_h_change) * rho * step[i] * step[j]
                - rho * (h_change[i] * step[j] + step[i] * h_change[j]);
        }
    }
}

fn identity<const N: usize>() -> [[f64; N]; N] {
    std::array::from_fn(|i| std::array::from_fn(|j| if i == j { 1.0 } else { 0.0 }))
}

fn times<const N: usize>(matrix: &[[f64; N]; N], vector: &[f64; N]) -> [f64; N] {
    std::array::from_fn(|i| dot(&matrix[i], vector))
}

fn dot<const N: usize>(left: &[f64; N], right: &[f64; N]) -> f64 {
    left.iter().zip(right).map(|(l, r)| l * r).sum()
}

/// Asserts that `function`'s gradient at `point` agrees with central finite differences
/// (for the models' tests).
#[cfg(test)]
pub fn assert_gradient_matches_finite_differences<const N: usize>(
    function: impl Fn([f64; N]) -> (f64, [f64; N]),
    point: [f64; N],
) {
    let (_, gradient) = function(point);
    for i in 0..N {
        let h = 1e-6 * point[i];
        let (mut up, mut down) = (point, point);
        up[i] += h;
        down[i] -= h;
        let numeric = (function(up).0 - function(down).0) / (2.0 * h);
        assert!(
            (gradient[i] - numeric).abs() < 1e-6 * numeric.abs().max(1.0),
            "{i}: {} vs {numeric}",
            gradient[i]
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_minimum_of_the_rosenbrock_valley() {
        let rosenbrock = |p: &[f64; 2]| {
            let (x, y) = (p[0], p[1]);
            let value = (1.0 - x).powi(2) + 100.0 * (y - x * x).powi(2);
            let gradient = [
                -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
                200.0 * (y - x * x),
            ];
            (value, gradient)
        };
        let minimum = minimize(rosenbrock, [-1.2, 1.0]);
        assert!(minimum.converged, "{minimum:?}");
        assert!((minimum.point[0] - 1.0).abs() < 1e-8 && (minimum.point[1] - 1.0).abs() < 1e-8);
    }

    #[test]
    fn a_function_without_a_minimum_is_reported_as_not_converged() {
        let slope = |p: &[f64; 1]| (-p[0], [-1.0]);
        assert!(!minimize(slope, [0.0]).converged);
    }
}
