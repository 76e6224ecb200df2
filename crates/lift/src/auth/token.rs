//! Where a request carries its token: `Authorization: Bearer <token>`, optionally a cookie.

use std::sync::Arc;

use http::HeaderMap;

use super::AuthError;

/// The largest token accepted, in bytes. A longer one is refused before any parsing
/// (`token_too_large`), so a hostile header costs no base64 or JSON work.
pub const MAX_TOKEN_LEN: usize = 8 * 1024;

/// Where to look for the token.
#[derive(Clone, Debug, Default)]
pub struct TokenSource {
    /// A cookie read when the request has no bearer `Authorization` header.
    cookie: Option<Arc<str>>,
}

impl TokenSource {
    /// The `Authorization` header only.
    pub fn header() -> Self {
        Self::default()
    }

    /// The `Authorization` header, else the cookie `name`.
    pub fn header_or_cookie(name: impl Into<Arc<str>>) -> Self {
        Self {
            cookie: Some(name.into()),
        }
    }

    /// The token of a request, borrowed from its headers. Header names are matched in any case
    /// (`http` lower-cases them); the `Bearer` scheme too (RFC 7235). The first
    /// `Authorization` header with the `Bearer` scheme is used.
    pub fn extract<'h>(&self, headers: &'h HeaderMap) -> Result<&'h str, AuthError> {
        for value in headers.get_all(http::header::AUTHORIZATION) {
            // An oversized value is refused by its length before any byte is read.
            let found = match (value.len() <= MAX_TOKEN_LEN + 64).then(|| value.to_str()) {
                // One pass checks visible ASCII and yields the `&str` (the common case).
                Some(Ok(text)) => bearer_text(text)?,
                _ => bearer(value.as_bytes())?,
            };
            if let Some(token) = found {
                return Ok(token);
            }
        }
        if let Some(name) = &self.cookie {
            if let Some(token) = cookie(headers, name)? {
                return Ok(token);
            }
        }
        Err(AuthError::MissingToken)
    }
}

/// [`bearer`] on a header value already known to be visible ASCII (and tabs).
fn bearer_text(value: &str) -> Result<Option<&str>, AuthError> {
    const SCHEME: &str = "bearer";
    let value = value.trim_ascii();
    let Some(scheme) = value.get(..SCHEME.len()) else {
        return Ok(None);
    };
    if !scheme.eq_ignore_ascii_case(SCHEME) {
        return Ok(None);
    }
    let rest = &value[SCHEME.len()..];
    match rest.as_bytes().first() {
        None => return Err(AuthError::MissingToken),
        Some(b' ') | Some(b'\t') => {}
        Some(_) => return Ok(None),
    }
    let token = rest.trim_ascii();
    if token.len() > MAX_TOKEN_LEN {
        return Err(AuthError::TokenTooLarge);
    }
    if token.is_empty() {
        return Err(AuthError::MissingToken);
    }
    // Visible ASCII is known; only inner blanks are left to refuse.
    if token.contains(' ') || token.contains('\t') {
        return Err(AuthError::InvalidToken);
    }
    Ok(Some(token))
}

/// The token of a `Bearer` credential; `None` for another scheme (`Basic ...`).
pub(crate) fn bearer(value: &[u8]) -> Result<Option<&str>, AuthError> {
    const SCHEME: &[u8] = b"bearer";
    let value = value.trim_ascii();
    if value.len() < SCHEME.len() || !value[..SCHEME.len()].eq_ignore_ascii_case(SCHEME) {
        return Ok(None);
    }
    let rest = &value[SCHEME.len()..];
    match rest.first() {
        // `Bearer` alone, or `BearerX...`: no bearer credential.
        None => return Err(AuthError::MissingToken),
        Some(b' ') | Some(b'\t') => {}
        Some(_) => return Ok(None),
    }
    token(rest.trim_ascii()).map(Some)
}

/// Checks the size first, then the characters.
pub(crate) fn token(raw: &[u8]) -> Result<&str, AuthError> {
    if raw.len() > MAX_TOKEN_LEN {
        return Err(AuthError::TokenTooLarge);
    }
    if raw.is_empty() {
        return Err(AuthError::MissingToken);
    }
    // Visible ASCII only (no spaces, controls or bytes above 0x7E): one range check per byte,
    // which the compiler vectorises. Whether it is base64url is the decoder's to say.
    if !raw.iter().all(|b| (0x21..=0x7E).contains(b)) {
        return Err(AuthError::InvalidToken);
    }
    std::str::from_utf8(raw).map_err(|_| AuthError::InvalidToken)
}

fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Result<Option<&'h str>, AuthError> {
    for value in headers.get_all(http::header::COOKIE) {
        for pair in value.as_bytes().split(|b| *b == b';') {
            let pair = pair.trim_ascii();
            let Some(eq) = pair.iter().position(|b| *b == b'=') else {
                continue;
            };
            if &pair[..eq] == name.as_bytes() {
                let v = pair[eq + 1..].trim_ascii();
                let v = v.strip_prefix(b"\"").and_then(|v| v.strip_suffix(b"\"")).unwrap_or(v);
                return token(v).map(Some);
            }
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn bearer_in_any_case_of_name_and_scheme() {
        let src = TokenSource::header();
        for (name, value) in [
            ("Authorization", "Bearer a.b.c"),
            ("AUTHORIZATION", "bearer a.b.c"),
            ("authorization", "BEARER   a.b.c  "),
        ] {
            assert_eq!(src.extract(&headers(&[(name, value)])), Ok("a.b.c"), "{name}: {value}");
        }
    }

    #[test]
    fn other_schemes_empty_and_garbage() {
        let src = TokenSource::header();
        assert_eq!(src.extract(&HeaderMap::new()), Err(AuthError::MissingToken));
        assert_eq!(
            src.extract(&headers(&[("authorization", "Basic dXNlcjpwYXNz")])),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            src.extract(&headers(&[("authorization", "Bearer")])),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            src.extract(&headers(&[("authorization", "Bearerx.y.z")])),
            Err(AuthError::MissingToken)
        );
        assert_eq!(
            src.extract(&headers(&[("authorization", "Bearer a b")])),
            Err(AuthError::InvalidToken)
        );
        let big = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN + 1));
        assert_eq!(
            src.extract(&headers(&[("authorization", &big)])),
            Err(AuthError::TokenTooLarge)
        );
        let fits = format!("Bearer {}", "a".repeat(MAX_TOKEN_LEN));
        assert!(src.extract(&headers(&[("authorization", &fits)])).is_ok());
        // A Basic header first, then a Bearer one.
        assert_eq!(
            src.extract(&headers(&[
                ("authorization", "Basic x"),
                ("authorization", "Bearer t.t.t")
            ])),
            Ok("t.t.t")
        );
    }

    #[test]
    fn cookie_when_configured() {
        let h = headers(&[("cookie", "a=1; session=x.y.z; b=2")]);
        assert_eq!(TokenSource::header().extract(&h), Err(AuthError::MissingToken));
        assert_eq!(TokenSource::header_or_cookie("session").extract(&h), Ok("x.y.z"));
        let h = headers(&[("cookie", "session=\"q.r.s\""), ("authorization", "Bearer h.h.h")]);
        assert_eq!(
            TokenSource::header_or_cookie("session").extract(&h),
            Ok("h.h.h"),
            "the header wins"
        );
        let h = headers(&[("cookie", "sessionx=1; session")]);
        assert_eq!(
            TokenSource::header_or_cookie("session").extract(&h),
            Err(AuthError::MissingToken)
        );
    }
}
