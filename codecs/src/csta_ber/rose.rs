//! ROSE APDUs as CSTA uses them: Invoke `[1]`, ReturnResult `[2]`, ReturnError `[3]` and
//! Reject `[4]`, each with an INTEGER invokeID.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use super::ber::{Class, ErrorKind, PduError, Result, Tag, Tlv, Writer};
use super::common::{RawTlv, named_enum};
use super::services::{Argument, ErrorParameter, ResultValue};
use serde::Serialize;

pub const INVOKE: Tag = Tag::context_c(1);
pub const RETURN_RESULT: Tag = Tag::context_c(2);
pub const RETURN_ERROR: Tag = Tag::context_c(3);
pub const REJECT: Tag = Tag::context_c(4);

/// A ROSE APDU.
// Events are the common case and are moved once from decoder to adapter; boxing them
// would cost an allocation per event for no gain.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RoseApdu {
    Invoke(Invoke),
    ReturnResult(ReturnResult),
    ReturnError(ReturnError),
    Reject(Reject),
}

impl RoseApdu {
    /// The invokeID the APDU carries (a Reject may carry none).
    pub fn invoke_id(&self) -> Option<i64> {
        match self {
            RoseApdu::Invoke(i) => Some(i.invoke_id),
            RoseApdu::ReturnResult(r) => Some(r.invoke_id),
            RoseApdu::ReturnError(e) => Some(e.invoke_id),
            RoseApdu::Reject(r) => r.invoke_id,
        }
    }
}

/// Invoke `[1] IMPLICIT SEQUENCE { invokeID INTEGER, linkedID [0] IMPLICIT INTEGER OPTIONAL,
/// operation-value INTEGER, argument ANY OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Invoke {
    pub invoke_id: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub linked_id: Option<i64>,
    /// The operation and its argument (the opcode is `argument.opcode()`).
    pub argument: Argument,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

impl Invoke {
    pub fn new(invoke_id: i64, argument: Argument) -> Self {
        Invoke {
            invoke_id,
            linked_id: None,
            argument,
            unknown: vec![],
        }
    }
    pub fn opcode(&self) -> i64 {
        self.argument.opcode()
    }
}

/// ReturnResult `[2] IMPLICIT SEQUENCE { invokeID INTEGER, result SEQUENCE { operation-value
/// INTEGER, result ANY } OPTIONAL }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnResult {
    pub invoke_id: i64,
    pub result: Option<OperationResult>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// The result part of a ReturnResult.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OperationResult {
    pub opcode: i64,
    pub value: Option<ResultValue>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

/// ReturnError `[3] IMPLICIT SEQUENCE { invokeID INTEGER, errorValue INTEGER, parameter ANY
/// OPTIONAL }` (CSTA: errorValue 1 = universalFailure).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReturnError {
    pub invoke_id: i64,
    pub error_value: i64,
    pub parameter: Option<ErrorParameter>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

named_enum! {
    /// GeneralProblem `[0]`.
    GeneralProblem {
        UnrecognizedApdu = 0 => "unrecognizedAPDU",
        MistypedApdu = 1 => "mistypedAPDU",
        BadlyStructuredApdu = 2 => "badlyStructuredAPDU",
    }
}
named_enum! {
    /// InvokeProblem `[1]`.
    InvokeProblem {
        DuplicateInvocation = 0 => "duplicateInvocation",
        UnrecognizedOperation = 1 => "unrecognizedOperation",
        MistypedArgument = 2 => "mistypedArgument",
        ResourceLimitation = 3 => "resourceLimitation",
        InitiatorReleasing = 4 => "initiatorReleasing",
        UnrecognizedLinkedId = 5 => "unrecognizedLinkedID",
        LinkedResponseUnexpected = 6 => "linkedResponseUnexpected",
        UnexpectedChildOperation = 7 => "unexpectedChildOperation",
    }
}
named_enum! {
    /// ReturnResultProblem `[2]`.
    ReturnResultProblem {
        UnrecognizedInvocation = 0 => "unrecognizedInvocation",
        ResultResponseUnexpected = 1 => "resultResponseUnexpected",
        MistypedResult = 2 => "mistypedResult",
    }
}
named_enum! {
    /// ReturnErrorProblem `[3]`.
    ReturnErrorProblem {
        UnrecognizedInvocation = 0 => "unrecognizedInvocation",
        ErrorResponseUnexpected = 1 => "errorResponseUnexpected",
        UnrecognizedError = 2 => "unrecognizedError",
        UnexpectedError = 3 => "unexpectedError",
        MistypedParameter = 4 => "mistypedParameter",
    }
}

