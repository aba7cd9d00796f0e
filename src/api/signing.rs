//! AK/SK request signatures in the `SDK-HMAC-SHA256` scheme of the official Huawei Cloud SDKs: their verification,
//! and the one client signer of `ecsd ctl`, the bench and the tests.
//!
//! The algorithm is the one of `huaweicloudsdkcore/signer/signer.py` (spec section 7.2): a canonical request is built
//! from the method, the path, the query, the signed headers and the payload hash; its SHA-256 goes into a string to
//! sign, which is HMAC-SHA256'd with the secret key as-is (no key derivation, no scoping).
//!
//! The module is pure and framework-free: the HTTP layer copies the request into a [`RequestToVerify`], parses the
//! `Authorization` header with [`RequestToVerify::authorization`] or [`parse_authorization`], looks up the secret key
//! for [`AuthorizationHeader::access_key`], then calls [`verify_signature`] and [`check_clock_skew`]. A client calls
//! [`sign_request`] and sends the headers it returns.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use time::format_description::BorrowedFormatItem;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime, UtcOffset};

/// The only algorithm accepted; it is the default of every official SDK for a custom endpoint.
pub const ALGORITHM: &str = "SDK-HMAC-SHA256";

/// Largest accepted distance between `X-Sdk-Date` and the server clock (spec 7.4).
pub const MAX_CLOCK_SKEW: time::Duration = time::Duration::minutes(15);

/// Header carrying the signing time, [`SDK_DATE_FORMAT`] in UTC.
pub const SDK_DATE_HEADER: &str = "x-sdk-date";

/// `YYYYMMDDTHHMMSSZ`, the form of [`SDK_DATE_HEADER`] (e.g. `20240101T000000Z`).
pub const SDK_DATE_FORMAT: &[BorrowedFormatItem<'static>] =
    format_description!("[year][month][day]T[hour][minute][second]Z");

/// Header that, when present on a request with a body, replaces the computed payload hash.
pub const CONTENT_SHA256_HEADER: &str = "x-sdk-content-sha256";

/// Value the SDK puts in [`CONTENT_SHA256_HEADER`] for bodies that are neither JSON nor BSON.
pub const UNSIGNED_PAYLOAD: &str = "UNSIGNED-PAYLOAD";

/// The one header the signature must cover, or it could be replayed forever. `Host` is not required: the Go SDK
/// (golangsdk, used by the Terraform provider) never signs it, since Go keeps it outside the header map, and the real
/// gateway accepts such requests.
const REQUIRED_SIGNED_HEADER: &str = SDK_DATE_HEADER;

type HmacSha256 = Hmac<Sha256>;

/// Why a request's signature was not accepted.
///
/// The messages are meant for the `error_msg` of the gateway error body: they name the rule that failed and never
/// contain the secret key or the expected signature.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Authorization header")]
    MissingAuthorization,
    #[error("malformed Authorization header: {0}")]
    MalformedAuthorization(&'static str),
    #[error("unsupported signing algorithm, only SDK-HMAC-SHA256 is accepted")]
    UnsupportedAlgorithm,
    #[error("SignedHeaders must include {0}")]
    RequiredHeaderNotSigned(&'static str),
    /// Carries the header name as listed in `SignedHeaders`, already checked to be an HTTP token.
    #[error("signed header {0} is not present in the request")]
    SignedHeaderMissing(String),
    #[error("X-Sdk-Date must be a UTC time formatted as YYYYMMDDTHHMMSSZ")]
    MalformedSdkDate,
    #[error("X-Sdk-Date is more than 15 minutes away from the server time")]
    ClockSkew,
    #[error("UNSIGNED-PAYLOAD is not accepted, the request body must be signed")]
    UnsignedPayload,
    #[error("X-Sdk-Content-Sha256 does not match the request body")]
    PayloadHashMismatch,
    #[error("signature does not match")]
    SignatureMismatch,
}

/// The parts of an `Authorization: SDK-HMAC-SHA256 Access=..., SignedHeaders=..., Signature=...` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthorizationHeader<'a> {
    pub access_key: &'a str,
    /// Header names in the order listed; the SDK lists them lower-case and sorted.
    pub signed_headers: Vec<&'a str>,
    /// 64 hexadecimal digits.
    pub signature: &'a str,
}

/// The parts of an HTTP request that the signature covers, as received.
#[derive(Debug, Clone, Copy)]
pub struct RequestToVerify<'a> {
    pub method: &'a str,
    /// Raw path, still percent-encoded as received, without the query.
    pub path: &'a str,
    /// Raw query string after `?`, still percent-encoded.
    pub query: Option<&'a str>,
    /// Header name (any case) and value. Values must be the UTF-8 decoding of the received bytes: the SDK signs
    /// non-ASCII values as UTF-8.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

impl<'a> RequestToVerify<'a> {
    /// Value of the first header called `name`, compared case-insensitively.
    ///
    /// The first one wins when a name repeats: the SDK keeps headers in a dictionary and so never sends a name twice;
    /// a repeated name comes from something else, and joining the values with "," would sign a value no SDK computed.
    pub fn header(&self, name: &str) -> Option<&'a str> {
        self.headers
            .iter()
            .find(|(header_name, _)| header_name.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// Parses the request's `Authorization` header.
    pub fn authorization(&self) -> Result<AuthorizationHeader<'a>, SignatureError> {
        let value = self.header("authorization").ok_or(SignatureError::MissingAuthorization)?;
        parse_authorization(value)
    }

    /// Parses the request's `X-Sdk-Date` header, for [`check_clock_skew`].
    pub fn sdk_date(&self) -> Result<OffsetDateTime, SignatureError> {
        let value = self
            .header(SDK_DATE_HEADER)
            .ok_or_else(|| SignatureError::SignedHeaderMissing(SDK_DATE_HEADER.to_owned()))?;
        parse_sdk_date(value)
    }
}

/// Parses `SDK-HMAC-SHA256 Access=<AK>, SignedHeaders=<a;b;c>, Signature=<hex>`.
///
/// The three parts may come in any order and the spaces after the commas are optional; each part must appear once.
pub fn parse_authorization(value: &str) -> Result<AuthorizationHeader<'_>, SignatureError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(SignatureError::MissingAuthorization);
    }
    let (algorithm, parameters) = value.split_once(' ').unwrap_or((value, ""));
    if algorithm != ALGORITHM {
        return Err(SignatureError::UnsupportedAlgorithm);
    }

    let mut access_key = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in parameters.split(',') {
        let (name, part_value) = part
            .split_once('=')
            .ok_or(SignatureError::MalformedAuthorization("expected Access, SignedHeaders and Signature"))?;
        let slot = match name.trim() {
            "Access" => &mut access_key,
            "SignedHeaders" => &mut signed_headers,
            "Signature" => &mut signature,
            _ => return Err(SignatureError::MalformedAuthorization("unknown parameter")),
        };
        if slot.replace(part_value.trim()).is_some() {
            return Err(SignatureError::MalformedAuthorization("repeated parameter"));
        }
    }

    let access_key =
        access_key.filter(|key| !key.is_empty()).ok_or(SignatureError::MalformedAuthorization("missing Access"))?;
    let signed_headers = signed_headers
        .filter(|list| !list.is_empty())
        .ok_or(SignatureError::MalformedAuthorization("missing SignedHeaders"))?;
    let signature = signature
        .filter(|hex_digits| hex_digits.len() == 64 && hex_digits.bytes().all(|b| b.is_ascii_hexdigit()))
        .ok_or(SignatureError::MalformedAuthorization("Signature must be 64 hex digits"))?;

    let signed_headers: Vec<&str> = signed_headers.split(';').collect();
    if !signed_headers.iter().all(|name| is_http_token(name)) {
        return Err(SignatureError::MalformedAuthorization("invalid header name in SignedHeaders"));
    }

    Ok(AuthorizationHeader { access_key, signed_headers, signature })
}

