//! What `ctigw decode --codec csta-xml|sip` prints: CSTA XML over TCP frames (or one bare
//! document), and SIP messages with their CSTA XML body decoded alongside.

use bytes::BytesMut;
use ctigw_codecs::csta_xml::{Decoded, Limits, Message as Csta};
use ctigw_codecs::sip::{FrameError, Message, MessageError, SipCodec};
use serde::Serialize;
use tokio_util::codec::Decoder;

/// True when `input` starts like a CSTA-XML-over-TCP header (version 0) rather than a document.
pub fn is_tcp_framed(input: &[u8]) -> bool {
    input.len() >= 8 && input[0] == 0 && input[1] == 0
}

/// One bare CSTA XML document, as the JSON line `decode` prints.
pub fn bare_document(input: &[u8]) -> Result<Decoded, String> {
    Csta::decode_with(input, &Limits::default()).map_err(|e| e.to_string())
}

/// A SIP message and, when its body is `application/csta+xml`, the document in it.
#[derive(Debug, Serialize)]
pub struct SipWithCsta {
    #[serde(flatten)]
    pub message: Message,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub csta: Option<Result<Csta, String>>,
}

/// SIP framing whose items carry the decoded CSTA body. `ctigw decode` always holds its whole
/// input (a file or all of stdin), so the codec runs with datagram semantics
/// ([`SipCodec::whole_input`]): a message without Content-Length, as RFC 4475 `inv2543`,
/// takes the rest of the input as its body instead of being a fatal framing error.
#[derive(Debug)]
pub struct SipCstaDecoder {
    inner: SipCodec,
}

impl Default for SipCstaDecoder {
    fn default() -> Self {
        SipCstaDecoder {
            inner: SipCodec::new().whole_input(),
        }
    }
}

impl SipCstaDecoder {
    fn wrap(m: Message) -> SipWithCsta {
        let csta = (m.is_csta() && !m.body.is_empty())
            .then(|| Csta::decode(&m.body).map_err(|e| e.to_string()));
        SipWithCsta { message: m, csta }
    }
}

impl Decoder for SipCstaDecoder {
    type Item = Result<SipWithCsta, MessageError>;
    type Error = FrameError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, FrameError> {
        Ok(self.inner.decode(src)?.map(|r| r.map(Self::wrap)))
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<Self::Item>, FrameError> {
        Ok(self.inner.decode_eof(src)?.map(|r| r.map(Self::wrap)))
    }
}