/// The problem of a Reject.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum RejectProblem {
    General(GeneralProblem),
    Invoke(InvokeProblem),
    ReturnResult(ReturnResultProblem),
    ReturnError(ReturnErrorProblem),
    Unknown(RawTlv),
}

/// Reject `[4] IMPLICIT SEQUENCE { invokeID CHOICE { INTEGER, NULL }, problem CHOICE {...} }`.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Reject {
    /// `None` when the invokeID was NULL (the APDU could not be attributed).
    pub invoke_id: Option<i64>,
    pub problem: RejectProblem,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub unknown: Vec<RawTlv>,
}

fn rest(r: &mut super::ber::Reader<'_>, what: &str) -> Result<Vec<RawTlv>> {
    let mut v = Vec::new();
    while let Some(t) = r.next(what)? {
        v.push(RawTlv::from_tlv(&t));
    }
    Ok(v)
}

impl RoseApdu {
    /// Decodes a ROSE APDU from its outer element.
    pub fn decode(t: &Tlv<'_>) -> Result<Self> {
        match t.tag {
            INVOKE => decode_invoke(t)
                .map_err(|e| e.within("invoke"))
                .map(RoseApdu::Invoke),
            RETURN_RESULT => decode_result(t)
                .map_err(|e| e.within("returnResult"))
                .map(RoseApdu::ReturnResult),
            RETURN_ERROR => decode_error(t)
                .map_err(|e| e.within("returnError"))
                .map(RoseApdu::ReturnError),
            REJECT => decode_reject(t)
                .map_err(|e| e.within("reject"))
                .map(RoseApdu::Reject),
            other => Err(PduError::new(
                t.offset,
                "apdu",
                ErrorKind::UnexpectedTag {
                    expected: INVOKE,
                    found: other,
                },
            )),
        }
    }

    pub fn encode(&self, w: &mut Writer<'_>) {
        match self {
            RoseApdu::Invoke(i) => w.constructed(INVOKE, |w| {
                w.integer(Tag::INTEGER, i.invoke_id);
                if let Some(l) = i.linked_id {
                    w.integer(Tag::context(0), l);
                }
                w.integer(Tag::INTEGER, i.argument.opcode());
                i.argument.encode(w);
                for u in &i.unknown {
                    u.encode(w);
                }
            }),
            RoseApdu::ReturnResult(r) => w.constructed(RETURN_RESULT, |w| {
                w.integer(Tag::INTEGER, r.invoke_id);
                if let Some(res) = &r.result {
                    w.constructed(Tag::SEQUENCE, |w| {
                        w.integer(Tag::INTEGER, res.opcode);
                        if let Some(v) = &res.value {
                            v.encode(w);
                        }
                        for u in &res.unknown {
                            u.encode(w);
                        }
                    });
                }
                for u in &r.unknown {
                    u.encode(w);
                }
            }),
            RoseApdu::ReturnError(e) => w.constructed(RETURN_ERROR, |w| {
                w.integer(Tag::INTEGER, e.invoke_id);
                w.integer(Tag::INTEGER, e.error_value);
                if let Some(p) = &e.parameter {
                    p.encode(w);
                }
                for u in &e.unknown {
                    u.encode(w);
                }
            }),
            RoseApdu::Reject(r) => w.constructed(REJECT, |w| {
                match r.invoke_id {
                    Some(id) => w.integer(Tag::INTEGER, id),
                    None => w.null(Tag::NULL),
                }
                match &r.problem {
                    RejectProblem::General(p) => w.integer(Tag::context(0), p.code()),
                    RejectProblem::Invoke(p) => w.integer(Tag::context(1), p.code()),
                    RejectProblem::ReturnResult(p) => w.integer(Tag::context(2), p.code()),
                    RejectProblem::ReturnError(p) => w.integer(Tag::context(3), p.code()),
                    RejectProblem::Unknown(raw) => raw.encode(w),
                }
                for u in &r.unknown {
                    u.encode(w);
                }
            }),
        }
    }
}