/// Builds the canonical request of spec 7.2 step 6 for the headers listed in `signed_headers`.
pub fn canonical_request(req: &RequestToVerify, signed_headers: &[&str]) -> Result<String, SignatureError> {
    let mut canonical_headers = String::new();
    for name in signed_headers {
        let value = req.header(name).ok_or_else(|| SignatureError::SignedHeaderMissing((*name).to_owned()))?;
        canonical_headers.push_str(name);
        canonical_headers.push(':');
        canonical_headers.push_str(value.trim());
        canonical_headers.push('\n');
    }

    Ok(format!(
        "{method}\n{uri}\n{query}\n{canonical_headers}\n{signed}\n{payload}",
        method = req.method.to_ascii_uppercase(),
        uri = canonical_uri(req.path),
        query = canonical_query(req.query),
        signed = signed_headers.join(";"),
        payload = payload_hash(req)?,
    ))
}

/// `SDK-HMAC-SHA256\n<X-Sdk-Date>\n<hex SHA-256 of the canonical request>`.
pub fn string_to_sign(sdk_date: &str, canonical_request: &str) -> String {
    let canonical_request_hash = hex::encode(Sha256::digest(canonical_request.as_bytes()));
    format!("{ALGORITHM}\n{sdk_date}\n{canonical_request_hash}")
}

/// Lower-case hex HMAC-SHA256 of the string to sign, keyed with the secret key bytes as-is.
pub fn sign(secret_key: &[u8], string_to_sign: &str) -> String {
    hex::encode(keyed_mac(secret_key, string_to_sign).finalize().into_bytes())
}

/// Signs a request the way the official SDK signer does and returns every header to send: the given `headers`, then
/// `Host` (the authority of `url`) and `X-Sdk-Date` (now) unless given, then `Authorization`.
///
/// `url` is `http://host[:port]/path[?query]`, or `/path[?query]` when `headers` carry `Host`; send the request to the
/// same path and query. As in the SDK, a given `X-Sdk-Date` is the signing time (the first one, when a name repeats)
/// and every header is signed except those whose name has a `_`. Unlike the SDK, a non-JSON `Content-Type` does not
/// add `X-Sdk-Content-Sha256: UNSIGNED-PAYLOAD`: ecsd refuses unsigned bodies.
pub fn sign_request(
    access_key: &str,
    secret_key: &str,
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Result<Vec<(String, String)>, SignatureError> {
    let (authority, path_and_query) = match url.split_once("://") {
        Some((_, rest)) => rest.split_at(rest.find(['/', '?']).unwrap_or(rest.len())),
        None => ("", url),
    };
    let (path, query) = match path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (path_and_query, None),
    };
    let given = |name: &str| headers.iter().any(|(header_name, _)| header_name.eq_ignore_ascii_case(name));
    let mut sent: Vec<(String, String)> =
        headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect();
    if !given("host") {
        // The SDK always signs where it sends; so does this signer.
        if authority.is_empty() {
            return Err(SignatureError::RequiredHeaderNotSigned("host"));
        }
        sent.push(("Host".to_owned(), authority.to_owned()));
    }
    if !given(SDK_DATE_HEADER) {
        sent.push(("X-Sdk-Date".to_owned(), format_sdk_date(OffsetDateTime::now_utc())));
    }
    // Like the SDK: a name with `_` is sent but not signed (proxies such as nginx drop those headers by default).
    let mut names: Vec<String> =
        sent.iter().map(|(name, _)| name.to_ascii_lowercase()).filter(|name| !name.contains('_')).collect();
    names.sort();
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let request = RequestToVerify { method, path, query, headers: &sent, body };
    let authorization = authorization_value(access_key, secret_key.as_bytes(), &request, &names)?;
    sent.push(("Authorization".to_owned(), authorization));
    Ok(sent)
}

