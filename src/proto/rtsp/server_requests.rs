//! The server's answer to each request (see the state rules in the parent
//! module).

use super::*;

/// What a request asks of the stream's URL.
enum Target {
    /// The stream (aggregate control).
    Aggregate,
    /// One track.
    Track(usize),
    /// Something else.
    Unknown,
}

impl ServerSession {
    pub(super) fn handle_request(&mut self, now: Duration, request: &Request<Vec<u8>>) {
        let method: &str = request.method().into();
        let uri = request
            .request_uri()
            .map(|u| u.to_string())
            .unwrap_or_else(|| "*".into());
        let cseq = request
            .header(&headers::CSEQ)
            .and_then(|v| v.as_str().trim().parse::<u32>().ok());
        self.events.push_back(RtspEvent::Request {
            method: method.to_owned(),
            uri: uri.clone(),
            cseq,
        });
        let Some(cseq) = cseq else {
            return self.respond_status(400, None, &[]);
        };
        if request.version() != Version::V1_0 {
            return self.respond_status(505, Some(cseq), &[]);
        }
        self.last_heard = now;
        let target = self.target(request);
        match request.method() {
            Method::Options => {
                self.respond_status(200, Some(cseq), &[(headers::PUBLIC, PUBLIC.into())])
            }
            Method::Describe => self.describe(cseq, &target, &uri),
            Method::Setup => self.setup(now, cseq, &target, request),
            Method::Play => self.play(now, cseq, &target, request, &uri),
            Method::Pause => self.pause(cseq, &target, request),
            Method::GetParameter => match self.check_session(request, false) {
                Ok(()) => self.respond_status(200, Some(cseq), &self.session_header()),
                Err(status) => self.respond_status(status, Some(cseq), &[]),
            },
            Method::Teardown => self.teardown(cseq, request),
            Method::Extension(_) => self.respond_status(501, Some(cseq), &[]),
            _ => self.respond_status(405, Some(cseq), &[(headers::ALLOW, PUBLIC.into())]),
        }
    }

    fn target(&self, request: &Request<Vec<u8>>) -> Target {
        let Some(url) = request.request_uri() else {
            return Target::Unknown;
        };
        let path = url.path().trim_end_matches('/');
        let base = self.config.path.trim_end_matches('/');
        if path == base {
            return Target::Aggregate;
        }
        let Some(rest) = path.strip_prefix(base).and_then(|r| r.strip_prefix('/')) else {
            return Target::Unknown;
        };
        (0..self.config.tracks.len())
            .find(|i| sdp::control(*i) == rest)
            .map_or(Target::Unknown, Target::Track)
    }

    /// `Ok` when the request's Session header (if any, or required) is
    /// this session's; else the status to answer.
    fn check_session(&self, request: &Request<Vec<u8>>, required: bool) -> Result<(), u16> {
        let given = request.header(&headers::SESSION).map(|v| {
            let v = v.as_str();
            v.split(';').next().unwrap_or("").trim().to_owned()
        });
        match (&self.session_id, given) {
            (Some(id), Some(given)) if *id == given => Ok(()),
            (_, Some(_)) => Err(454),
            (None, None) if required => Err(455),
            (Some(_), None) if required => Err(454),
            _ => Ok(()),
        }
    }

    fn session_header(&self) -> Vec<(headers::HeaderName, String)> {
        self.session_id
            .iter()
            .map(|id| {
                (
                    headers::SESSION,
                    format!("{id};timeout={}", SESSION_TIMEOUT.as_secs()),
                )
            })
            .collect()
    }

