//! Who is on the network: named hosts and the links between them.
//!
//! A link joins two hosts and has one [`LinkConfig`] per direction. Hosts get
//! IPv4 addresses in the order they are declared (turmoil's 192.168.0.0/16
//! plan: the first host is 192.168.0.1), so captures are stable.

use std::time::Duration;

use super::SimError;
use crate::net::link::LinkConfig;

/// One link between two hosts, with each direction's model.
#[derive(Clone, Debug, PartialEq)]
pub struct LinkSpec {
    /// One end (a host name).
    pub a: String,
    /// The other end (a host name).
    pub b: String,
    /// The model of the direction a → b.
    pub a_to_b: LinkConfig,
    /// The model of the direction b → a.
    pub b_to_a: LinkConfig,
}

/// Hosts and links.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Topology {
    hosts: Vec<String>,
    links: Vec<LinkSpec>,
}

impl Topology {
    /// An empty topology.
    pub fn new() -> Topology {
        Topology::default()
    }

    /// Two hosts joined by one link: the common server–client case.
    pub fn pair(a: &str, b: &str, a_to_b: LinkConfig, b_to_a: LinkConfig) -> Topology {
        let mut t = Topology::new();
        t.hosts = vec![a.to_owned(), b.to_owned()];
        t.links.push(LinkSpec {
            a: a.to_owned(),
            b: b.to_owned(),
            a_to_b,
            b_to_a,
        });
        t
    }

    /// Adds a host; names are unique, non-empty, `[A-Za-z0-9_-]`.
    pub fn add_host(&mut self, name: &str) -> Result<(), SimError> {
        let valid = !name.is_empty()
            && name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(SimError::BadHostName {
                name: name.to_owned(),
            });
        }
        if self.hosts.iter().any(|h| h == name) {
            return Err(SimError::DuplicateHost {
                name: name.to_owned(),
            });
        }
        self.hosts.push(name.to_owned());
        Ok(())
    }

    /// Adds a link between two declared hosts (at most one per pair).
    pub fn add_link(&mut self, link: LinkSpec) -> Result<(), SimError> {
        for end in [&link.a, &link.b] {
            if !self.hosts.contains(end) {
                return Err(SimError::UnknownHost { name: end.clone() });
            }
        }
        if link.a == link.b {
            return Err(SimError::SelfLink { name: link.a });
        }
        let same =
            |l: &LinkSpec| (l.a == link.a && l.b == link.b) || (l.a == link.b && l.b == link.a);
        if self.links.iter().any(same) {
            return Err(SimError::DuplicateLink {
                a: link.a,
                b: link.b,
            });
        }
        self.links.push(link);
        Ok(())
    }

    /// Host names, in declaration order.
    pub fn hosts(&self) -> &[String] {
        &self.hosts
    }

    /// Links, in declaration order.
    pub fn links(&self) -> &[LinkSpec] {
        &self.links
    }

    /// The directions leaving `host`: (peer, stable link name, model).
    pub fn egress_of<'t>(
        &'t self,
        host: &'t str,
    ) -> impl Iterator<Item = (&'t str, String, &'t LinkConfig)> + 't {
        self.links.iter().filter_map(move |l| {
            if l.a == host {
                Some((l.b.as_str(), format!("{}->{}", l.a, l.b), &l.a_to_b))
            } else if l.b == host {
                Some((l.a.as_str(), format!("{}->{}", l.b, l.a), &l.b_to_a))
            } else {
                None
            }
        })
    }

    /// The largest round-trip bandwidth-delay product, in bytes, of any link
    /// direction of `host`, or `None` when one of them has no rate limit.
    pub fn max_bdp_bytes(&self, host: &str) -> Option<u64> {
        let mut max = 0u64;
        for l in self.links.iter().filter(|l| l.a == host || l.b == host) {
            let rtt: Duration = l.a_to_b.base_delay() + l.b_to_a.base_delay();
            for dir in [&l.a_to_b, &l.b_to_a] {
                let bdp = (dir.bottleneck_bps()? as f64 / 8.0 * rtt.as_secs_f64()).ceil() as u64;
                max = max.max(bdp);
            }
        }
        Some(max)
    }
}
