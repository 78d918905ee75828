//! `apiary serve`: the engine over Arrow Flight SQL, for ADBC, JDBC and pyarrow clients.
//!
//! The service implements arrow-flight's `FlightSqlService` directly ([`service`]); the
//! authentication check sits in front of the whole gRPC service ([`auth`]).

pub mod auth;
pub mod ingest;
pub mod prepared;
pub mod service;
pub mod sessions;
pub mod throttle;
pub mod type_info;
pub mod upload;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use tonic::transport::server::TcpIncoming;
use tonic::transport::{Identity, Server, ServerTlsConfig};

use crate::error::{ApiaryError, Result};
use crate::warehouse::Warehouse;
use auth::{AuthLayer, Authenticator, Credentials};
use service::ApiaryFlightSql;

/// Arguments of `apiary serve`.
#[derive(Debug, Clone, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (loopback by default; any other needs authentication).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: IpAddr,
    /// Port to listen on (0: any free port, printed at start).
    #[arg(long, default_value_t = 50051)]
    pub port: u16,
    /// Require `authorization: Bearer TOKEN` on every call.
    #[arg(long, value_name = "TOKEN", conflicts_with = "token_file")]
    pub token: Option<String>,
    /// Read the bearer token from a file (first line).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
    /// A user for the Basic-auth handshake (needs --password-file).
    #[arg(long, value_name = "USER", requires = "password_file")]
    pub user: Option<String>,
    /// The user's password, read from a file (first line).
    #[arg(long, value_name = "FILE", requires = "user")]
    pub password_file: Option<PathBuf>,
    /// Queries running at once; more wait up to 10 s, then fail with RESOURCE_EXHAUSTED.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..))]
    pub max_concurrent_queries: Option<u32>,
    /// Cancel a statement that runs longer than this (seconds).
    #[arg(long, value_name = "SECS")]
    pub query_timeout: Option<f64>,
    /// Bound DataFusion's memory (all sessions together): bytes, or with K, M, G (`512M`).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    pub memory_limit: Option<usize>,
    /// Serve TLS with this certificate chain (PEM; needs --tls-key).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The certificate's private key (PEM; needs --tls-cert).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// A directory clients may read and write beside the warehouse (repeatable); every other
    /// path (COPY TO, LOCATION, external tables) is refused.
    #[arg(long = "allow-path", value_name = "DIR")]
    pub allow_path: Vec<PathBuf>,
    /// Let `${env:NAME}` read the server's environment (off: clients cannot see it).
    #[arg(long)]
    pub allow_env: bool,
    /// On Ctrl-C or SIGTERM: how long running queries may go on before they are cancelled.
    #[arg(long, value_name = "SECS", default_value_t = 10.0)]
    pub shutdown_grace: f64,
}

/// `512M`, `2G`, `1048576`: a size in bytes.
fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit() && c != '.') {
        Some(i) => (&t[..i], t[i..].trim().to_ascii_uppercase()),
        None => (t, String::new()),
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a size (e.g. 512M, 2G)"))?;
    let scale = match unit.trim_end_matches('B').trim_end_matches('I') {
        "" => 1.0,
        "K" => 1024.0,
        "M" => 1024.0 * 1024.0,
        "G" => 1024.0 * 1024.0 * 1024.0,
        "T" => 1024.0_f64.powi(4),
        _ => return Err(format!("'{text}': unknown unit (K, M, G, T)")),
    };
    let bytes = value * scale;
    if !(bytes.is_finite() && bytes >= 1.0) {
        return Err(format!("'{text}' is not a positive size"));
    }
    Ok(bytes as usize)
}

fn first_line(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(ApiaryError::Usage(format!(
            "{}: its first line is empty or only whitespace",
            path.display()
        )));
    }
    Ok(line)
}

fn read_file(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })
}

impl ServeArgs {
    /// The TLS configuration the flags give, if any.
    fn tls(&self) -> Result<Option<ServerTlsConfig>> {
        let (Some(cert), Some(key)) = (&self.tls_cert, &self.tls_key) else {
            return Ok(None);
        };
        let identity = Identity::from_pem(read_file(cert)?, read_file(key)?);
        Ok(Some(ServerTlsConfig::new().identity(identity)))
    }

    /// The credentials the flags give.
    pub fn credentials(&self) -> Result<Credentials> {
        let token = match (&self.token, &self.token_file) {
            (Some(t), _) if t.trim().is_empty() => {
                return Err(ApiaryError::Usage(
                    "--token must not be empty or only whitespace".into(),
                ));
            }
            (Some(t), _) => Some(t.clone()),
            (None, Some(f)) => Some(first_line(f)?),
            (None, None) => None,
        };
        let user = match (&self.user, &self.password_file) {
            (Some(u), Some(f)) => Some((u.clone(), first_line(f)?)),
            _ => None,
        };
        Ok(Credentials { token, user })
    }
}

/// Ctrl-C or SIGTERM. Listening starts when this is called (before the server announces its
/// address), so a signal sent right after the announcement is never missed.
fn shutdown_signal() -> Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|source| ApiaryError::Io {
            path: PathBuf::from("SIGTERM handler"),
            source,
        })?;
    let ctrl_c = tokio::signal::ctrl_c();
    Ok(async move {
        #[cfg(unix)]
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
    })
}

