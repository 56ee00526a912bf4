//! `ctigw replay --dialect asterisk`: a capture through the AMI codec and a learning
//! normaliser, as the live link would see it.

use super::{DeviceMap, Mapper};
use crate::model::PbxEvent;
use crate::pbx::contract::Replayer;
use bytes::BytesMut;
use ctigw_codecs::ami::{AmiCodec, BANNER_PREFIX};
use tokio_util::codec::Decoder;

/// `ctigw replay --dialect asterisk`: the AMI codec and a learning normaliser. A stream that
/// starts with the banner is read as a client reads it; one without (an excerpt) as events only.
pub struct AmiReplay {
    codec: Option<AmiCodec>,
    buf: BytesMut,
    pub normaliser: Mapper,
}

impl Default for AmiReplay {
    fn default() -> Self {
        AmiReplay {
            codec: None,
            buf: BytesMut::new(),
            normaliser: Mapper::new(DeviceMap::learning()),
        }
    }
}

impl AmiReplay {
    pub fn new() -> Self {
        Self::default()
    }

    fn drain(&mut self, eof: bool) -> Vec<Result<PbxEvent, String>> {
        let mut out = Vec::new();
        let Some(codec) = self.codec.as_mut() else {
            return out;
        };
        loop {
            let item = if eof {
                codec.decode_eof(&mut self.buf)
            } else {
                codec.decode(&mut self.buf)
            };
            match item {
                Ok(Some(Ok(m))) => out.extend(self.normaliser.on_message(&m).into_iter().map(Ok)),
                Ok(Some(Err(e))) => out.push(Err(e.to_string())),
                Ok(None) => break,
                Err(e) => {
                    out.push(Err(e.to_string()));
                    break;
                }
            }
        }
        out
    }
}

impl Replayer for AmiReplay {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Result<PbxEvent, String>> {
        self.buf.extend_from_slice(bytes);
        if self.codec.is_none() {
            if self.buf.len() < BANNER_PREFIX.len()
                && BANNER_PREFIX.as_bytes().starts_with(&self.buf)
            {
                return Vec::new();
            }
            self.codec = Some(if self.buf.starts_with(BANNER_PREFIX.as_bytes()) {
                AmiCodec::client()
            } else {
                AmiCodec::server()
            });
        }
        self.drain(false)
    }

    fn finish(&mut self) -> Vec<Result<PbxEvent, String>> {
        if self.codec.is_none() {
            self.codec = Some(AmiCodec::server());
        }
        self.drain(true)
    }
}
