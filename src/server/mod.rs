//! `apiary serve`: the engine over Arrow Flight SQL, for ADBC, JDBC and pyarrow clients.
//!
//! The service implements arrow-flight's `FlightSqlService` directly ([`service`]); the
//! authentication check sits in front of the whole gRPC service ([`auth`]).

pub mod auth;
pub mod service;

use std::net::{IpAddr, SocketAddr};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_flight::flight_service_server::FlightServiceServer;
use tonic::transport::Server;
use tonic::transport::server::TcpIncoming;

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
}

fn first_line(path: &Path) -> Result<String> {
    let text = std::fs::read_to_string(path).map_err(|source| ApiaryError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    let line = text.lines().next().unwrap_or("").trim().to_string();
    if line.is_empty() {
        return Err(ApiaryError::Usage(format!("{} is empty", path.display())));
    }
    Ok(line)
}

impl ServeArgs {
    /// The credentials the flags give.
    pub fn credentials(&self) -> Result<Credentials> {
        let token = match (&self.token, &self.token_file) {
            (Some(t), _) if t.is_empty() => {
                return Err(ApiaryError::Usage("--token must not be empty".into()));
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

/// Waits for Ctrl-C or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
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
    let service = ApiaryFlightSql::new(Arc::clone(&warehouse), Arc::clone(&auth))?;
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
    println!(
        "apiary: Flight SQL on grpc://{address} (warehouse {})",
        warehouse.root().display()
    );
    use std::io::Write;
    let _ = std::io::stdout().flush();
    Server::builder()
        .layer(AuthLayer::new(auth))
        .add_service(FlightServiceServer::new(service))
        .serve_with_incoming_shutdown(TcpIncoming::from(listener), shutdown_signal())
        .await
        .map_err(|e| ApiaryError::Usage(format!("Flight SQL server: {e}")))?;
    eprintln!("apiary: server stopped");
    Ok(())
}
