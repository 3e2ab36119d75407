//! Where the server is reached and what stands in front of it: the public path prefix
//! (`QBR_PUBLIC_PATH`, a reverse proxy publishing the app under `/qbr/`), the reverse
//! proxies whose `X-Forwarded-For` is believed (`QBR_TRUSTED_PROXIES`), and the built
//! SPA it serves. README "Production" describes the four ways of hosting.
use crate::config::Env;
use anyhow::Context;
use ipnet::IpNet;
use salvo::http::HeaderMap;
use std::net::IpAddr;
use std::path::PathBuf;

/// The path prefix the server answers under: `""` (the root) or `/qbr` (no trailing
/// slash), made of plain URL path segments so it never needs escaping.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PublicPath(String);

impl PublicPath {
    /// `""`, `/` → the root; `/qbr`, `/qbr/`, `/apps/qbr` → that prefix.
    pub fn parse(text: &str) -> anyhow::Result<PublicPath> {
        let trimmed = text.trim().trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(PublicPath::default());
        }
        anyhow::ensure!(
            trimmed.starts_with('/'),
            "QBR_PUBLIC_PATH must start with '/', like /qbr (got '{text}')"
        );
        for segment in trimmed[1..].split('/') {
            let plain = !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c));
            anyhow::ensure!(
                plain,
                "QBR_PUBLIC_PATH must be plain path segments (letters, digits, - . _ ~), got '{text}'"
            );
        }
        Ok(PublicPath(trimmed.to_string()))
    }

    /// `""` or `/qbr`: what goes before `/api/...` in a URL.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// The prefix as salvo route segments (`qbr`, `apps/qbr`).
    pub fn route(&self) -> &str {
        self.0.trim_start_matches('/')
    }

    /// The session cookie's `Path`: the prefix, or `/`.
    pub fn cookie_path(&self) -> &str {
        if self.is_root() {
            "/"
        } else {
            &self.0
        }
    }

    /// The path inside the app: `/qbr/api/health` → `/api/health`, `/qbr/` → `/`;
    /// `None` for `/qbr` itself (redirected to `/qbr/`) and for paths outside it.
    pub fn strip<'a>(&self, path: &'a str) -> Option<&'a str> {
        if self.is_root() {
            return Some(path);
        }
        path.strip_prefix(self.0.as_str())
            .filter(|rest| rest.starts_with('/'))
    }
}