    fn describe(&mut self, cseq: u32, target: &Target, uri: &str) {
        if !matches!(target, Target::Aggregate) {
            return self.respond_status(404, Some(cseq), &[]);
        }
        let sdp = match sdp::write_sdp(&self.config.tracks, &self.config.address, self.config.nack)
        {
            Ok(sdp) => sdp,
            Err(_) => return self.respond_status(500, Some(cseq), &[]),
        };
        self.described = true;
        let base = format!("{}/", uri.trim_end_matches('/'));
        let response = Response::builder(Version::V1_0, StatusCode::Ok)
            .header(headers::CSEQ, cseq.to_string())
            .header(headers::CONTENT_BASE, base)
            .header(headers::CONTENT_TYPE, "application/sdp")
            .build(sdp);
        self.send_response(response);
    }

    fn setup(&mut self, now: Duration, cseq: u32, target: &Target, request: &Request<Vec<u8>>) {
        let index = match target {
            Target::Track(i) => *i,
            Target::Aggregate if self.config.tracks.len() == 1 => 0,
            Target::Aggregate => return self.respond_status(459, Some(cseq), &[]),
            Target::Unknown => return self.respond_status(404, Some(cseq), &[]),
        };
        if !self.described {
            return self.respond_status(455, Some(cseq), &[]);
        }
        if let Err(status) = self.check_session(request, false) {
            return self.respond_status(status, Some(cseq), &[]);
        }
        if self.playing {
            return self.respond_status(455, Some(cseq), &[]);
        }
        let Some(transport) = parse_transport(request, index) else {
            return self.respond_status(461, Some(cseq), &[]);
        };
        let pt = sdp::FIRST_PAYLOAD_TYPE + index as u8;
        let rtx_pt = self
            .config
            .nack
            .then(|| sdp::rtx_payload_type(self.config.tracks.len(), index));
        let sender = match TrackSender::new(
            &self.config.tracks[index],
            pt,
            self.config.max_payload,
            &mut self.rng,
            rtx_pt,
        ) {
            Ok(s) => s,
            Err(_) => return self.respond_status(500, Some(cseq), &[]),
        };
        if self.session_id.is_none() {
            self.session_id = Some(format!("{:016X}", self.rng.next_u64()));
        }
        let ssrc = sender.ssrc;
        self.setup.insert(
            index,
            SetupTrack {
                transport,
                sender,
                next_sr: now,
            },
        );
        let reply = match transport {
            TrackTransport::Udp { rtp, rtcp } => {
                let (srtp, srtcp) = self.config.udp_ports;
                format!("RTP/AVP;unicast;client_port={rtp}-{rtcp};server_port={srtp}-{srtcp};ssrc={ssrc:08X}")
            }
            TrackTransport::Tcp { rtp, rtcp } => {
                format!("RTP/AVP/TCP;unicast;interleaved={rtp}-{rtcp};ssrc={ssrc:08X}")
            }
        };
        self.events.push_back(RtspEvent::Setup {
            track: index,
            transport,
        });
        let mut extra = self.session_header();
        extra.push((headers::TRANSPORT, reply));
        self.respond_status(200, Some(cseq), &extra);
    }

    fn play(
        &mut self,
        now: Duration,
        cseq: u32,
        target: &Target,
        request: &Request<Vec<u8>>,
        uri: &str,
    ) {
        if let Err(status) = self.check_session(request, true) {
            return self.respond_status(status, Some(cseq), &[]);
        }
        if self.setup.is_empty() {
            return self.respond_status(455, Some(cseq), &[]);
        }
        match target {
            Target::Aggregate => {}
            Target::Track(i) if self.setup.len() == 1 && self.setup.contains_key(i) => {}
            Target::Track(_) => return self.respond_status(459, Some(cseq), &[]),
            Target::Unknown => return self.respond_status(404, Some(cseq), &[]),
        }
        let base = uri.trim_end_matches('/').to_owned();
        let info: Vec<String> = self
            .setup
            .iter()
            .map(|(i, t)| {
                let url = match target {
                    Target::Aggregate => format!("{base}/{}", sdp::control(*i)),
                    _ => base.clone(),
                };
                format!(
                    "url={url};seq={};rtptime={}",
                    t.sender.seq,
                    t.sender.rtp_ts_at(now)
                )
            })
            .collect();
        if !self.playing {
            for t in self.setup.values_mut() {
                t.sender.wait_keyframe = self
                    .config
                    .tracks
                    .iter()
                    .any(|tr| tr.id == t.sender.track_id && tr.codec.is_video());
                t.next_sr = now + SR_INTERVAL;
            }
        }
        self.playing = true;
        self.events.push_back(RtspEvent::Play);
        let mut extra = self.session_header();
        extra.push((headers::RANGE, "npt=now-".into()));
        extra.push((headers::RTP_INFO, info.join(",")));
        self.respond_status(200, Some(cseq), &extra);
    }

