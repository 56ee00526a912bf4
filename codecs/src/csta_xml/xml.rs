//! XML plumbing for the CSTA XML codec: a bounded, namespace-aware element tree read with
//! quick-xml's `NsReader`, a small escaping writer, and the traits and macros that turn
//! elements into typed values and back.
//!
//! Elements are matched by local name when they are in an ECMA-323 namespace (any edition),
//! the ECMA-354 application-session namespace or no namespace at all, whatever prefix they
//! carry. Anything else (unknown names, other namespaces, unbound prefixes) is kept as an
//! [`Opaque`] element: its local name and its raw XML text.
// Not yet documented item by item: `missing_docs` (see lib.rs) is held off here until it is.
#![allow(missing_docs)]

use bytes::{BufMut, BytesMut};
use quick_xml::NsReader;
use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use serde::Serialize;

use super::error::{ErrorKind, MessageError};

/// Namespace URI prefix of every ECMA-323 edition (`.../csta/ed3`, `ed4`, `ed6`).
pub const CSTA_NS_PREFIX: &str = "http://www.ecma-international.org/standards/ecma-323/csta/";
/// Namespace of the ECMA-354 application-session messages.
pub const APPL_SESSION_NS: &str =
    "http://www.ecma-international.org/standards/ecma-354/appl_session";

/// The UTF-8 byte order mark, allowed before the document.
const UTF8_BOM: &[u8] = b"\xEF\xBB\xBF";

/// Bounds on what a decoder accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Largest document, in bytes.
    pub max_size: usize,
    /// Deepest element nesting (the root is depth 1).
    pub max_depth: usize,
    /// Most elements in one document.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_size: 64 * 1024,
            max_depth: 32,
            max_elements: 4096,
        }
    }
}

/// How an element's namespace was classified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ns {
    /// No namespace (no prefix, no default namespace in scope).
    None,
    /// An ECMA-323 namespace; the edition is read from the root separately.
    Csta,
    /// The ECMA-354 application-session namespace.
    Session,
    /// Another namespace, or a prefix that is not bound.
    Foreign,
}

const NONE: u32 = u32::MAX;

#[derive(Debug)]
struct Node {
    name: String,
    ns: Ns,
    start: u32,
    end: u32,
    parent: u32,
    first_child: u32,
    last_child: u32,
    next_sibling: u32,
    text: String,
    /// Namespace declarations made on this element: prefix (`None` for the default) and the
    /// URI as written. Used to make opaque copies self-contained.
    decls: Vec<(Option<String>, String)>,
}

/// A parsed document: the input and its elements in document order (root first).
#[derive(Debug)]
pub(crate) struct Doc<'a> {
    input: &'a [u8],
    nodes: Vec<Node>,
    /// The namespace URI of the root element, when it has one.
    pub root_ns: Option<String>,
}

/// An element of a [`Doc`].
#[derive(Clone, Copy)]
pub(crate) struct El<'d> {
    doc: &'d Doc<'d>,
    idx: u32,
}

fn classify<'r>(res: &'r ResolveResult<'_>) -> (Ns, Option<&'r [u8]>) {
    match res {
        ResolveResult::Unbound => (Ns::None, None),
        ResolveResult::Bound(ns) => {
            let uri = ns.as_ref();
            if uri.starts_with(CSTA_NS_PREFIX.as_bytes()) {
                (Ns::Csta, Some(uri))
            } else if uri == APPL_SESSION_NS.as_bytes() {
                (Ns::Session, Some(uri))
            } else if uri.is_empty() {
                (Ns::None, None)
            } else {
                (Ns::Foreign, Some(uri))
            }
        }
        ResolveResult::Unknown(_) => (Ns::Foreign, None),
    }
}

fn malformed(e: impl std::fmt::Display) -> ErrorKind {
    ErrorKind::Malformed {
        message: e.to_string(),
    }
}