/// Signs `req` over `signed_headers` and returns the `Authorization` header value; the request must already carry
/// `Host` and `X-Sdk-Date`. The SDK lists `signed_headers` lower-case and sorted. [`sign_request`] is the whole
/// client side built on this.
pub fn authorization_value(
    access_key: &str,
    secret_key: &[u8],
    req: &RequestToVerify,
    signed_headers: &[&str],
) -> Result<String, SignatureError> {
    let sdk_date = signing_date(req, signed_headers)?;
    let string_to_sign = string_to_sign(sdk_date, &canonical_request(req, signed_headers)?);
    Ok(format!(
        "{ALGORITHM} Access={access_key}, SignedHeaders={signed}, Signature={signature}",
        signed = signed_headers.join(";"),
        signature = sign(secret_key, &string_to_sign),
    ))
}

/// Recomputes the signature of `req` with `secret_key` and compares it with the one in `auth` in constant time.
///
/// Does not check the clock: call [`check_clock_skew`] with [`RequestToVerify::sdk_date`] as well.
pub fn verify_signature(
    secret_key: &[u8],
    req: &RequestToVerify,
    auth: &AuthorizationHeader,
) -> Result<(), SignatureError> {
    let sdk_date = signing_date(req, &auth.signed_headers)?;
    let string_to_sign = string_to_sign(sdk_date, &canonical_request(req, &auth.signed_headers)?);
    let claimed_signature = hex::decode(auth.signature)
        .map_err(|_| SignatureError::MalformedAuthorization("Signature must be 64 hex digits"))?;
    keyed_mac(secret_key, &string_to_sign)
        .verify_slice(&claimed_signature)
        .map_err(|_| SignatureError::SignatureMismatch)
}

/// Parses an `X-Sdk-Date` value, [`SDK_DATE_FORMAT`] in UTC.
pub fn parse_sdk_date(value: &str) -> Result<OffsetDateTime, SignatureError> {
    // The string to sign uses the header text itself, so only the exact 16-character form is accepted: a looser
    // parse would let two spellings of one instant produce different signatures.
    if value.len() != 16 {
        return Err(SignatureError::MalformedSdkDate);
    }
    PrimitiveDateTime::parse(value, SDK_DATE_FORMAT)
        .map(PrimitiveDateTime::assume_utc)
        .map_err(|_| SignatureError::MalformedSdkDate)
}

/// The `X-Sdk-Date` value of a signing time.
pub fn format_sdk_date(signed_at: OffsetDateTime) -> String {
    signed_at.to_offset(UtcOffset::UTC).format(SDK_DATE_FORMAT).expect("every OffsetDateTime has a date and a time")
}

/// Rejects a signing time more than [`MAX_CLOCK_SKEW`] before or after `now`.
pub fn check_clock_skew(signed_at: OffsetDateTime, now: OffsetDateTime) -> Result<(), SignatureError> {
    if (now - signed_at).abs() > MAX_CLOCK_SKEW {
        return Err(SignatureError::ClockSkew);
    }
    Ok(())
}

/// Checks that the list covers the required header and returns the validated `X-Sdk-Date` value.
fn signing_date<'a>(req: &RequestToVerify<'a>, signed_headers: &[&str]) -> Result<&'a str, SignatureError> {
    if !signed_headers.iter().any(|name| name.eq_ignore_ascii_case(REQUIRED_SIGNED_HEADER)) {
        return Err(SignatureError::RequiredHeaderNotSigned(REQUIRED_SIGNED_HEADER));
    }
    let sdk_date =
        req.header(SDK_DATE_HEADER).ok_or_else(|| SignatureError::SignedHeaderMissing(SDK_DATE_HEADER.to_owned()))?;
    parse_sdk_date(sdk_date)?;
    Ok(sdk_date)
}

fn keyed_mac(secret_key: &[u8], string_to_sign: &str) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret_key).expect("HMAC accepts keys of any length");
    mac.update(string_to_sign.as_bytes());
    mac
}

/// Payload hash of spec 7.2 step 5, following the SDK: an empty body always hashes to the SHA-256 of nothing, even
/// when `X-Sdk-Content-Sha256` is present (the SDK adds `UNSIGNED-PAYLOAD` to every non-JSON request, bodiless GETs
/// included); otherwise the header's value, when present, stands for the body.
fn payload_hash(req: &RequestToVerify) -> Result<String, SignatureError> {
    let body_hash = hex::encode(Sha256::digest(req.body));
    if req.body.is_empty() {
        return Ok(body_hash);
    }
    match req.header(CONTENT_SHA256_HEADER) {
        None => Ok(body_hash),
        Some(UNSIGNED_PAYLOAD) => Err(SignatureError::UnsignedPayload),
        // The SDK trusts the header blindly; a verifier must not, or the body could be swapped after signing.
        Some(claimed) if claimed.eq_ignore_ascii_case(&body_hash) => Ok(claimed.to_owned()),
        Some(_) => Err(SignatureError::PayloadHashMismatch),
    }
}

/// Spec 7.2 step 2: decode the path, split on `/`, re-encode each segment, end with `/`.
///
/// Decoding happens before splitting, as in the SDK, so an encoded `%2F` becomes a separator.
fn canonical_uri(raw_path: &str) -> String {
    let decoded = percent_decode(raw_path);
    let mut uri = decoded.split(|&byte| byte == b'/').map(percent_encode).collect::<Vec<_>>().join("/");
    if !uri.ends_with('/') {
        uri.push('/');
    }
    uri
}

