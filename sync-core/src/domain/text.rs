//! Short identifiers people type: SKUs, barcodes, outlet codes, emails.

use super::DomainError;
use serde::{Deserialize, Serialize};

macro_rules! text_type {
    ($name:ident) => {
        impl $name {
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }
        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }
        impl TryFrom<String> for $name {
            type Error = DomainError;
            fn try_from(raw: String) -> Result<Self, DomainError> {
                Self::parse(&raw)
            }
        }
        impl From<$name> for String {
            fn from(v: $name) -> String {
                v.0
            }
        }
    };
}

/// A stock keeping unit: 1 to 64 printable characters without spaces,
/// unique across all variants. Case is kept as typed.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Sku(String);
text_type!(Sku);

impl Sku {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if s.is_empty() {
            return Err(DomainError::new("sku", "a SKU cannot be empty"));
        }
        if s.chars().count() > 64 {
            return Err(DomainError::new("sku", "a SKU is at most 64 characters"));
        }
        if let Some(c) = s.chars().find(|c| c.is_whitespace() || c.is_control()) {
            return Err(DomainError::new(
                "sku",
                format!("a SKU cannot contain {c:?}; use letters, digits, '-', '_' or '.'"),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// A UPC/EAN/GTIN barcode: 8, 12, 13 or 14 digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Barcode(String);
text_type!(Barcode);

impl Barcode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        if !s.chars().all(|c| c.is_ascii_digit()) || ![8, 12, 13, 14].contains(&s.len()) {
            return Err(DomainError::new(
                "barcode",
                format!("{s:?} is not a barcode: expected 8, 12, 13 or 14 digits"),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// The short code an outlet is named by in the API, e.g. `downtown`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct OutletCode(String);
text_type!(OutletCode);

impl OutletCode {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim();
        let ok = (1..=32).contains(&s.len())
            && s.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
            && s.starts_with(|c: char| c.is_ascii_lowercase());
        if !ok {
            return Err(DomainError::new(
                "outlet",
                format!(
                    "{s:?} is not an outlet code: 1 to 32 lowercase letters, digits, '-' or '_', starting with a letter"
                ),
            ));
        }
        Ok(Self(s.to_owned()))
    }
}

/// An email address, lower-cased so sign-in does not depend on case.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);
text_type!(Email);

impl Email {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_lowercase();
        let valid = s.len() <= 254
            && s.split_once('@').is_some_and(|(local, domain)| {
                !local.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.')
            })
            && !s.chars().any(char::is_whitespace)
            && s.matches('@').count() == 1;
        if !valid {
            return Err(DomainError::new(
                "email",
                format!("{:?} is not an email address", raw.trim()),
            ));
        }
        Ok(Self(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_is_trimmed_and_keeps_its_case() {
        assert_eq!(Sku::parse("  Tee-Blk-M ").map(String::from), Ok("Tee-Blk-M".to_owned()));
    }

    #[test]
    fn sku_with_inner_space_or_empty_is_refused_with_a_reason() {
        assert!(Sku::parse("TEE BLK").unwrap_err().message.contains("' '"));
        assert!(Sku::parse("   ").unwrap_err().message.contains("empty"));
        assert!(Sku::parse(&"x".repeat(65)).is_err());
    }

    #[test]
    fn barcode_needs_a_gtin_length_of_digits() {
        assert!(Barcode::parse("012345678905").is_ok());
        assert!(Barcode::parse("4006381333931").is_ok());
        assert!(Barcode::parse("12345").is_err());
        assert!(Barcode::parse("01234567890A").is_err());
    }

    #[test]
    fn outlet_codes_are_lowercase_slugs() {
        assert!(OutletCode::parse("downtown").is_ok());
        assert!(OutletCode::parse("Downtown").is_err());
        assert!(OutletCode::parse("9lives").is_err());
        assert!(OutletCode::parse("").is_err());
    }

    #[test]
    fn email_is_lowercased_and_needs_a_domain() {
        assert_eq!(
            Email::parse(" Demo@Tillbridge.TEST ").map(String::from),
            Ok("demo@tillbridge.test".into())
        );
        assert!(Email::parse("demo").is_err());
        assert!(Email::parse("a@b").is_err());
        assert!(Email::parse("a b@c.de").is_err());
        assert!(Email::parse("a@@c.de").is_err());
    }
}
