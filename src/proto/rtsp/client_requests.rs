//! The client's requests and what each answer leads to.

use super::*;

impl ClientSession {
    pub(super) fn send(
        &mut self,
        method: Method,
        url: &str,
        extra: &[(headers::HeaderName, String)],
    ) {
        self.cseq += 1;
        let Ok(parsed) = Url::parse(url) else {
            return self.fail(format!("{url:?} is not a URL"));
        };
        let mut b = Request::builder(method.clone(), Version::V1_0)
            .request_uri(parsed)
            .header(headers::CSEQ, self.cseq.to_string())
            .header(headers::USER_AGENT, "streamsim");
        if let Some(session) = &self.session {
            b = b.header(headers::SESSION, session.clone());
        }
        for (name, value) in extra {
            b = b.header(name.clone(), value.clone());
        }
        let request = b.build(Vec::new());
        let name: &str = (&method).into();
        self.events.push_back(RtspEvent::Request {
            method: name.to_owned(),
            uri: url.to_owned(),
            cseq: Some(self.cseq),
        });
        self.out
            .push_back(ClientTransmit::Tcp(write_message(&Message::Request(
                request,
            ))));
    }

    pub(super) fn handle_response(&mut self, now: Duration, r: &Response<Vec<u8>>) {
        let status = u16::from(r.status());
        let cseq = r
            .header(&headers::CSEQ)
            .and_then(|v| v.as_str().trim().parse::<u32>().ok());
        self.events.push_back(RtspEvent::Response { status, cseq });
        if self.state == State::Playing {
            // Keep-alive answers (some servers refuse GET_PARAMETER).
            return;
        }
        if cseq != Some(self.cseq) {
            return self.fail(format!(
                "answer with CSeq {cseq:?} to request {}",
                self.cseq
            ));
        }
        if status != 200 {
            return self.fail(format!(
                "{:?} answered {status} {}",
                self.state,
                r.reason_phrase()
            ));
        }
        match self.state {
            State::Options => {
                let url = self.config.url.clone();
                self.state = State::Describe;
                self.send(
                    Method::Describe,
                    &url,
                    &[(headers::ACCEPT, "application/sdp".into())],
                );
            }
            State::Describe => self.described(r),
            State::Setup(i) => self.set_up(i, r),
            State::Play => {
                self.state = State::Playing;
                self.next_rr = Some(now + RR_INTERVAL);
                self.next_keepalive = Some(now + self.keepalive);
                // RTP-Info is read for the log only: timestamps are taken
                // from the packets themselves.
                let _ = r.typed_header::<RtpInfos>();
                self.events.push_back(RtspEvent::Play);
            }
            State::Teardown => {
                self.state = State::Done;
                self.events.push_back(RtspEvent::Teardown);
            }
            State::Ports | State::Playing | State::Done => {}
        }
    }

    fn described(&mut self, r: &Response<Vec<u8>>) {
        if let Some(base) = r.header(&headers::CONTENT_BASE) {
            self.base = base.as_str().trim().trim_end_matches('/').to_owned();
        }
        let medias = match parse_sdp(r.body()) {
            Ok(m) if !m.is_empty() => m,
            Ok(_) => return self.fail("the description has no H.264 or AAC track".into()),
            Err(e) => return self.fail(e.to_string()),
        };
        for m in medias {
            self.output.push_back(ClientOutput::Track(m.track.clone()));
            self.tracks.push(TrackReceiver::new(
                m,
                self.config.jitter_buffer,
                self.config.nack,
            ));
        }
        let n = self.tracks.len();
        self.sr = vec![None; n];
        self.server_ports = vec![None; n];
        self.channels = (0..n).map(|i| (2 * i as u8, 2 * i as u8 + 1)).collect();
        match self.config.transport {
            ClientTransport::Udp => self.state = State::Ports,
            ClientTransport::Tcp => self.setup(0),
        }
    }

    pub(super) fn setup(&mut self, i: usize) {
        self.state = State::Setup(i);
        let control = &self.tracks[i].media.control;
        let url = if control.starts_with("rtsp://") {
            control.clone()
        } else if control.is_empty() || control == "*" {
            self.base.clone()
        } else {
            format!("{}/{control}", self.base)
        };
        let transport = match self.config.transport {
            ClientTransport::Udp => {
                let (rtp, rtcp) = self.ports[i];
                format!("RTP/AVP;unicast;client_port={rtp}-{rtcp}")
            }
            ClientTransport::Tcp => {
                let (rtp, rtcp) = self.channels[i];
                format!("RTP/AVP/TCP;unicast;interleaved={rtp}-{rtcp}")
            }
        };
        self.send(Method::Setup, &url, &[(headers::TRANSPORT, transport)]);
    }

    fn set_up(&mut self, i: usize, r: &Response<Vec<u8>>) {
        if let Some(session) = r.header(&headers::SESSION) {
            let mut parts = session.as_str().split(';');
            self.session = parts.next().map(|s| s.trim().to_owned());
            let timeout = parts
                .filter_map(|p| p.trim().strip_prefix("timeout="))
                .find_map(|t| t.parse::<u64>().ok())
                .unwrap_or(60);
            self.keepalive = Duration::from_secs(timeout.clamp(2, 3600) / 2);
        }
        if self.session.is_none() {
            return self.fail("SETUP answered without a Session".into());
        }
        if let Ok(Some(transports)) = r.typed_header::<Transports>() {
            if let Some(Transport::Rtp(t)) = transports.first() {
                if let Some((a, b)) = t.params.server_port {
                    self.server_ports[i] = Some((a, b.unwrap_or(a.wrapping_add(1))));
                }
                if t.lower_transport == Some(RtpLowerTransport::Tcp) {
                    if let Some((a, b)) = t.params.interleaved {
                        self.channels[i] = (a, b.unwrap_or(a.wrapping_add(1)));
                    }
                }
            }
        }
        if i + 1 < self.tracks.len() {
            self.setup(i + 1);
        } else {
            self.state = State::Play;
            let url = self.base.clone();
            self.send(Method::Play, &url, &[(headers::RANGE, "npt=0.000-".into())]);
        }
    }
}
