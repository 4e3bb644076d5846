//! One request as the fake received it, and the helpers tests use to read it.

use std::time::Instant;

use serde_json::Value;

use super::upload::{self, Upload};

/// One request as the bot sent it.
#[derive(Debug, Clone)]
pub struct Recorded {
    /// The method name exactly as in the URL.
    pub method: String,
    /// The body, parsed (JSON, or a form as an object of strings).
    pub body: Value,
    /// The raw body bytes as text.
    pub raw: String,
    /// When it arrived.
    pub at: Instant,
    /// For a successful `sendMessage` or `sendPhoto`: the message id the fake gave it.
    pub sent_id: Option<i64>,
    /// The file parts of a multipart body.
    pub files: Vec<Upload>,
}

impl Recorded {
    /// Whether this is a call of `method` (teloxide writes method names in PascalCase).
    pub fn is(&self, method: &str) -> bool {
        self.method.eq_ignore_ascii_case(method)
    }

    /// The `text` field (empty when there is none).
    pub fn text(&self) -> &str {
        self.body["text"].as_str().unwrap_or_default()
    }

    /// The bytes of the photo a `sendPhoto` uploaded.
    pub fn photo(&self) -> Option<&[u8]> {
        upload::photo(&self.body, &self.files).map(|u| u.bytes.as_slice())
    }

    /// The `caption` field (empty when there is none).
    pub fn caption(&self) -> &str {
        self.body["caption"].as_str().unwrap_or_default()
    }

    /// (label, callback data) of the inline keyboard, row by row.
    pub fn buttons(&self) -> Vec<(String, String)> {
        let field = |b: &Value, k: &str| b[k].as_str().unwrap_or_default().to_owned();
        self.body["reply_markup"]["inline_keyboard"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row.as_array().cloned().unwrap_or_default())
            .map(|b| (field(&b, "text"), field(&b, "callback_data")))
            .collect()
    }

    /// The callback data of the first button whose label contains `label`.
    #[track_caller]
    pub fn button(&self, label: &str) -> String {
        self.buttons()
            .into_iter()
            .find(|(l, _)| l.contains(label))
            .map(|(_, d)| d)
            .unwrap_or_else(|| panic!("no {label:?} button in {:?}", self.buttons()))
    }

    /// The id of the message this call created (`sendMessage`) or changed (edits).
    #[track_caller]
    pub fn message_id(&self) -> i64 {
        self.sent_id
            .or_else(|| self.body["message_id"].as_i64())
            .expect("message id")
    }
}
