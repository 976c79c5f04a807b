//! The example server (the real binary) as a child process, and a TCP cable the test can unplug
//! between the app and a service it uses.

use std::{
    io::{BufRead as _, BufReader},
    net::SocketAddr,
    path::PathBuf,
    process::{Child, Command, Stdio},
    sync::{
        atomic::{AtomicBool, AtomicUsize, Ordering},
        Arc, Mutex,
    },
    time::{Duration, Instant},
};

/// The example binary cargo built next to this test (`cargo test` builds it; alone:
/// `cargo build --all-features --example server`).
pub fn server_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test path");
    let dir = exe
        .parent()
        .and_then(|deps| deps.parent())
        .expect("target dir");
    dir.join("examples").join(if cfg!(windows) {
        "server.exe"
    } else {
        "server"
    })
}

/// A fresh directory under the temporary directory, named after `what`, this process and a free
/// port (so parallel tests never share one).
pub fn temp_dir(what: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "actix-oauth-{what}-{}-{}",
        std::process::id(),
        free_port()
    ));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    dir
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("free port")
}

/// A running example server; killed when dropped.
pub struct Instance {
    child: Child,
    port: u16,
}

impl Instance {
    /// Starts the server on a free port with these variables and arguments, and waits for its
    /// "listening on" line.
    pub fn start(envs: &[(&str, String)], args: &[&str]) -> Self {
        Self::start_on(free_port(), envs, args)
    }

    /// [`start`](Self::start) on a given port (one the test reserved for its redirect URIs).
    pub fn start_on(port: u16, envs: &[(&str, String)], args: &[&str]) -> Self {
        let mut cmd = Command::new(server_bin());
        cmd.args(args)
            .env("BIND", format!("127.0.0.1:{port}"))
            .env("RUST_LOG", "warn")
            .env_remove("ACTIX_OAUTH_CONFIG")
            .env_remove("ACTIX_OAUTH_DEV_PROVIDER")
            .stdout(Stdio::piped())
            .stderr(if std::env::var_os("EXAMPLE_STDERR").is_some() {
                Stdio::inherit()
            } else {
                Stdio::null()
            });
        for (k, v) in envs {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("{}: {e}", server_bin().display()));
        let stdout = child.stdout.take().expect("stdout");
        let mut line = String::new();
        let _ = BufReader::new(stdout).read_line(&mut line);
        assert!(
            line.contains("listening on"),
            "the server did not start: {line}"
        );
        Self { child, port }
    }

    /// Its address.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    /// `http://` and its address.
    pub fn base(&self) -> String {
        format!("http://{}", self.addr())
    }

    /// Kills it now.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.kill();
    }
}

/// A fresh data directory for an example server, and in it a `providers.toml` with one OpenID
/// Connect provider `idp` (`client_id` with the secret `{client_id}-secret`) at the development
/// provider's `issuer`, its API at `api_url`: the directory and the file.
pub fn idp_config(what: &str, issuer: &str, api_url: &str, client_id: &str) -> (PathBuf, PathBuf) {
    let dir = temp_dir(what);
    let config = dir.join("providers.toml");
    std::fs::write(
        &config,
        format!(
            "dev_provider = false\n[providers.idp]\nkind = \"oidc\"\nissuer = \"{issuer}\"\n\
             client_id = \"{client_id}\"\nclient_secret = \"{client_id}-secret\"\n\
             scope = \"openid profile email\"\nbase_url = \"{api_url}\"\n"
        ),
    )
    .unwrap();
    (dir, config)
}

/// The `TOKEN_KEY` the example-server tests give it (32 bytes, base64).
pub const TOKEN_KEY: &str = "a2V5LWtleS1rZXkta2V5LWtleS1rZXkta2V5LWtleS0=";

/// Waits until `url/healthz` answers 200 (at most 20 s).
pub async fn wait_healthy(url: &str) {
    let started = Instant::now();
    loop {
        let ok = awc::Client::default()
            .get(format!("{url}/healthz"))
            .send()
            .await
            .map(|r| r.status().is_success())
            .unwrap_or(false);
        if ok {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{url} did not come up"
        );
        actix_rt::time::sleep(Duration::from_millis(50)).await;
    }
}

