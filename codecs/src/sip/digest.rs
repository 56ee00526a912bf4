//! HTTP Digest authentication for SIP (RFC 2617, RFC 8760 for SHA-256): the response to a
//! `WWW-Authenticate` / `Proxy-Authenticate` challenge, as an `Authorization` /
//! `Proxy-Authorization` value. MD5 (RFC 1321) and SHA-256 (FIPS 180-4) are implemented here in
//! a few lines each: the codecs crate cannot use the daemon's MD5, and two small, test-vector
//! checked functions cost less than two more dependencies.

use std::fmt::Write as _;

use super::header::Auth;
use super::text::Param;

/// The hash a challenge asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Algorithm {
    Md5,
    Md5Sess,
    Sha256,
    Sha256Sess,
}

impl Algorithm {
    /// From the `algorithm` parameter (absent means MD5).
    pub fn parse(s: Option<&str>) -> Option<Algorithm> {
        match s.map(str::to_ascii_uppercase).as_deref() {
            None | Some("MD5") => Some(Algorithm::Md5),
            Some("MD5-SESS") => Some(Algorithm::Md5Sess),
            Some("SHA-256") => Some(Algorithm::Sha256),
            Some("SHA-256-SESS") => Some(Algorithm::Sha256Sess),
            _ => None,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Algorithm::Md5 => "MD5",
            Algorithm::Md5Sess => "MD5-sess",
            Algorithm::Sha256 => "SHA-256",
            Algorithm::Sha256Sess => "SHA-256-sess",
        }
    }

    /// Lower-case hex digest of `data`.
    pub fn hex(self, data: &[u8]) -> String {
        match self {
            Algorithm::Md5 | Algorithm::Md5Sess => to_hex(&md5(data)),
            Algorithm::Sha256 | Algorithm::Sha256Sess => to_hex(&sha256(data)),
        }
    }

    fn is_sess(self) -> bool {
        matches!(self, Algorithm::Md5Sess | Algorithm::Sha256Sess)
    }
}

/// Why no response could be computed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("challenge scheme {0:?} is not Digest")]
    NotDigest(String),
    #[error("challenge has no {0}")]
    Missing(&'static str),
    #[error("unsupported algorithm {0:?}")]
    Algorithm(String),
    #[error("challenge offers qop {0:?}, none of which is `auth`")]
    Qop(String),
}

/// The inputs of one digest computation (RFC 2617 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DigestInput<'a> {
    pub algorithm: Algorithm,
    pub username: &'a str,
    pub realm: &'a str,
    pub password: &'a str,
    pub nonce: &'a str,
    pub method: &'a str,
    pub uri: &'a str,
    /// `Some("auth")` with `cnonce` and `nc`, or `None` for RFC 2069 compatibility.
    pub qop: Option<&'a str>,
    pub cnonce: &'a str,
    /// Nonce count, written as 8 hex digits.
    pub nc: u32,
}

/// `response = H(H(A1):nonce[:nc:cnonce:qop]:H(A2))` with `A1 = user:realm:password` (and
/// `:nonce:cnonce` for the `-sess` variants) and `A2 = method:uri`.
pub fn response(input: &DigestInput<'_>) -> String {
    let alg = input.algorithm;
    let mut ha1 =
        alg.hex(format!("{}:{}:{}", input.username, input.realm, input.password).as_bytes());
    if alg.is_sess() {
        ha1 = alg.hex(format!("{ha1}:{}:{}", input.nonce, input.cnonce).as_bytes());
    }
    let ha2 = alg.hex(format!("{}:{}", input.method, input.uri).as_bytes());
    let kd = match input.qop {
        Some(qop) => format!(
            "{ha1}:{}:{:08x}:{}:{qop}:{ha2}",
            input.nonce, input.nc, input.cnonce
        ),
        None => format!("{ha1}:{}:{ha2}", input.nonce),
    };
    alg.hex(kd.as_bytes())
}

