//! Authentication, enforced once in front of the whole Flight service (a tower layer): in
//! arrow-flight 59 some RPCs (ListActions, GetSchema, ListFlights) bypass the per-method hooks
//! of `FlightSqlService`, so checking there would leave holes.
//!
//! - `--token T`: every RPC, Handshake included, needs `authorization: Bearer T`.
//! - `--user U --password-file F`: Handshake with `authorization: Basic base64(U:P)` answers a
//!   fresh bearer token (what JDBC clients do); every other RPC needs a token so issued.
//!
//! The static token is compared in constant time; issued tokens (256 random bits) are looked
//! up, and expire after [`TOKEN_IDLE_TTL`] unused. Failed sign-ins are rate-limited per peer address
//! ([`super::throttle`]).

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::{Request, Response};
use tonic::Status;
use tonic::body::Body;
use tonic::transport::server::{TcpConnectInfo, TlsConnectInfo};
use tower::{Layer, Service};

use super::throttle::Throttle;

/// Who may call the server.
#[derive(Debug, Clone, Default)]
pub struct Credentials {
    /// A static bearer token.
    pub token: Option<String>,
    /// A user and password for the Basic-auth handshake.
    pub user: Option<(String, String)>,
}

impl Credentials {
    /// Whether any authentication is configured.
    pub fn enabled(&self) -> bool {
        self.token.is_some() || self.user.is_some()
    }
}

/// Credentials plus the tokens issued by handshakes.
#[derive(Debug, Default)]
pub struct Authenticator {
    credentials: Credentials,
    /// Issued tokens, with when each was last used.
    issued: Mutex<HashMap<String, Instant>>,
    throttle: Throttle,
}

/// How long a token issued by a handshake stays valid without a call.
pub const TOKEN_IDLE_TTL: Duration = Duration::from_secs(24 * 3600);

/// The most issued tokens kept; past it the least recently used goes (its client signs in
/// again).
pub const MAX_ISSUED_TOKENS: usize = 100_000;

const HANDSHAKE_PATH: &str = "/arrow.flight.protocol.FlightService/Handshake";

