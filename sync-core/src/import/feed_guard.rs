//! Where an inventory feed may be fetched from. A feed's address is typed
//! by a manager and fetched by the server, so it must not reach what only
//! the server can: loopback, private, link-local, unique-local and other
//! special addresses are refused, whatever a name resolves to, after every
//! redirect, and for the address actually connected to. An operator can
//! allow networks (a feed on the office LAN) with
//! `TILLBRIDGE_FEED_ALLOW_NETWORKS`, e.g. `10.1.0.0/16,192.168.5.7/32`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;

/// The setting that allows networks besides the public internet.
pub const ALLOW_NETWORKS_VAR: &str = "TILLBRIDGE_FEED_ALLOW_NETWORKS";

/// One network in CIDR form.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Network {
    addr: IpAddr,
    prefix: u8,
}

impl Network {
    fn parse(raw: &str) -> Result<Self, String> {
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let addr: IpAddr = addr
            .trim()
            .parse()
            .map_err(|_| format!("{raw:?} is not a network such as 10.0.0.0/8"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("{raw:?}: the prefix must be 0 to {max}"))?,
        };
        Ok(Self { addr, prefix })
    }

    fn contains(self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX.checked_shl(32 - u32::from(self.prefix)).unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX.checked_shl(128 - u32::from(self.prefix)).unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// The networks an operator allows feeds to reach besides public addresses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedNetworks(Vec<Network>);

impl AllowedNetworks {
    /// Comma-separated networks; an empty text allows none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|n| !n.is_empty())
            .map(Network::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// From `TILLBRIDGE_FEED_ALLOW_NETWORKS`; a bad value allows nothing
    /// extra (and says so in the log).
    pub fn from_env() -> Self {
        let raw = std::env::var(ALLOW_NETWORKS_VAR).unwrap_or_default();
        Self::parse(&raw).unwrap_or_else(|e| {
            tracing::error!(setting = ALLOW_NETWORKS_VAR, error = %e, "ignored: feeds reach public addresses only");
            Self::default()
        })
    }

    /// Whether a feed may be fetched from `ip`.
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.0.iter().any(|n| n.contains(ip))
    }
}

/// An IPv4 address written as IPv6 (`::ffff:127.0.0.1`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// An address anyone on the internet could reach: none of loopback,
/// private, link-local (cloud metadata lives there), unique-local,
/// carrier-grade NAT, unspecified, broadcast, multicast, documentation or
/// reserved ranges, nor an IPv6 form that embeds one of those.
pub fn is_public(ip: IpAddr) -> bool {
    match canonical(ip) {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (b == 18 || b == 19))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let segments = ip.segments();
    // NAT64 (64:ff9b::/96) and 6to4 (2002::/16) carry an IPv4 address.
    if segments[0] == 0x64 && segments[1] == 0xff9b && segments[2..6] == [0, 0, 0, 0] {
        let [.., hi, lo] = segments;
        return public_v4(Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo)));
    }
    if segments[0] == 0x2002 {
        return public_v4(Ipv4Addr::from((u32::from(segments[1]) << 16) | u32::from(segments[2])));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (segments[0] & 0xfe00) == 0xfc00
        || (segments[0] & 0xffc0) == 0xfe80
        || (segments[0] & 0xffc0) == 0xfec0
        || (segments[0] == 0x2001 && segments[1] == 0x0db8)
        || ip.to_ipv4().is_some_and(|v4| !public_v4(v4)))
}

/// The refusal, naming the address (never what it answered).
pub fn refusal(host: &str, ip: IpAddr) -> String {
    format!(
        "{host} is {ip}, a private or local address a feed may not reach \
         (an operator can allow its network with {ALLOW_NETWORKS_VAR})"
    )
}

/// The address in `url` when it is written as one (no name to resolve).
pub fn literal_ip(url: &reqwest::Url) -> Option<IpAddr> {
    let host = url.host_str()?;
    host.trim_start_matches('[').trim_end_matches(']').parse().ok()
}

/// Resolves names for the feed client, keeping only permitted addresses:
/// the connection can only go to an address checked here, so a name that
/// answers differently the second time (DNS rebinding) gains nothing.
#[derive(Debug, Clone)]
pub struct GuardedResolver {
    pub allowed: Arc<AllowedNetworks>,
}

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
struct Refused(String);

impl reqwest::dns::Resolve for GuardedResolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let allowed = self.allowed.clone();
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let (kept, refused): (Vec<SocketAddr>, Vec<SocketAddr>) =
                found.into_iter().partition(|a| allowed.permits(a.ip()));
            if kept.is_empty() {
                let reason = match refused.first() {
                    Some(a) => refusal(&host, a.ip()),
                    None => format!("{host} has no address"),
                };
                return Err(Box::new(Refused(reason)) as Box<dyn std::error::Error + Send + Sync>);
            }
            let addrs: reqwest::dns::Addrs = Box::new(kept.into_iter());
            Ok(addrs)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn local_and_special_addresses_are_refused_and_public_ones_pass() {
        let none = AllowedNetworks::default();
        for refused in [
            "127.0.0.1",
            "127.8.9.10",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12:3456::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::1",
        ] {
            assert!(!none.permits(ip(refused)), "{refused} must be refused");
        }
        for public in ["93.184.216.34", "8.8.8.8", "2606:4700:4700::1111", "::ffff:8.8.8.8"] {
            assert!(none.permits(ip(public)), "{public} is public");
        }
    }

    #[test]
    fn an_operator_allows_a_network_and_only_it() {
        let allowed = AllowedNetworks::parse("10.1.0.0/16, 127.0.0.1, fd00::/8").expect("networks");
        assert!(allowed.permits(ip("10.1.200.3")));
        assert!(!allowed.permits(ip("10.2.0.1")));
        assert!(allowed.permits(ip("127.0.0.1")));
        assert!(allowed.permits(ip("::ffff:127.0.0.1")));
        assert!(!allowed.permits(ip("127.0.0.2")));
        assert!(allowed.permits(ip("fd12::1")));
        assert!(!allowed.permits(ip("169.254.169.254")));
        for bad in ["10.0.0.0/33", "not a network", "::1/129"] {
            assert!(AllowedNetworks::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            AllowedNetworks::parse(" , ").expect("empty"),
            AllowedNetworks::default()
        );
    }
}
