//! Readers for JSON written by others (the gateway's `usageStats`, the usage endpoint's reply)
//! that tolerate what those writers actually send: numbers as strings, booleans as strings,
//! blank strings for "absent". Anything else is absent, never an error.

use serde_json::Value;

/// A finite number, or a string holding one.
pub fn number(v: Option<&Value>) -> Option<f64> {
    let f = match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }?;
    f.is_finite().then_some(f)
}

/// A whole number (milliseconds, counts), from a number or a string; fractions are cut.
pub fn integer(v: Option<&Value>) -> Option<i64> {
    match v? {
        Value::Number(n) => n.as_i64().or_else(|| number(v).map(|f| f as i64)),
        _ => number(v).map(|f| f as i64),
    }
}

/// A boolean, or the strings `true`/`false`.
pub fn boolean(v: Option<&Value>) -> Option<bool> {
    match v? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// A non-blank string, trimmed.
pub fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tolerates_what_writers_send() {
        assert_eq!(number(Some(&json!("42.5"))), Some(42.5));
        assert_eq!(number(Some(&json!(null))), None);
        assert_eq!(number(Some(&json!("NaN"))), None);
        assert_eq!(
            integer(Some(&json!("1795302400000"))),
            Some(1_795_302_400_000)
        );
        assert_eq!(integer(Some(&json!("5.0"))), Some(5));
        assert_eq!(
            integer(Some(&json!(9_007_199_254_740_993_i64))),
            Some(9_007_199_254_740_993)
        );
        assert_eq!(boolean(Some(&json!("true"))), Some(true));
        assert_eq!(text(Some(&json!("  "))), None);
        assert_eq!(text(Some(&json!(" plus "))).as_deref(), Some("plus"));
    }
}