/// A TCP cable from a local port to a service (PostgreSQL, say), on its own thread and runtime:
/// [`unplug`](Self::unplug) cuts every connection and refuses new ones (the service is gone, as
/// when its server is down: connections are refused), [`plug`](Self::plug) lets them through again.
pub struct Cable {
    port: u16,
    plugged: Arc<AtomicBool>,
    /// Bumped at each unplug: connections of an earlier generation end.
    generation: Arc<Mutex<u64>>,
    /// Connections open through the cable.
    live: Arc<AtomicUsize>,
    /// Whether the port is closed (unplugged).
    closed: Arc<AtomicBool>,
}

impl Cable {
    /// A cable to `target`, plugged.
    pub fn to(target: SocketAddr) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("cable port");
        listener.set_nonblocking(true).expect("nonblocking");
        let port = listener.local_addr().expect("cable addr").port();
        let plugged = Arc::new(AtomicBool::new(true));
        let generation = Arc::new(Mutex::new(0u64));
        let live = Arc::new(AtomicUsize::new(0));
        let closed = Arc::new(AtomicBool::new(false));
        let (p, g, n, is_closed) = (
            Arc::clone(&plugged),
            Arc::clone(&generation),
            Arc::clone(&live),
            Arc::clone(&closed),
        );
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            rt.block_on(async move {
                let mut listener = Some(listener);
                loop {
                    // Plugged: listening. Unplugged: the port is closed, connections refused.
                    let std_listener = match listener.take() {
                        Some(l) => l,
                        None => loop {
                            if let Ok(l) = std::net::TcpListener::bind(("127.0.0.1", port)) {
                                l.set_nonblocking(true).expect("nonblocking");
                                break l;
                            }
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        },
                    };
                    let tokio_listener =
                        tokio::net::TcpListener::from_std(std_listener).expect("listener");
                    while p.load(Ordering::SeqCst) {
                        let accepted = tokio::select! {
                            accepted = tokio_listener.accept() => accepted,
                            () = tokio::time::sleep(Duration::from_millis(10)) => continue,
                        };
                        let Ok((mut client, _)) = accepted else {
                            continue;
                        };
                        let born = *g.lock().unwrap();
                        let g = Arc::clone(&g);
                        let n = Arc::clone(&n);
                        n.fetch_add(1, Ordering::SeqCst);
                        tokio::spawn(async move {
                            // Counted until this task ends, however it ends.
                            let _open = Open(n);
                            let Ok(mut server) = tokio::net::TcpStream::connect(target).await
                            else {
                                return;
                            };
                            let copy = tokio::io::copy_bidirectional(&mut client, &mut server);
                            tokio::pin!(copy);
                            loop {
                                tokio::select! {
                                    _ = &mut copy => return,
                                    () = tokio::time::sleep(Duration::from_millis(10)) => {
                                        if *g.lock().unwrap() != born {
                                            return;
                                        }
                                    }
                                }
                            }
                        });
                    }
                    drop(tokio_listener);
                    is_closed.store(true, Ordering::SeqCst);
                    while !p.load(Ordering::SeqCst) {
                        tokio::time::sleep(Duration::from_millis(10)).await;
                    }
                    is_closed.store(false, Ordering::SeqCst);
                }
            });
        });
        Self {
            port,
            plugged,
            generation,
            live,
            closed,
        }
    }

    /// The local port to connect to instead of the service's.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Cuts every connection through the cable and refuses new ones; returns once they are
    /// closed.
    pub fn unplug(&self) {
        self.plugged.store(false, Ordering::SeqCst);
        *self.generation.lock().unwrap() += 1;
        let started = Instant::now();
        while self.live.load(Ordering::SeqCst) > 0 || !self.closed.load(Ordering::SeqCst) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "connections stay open"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Lets connections through again; returns once the port listens.
    pub fn plug(&self) {
        self.plugged.store(true, Ordering::SeqCst);
        let started = Instant::now();
        while self.closed.load(Ordering::SeqCst) {
            assert!(
                started.elapsed() < Duration::from_secs(5),
                "the cable does not listen"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }
}

/// One open connection of a [`Cable`], counted while it lives.
struct Open(Arc<AtomicUsize>);

impl Drop for Open {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::SeqCst);
    }
}
