//! Uploads: `multipart/form-data` bodies parsed at byte level (a PNG is not text), and
//! `sendPhoto` answered as the real Bot API does — or refused as it does: no photo in the
//! request, a `photo` naming an `attach://` part that is not there, a file that is not an
//! image (`IMAGE_PROCESS_FAILED`), a caption over 1024 characters.

use serde_json::{Value, json};

/// One file part of a multipart body.
#[derive(Debug, Clone)]
pub struct Upload {
    /// The part's field name (`photo`, or the id an `attach://` value names).
    pub field: String,
    /// Its `filename`.
    pub file_name: String,
    /// Its bytes, exactly as sent.
    pub bytes: Vec<u8>,
}

fn find(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    hay.get(from..)?
        .windows(needle.len())
        .position(|w| w == needle)
        .map(|i| i + from)
}

/// A header parameter (`name`, `filename`) of a part's `Content-Disposition`.
fn param(head: &str, key: &str) -> Option<String> {
    head.split(';').map(str::trim).find_map(|p| {
        let v = p.strip_prefix(key)?.strip_prefix('=')?;
        Some(v.trim_matches('"').to_owned())
    })
}

/// Text fields (JSON values parsed) and file parts of a multipart body.
pub fn parse_multipart(bytes: &[u8], boundary: &str) -> (Value, Vec<Upload>) {
    let delim = format!("--{boundary}").into_bytes();
    let mut starts = Vec::new();
    let mut at = 0;
    while let Some(i) = find(bytes, &delim, at) {
        starts.push(i);
        at = i + delim.len();
    }
    let mut fields = serde_json::Map::new();
    let mut files = Vec::new();
    for pair in starts.windows(2) {
        let part = &bytes[pair[0] + delim.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(head_end) = find(part, b"\r\n\r\n", 0) else {
            continue;
        };
        let head = String::from_utf8_lossy(&part[..head_end]);
        let data = &part[head_end + 4..];
        let data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let Some(name) = param(&head, "name") else {
            continue;
        };
        match param(&head, "filename") {
            Some(file_name) => files.push(Upload {
                field: name,
                file_name,
                bytes: data.to_vec(),
            }),
            None => {
                let text = String::from_utf8_lossy(data).into_owned();
                let value = match serde_json::from_str::<Value>(&text) {
                    Ok(v @ (Value::Array(_) | Value::Object(_))) => v,
                    _ => Value::String(text),
                };
                fields.insert(name, value);
            }
        }
    }
    (Value::Object(fields), files)
}

/// The uploaded photo of a `sendPhoto` body: a file part named `photo`, or the part its
/// `attach://<name>` value names.
pub fn photo<'a>(body: &Value, files: &'a [Upload]) -> Option<&'a Upload> {
    let wanted = match body["photo"].as_str() {
        Some(v) => v.strip_prefix("attach://")?.to_owned(),
        None => "photo".to_owned(),
    };
    files.iter().find(|f| f.field == wanted)
}

/// `(width, height)` from a PNG's IHDR, `None` if it is not a PNG.
pub fn png_size(bytes: &[u8]) -> Option<(u32, u32)> {
    const SIGNATURE: &[u8] = b"\x89PNG\r\n\x1a\n";
    if !bytes.starts_with(SIGNATURE) || bytes.get(12..16) != Some(b"IHDR") {
        return None;
    }
    let be = |r: std::ops::Range<usize>| {
        bytes
            .get(r)
            .and_then(|b| <[u8; 4]>::try_from(b).ok())
            .map(u32::from_be_bytes)
    };
    Some((be(16..20)?, be(20..24)?))
}

/// Why the real Bot API would refuse this `sendPhoto`, if it would.
pub fn refusal(body: &Value, files: &[Upload]) -> Option<&'static str> {
    let Some(upload) = photo(body, files) else {
        return Some("Bad Request: there is no photo in the request");
    };
    if png_size(&upload.bytes).is_none() {
        return Some("Bad Request: IMAGE_PROCESS_FAILED");
    }
    let caption = body["caption"].as_str().unwrap_or_default();
    if caption.encode_utf16().count() > 1024 {
        return Some("Bad Request: message caption is too long");
    }
    None
}

/// The `Message` a successful `sendPhoto` returns: the photo in the sizes Telegram makes
/// (a thumbnail and the full size, at most 1280 px on the long side), and the caption.
pub fn photo_message(id: i64, chat: Value, from: Value, body: &Value, files: &[Upload]) -> Value {
    let (w, h) = photo(body, files)
        .and_then(|u| png_size(&u.bytes))
        .unwrap_or((1, 1));
    let size = |max: u32, tag: &str| {
        let scale = f64::from(max) / f64::from(w.max(h));
        let scale = scale.min(1.0);
        json!({
            "file_id": format!("AgACAgIAAxkBAAI{id}{tag}"),
            "file_unique_id": format!("AQAD{id}{tag}"),
            "width": (f64::from(w) * scale).round() as u32,
            "height": (f64::from(h) * scale).round() as u32,
            "file_size": 1_000 + max,
        })
    };
    let mut m = json!({"message_id": id, "date": 1_700_000_000, "chat": chat, "from": from,
                       "photo": [size(90, "s"), size(1280, "y")]});
    if let Some(c) = body["caption"].as_str().filter(|c| !c.is_empty()) {
        m["caption"] = json!(c);
    }
    if body.get("reply_markup").is_some() {
        m["reply_markup"] = body["reply_markup"].clone();
    }
    m
}
