//! ACSE association APDUs (ITU-T X.227): AARQ `[APPLICATION 0]`, AARE `[APPLICATION 1]`,
//! RLRQ `[APPLICATION 2]`, RLRE `[APPLICATION 3]`, ABRT `[APPLICATION 4]`, and the CSTA user
//! information EXTERNAL (OID 1.3.12.0.218.200) with the CSTA version bits and functionality
//! bit strings kept as received.
//!
//! Fields this module does not model (AP titles, AE qualifiers, implementation information,
//! ...) are kept opaque; on encoding the known fields are written in tag-number order, which
//! is the order X.227 defines, and the opaque ones keep their order of arrival (see `Parts`).
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{ErrorKind, PduError, Result, Tag, Tlv, Writer};
use super::common::{BitString, RawTlv, named_enum, single_inner};
use bytes::BytesMut;
use serde::Serialize;

pub const AARQ: Tag = Tag::application_c(0);
pub const AARE: Tag = Tag::application_c(1);
pub const RLRQ: Tag = Tag::application_c(2);
pub const RLRE: Tag = Tag::application_c(3);
pub const ABRT: Tag = Tag::application_c(4);

/// Application context name of CSTA (1.3.12.0.180 as sent to OXE).
pub const CSTA_APPLICATION_CONTEXT: &str = "1.3.12.0.180";
/// Direct reference of the CSTA user information EXTERNAL.
pub const CSTA_USER_INFORMATION_OID: &str = "1.3.12.0.218.200";

/// An ACSE APDU.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum AcseApdu {
    Aarq(Aarq),
    Aare(Aare),
    Rlrq(Release),
    Rlre(Release),
    Abrt(Abort),
}

/// AARQ: association request.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Aarq {
    /// `[0] IMPLICIT BIT STRING` (`07 80` = version1).
    pub protocol_version: Option<BitString>,
    /// `[1] EXPLICIT OBJECT IDENTIFIER`
    pub application_context_name: Option<String>,
    /// `[10] IMPLICIT BIT STRING`
    pub sender_acse_requirements: Option<BitString>,
    /// `[11] IMPLICIT OBJECT IDENTIFIER`
    pub mechanism_name: Option<String>,
    /// `[12]` calling-authentication-value, kept as received.
    pub calling_authentication_value: Option<RawTlv>,
    /// `[30] IMPLICIT SEQUENCE OF EXTERNAL`
    pub user_information: Vec<External>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<RawTlv>,
}

named_enum! {
    /// AARE result `[2]`.
    AssociateResult {
        Accepted = 0 => "accepted",
        RejectedPermanent = 1 => "rejected-permanent",
        RejectedTransient = 2 => "rejected-transient",
    }
}
named_enum! {
    /// acse-service-user diagnostic.
    ServiceUserDiagnostic {
        Null = 0 => "null",
        NoReasonGiven = 1 => "no-reason-given",
        ApplicationContextNameNotSupported = 2 => "application-context-name-not-supported",
        CallingApTitleNotRecognized = 3 => "calling-AP-title-not-recognized",
        CallingApInvocationIdentifierNotRecognized = 4 => "calling-AP-invocation-identifier-not-recognized",
        CallingAeQualifierNotRecognized = 5 => "calling-AE-qualifier-not-recognized",
        CallingAeInvocationIdentifierNotRecognized = 6 => "calling-AE-invocation-identifier-not-recognized",
        CalledApTitleNotRecognized = 7 => "called-AP-title-not-recognized",
        CalledApInvocationIdentifierNotRecognized = 8 => "called-AP-invocation-identifier-not-recognized",
        CalledAeQualifierNotRecognized = 9 => "called-AE-qualifier-not-recognized",
        CalledAeInvocationIdentifierNotRecognized = 10 => "called-AE-invocation-identifier-not-recognized",
        AuthenticationMechanismNameNotRecognized = 11 => "authentication-mechanism-name-not-recognized",
        AuthenticationMechanismNameRequired = 12 => "authentication-mechanism-name-required",
        AuthenticationFailure = 13 => "authentication-failure",
        AuthenticationRequired = 14 => "authentication-required",
    }
}
named_enum! {
    /// acse-service-provider diagnostic.
    ServiceProviderDiagnostic {
        Null = 0 => "null",
        NoReasonGiven = 1 => "no-reason-given",
        NoCommonAcseVersion = 2 => "no-common-acse-version",
    }
}

