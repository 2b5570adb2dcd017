//! The store's time zone: every time the dashboard shows is in it, with
//! the zone's abbreviation (or offset) beside it, because the same store
//! is CET in winter and CEST in summer.

use chrono::{DateTime, NaiveDateTime, TimeZone, Utc};
use chrono_tz::Tz;

use super::{DomainError, Timestamp};

/// An IANA time zone name such as Europe/Berlin; UTC until an owner
/// chooses one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct StoreZone(Tz);

impl Default for StoreZone {
    fn default() -> Self {
        Self(Tz::UTC)
    }
}

impl StoreZone {
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let name = raw.trim();
        if name.is_empty() {
            return Err(DomainError::new(
                "time_zone",
                "choose a time zone, for example Europe/Berlin or UTC",
            ));
        }
        name.parse::<Tz>().map(Self).map_err(|_| {
            DomainError::new(
                "time_zone",
                format!("{name:?} is not a time zone name; use a name from the list, for example Europe/Berlin"),
            )
        })
    }

    /// Its IANA name, as stored.
    pub fn name(self) -> &'static str {
        self.0.name()
    }

    /// Every zone a store may choose, by name.
    pub fn names() -> impl Iterator<Item = &'static str> {
        chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name())
    }

    /// `t` as the dashboard shows it: 2026-12-07 23:40:12 CET.
    pub fn show(self, t: Timestamp) -> String {
        self.local(t).format("%Y-%m-%d %H:%M:%S %Z").to_string()
    }

    /// The zone's abbreviation now, e.g. CET (or an offset such as +04
    /// where the zone has no abbreviation).
    pub fn abbreviation_now(self) -> String {
        self.local(Timestamp::now()).format("%Z").to_string()
    }

    /// The local start of the hour a chart bar counts, from its UTC hour
    /// (`2026-12-07T14`, as the Sync History groups events): 15:00 CET.
    /// The text as it came when it is not such an hour.
    pub fn show_hour(self, utc_hour: &str) -> String {
        match NaiveDateTime::parse_from_str(&format!("{utc_hour}:00"), "%Y-%m-%dT%H:%M") {
            Ok(naive) => {
                let local = Utc.from_utc_datetime(&naive).with_timezone(&self.0);
                local.format("%H:%M %Z").to_string()
            }
            Err(_) => utc_hour.to_owned(),
        }
    }

    fn local(self, t: Timestamp) -> DateTime<Tz> {
        t.as_datetime().with_timezone(&self.0)
    }
}

impl std::fmt::Display for StoreZone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(rfc3339: &str) -> Timestamp {
        Timestamp::from(
            DateTime::parse_from_rfc3339(rfc3339)
                .expect("a time")
                .with_timezone(&Utc),
        )
    }

    #[test]
    fn a_time_is_shown_in_the_zone_with_its_abbreviation_for_that_date() {
        let berlin = StoreZone::parse(" Europe/Berlin ").expect("a zone");
        assert_eq!(berlin.show(at("2026-12-07T22:40:12Z")), "2026-12-07 23:40:12 CET");
        assert_eq!(berlin.show(at("2026-07-01T10:00:00Z")), "2026-07-01 12:00:00 CEST");
        assert_eq!(
            StoreZone::default().show(at("2026-12-07T22:40:12Z")),
            "2026-12-07 22:40:12 UTC"
        );
    }

    #[test]
    fn a_chart_hour_starts_at_its_local_time() {
        let kolkata = StoreZone::parse("Asia/Kolkata").expect("a zone");
        assert_eq!(kolkata.show_hour("2026-12-07T14"), "19:30 IST");
        assert_eq!(kolkata.show_hour("not an hour"), "not an hour");
    }

    #[test]
    fn only_iana_names_are_zones() {
        assert_eq!(StoreZone::parse("UTC").map(StoreZone::name), Ok("UTC"));
        assert!(StoreZone::parse("Mars/Olympus").is_err());
        assert!(StoreZone::parse("").is_err());
        assert!(StoreZone::names().any(|n| n == "Pacific/Auckland"));
    }
}
