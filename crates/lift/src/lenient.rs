//! Values read during event detection that must never fail the read: a field of the wrong
//! type is noted as absent or invalid and skipped, so detection answers exactly as if the field
//! had not been looked at. The HTTP fast path uses them only when all are valid; otherwise the
//! event is decoded the long way, which reports the problem.

use std::borrow::Cow;
use std::fmt;

use http::{HeaderMap, HeaderName, HeaderValue};
use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};

/// `visit_i64`, `visit_u64` and `visit_f64` answering `$none`: a number where the visitor
/// wanted something else.
macro_rules! numbers_are {
    ($none:expr) => {
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
            Ok($none)
        }
    };
}

/// `visit_seq` and `visit_map` (or only one: `seq`, `map`) reading the container to its end
/// and answering `$none`.
macro_rules! containers_are {
    (seq $none:expr) => {
        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            while seq.next_element::<serde::de::IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
    (map $none:expr) => {
        fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
            while map.next_entry::<serde::de::IgnoredAny, serde::de::IgnoredAny>()?.is_some() {}
            Ok($none)
        }
    };
    ($none:expr) => {
        containers_are!(seq $none);
        containers_are!(map $none);
    };
}

/// `visit_bool`, `visit_str` and the numbers answering `$none`: any scalar but `null`.
macro_rules! scalars_are {
    ($none:expr) => {
        fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
            Ok($none)
        }
        fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
            Ok($none)
        }
        numbers_are!($none);
    };
}

// For the other lenient readers of detection (`detect/context.rs`).
pub(crate) use {containers_are, numbers_are, scalars_are};

/// A JSON string, or `None` for a value of any other type (skipped).
pub(crate) struct MaybeStr<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for MaybeStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = MaybeStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Borrowed(v))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v.to_owned()))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(MaybeStr(Some(Cow::Owned(v))))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeStr(None))
            }
            numbers_are!(MaybeStr(None));
            containers_are!(MaybeStr(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// A JSON string or `null` (`Some(None)`), or `None` for a value of any other type (skipped):
/// what an `Option<String>` field accepts, told apart from what it refuses.
pub(crate) struct NullableStr<'a>(pub(crate) Option<Option<Cow<'a, str>>>);

impl<'de: 'a, 'a> Deserialize<'de> for NullableStr<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<'a>(std::marker::PhantomData<&'a ()>);
        impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
            type Value = NullableStr<'a>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
                Ok(NullableStr(Some(Some(Cow::Borrowed(v)))))
            }
            fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
                Ok(NullableStr(Some(Some(Cow::Owned(v.to_owned())))))
            }
            fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
                Ok(NullableStr(Some(Some(Cow::Owned(v)))))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(NullableStr(Some(None)))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(NullableStr(None))
            }
            numbers_are!(NullableStr(None));
            containers_are!(NullableStr(None));
        }
        d.deserialize_any(V(std::marker::PhantomData))
    }
}

/// An integer that fits an `i64`, or `None` for any other value (`null` included).
pub(crate) struct MaybeI64(pub(crate) Option<i64>);

impl<'de> Deserialize<'de> for MaybeI64 {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeI64;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
                Ok(MaybeI64(Some(v)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
                Ok(MaybeI64(i64::try_from(v).ok()))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
                Ok(MaybeI64(None))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeI64(None))
            }
            fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
                Ok(MaybeI64(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeI64(None))
            }
            containers_are!(MaybeI64(None));
        }
        d.deserialize_any(V)
    }
}

/// `true` or `false`, or `None` for any other value.
pub(crate) struct MaybeBool(pub(crate) Option<bool>);

impl<'de> Deserialize<'de> for MaybeBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeBool;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
                Ok(MaybeBool(Some(v)))
            }
            fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
                Ok(MaybeBool(None))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeBool(None))
            }
            numbers_are!(MaybeBool(None));
            containers_are!(MaybeBool(None));
        }
        d.deserialize_any(V)
    }
}

/// A list of strings (`cookies`); `None` if it is not one.
pub(crate) struct MaybeStrings(pub(crate) Option<Vec<String>>);

impl<'de> Deserialize<'de> for MaybeStrings {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeStrings;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Some(Vec::new());
                while let Some(MaybeStr(s)) = seq.next_element::<MaybeStr<'de>>()? {
                    match (s, &mut out) {
                        (Some(s), Some(list)) => list.push(s.into_owned()),
                        _ => out = None,
                    }
                }
                Ok(MaybeStrings(out))
            }
            containers_are!(map MaybeStrings(None));
            scalars_are!(MaybeStrings(None));
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeStrings(Some(Vec::new())))
            }
        }
        d.deserialize_any(V)
    }
}

/// A `headers` object of strings, read straight into a `HeaderMap`; `None` if it is anything
/// else (a value that is not a string, a name or value HTTP refuses). `null` is no headers.
pub(crate) struct MaybeHeaders(pub(crate) Option<HeaderMap>);

impl<'de> Deserialize<'de> for MaybeHeaders {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = MaybeHeaders;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut out = Some(HeaderMap::with_capacity(map.size_hint().unwrap_or(16)));
                while let Some((MaybeStr(k), MaybeStr(v))) = map.next_entry::<MaybeStr<'de>, MaybeStr<'de>>()? {
                    let Some(headers) = &mut out else { continue };
                    let entry = k.zip(v).and_then(|(k, v)| {
                        let name = HeaderName::from_bytes(k.as_bytes()).ok()?;
                        let value = HeaderValue::from_str(&v).ok()?;
                        Some((name, value))
                    });
                    match entry {
                        Some((name, value)) => {
                            headers.append(name, value);
                        }
                        None => out = None,
                    }
                }
                Ok(MaybeHeaders(out))
            }
            fn visit_unit<E>(self) -> Result<Self::Value, E> {
                Ok(MaybeHeaders(Some(HeaderMap::new())))
            }
            containers_are!(seq MaybeHeaders(None));
            scalars_are!(MaybeHeaders(None));
        }
        d.deserialize_any(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wrong_types_are_absent_never_errors() {
        let s: Vec<MaybeStr<'_>> =
            serde_json::from_str(r#"["a", 1, true, null, [1], {"x": 1}, "b\u0041"]"#).unwrap_or_default();
        let got: Vec<Option<&str>> = s.iter().map(|m| m.0.as_deref()).collect();
        assert_eq!(got, [Some("a"), None, None, None, None, None, Some("bA")]);
        let h: MaybeHeaders = serde_json::from_str(r#"{"a": "1", "a": "2", "b": "x"}"#).unwrap_or(MaybeHeaders(None));
        let h = h.0.unwrap_or_default();
        assert_eq!(h.get_all("a").iter().count(), 2);
        for bad in [r#"{"a": ["1"]}"#, r#"{"bad name": "1"}"#, r#"{"a": "\n"}"#, "[1]", "5"] {
            let h: MaybeHeaders = serde_json::from_str(bad).unwrap_or(MaybeHeaders(Some(HeaderMap::new())));
            assert!(h.0.is_none(), "{bad}");
        }
        let c: MaybeStrings = serde_json::from_str(r#"["a=1", 2]"#).unwrap_or(MaybeStrings(Some(vec![])));
        assert!(c.0.is_none());
        let b: MaybeBool = serde_json::from_str("\"true\"").unwrap_or(MaybeBool(Some(true)));
        assert!(b.0.is_none());
    }
}
