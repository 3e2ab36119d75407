//! `qbr spa configure`: prepares a built SPA for a static web server when the API is on
//! another host (hosting mode 2, README "Production"): writes its `config.json` (where
//! the API is) and a Content-Security-Policy `<meta>` that allows calls to that API.
//! Run it after every `trunk build`: the policy names the build's bootstrap script.
use crate::http::csp;
use anyhow::Context;
use clap::Subcommand;
use oauth2::url::Url;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum SpaCommand {
    /// Point a built SPA at its API: writes DIST/config.json and the CSP <meta> of
    /// DIST/index.html, then prints the headers the static server must send.
    Configure {
        /// The built SPA (`trunk build --release --public-url /qbr/ --dist DIST`).
        #[arg(long)]
        dist: PathBuf,
        /// The API's public URL, e.g. https://db-api.enersystems.com:5400.
        #[arg(long)]
        api_base_url: String,
    },
}

pub fn run(command: SpaCommand) -> anyhow::Result<()> {
    match command {
        SpaCommand::Configure { dist, api_base_url } => configure(&dist, &api_base_url),
    }
}

/// The API's URL without a trailing slash, and its origin for `connect-src`.
fn api_url(text: &str) -> anyhow::Result<(String, String)> {
    let url = Url::parse(text.trim())
        .with_context(|| format!("--api-base-url must be an absolute URL, got '{text}'"))?;
    anyhow::ensure!(
        matches!(url.scheme(), "https" | "http") && url.host_str().is_some(),
        "--api-base-url must be an http(s) URL with a host, got '{text}'"
    );
    anyhow::ensure!(
        url.query().is_none() && url.fragment().is_none(),
        "--api-base-url can't have a query or fragment, got '{text}'"
    );
    let base = url.as_str().trim_end_matches('/').to_string();
    Ok((base, url.origin().ascii_serialization()))
}

fn configure(dist: &Path, api_base_url: &str) -> anyhow::Result<()> {
    let (base, origin) = api_url(api_base_url)?;
    let index_path = dist.join("index.html");
    let index = std::fs::read_to_string(&index_path).with_context(|| {
        format!(
            "{} is not a built SPA (no index.html); run trunk build first",
            dist.display()
        )
    })?;
    let policy = csp::meta_policy(&csp::inline_script_hashes(&index), Some(&origin));
    let configured = csp::with_meta_policy(&index, &policy)
        .with_context(|| format!("{} has no <head>", index_path.display()))?;
    let config = qbr_shared::api::SpaConfig {
        api_base_url: base.clone(),
    };
    write_atomically(&dist.join("config.json"), &serde_json::to_string(&config)?)?;
    write_atomically(&index_path, &configured)?;
    println!("Configured {} for the API at {base}:", dist.display());
    println!("  config.json  {{\"api_base_url\": \"{base}\"}}");
    println!("  index.html   <meta http-equiv=\"Content-Security-Policy\" content=\"{policy}\">");
    println!();
    println!("The static server must also send (a <meta> policy can't forbid framing):");
    println!("  Content-Security-Policy: frame-ancestors 'none'");
    println!("  X-Frame-Options: DENY");
    println!("  X-Content-Type-Options: nosniff");
    println!("  Referrer-Policy: strict-origin-when-cross-origin");
    println!("  Cache-Control: no-cache   (index.html and config.json)");
    println!("See deploy/ for nginx and Caddy examples.");
    Ok(())
}

/// Writes through a temporary file and a rename, so a web server never serves half.
fn write_atomically(path: &Path, text: &str) -> anyhow::Result<()> {
    let tmp = path.with_extension("tmp~");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("replacing {}", path.display()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn api_urls() {
        assert_eq!(
            api_url("https://db-api.enersystems.com:5400/").unwrap(),
            (
                "https://db-api.enersystems.com:5400".to_string(),
                "https://db-api.enersystems.com:5400".to_string()
            )
        );
        let (base, origin) = api_url("https://host.example/qbr").unwrap();
        assert_eq!(base, "https://host.example/qbr");
        assert_eq!(origin, "https://host.example");
        for bad in [
            "/qbr",
            "db-api:5400",
            "ftp://x.example",
            "https://x.example/?a=1",
        ] {
            assert!(api_url(bad).is_err(), "{bad}");
        }
    }
}
