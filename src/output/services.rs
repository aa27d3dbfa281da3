//! Port → service name, as ss prints it without `-n`: the first `/etc/services` entry for the
//! port and protocol (what `getservbyport` returns), except for ports inside the ephemeral
//! range (`net.ipv4.ip_local_port_range`), which ss never names because the file is full of
//! historical names there. Port 0 is `*`. Host names are never resolved.
//!
//! Parsed once, lazily, and only when a name is actually needed (never with `-n`).

use std::collections::HashMap;

use crate::collect::{Host, counters};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Proto {
    Tcp,
    Udp,
}

#[derive(Debug, Default)]
pub struct Services {
    names: HashMap<(u16, Proto), Box<str>>,
    /// Inclusive ephemeral port range; ports inside are printed as numbers.
    ephemeral: (u16, u16),
}

impl Services {
    /// [`Services::load_from`] this machine.
    pub fn load() -> Services {
        Services::load_from(&Host::current())
    }

    /// Read `host`'s `/etc/services` and `net.ipv4.ip_local_port_range` (the ephemeral range
    /// is per network namespace). A missing file means no names (ports print as numbers), as
    /// with ss.
    pub fn load_from(host: &Host) -> Services {
        let text = host.services_text().unwrap_or_default();
        let mut buf = Vec::new();
        let range = host
            .read_sysctl("ipv4/ip_local_port_range", &mut buf)
            .ok()
            .and_then(|()| counters::parse_port_range(&buf));
        Services::parse(&text, range)
    }

    /// Every port `host`'s /etc/services names, ephemeral ones too: what getservbyport (and
    /// so netstat) answers.
    pub fn every_port(host: &Host) -> Services {
        let text = host.services_text().unwrap_or_default();
        let mut s = Services::parse(&text, None);
        // An empty range: no port is left unnamed.
        s.ephemeral = (1, 0);
        s
    }

    /// Build from the text of a services file and an ephemeral range (ss falls back to
    /// 1024–4999 when the sysctl cannot be read).
    pub fn parse(text: &str, ephemeral: Option<(u16, u16)>) -> Services {
        let mut names = HashMap::new();
        for line in text.lines() {
            let line = line.split('#').next().unwrap_or("");
            let mut words = line.split_whitespace();
            let (Some(name), Some(port_proto)) = (words.next(), words.next()) else {
                continue;
            };
            let Some((port, proto)) = port_proto.split_once('/') else {
                continue;
            };
            let Ok(port) = port.parse::<u16>() else {
                continue;
            };
            let proto = match proto {
                "tcp" => Proto::Tcp,
                "udp" => Proto::Udp,
                _ => continue,
            };
            // getservbyport returns the first match in file order.
            names.entry((port, proto)).or_insert_with(|| name.into());
        }
        Services {
            names,
            ephemeral: ephemeral.unwrap_or((1024, 4999)),
        }
    }

    /// The name ss would print for this port, if any.
    pub fn name(&self, port: u16, proto: Proto) -> Option<&str> {
        if port >= self.ephemeral.0 && port <= self.ephemeral.1 {
            return None;
        }
        self.names.get(&(port, proto)).map(|s| &**s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "\
# comment line
tcpmux\t\t1/tcp\t\t\t\t# TCP port service multiplexer
ssh\t\t22/tcp\t\t\t\t# SSH Remote Login Protocol
http\t\t80/tcp\t\twww\t\t# WorldWideWeb HTTP
domain\t\t53/tcp
domain\t\t53/udp
http-alt\t8080/tcp\twebcache
second-http\t80/tcp
socks\t\t1080/tcp
garbage line
bad\t\tx/tcp
";

    #[test]
    fn first_entry_per_port_and_proto() {
        let s = Services::parse(SAMPLE, Some((32768, 60999)));
        assert_eq!(s.name(22, Proto::Tcp), Some("ssh"));
        assert_eq!(s.name(80, Proto::Tcp), Some("http"));
        assert_eq!(s.name(22, Proto::Udp), None);
        assert_eq!(s.name(53, Proto::Udp), Some("domain"));
        assert_eq!(s.name(8080, Proto::Tcp), Some("http-alt"));
        assert_eq!(s.name(9999, Proto::Tcp), None);
    }

    #[test]
    fn ephemeral_ports_stay_numeric() {
        let s = Services::parse(SAMPLE, None);
        // ss's fallback range 1024-4999 hides "socks".
        assert_eq!(s.name(1080, Proto::Tcp), None);
        let s = Services::parse(SAMPLE, Some((32768, 60999)));
        assert_eq!(s.name(1080, Proto::Tcp), Some("socks"));
    }
}