/// Associate-source-diagnostic `[3]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ResultSourceDiagnostic {
    /// `[1] EXPLICIT INTEGER`
    AcseServiceUser(ServiceUserDiagnostic),
    /// `[2] EXPLICIT INTEGER`
    AcseServiceProvider(ServiceProviderDiagnostic),
    Unknown(RawTlv),
}

/// AARE: association response.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Aare {
    pub protocol_version: Option<BitString>,
    pub application_context_name: Option<String>,
    /// `[2] EXPLICIT INTEGER`
    pub result: Option<AssociateResult>,
    /// `[3] EXPLICIT CHOICE`
    pub result_source_diagnostic: Option<ResultSourceDiagnostic>,
    /// `[8] IMPLICIT BIT STRING`
    pub responder_acse_requirements: Option<BitString>,
    /// `[9] IMPLICIT OBJECT IDENTIFIER`
    pub mechanism_name: Option<String>,
    pub user_information: Vec<External>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<RawTlv>,
}

named_enum! {
    /// RLRQ / RLRE reason `[0] IMPLICIT INTEGER` (RLRQ: normal, urgent, user-defined;
    /// RLRE: normal, not-finished, user-defined).
    ReleaseReason {
        Normal = 0 => "normal",
        UrgentOrNotFinished = 1 => "urgent/not-finished",
        UserDefined = 30 => "user-defined",
    }
}

/// RLRQ or RLRE.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Release {
    pub reason: Option<ReleaseReason>,
    pub user_information: Vec<External>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<RawTlv>,
}

named_enum! {
    /// ABRT abort-source `[0] IMPLICIT INTEGER`.
    AbortSource {
        AcseServiceUser = 0 => "acse-service-user",
        AcseServiceProvider = 1 => "acse-service-provider",
    }
}
named_enum! {
    /// ABRT abort-diagnostic `[1] IMPLICIT ENUMERATED`.
    AbortDiagnostic {
        NoReasonGiven = 1 => "no-reason-given",
        ProtocolError = 2 => "protocol-error",
        AuthenticationMechanismNameNotRecognized = 3 => "authentication-mechanism-name-not-recognized",
        AuthenticationMechanismNameRequired = 4 => "authentication-mechanism-name-required",
        AuthenticationFailure = 5 => "authentication-failure",
        AuthenticationRequired = 6 => "authentication-required",
    }
}

/// ABRT.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Abort {
    pub abort_source: Option<AbortSource>,
    pub abort_diagnostic: Option<AbortDiagnostic>,
    pub user_information: Vec<External>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub other: Vec<RawTlv>,
}

/// EXTERNAL `[UNIVERSAL 8] IMPLICIT SEQUENCE { direct-reference OID OPTIONAL,
/// indirect-reference INTEGER OPTIONAL, data-value-descriptor ObjectDescriptor OPTIONAL,
/// encoding CHOICE { single-ASN1-type [0], octet-aligned [1], arbitrary [2] } }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct External {
    pub direct_reference: Option<String>,
    pub indirect_reference: Option<i64>,
    pub data_value_descriptor: Option<RawTlv>,
    pub encoding: ExternalEncoding,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// The encoding of an EXTERNAL.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ExternalEncoding {
    /// single-ASN1-type holding the CSTA user information (direct reference 1.3.12.0.218.200).
    Csta(CstaUserInformation),
    /// single-ASN1-type `[0]` with anything else: the inner element.
    SingleAsn1Type(RawTlv),
    /// octet-aligned `[1] IMPLICIT OCTET STRING`
    #[serde(serialize_with = "crate::hex::serialize")]
    OctetAligned(Vec<u8>),
    /// arbitrary `[2] IMPLICIT BIT STRING`
    Arbitrary(BitString),
}

