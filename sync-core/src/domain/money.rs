use super::DomainError;
use serde::{Deserialize, Serialize};

/// An ISO 4217 currency code such as `NZD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency([u8; 3]);

impl Currency {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_ascii_uppercase();
        match <[u8; 3]>::try_from(s.as_bytes()) {
            Ok(code) if code.iter().all(u8::is_ascii_uppercase) => Ok(Self(code)),
            _ => Err(DomainError::new(
                "currency",
                format!("{raw:?} is not a three-letter currency code"),
            )),
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("XXX")
    }

    /// Digits after the decimal point; the few zero-decimal currencies
    /// merchants are likely to meet, two for the rest.
    pub fn minor_digits(&self) -> u32 {
        match self.as_str() {
            "JPY" | "KRW" | "ISK" | "CLP" | "VND" => 0,
            _ => 2,
        }
    }
}

impl TryFrom<String> for Currency {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, DomainError> {
        Self::parse(&raw)
    }
}

impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.as_str().to_owned()
    }
}

/// An amount of money in minor units (cents), never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    pub minor: i64,
    pub currency: Currency,
}

impl Money {
    pub fn new(minor: i64, currency: Currency) -> Self {
        Self { minor, currency }
    }

    /// Parses a decimal amount as people type it ("12.5", "12.50", "1,299.00").
    /// A comma only groups thousands: "12,50" (a decimal comma) is refused,
    /// never read as 1250.
    pub fn parse(raw: &str, currency: Currency) -> Result<Self, DomainError> {
        let trimmed = raw.trim();
        let bad = || DomainError::new("price", format!("{raw:?} is not an amount (e.g. 12.50)"));
        let (grouped, frac) = trimmed.split_once('.').unwrap_or((trimmed, ""));
        if grouped.contains(',') {
            let mut groups = grouped.split(',');
            let first = groups.next().unwrap_or_default();
            if first.is_empty() || first.len() > 3 || groups.any(|g| g.len() != 3) {
                return Err(DomainError::new(
                    "price",
                    format!(
                        "{raw:?} is not an amount: write decimals with a point (e.g. 12.50); a comma only groups thousands (1,299.00)"
                    ),
                ));
            }
        }
        let whole: String = grouped.chars().filter(|c| *c != ',').collect();
        let whole = whole.as_str();
        let digits = currency.minor_digits();
        if whole.is_empty() && frac.is_empty()
            || !whole.chars().all(|c| c.is_ascii_digit())
            || !frac.chars().all(|c| c.is_ascii_digit())
        {
            return Err(bad());
        }
        if frac.len() > digits as usize {
            return Err(DomainError::new(
                "price",
                format!(
                    "{raw:?} has more than {digits} decimal places for {}",
                    currency.as_str()
                ),
            ));
        }
        let scale = 10_i64.pow(digits);
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| bad())?
        };
        let frac_padded = format!("{frac:0<width$}", width = digits as usize);
        let frac: i64 = if frac_padded.is_empty() {
            0
        } else {
            frac_padded.parse().map_err(|_| bad())?
        };
        let minor = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac))
            .ok_or_else(bad)?;
        Ok(Self { minor, currency })
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let digits = self.currency.minor_digits();
        if digits == 0 {
            return write!(f, "{} {}", self.minor, self.currency.as_str());
        }
        let scale = 10_i64.pow(digits);
        let sign = if self.minor < 0 { "-" } else { "" };
        let abs = self.minor.unsigned_abs();
        write!(
            f,
            "{sign}{}.{:0width$} {}",
            abs / scale as u64,
            abs % scale as u64,
            self.currency.as_str(),
            width = digits as usize
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nzd() -> Currency {
        Currency::parse("nzd").expect("valid code")
    }

    #[test]
    fn amounts_parse_to_minor_units_without_floats() {
        assert_eq!(Money::parse("12.5", nzd()).map(|m| m.minor), Ok(1250));
        assert_eq!(Money::parse("1,299.99", nzd()).map(|m| m.minor), Ok(129_999));
        assert_eq!(Money::parse(".05", nzd()).map(|m| m.minor), Ok(5));
        assert_eq!(Money::parse("7", nzd()).map(|m| m.minor), Ok(700));
    }

    #[test]
    fn amounts_with_too_many_decimals_or_junk_are_refused() {
        assert!(Money::parse("1.999", nzd()).is_err());
        assert!(Money::parse("12,5x", nzd()).is_err());
        assert!(Money::parse("-3", nzd()).is_err());
        assert!(Money::parse("", nzd()).is_err());
        assert!(Money::parse("99999999999999999999", nzd()).is_err());
    }

    #[test]
    fn a_comma_groups_thousands_and_is_never_a_decimal_point() {
        assert_eq!(Money::parse("12,345,678.90", nzd()).map(|m| m.minor), Ok(1_234_567_890));
        for decimal_comma in ["12,50", "1,2345", ",500", "1,,000", "1234,567"] {
            let e = Money::parse(decimal_comma, nzd()).expect_err(decimal_comma);
            assert!(e.message.contains("with a point"), "{decimal_comma}: {}", e.message);
        }
    }

    #[test]
    fn money_displays_with_its_currency() {
        assert_eq!(Money::new(129_999, nzd()).to_string(), "1299.99 NZD");
        assert_eq!(
            Money::new(500, Currency::parse("JPY").expect("valid")).to_string(),
            "500 JPY"
        );
    }

    #[test]
    fn currency_codes_are_three_letters() {
        assert!(Currency::parse("EURO").is_err());
        assert!(Currency::parse("E1R").is_err());
        assert_eq!(nzd().as_str(), "NZD");
    }
}
