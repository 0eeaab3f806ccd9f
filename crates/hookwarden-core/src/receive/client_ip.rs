//! The client's address: the connection's peer, or a forwarded address when the peer
//! is a trusted proxy. And the allowlist it is checked against.

use std::net::IpAddr;

use ipnet::IpNet;

use crate::error::ConfigError;
use crate::headers::{HeaderKey, Headers};

static X_FORWARDED_FOR: HeaderKey = HeaderKey::from_static("x-forwarded-for");
static FORWARDED: HeaderKey = HeaderKey::from_static("forwarded");

/// Which forwarding header your trusted proxies write, the only one believed.
///
/// Read just one: a proxy that writes `Forwarded` passes a client's own
/// `X-Forwarded-For` through untouched (and the other way round), so believing the
/// header it does not write would let the client choose its address.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ForwardedHeader {
    /// `X-Forwarded-For: client, proxy1, ...` (nginx's `$proxy_add_x_forwarded_for`,
    /// HAProxy, AWS and Google load balancers, Cloudflare). The default.
    #[default]
    XForwardedFor,
    /// `Forwarded: for=client, for=proxy1` (RFC 7239).
    Forwarded,
}

/// Parse CIDR blocks (`10.0.0.0/8`, `2001:db8::/32`) or single addresses. Strict:
/// no host bits after the prefix (`10.0.0.1/8` is a typo for `/32` or for
/// `10.0.0.0/8`, not something to guess), no leading zeros (`010.0.0.1` reads as
/// octal to some tools). IPv4-mapped IPv6 blocks (`::ffff:192.0.2.0/120`) become
/// their IPv4 block, as client addresses do.
pub(crate) fn parse_nets<I, T>(items: I) -> Result<Vec<IpNet>, ConfigError>
where
    I: IntoIterator<Item = T>,
    T: AsRef<str>,
{
    items
        .into_iter()
        .map(|item| parse_net(item.as_ref().trim()))
        .collect()
}

fn parse_net(s: &str) -> Result<IpNet, ConfigError> {
    let invalid = || ConfigError::new(format!("{s:?} is not an IP address or CIDR block"));
    let (addr, prefix) = match s.split_once('/') {
        Some((addr, prefix)) => (addr, Some(prefix)),
        None => (s, None),
    };
    let leading_zero = |part: &str| part.len() > 1 && part.starts_with('0');
    if prefix.is_some_and(|p| leading_zero(p) || p.starts_with('+'))
        || (!addr.contains(':') && addr.split('.').any(leading_zero))
    {
        return Err(invalid());
    }
    let net = match prefix {
        Some(_) => s.parse::<IpNet>().map_err(|_| invalid())?,
        None => IpNet::from(addr.parse::<IpAddr>().map_err(|_| invalid())?),
    };
    if net.addr() != net.network() {
        return Err(ConfigError::new(format!(
            "{s:?} has bits set after its /{} prefix: write {}/{0}",
            net.prefix_len(),
            net.network()
        )));
    }
    Ok(match net {
        IpNet::V6(v6) if v6.prefix_len() >= 96 => match v6.network().to_ipv4_mapped() {
            Some(v4) => ipnet::Ipv4Net::new(v4, v6.prefix_len() - 96)
                .map(IpNet::V4)
                .map_err(|_| invalid())?,
            None => net,
        },
        _ => net,
    })
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

/// The address the request came from. The forwarding header `which` is believed
/// only when the connection's peer is a trusted proxy; then the right-most address
/// that is not itself a trusted proxy is the client. An entry that cannot be parsed
/// on the way leaves the peer as the client (which the allowlist then judges).
pub(crate) fn client_ip(
    peer: IpAddr,
    headers: &dyn Headers,
    trusted: &[IpNet],
    which: ForwardedHeader,
) -> IpAddr {
    let peer = canonical(peer);
    if !contains(trusted, peer) {
        return peer;
    }
    let key = match which {
        ForwardedHeader::XForwardedFor => &X_FORWARDED_FOR,
        ForwardedHeader::Forwarded => &FORWARDED,
    };
    // Every value of the header, last hop last: walk them from the right.
    let mut nth = 0;
    let mut values = Vec::new();
    while let Some(v) = headers.get(key, nth) {
        values.push(v);
        nth += 1;
    }
    let mut client = peer;
    // `Some(answer)` once a hop settles it: an untrusted address, or the peer when a
    // hop does not parse.
    let mut hop = |addr: Option<IpAddr>| {
        let Some(addr) = addr else {
            return Some(peer);
        };
        client = canonical(addr);
        (!contains(trusted, client)).then_some(client)
    };
    for value in values.iter().rev() {
        let settled = match which {
            ForwardedHeader::XForwardedFor => value
                .rsplit(|&b| b == b',')
                .find_map(|entry| hop(parse_addr(entry.trim_ascii()))),
            // `Forwarded` values may quote `,` (RFC 7239): split outside quoted
            // strings only.
            ForwardedHeader::Forwarded => rsplit_unquoted(value, b',')
                .into_iter()
                .find_map(|element| hop(forwarded_for(element))),
        };
        if let Some(settled) = settled {
            return settled;
        }
    }
    client
}

/// The parts of `raw` between `separator`s outside quoted strings (`"..."`, where
/// `\` escapes the next byte), right-most first. Read from the right, so that what a
/// client wrote before a proxy's element (an unclosed quote) cannot change how that
/// element is read. A part with a quote that does not close is left to its reader
/// to refuse.
fn rsplit_unquoted(raw: &[u8], separator: u8) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let (mut end, mut quoted) = (raw.len(), false);
    for i in (0..raw.len()).rev() {
        let b = raw[i];
        if b == b'"' {
            // Inside a quoted string, a quote after an odd number of backslashes is
            // escaped; any other quote opens or closes one.
            let backslashes = raw[..i].iter().rev().take_while(|&&c| c == b'\\').count();
            if !quoted || backslashes % 2 == 0 {
                quoted = !quoted;
            }
        } else if !quoted && b == separator {
            parts.push(&raw[i + 1..end]);
            end = i;
        }
    }
    parts.push(&raw[..end]);
    parts
}

