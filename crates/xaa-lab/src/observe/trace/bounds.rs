//! What the trace keeps of one request, and what that costs: every key and value is cut to a
//! stated length, an event keeps a bounded number of parameters, JSON members and tokens, and its
//! size is estimated so the whole trace stays within a byte budget (see [`super::Trace::new`]).

use serde_json::{Map, Value};

use super::{SeenToken, TraceEvent};

/// Longest parameter or JSON string value kept in full (a note body can be hundreds of KB).
pub const MAX_VALUE: usize = 300;
/// Longest secret kept in full when the lab reveals secrets (a JWT is a few KB).
pub const MAX_REVEALED: usize = 16 * 1024;
/// Longest parameter name or JSON member name kept.
pub const MAX_KEY: usize = 64;
/// Parameters kept per request; the rest are counted, not kept.
pub const MAX_PARAMS: usize = 40;
/// Members kept per JSON object or array (answers, token claims).
pub const MAX_MEMBERS: usize = 50;
/// Nesting kept in a JSON answer.
pub const MAX_DEPTH: usize = 8;
/// JWTs decoded per request.
pub const MAX_TOKENS: usize = 4;
/// Default byte budget of the whole trace.
pub const DEFAULT_BUDGET: usize = 4 * 1024 * 1024;

/// The name of the entry that stands for parameters that were not kept.
pub const MORE_PARAMS: &str = "…";

/// `s` cut to `max` characters, saying how long it was.
pub fn cut(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        None => s.to_owned(),
        Some((at, _)) => format!("{}… ({} chars)", &s[..at], s.chars().count()),
    }
}

/// `s` cut to `max` characters, as [`cut`]; kept as it is (no copy) when it is short enough.
pub fn cut_owned(s: String, max: usize) -> String {
    if s.len() <= max || s.char_indices().nth(max).is_none() { s } else { cut(&s, max) }
}

/// At most [`MAX_PARAMS`] parameters, the rest counted in one [`MORE_PARAMS`] entry (an entry of
/// that name in the input adds its count). Takes an iterator so a body of a million fields is
/// never collected whole.
pub fn bounded_params<I, K, V>(params: I) -> Vec<(String, String)>
where
    I: IntoIterator<Item = (K, V)>,
    K: AsRef<str>,
    V: AsRef<str>,
{
    let mut out = Vec::new();
    let mut more = 0usize;
    for (k, v) in params {
        if k.as_ref() == MORE_PARAMS {
            // Parameters already bounded once (a query and a body put together) keep their count.
            more += v.as_ref().split(' ').next().and_then(|n| n.parse::<usize>().ok()).unwrap_or(1);
        } else if out.len() < MAX_PARAMS {
            out.push((cut(k.as_ref(), MAX_KEY), v.as_ref().to_owned()));
        } else {
            more += 1;
        }
    }
    if more > 0 {
        out.push((MORE_PARAMS.to_owned(), format!("{more} more parameters not kept")));
    }
    out
}

/// [`bounded_params`] of parameters already owned: kept as they are (no copy) when within
/// [`MAX_PARAMS`] and none stands for parameters not kept. Names and values are not cut here.
pub fn bounded_owned(params: Vec<(String, String)>) -> Vec<(String, String)> {
    if params.len() <= MAX_PARAMS && params.iter().all(|(k, _)| k != MORE_PARAMS) {
        return params;
    }
    bounded_params(params)
}

/// A JSON value with strings, member names, member counts and nesting bounded.
pub fn shrink_json(v: Value, depth: usize) -> Value {
    match v {
        Value::String(s) if s.len() > MAX_VALUE => Value::String(cut(&s, MAX_VALUE)),
        Value::Array(items) if depth >= MAX_DEPTH => Value::String(format!("[… {} items]", items.len())),
        Value::Object(map) if depth >= MAX_DEPTH => Value::String(format!("{{… {} members}}", map.len())),
        Value::Array(mut items) => {
            // In place: an answer within the bounds (nearly all) is kept without a copy.
            let n = items.len();
            items.truncate(MAX_MEMBERS);
            for item in &mut items {
                *item = shrink_json(std::mem::take(item), depth + 1);
            }
            if n > MAX_MEMBERS {
                items.push(Value::String(format!("… {} more items", n - MAX_MEMBERS)));
            }
            Value::Array(items)
        }
        Value::Object(map) => Value::Object(shrink_map(map, depth)),
        other => other,
    }
}