/// CSTA user information: `SEQUENCE { cSTAVersion BIT STRING, functionality blocks... }`.
/// The version bits are `versionOne(0), versionTwo(1), ...`; each functionality block is a
/// SEQUENCE of context-tagged bit strings (services and events asked for), kept as received.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CstaUserInformation {
    pub csta_version: BitString,
    pub functionality: Vec<FunctionalityBlock>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

impl CstaUserInformation {
    /// The CSTA versions whose bit is set (1 = Phase I, 2 = Phase II, ...).
    pub fn versions(&self) -> Vec<u32> {
        (0..self.csta_version.bits.len() * 8)
            .filter(|&i| self.csta_version.bit(i))
            .map(|i| i as u32 + 1)
            .collect()
    }
}

/// One block of functionality bit strings.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionalityBlock {
    pub items: Vec<FunctionalityBits>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// A `[n] IMPLICIT BIT STRING` inside a functionality block.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FunctionalityBits {
    pub tag: u32,
    pub bits: BitString,
}

impl Aarq {
    /// The AARQ a CSTA client sends to an OXE, byte for byte the one in
    /// `real-captures/oxe/session-open.txt` (Phase I and II, the functionality bits that
    /// client asked for).
    pub fn oxe_default() -> Self {
        let bits = |tag: u32, unused: u8, b: &[u8]| FunctionalityBits {
            tag,
            bits: BitString {
                unused_bits: unused,
                bits: b.to_vec(),
            },
        };
        Aarq {
            protocol_version: Some(BitString {
                unused_bits: 7,
                bits: vec![0x80],
            }),
            application_context_name: Some(CSTA_APPLICATION_CONTEXT.to_string()),
            sender_acse_requirements: None,
            mechanism_name: None,
            calling_authentication_value: None,
            user_information: vec![External {
                direct_reference: Some(CSTA_USER_INFORMATION_OID.to_string()),
                indirect_reference: None,
                data_value_descriptor: None,
                encoding: ExternalEncoding::Csta(CstaUserInformation {
                    csta_version: BitString {
                        unused_bits: 3,
                        bits: vec![0xc0],
                    },
                    functionality: vec![
                        FunctionalityBlock {
                            items: vec![
                                bits(0, 3, &[0xe7, 0xb6, 0x48]),
                                bits(1, 2, &[0x5f, 0xfd, 0x03, 0xfe, 0xa0]),
                                bits(3, 6, &[0xc0]),
                                bits(4, 3, &[0xf0]),
                            ],
                            unknown: vec![],
                        },
                        FunctionalityBlock {
                            items: vec![bits(2, 3, &[0xd8]), bits(3, 6, &[0xc0])],
                            unknown: vec![],
                        },
                    ],
                    unknown: vec![],
                }),
                unknown: vec![],
            }],
            other: vec![],
        }
    }
}

impl Release {
    pub fn normal() -> Self {
        Release {
            reason: Some(ReleaseReason::Normal),
            user_information: vec![],
            other: vec![],
        }
    }
}

fn bad(t: &Tlv<'_>, what: &str, why: &'static str) -> PduError {
    PduError::new(t.offset, what, ErrorKind::Invalid(why))
}

fn explicit_oid(t: &Tlv<'_>, what: &str) -> Result<String> {
    let inner = single_inner(t, what)?;
    inner.expect_tag(Tag::OID, what)?;
    inner.oid(what)
}

fn explicit_int(t: &Tlv<'_>, what: &str) -> Result<i64> {
    let inner = single_inner(t, what)?;
    inner.expect_tag(Tag::INTEGER, what)?;
    inner.integer(what)
}

