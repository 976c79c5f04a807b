//! What each [`Fault`] does to a connection, once its request was read.

use std::{io::Write as _, net::TcpStream};

use super::{server::write_answer, Answer, Fault, Recorded, Shared, Streamed};

/// Meets `req` with `fault`; `true` if the connection is kept for the next request.
pub(super) fn act<P>(
    stream: &mut TcpStream,
    req: &Recorded,
    fault: Fault,
    shared: &Shared<P>,
) -> bool {
    match fault {
        Fault::Answer(answer) => write_answer(stream, req, &answer, shared),
        Fault::Silent => {
            hold(shared);
            false
        }
        Fault::Drip {
            prefix,
            rest,
            chunk,
            pause,
        } => {
            if stream.write_all(&prefix).is_err() {
                return false;
            }
            for piece in rest.chunks(chunk.max(1)) {
                shared.pause(pause);
                if shared.stopped() || stream.write_all(piece).is_err() {
                    return false;
                }
            }
            false
        }
        Fault::Raw(bytes) => {
            let _ = stream.write_all(&bytes);
            let _ = stream.flush();
            false
        }
        Fault::RedirectToSelf => {
            let location = format!("{}{}", shared.origin, req.target());
            write_answer(stream, req, &Answer::redirect(location), shared)
        }
        Fault::Huge { len, chunked } => {
            let outcome = stream_huge(stream, len, chunked, shared);
            shared.log.lock().unwrap().streams.push(outcome);
            false
        }
    }
}

/// Holds the connection open, neither reading nor writing, until the provider stops.
pub(super) fn hold<P>(shared: &Shared<P>) {
    while !shared.stopped() {
        shared.pause(std::time::Duration::from_millis(50));
    }
}

/// Streams a `len`-byte body from one 64 KiB buffer, so the provider side holds no more than that.
fn stream_huge<P>(
    stream: &mut TcpStream,
    len: usize,
    chunked: bool,
    shared: &Shared<P>,
) -> Streamed {
    const PIECE: usize = 64 * 1024;
    let framing = if chunked {
        "transfer-encoding: chunked".to_owned()
    } else {
        format!("content-length: {len}")
    };
    let head = format!("HTTP/1.1 200 OK\r\ncontent-type: application/json\r\n{framing}\r\n\r\n");
    let mut piece = vec![b'x'; PIECE];
    let opening = br#"{"access_token":"a","pad":""#;
    piece[..opening.len()].copy_from_slice(opening);
    let mut outcome = Streamed {
        written: 0,
        complete: false,
        ended_by: None,
    };
    if let Err(e) = stream.write_all(head.as_bytes()) {
        outcome.ended_by = Some(e.to_string());
        return outcome;
    }
    while outcome.written < len {
        if shared.stopped() {
            outcome.ended_by = Some("the test ended".into());
            return outcome;
        }
        let n = PIECE.min(len - outcome.written);
        let result = if chunked {
            stream
                .write_all(format!("{n:x}\r\n").as_bytes())
                .and_then(|()| stream.write_all(&piece[..n]))
                .and_then(|()| stream.write_all(b"\r\n"))
        } else {
            stream.write_all(&piece[..n])
        };
        if let Err(e) = result {
            // A reset or broken pipe: the client hung up; a timeout: it stopped reading.
            outcome.ended_by = Some(e.to_string());
            return outcome;
        }
        outcome.written += n;
        // Only the first piece opens the JSON; the rest is padding.
        piece[..opening.len()].fill(b'x');
    }
    if chunked {
        let _ = stream.write_all(b"0\r\n\r\n");
    }
    outcome.complete = true;
    outcome
}
