//! The TCP ports new managed instances take when no `--port` is given.
//!
//! 5433–6432 by default (5432 is left to a system cluster). `PGRELOCATE_PORTS=FIRST-LAST`
//! moves it, for hosts whose firewall opens another range, and for test runs: parallel
//! tests each get a block of their own, so a destination restarted by one test cannot have
//! its port taken by another test's new instance in the moment it is down.

use std::fmt;
use std::ops::RangeInclusive;

/// Environment variable that overrides the default range: `FIRST-LAST`, e.g. `7000-7099`.
pub const PORTS_ENV: &str = "PGRELOCATE_PORTS";

/// An inclusive range of TCP ports.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

/// Why a port range was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{PORTS_ENV}={value:?} is not a port range: {reason} (write FIRST-LAST, e.g. 5433-6432)")]
pub struct PortRangeError {
    value: String,
    reason: &'static str,
}

impl PortRange {
    /// 5433–6432.
    pub const DEFAULT: PortRange = PortRange {
        first: 5433,
        last: 6432,
    };

    /// A range from `first` to `last`, both between 1 and 65535, `first <= last`.
    pub fn new(first: u16, last: u16) -> Option<PortRange> {
        (first >= 1 && first <= last).then_some(PortRange { first, last })
    }

    /// `PGRELOCATE_PORTS` when set, else [`PortRange::DEFAULT`].
    pub fn from_env() -> Result<PortRange, PortRangeError> {
        match std::env::var(PORTS_ENV) {
            Ok(value) if !value.trim().is_empty() => value.parse(),
            _ => Ok(PortRange::DEFAULT),
        }
    }

    /// The ports in order.
    pub fn ports(self) -> RangeInclusive<u16> {
        self.first..=self.last
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl std::str::FromStr for PortRange {
    type Err = PortRangeError;

    fn from_str(value: &str) -> Result<PortRange, PortRangeError> {
        let refuse = |reason| PortRangeError {
            value: value.to_string(),
            reason,
        };
        let (first, last) = value.trim().split_once('-').ok_or(refuse("no '-'"))?;
        let port = |text: &str| {
            text.trim()
                .parse::<u16>()
                .map_err(|_| refuse("a port is a number from 1 to 65535"))
        };
        let (first, last) = (port(first)?, port(last)?);
        if first == 0 {
            return Err(refuse("a port is a number from 1 to 65535"));
        }
        PortRange::new(first, last).ok_or(refuse("the first port is above the last"))
    }
}

impl crate::Coded for PortRangeError {
    fn code(&self) -> crate::ErrorCode {
        crate::ErrorCode::InvalidConfiguration
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_range_parses_with_or_without_spaces() {
        assert_eq!("7000-7099".parse(), Ok(PortRange::new(7000, 7099).unwrap()));
        assert_eq!(
            " 7000 - 7000 ".parse(),
            Ok(PortRange::new(7000, 7000).unwrap())
        );
        assert_eq!(PortRange::DEFAULT.to_string(), "5433-6432");
    }

    #[test]
    fn malformed_ranges_are_refused_with_the_form_to_write() {
        for bad in ["7000", "0-10", "7000-70000", "x-y", "7100-7000", "-5", "5-"] {
            let err = bad.parse::<PortRange>().unwrap_err().to_string();
            assert!(err.contains("FIRST-LAST"), "{bad}: {err}");
            assert!(err.contains(PORTS_ENV), "{bad}: {err}");
        }
    }
}
