//! Bounded line reading: a line longer than the limit is skipped up to its newline and
//! reported as oversize, so a runaway writer can neither grow the host's memory nor
//! desynchronise the stream (the next line is read normally).

use tokio::io::{AsyncBufRead, AsyncBufReadExt};

/// One line read.
#[derive(Debug, PartialEq, Eq)]
pub enum Line {
    /// A line (without `\n` or `\r\n`).
    Text(Vec<u8>),
    /// A line over the limit; its bytes were dropped.
    Oversize,
}

/// Read the next line of at most `max` bytes; `None` at end of input. A last line without a
/// newline still counts.
pub async fn next(
    input: &mut (impl AsyncBufRead + Unpin),
    max: usize,
) -> std::io::Result<Option<Line>> {
    let mut line = Vec::new();
    let mut oversize = false;
    loop {
        let buf = input.fill_buf().await?;
        if buf.is_empty() {
            if line.is_empty() && !oversize {
                return Ok(None);
            }
            break;
        }
        let (chunk, found) = match buf.iter().position(|&b| b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if !oversize {
            if line.len() + chunk.len() > max {
                oversize = true;
                line = Vec::new();
            } else {
                line.extend_from_slice(chunk);
            }
        }
        let used = found.unwrap_or(buf.len());
        input.consume(used);
        if found.is_some() {
            break;
        }
    }
    if oversize {
        return Ok(Some(Line::Oversize));
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    Ok(Some(Line::Text(line)))
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn all(input: &[u8], max: usize) -> Vec<Line> {
        // A tiny buffer, so lines span many reads.
        let mut r = tokio::io::BufReader::with_capacity(3, input);
        let mut out = Vec::new();
        while let Some(l) = next(&mut r, max).await.unwrap() {
            out.push(l);
        }
        out
    }

    #[tokio::test]
    async fn splits_lines_and_keeps_a_last_line_without_newline() {
        let got = all(b"ab\r\ncd\n\nef", 10).await;
        assert_eq!(
            got,
            vec![
                Line::Text(b"ab".to_vec()),
                Line::Text(b"cd".to_vec()),
                Line::Text(vec![]),
                Line::Text(b"ef".to_vec()),
            ]
        );
    }

    #[tokio::test]
    async fn an_oversize_line_is_skipped_and_the_next_one_read() {
        let mut input = vec![b'x'; 50];
        input.extend_from_slice(b"\nok\n");
        let got = all(&input, 10).await;
        assert_eq!(got, vec![Line::Oversize, Line::Text(b"ok".to_vec())]);
        assert_eq!(all(&[b'y'; 11], 10).await, vec![Line::Oversize]);
        assert_eq!(all(&[b'y'; 10], 10).await, vec![Line::Text(vec![b'y'; 10])]);
    }
}