/// A local name we can write back: not empty, no markup or quote characters, no whitespace.
fn valid_name(s: &str) -> bool {
    !s.is_empty()
        && !s.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '.')
        && s.chars().all(|c| {
            !c.is_whitespace()
                && !matches!(
                    c,
                    '<' | '>' | '&' | '"' | '\'' | '=' | '/' | ':' | '!' | '?'
                )
        })
}

/// Text of the predefined entity or character reference `name` (without `&` and `;`).
fn resolve_ref(name: &[u8]) -> Option<char> {
    match name {
        b"lt" => Some('<'),
        b"gt" => Some('>'),
        b"amp" => Some('&'),
        b"apos" => Some('\''),
        b"quot" => Some('"'),
        [b'#', b'x' | b'X', hex @ ..] if !hex.is_empty() && hex.len() <= 8 => {
            u32::from_str_radix(std::str::from_utf8(hex).ok()?, 16)
                .ok()
                .and_then(char::from_u32)
        }
        [b'#', dec @ ..] if !dec.is_empty() && dec.len() <= 10 => std::str::from_utf8(dec)
            .ok()?
            .parse::<u32>()
            .ok()
            .and_then(char::from_u32),
        _ => None,
    }
}

impl<'a> Doc<'a> {
    /// Reads a whole document into an element tree, within `limits`.
    pub(crate) fn parse(input: &'a [u8], limits: &Limits) -> Result<Doc<'a>, MessageError> {
        if input.len() > limits.max_size.min(u32::MAX as usize) {
            return Err(MessageError::new(
                0,
                "",
                ErrorKind::TooLarge {
                    size: input.len(),
                    max: limits.max_size,
                },
            ));
        }
        let mut doc = Doc {
            input,
            nodes: Vec::new(),
            root_ns: None,
        };
        // Opaque copies are slices of the input and text is read as UTF-8: the whole document
        // must be UTF-8, attribute values, comments and processing instructions included.
        if let Err(e) = std::str::from_utf8(input) {
            return Err(MessageError::new(
                e.valid_up_to() as u64,
                "",
                ErrorKind::NotUtf8,
            ));
        }
        // quick-xml drops one leading UTF-8 BOM from a slice without counting it in its
        // positions: add it back, so that offsets (error positions and the element ranges
        // opaque copies are cut from) index `input`. (Stripping it here instead would not do:
        // quick-xml would then drop a second BOM, uncounted again.)
        let base = if input.starts_with(UTF8_BOM) {
            UTF8_BOM.len() as u64
        } else {
            0
        };
        let mut reader = NsReader::from_reader(input);
        {
            let cfg = reader.config_mut();
            cfg.expand_empty_elements = true;
            cfg.check_end_names = true;
            cfg.trim_text_start = false;
            cfg.trim_text_end = false;
        }
        let mut stack: Vec<u32> = Vec::new();
        let mut root_done = false;
        loop {
            let before = base + reader.buffer_position();
            let event = match reader.read_resolved_event() {
                Ok(ev) => ev,
                Err(e) => {
                    let at = base + reader.error_position();
                    return Err(doc.error_at(at, &stack, malformed(e)));
                }
            };
            match event {
                (res, Event::Start(start)) => {
                    if root_done {
                        return Err(doc.error_at(before, &stack, ErrorKind::TrailingContent));
                    }
                    if stack.len() >= limits.max_depth {
                        return Err(doc.error_at(
                            before,
                            &stack,
                            ErrorKind::TooDeep {
                                max: limits.max_depth,
                            },
                        ));
                    }
                    if doc.nodes.len() >= limits.max_elements {
                        return Err(doc.error_at(
                            before,
                            &stack,
                            ErrorKind::TooManyElements {
                                max: limits.max_elements,
                            },
                        ));
                    }
                    let (ns, uri) = classify(&res);
                    if stack.is_empty() {
                        doc.root_ns = uri.map(|u| String::from_utf8_lossy(u).into_owned());
                    }
                    let mut decls = Vec::new();
                    for attr in start.attributes().with_checks(true) {
                        let attr = match attr {
                            Ok(a) => a,
                            Err(e) => {
                                return Err(doc.error_at(before, &stack, malformed(e)));
                            }
                        };
                        let key = attr.key.as_ref();
                        let prefix = if key == b"xmlns" {
                            None
                        } else if let Some(p) = key.strip_prefix(b"xmlns:") {
                            Some(String::from_utf8_lossy(p).into_owned())
                        } else {
                            continue;
                        };
                        let value = String::from_utf8_lossy(&attr.value)
                            .replace('"', "&quot;")
                            .replace('<', "&lt;");
                        decls.push((prefix, value));
                    }
                    let name = match std::str::from_utf8(start.local_name().as_ref()) {
                        Ok(s) if valid_name(s) => s.to_string(),
                        Ok(s) => {
                            return Err(doc.error_at(
                                before,
                                &stack,
                                malformed(format_args!("invalid element name {s:?}")),
                            ));
                        }
                        Err(_) => return Err(doc.error_at(before, &stack, ErrorKind::NotUtf8)),
                    };
                    let idx = doc.nodes.len() as u32;
                    let parent = stack.last().copied().unwrap_or(NONE);
                    doc.nodes.push(Node {
                        name,
                        ns,
                        start: before as u32,
                        end: before as u32,
                        parent,
                        first_child: NONE,
                        last_child: NONE,
                        next_sibling: NONE,
                        text: String::new(),
                        decls,
                    });
                    if parent != NONE {
                        let p = &mut doc.nodes[parent as usize];
                        let last = p.last_child;
                        p.last_child = idx;
                        if last == NONE {
                            p.first_child = idx;
                        } else {
                            doc.nodes[last as usize].next_sibling = idx;
                        }
                    }
                    stack.push(idx);
                }
                (_, Event::End(_)) => {
                    let end = base + reader.buffer_position();
                    if let Some(idx) = stack.pop() {
                        doc.nodes[idx as usize].end = end as u32;
                    }
                    if stack.is_empty() {
                        root_done = true;
                    }
                }
                (_, Event::Empty(_)) => {
                    // Not produced with `expand_empty_elements`.
                }
                (_, Event::Text(t)) => {
                    let Some(&top) = stack.last() else {
                        let t: &[u8] = &t;
                        let t = t.strip_prefix(UTF8_BOM).unwrap_or(t);
                        if t.iter().all(|b| b.is_ascii_whitespace()) {
                            continue;
                        }
                        return Err(doc.error_at(before, &stack, ErrorKind::TextOutsideRoot));
                    };
                    match t.decode() {
                        Ok(s) => doc.nodes[top as usize].text.push_str(&s),
                        Err(_) => return Err(doc.error_at(before, &stack, ErrorKind::NotUtf8)),
                    }
                }
                (_, Event::CData(t)) => {
                    let Some(&top) = stack.last() else {
                        return Err(doc.error_at(before, &stack, ErrorKind::TextOutsideRoot));
                    };
                    match std::str::from_utf8(&t) {
                        Ok(s) => doc.nodes[top as usize].text.push_str(s),
                        Err(_) => return Err(doc.error_at(before, &stack, ErrorKind::NotUtf8)),
                    }
                }
                (_, Event::GeneralRef(r)) => {
                    let Some(&top) = stack.last() else {
                        return Err(doc.error_at(before, &stack, ErrorKind::TextOutsideRoot));
                    };
                    match resolve_ref(&r) {
                        Some(c) => doc.nodes[top as usize].text.push(c),
                        None => {
                            return Err(doc.error_at(
                                before,
                                &stack,
                                ErrorKind::UnknownEntity {
                                    name: String::from_utf8_lossy(&r).into_owned(),
                                },
                            ));
                        }
                    }
                }
                (_, Event::DocType(_)) => {
                    return Err(doc.error_at(before, &stack, ErrorKind::DocType));
                }
                (_, Event::Decl(_) | Event::PI(_) | Event::Comment(_)) => {}
                (_, Event::Eof) => {
                    if !stack.is_empty() {
                        return Err(doc.error_at(
                            input.len() as u64,
                            &stack,
                            malformed("document ends inside an element"),
                        ));
                    }
                    break;
                }
            }
        }
        if doc.nodes.is_empty() {
            return Err(MessageError::new(input.len() as u64, "", ErrorKind::NoRoot));
        }
        Ok(doc)
    }

    fn path_of(&self, mut idx: u32) -> String {
        let mut names = Vec::new();
        while idx != NONE {
            let n = &self.nodes[idx as usize];
            names.push(n.name.as_str());
            idx = n.parent;
        }
        names.reverse();
        names.join("/")
    }

    fn error_at(&self, offset: u64, stack: &[u32], kind: ErrorKind) -> MessageError {
        let path = stack.last().map(|&i| self.path_of(i)).unwrap_or_default();
        MessageError::new(offset, path, kind)
    }

    pub(crate) fn root(&'a self) -> El<'a> {
        El { doc: self, idx: 0 }
    }
}

impl<'d> El<'d> {
    fn node(&self) -> &'d Node {
        &self.doc.nodes[self.idx as usize]
    }
    /// Local name.
    pub(crate) fn name(&self) -> &'d str {
        &self.node().name
    }
    pub(crate) fn ns(&self) -> Ns {
        self.node().ns
    }
    /// In a namespace whose elements we interpret (ECMA-323, ECMA-354 or none).
    pub(crate) fn is_ours(&self) -> bool {
        self.ns() != Ns::Foreign
    }
    /// The element's own text, trimmed of XML whitespace.
    pub(crate) fn text(&self) -> &'d str {
        self.node()
            .text
            .trim_matches(|c| matches!(c, ' ' | '\t' | '\r' | '\n'))
    }
    pub(crate) fn offset(&self) -> u64 {
        u64::from(self.node().start)
    }
    pub(crate) fn path(&self) -> String {
        self.doc.path_of(self.idx)
    }
    pub(crate) fn children(&self) -> Children<'d> {
        Children {
            doc: self.doc,
            next: self.node().first_child,
        }
    }
    /// The first child in our namespaces with this local name.
    pub(crate) fn child(&self, name: &str) -> Option<El<'d>> {
        self.children().find(|c| c.is_ours() && c.name() == name)
    }
    pub(crate) fn has_children(&self) -> bool {
        self.node().first_child != NONE
    }
    /// An error about this element.
    pub(crate) fn error(&self, kind: ErrorKind) -> MessageError {
        MessageError::new(self.offset(), self.path(), kind)
    }
    /// A bad value in this element's text.
    pub(crate) fn bad_value(&self, expected: &str) -> MessageError {
        self.error(ErrorKind::BadValue {
            value: self.text().chars().take(80).collect(),
            expected: expected.to_string(),
        })
    }
    /// A mandatory child missing from this element.
    pub(crate) fn missing(&self, child: &str) -> MessageError {
        MessageError::new(
            self.offset(),
            format!("{}/{child}", self.path()),
            ErrorKind::Missing {
                element: child.to_string(),
            },
        )
    }
    /// This element as an opaque copy: local name and raw XML text.
    pub(crate) fn opaque(&self) -> Opaque {
        let n = self.node();
        let raw = self
            .doc
            .input
            .get(n.start as usize..n.end as usize)
            .unwrap_or_default();
        // The document is valid UTF-8 (checked before parsing) and element ranges start at `<`
        // and end after `>`, so the slice is UTF-8 too.
        let mut raw = String::from_utf8_lossy(raw).into_owned();
        // Namespace declarations in scope from ancestors, so the copy means the same alone.
        let mut seen: Vec<Option<&str>> = n.decls.iter().map(|(p, _)| p.as_deref()).collect();
        let mut decl = String::new();
        let mut up = n.parent;
        while up != NONE {
            let a = &self.doc.nodes[up as usize];
            for (p, uri) in &a.decls {
                if !seen.contains(&p.as_deref()) {
                    seen.push(p.as_deref());
                    // An inherited default namespace only matters when it is a foreign one:
                    // ours (ECMA-323, ECMA-354, none) is what the encoder's root declares.
                    if p.is_none()
                        && (uri.is_empty()
                            || uri.starts_with(CSTA_NS_PREFIX)
                            || uri == APPL_SESSION_NS)
                    {
                        continue;
                    }
                    match p {
                        None => decl.push_str(" xmlns=\""),
                        Some(p) => {
                            decl.push_str(" xmlns:");
                            decl.push_str(p);
                            decl.push_str("=\"");
                        }
                    }
                    decl.push_str(uri);
                    decl.push('"');
                }
            }
            up = a.parent;
        }
        if !decl.is_empty() {
            // After `<qname`: the first whitespace, `/` or `>`.
            let at = raw
                .char_indices()
                .skip(1)
                .find(|(_, c)| c.is_ascii_whitespace() || *c == '/' || *c == '>')
                .map_or(raw.len(), |(i, _)| i);
            raw.insert_str(at, &decl);
        }
        Opaque {
            name: n.name.clone(),
            raw,
        }
    }
}