fn decode_user_information(t: &Tlv<'_>) -> Result<Vec<External>> {
    let mut r = t.reader("userInformation")?;
    let mut v = Vec::new();
    while let Some(e) = r.next("userInformation")? {
        e.expect_tag(Tag::EXTERNAL, "userInformation")?;
        v.push(decode_external(&e).map_err(|e| e.within("userInformation"))?);
    }
    Ok(v)
}

fn decode_external(t: &Tlv<'_>) -> Result<External> {
    let mut direct_reference = None;
    let mut indirect_reference = None;
    let mut data_value_descriptor = None;
    let mut encoding = None;
    let unknown = super::common::read_fields(t, "external", |el| {
        if encoding.is_some() {
            return Ok(false);
        }
        if el.tag == Tag::OID && direct_reference.is_none() && indirect_reference.is_none() {
            direct_reference = Some(el.oid("directReference")?);
        } else if el.tag == Tag::INTEGER && indirect_reference.is_none() {
            indirect_reference = Some(el.integer("indirectReference")?);
        } else if el.tag == Tag::universal(7) && data_value_descriptor.is_none() {
            data_value_descriptor = Some(RawTlv::from_tlv(el));
        } else if el.tag == Tag::context_c(0) {
            let inner = single_inner(el, "singleASN1Type")?;
            let csta = if direct_reference.as_deref() == Some(CSTA_USER_INFORMATION_OID) {
                decode_csta_user_info(&inner).ok()
            } else {
                None
            };
            encoding = Some(match csta {
                Some(c) => ExternalEncoding::Csta(c),
                None => ExternalEncoding::SingleAsn1Type(RawTlv::from_tlv(&inner)),
            });
        } else if el.tag == Tag::context(1) {
            encoding = Some(ExternalEncoding::OctetAligned(
                el.octets("octetAligned")?.to_vec(),
            ));
        } else if el.tag == Tag::context(2) {
            encoding = Some(ExternalEncoding::Arbitrary(BitString::decode(
                el,
                "arbitrary",
            )?));
        } else {
            return Ok(false);
        }
        Ok(true)
    })?;
    let Some(encoding) = encoding else {
        return Err(bad(t, "external", "EXTERNAL without encoding"));
    };
    Ok(External {
        direct_reference,
        indirect_reference,
        data_value_descriptor,
        encoding,
        unknown,
    })
}

fn decode_csta_user_info(t: &Tlv<'_>) -> Result<CstaUserInformation> {
    t.expect_tag(Tag::SEQUENCE, "cstaUserInformation")?;
    let mut r = t.reader("cstaUserInformation")?;
    let v = r.expect(Tag::BIT_STRING, "cSTAVersion")?;
    let csta_version = BitString::decode(&v, "cSTAVersion")?;
    let mut functionality = Vec::new();
    let mut unknown = Vec::new();
    while let Some(el) = r.next("cstaUserInformation")? {
        if el.tag != Tag::SEQUENCE {
            unknown.push(RawTlv::from_tlv(&el));
            continue;
        }
        let mut br = el.reader("functionality")?;
        let mut block = FunctionalityBlock {
            items: vec![],
            unknown: vec![],
        };
        while let Some(b) = br.next("functionality")? {
            let parsed = (b.tag.class == super::ber::Class::Context && !b.tag.constructed)
                .then(|| BitString::decode(&b, "functionality").ok())
                .flatten();
            match parsed {
                Some(bits) => block.items.push(FunctionalityBits {
                    tag: b.tag.number,
                    bits,
                }),
                None => block.unknown.push(RawTlv::from_tlv(&b)),
            }
        }
        functionality.push(block);
    }
    Ok(CstaUserInformation {
        csta_version,
        functionality,
        unknown,
    })
}

