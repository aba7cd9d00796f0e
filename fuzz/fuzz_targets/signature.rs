//! The AK/SK signature parser and canonicalisation: `parse_authorization`, `canonical_request`
//! with arbitrary method, path, query, headers and body, and the sign/verify round trip.
//!
//! Input: up to six fields separated by 0xFF bytes: method, path, query, headers (one
//! `name:value` per line), body, Authorization value.

#![no_main]

use ecsd::api::signing::{
    RequestToVerify, authorization_value, canonical_request, format_sdk_date, parse_authorization, parse_sdk_date,
    verify_signature,
};
use libfuzzer_sys::fuzz_target;

fn is_token(name: &str) -> bool {
    !name.is_empty() && name.bytes().all(|b| b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b))
}

fuzz_target!(|data: &[u8]| {
    let fields: Vec<&[u8]> = data.splitn(6, |b| *b == 0xFF).collect();
    let text = |i: usize| String::from_utf8_lossy(fields.get(i).copied().unwrap_or_default()).into_owned();
    let (method, path, query, header_text, authorization) = (text(0), text(1), text(2), text(3), text(5));
    let body = fields.get(4).copied().unwrap_or_default();

    // The parser: whatever it accepts is well formed, and prints back to itself.
    if let Ok(parsed) = parse_authorization(&authorization) {
        assert!(!parsed.access_key.is_empty());
        assert!(!parsed.access_key.contains(','));
        assert_eq!(parsed.signature.len(), 64);
        assert!(parsed.signature.bytes().all(|b| b.is_ascii_hexdigit()));
        assert!(parsed.signed_headers.iter().all(|h| is_token(h)));
        let printed = format!(
            "SDK-HMAC-SHA256 Access={}, SignedHeaders={}, Signature={}",
            parsed.access_key,
            parsed.signed_headers.join(";"),
            parsed.signature
        );
        assert_eq!(parse_authorization(&printed).as_ref(), Ok(&parsed), "{printed:?}");
    }
    if let Ok(at) = parse_sdk_date(&authorization) {
        assert_eq!(format_sdk_date(at), authorization.trim());
    }

    let mut headers: Vec<(String, String)> = header_text
        .lines()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    // What every signed request carries (a fuzzed header of the same name comes first and wins).
    headers.push(("host".into(), "127.0.0.1:8774".into()));
    headers.push(("x-sdk-date".into(), "20240101T000000Z".into()));
    let query = if query.is_empty() { None } else { Some(query.as_str()) };
    let request = RequestToVerify { method: &method, path: &path, query, headers: &headers, body };

    // Canonicalisation never panics, and the order of the query's pairs does not matter.
    let all_names: Vec<&str> = headers.iter().map(|(name, _)| name.as_str()).collect();
    let canonical = canonical_request(&request, &all_names);
    if let Some(query) = query {
        let reversed: Vec<&str> = query.split('&').rev().collect();
        let reversed = reversed.join("&");
        let other = RequestToVerify { query: Some(&reversed), ..request };
        assert_eq!(canonical_request(&other, &all_names), canonical);
    }

    // Sign with the header names a client would list (lower-case tokens, sorted, once each);
    // the signature verifies, and stops verifying when the body changes.
    let mut names: Vec<String> =
        headers.iter().map(|(name, _)| name.to_ascii_lowercase()).filter(|name| is_token(name)).collect();
    names.sort();
    names.dedup();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    if let Ok(value) = authorization_value("AKFUZZ", b"SKFUZZ", &request, &names) {
        let parsed = parse_authorization(&value).expect("a header we produced parses");
        assert_eq!(verify_signature(b"SKFUZZ", &request, &parsed), Ok(()));
        assert!(verify_signature(b"SKFUZZ-other", &request, &parsed).is_err());
        let mut changed = body.to_vec();
        changed.push(b'!');
        let tampered = RequestToVerify { body: &changed, ..request };
        assert!(verify_signature(b"SKFUZZ", &tampered, &parsed).is_err(), "a changed body still verifies");
    }
});
