//! `actix-oauth-dev`: the development provider as a program, so that apps in any language can
//! sign in offline against a strict OAuth 2 / OpenID Connect / OAuth 1.0a provider.
//!
//! ```text
//! actix-oauth-dev --bind 127.0.0.1:9000 --client my-app:my-secret:http://127.0.0.1:8080/cb
//! ```
//!
//! It prints `issuer: http://127.0.0.1:9000` on standard output (discovery lives at
//! `ISSUER/.well-known/openid-configuration`) and serves until Ctrl-C or SIGTERM. Bad arguments
//! are reported on standard error with exit code 2.

#![forbid(unsafe_code)]

use std::collections::BTreeMap;
use std::io::{self, Write as _};
use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use actix_oauth_dev::{DevProvider, DevUser};
use url::Url;

const USAGE: &str = "\
Usage: actix-oauth-dev [--bind ADDR:PORT] --client ID:SECRET:REDIRECT_URI [--client …]

A strict OAuth 2 / OpenID Connect / OAuth 1.0a provider on loopback, for development and tests.
Prints `issuer: URL` on standard output, then serves until Ctrl-C or SIGTERM.

Options:
  --bind ADDR:PORT   where to listen: a loopback address only (default 127.0.0.1:0, a free port)
  --client ID:SECRET:REDIRECT_URI
                     registers a client (also an OAuth 1.0a consumer). The redirect URI is
                     everything after the second colon and is compared exactly. Repeatable; the
                     same ID and SECRET again add another redirect URI.
  -h, --help         prints this help

The consent page signs in as the user alice (Alice Example, alice@example.test, email verified)
without a password: keep it on loopback.
";

/// What the command line asked for.
#[derive(Debug, PartialEq)]
enum Command {
    Help,
    Serve {
        bind: SocketAddr,
        /// Client id → (secret, redirect URIs), in id order.
        clients: BTreeMap<String, (String, Vec<String>)>,
    },
}

/// Reads the arguments (without the program name). The error is a whole sentence.
fn parse(args: impl IntoIterator<Item = String>) -> Result<Command, String> {
    let mut bind = SocketAddr::from((Ipv4Addr::LOCALHOST, 0));
    let mut clients: BTreeMap<String, (String, Vec<String>)> = BTreeMap::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((flag, value)) if flag.starts_with("--") => {
                (flag.to_owned(), Some(value.to_owned()))
            }
            _ => (arg, None),
        };
        let mut value = |name: &str| {
            inline
                .clone()
                .or_else(|| args.next())
                .ok_or_else(|| format!("{name} needs a value."))
        };
        match flag.as_str() {
            "-h" | "--help" => return Ok(Command::Help),
            "--bind" => {
                let text = value("--bind")?;
                bind = text.parse().map_err(|_| {
                    format!("--bind {text:?} is not an address and port such as 127.0.0.1:9000.")
                })?;
            }
            "--client" => {
                let text = value("--client")?;
                let (id, secret, redirect_uri) = client(&text)?;
                let entry = clients
                    .entry(id.to_owned())
                    .or_insert_with(|| (secret.to_owned(), Vec::new()));
                if entry.0 != secret {
                    return Err(format!(
                        "--client {id:?} is given twice with different secrets."
                    ));
                }
                if !entry.1.iter().any(|uri| uri == redirect_uri) {
                    entry.1.push(redirect_uri.to_owned());
                }
            }
            other => return Err(format!("Unknown argument {other:?}.")),
        }
    }
    if clients.is_empty() {
        return Err("At least one --client ID:SECRET:REDIRECT_URI is needed.".to_owned());
    }
    Ok(Command::Serve { bind, clients })
}

/// Splits `ID:SECRET:REDIRECT_URI` at its first two colons and checks each part.
fn client(text: &str) -> Result<(&str, &str, &str), String> {
    let mut parts = text.splitn(3, ':');
    let (Some(id), Some(secret), Some(redirect_uri)) = (parts.next(), parts.next(), parts.next())
    else {
        // Not the value itself: it may hold the secret.
        let id = text.split(':').next().unwrap_or_default();
        return Err(format!(
            "--client {id:?}… is not ID:SECRET:REDIRECT_URI (the redirect URI is everything after the second colon)."
        ));
    };
    if id.is_empty() || secret.is_empty() {
        return Err(format!("--client {id:?} has an empty client id or secret."));
    }
    let valid = Url::parse(redirect_uri).is_ok_and(|url| url.fragment().is_none());
    if !valid {
        return Err(format!(
            "--client {id:?}: the redirect URI {redirect_uri:?} is not an absolute URL without a fragment."
        ));
    }
    Ok((id, secret, redirect_uri))
}

/// The signals that stop the provider (SIGTERM, Ctrl-C), listened to from before the issuer is
/// announced: a SIGTERM sent right after the announcement must not meet the default action.
#[cfg(unix)]
struct StopSignals {
    terminate: actix_rt::signal::unix::Signal,
    interrupt: actix_rt::signal::unix::Signal,
}