/// The `for=` parameter of one `Forwarded` element (`for=192.0.2.1;proto=https`).
/// `None` when the element is malformed (a value that is neither a token nor one
/// whole quoted string), has no `for=`, or has more than one (RFC 7239 allows one).
fn forwarded_for(element: &[u8]) -> Option<IpAddr> {
    let mut found = None;
    for pair in rsplit_unquoted(element, b';') {
        let pair = pair.trim_ascii();
        if pair.is_empty() {
            continue;
        }
        let eq = pair.iter().position(|&b| b == b'=')?;
        let (name, value) = (&pair[..eq], &pair[eq + 1..]);
        if name.is_empty() || !name.iter().all(|&b| is_tchar(b)) {
            return None;
        }
        let value = if let Some(quoted) = value.strip_prefix(b"\"") {
            // One whole quoted string: its first unescaped quote is the last byte.
            let mut escaped = false;
            let close = quoted.iter().position(|&b| {
                let close = !escaped && b == b'"';
                escaped = !escaped && b == b'\\';
                close
            })?;
            if close + 1 != quoted.len() {
                return None;
            }
            &quoted[..close]
        } else if !value.is_empty()
            // A token (with `:` and `[]` too: some proxies write addresses unquoted).
            && value.iter().all(|&b| is_tchar(b) || matches!(b, b':' | b'[' | b']'))
        {
            value
        } else {
            return None;
        };
        if name.eq_ignore_ascii_case(b"for") {
            if found.is_some() {
                return None;
            }
            found = Some(value);
        }
    }
    parse_addr(found?)
}