fn decode_invoke(t: &Tlv<'_>) -> Result<Invoke> {
    let mut r = t.reader("invoke")?;
    let invoke_id = r.expect(Tag::INTEGER, "invokeID")?.integer("invokeID")?;
    let linked_id = match r.optional(Tag::context(0), "linkedID")? {
        Some(l) => Some(l.integer("linkedID")?),
        None => None,
    };
    let op = r
        .expect(Tag::INTEGER, "operationValue")?
        .integer("operationValue")?;
    let arg = r.next("argument")?;
    let argument = Argument::decode(op, arg.as_ref())?;
    let unknown = rest(&mut r, "invoke")?;
    Ok(Invoke {
        invoke_id,
        linked_id,
        argument,
        unknown,
    })
}

fn decode_result(t: &Tlv<'_>) -> Result<ReturnResult> {
    let mut r = t.reader("returnResult")?;
    let invoke_id = r.expect(Tag::INTEGER, "invokeID")?.integer("invokeID")?;
    let result = match r.optional(Tag::SEQUENCE, "result")? {
        Some(s) => {
            let mut sr = s.reader("result")?;
            let opcode = sr
                .expect(Tag::INTEGER, "operationValue")?
                .integer("operationValue")?;
            let value = sr.next("result")?.map(|v| ResultValue::decode(opcode, &v));
            let unknown = rest(&mut sr, "result")?;
            Some(OperationResult {
                opcode,
                value,
                unknown,
            })
        }
        None => None,
    };
    let unknown = rest(&mut r, "returnResult")?;
    Ok(ReturnResult {
        invoke_id,
        result,
        unknown,
    })
}

fn decode_error(t: &Tlv<'_>) -> Result<ReturnError> {
    let mut r = t.reader("returnError")?;
    let invoke_id = r.expect(Tag::INTEGER, "invokeID")?.integer("invokeID")?;
    let error_value = r
        .expect(Tag::INTEGER, "errorValue")?
        .integer("errorValue")?;
    let parameter = r.next("parameter")?.map(|p| ErrorParameter::decode(&p));
    let unknown = rest(&mut r, "returnError")?;
    Ok(ReturnError {
        invoke_id,
        error_value,
        parameter,
        unknown,
    })
}

fn decode_reject(t: &Tlv<'_>) -> Result<Reject> {
    let mut r = t.reader("reject")?;
    let id = r.read("invokeID")?;
    let invoke_id = if id.tag == Tag::NULL {
        id.null("invokeID")?;
        None
    } else if id.tag == Tag::INTEGER {
        Some(id.integer("invokeID")?)
    } else {
        return Err(PduError::new(
            id.offset,
            "invokeID",
            ErrorKind::UnexpectedTag {
                expected: Tag::INTEGER,
                found: id.tag,
            },
        ));
    };
    let p = r.read("problem")?;
    let known = p.tag.class == Class::Context && !p.tag.constructed && p.tag.number <= 3;
    let problem = match (known, p.integer("problem")) {
        (true, Ok(v)) => match p.tag.number {
            0 => RejectProblem::General(GeneralProblem::from_code(v)),
            1 => RejectProblem::Invoke(InvokeProblem::from_code(v)),
            2 => RejectProblem::ReturnResult(ReturnResultProblem::from_code(v)),
            _ => RejectProblem::ReturnError(ReturnErrorProblem::from_code(v)),
        },
        _ => RejectProblem::Unknown(RawTlv::from_tlv(&p)),
    };
    let unknown = rest(&mut r, "reject")?;
    Ok(Reject {
        invoke_id,
        problem,
        unknown,
    })
}