#[cfg(unix)]
impl StopSignals {
    /// Starts listening (inside the runtime).
    fn listen() -> io::Result<Self> {
        use actix_rt::signal::unix::{signal, SignalKind};
        Ok(Self {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for either signal.
    async fn wait(mut self) -> io::Result<()> {
        std::future::poll_fn(|cx| {
            if self.interrupt.poll_recv(cx).is_ready() || self.terminate.poll_recv(cx).is_ready() {
                std::task::Poll::Ready(Ok(()))
            } else {
                std::task::Poll::Pending
            }
        })
        .await
    }
}

/// Ctrl-C, where there are no Unix signals.
#[cfg(not(unix))]
struct StopSignals;

#[cfg(not(unix))]
impl StopSignals {
    fn listen() -> io::Result<Self> {
        Ok(Self)
    }

    async fn wait(self) -> io::Result<()> {
        actix_rt::signal::ctrl_c().await
    }
}

fn main() -> ExitCode {
    let (bind, clients) = match parse(std::env::args().skip(1)) {
        Ok(Command::Help) => {
            print!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Ok(Command::Serve { bind, clients }) => (bind, clients),
        Err(message) => {
            eprintln!("actix-oauth-dev: {message}\n\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mut builder = DevProvider::builder().bind(bind).user(
        DevUser::new("alice")
            .name("Alice Example")
            .email("alice@example.test"),
    );
    for (id, (secret, redirect_uris)) in &clients {
        builder = builder.client(id, secret, redirect_uris);
    }
    let provider = match builder.start() {
        Ok(provider) => provider,
        Err(error) => {
            eprintln!("actix-oauth-dev: {error}");
            // A refused address or redirect URI is a bad argument; anything else (the port is
            // taken, no key could be made) is a failure to start.
            let code = if error.kind() == io::ErrorKind::InvalidInput {
                2
            } else {
                1
            };
            return ExitCode::from(code);
        }
    };

    let stopped = actix_rt::System::new().block_on(async {
        let stop =
            StopSignals::listen().map_err(|e| format!("cannot wait for a stop signal: {e}"))?;
        let mut stdout = io::stdout().lock();
        writeln!(stdout, "issuer: {}", provider.issuer())
            .and_then(|()| stdout.flush())
            .map_err(|e| format!("cannot write the issuer to standard output: {e}"))?;
        drop(stdout);
        eprintln!(
            "actix-oauth-dev: discovery at {}, authorize at {}, token at {}, userinfo at {}; \
             OAuth 1.0a request token at {}. Clients: {}. Ctrl-C stops it.",
            provider.discovery_url(),
            provider.authorize_url(),
            provider.token_url(),
            provider.userinfo_url(),
            provider.oauth1_request_token_url(),
            clients.keys().cloned().collect::<Vec<_>>().join(", "),
        );
        stop.wait()
            .await
            .map_err(|e| format!("cannot wait for a stop signal: {e}"))
    });
    drop(provider);
    match stopped {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("actix-oauth-dev: {message}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Result<Command, String> {
        parse(list.iter().map(|s| (*s).to_owned()))
    }

    #[test]
    fn the_redirect_uri_is_everything_after_the_second_colon() {
        let Ok(Command::Serve { bind, clients }) = args(&[
            "--bind",
            "127.0.0.1:8999",
            "--client",
            "app:secret:http://127.0.0.1:8080/cb?x=1",
            "--client=app:secret:http://localhost:8080/cb",
            "--client",
            "app:secret:http://127.0.0.1:8080/cb?x=1",
            "--client",
            "other:pw:https://example.test/callback",
        ]) else {
            panic!("the arguments parse");
        };
        assert_eq!(bind, "127.0.0.1:8999".parse().unwrap());
        // The URI keeps its own colons; a repeated URI is registered once.
        assert_eq!(
            clients["app"],
            (
                "secret".to_owned(),
                vec![
                    "http://127.0.0.1:8080/cb?x=1".to_owned(),
                    "http://localhost:8080/cb".to_owned()
                ]
            )
        );
        assert_eq!(
            clients["other"].1,
            vec!["https://example.test/callback".to_owned()]
        );
    }

    #[test]
    fn defaults_and_help() {
        let Ok(Command::Serve { bind, .. }) = args(&["--client", "a:b:http://127.0.0.1/cb"]) else {
            panic!("the arguments parse");
        };
        assert_eq!(bind, SocketAddr::from((Ipv4Addr::LOCALHOST, 0)));
        assert_eq!(args(&["--help"]), Ok(Command::Help));
        assert_eq!(args(&["-h"]), Ok(Command::Help));
    }

    #[test]
    fn bad_arguments_are_sentences() {
        for (list, needle) in [
            (&[][..], "At least one --client"),
            (&["--client"][..], "--client needs a value"),
            (
                &["--client", "app:s3cr3t-value"][..],
                "is not ID:SECRET:REDIRECT_URI",
            ),
            (
                &["--client", ":s3cr3t-value:http://a/cb"][..],
                "empty client id or secret",
            ),
            (
                &["--client", "app::http://a/cb"][..],
                "empty client id or secret",
            ),
            (&["--client", "app:s:/relative"][..], "not an absolute URL"),
            (
                &["--client", "app:s:http://a/cb#frag"][..],
                "not an absolute URL",
            ),
            (
                &[
                    "--client",
                    "app:s:http://a/cb",
                    "--client",
                    "app:t:http://a/cb",
                ][..],
                "different secrets",
            ),
            (&["--bind", "localhost"][..], "is not an address and port"),
            (&["--verbose"][..], "Unknown argument"),
        ] {
            let error = args(list).expect_err(needle);
            assert!(error.contains(needle), "{list:?}: {error}");
            // A client secret given on the command line never comes back in a message.
            assert!(!error.contains("s3cr3t"), "{list:?}: {error}");
            assert!(error.ends_with('.'), "{error}");
        }
    }
}
