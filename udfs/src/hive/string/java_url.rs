//! URLs parsed as Java's `java.net.URL` parses them (Hive's `parse_url` and `parse_url_tuple`
//! use it): no normalisation (the host keeps its case, no path is `''`, nothing is decoded),
//! only the protocols the JDK has handlers for, and a port must be digits.

use datafusion::common::Result;

use super::java_regex::compile;

/// The parts of a URL, as `java.net.URL`'s getters return them.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct JavaUrl {
    protocol: String,
    authority: Option<String>,
    user_info: Option<String>,
    host: String,
    path: String,
    query: Option<String>,
    fragment: Option<String>,
}

/// The protocols Java 17 has URL handlers for; others are a `MalformedURLException`.
const PROTOCOLS: [&str; 8] = [
    "http", "https", "ftp", "file", "jar", "mailto", "jrt", "jmod",
];

impl JavaUrl {
    /// Parses `spec`, or `None` where `new URL(spec)` throws.
    pub fn parse(spec: &str) -> Option<Self> {
        let spec = spec.trim_matches(|c: char| c <= ' ');
        let spec = if spec.len() >= 4 && spec[..4].eq_ignore_ascii_case("url:") {
            &spec[4..]
        } else {
            spec
        };
        let colon = spec.find(':')?;
        let scheme = &spec[..colon];
        let mut chars = scheme.chars();
        let valid = chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !valid || spec[..colon].contains('/') {
            return None;
        }
        let protocol = scheme.to_ascii_lowercase();
        if !PROTOCOLS.contains(&protocol.as_str()) {
            return None;
        }
        let mut rest = &spec[colon + 1..];
        let mut url = JavaUrl {
            protocol,
            ..Default::default()
        };
        if let Some(hash) = rest.find('#') {
            url.fragment = Some(rest[hash + 1..].to_owned());
            rest = &rest[..hash];
        }
        if url.protocol == "jar" && !rest.contains("!/") {
            return None;
        }
        if url.protocol == "jar" || url.protocol == "mailto" {
            // Their handlers keep the whole rest as the path (mailto: the address).
            let (path, query) = match rest.split_once('?') {
                Some((p, q)) if url.protocol == "jar" => (p, Some(q)),
                _ => (rest, None),
            };
            url.path = path.to_owned();
            url.query = query.map(str::to_owned);
            return Some(url);
        }
        if let Some(q) = rest.find('?') {
            url.query = Some(rest[q + 1..].to_owned());
            rest = &rest[..q];
        }
        if let Some(after) = rest.strip_prefix("//") {
            let end = after.find('/').unwrap_or(after.len());
            let authority = &after[..end];
            rest = &after[end..];
            let mut host = authority;
            if let Some(at) = authority.find('@') {
                if authority.rfind('@') != Some(at) {
                    url.authority = Some(authority.to_owned());
                    url.path = rest.to_owned();
                    return Some(url);
                }
                url.user_info = Some(authority[..at].to_owned());
                host = &authority[at + 1..];
            }
            let (host, port) = if host.starts_with('[') {
                let close = host.find(']')?;
                (&host[..=close], host[close + 1..].strip_prefix(':'))
            } else {
                match host.find(':') {
                    Some(c) => (&host[..c], Some(&host[c + 1..])),
                    None => (host, None),
                }
            };
            if let Some(port) = port
                && !port.bytes().all(|b| b.is_ascii_digit())
            {
                return None;
            }
            url.host = host.to_owned();
            url.authority = Some(authority.to_owned());
        }
        url.path = rest.to_owned();
        Some(url)
    }