/// Iterator over an element's children.
pub(crate) struct Children<'d> {
    doc: &'d Doc<'d>,
    next: u32,
}

impl<'d> Iterator for Children<'d> {
    type Item = El<'d>;
    fn next(&mut self) -> Option<El<'d>> {
        if self.next == NONE {
            return None;
        }
        let el = El {
            doc: self.doc,
            idx: self.next,
        };
        self.next = self.doc.nodes[self.next as usize].next_sibling;
        Some(el)
    }
}

/// An element kept as received: an unknown element, an element in another namespace, private
/// data (`privateData`, `extensions`) or a whole unknown message. Written back verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Opaque {
    /// Local name (without prefix).
    pub name: String,
    /// The element's raw XML text, start tag to end tag.
    pub raw: String,
}

/// Writes XML into a buffer, escaping text.
pub(crate) struct Writer<'a> {
    out: &'a mut BytesMut,
    root_ns: Option<&'a str>,
}

impl<'a> Writer<'a> {
    pub(crate) fn new(out: &'a mut BytesMut, root_ns: &'a str) -> Self {
        Writer {
            out,
            root_ns: Some(root_ns),
        }
    }
    pub(crate) fn open(&mut self, name: &str) {
        self.out.put_u8(b'<');
        self.out.put_slice(name.as_bytes());
        if let Some(ns) = self.root_ns.take() {
            self.out.put_slice(b" xmlns=\"");
            self.out.put_slice(ns.as_bytes());
            self.out.put_u8(b'"');
        }
        self.out.put_u8(b'>');
    }
    pub(crate) fn close(&mut self, name: &str) {
        self.out.put_slice(b"</");
        self.out.put_slice(name.as_bytes());
        self.out.put_u8(b'>');
    }
    pub(crate) fn empty(&mut self, name: &str) {
        self.out.put_u8(b'<');
        self.out.put_slice(name.as_bytes());
        self.out.put_slice(b"/>");
    }
    pub(crate) fn leaf(&mut self, name: &str, text: &str) {
        self.open(name);
        self.text(text);
        self.close(name);
    }
    pub(crate) fn text(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut from = 0;
        for (i, &b) in bytes.iter().enumerate() {
            let esc: &[u8] = match b {
                b'<' => b"&lt;",
                b'>' => b"&gt;",
                b'&' => b"&amp;",
                b'\r' => b"&#13;",
                _ => continue,
            };
            self.out.put_slice(&bytes[from..i]);
            self.out.put_slice(esc);
            from = i + 1;
        }
        self.out.put_slice(&bytes[from..]);
    }
    pub(crate) fn raw(&mut self, raw: &str) {
        self.out.put_slice(raw.as_bytes());
    }
}