/// Spec 7.2 step 3: decode each `key=value` pair, sort by key then value, re-encode, join with `&`.
///
/// `+` stays a literal plus (the SDK encodes a space as `%20` and a plus as `%2B`). Empty pieces, as in `a=1&&b=2`,
/// are skipped since no signer emits them.
fn canonical_query(raw_query: Option<&str>) -> String {
    let mut pairs: Vec<(Vec<u8>, Vec<u8>)> = raw_query
        .unwrap_or("")
        .split('&')
        .filter(|piece| !piece.is_empty())
        .map(|piece| {
            let (key, value) = piece.split_once('=').unwrap_or((piece, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    // Byte order of UTF-8 equals the code-point order in which the SDK sorts its decoded strings.
    pairs.sort();
    pairs
        .iter()
        .map(|(key, value)| format!("{}={}", percent_encode(key), percent_encode(value)))
        .collect::<Vec<_>>()
        .join("&")
}

// Percent encoding is written by hand because no direct dependency offers it (`percent-encoding` is only a
// transitive one), and the rule is tiny: keep RFC 3986 unreserved bytes, encode everything else.

/// Encodes every byte except the RFC 3986 unreserved ones as `%XX` with upper-case hex, like Python's
/// `quote(s, safe='~')` does in the SDK.
pub fn percent_encode(bytes: &[u8]) -> String {
    const HEX_DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut encoded = String::with_capacity(bytes.len());
    for &byte in bytes {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push('%');
            encoded.push(char::from(HEX_DIGITS[usize::from(byte >> 4)]));
            encoded.push(char::from(HEX_DIGITS[usize::from(byte & 0x0F)]));
        }
    }
    encoded
}

/// Decodes `%XX` escapes to bytes. A `%` not followed by two hex digits stays literal, and the result is kept as
/// bytes, so malformed or non-UTF-8 input re-encodes deterministically instead of failing.
fn percent_decode(text: &str) -> Vec<u8> {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = match bytes.get(index..index + 3) {
            Some([b'%', high, low]) => hex_value(*high).zip(hex_value(*low)),
            _ => None,
        };
        match escaped {
            Some((high, low)) => {
                decoded.push(high << 4 | low);
                index += 3;
            }
            None => {
                decoded.push(bytes[index]);
                index += 1;
            }
        }
    }
    decoded
}

fn hex_value(digit: u8) -> Option<u8> {
    char::from(digit).to_digit(16).and_then(|value| u8::try_from(value).ok())
}

/// RFC 9110 `token`: the characters allowed in a header name.
fn is_http_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|byte| byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SPEC_BODY: &[u8] = br#"{"os-start":{"servers":[{"id":"a"}]}}"#;
    const EMPTY_BODY_HASH: &str = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    const SPEC_SIGNED_HEADERS: [&str; 4] = ["content-type", "host", "x-project-id", "x-sdk-date"];

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())).collect()
    }

    /// The headers of the spec 7.3 vectors.
    fn spec_headers() -> Vec<(String, String)> {
        headers(&[
            ("Content-Type", "application/json"),
            ("Host", "127.0.0.1:8080"),
            ("X-Project-Id", "proj123"),
            ("X-Sdk-Date", "20240101T000000Z"),
        ])
    }

    fn request<'a>(
        method: &'a str,
        path: &'a str,
        query: Option<&'a str>,
        headers: &'a [(String, String)],
        body: &'a [u8],
    ) -> RequestToVerify<'a> {
        RequestToVerify { method, path, query, headers, body }
    }

    /// Signs `req` with AKTEST/SKTEST over the spec's header list and verifies `tampered` against that signature.
    fn verify_tampered(req: &RequestToVerify, tampered: &RequestToVerify) -> Result<(), SignatureError> {
        let value = authorization_value("AKTEST", b"SKTEST", req, &SPEC_SIGNED_HEADERS).expect("signable");
        verify_signature(b"SKTEST", tampered, &parse_authorization(&value).expect("parsable"))
    }

    #[test]
    fn spec_vector_1_post_with_body() {
        let headers = spec_headers();
        let req = request("POST", "/v1/proj123/cloudservers/action", None, &headers, SPEC_BODY);

        let canonical = canonical_request(&req, &SPEC_SIGNED_HEADERS).expect("test input is valid");
        assert_eq!(
            canonical,
            "POST\n/v1/proj123/cloudservers/action/\n\ncontent-type:application/json\nhost:127.0.0.1:8080\n\
             x-project-id:proj123\nx-sdk-date:20240101T000000Z\n\ncontent-type;host;x-project-id;x-sdk-date\n\
             43c9c1aa477a629d53cbf637607b12a136d5b3f019e27ff14672500877fc1b4e"
        );
        let to_sign = string_to_sign("20240101T000000Z", &canonical);
        assert_eq!(
            to_sign,
            "SDK-HMAC-SHA256\n20240101T000000Z\na92bf7b42d421cb0cdecafb2aa323c96d6a2f3eb8c5f2a36dd1d8f02c87322a0"
        );
        assert_eq!(sign(b"SKTEST", &to_sign), "4ce226ac287d9ff1ce4d1f4d4bfc47eb5902ca971f59d02bcc6d928ad921a1f2");

        let value = "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=content-type;host;x-project-id;x-sdk-date, \
                     Signature=4ce226ac287d9ff1ce4d1f4d4bfc47eb5902ca971f59d02bcc6d928ad921a1f2";
        assert_eq!(
            authorization_value("AKTEST", b"SKTEST", &req, &SPEC_SIGNED_HEADERS).expect("test input is valid"),
            value
        );
        let auth = parse_authorization(value).expect("test input is valid");
        assert_eq!(auth.access_key, "AKTEST");
        assert_eq!(auth.signed_headers, SPEC_SIGNED_HEADERS);
        assert_eq!(verify_signature(b"SKTEST", &req, &auth), Ok(()));
    }

    #[test]
    fn sign_request_adds_host_and_date_and_signs_like_spec_vector_1() {
        let given =
            [("Content-Type", "application/json"), ("X-Project-Id", "proj123"), ("X-Sdk-Date", "20240101T000000Z")];
        let url = "http://127.0.0.1:8080/v1/proj123/cloudservers/action";
        let sent = sign_request("AKTEST", "SKTEST", "POST", url, &given, SPEC_BODY).expect("test input is valid");
        let expected = headers(&[
            ("Content-Type", "application/json"),
            ("X-Project-Id", "proj123"),
            ("X-Sdk-Date", "20240101T000000Z"),
            ("Host", "127.0.0.1:8080"),
            (
                "Authorization",
                "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=content-type;host;x-project-id;x-sdk-date, \
                 Signature=4ce226ac287d9ff1ce4d1f4d4bfc47eb5902ca971f59d02bcc6d928ad921a1f2",
            ),
        ]);
        assert_eq!(sent, expected);
    }

    #[test]
    fn a_request_signed_by_sign_request_verifies_as_received() {
        let url = "http://127.0.0.1:8774/v1/proj123/cloudservers/detail?name=web%20a&limit=10";
        let given = [("content-type", "application/json"), ("x-client-token", "t-1"), ("x_unsigned", "u")];
        let sent = sign_request("AKTEST", "SKTEST", "GET", url, &given, b"").expect("test input is valid");
        let path = "/v1/proj123/cloudservers/detail";
        let received = request("GET", path, Some("name=web%20a&limit=10"), &sent, b"");

        let auth = received.authorization().expect("sign_request writes a valid header");
        assert_eq!(auth.signed_headers, ["content-type", "host", "x-client-token", "x-sdk-date"]);
        assert_eq!(received.header("host"), Some("127.0.0.1:8774"));
        assert_eq!(verify_signature(b"SKTEST", &received, &auth), Ok(()));
        let signed_at = received.sdk_date().expect("sign_request dates the request");
        assert_eq!(check_clock_skew(signed_at, OffsetDateTime::now_utc()), Ok(()));

        let other_query = request("GET", path, Some("name=web&limit=10"), &sent, b"");
        assert_eq!(verify_signature(b"SKTEST", &other_query, &auth), Err(SignatureError::SignatureMismatch));
        assert_eq!(verify_signature(b"SKOTHER", &received, &auth), Err(SignatureError::SignatureMismatch));
    }

    #[test]
    fn sign_request_signs_the_first_of_repeated_headers_and_needs_a_host() {
        let given = [("Host", "h:1"), ("X-Sdk-Date", "20240101T000000Z"), ("x-sdk-date", "yesterday")];
        let sent = sign_request("AK", "SK", "GET", "/", &given, b"").expect("the first date is valid");
        let auth = parse_authorization(&sent[3].1).expect("sign_request writes a valid header");
        assert_eq!(auth.signed_headers, ["host", "x-sdk-date"]);
        assert_eq!(verify_signature(b"SK", &request("GET", "/", None, &sent, b""), &auth), Ok(()));

        let bad_date = sign_request("AK", "SK", "GET", "http://h:1/", &[("X-Sdk-Date", "yesterday")], b"");
        assert_eq!(bad_date, Err(SignatureError::MalformedSdkDate));
        let no_host = sign_request("AK", "SK", "GET", "/v1/p/cloudservers/detail", &[], b"");
        assert_eq!(no_host, Err(SignatureError::RequiredHeaderNotSigned("host")));
    }

    #[test]
    fn spec_vector_2_get_with_query() {
        let headers = spec_headers();
        let req = request("GET", "/v1/proj123/cloudservers/detail", Some("limit=10&name=web&offset=1"), &headers, b"");

        let canonical = canonical_request(&req, &SPEC_SIGNED_HEADERS).expect("test input is valid");
        assert_eq!(
            canonical,
            format!(
                "GET\n/v1/proj123/cloudservers/detail/\nlimit=10&name=web&offset=1\ncontent-type:application/json\n\
                 host:127.0.0.1:8080\nx-project-id:proj123\nx-sdk-date:20240101T000000Z\n\n\
                 content-type;host;x-project-id;x-sdk-date\n{EMPTY_BODY_HASH}"
            )
        );
        let to_sign = string_to_sign("20240101T000000Z", &canonical);
        assert_eq!(
            to_sign,
            "SDK-HMAC-SHA256\n20240101T000000Z\nfe7aa890028242705f9d466bc42bcd6172eb67a0a92fce59fe898307c3695408"
        );
        assert_eq!(sign(b"SKTEST", &to_sign), "c4f8eb36360c9e9af24ff454cacfd8beed39275c691fe4adf0347f4ce0ce8ea9");

        let auth = parse_authorization(
            "SDK-HMAC-SHA256 Access=AKTEST, SignedHeaders=content-type;host;x-project-id;x-sdk-date, \
             Signature=c4f8eb36360c9e9af24ff454cacfd8beed39275c691fe4adf0347f4ce0ce8ea9",
        )
        .expect("test input is valid");
        assert_eq!(verify_signature(b"SKTEST", &req, &auth), Ok(()));
    }

    #[test]
    fn spec_encoding_check() {
        let canonical = "name=web%20server~x%2Fy&tags=k%3Dv";
        assert_eq!(canonical_query(Some("name=web%20server~x%2Fy&tags=k%3Dv")), canonical);
        // The same pairs unencoded and unsorted: only the first '=' separates key and value.
        assert_eq!(canonical_query(Some("tags=k=v&name=web server~x/y")), canonical);
    }

    #[test]
    fn canonical_query_sorts_by_key_then_value() {
        assert_eq!(canonical_query(Some("offset=1&b=2&a=z&a=y&limit=10")), "a=y&a=z&b=2&limit=10&offset=1");
    }

    #[test]
    fn canonical_query_edge_cases() {
        assert_eq!(canonical_query(None), "");
        assert_eq!(canonical_query(Some("")), "");
        assert_eq!(canonical_query(Some("flag&a=1")), "a=1&flag=");
        assert_eq!(canonical_query(Some("a=1&&b=")), "a=1&b=");
        assert_eq!(canonical_query(Some("q=a+b")), "q=a%2Bb", "'+' is a literal plus, not a space");
        assert_eq!(canonical_query(Some("q=%e4%b8%96!*")), "q=%E4%B8%96%21%2A");
        // Broken escapes and non-UTF-8 bytes survive as bytes instead of failing.
        assert_eq!(canonical_query(Some("q=%zz%4&r=%FF%fe")), "q=%25zz%254&r=%FF%FE");
    }

    #[test]
    fn canonical_uri_rules() {
        assert_eq!(canonical_uri("/v1/p/cloudservers/action"), "/v1/p/cloudservers/action/");
        assert_eq!(canonical_uri("/v2.1/p/servers/"), "/v2.1/p/servers/", "no second trailing slash");
        assert_eq!(canonical_uri("/"), "/");
        assert_eq!(canonical_uri("/metadata/my%20key"), "/metadata/my%20key/");
        assert_eq!(canonical_uri("/metadata/my key"), "/metadata/my%20key/");
        assert_eq!(canonical_uri("/a%2fb"), "/a/b/", "an encoded slash becomes a separator, as in the SDK");
        assert_eq!(canonical_uri("/x/%7e%41!%C3%BC"), "/x/~A%21%C3%BC/");
        assert_eq!(canonical_uri("/bad%/%FF%G0"), "/bad%25/%FF%25G0/");
    }

    #[test]
    fn path_with_encoded_space_verifies_and_differs_from_plain_path() {
        let headers = spec_headers();
        let signed = request("DELETE", "/v1/proj123/cloudservers/s1/metadata/my%20key", None, &headers, b"");
        assert_eq!(verify_tampered(&signed, &signed), Ok(()));
        let other = request("DELETE", "/v1/proj123/cloudservers/s1/metadata/my-key", None, &headers, b"");
        assert_eq!(verify_tampered(&signed, &other), Err(SignatureError::SignatureMismatch));
    }

    #[test]
    fn tampering_fails() {
        let headers = spec_headers();
        let path = "/v1/proj123/cloudservers/action";
        let signed = request("POST", path, Some("a=1"), &headers, SPEC_BODY);
        assert_eq!(verify_tampered(&signed, &signed), Ok(()));

        let mut body = SPEC_BODY.to_vec();
        body[10] ^= 0x01;
        let mismatch = Err(SignatureError::SignatureMismatch);
        assert_eq!(verify_tampered(&signed, &request("POST", path, Some("a=1"), &headers, &body)), mismatch);
        assert_eq!(verify_tampered(&signed, &request("PUT", path, Some("a=1"), &headers, SPEC_BODY)), mismatch);
        assert_eq!(verify_tampered(&signed, &request("POST", path, Some("a=2"), &headers, SPEC_BODY)), mismatch);
        assert_eq!(verify_tampered(&signed, &request("POST", "/v1/x", Some("a=1"), &headers, SPEC_BODY)), mismatch);
        let mut other_project = spec_headers();
        other_project[2].1 = "proj999".to_owned();
        assert_eq!(verify_tampered(&signed, &request("POST", path, Some("a=1"), &other_project, SPEC_BODY)), mismatch);
    }

    #[test]
    fn wrong_secret_key_fails() {
        let headers = spec_headers();
        let req = request("POST", "/v1/proj123/cloudservers/action", None, &headers, SPEC_BODY);
        let value = authorization_value("AKTEST", b"SKTEST", &req, &SPEC_SIGNED_HEADERS).expect("test input is valid");
        let auth = parse_authorization(&value).expect("test input is valid");
        assert_eq!(verify_signature(b"SKTESU", &req, &auth), Err(SignatureError::SignatureMismatch));
        assert_eq!(verify_signature(b"", &req, &auth), Err(SignatureError::SignatureMismatch));
    }

    #[test]
    fn header_values_are_trimmed_and_names_case_insensitive() {
        let signed_headers = spec_headers();
        let signed = request("GET", "/v1/proj123/cloudservers/detail", None, &signed_headers, b"");
        let received_headers = headers(&[
            ("content-TYPE", "  application/json\t"),
            ("HOST", "127.0.0.1:8080"),
            ("x-project-id", "proj123 "),
            ("x-sdk-date", "20240101T000000Z"),
        ]);
        let received = request("GET", "/v1/proj123/cloudservers/detail", None, &received_headers, b"");
        assert_eq!(verify_tampered(&signed, &received), Ok(()));
    }

    #[test]
    fn first_of_repeated_headers_is_signed() {
        let mut repeated = spec_headers();
        repeated.push(("X-Project-Id".to_owned(), "proj999".to_owned()));
        let req = request("GET", "/", None, &repeated, b"");
        let canonical = canonical_request(&req, &SPEC_SIGNED_HEADERS).expect("test input is valid");
        assert!(canonical.contains("x-project-id:proj123\n"));
        assert!(!canonical.contains("proj999"));
    }

    #[test]
    fn parse_authorization_accepts_sdk_form_and_variants() {
        let signature = "ab".repeat(32);
        let sdk_form = format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={signature}");
        let reordered = format!("SDK-HMAC-SHA256 Signature={signature},Access=AK,SignedHeaders=host;x-sdk-date");
        for value in [sdk_form, reordered] {
            let auth = parse_authorization(&value).expect("test input is valid");
            assert_eq!(auth.access_key, "AK");
            assert_eq!(auth.signed_headers, ["host", "x-sdk-date"]);
            assert_eq!(auth.signature, signature);
        }
    }

    #[test]
    fn parse_authorization_errors() {
        use SignatureError::{MalformedAuthorization, MissingAuthorization, UnsupportedAlgorithm};
        let signature = "0".repeat(64);
        let valid_tail = format!("Access=AK, SignedHeaders=host;x-sdk-date, Signature={signature}");
        let cases = [
            (String::new(), MissingAuthorization),
            ("   ".to_owned(), MissingAuthorization),
            ("SDK-HMAC-SHA256".to_owned(), MalformedAuthorization("expected Access, SignedHeaders and Signature")),
            (format!("SDK-HMAC-SM3 {valid_tail}"), UnsupportedAlgorithm),
            (
                format!("V11-HMAC-SHA256 Credential=AK/20240101/eu-de/ecs, SignedHeaders=host, Signature={signature}"),
                UnsupportedAlgorithm,
            ),
            (format!("sdk-hmac-sha256 {valid_tail}"), UnsupportedAlgorithm),
            (format!("Bearer {valid_tail}"), UnsupportedAlgorithm),
            (
                format!("SDK-HMAC-SHA256 SignedHeaders=host;x-sdk-date, Signature={signature}"),
                MalformedAuthorization("missing Access"),
            ),
            (
                format!("SDK-HMAC-SHA256 Access=, SignedHeaders=host;x-sdk-date, Signature={signature}"),
                MalformedAuthorization("missing Access"),
            ),
            (
                format!("SDK-HMAC-SHA256 Access=AK, Signature={signature}"),
                MalformedAuthorization("missing SignedHeaders"),
            ),
            (
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date".to_owned(),
                MalformedAuthorization("Signature must be 64 hex digits"),
            ),
            (
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature=abc".to_owned(),
                MalformedAuthorization("Signature must be 64 hex digits"),
            ),
            (
                format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={}", "g".repeat(64)),
                MalformedAuthorization("Signature must be 64 hex digits"),
            ),
            (
                format!("SDK-HMAC-SHA256 Access=AK, Access=AK2, SignedHeaders=host, Signature={signature}"),
                MalformedAuthorization("repeated parameter"),
            ),
            (format!("{valid_tail}, Region=x"), UnsupportedAlgorithm),
            (format!("SDK-HMAC-SHA256 {valid_tail}, Region=x"), MalformedAuthorization("unknown parameter")),
            (
                format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;;x-sdk-date, Signature={signature}"),
                MalformedAuthorization("invalid header name in SignedHeaders"),
            ),
            (
                format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x sdk, Signature={signature}"),
                MalformedAuthorization("invalid header name in SignedHeaders"),
            ),
        ];
        for (value, expected) in cases {
            assert_eq!(parse_authorization(&value), Err(expected), "{value:?}");
        }
    }

    #[test]
    fn missing_authorization_header() {
        let headers = spec_headers();
        let req = request("GET", "/", None, &headers, b"");
        assert_eq!(req.authorization(), Err(SignatureError::MissingAuthorization));
    }

    #[test]
    fn signed_headers_must_cover_the_date_but_not_the_host() {
        let headers = spec_headers();
        let req = request("GET", "/", None, &headers, b"");
        let value = format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-project-id, Signature={}", "0".repeat(64));
        let auth = parse_authorization(&value).expect("test input is valid");
        assert_eq!(
            verify_signature(b"SKTEST", &req, &auth),
            Err(SignatureError::RequiredHeaderNotSigned("x-sdk-date"))
        );
        // Signed without the host, as golangsdk signs: valid.
        let signed = ["content-type", "x-sdk-date"];
        let value = authorization_value("AK", b"SKTEST", &req, &signed).expect("test input is valid");
        let auth = parse_authorization(&value).expect("authorization_value writes a valid header");
        assert_eq!(verify_signature(b"SKTEST", &req, &auth), Ok(()));
    }

    #[test]
    fn signed_header_absent_from_request() {
        let headers = spec_headers();
        let req = request("GET", "/", None, &headers, b"");
        let value = format!(
            "SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-client-token;x-sdk-date, Signature={}",
            "0".repeat(64)
        );
        let auth = parse_authorization(&value).expect("test input is valid");
        assert_eq!(
            verify_signature(b"SKTEST", &req, &auth),
            Err(SignatureError::SignedHeaderMissing("x-client-token".to_owned()))
        );

        let without_date = headers.iter().filter(|(name, _)| name != "X-Sdk-Date").cloned().collect::<Vec<_>>();
        let req = request("GET", "/", None, &without_date, b"");
        let value_without_token = value.replace("x-client-token;", "");
        let auth = parse_authorization(&value_without_token).expect("test input is valid");
        assert_eq!(
            verify_signature(b"SKTEST", &req, &auth),
            Err(SignatureError::SignedHeaderMissing("x-sdk-date".to_owned()))
        );
    }

    #[test]
    fn sdk_date_parsing() {
        let parsed = parse_sdk_date("20240229T235958Z").expect("test input is valid");
        assert_eq!(parsed, time::macros::datetime!(2024-02-29 23:59:58 UTC));
        for malformed in [
            "",
            "20240101T000000",
            "20240101t000000Z",
            "2024-01-01T00:00:00Z",
            "2024011T000000Z",
            "20240101T0000000Z",
            "20240101T000000Z ",
            "20230229T000000Z",
            "20240101T240000Z",
            "+2024101T000000Z",
            "２0240101T00000Z",
        ] {
            assert_eq!(parse_sdk_date(malformed), Err(SignatureError::MalformedSdkDate), "{malformed:?}");
        }
    }

    #[test]
    fn sdk_date_formatting() {
        assert_eq!(format_sdk_date(time::macros::datetime!(2024-02-29 23:59:58 UTC)), "20240229T235958Z");
        assert_eq!(format_sdk_date(time::macros::datetime!(2024-03-01 01:59:58 +02:00)), "20240229T235958Z");
        let now = OffsetDateTime::now_utc().replace_nanosecond(0).expect("0 is a valid nanosecond");
        assert_eq!(parse_sdk_date(&format_sdk_date(now)), Ok(now));
    }

    #[test]
    fn malformed_sdk_date_fails_verification() {
        let mut headers = spec_headers();
        headers[3].1 = "2024-01-01T00:00:00Z".to_owned();
        let req = request("GET", "/", None, &headers, b"");
        let value = format!("SDK-HMAC-SHA256 Access=AK, SignedHeaders=host;x-sdk-date, Signature={}", "0".repeat(64));
        assert_eq!(
            verify_signature(b"SKTEST", &req, &parse_authorization(&value).expect("test input is valid")),
            Err(SignatureError::MalformedSdkDate)
        );
        assert_eq!(req.sdk_date(), Err(SignatureError::MalformedSdkDate));
    }

    #[test]
    fn clock_skew_limit_is_fifteen_minutes_either_way() {
        let signed_at = parse_sdk_date("20240101T120000Z").expect("test input is valid");
        let minutes = time::Duration::minutes;
        assert_eq!(check_clock_skew(signed_at, signed_at), Ok(()));
        assert_eq!(check_clock_skew(signed_at, signed_at + minutes(15)), Ok(()));
        assert_eq!(check_clock_skew(signed_at, signed_at - minutes(15)), Ok(()));
        let just_over = minutes(15) + time::Duration::seconds(1);
        assert_eq!(check_clock_skew(signed_at, signed_at + just_over), Err(SignatureError::ClockSkew));
        assert_eq!(check_clock_skew(signed_at, signed_at - just_over), Err(SignatureError::ClockSkew));
    }

    #[test]
    fn content_sha256_header_handling() {
        let path = "/v1/proj123/cloudservers/action";
        let body_hash = hex::encode(Sha256::digest(SPEC_BODY));
        let with_content_hash = |value: &str| {
            let mut headers = spec_headers();
            headers.push(("X-Sdk-Content-Sha256".to_owned(), value.to_owned()));
            headers
        };

        let unsigned = with_content_hash(UNSIGNED_PAYLOAD);
        let req = request("POST", path, None, &unsigned, SPEC_BODY);
        assert_eq!(canonical_request(&req, &SPEC_SIGNED_HEADERS), Err(SignatureError::UnsignedPayload));
        // Without a body the SDK hashes nothing and ignores the header, which it adds to every non-JSON request.
        let bodiless = request("GET", path, None, &unsigned, b"");
        assert!(
            canonical_request(&bodiless, &SPEC_SIGNED_HEADERS).expect("test input is valid").ends_with(EMPTY_BODY_HASH)
        );

        let honest = with_content_hash(&body_hash.to_ascii_uppercase());
        let req = request("POST", path, None, &honest, SPEC_BODY);
        assert_eq!(verify_tampered(&req, &req), Ok(()));
        let mut other_body = SPEC_BODY.to_vec();
        other_body.push(b' ');
        let swapped = request("POST", path, None, &honest, &other_body);
        assert_eq!(verify_tampered(&req, &swapped), Err(SignatureError::PayloadHashMismatch));

        let lying = with_content_hash(EMPTY_BODY_HASH);
        let req = request("POST", path, None, &lying, SPEC_BODY);
        assert_eq!(canonical_request(&req, &SPEC_SIGNED_HEADERS), Err(SignatureError::PayloadHashMismatch));
    }

    #[test]
    fn error_messages_name_the_rule() {
        assert_eq!(SignatureError::SignatureMismatch.to_string(), "signature does not match");
        assert_eq!(SignatureError::RequiredHeaderNotSigned("host").to_string(), "SignedHeaders must include host");
        assert_eq!(
            SignatureError::MalformedAuthorization("missing Access").to_string(),
            "malformed Authorization header: missing Access"
        );
    }

    /// One request signed by an official SDK: the Python SDK's are written by `tests/sdk/gen_signing_vectors.py`,
    /// golangsdk's as tests/data/README.md says.
    #[derive(serde::Deserialize, PartialEq)]
    struct SdkVector {
        name: String,
        method: String,
        path: String,
        query: String,
        headers: Vec<(String, String)>,
        body: String,
        ak: String,
        sk: String,
        expected_authorization: String,
        expected_canonical_request: String,
        expected_string_to_sign: String,
    }

    fn vectors(json: &str) -> Vec<SdkVector> {
        let vectors: Vec<SdkVector> = serde_json::from_str(json).expect("test input is valid");
        assert!(vectors.len() >= 8, "the generators write at least 8 vectors");
        vectors
    }

    /// The Python SDK's and golangsdk's requests verify; golangsdk signs neither `Host` nor the `X-Project-Id` it adds
    /// after signing.
    #[test]
    fn official_sdk_vectors_verify() {
        let python = vectors(include_str!("../../tests/data/signing_vectors.json"));
        let golang = vectors(include_str!("../../tests/data/golangsdk_signing_vectors.json"));
        for vector in golang.iter().chain(&python) {
            let name = &vector.name;
            let query = Some(vector.query.as_str()).filter(|query| !query.is_empty());
            let req = request(&vector.method, &vector.path, query, &vector.headers, vector.body.as_bytes());
            let auth = parse_authorization(&vector.expected_authorization).expect("test input is valid");
            assert_eq!(auth.access_key, vector.ak, "{name}");

            let canonical = canonical_request(&req, &auth.signed_headers).expect("test input is valid");
            assert_eq!(canonical, vector.expected_canonical_request, "{name}");
            let sdk_date = req.header("X-Sdk-Date").expect("test input is valid");
            assert_eq!(string_to_sign(sdk_date, &canonical), vector.expected_string_to_sign, "{name}");
            assert_eq!(
                authorization_value(&vector.ak, vector.sk.as_bytes(), &req, &auth.signed_headers)
                    .expect("test input is valid"),
                vector.expected_authorization,
                "{name}"
            );
            assert_eq!(verify_signature(vector.sk.as_bytes(), &req, &auth), Ok(()), "{name}");
            assert_eq!(auth.signed_headers.contains(&"host"), python.contains(vector), "{name}");

            // Flip one byte of the body, or add one where the body is empty.
            let mut tampered_body = vector.body.clone().into_bytes();
            match tampered_body.first_mut() {
                Some(first) => *first ^= 0x20,
                None => tampered_body.push(b'{'),
            }
            let tampered = request(&vector.method, &vector.path, query, &vector.headers, &tampered_body);
            assert!(verify_signature(vector.sk.as_bytes(), &tampered, &auth).is_err(), "{name}");
        }
    }

    /// The client signer, given what the Python SDK sent, signs it as the SDK did.
    #[test]
    fn the_client_signer_signs_as_the_python_sdk() {
        for vector in &vectors(include_str!("../../tests/data/signing_vectors.json")) {
            let name = &vector.name;
            let query = Some(vector.query.as_str()).filter(|query| !query.is_empty());
            let url = match query {
                Some(query) => format!("{}?{query}", vector.path),
                None => vector.path.clone(),
            };
            let given: Vec<(&str, &str)> =
                vector.headers.iter().map(|(header, value)| (header.as_str(), value.as_str())).collect();
            let sent = sign_request(&vector.ak, &vector.sk, &vector.method, &url, &given, vector.body.as_bytes())
                .expect("test input is valid");
            assert_eq!(sent[..given.len()], vector.headers[..], "{name}");
            let authorization = ("Authorization".to_owned(), vector.expected_authorization.clone());
            assert_eq!(sent[given.len()..], [authorization], "{name}");
        }
    }
}