fn encode_user_information(v: &[External], w: &mut Writer<'_>) {
    w.constructed(Tag::context_c(30), |w| {
        for e in v {
            w.constructed(Tag::EXTERNAL, |w| {
                if let Some(o) = &e.direct_reference {
                    w.oid(Tag::OID, o);
                }
                if let Some(i) = e.indirect_reference {
                    w.integer(Tag::INTEGER, i);
                }
                if let Some(d) = &e.data_value_descriptor {
                    d.encode(w);
                }
                match &e.encoding {
                    ExternalEncoding::Csta(c) => w.constructed(Tag::context_c(0), |w| {
                        w.constructed(Tag::SEQUENCE, |w| {
                            c.csta_version.encode(Tag::BIT_STRING, w);
                            for block in &c.functionality {
                                w.constructed(Tag::SEQUENCE, |w| {
                                    for i in &block.items {
                                        i.bits.encode(Tag::context(i.tag), w);
                                    }
                                    for u in &block.unknown {
                                        u.encode(w);
                                    }
                                });
                            }
                            for u in &c.unknown {
                                u.encode(w);
                            }
                        })
                    }),
                    ExternalEncoding::SingleAsn1Type(raw) => {
                        w.constructed(Tag::context_c(0), |w| raw.encode(w))
                    }
                    ExternalEncoding::OctetAligned(o) => w.primitive(Tag::context(1), o),
                    ExternalEncoding::Arbitrary(b) => b.encode(Tag::context(2), w),
                }
                for u in &e.unknown {
                    u.encode(w);
                }
            });
        }
    });
}

/// Collects the encoded fields of an APDU and writes them out.
///
/// Known fields go in tag-number order (the order X.227 defines). Opaque elements (`other`)
/// keep the order they were received in: each goes out as soon as no known field with a
/// lower tag number is still waiting, so an extension lands where its number puts it when the
/// input was in order, and after a known field with the same number (the decoder only keeps
/// a duplicate of a known tag as opaque when it came second). Sorting the opaque ones by tag
/// number instead reordered them, and `other` came back as a different list.
struct Parts {
    known: Vec<(u32, Vec<u8>)>,
    other: Vec<(u32, Vec<u8>)>,
}

impl Parts {
    fn new() -> Self {
        Parts {
            known: Vec::new(),
            other: Vec::new(),
        }
    }
    fn add(&mut self, n: u32, f: impl FnOnce(&mut Writer<'_>)) {
        let mut b = BytesMut::new();
        f(&mut Writer::new(&mut b));
        self.known.push((n, b.to_vec()));
    }
    fn others(&mut self, other: &[RawTlv]) {
        for o in other {
            self.other.push((o.tag.number, o.bytes.clone()));
        }
    }
    fn write(mut self, w: &mut Writer<'_>) {
        self.known.sort_by_key(|(n, _)| *n);
        let mut known = self.known.iter().peekable();
        for (n, b) in &self.other {
            while let Some((_, k)) = known.next_if(|(kn, _)| kn <= n) {
                w.raw(k);
            }
            w.raw(b);
        }
        for (_, k) in known {
            w.raw(k);
        }
    }
}

impl AcseApdu {
    pub fn decode(t: &Tlv<'_>) -> Result<Self> {
        match t.tag {
            AARQ => decode_aarq(t)
                .map_err(|e| e.within("aarq"))
                .map(AcseApdu::Aarq),
            AARE => decode_aare(t)
                .map_err(|e| e.within("aare"))
                .map(AcseApdu::Aare),
            RLRQ => decode_release(t)
                .map_err(|e| e.within("rlrq"))
                .map(AcseApdu::Rlrq),
            RLRE => decode_release(t)
                .map_err(|e| e.within("rlre"))
                .map(AcseApdu::Rlre),
            ABRT => decode_abort(t)
                .map_err(|e| e.within("abrt"))
                .map(AcseApdu::Abrt),
            other => Err(PduError::new(
                t.offset,
                "acse",
                ErrorKind::UnexpectedTag {
                    expected: AARQ,
                    found: other,
                },
            )),
        }
    }