/// A value read from one element and written as one element.
pub(crate) trait XmlValue: Sized {
    fn decode(el: El<'_>) -> Result<Self, MessageError>;
    fn encode(&self, name: &str, w: &mut Writer<'_>);
}

/// How a struct field maps to child elements: mandatory (`T`), optional (`Option<T>`) or
/// repeated (`Vec<T>`).
pub(crate) trait Field: Sized {
    type Slot: Default;
    /// Takes one matching child; `false` when the field is already filled (the child is then
    /// kept opaque).
    fn put(slot: &mut Self::Slot, el: El<'_>) -> Result<bool, MessageError>;
    fn finish(slot: Self::Slot, parent: El<'_>, name: &str) -> Result<Self, MessageError>;
    fn write(&self, name: &str, w: &mut Writer<'_>);
    fn absent(&self) -> bool;
}

impl<T: XmlValue> Field for T {
    type Slot = Option<T>;
    fn put(slot: &mut Option<T>, el: El<'_>) -> Result<bool, MessageError> {
        if slot.is_some() {
            return Ok(false);
        }
        *slot = Some(T::decode(el)?);
        Ok(true)
    }
    fn finish(slot: Option<T>, parent: El<'_>, name: &str) -> Result<T, MessageError> {
        slot.ok_or_else(|| parent.missing(name))
    }
    fn write(&self, name: &str, w: &mut Writer<'_>) {
        self.encode(name, w)
    }
    fn absent(&self) -> bool {
        false
    }
}

impl<T: XmlValue> Field for Option<T> {
    type Slot = Option<T>;
    fn put(slot: &mut Option<T>, el: El<'_>) -> Result<bool, MessageError> {
        <T as Field>::put(slot, el)
    }
    fn finish(slot: Option<T>, _: El<'_>, _: &str) -> Result<Option<T>, MessageError> {
        Ok(slot)
    }
    fn write(&self, name: &str, w: &mut Writer<'_>) {
        if let Some(v) = self {
            v.encode(name, w)
        }
    }
    fn absent(&self) -> bool {
        self.is_none()
    }
}

impl<T: XmlValue> Field for Vec<T> {
    type Slot = Vec<T>;
    fn put(slot: &mut Vec<T>, el: El<'_>) -> Result<bool, MessageError> {
        slot.push(T::decode(el)?);
        Ok(true)
    }
    fn finish(slot: Vec<T>, _: El<'_>, _: &str) -> Result<Vec<T>, MessageError> {
        Ok(slot)
    }
    fn write(&self, name: &str, w: &mut Writer<'_>) {
        for v in self {
            v.encode(name, w)
        }
    }
    fn absent(&self) -> bool {
        self.is_empty()
    }
}

/// For `skip_serializing_if`: an absent optional or an empty list.
pub(crate) fn absent<T: Field>(v: &T) -> bool {
    v.absent()
}

impl XmlValue for String {
    fn decode(el: El<'_>) -> Result<Self, MessageError> {
        Ok(el.text().to_string())
    }
    fn encode(&self, name: &str, w: &mut Writer<'_>) {
        w.leaf(name, self)
    }
}

impl XmlValue for bool {
    fn decode(el: El<'_>) -> Result<Self, MessageError> {
        match el.text() {
            "true" | "1" => Ok(true),
            "false" | "0" => Ok(false),
            _ => Err(el.bad_value("boolean")),
        }
    }
    fn encode(&self, name: &str, w: &mut Writer<'_>) {
        w.leaf(name, if *self { "true" } else { "false" })
    }
}

impl XmlValue for u32 {
    fn decode(el: El<'_>) -> Result<Self, MessageError> {
        let t = el.text();
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return Err(el.bad_value("unsigned integer"));
        }
        t.parse().map_err(|_| el.bad_value("unsigned integer"))
    }
    fn encode(&self, name: &str, w: &mut Writer<'_>) {
        w.leaf(name, &self.to_string())
    }
}

/// Declares a struct read from and written as an element with child elements, one per field
/// in the given order; children that match no field are kept in `extensions`.
macro_rules! xml_struct {
    (
        $(#[$meta:meta])*
        pub struct $name:ident {
            $( $(#[$fmeta:meta])* $field:ident : $ty:ty = $xml:literal ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, PartialEq, Default, serde::Serialize)]
        pub struct $name {
            $(
                $(#[$fmeta])*
                #[serde(rename = $xml, skip_serializing_if = "crate::csta_xml::xml::absent")]
                pub $field: $ty,
            )*
            /// Unknown elements and private data, kept opaque in document order.
            #[serde(skip_serializing_if = "Vec::is_empty")]
            pub extensions: Vec<crate::csta_xml::xml::Opaque>,
        }

        impl crate::csta_xml::xml::XmlValue for $name {
            #[allow(unused_mut, clippy::match_single_binding)]
            fn decode(
                el: crate::csta_xml::xml::El<'_>,
            ) -> Result<Self, crate::csta_xml::error::MessageError> {
                #[allow(unused_imports)]
                use crate::csta_xml::xml::Field;
                $( let mut $field = <<$ty as Field>::Slot as Default>::default(); )*
                let mut extensions = Vec::new();
                for child in el.children() {
                    let taken = child.is_ours()
                        && match child.name() {
                            $( $xml => <$ty as Field>::put(&mut $field, child)?, )*
                            _ => false,
                        };
                    if !taken {
                        extensions.push(child.opaque());
                    }
                }
                Ok($name {
                    $( $field: <$ty as Field>::finish($field, el, $xml)?, )*
                    extensions,
                })
            }

            fn encode(&self, name: &str, w: &mut crate::csta_xml::xml::Writer<'_>) {
                #[allow(unused_imports)]
                use crate::csta_xml::xml::Field;
                w.open(name);
                $( Field::write(&self.$field, $xml, w); )*
                for x in &self.extensions {
                    w.raw(&x.raw);
                }
                w.close(name);
            }
        }
    };
}

/// Declares a closed enumeration written as one of the given element texts.
macro_rules! xml_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident {
            $( $(#[$vmeta:meta])* $variant:ident = $xml:literal ),+ $(,)?
        }
        $(unknown => $fallback:ident)?
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every value, in declaration order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The ECMA-323 name.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $xml, )+
                }
            }
            /// The value with this ECMA-323 name.
            pub fn from_name(s: &str) -> Option<Self> {
                match s {
                    $( $xml => Some($name::$variant), )+
                    _ => None,
                }
            }
        }

        impl Default for $name {
            fn default() -> Self {
                $name::ALL[0]
            }
        }

        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl crate::csta_xml::xml::XmlValue for $name {
            fn decode(
                el: crate::csta_xml::xml::El<'_>,
            ) -> Result<Self, crate::csta_xml::error::MessageError> {
                // a value outside the list is an error, unless the type names a fallback
                // (vendor values must not cost us the message that carries them)
                $name::from_name(el.text())
                    $(.or(Some($name::$fallback)))?
                    .ok_or_else(|| el.bad_value(stringify!($name)))
            }
            fn encode(&self, name: &str, w: &mut crate::csta_xml::xml::Writer<'_>) {
                w.leaf(name, self.as_str())
            }
        }
    };
}

pub(crate) use {xml_enum, xml_struct};