    fn pause(&mut self, cseq: u32, target: &Target, request: &Request<Vec<u8>>) {
        if let Err(status) = self.check_session(request, true) {
            return self.respond_status(status, Some(cseq), &[]);
        }
        if self.setup.is_empty() {
            return self.respond_status(455, Some(cseq), &[]);
        }
        if let Target::Track(_) = target {
            if self.setup.len() > 1 {
                return self.respond_status(459, Some(cseq), &[]);
            }
        }
        self.playing = false;
        self.events.push_back(RtspEvent::Pause);
        self.respond_status(200, Some(cseq), &self.session_header());
    }

    fn teardown(&mut self, cseq: u32, request: &Request<Vec<u8>>) {
        if let Err(status) = self.check_session(request, true) {
            return self.respond_status(status, Some(cseq), &[]);
        }
        self.send_bye("teardown");
        self.playing = false;
        self.setup.clear();
        self.session_id = None;
        self.events.push_back(RtspEvent::Teardown);
        self.respond_status(200, Some(cseq), &[]);
    }

    pub(super) fn respond_status(
        &mut self,
        status: u16,
        cseq: Option<u32>,
        extra: &[(headers::HeaderName, String)],
    ) {
        let mut b = Response::builder(Version::V1_0, StatusCode::from(status));
        if let Some(cseq) = cseq {
            b = b.header(headers::CSEQ, cseq.to_string());
        }
        for (name, value) in extra {
            b = b.header(name.clone(), value.clone());
        }
        self.send_response(b.build(Vec::new()));
    }

    fn send_response(&mut self, response: Response<Vec<u8>>) {
        let mut response = response;
        response.insert_header(headers::SERVER, "streamsim");
        let status = u16::from(response.status());
        let cseq = response
            .header(&headers::CSEQ)
            .and_then(|v| v.as_str().parse::<u32>().ok());
        self.events.push_back(RtspEvent::Response { status, cseq });
        self.out
            .push_back(Transmit::Tcp(write_message(&Message::Response(response))));
    }
}

/// The track transport a SETUP asks for, if one is acceptable: the first
/// RTP/AVP unicast offer over UDP with `client_port`, or over TCP
/// (interleaved channels as asked, else `2i` and `2i + 1`).
pub fn parse_transport(request: &Request<Vec<u8>>, index: usize) -> Option<TrackTransport> {
    let transports = request.typed_header::<Transports>().ok()??;
    transports.iter().find_map(|t| {
        let Transport::Rtp(rtp) = t else { return None };
        if rtp.profile != RtpProfile::Avp || rtp.params.multicast {
            return None;
        }
        match rtp.lower_transport {
            Some(RtpLowerTransport::Tcp) => {
                let (a, b) = rtp.params.interleaved.unwrap_or((2 * index as u8, None));
                Some(TrackTransport::Tcp {
                    rtp: a,
                    rtcp: b.unwrap_or(a.wrapping_add(1)),
                })
            }
            None | Some(RtpLowerTransport::Udp) => {
                let (a, b) = rtp.params.client_port?;
                Some(TrackTransport::Udp {
                    rtp: a,
                    rtcp: b.unwrap_or(a.wrapping_add(1)),
                })
            }
            Some(RtpLowerTransport::Other(_)) => None,
        }
    })
}