    pub fn encode(&self, w: &mut Writer<'_>) {
        let mut p = Parts::new();
        let tag = match self {
            AcseApdu::Aarq(a) => {
                if let Some(v) = &a.protocol_version {
                    p.add(0, |w| v.encode(Tag::context(0), w));
                }
                if let Some(c) = &a.application_context_name {
                    p.add(1, |w| {
                        w.constructed(Tag::context_c(1), |w| w.oid(Tag::OID, c))
                    });
                }
                if let Some(v) = &a.sender_acse_requirements {
                    p.add(10, |w| v.encode(Tag::context(10), w));
                }
                if let Some(m) = &a.mechanism_name {
                    p.add(11, |w| w.oid(Tag::context(11), m));
                }
                if let Some(v) = &a.calling_authentication_value {
                    p.add(12, |w| v.encode(w));
                }
                if !a.user_information.is_empty() {
                    p.add(30, |w| encode_user_information(&a.user_information, w));
                }
                p.others(&a.other);
                AARQ
            }
            AcseApdu::Aare(a) => {
                if let Some(v) = &a.protocol_version {
                    p.add(0, |w| v.encode(Tag::context(0), w));
                }
                if let Some(c) = &a.application_context_name {
                    p.add(1, |w| {
                        w.constructed(Tag::context_c(1), |w| w.oid(Tag::OID, c))
                    });
                }
                if let Some(r) = a.result {
                    p.add(2, |w| {
                        w.constructed(Tag::context_c(2), |w| w.integer(Tag::INTEGER, r.code()))
                    });
                }
                if let Some(d) = &a.result_source_diagnostic {
                    p.add(3, |w| {
                        w.constructed(Tag::context_c(3), |w| match d {
                            ResultSourceDiagnostic::AcseServiceUser(u) => w
                                .constructed(Tag::context_c(1), |w| {
                                    w.integer(Tag::INTEGER, u.code())
                                }),
                            ResultSourceDiagnostic::AcseServiceProvider(u) => w
                                .constructed(Tag::context_c(2), |w| {
                                    w.integer(Tag::INTEGER, u.code())
                                }),
                            ResultSourceDiagnostic::Unknown(raw) => raw.encode(w),
                        })
                    });
                }
                if let Some(v) = &a.responder_acse_requirements {
                    p.add(8, |w| v.encode(Tag::context(8), w));
                }
                if let Some(m) = &a.mechanism_name {
                    p.add(9, |w| w.oid(Tag::context(9), m));
                }
                if !a.user_information.is_empty() {
                    p.add(30, |w| encode_user_information(&a.user_information, w));
                }
                p.others(&a.other);
                AARE
            }
            AcseApdu::Rlrq(r) | AcseApdu::Rlre(r) => {
                if let Some(reason) = r.reason {
                    p.add(0, |w| w.integer(Tag::context(0), reason.code()));
                }
                if !r.user_information.is_empty() {
                    p.add(30, |w| encode_user_information(&r.user_information, w));
                }
                p.others(&r.other);
                if matches!(self, AcseApdu::Rlrq(_)) {
                    RLRQ
                } else {
                    RLRE
                }
            }
            AcseApdu::Abrt(a) => {
                if let Some(s) = a.abort_source {
                    p.add(0, |w| w.integer(Tag::context(0), s.code()));
                }
                if let Some(d) = a.abort_diagnostic {
                    p.add(1, |w| w.integer(Tag::context(1), d.code()));
                }
                if !a.user_information.is_empty() {
                    p.add(30, |w| encode_user_information(&a.user_information, w));
                }
                p.others(&a.other);
                ABRT
            }
        };
        w.constructed(tag, |w| p.write(w));
    }
}

fn decode_aarq(t: &Tlv<'_>) -> Result<Aarq> {
    let mut a = Aarq {
        protocol_version: None,
        application_context_name: None,
        sender_acse_requirements: None,
        mechanism_name: None,
        calling_authentication_value: None,
        user_information: vec![],
        other: vec![],
    };
    let mut have_ui = false;
    let other = super::common::read_fields(t, "aarq", |el| {
        if el.tag == Tag::context(0) && a.protocol_version.is_none() {
            a.protocol_version = Some(BitString::decode(el, "protocolVersion")?);
        } else if el.tag == Tag::context_c(1) && a.application_context_name.is_none() {
            a.application_context_name = Some(explicit_oid(el, "applicationContextName")?);
        } else if el.tag == Tag::context(10) && a.sender_acse_requirements.is_none() {
            a.sender_acse_requirements = Some(BitString::decode(el, "senderAcseRequirements")?);
        } else if el.tag == Tag::context(11) && a.mechanism_name.is_none() {
            a.mechanism_name = Some(el.oid("mechanismName")?);
        } else if el.tag.is_context(12) && a.calling_authentication_value.is_none() {
            a.calling_authentication_value = Some(RawTlv::from_tlv(el));
        } else if el.tag == Tag::context_c(30) && !have_ui {
            a.user_information = decode_user_information(el)?;
            have_ui = !a.user_information.is_empty();
        } else {
            return Ok(false);
        }
        Ok(true)
    })?;
    a.other = other;
    Ok(a)
}

fn decode_aare(t: &Tlv<'_>) -> Result<Aare> {
    let mut a = Aare {
        protocol_version: None,
        application_context_name: None,
        result: None,
        result_source_diagnostic: None,
        responder_acse_requirements: None,
        mechanism_name: None,
        user_information: vec![],
        other: vec![],
    };
    let mut have_ui = false;
    let other = super::common::read_fields(t, "aare", |el| {
        if el.tag == Tag::context(0) && a.protocol_version.is_none() {
            a.protocol_version = Some(BitString::decode(el, "protocolVersion")?);
        } else if el.tag == Tag::context_c(1) && a.application_context_name.is_none() {
            a.application_context_name = Some(explicit_oid(el, "applicationContextName")?);
        } else if el.tag == Tag::context_c(2) && a.result.is_none() {
            a.result = Some(AssociateResult::from_code(explicit_int(el, "result")?));
        } else if el.tag == Tag::context_c(3) && a.result_source_diagnostic.is_none() {
            let inner = single_inner(el, "resultSourceDiagnostic")?;
            let val = |n: u32| {
                (inner.tag == Tag::context_c(n))
                    .then(|| explicit_int(&inner, "resultSourceDiagnostic").ok())
                    .flatten()
            };
            a.result_source_diagnostic = Some(if let Some(v) = val(1) {
                ResultSourceDiagnostic::AcseServiceUser(ServiceUserDiagnostic::from_code(v))
            } else if let Some(v) = val(2) {
                ResultSourceDiagnostic::AcseServiceProvider(ServiceProviderDiagnostic::from_code(v))
            } else {
                ResultSourceDiagnostic::Unknown(RawTlv::from_tlv(&inner))
            });
        } else if el.tag == Tag::context(8) && a.responder_acse_requirements.is_none() {
            a.responder_acse_requirements =
                Some(BitString::decode(el, "responderAcseRequirements")?);
        } else if el.tag == Tag::context(9) && a.mechanism_name.is_none() {
            a.mechanism_name = Some(el.oid("mechanismName")?);
        } else if el.tag == Tag::context_c(30) && !have_ui {
            a.user_information = decode_user_information(el)?;
            have_ui = !a.user_information.is_empty();
        } else {
            return Ok(false);
        }
        Ok(true)
    })?;
    a.other = other;
    Ok(a)
}

fn decode_release(t: &Tlv<'_>) -> Result<Release> {
    let mut reason = None;
    let mut user_information = vec![];
    let mut have_ui = false;
    let other = super::common::read_fields(t, "release", |el| {
        if el.tag == Tag::context(0) && reason.is_none() {
            reason = Some(ReleaseReason::from_code(el.integer("reason")?));
        } else if el.tag == Tag::context_c(30) && !have_ui {
            user_information = decode_user_information(el)?;
            have_ui = !user_information.is_empty();
        } else {
            return Ok(false);
        }
        Ok(true)
    })?;
    Ok(Release {
        reason,
        user_information,
        other,
    })
}

fn decode_abort(t: &Tlv<'_>) -> Result<Abort> {
    let mut a = Abort {
        abort_source: None,
        abort_diagnostic: None,
        user_information: vec![],
        other: vec![],
    };
    let mut have_ui = false;
    let other = super::common::read_fields(t, "abrt", |el| {
        if el.tag == Tag::context(0) && a.abort_source.is_none() {
            a.abort_source = Some(AbortSource::from_code(el.integer("abortSource")?));
        } else if el.tag == Tag::context(1) && a.abort_diagnostic.is_none() {
            a.abort_diagnostic = Some(AbortDiagnostic::from_code(el.integer("abortDiagnostic")?));
        } else if el.tag == Tag::context_c(30) && !have_ui {
            a.user_information = decode_user_information(el)?;
            have_ui = !a.user_information.is_empty();
        } else {
            return Ok(false);
        }
        Ok(true)
    })?;
    a.other = other;
    Ok(a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::csta_ber::ber::read_single;

    fn round_trip(data: &[u8]) -> (AcseApdu, Vec<u8>) {
        let a = AcseApdu::decode(&read_single(data, "acse").unwrap()).unwrap();
        let mut buf = BytesMut::new();
        a.encode(&mut Writer::new(&mut buf));
        let b = AcseApdu::decode(&read_single(&buf, "acse").unwrap()).unwrap();
        assert_eq!(a, b, "{:02x?}", &buf[..]);
        (a, buf.to_vec())
    }

    #[test]
    fn opaque_elements_keep_their_order() {
        // AARE { [APPLICATION 20] .., [APPLICATION 7] .., [APPLICATION 24] .. } (fuzz find):
        // sorting by tag number used to put [APPLICATION 7] first.
        let data = [
            0x61, 0x15, 0x54, 0x07, 0x06, 0x05, 0xda, 0xf3, 0xfe, 0x7e, 0x01, 0x67, 0x05, 0x63,
            0xa1, 0x03, 0x02, 0x01, 0x78, 0x03, 0x80, 0xb7, 0x00,
        ];
        let (_, enc) = round_trip(&data);
        assert_eq!(enc, data);
    }

    #[test]
    fn opaque_elements_sit_between_known_fields_by_number() {
        // AARE { [1] ctx, [5] opaque, [2] result, [2] duplicate, [29] opaque, [30] ui }
        let mut data = vec![0x61, 0x00];
        data.extend_from_slice(&[0xa1, 0x07, 0x06, 0x05, 0x2b, 0x0c, 0x00, 0x81, 0x34]);
        data.extend_from_slice(&[0x85, 0x01, 0xaa]);
        data.extend_from_slice(&[0xa2, 0x03, 0x02, 0x01, 0x00]);
        data.extend_from_slice(&[0xa2, 0x03, 0x02, 0x01, 0x01]);
        data.extend_from_slice(&[0x9d, 0x00]);
        data.extend_from_slice(&[0xbe, 0x0a, 0x28, 0x08, 0x02, 0x01, 0x01, 0x81, 0x03]);
        data.extend_from_slice(&[0x01, 0x02, 0x03]);
        data[1] = (data.len() - 2) as u8;
        let (a, enc) = round_trip(&data);
        let AcseApdu::Aare(aare) = a else { panic!() };
        assert_eq!(aare.result, Some(AssociateResult::Accepted));
        assert_eq!(aare.other.len(), 3);
        // [1], then [2] (known) before the opaque [5] and the duplicate [2] that came after it.
        let mut want = vec![0x61, 0x00];
        want.extend_from_slice(&data[2..11]);
        want.extend_from_slice(&data[14..19]);
        want.extend_from_slice(&data[11..14]);
        want.extend_from_slice(&data[19..]);
        want[1] = (want.len() - 2) as u8;
        assert_eq!(enc, want);
    }
}