    /// One part: `HOST`, `PATH`, `QUERY`, `REF`, `PROTOCOL`, `AUTHORITY`, `FILE`, `USERINFO`
    /// (upper case, as Hive requires); `None` for an unknown part or one the URL lacks.
    pub fn part(&self, part: &str) -> Option<String> {
        match part {
            "HOST" => Some(self.host.clone()),
            "PATH" => Some(self.path.clone()),
            "QUERY" => self.query.clone(),
            "REF" => self.fragment.clone(),
            "PROTOCOL" => Some(self.protocol.clone()),
            "FILE" => Some(match &self.query {
                Some(q) => format!("{}?{q}", self.path),
                None => self.path.clone(),
            }),
            "AUTHORITY" => self.authority.clone(),
            "USERINFO" => self.user_info.clone(),
            _ => None,
        }
    }

    /// The value of `key` in the query: Hive matches the Java pattern `(&|^)key=([^&]*)`
    /// (the key is a pattern too) and takes the first match, not decoded; `None` without a
    /// query or without `key=`. `function` names the caller in errors.
    pub fn query_value(&self, function: &str, key: &str) -> Result<Option<String>> {
        let Some(query) = self.query.as_ref() else {
            return Ok(None);
        };
        let compiled = compile(function, &format!("(&|^){key}=([^&]*)"))?;
        Ok(compiled
            .for_text(function, query)?
            .captures(query)
            .and_then(|c| c.get(2))
            .map(|m| m.as_str().to_owned()))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn part(url: &str, part: &str) -> Option<String> {
        JavaUrl::parse(url).and_then(|u| u.part(part))
    }

    #[test]
    fn follows_java_url() {
        let u = "http://facebook.com/path/p1.php?query=1";
        assert_eq!(part(u, "HOST").as_deref(), Some("facebook.com"));
        assert_eq!(part("http://facebook.com", "PATH").as_deref(), Some(""));
        assert_eq!(part("foo://a.com/p", "HOST"), None);
        let full = "http://u:p@a.com:8080/p?q=1#frag";
        assert_eq!(part(full, "USERINFO").as_deref(), Some("u:p"));
        assert_eq!(part(full, "AUTHORITY").as_deref(), Some("u:p@a.com:8080"));
        assert_eq!(part(full, "REF").as_deref(), Some("frag"));
        assert_eq!(part(full, "FILE").as_deref(), Some("/p?q=1"));
        assert_eq!(part(full, "PROTOCOL").as_deref(), Some("http"));
        assert_eq!(part("http://a.com?q=1", "FILE").as_deref(), Some("?q=1"));
        assert_eq!(part("http://a.com/p", "QUERY"), None);
        assert_eq!(part("http://a.com/p?", "QUERY").as_deref(), Some(""));
        assert_eq!(part("HTTP://A.COM/X", "HOST").as_deref(), Some("A.COM"));
        assert_eq!(part("http://a.com/p#r?k=1", "QUERY"), None);
        assert_eq!(part("mailto:x@y.com", "PATH").as_deref(), Some("x@y.com"));
        assert_eq!(part("http://[::1]:80/a", "HOST").as_deref(), Some("[::1]"));
        assert_eq!(
            part("http://a.com:/a", "AUTHORITY").as_deref(),
            Some("a.com:")
        );
        assert_eq!(part("http://a b.com/p", "HOST").as_deref(), Some("a b.com"));
        assert_eq!(part("http://a.com:8x/p", "HOST"), None);
        assert_eq!(part("http:p", "PATH").as_deref(), Some("p"));
        assert_eq!(part("//a.com/p", "HOST"), None);
        assert_eq!(part("jar:http://a/b", "PATH"), None);
        assert_eq!(
            part("jar:http://a/b!/c", "PATH").as_deref(),
            Some("http://a/b!/c")
        );
        assert_eq!(part("not a url", "HOST"), None);
        let q = JavaUrl::parse("http://a.com/p?x&y=2&k=1=2&a=1&a=2").unwrap();
        assert_eq!(q.query_value("t", "x").unwrap(), None);
        assert_eq!(q.query_value("t", "k").unwrap().as_deref(), Some("1=2"));
        assert_eq!(q.query_value("t", "a").unwrap().as_deref(), Some("1"));
    }
}