/// The reverse proxies allowed to say who the client is.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// `127.0.0.1, 10.0.0.0/8, ::1` (addresses or CIDR blocks).
    pub fn parse(text: &str) -> anyhow::Result<TrustedProxies> {
        let nets = text
            .split(',')
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| {
                t.parse::<IpNet>()
                    .or_else(|_| t.parse::<IpAddr>().map(IpNet::from))
                    .with_context(|| {
                        format!("QBR_TRUSTED_PROXIES: '{t}' is not an IP address or CIDR block")
                    })
            })
            .collect::<anyhow::Result<Vec<_>>>()?;
        Ok(TrustedProxies(nets))
    }

    pub fn is_set(&self) -> bool {
        !self.0.is_empty()
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client's address: the peer's, unless the peer is a trusted proxy; then the
    /// right-most address of `X-Forwarded-For` that is not a trusted proxy (the left
    /// part of the header is whatever the client wrote, so it is never believed).
    pub fn client_ip(&self, peer: Option<IpAddr>, headers: &HeaderMap) -> Option<IpAddr> {
        let peer = peer?;
        if !self.trusts(peer) {
            return Some(peer);
        }
        let mut forwarded: Vec<IpAddr> = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse().ok())
            .collect();
        let mut client = peer;
        while let Some(ip) = forwarded.pop() {
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// How `qbr serve` is published: read from the environment with the rest of
/// [`crate::config::Config`].
#[derive(Clone, Debug)]
pub struct Site {
    /// The built SPA, served under the public path when it holds an `index.html`.
    pub dist_dir: PathBuf,
    pub public_path: PublicPath,
    pub trusted_proxies: TrustedProxies,
}

impl Site {
    pub fn from_env(env: &Env) -> anyhow::Result<Site> {
        Ok(Site {
            dist_dir: env
                .var("QBR_DIST_DIR")
                .map_or_else(|| PathBuf::from("dist"), PathBuf::from),
            public_path: PublicPath::parse(&env.var("QBR_PUBLIC_PATH").unwrap_or_default())?,
            trusted_proxies: TrustedProxies::parse(
                &env.var("QBR_TRUSTED_PROXIES").unwrap_or_default(),
            )?,
        })
    }

    /// The SPA at the root, nobody's proxy trusted.
    pub fn at_root(dist_dir: impl Into<PathBuf>) -> Site {
        Site {
            dist_dir: dist_dir.into(),
            public_path: PublicPath::default(),
            trusted_proxies: TrustedProxies::default(),
        }
    }
}

/// The public path a built SPA was made for: its `<base href>` (Trunk writes it from
/// `--public-url`), without the trailing slash; `None` when it has none.
pub fn spa_base_path(index_html: &str) -> Option<String> {
    let start = index_html.find("<base ")?;
    let tag = &index_html[start..start + index_html[start..].find('>')?];
    let href = tag.split("href=\"").nth(1)?.split('"').next()?;
    Some(href.trim_end_matches('/').to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn public_paths() {
        let p = PublicPath::parse("/qbr/").unwrap();
        assert_eq!(p.as_str(), "/qbr");
        assert_eq!(p.route(), "qbr");
        assert_eq!(p.cookie_path(), "/qbr");
        assert_eq!(p.strip("/qbr/api/health"), Some("/api/health"));
        assert_eq!(p.strip("/qbr/"), Some("/"));
        assert_eq!(p.strip("/qbr"), None);
        assert_eq!(p.strip("/qbrx/api"), None);
        assert_eq!(p.strip("/api/health"), None);
        let root = PublicPath::parse("/").unwrap();
        assert!(root.is_root());
        assert_eq!(root.cookie_path(), "/");
        assert_eq!(root.strip("/api/x"), Some("/api/x"));
        assert_eq!(PublicPath::parse("").unwrap(), root);
        for bad in ["qbr", "/q br", "/../x", "/a//b", "/a?b", "/%2e"] {
            assert!(PublicPath::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(
            PublicPath::parse("/apps/qbr-1").unwrap().route(),
            "apps/qbr-1"
        );
    }

    #[test]
    fn client_ip_believes_only_trusted_proxies() {
        let proxies = TrustedProxies::parse("127.0.0.1, 10.0.0.0/8").unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-forwarded-for",
            "6.6.6.6, 203.0.113.7, 10.1.2.3".parse().unwrap(),
        );
        let ip = |s: &str| Some(s.parse::<IpAddr>().unwrap());
        // Through two trusted hops: the first untrusted address from the right.
        assert_eq!(
            proxies.client_ip(ip("127.0.0.1"), &headers),
            ip("203.0.113.7")
        );
        // A client talking directly can't pick its address.
        assert_eq!(
            proxies.client_ip(ip("198.51.100.1"), &headers),
            ip("198.51.100.1")
        );
        // Nothing trusted: the header is ignored.
        assert_eq!(
            TrustedProxies::default().client_ip(ip("127.0.0.1"), &headers),
            ip("127.0.0.1")
        );
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
    }

    #[test]
    fn base_path_of_a_built_spa() {
        assert_eq!(
            spa_base_path("<head><base href=\"/qbr/\" /><script>"),
            Some("/qbr".into())
        );
        assert_eq!(spa_base_path("<base href=\"/\"/>"), Some(String::new()));
        assert_eq!(spa_base_path("<head></head>"), None);
    }
}
