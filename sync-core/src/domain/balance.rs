//! The syncable balance: what a channel may sell of a variant.
//!
//! balance = max(0, Σ on-hand over the channel's outlets − committed − safety
//! buffer), then: 0 at or below the threshold, then the published share, then
//! the cap. The SQL in `storage::balance` computes the same thing for many
//! variants at once; `BalanceRules::explain` shows each step for one.

use serde::{Deserialize, Serialize};

use super::DomainError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct BalanceRules {
    pub safety_buffer: i64,
    /// Publish this share (0–100 %) of the balance, rounded down.
    pub publish_percent: Option<i64>,
    /// Publish at most this many.
    pub publish_max: Option<i64>,
    /// Publish 0 when the balance is at or below this.
    pub zero_at_or_below: Option<i64>,
}

/// One step of an explanation: what it did and the figure after it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BalanceStep {
    pub label: String,
    pub after: i64,
}

/// The largest buffer, cap or threshold a channel takes: far above any
/// stock, far below where the arithmetic could overflow.
pub const RULE_LIMIT: i64 = 1_000_000_000;

/// A figure of the rules outside 0..=RULE_LIMIT, said in words.
fn bounded(field: &'static str, what: &str, value: Option<i64>) -> Option<DomainError> {
    match value? {
        v if v < 0 => Some(DomainError::new(field, format!("{what} cannot be negative"))),
        v if v > RULE_LIMIT => Some(DomainError::new(
            field,
            format!("{what} can be at most 1,000,000,000, not {v}"),
        )),
        _ => None,
    }
}

impl BalanceRules {
    /// The first rule broken, if any.
    pub fn validate(&self) -> Result<(), DomainError> {
        match self.problems().into_iter().next() {
            Some(problem) => Err(problem),
            None => Ok(()),
        }
    }

    /// Every rule broken, in the order the settings form shows them.
    pub fn problems(&self) -> Vec<DomainError> {
        let share = self
            .publish_percent
            .filter(|p| !(0..=100).contains(p))
            .map(|p| DomainError::new("publish_percent", format!("a share is 0 to 100 %, not {p}")));
        [
            bounded("safety_buffer", "a safety buffer", Some(self.safety_buffer)),
            share,
            bounded("publish_max", "a maximum", self.publish_max),
            bounded("zero_at_or_below", "a threshold", self.zero_at_or_below),
        ]
        .into_iter()
        .flatten()
        .collect()
    }

    pub fn apply(&self, on_hand: i64, committed: i64) -> i64 {
        self.explain(on_hand, committed).last().map_or(0, |s| s.after)
    }

    /// Each rule's effect, in order, starting from the combined on-hand.
    pub fn explain(&self, on_hand: i64, committed: i64) -> Vec<BalanceStep> {
        let mut steps = vec![BalanceStep {
            label: "on hand at the channel's outlets".into(),
            after: on_hand,
        }];
        let mut x = on_hand - committed;
        steps.push(BalanceStep {
            label: format!("minus {committed} committed to orders"),
            after: x,
        });
        x -= self.safety_buffer;
        steps.push(BalanceStep {
            label: format!("minus safety buffer of {}", self.safety_buffer),
            after: x,
        });
        x = x.max(0);
        steps.push(BalanceStep {
            label: "never below 0".into(),
            after: x,
        });
        if let Some(t) = self.zero_at_or_below {
            if x <= t {
                x = 0;
            }
            steps.push(BalanceStep {
                label: format!("0 when at or below {t}"),
                after: x,
            });
        }
        if let Some(p) = self.publish_percent {
            x = x * p / 100;
            steps.push(BalanceStep {
                label: format!("publish {p} %"),
                after: x,
            });
        }
        if let Some(m) = self.publish_max {
            x = x.min(m);
            steps.push(BalanceStep {
                label: format!("publish at most {m}"),
                after: x,
            });
        }
        steps
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_plain_balance_is_on_hand_minus_committed_and_buffer_never_negative() {
        let rules = BalanceRules {
            safety_buffer: 2,
            ..Default::default()
        };
        assert_eq!(rules.apply(10, 3), 5);
        assert_eq!(rules.apply(3, 3), 0);
        assert_eq!(rules.apply(-4, 0), 0);
    }

    #[test]
    fn threshold_then_share_then_cap() {
        let rules = BalanceRules {
            safety_buffer: 0,
            publish_percent: Some(80),
            publish_max: Some(50),
            zero_at_or_below: Some(2),
        };
        assert_eq!(rules.apply(2, 0), 0, "at the threshold");
        assert_eq!(rules.apply(3, 0), 2, "80 % of 3 rounds down");
        assert_eq!(rules.apply(100, 0), 50, "capped");
        let steps = rules.explain(100, 0);
        assert_eq!(steps.last().map(|s| s.after), Some(50));
        assert!(steps.iter().any(|s| s.label == "publish 80 %" && s.after == 80));
    }

    #[test]
    fn out_of_range_rules_are_refused() {
        assert!(
            BalanceRules {
                publish_percent: Some(120),
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            BalanceRules {
                safety_buffer: -1,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