/// HTTP/2 flow-control windows: tonic's 64 KiB defaults stall a result stream every 64 KiB
/// waiting for the client's window update; a result of many megabytes wants wide windows.
const STREAM_WINDOW: u32 = 8 << 20;
const CONNECTION_WINDOW: u32 = 32 << 20;

/// The gRPC transport every Flight SQL server of this process uses (`apiary serve` and
/// `apiary bench flight`).
pub fn transport() -> Server {
    Server::builder()
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
}

/// The connections `listener` accepts, as [`transport`] serves them (no Nagle delay: a small
/// answer goes out at once).
pub fn incoming(listener: tokio::net::TcpListener) -> TcpIncoming {
    TcpIncoming::from(listener).with_nodelay(Some(true))
}

/// Client-side settings that match [`transport`] (used by tests and the benchmark).
pub fn client_endpoint(url: String) -> Result<tonic::transport::Endpoint> {
    Ok(tonic::transport::Endpoint::from_shared(url)
        .map_err(|e| ApiaryError::Usage(format!("Flight SQL address: {e}")))?
        .initial_stream_window_size(STREAM_WINDOW)
        .initial_connection_window_size(CONNECTION_WINDOW)
        .tcp_nodelay(true))
}

/// Runs the server on the warehouse at `warehouse_dir` until Ctrl-C or SIGTERM.
pub async fn run(args: &ServeArgs, warehouse_dir: &Path) -> Result<()> {
    let credentials = args.credentials()?;
    if !args.host.is_loopback() && !credentials.enabled() {
        return Err(ApiaryError::Usage(format!(
            "refusing to listen on {} without authentication: give --token, --token-file or \
             --user with --password-file (or listen on 127.0.0.1)",
            args.host
        )));
    }
    let warehouse = Arc::new(Warehouse::open(warehouse_dir)?);
    let auth = Arc::new(Authenticator::new(credentials));
    if let Some(t) = args.query_timeout
        && !(t.is_finite() && t > 0.0)
    {
        return Err(ApiaryError::Usage(
            "--query-timeout must be a positive number of seconds".into(),
        ));
    }
    let limits = service::Limits {
        max_concurrent_queries: args.max_concurrent_queries.map(|n| n as usize),
        query_timeout: args.query_timeout.map(std::time::Duration::from_secs_f64),
        memory_limit: args.memory_limit,
        allowed_paths: args.allow_path.clone(),
        allow_env: args.allow_env,
    };
    if !(args.shutdown_grace.is_finite() && args.shutdown_grace >= 0.0) {
        return Err(ApiaryError::Usage(
            "--shutdown-grace must be a number of seconds (0 or more)".into(),
        ));
    }
    let grace = std::time::Duration::from_secs_f64(args.shutdown_grace);
    let mut server = transport();
    let tls = args.tls()?;
    let scheme = if tls.is_some() { "grpc+tls" } else { "grpc" };
    if let Some(tls) = tls {
        server = server.tls_config(tls).map_err(|e| {
            ApiaryError::Usage(format!(
                "--tls-cert/--tls-key: {e} (both must be PEM: a certificate chain and its key)"
            ))
        })?;
    } else if !args.host.is_loopback() {
        eprintln!(
            "apiary: warning: serving {} without TLS: credentials cross the network in clear \
             (give --tls-cert and --tls-key)",
            args.host
        );
    }
    let service = ApiaryFlightSql::new(Arc::clone(&warehouse), Arc::clone(&auth), limits)?;
    let listener = tokio::net::TcpListener::bind(SocketAddr::new(args.host, args.port))
        .await
        .map_err(|source| ApiaryError::Io {
            path: PathBuf::from(format!("{}:{}", args.host, args.port)),
            source,
        })?;
    let address = listener.local_addr().map_err(|source| ApiaryError::Io {
        path: PathBuf::from("listener"),
        source,
    })?;
    let signal = shutdown_signal()?;
    println!(
        "apiary: Flight SQL on {scheme}://{address} (warehouse {})",
        warehouse.root().display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    // On the signal the server stops accepting, and calls in flight may finish within the
    // grace period; then the server future is dropped, which cancels the queries still running.
    let stopping = Arc::new(tokio::sync::Notify::new());
    let shutdown = {
        let stopping = Arc::clone(&stopping);
        async move {
            signal.await;
            stopping.notify_one();
        }
    };
    let serve = server
        .layer(AuthLayer::new(auth))
        .add_service(FlightServiceServer::new(service))
        .serve_with_incoming_shutdown(incoming(listener), shutdown);
    let grace_over = async {
        stopping.notified().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = serve => {
            served.map_err(|e| ApiaryError::Usage(format!("Flight SQL server: {e}")))?;
            eprintln!("apiary: server stopped");
        }
        _ = grace_over => eprintln!(
            "apiary: server stopped; calls still running after {} s were cancelled",
            grace.as_secs_f64()
        ),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_size;

    #[test]
    fn sizes_parse_with_units() {
        assert_eq!(parse_size("1024"), Ok(1024));
        assert_eq!(parse_size("512M"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("1.5GiB"), Ok(3 << 29));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("3X").is_err());
        assert!(parse_size("0").is_err());
    }
}