/// An RFC 9110 token character.
fn is_tchar(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
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

    const XFF: ForwardedHeader = ForwardedHeader::XForwardedFor;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_the_configured_forwarding_header_is_believed() {
        let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
        // The proxy writes `Forwarded`; the client sent its own `X-Forwarded-For`.
        let both = [
            ("X-Forwarded-For", "192.0.2.10"),
            ("Forwarded", "for=198.51.100.66"),
        ];
        let fwd = ForwardedHeader::Forwarded;
        assert_eq!(
            client_ip(ip("10.0.0.1"), &both, &trusted, fwd),
            ip("198.51.100.66")
        );
        assert_eq!(
            client_ip(ip("10.0.0.1"), &both, &trusted, XFF),
            ip("192.0.2.10")
        );
        // The configured header absent: the peer.
        let only_fwd = [("Forwarded", "for=198.51.100.66")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &only_fwd, &trusted, XFF),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn an_unparseable_hop_leaves_the_peer_as_the_client() {
        let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
        // Not the trusted hop after the junk (10.0.0.9): the peer, as documented.
        let junk = [("X-Forwarded-For", "junk, 10.0.0.9")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &junk, &trusted, XFF),
            ip("10.0.0.1")
        );
        let junk = [("Forwarded", "for=junk, for=10.0.0.9")];
        let fwd = ForwardedHeader::Forwarded;
        assert_eq!(
            client_ip(ip("10.0.0.1"), &junk, &trusted, fwd),
            ip("10.0.0.1")
        );
    }

    #[test]
    fn forwarded_quoted_strings_do_not_split_elements_or_pairs() {
        // RFC 7239 values may be quoted strings, and `,` and `;` inside one are not
        // separators. `host` is the client's own `Host` header (RFC 7239 section 5.3,
        // and `a,for=192.0.2.1` is a valid RFC 3986 reg-name), so a trusted proxy that
        // writes it quoted must not let the client inject a `for=`.
        let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
        let fwd = ForwardedHeader::Forwarded;
        for written in [
            "for=203.0.113.9;host=\"a,for=192.0.2.1\"",
            "for=203.0.113.9;host=\"a, for=192.0.2.1\";proto=https",
            "proto=https;host=\"a;for=192.0.2.1\";for=203.0.113.9",
            "host=\"a\\\";for=192.0.2.1\";for=203.0.113.9",
        ] {
            let headers = [("Forwarded", written)];
            assert_eq!(
                client_ip(ip("10.0.0.1"), &headers, &trusted, fwd),
                ip("203.0.113.9"),
                "{written}"
            );
        }
        // Malformed or ambiguous elements are unparseable hops: the peer.
        for junk in [
            "for=\"192.0.2.1",
            "for=192.0.2.1\"",
            // A parameter at most once per element (RFC 7239 section 4).
            "for=192.0.2.1;for=203.0.113.9",
        ] {
            let headers = [("Forwarded", junk)];
            assert_eq!(
                client_ip(ip("10.0.0.1"), &headers, &trusted, fwd),
                ip("10.0.0.1"),
                "{junk}"
            );
        }
        // Still read: quoted IPv6 with a port, upper-case names, spaces, ports and
        // quotes on IPv4, several lines, an IPv4-mapped address.
        for (written, client) in [
            ("for=\"[2001:db8::1]:4711\";proto=https", "2001:db8::1"),
            ("FOR=192.0.2.1 ; Proto=https", "192.0.2.1"),
            ("for=\"192.0.2.1:80\", for=10.0.0.3", "192.0.2.1"),
            ("for=\"[::ffff:192.0.2.1]:80\"", "192.0.2.1"),
            ("for=192.0.2.1;host=\"example.com:8443\"", "192.0.2.1"),
            // The client's own part, before the element its proxy appended to the
            // line, has a quote that does not close: the proxy's element still reads.
            ("for=192.0.2.1;x=\", for=203.0.113.9", "203.0.113.9"),
            (
                "for=192.0.2.1;x=\", for=\"[2001:db8::5]:1234\"",
                "2001:db8::5",
            ),
        ] {
            let headers = [("Forwarded", written)];
            assert_eq!(
                client_ip(ip("10.0.0.1"), &headers, &trusted, fwd),
                ip(client),
                "{written}"
            );
        }
        let lines = [
            ("Forwarded", "for=198.51.100.1;x=\"unterminated"),
            ("Forwarded", "for=192.0.2.1"),
        ];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &lines, &trusted, fwd),
            ip("192.0.2.1")
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(5_000))]

        /// A trusted proxy appends its element (`for=` the connection it saw, and the
        /// client's `Host` as a quoted, escaped `host=`) to the client's own
        /// `Forwarded` line, or writes a line of its own; a second trusted proxy may
        /// follow. Whatever the client wrote, the client is the address the proxy
        /// saw.
        #[test]
        fn a_client_cannot_choose_its_forwarded_address(
            prefix in proptest::collection::vec(0..PIECES.len(), 0..12),
            host in proptest::collection::vec(0..PIECES.len(), 0..12),
            real in 0..REAL.len(),
            host_first in proptest::bool::ANY,
            same_line in proptest::bool::ANY,
            second_proxy in proptest::bool::ANY,
        ) {
            let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
            let prefix: String = prefix.iter().map(|&i| PIECES[i]).collect();
            let host: String = host.iter().map(|&i| PIECES[i]).collect();
            let host = format!("host=\"{}\"", host.replace('\\', "\\\\").replace('"', "\\\""));
            let (written, real) = REAL[real];
            let element = if host_first {
                format!("proto=https;{host};for={written}")
            } else {
                format!("for={written};{host};proto=https")
            };
            let mut headers = Vec::new();
            if same_line {
                headers.push(("Forwarded", format!("{prefix}, {element}")));
            } else {
                headers.push(("Forwarded", prefix));
                headers.push(("Forwarded", element));
            }
            if second_proxy {
                headers.push(("Forwarded", "for=10.0.0.2".to_owned()));
            }
            let got = client_ip(ip("10.0.0.1"), &headers, &trusted, ForwardedHeader::Forwarded);
            proptest::prop_assert_eq!(got, ip(real), "{:?}", headers);
        }
    }

    const PIECES: &[&str] = &[
        "for=",
        "192.0.2.1",
        "\"",
        ",",
        ";",
        "\\",
        " ",
        "\t",
        "[",
        "]",
        ":",
        "=",
        "x",
        "2001:db8::5",
        "_h",
        "unknown",
        "FOR=",
        "\"[2001:db8::5]:1\"",
    ];

    const REAL: &[(&str, &str)] = &[
        ("203.0.113.9", "203.0.113.9"),
        ("\"203.0.113.9:4711\"", "203.0.113.9"),
        ("\"[2001:db8::9]\"", "2001:db8::9"),
        ("\"[2001:db8::9]:4711\"", "2001:db8::9"),
    ];

    #[test]
    fn cidrs_are_parsed_strictly() {
        for bad in [
            "10.0.0.1/8",
            "010.0.0.0/8",
            "10.0.0.0/08",
            "010.0.0.1",
            "2001:db8::1/32",
            "10.0.0.0/+8",
            "10.0.0.0/33",
            "",
        ] {
            let err = parse_nets([bad]).expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
        let err = parse_nets(["10.0.0.1/8"]).unwrap_err();
        assert!(err.to_string().contains("write 10.0.0.0/8"), "{err}");
        // IPv4-mapped blocks match IPv4 clients (which are canonicalised too).
        let mapped = parse_nets(["::ffff:192.0.2.0/120", "::ffff:198.51.100.7"]).unwrap();
        assert_eq!(
            mapped,
            parse_nets(["192.0.2.0/24", "198.51.100.7/32"]).unwrap()
        );
        assert!(allowed(&mapped, ip("192.0.2.9")));
        assert!(allowed(&mapped, ip("::ffff:198.51.100.7")));
        assert!(parse_nets(["0.0.0.0/0", "::/0", "10.0.0.0", " 2001:db8::/32 "]).is_ok());
    }

    #[test]
    fn forwarded_headers_count_only_from_trusted_proxies() {
        let trusted = parse_nets(["10.0.0.0/8"]).unwrap();
        let xff = [("X-Forwarded-For", "203.0.113.9, 10.0.0.7")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &xff, &trusted, XFF),
            ip("203.0.113.9")
        );
        // An untrusted peer cannot claim another address.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &xff, &trusted, XFF),
            ip("198.51.100.1")
        );
        // A spoofed left-most entry is ignored: the right-most untrusted one wins.
        let spoof = [("x-forwarded-for", "1.1.1.1, 203.0.113.9")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &spoof, &trusted, XFF),
            ip("203.0.113.9")
        );
        let fwd = [("Forwarded", "for=\"[2001:db8::1]:4711\";proto=https")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &fwd, &trusted, ForwardedHeader::Forwarded),
            ip("2001:db8::1")
        );
        let garbage = [("x-forwarded-for", "not an ip")];
        assert_eq!(
            client_ip(ip("10.0.0.1"), &garbage, &trusted, XFF),
            ip("10.0.0.1")
        );
        assert_eq!(
            client_ip(ip("::ffff:10.0.0.1"), &xff, &trusted, XFF),
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