/// A JSON object with [`shrink_json`]'s bounds.
pub fn shrink_map(mut map: Map<String, Value>, depth: usize) -> Map<String, Value> {
    let n = map.len();
    if n <= MAX_MEMBERS && map.keys().all(|k| k.len() <= MAX_KEY) {
        // Every member kept under its own name: bounded in place, without a copy.
        for v in map.values_mut() {
            *v = shrink_json(std::mem::take(v), depth + 1);
        }
        return map;
    }
    let mut kept: Map<String, Value> =
        map.into_iter().take(MAX_MEMBERS).map(|(k, v)| (cut(&k, MAX_KEY), shrink_json(v, depth + 1))).collect();
    if n > MAX_MEMBERS {
        kept.insert(MORE_PARAMS.to_owned(), Value::String(format!("{} more members not kept", n - MAX_MEMBERS)));
    }
    kept
}

/// About how many bytes `v` occupies in memory (strings plus a node's overhead).
fn json_bytes(v: &Value) -> usize {
    const NODE: usize = 32;
    NODE + match v {
        Value::String(s) => s.len(),
        Value::Array(items) => items.iter().map(json_bytes).sum(),
        Value::Object(map) => map.iter().map(|(k, v)| k.len() + NODE + json_bytes(v)).sum(),
        _ => 0,
    }
}

fn token_bytes(t: &SeenToken) -> usize {
    t.field.len() + json_bytes(&t.header) + t.claims.iter().map(|(k, v)| k.len() + 32 + json_bytes(v)).sum::<usize>()
}

/// About how many bytes an event occupies in memory: what the budget counts.
pub fn event_bytes(e: &TraceEvent) -> usize {
    const EVENT: usize = 256;
    let strings = [&e.service, &e.method, &e.target, &e.step].iter().map(|s| s.len()).sum::<usize>()
        + e.client_id.as_ref().map_or(0, String::len)
        + e.subject.as_ref().map_or(0, String::len)
        + e.request_id.as_ref().map_or(0, String::len);
    EVENT
        + strings
        + e.request.iter().map(|(k, v)| k.len() + v.len() + 48).sum::<usize>()
        + e.response.as_deref().map_or(0, json_bytes)
        + e.tokens.iter().map(token_bytes).sum::<usize>()
        + e.checks.iter().map(|c| c.detail.len() + 64).sum::<usize>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cut_counts_characters_not_bytes() {
        assert_eq!(cut("héllo", 10), "héllo");
        assert_eq!(cut("héllo", 2), "hé… (5 chars)");
    }

    #[test]
    fn a_million_parameters_keep_forty_and_a_count() {
        let body = "a=1&".repeat(1_000_000);
        let kept = bounded_params(form_urlencoded::parse(body.as_bytes()));
        assert_eq!(kept.len(), MAX_PARAMS + 1);
        assert_eq!(kept[MAX_PARAMS], (MORE_PARAMS.to_owned(), "999960 more parameters not kept".to_owned()));
        let again = bounded_params(kept.into_iter().chain([("b".to_owned(), "2".to_owned())]));
        assert_eq!(again[MAX_PARAMS].1, "999961 more parameters not kept", "bounding twice keeps the count");
    }

    /// Owned parameters within the bounds are kept as they are; past them, or with a count of
    /// parameters not kept among them, they are bounded as [`bounded_params`] bounds them.
    #[test]
    fn owned_parameters_are_bounded_alike() {
        let few: Vec<(String, String)> = (0..MAX_PARAMS).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(bounded_owned(few.clone()), few);
        let many: Vec<(String, String)> = (0..MAX_PARAMS + 5).map(|i| (format!("k{i}"), "v".to_owned())).collect();
        assert_eq!(bounded_owned(many.clone()), bounded_params(many));
        let counted = vec![
            (MORE_PARAMS.to_owned(), "3 more parameters not kept".to_owned()),
            ("a".to_owned(), "1".to_owned()),
            (MORE_PARAMS.to_owned(), "2 more parameters not kept".to_owned()),
        ];
        assert_eq!(
            bounded_owned(counted),
            [("a".to_owned(), "1".to_owned()), (MORE_PARAMS.to_owned(), "5 more parameters not kept".to_owned())]
        );
    }

    #[test]
    fn json_is_bounded_in_width_depth_and_length() {
        let wide: Value =
            (0..500).map(|i| (format!("k{i}"), Value::from("x".repeat(2000)))).collect::<Map<_, _>>().into();
        let Value::Object(kept) = shrink_json(wide, 0) else { panic!() };
        assert_eq!(kept.len(), MAX_MEMBERS + 1);
        assert!(kept["k0"].as_str().unwrap().ends_with("… (2000 chars)"));
        let mut deep = Value::from(1);
        for _ in 0..100 {
            deep = Value::Array(vec![deep]);
        }
        assert!(serde_json::to_string(&shrink_json(deep, 0)).unwrap().len() < 64);
    }
}
