//! The development provider signs in as anyone without a password, so it listens on loopback
//! only: any other address is refused at start, even one this machine could bind.

mod common;

use std::{
    io::ErrorKind,
    net::{IpAddr, SocketAddr, TcpListener, UdpSocket},
    time::Duration,
};

use actix_oauth_dev::DevProvider;

const CALLBACK: &str = "http://127.0.0.1:8080/auth/dev/callback";

/// This machine's address on its default route, if it has one: an address the process can bind
/// that other machines reach. (Connecting a UDP socket sends nothing.)
fn routable_local_address() -> Option<IpAddr> {
    let socket = UdpSocket::bind("0.0.0.0:0").ok()?;
    socket.connect("192.0.2.1:9").ok()?;
    let ip = socket.local_addr().ok()?.ip();
    (!ip.is_loopback() && !ip.is_unspecified()).then_some(ip)
}

fn start_on(ip: IpAddr) -> std::io::Result<DevProvider> {
    DevProvider::builder()
        .client("app", "app-secret", [CALLBACK])
        .bind(SocketAddr::new(ip, 0))
        .start()
}

#[test]
fn any_address_but_loopback_is_refused() {
    let mut refused: Vec<IpAddr> = ["0.0.0.0", "::", "192.0.2.1", "::ffff:0.0.0.0"]
        .iter()
        .map(|ip| ip.parse().unwrap())
        .collect();
    match routable_local_address() {
        Some(ip) => {
            // The operating system would bind it: the refusal is the provider's.
            TcpListener::bind((ip, 0)).expect("this machine's own address binds");
            refused.push(ip);
        }
        None => common::say_skipped("no routable local address: checking the others only"),
    }
    for ip in refused {
        let error = start_on(ip).expect_err("a non-loopback address is refused");
        assert_eq!(error.kind(), ErrorKind::InvalidInput, "{ip}: {error}");
        let message = error.to_string();
        assert!(
            message.contains("loopback") && message.contains(&ip.to_string()),
            "{ip}: {message}"
        );
    }
}

#[actix_rt::test]
async fn loopback_addresses_serve() {
    for ip in ["127.0.0.1", "127.0.0.2", "::1"] {
        let ip: IpAddr = ip.parse().unwrap();
        let provider = match start_on(ip) {
            Ok(provider) => provider,
            // A host without IPv6 on loopback cannot bind ::1 at all.
            Err(e) if ip.is_ipv6() && e.kind() == ErrorKind::AddrNotAvailable => {
                common::say_skipped("::1 is not available here");
                continue;
            }
            Err(e) => panic!("{ip}: {e}"),
        };
        let host = provider.url().host_str().unwrap_or_default().to_owned();
        assert_eq!(
            host.trim_matches(['[', ']']).parse::<IpAddr>().ok(),
            Some(ip)
        );
        let mut answer = awc::Client::builder()
            .timeout(Duration::from_secs(5))
            .finish()
            .get(provider.discovery_url().as_str())
            .send()
            .await
            .expect("the provider answers on its loopback address");
        assert_eq!(answer.status(), 200);
        let document: serde_json::Value = answer.json().await.expect("discovery JSON");
        assert_eq!(document["issuer"], provider.issuer());
    }
}
