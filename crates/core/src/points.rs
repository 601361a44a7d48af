//! Points and stamps as their own integer types, so that neither is mixed up with the
//! other, with money or with a plain count. On the wire and in storage they are bare
//! integers (`"points": 120`).
//!
//! The ledger itself counts every unit the same way (a transfer's amount is in the unit it
//! names); these types are what the program, the rules and the outcomes speak in, and they
//! meet the ledger's integers only where a transfer is made or a balance read.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::iter::Sum;
use std::ops::{Add, AddAssign, Sub};

macro_rules! loyalty_unit {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
        )]
        #[serde(transparent)]
        #[cfg_attr(feature = "schema", derive(schemars::JsonSchema), schemars(transparent))]
        pub struct $name(i64);

        impl $name {
            pub const ZERO: Self = Self(0);

            pub const fn new(count: i64) -> Self {
                Self(count)
            }

            /// The count as the ledger's integer amount.
            pub const fn get(self) -> i64 {
                self.0
            }

            pub const fn is_positive(self) -> bool {
                self.0 > 0
            }
        }

        impl Add for $name {
            type Output = Self;
            fn add(self, other: Self) -> Self {
                Self(self.0 + other.0)
            }
        }

        impl Sub for $name {
            type Output = Self;
            fn sub(self, other: Self) -> Self {
                Self(self.0 - other.0)
            }
        }

        impl AddAssign for $name {
            fn add_assign(&mut self, other: Self) {
                self.0 += other.0;
            }
        }

        impl<'a> Sum<&'a $name> for $name {
            fn sum<I: Iterator<Item = &'a Self>>(counts: I) -> Self {
                Self(counts.map(|c| c.0).sum())
            }
        }

        /// The bare number: the words around it are the caller's, in the member's language.
        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }
    };
}

loyalty_unit!(
    /// Points: earned by purchases and actions, spent on rewards, expiring by lots.
    Points
);
loyalty_unit!(
    /// Stamps on one stamp card: N of them fill the card and issue its reward.
    Stamps
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_are_bare_integers_on_the_wire() {
        assert_eq!(serde_json::to_string(&Points::new(120)).unwrap(), "120");
        assert_eq!(serde_json::from_str::<Stamps>("3").unwrap(), Stamps::new(3));
        assert!(serde_json::from_str::<Points>("\"3\"").is_err());
    }

    #[test]
    fn counts_add_subtract_and_sum_within_their_unit() {
        let mut earned = [Points::new(10), Points::new(5)].iter().sum::<Points>();
        earned += Points::new(1);
        assert_eq!(earned + Points::new(4) - Points::new(25), Points::new(-5));
        assert!(Stamps::new(1).is_positive() && !Stamps::ZERO.is_positive());
    }

    #[test]
    fn counts_print_as_their_number() {
        assert_eq!(format!("+{} Punkte", Points::new(12)), "+12 Punkte");
        assert_eq!(format!("{:>4}", Stamps::new(-1)), "  -1");
    }
}
