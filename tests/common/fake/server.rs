//! The fake's HTTP/1.1 server on a raw socket: accepts connections, reads requests (head, then a
//! `Content-Length` or chunked body), records them, and answers each through the fault scripted
//! for its path or the personality, keeping the connection alive unless a fault ends it.

use std::{
    collections::BTreeMap,
    io::{Read as _, Write as _},
    net::{TcpListener, TcpStream},
    sync::Arc,
    thread::JoinHandle,
    time::Duration,
};

use super::{faults, Answer, Fault, Personality, Recorded, Shared};

/// Starts the acceptor thread; it stops (and joins its connections) when the provider stops.
pub(super) fn start<P: Personality>(
    listener: TcpListener,
    shared: Arc<Shared<P>>,
) -> JoinHandle<()> {
    listener.set_nonblocking(true).expect("nonblocking");
    std::thread::spawn(move || {
        let mut connections = Vec::new();
        while !shared.stopped() {
            match listener.accept() {
                Ok((stream, _)) => {
                    let shared = shared.clone();
                    connections.push(std::thread::spawn(move || connection(stream, &shared)));
                }
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {
                    std::thread::sleep(Duration::from_millis(5));
                }
                Err(_) => break,
            }
        }
        // Closes the port first: a test restarting the provider may bind it again at once.
        drop(listener);
        for connection in connections {
            let _ = connection.join();
        }
    })
}

/// One connection: requests one after another until the peer or a fault ends it.
fn connection<P: Personality>(mut stream: TcpStream, shared: &Shared<P>) {
    let _ = stream.set_nonblocking(false);
    let _ = stream.set_read_timeout(Some(Duration::from_millis(50)));
    let _ = stream.set_write_timeout(Some(Duration::from_secs(2)));
    let mut buf = Vec::new();
    loop {
        let silent = matches!(
            shared.script.lock().unwrap().everywhere,
            Some(Fault::Silent)
        );
        if silent {
            // Holds the connection open, reading nothing, until the test ends.
            faults::hold(shared);
            return;
        }
        let Some(req) = read_request(&mut stream, &mut buf, shared) else {
            return;
        };
        shared.log.lock().unwrap().requests.push(req.clone());
        let fault = shared.script.lock().unwrap().fault_for(&req.path);
        let keep_alive = match fault {
            Some(fault) => faults::act(&mut stream, &req, fault, shared),
            None => {
                let answer = shared.personality.answer(&req, &shared.origin);
                write_answer(&mut stream, &req, &answer, shared)
            }
        };
        let close = req
            .headers
            .get("connection")
            .is_some_and(|c| c.eq_ignore_ascii_case("close"));
        if !keep_alive || close {
            return;
        }
    }
}

/// Writes `answer` after its delay; `false` if the connection broke (or the provider stopped).
pub(super) fn write_answer<P>(
    stream: &mut TcpStream,
    req: &Recorded,
    answer: &Answer,
    shared: &Shared<P>,
) -> bool {
    if !answer.delay.is_zero() {
        shared.pause(answer.delay);
        if shared.stopped() {
            return false;
        }
    }
    let reason = actix_web::http::StatusCode::from_u16(answer.status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("Unknown");
    let mut head = format!("HTTP/1.1 {} {reason}\r\n", answer.status);
    if !answer.content_type.is_empty() {
        head.push_str(&format!("content-type: {}\r\n", answer.content_type));
    }
    for (name, value) in &answer.headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("content-length: {}\r\n\r\n", answer.body.len()));
    let body: &[u8] = if req.method == "HEAD" {
        &[]
    } else {
        &answer.body
    };
    stream.write_all(head.as_bytes()).is_ok() && stream.write_all(body).is_ok()
}

/// Reads more bytes into `buf`; `None` when the peer closed, the connection broke or the
/// provider stopped.
fn read_more<P>(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared<P>) -> Option<()> {
    let mut chunk = [0u8; 8192];
    loop {
        if shared.stopped() {
            return None;
        }
        match stream.read(&mut chunk) {
            Ok(0) => return None,
            Ok(n) => {
                buf.extend_from_slice(&chunk[..n]);
                return Some(());
            }
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                ) => {}
            Err(_) => return None,
        }
    }
}

/// Takes one `\r\n`-terminated line off `buf`, reading as needed.
fn take_line<P>(stream: &mut TcpStream, buf: &mut Vec<u8>, shared: &Shared<P>) -> Option<String> {
    loop {
        if let Some(i) = buf.windows(2).position(|w| w == b"\r\n") {
            let line = String::from_utf8_lossy(&buf[..i]).into_owned();
            buf.drain(..i + 2);
            return Some(line);
        }
        read_more(stream, buf, shared)?;
    }
}

/// Takes `n` bytes off `buf`, reading as needed.
fn take<P>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    n: usize,
    shared: &Shared<P>,
) -> Option<Vec<u8>> {
    while buf.len() < n {
        read_more(stream, buf, shared)?;
    }
    Some(buf.drain(..n).collect())
}

/// Reads one request: its head, then its body by `Content-Length` or chunked framing. Bytes of
/// a next (pipelined) request stay in `buf`.
fn read_request<P>(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    shared: &Shared<P>,
) -> Option<Recorded> {
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        read_more(stream, buf, shared)?;
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).into_owned();
    buf.drain(..head_end);
    let mut lines = head.split("\r\n");
    let mut request_line = lines.next()?.split(' ');
    let method = request_line.next()?.to_owned();
    let target = request_line.next()?.to_owned();
    let headers: BTreeMap<String, String> = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let chunked = headers
        .get("transfer-encoding")
        .is_some_and(|te| te.to_ascii_lowercase().contains("chunked"));
    let body = if chunked {
        let mut body = Vec::new();
        loop {
            let size = take_line(stream, buf, shared)?;
            let size = usize::from_str_radix(size.split(';').next()?.trim(), 16).ok()?;
            if size == 0 {
                // Trailers, up to the empty line.
                while !take_line(stream, buf, shared)?.is_empty() {}
                break body;
            }
            body.extend(take(stream, buf, size, shared)?);
            take_line(stream, buf, shared)?;
        }
    } else {
        let length = headers
            .get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        take(stream, buf, length, shared)?
    };
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    Some(Recorded {
        method,
        path: path.to_owned(),
        query: query.to_owned(),
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    })
}
