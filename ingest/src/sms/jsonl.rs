//! JSON-lines batch mode: `{"id", "sender", "text"}` in, `{"id", "class", "parsed"}` out.

use super::{ParsedTransaction, SmsClass, SmsRules, parse};
use serde::Serialize;
use serde_json::Value;
use std::io::{self, BufRead, Write};

/// Counts from one [`parse_jsonl`] run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct JsonlStats {
    /// Non-blank input lines read.
    pub lines: u64,
    /// Lines parsed into a class.
    pub parsed: u64,
    /// Lines classed as transactions.
    pub transactions: u64,
    /// Lines answered with an `error` (bad JSON, missing text, not a message).
    pub errors: u64,
}

#[derive(Serialize)]
struct OutLine<'a> {
    id: &'a Value,
    class: Option<SmsClass>,
    parsed: Option<&'a ParsedTransaction>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<String>,
}

/// Parses JSON lines `{"id", "sender", "text"}` from `input` and writes one JSON line per
/// non-blank input line to `output`: `{"id", "class", "parsed"}` where `parsed` holds the
/// transaction fields (amounts as decimal strings, dates as YYYY-MM-DD) or null. A line
/// that cannot be used gets `"error"` (and null class) and processing continues; only I/O
/// errors stop the run.
pub fn parse_jsonl(rules: &SmsRules, mut input: impl BufRead, mut output: impl Write) -> io::Result<JsonlStats> {
    let mut stats = JsonlStats::default();
    let mut buf = Vec::new();
    let mut line_no = 0u64;
    loop {
        buf.clear();
        if input.read_until(b'\n', &mut buf)? == 0 {
            break;
        }
        line_no += 1;
        if buf.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        stats.lines += 1;
        let null = Value::Null;
        let line = match parse_line(rules, &buf) {
            Ok((id, outcome)) => {
                stats.parsed += 1;
                if outcome.class == SmsClass::Transaction {
                    stats.transactions += 1;
                }
                let out =
                    OutLine { id: &id, class: Some(outcome.class), parsed: outcome.transaction.as_ref(), error: None };
                serde_json::to_string(&out)
            }
            Err((id, message)) => {
                stats.errors += 1;
                let out = OutLine {
                    id: id.as_ref().unwrap_or(&null),
                    class: None,
                    parsed: None,
                    error: Some(format!("line {line_no}: {message}")),
                };
                serde_json::to_string(&out)
            }
        }
        .map_err(io::Error::other)?;
        output.write_all(line.as_bytes())?;
        output.write_all(b"\n")?;
    }
    output.flush()?;
    Ok(stats)
}

type LineResult = Result<(Value, super::SmsOutcome), (Option<Value>, String)>;

fn parse_line(rules: &SmsRules, raw: &[u8]) -> LineResult {
    let value: Value = serde_json::from_slice(raw).map_err(|e| (None, format!("invalid JSON: {e}")))?;
    let Value::Object(mut map) = value else {
        return Err((None, "expected a JSON object".to_string()));
    };
    let id = map.remove("id").unwrap_or(Value::Null);
    let sender = match map.get("sender") {
        Some(Value::String(s)) => s.as_str(),
        None | Some(Value::Null) => "",
        Some(_) => return Err((Some(id), "`sender` must be a string".to_string())),
    };
    let text = match map.get("text") {
        Some(Value::String(s)) => s.as_str(),
        _ => return Err((Some(id), "`text` must be a string".to_string())),
    };
    match parse(rules, sender, text) {
        Ok(outcome) => Ok((id, outcome)),
        Err(e) => Err((Some(id), e.to_string())),
    }
}
