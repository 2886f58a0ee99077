//! Names and ports of sessions that do not give them, and the check that
//! no two sessions share either.
//!
//! Invariants: names written in the file are taken before any default is
//! handed out; explicit ports are taken before defaults, and a default
//! moves up by its protocol's step until it is free.

use super::Draft;
use crate::scenario::diag::Span;
use crate::scenario::reader::Ctx;

/// Gives unnamed sessions their default names and reports duplicates.
pub(super) fn settle_names(cx: &mut Ctx, drafts: &mut [(usize, Draft)]) {
    let mut taken: Vec<(String, Span)> = Vec::new();
    for (_, d) in drafts.iter() {
        let Some(name) = &d.name else { continue };
        if let Some((_, first)) = taken.iter().find(|(n, _)| *n == name.value) {
            let line = cx.line(*first);
            cx.error(
                name.span,
                format!(
                    "duplicate session name {:?} (first on line {line})",
                    name.value
                ),
            );
        } else {
            taken.push((name.value.clone(), name.span));
        }
    }
    for (_, d) in drafts.iter_mut() {
        d.settled.0 = match &d.name {
            Some(name) => name.value.clone(),
            None => {
                let base = d.protocol.name;
                let name = (1..)
                    .map(|n| {
                        if n == 1 {
                            base.to_owned()
                        } else {
                            format!("{base}-{n}")
                        }
                    })
                    .find(|n| !taken.iter().any(|(t, _)| t == n))
                    .unwrap_or_default();
                taken.push((name.clone(), d.header));
                name
            }
        };
    }
}

/// Gives sessions without `port` their default port and reports shared ports.
pub(super) fn settle_ports(cx: &mut Ctx, drafts: &mut [(usize, Draft)]) {
    let mut taken: Vec<(u16, String, Span)> = Vec::new();
    for (_, d) in drafts.iter_mut() {
        let Some(port) = d.port else { continue };
        if let Some((_, owner, first)) = taken.iter().find(|(p, _, _)| *p == port.value) {
            let line = cx.line(*first);
            cx.error(
                port.span,
                format!(
                    "port {} is already used by session {owner:?} (line {line})",
                    port.value
                ),
            );
        } else {
            taken.push((port.value, d.settled.0.clone(), port.span));
        }
        d.settled.1 = port.value;
    }
    for (index, d) in drafts.iter_mut() {
        if d.port.is_some() {
            continue;
        }
        let (base, step) = d.protocol.port;
        let (base, step) = (usize::from(base), usize::from(step.max(1)));
        let mut port = base + step * *index;
        while taken.iter().any(|(p, _, _)| usize::from(*p) == port) {
            port += step;
        }
        match u16::try_from(port) {
            Ok(p) => {
                d.settled.1 = p;
                taken.push((p, d.settled.0.clone(), d.header));
            }
            Err(_) => cx.error(
                d.header,
                "no free port is left for this session; set `port`",
            ),
        }
    }
}
