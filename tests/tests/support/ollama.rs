//! A fake Ollama server for the tests that run the CLI or the pipeline against a provider:
//! one request, answered in Ollama's exact `/api/chat` wire format.

/// A one-request Ollama: answers `/api/chat` with `content` as the model's message.
pub fn fake_ollama(content: serde_json::Value) -> (String, std::thread::JoinHandle<String>) {
    use std::io::{Read, Write};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let handle = std::thread::spawn(move || {
        let (mut sock, _) = listener.accept().unwrap();
        sock.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        let mut req = Vec::new();
        let mut buf = [0u8; 8192];
        // Read headers, then as many body bytes as Content-Length says.
        loop {
            let n = sock.read(&mut buf).unwrap_or(0);
            if n == 0 {
                break;
            }
            req.extend_from_slice(&buf[..n]);
            let text = String::from_utf8_lossy(&req);
            if let Some(end) = text.find("\r\n\r\n") {
                let len = text[..end]
                    .lines()
                    .find_map(|l| {
                        let (k, v) = l.split_once(':')?;
                        k.eq_ignore_ascii_case("content-length")
                            .then(|| v.trim().parse::<usize>().ok())?
                    })
                    .unwrap_or(0);
                if req.len() >= end + 4 + len {
                    break;
                }
            }
        }
        let body = serde_json::json!({
            "model": "fake", "created_at": "2026-11-25T00:00:00Z",
            "message": {"role": "assistant", "content": content.to_string()},
            "done": true, "done_reason": "stop",
            "prompt_eval_count": 900, "eval_count": 80
        })
        .to_string();
        let resp = format!(
            "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        );
        sock.write_all(resp.as_bytes()).unwrap();
        String::from_utf8_lossy(&req).into_owned()
    });
    (url, handle)
}
