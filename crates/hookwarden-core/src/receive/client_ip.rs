//! The client's address: the connection's peer, or a forwarded address when the peer
//! is a trusted proxy. And the allowlist it is checked against.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::ConfigError;
use crate::headers::{HeaderKey, Headers};

static X_FORWARDED_FOR: HeaderKey = HeaderKey::from_static("x-forwarded-for");
static FORWARDED: HeaderKey = HeaderKey::from_static("forwarded");

/// Parse CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses.
pub(crate) fn parse_nets<I, T>(items: I) -> Result<Vec<IpNet>, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    items
        .into_iter()
        .map(|item| {
            let s = item.as_ref().trim();
            s.parse::<IpNet>()
                .or_else(|_| s.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| ConfigError::new(format!("{s:?} is not an IP address or CIDR block")))
        })
        .collect()
}

fn contains(nets: &[IpNet], ip: IpAddr) -> bool {
    let ip = canonical(ip);
    nets.iter().any(|n| n.contains(&ip))
}

/// IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`) count as their IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

/// The address the request came from. Forwarding headers are believed only when the
/// connection's peer is a trusted proxy; then the right-most address that is not
/// itself a trusted proxy is the client (`X-Forwarded-For`, else `Forwarded: for=`).
/// A forwarding header that cannot be parsed leaves the peer as the client.
pub(crate) fn client_ip(peer: IpAddr, headers: &dyn Headers, trusted: &[IpNet]) -> IpAddr {
    if !contains(trusted, peer) {
        return canonical(peer);
    }
    let mut client = canonical(peer);
    let mut walk = |addrs: &mut dyn Iterator<Item = Option<IpAddr>>| -> bool {
        let mut any = false;
        for addr in addrs {
            let Some(addr) = addr else { return any };
            any = true;
            client = canonical(addr);
            if !contains(trusted, addr) {
                return true;
            }
        }
        any
    };
    // All values of the header, last hop last; walk from the right.
    let mut values = Vec::new();
    let mut nth = 0;
    while let Some(v) = headers.get(&X_FORWARDED_FOR, nth) {
        values.push(v);
        nth += 1;
    }
    if !values.is_empty() {
        let mut addrs = values
            .iter()
            .rev()
            .flat_map(|v| v.split(|&b| b == b',').rev())
            .map(|item| parse_addr(item.trim_ascii()));
        walk(&mut addrs);
        return client;
    }
    let mut nth = 0;
    let mut values = Vec::new();
    while let Some(v) = headers.get(&FORWARDED, nth) {
        values.push(v);
        nth += 1;
    }
    let mut addrs = values
        .iter()
        .rev()
        .flat_map(|v| v.split(|&b| b == b',').rev())
        .map(|elem| {
            elem.split(|&b| b == b';')
                .filter_map(|pair| {
                    let pair = pair.trim_ascii();
                    let (k, v) = pair.split_at(pair.iter().position(|&b| b == b'=')?);
                    k.eq_ignore_ascii_case(b"for")
                        .then(|| v.get(1..).unwrap_or_default())
                })
                .next()
                .and_then(|v| parse_addr(v.trim_ascii()))
        });
    walk(&mut addrs);
    client
}

/// `1.2.3.4`, `1.2.3.4:80`, `"[2001:db8::1]:80"`, `2001:db8::1`.
fn parse_addr(raw: &[u8]) -> Option<IpAddr> {
    let s = std::str::from_utf8(raw).ok()?.trim_matches('"');
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(ip);
    }
    if let Some(rest) = s.strip_prefix('[') {
        return rest.split(']').next()?.parse().ok();
    }
    s.rsplit_once(':')
        .and_then(|(host, _port)| host.parse().ok())
}

/// Whether `ip` is allowed by `allow` (an empty list allows everyone).
pub(crate) fn allowed(allow: &[IpNet], ip: IpAddr) -> bool {
    allow.is_empty() || contains(allow, ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
        let xff = [("X-Forwarded-For", "203.0.113.9, 10.0.0.7")];
        assert_eq!(client_ip(ip("10.0.0.1"), &xff, &trusted), ip("203.0.113.9"));
        // An untrusted peer cannot claim another address.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &xff, &trusted),
            ip("198.51.100.1")
        );
        // A spoofed left-most entry is ignored: the right-most untrusted one wins.
        let spoof = [("x-forwarded-for", "1.1.1.1, 203.0.113.9")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &spoof, &trusted),
            ip("203.0.113.9")
        );
        let fwd = [("Forwarded", "for=\"[2001:db8::1]:4711\";proto=https")];
        assert_eq!(client_ip(ip("10.0.0.1"), &fwd, &trusted), ip("2001:db8::1"));
        let garbage = [("x-forwarded-for", "not an ip")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &garbage, &trusted),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &xff, &trusted),
            ip("203.0.113.9")
        );
    }

    #[test]
    fn allowlist_parses_cidrs_and_addresses() {
        let allow = parse_nets(["192.0.2.0/24", "2001:db8::1"]).unwrap();
        assert!(allowed(&allow, ip("192.0.2.77")));
        assert!(allowed(&allow, ip("2001:db8::1")));
        assert!(!allowed(&allow, ip("192.0.3.1")));
        assert!(allowed(&[], ip("192.0.3.1")));
        assert!(parse_nets(["300.1.1.1/8"]).is_err());
    }
}