/// Answers a challenge: the credentials to send in `Authorization` (for a 401) or
/// `Proxy-Authorization` (for a 407). `cnonce` should be fresh and random per nonce; `nc`
/// counts the requests sent with this nonce (from 1).
pub fn authorize(
    challenge: &Auth,
    username: &str,
    password: &str,
    method: &str,
    uri: &str,
    cnonce: &str,
    nc: u32,
) -> Result<Auth, DigestError> {
    if !challenge.is_digest() {
        return Err(DigestError::NotDigest(challenge.scheme.clone()));
    }
    let realm = challenge.realm().ok_or(DigestError::Missing("realm"))?;
    let nonce = challenge.nonce().ok_or(DigestError::Missing("nonce"))?;
    let algorithm = Algorithm::parse(challenge.algorithm())
        .ok_or_else(|| DigestError::Algorithm(challenge.algorithm().unwrap_or_default().into()))?;
    let offered = challenge.qop_options();
    let qop = match offered.as_slice() {
        [] => None,
        q if q.iter().any(|o| o.eq_ignore_ascii_case("auth")) => Some("auth"),
        _ => return Err(DigestError::Qop(offered.join(","))),
    };
    let input = DigestInput {
        algorithm,
        username,
        realm,
        password,
        nonce,
        method,
        uri,
        qop,
        cnonce,
        nc,
    };
    let mut params = vec![
        Param::quoted("username", username),
        Param::quoted("realm", realm),
        Param::quoted("nonce", nonce),
        Param::quoted("uri", uri),
        Param::quoted("response", response(&input)),
    ];
    if challenge.algorithm().is_some() {
        params.push(Param::new("algorithm", algorithm.as_str()));
    }
    if let Some(opaque) = challenge.opaque() {
        params.push(Param::quoted("opaque", opaque));
    }
    if let Some(qop) = qop {
        params.push(Param::new("qop", qop));
        params.push(Param::new("nc", format!("{nc:08x}")));
        params.push(Param::quoted("cnonce", cnonce));
    }
    Ok(Auth {
        scheme: "Digest".into(),
        params,
    })
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Message padding shared by MD5 (little-endian length) and SHA-256 (big-endian length).
fn padded(data: &[u8], big_endian: bool) -> Vec<u8> {
    let mut m = data.to_vec();
    let bits = (data.len() as u64).wrapping_mul(8);
    m.push(0x80);
    while m.len() % 64 != 56 {
        m.push(0);
    }
    m.extend_from_slice(&if big_endian {
        bits.to_be_bytes()
    } else {
        bits.to_le_bytes()
    });
    m
}

/// MD5 (RFC 1321).
pub fn md5(data: &[u8]) -> [u8; 16] {
    const S: [u32; 16] = [7, 12, 17, 22, 5, 9, 14, 20, 4, 11, 16, 23, 6, 10, 15, 21];
    let k: [u32; 64] =
        std::array::from_fn(|i| ((i as f64 + 1.0).sin().abs() * 4_294_967_296.0) as u32);
    let mut h: [u32; 4] = [0x6745_2301, 0xefcd_ab89, 0x98ba_dcfe, 0x1032_5476];
    for block in padded(data, false).chunks_exact(64) {
        let w: [u32; 16] = std::array::from_fn(|i| {
            let b = block.get(i * 4..i * 4 + 4).unwrap_or(&[0; 4]);
            u32::from_le_bytes([b[0], b[1], b[2], b[3]])
        });
        let [mut a, mut b, mut c, mut d] = h;
        for i in 0..64 {
            let (f, g) = match i / 16 {
                0 => ((b & c) | (!b & d), i),
                1 => ((d & b) | (!d & c), (5 * i + 1) % 16),
                2 => (b ^ c ^ d, (3 * i + 5) % 16),
                _ => (c ^ (b | !d), (7 * i) % 16),
            };
            let s = S[(i / 16) * 4 + i % 4];
            let f = f.wrapping_add(a).wrapping_add(k[i]).wrapping_add(w[g]);
            a = d;
            d = c;
            c = b;
            b = b.wrapping_add(f.rotate_left(s));
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 16];
    for (o, x) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&x.to_le_bytes());
    }
    out
}

/// SHA-256 (FIPS 180-4).
pub fn sha256(data: &[u8]) -> [u8; 32] {
    const K: [u32; 64] = [
        0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4,
        0xab1c5ed5, 0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe,
        0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f,
        0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7,
        0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc,
        0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b,
        0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116,
        0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
        0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
        0xc67178f2,
    ];
    let mut h: [u32; 8] = [
        0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab,
        0x5be0cd19,
    ];
    for block in padded(data, true).chunks_exact(64) {
        let mut w = [0u32; 64];
        for (i, wi) in w.iter_mut().enumerate().take(16) {
            let b = block.get(i * 4..i * 4 + 4).unwrap_or(&[0; 4]);
            *wi = u32::from_be_bytes([b[0], b[1], b[2], b[3]]);
        }
        for i in 16..64 {
            let s0 = w[i - 15].rotate_right(7) ^ w[i - 15].rotate_right(18) ^ (w[i - 15] >> 3);
            let s1 = w[i - 2].rotate_right(17) ^ w[i - 2].rotate_right(19) ^ (w[i - 2] >> 10);
            w[i] = w[i - 16]
                .wrapping_add(s0)
                .wrapping_add(w[i - 7])
                .wrapping_add(s1);
        }
        let [mut a, mut b, mut c, mut d, mut e, mut f, mut g, mut hh] = h;
        for i in 0..64 {
            let s1 = e.rotate_right(6) ^ e.rotate_right(11) ^ e.rotate_right(25);
            let ch = (e & f) ^ (!e & g);
            let t1 = hh
                .wrapping_add(s1)
                .wrapping_add(ch)
                .wrapping_add(K[i])
                .wrapping_add(w[i]);
            let s0 = a.rotate_right(2) ^ a.rotate_right(13) ^ a.rotate_right(22);
            let maj = (a & b) ^ (a & c) ^ (b & c);
            let t2 = s0.wrapping_add(maj);
            hh = g;
            g = f;
            f = e;
            e = d.wrapping_add(t1);
            d = c;
            c = b;
            b = a;
            a = t1.wrapping_add(t2);
        }
        for (x, y) in h.iter_mut().zip([a, b, c, d, e, f, g, hh]) {
            *x = x.wrapping_add(y);
        }
    }
    let mut out = [0u8; 32];
    for (o, x) in out.chunks_exact_mut(4).zip(h) {
        o.copy_from_slice(&x.to_be_bytes());
    }
    out
}
