//! Turns deserializer errors into messages that name the field and the rule broken, never a
//! Rust type (`struct NewOrder`, `u32`) nor a parser position (`line 1 column 20`).
//!
//! serde's errors are built from a fixed set of templates (`missing field`, `invalid type`,
//! `unknown variant`...); each is mapped to a rule. A custom message from a type's own
//! `Deserialize` is kept unless it names a Rust type.

use std::borrow::Cow;

/// `"<what> <field>: <rule>"`, e.g. "query parameter `page`: must be a non-negative integer".
///
/// `path` is the field path where the error arose (`serde_path_to_error`'s display, `.` at the
/// top level); `what` names the input ("field", "query parameter", "path parameter").
pub(crate) fn field_error(what: &str, path: &str, message: &str) -> String {
    let message = strip_position(message);
    let (field, rule) = rule(message);
    let path = if path == "." { "" } else { path };
    match (path, field) {
        ("", None) => format!("{}: {rule}", top_level(what)),
        ("", Some(f)) => format!("{what} `{f}`: {rule}"),
        (p, None) => format!("{what} `{p}`: {rule}"),
        (p, Some(f)) => format!("{what} `{p}.{f}`: {rule}"),
    }
}

fn top_level(what: &str) -> &'static str {
    match what {
        "query parameter" => "the query",
        "path parameter" => "the path",
        _ => "the body",
    }
}

/// serde_json appends ` at line L column C` to its messages.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) if message[i..].contains(" column ") => &message[..i],
        _ => message,
    }
}

/// The field a message names itself (a missing or unknown field), and the rule broken.
fn rule(message: &str) -> (Option<&str>, Cow<'static, str>) {
    if let Some(f) = backticked(message, "missing field ") {
        return (Some(f), "is required".into());
    }
    if let Some(f) = backticked(message, "unknown field ") {
        return (Some(f), "is not an accepted field".into());
    }
    if let Some(f) = backticked(message, "duplicate field ") {
        return (Some(f), "appears more than once".into());
    }
    if message.starts_with("unknown variant ") {
        let allowed = message.split_once(", expected ").map_or("", |(_, e)| e);
        // The accepted values are wire names (`one of \`a\`, \`b\``), safe to show.
        return match allowed {
            "" => (None, "is not an accepted value".into()),
            e => (None, format!("must be {e}").into()),
        };
    }
    for prefix in ["invalid type: ", "invalid value: "] {
        if let Some(rest) = message.strip_prefix(prefix) {
            let exp = rest.rsplit_once(", expected ").map_or("", |(_, e)| e);
            return (None, format!("must be {}", expected(exp)).into());
        }
    }
    if message.starts_with("invalid length ") {
        return (None, "has the wrong number of elements".into());
    }
    // `str::parse` errors, as serde_urlencoded and axum's path deserializer report them.
    let rule = match message {
        "invalid digit found in string" | "cannot parse integer from empty string" => "must be an integer",
        "number too large to fit in target type" | "number too small to fit in target type" => "is out of range",
        "invalid float literal" => "must be a number",
        "provided string was not `true` or `false`" => "must be true or false",
        "too many characters in string" | "cannot parse char from empty string" => "must be a single character",
        m if names_rust_type(m) || m.is_empty() => "has an invalid value",
        m => return (None, m.to_owned().into()),
    };
    (None, rule.into())
}

/// The name in "<prefix>`name`...".
fn backticked<'a>(message: &'a str, prefix: &str) -> Option<&'a str> {
    let rest = message.strip_prefix(prefix)?.strip_prefix('`')?;
    rest.split_once('`').map(|(name, _)| name)
}

/// What serde's `expected` text asks for, in words a client understands.
pub(crate) fn expected(exp: &str) -> Cow<'static, str> {
    let s = match exp {
        "u8" => "an integer from 0 to 255",
        "u16" => "an integer from 0 to 65535",
        "u32" => "an integer from 0 to 4294967295",
        "u64" | "u128" | "usize" => "a non-negative integer",
        "i8" => "an integer from -128 to 127",
        "i16" => "an integer from -32768 to 32767",
        "i32" | "i64" | "i128" | "isize" | "an integer" => "an integer",
        "f32" | "f64" | "a number" => "a number",
        "bool" | "a boolean" => "true or false",
        "char" | "a character" => "a single character",
        "a string" | "a borrowed string" | "string" => "a string",
        "a map" | "map" => "an object",
        "a sequence" | "sequence" => "an array",
        "unit" | "null" => "null",
        "option" => "a value or null",
        "variant identifier" | "field identifier" => "one of the accepted values",
        e if e.starts_with("struct ") || e.starts_with("struct variant ") => "an object",
        e if e.starts_with("tuple") || e.starts_with("an array") || e.starts_with("a tuple") => "an array",
        e if e.starts_with("enum ") => "one of the accepted values",
        e if e.starts_with("unit struct ") || e.starts_with("unit variant ") => "null",
        e if e.is_empty() || names_rust_type(e) => "a valid value",
        e => return e.to_owned().into(),
    };
    s.into()
}

/// Whether a message names a Rust type or path (`struct X`, `enum Y`, `a::b`, `Vec<T>`).
fn names_rust_type(message: &str) -> bool {
    message.contains("struct ")
        || message.contains("enum ")
        || message.contains("::")
        || message.contains('<')
        || [
            "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize", "f32", "f64",
        ]
        .iter()
        .any(|t| message.split(|c: char| !c.is_ascii_alphanumeric()).any(|w| w == *t))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_templates_become_field_and_rule() {
        let cases = [
            (".", "missing field `qty`", "field `qty`: is required"),
            ("items[0]", "missing field `qty`", "field `items[0].qty`: is required"),
            (
                "qty",
                "invalid type: string \"x\", expected u32 at line 1 column 20",
                "field `qty`: must be an integer from 0 to 4294967295",
            ),
            (
                ".",
                "invalid type: sequence, expected struct NewOrder",
                "the body: must be an object",
            ),
            (
                "kind",
                "unknown variant `z`, expected `a` or `b`",
                "field `kind`: must be `a` or `b`",
            ),
            (
                ".",
                "unknown field `x`, expected `a`",
                "field `x`: is not an accepted field",
            ),
            (
                "tags",
                "invalid length 3, expected a tuple of size 2",
                "field `tags`: has the wrong number of elements",
            ),
            ("n", "invalid digit found in string", "field `n`: must be an integer"),
            (
                "n",
                "invalid value: integer `-1`, expected usize",
                "field `n`: must be a non-negative integer",
            ),
            ("n", "custom failure from some::Type", "field `n`: has an invalid value"),
            ("email", "must be a valid email", "field `email`: must be a valid email"),
        ];
        for (path, message, want) in cases {
            assert_eq!(field_error("field", path, message), want, "{message}");
        }
    }

    #[test]
    fn no_rust_type_survives() {
        for exp in [
            "u32",
            "struct NewOrder",
            "enum Kind",
            "i64",
            "tuple struct P",
            "Vec<u8>",
            "alloc::string::String",
        ] {
            let got = expected(exp);
            assert!(!names_rust_type(&got), "{exp} -> {got}");
        }
    }
}
