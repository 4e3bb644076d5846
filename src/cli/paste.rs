//! `auth finish --callback-url -`: the callback URL read from stdin instead of the command
//! line, where it would show in the process list (`ps`, `/proc/<pid>/cmdline`) while the
//! login runs. One line, bounded, trimmed, a [`Secret`] from the read on.

use std::io::BufRead;

use super::output::CliError;
use crate::engine::error::FailureKind;
use crate::secret::Secret;

/// The `--callback-url` value that means "read it from stdin".
pub const FROM_STDIN: &str = "-";

/// The longest line accepted, in bytes (a real callback URL is well under 1 KiB).
pub const MAX_LINE: u64 = 8 * 1024;

/// Read the callback URL: the first line of `input` (at most [`MAX_LINE`] bytes), trimmed.
/// An empty or blank line, a line too long or not UTF-8 is refused like a bad callback URL
/// (exit 5, `bad_callback_url`), with a message that quotes nothing of what was read.
pub fn read_callback(input: impl BufRead) -> Result<Secret<String>, CliError> {
    let mut raw = Vec::new();
    input
        .take(MAX_LINE + 1)
        .read_until(b'\n', &mut raw)
        .map_err(|e| CliError::runtime("stdin", format!("could not read stdin: {}", e.kind())))?;
    if raw.last() == Some(&b'\n') {
        raw.pop();
    }
    if raw.len() as u64 > MAX_LINE {
        return Err(refused(format!(
            "the callback URL on stdin is longer than {MAX_LINE} bytes"
        )));
    }
    let line = Secret::new(
        String::from_utf8(raw)
            .map_err(|_| refused("the callback URL on stdin is not UTF-8 text".to_owned()))?,
    );
    let trimmed = Secret::new(line.expose_secret().trim().to_owned());
    if trimmed.expose_secret().is_empty() {
        return Err(refused(
            "no callback URL on stdin: pipe or paste the whole address the browser was sent to \
             (http://localhost:1455/auth/callback?code=…&state=…), then press Enter"
                .to_owned(),
        ));
    }
    Ok(trimmed)
}

fn refused(message: String) -> CliError {
    CliError {
        kind: FailureKind::InputRefused,
        code: "bad_callback_url",
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_one_trimmed_line() {
        let url = "http://localhost:1455/auth/callback?code=ac_X&state=ff";
        let got = read_callback(format!("  {url} \r\nsecond line\n").as_bytes()).unwrap();
        assert_eq!(got.expose_secret(), url);
        let got = read_callback(url.as_bytes()).unwrap();
        assert_eq!(got.expose_secret(), url, "no newline at EOF is fine");
    }

    #[test]
    fn empty_blank_long_and_binary_input_is_refused_without_quoting_it() {
        let long = format!("http://x/?code={}", "S".repeat(9000));
        for input in [
            &b""[..],
            b"\n",
            b"   \t\r\n",
            long.as_bytes(),
            b"\xff\xfeSECRET\n",
        ] {
            let e = read_callback(input).unwrap_err();
            assert_eq!(e.kind, FailureKind::InputRefused);
            assert_eq!(e.code, "bad_callback_url");
            assert!(!e.message.contains("SSSS") && !e.message.contains("SECRET"));
        }
    }

    #[test]
    fn exactly_the_limit_is_accepted() {
        let line = "a".repeat(MAX_LINE as usize);
        assert_eq!(
            read_callback(line.as_bytes())
                .unwrap()
                .expose_secret()
                .len(),
            line.len()
        );
        let with_newline = format!("{line}\n");
        assert!(read_callback(with_newline.as_bytes()).is_ok());
        let over = format!("{line}a\n");
        assert!(read_callback(over.as_bytes()).is_err());
    }
}