/// Constant-time equality of two byte strings (the length is not secret).
fn same(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

impl Authenticator {
    /// An authenticator for `credentials`.
    pub fn new(credentials: Credentials) -> Self {
        Self {
            credentials,
            issued: Mutex::new(HashMap::new()),
            throttle: Throttle::new(),
        }
    }

    /// Checks a Basic `user:password` from `peer`; on success returns a new bearer token.
    pub fn login(&self, header: &str, peer: Option<IpAddr>) -> Result<String, Status> {
        let Some((user, password)) = &self.credentials.user else {
            return Err(Status::unauthenticated("this server takes a bearer token"));
        };
        self.throttle.admit(peer)?;
        let malformed = || {
            self.throttle.failed(peer, "(malformed Basic credentials)");
            Status::unauthenticated("malformed Basic credentials")
        };
        let encoded = header
            .strip_prefix("Basic ")
            .ok_or_else(|| Status::unauthenticated("expected Basic credentials"))?;
        let decoded = STANDARD.decode(encoded.trim()).map_err(|_| malformed())?;
        let text = String::from_utf8(decoded).map_err(|_| malformed())?;
        let (u, p) = text.split_once(':').ok_or_else(malformed)?;
        // Both compared, whatever the first gives.
        let ok = same(u.as_bytes(), user.as_bytes()) & same(p.as_bytes(), password.as_bytes());
        if !ok {
            self.throttle.failed(peer, u);
            return Err(Status::unauthenticated("wrong user or password"));
        }
        self.throttle.succeeded(peer);
        let token = new_token();
        if let Ok(mut issued) = self.issued.lock() {
            // Expired tokens are refused when used; the table is swept when it is full.
            if issued.len() >= MAX_ISSUED_TOKENS {
                issued.retain(|_, used| used.elapsed() < TOKEN_IDLE_TTL);
            }
            if issued.len() >= MAX_ISSUED_TOKENS
                && let Some(oldest) = issued
                    .iter()
                    .min_by_key(|(_, used)| **used)
                    .map(|(t, _)| t.clone())
            {
                issued.remove(&oldest);
            }
            issued.insert(token.clone(), Instant::now());
        }
        Ok(token)
    }

    /// Whether a bearer token is valid.
    pub fn bearer_ok(&self, token: &str) -> bool {
        if let Some(t) = &self.credentials.token
            && same(token.as_bytes(), t.as_bytes())
        {
            return true;
        }
        // Issued tokens are 256 random bits: a lookup by value reveals nothing a guess could
        // use, and costs the same however many clients signed in.
        let Ok(mut issued) = self.issued.lock() else {
            return false;
        };
        match issued.get_mut(token) {
            Some(used) if used.elapsed() < TOKEN_IDLE_TTL => {
                *used = Instant::now();
                true
            }
            Some(_) => {
                issued.remove(token);
                false
            }
            None => false,
        }
    }

    /// Checks one request from `peer`: `Ok` lets it through. While the peer's back-off lasts
    /// every request is refused, its credentials unread.
    fn check(
        &self,
        path: &str,
        authorization: Option<&str>,
        peer: Option<IpAddr>,
    ) -> Result<(), Status> {
        if !self.credentials.enabled() {
            return Ok(());
        }
        self.throttle.admit(peer)?;
        let Some(header) = authorization else {
            return Err(Status::unauthenticated("missing authorization header"));
        };
        if path == HANDSHAKE_PATH && header.starts_with("Basic ") {
            // The handshake itself checks the password.
            return Ok(());
        }
        match header.strip_prefix("Bearer ") {
            Some(token) if self.bearer_ok(token.trim()) => Ok(()),
            Some(_) => {
                self.throttle.failed(peer, "(bearer token)");
                Err(Status::unauthenticated("invalid bearer token"))
            }
            None => {
                self.throttle.failed(peer, "(not a bearer token)");
                Err(Status::unauthenticated("expected a bearer token"))
            }
        }
    }
}

/// The address of the client that sent `request` (plain TCP or TLS).
fn peer_ip<B>(request: &Request<B>) -> Option<IpAddr> {
    let extensions = request.extensions();
    extensions
        .get::<TcpConnectInfo>()
        .and_then(|i| i.remote_addr())
        .or_else(|| {
            extensions
                .get::<TlsConnectInfo<TcpConnectInfo>>()
                .and_then(|i| i.get_ref().remote_addr())
        })
        .map(|a| a.ip())
}

/// A random 256-bit token, hex-encoded (ThreadRng: a CSPRNG seeded by the OS).
fn new_token() -> String {
    use rand::Rng;
    let bytes: [u8; 32] = rand::rng().random();
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The tower layer that puts [`Authenticator`] in front of a service.
#[derive(Debug, Clone)]
pub struct AuthLayer {
    auth: Arc<Authenticator>,
}

impl AuthLayer {
    /// A layer checking with `auth`.
    pub fn new(auth: Arc<Authenticator>) -> Self {
        Self { auth }
    }
}

impl<S> Layer<S> for AuthLayer {
    type Service = AuthService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        AuthService {
            inner,
            auth: Arc::clone(&self.auth),
        }
    }
}

/// The service [`AuthLayer`] makes.
#[derive(Debug, Clone)]
pub struct AuthService<S> {
    inner: S,
    auth: Arc<Authenticator>,
}

impl<S, B> Service<Request<B>> for AuthService<S>
where
    S: Service<Request<B>, Response = Response<Body>>,
    S::Future: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = futures::future::Either<
        S::Future,
        futures::future::Ready<Result<Response<Body>, S::Error>>,
    >;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        let header = request
            .headers()
            .get("authorization")
            .and_then(|v| v.to_str().ok());
        match self
            .auth
            .check(request.uri().path(), header, peer_ip(&request))
        {
            Ok(()) => futures::future::Either::Left(self.inner.call(request)),
            Err(status) => {
                futures::future::Either::Right(futures::future::ready(Ok(status.into_http())))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_must_match_exactly() {
        let auth = Authenticator::new(Credentials {
            token: Some("secret".into()),
            user: None,
        });
        assert!(auth.check("/x", Some("Bearer secret"), None).is_ok());
        for bad in [
            "Bearer secre",
            "Bearer secrett",
            "Bearer ",
            "Basic c2VjcmV0",
            "secret",
        ] {
            assert!(auth.check("/x", Some(bad), None).is_err(), "{bad}");
        }
        assert!(auth.check("/x", None, None).is_err());
        assert!(auth.check(HANDSHAKE_PATH, None, None).is_err());
    }

    #[test]
    fn issued_tokens_are_bounded() {
        let auth = Authenticator::new(Credentials {
            token: None,
            user: Some(("ann".into(), "pw".into())),
        });
        let good = format!("Basic {}", STANDARD.encode("ann:pw"));
        let login = || {
            auth.login(&good, None)
                .unwrap_or_else(|e| unreachable!("{e}"))
        };
        let first = login();
        let second = login();
        // The second stays in use; the first is the least recently used when the table fills.
        for _ in 2..MAX_ISSUED_TOKENS {
            login();
        }
        assert!(auth.bearer_ok(&second));
        let last = login();
        assert_eq!(
            auth.issued.lock().map(|t| t.len()).unwrap_or(0),
            MAX_ISSUED_TOKENS
        );
        assert!(!auth.bearer_ok(&first));
        assert!(auth.bearer_ok(&second) && auth.bearer_ok(&last));
    }

    #[test]
    fn basic_login_issues_a_bearer_token() {
        let auth = Authenticator::new(Credentials {
            token: None,
            user: Some(("ann".into(), "pw".into())),
        });
        let good = format!("Basic {}", STANDARD.encode("ann:pw"));
        let bad = format!("Basic {}", STANDARD.encode("ann:px"));
        assert!(auth.check(HANDSHAKE_PATH, Some(&good), None).is_ok());
        assert!(auth.login(&bad, None).is_err());
        let token = auth.login(&good, None).unwrap_or_default();
        assert_eq!(token.len(), 64);
        assert!(
            auth.check("/x", Some(&format!("Bearer {token}")), None)
                .is_ok()
        );
        assert!(auth.check("/x", Some("Bearer nope"), None).is_err());
        assert!(auth.check("/x", Some(&good), None).is_err());
    }
}
