//! What the bot's tests and benches share: the engine over a test pipeline's ports.

use spendstream_bot::{Engine, EnginePorts};
use spendstream_testkit::TestApp;
use std::sync::Arc;

/// The conversation engine over `app`'s ports, with its config (shipped texts and rules).
pub fn engine(app: &TestApp) -> Arc<Engine> {
    let ports = EnginePorts {
        log: app.ports.log.clone(),
        store: app.ports.store.clone(),
        accounts: app.ports.accounts.clone(),
        chats: app.ports.chats.clone(),
    };
    Arc::new(Engine::from_config(app.state.config.clone(), ports).expect("the test config builds an engine"))
}

/// The parts of a `multipart/form-data` body as (name, bytes), files included.
#[allow(dead_code)] // used by the adapters' tests, not by every test binary
pub fn multipart_parts(content_type: &str, body: &[u8]) -> Vec<(String, Vec<u8>)> {
    let Some(boundary) = content_type.split("boundary=").nth(1) else { return Vec::new() };
    let delimiter = format!("--{}", boundary.trim_matches('"'));
    let mut parts = Vec::new();
    for part in split_bytes(body, delimiter.as_bytes()) {
        let Some(head_end) = part.windows(4).position(|w| w == b"\r\n\r\n") else { continue };
        let head = String::from_utf8_lossy(&part[..head_end]);
        let Some(name) = head.split("name=\"").nth(1).and_then(|n| n.split('"').next()) else { continue };
        let value = &part[head_end + 4..];
        let value = value.strip_suffix(b"\r\n").unwrap_or(value);
        parts.push((name.to_owned(), value.to_vec()));
    }
    parts
}

fn split_bytes<'a>(body: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut out = Vec::new();
    let mut rest = body;
    while let Some(at) = rest.windows(delimiter.len()).position(|w| w == delimiter) {
        out.push(&rest[..at]);
        rest = &rest[at + delimiter.len()..];
    }
    out.push(rest);
    out
}

/// Width and height of a PNG that decodes whole; `None` for anything else.
#[allow(dead_code)] // used by the tests that receive charts
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    let mut reader = png::Decoder::new(std::io::Cursor::new(bytes)).read_info().ok()?;
    let mut buf = vec![0; reader.output_buffer_size()?];
    let info = reader.next_frame(&mut buf).ok()?;
    Some((info.width, info.height))
}
