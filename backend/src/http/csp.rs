//! The SPA's Content-Security-Policy: one definition for the header `qbr serve` sends
//! (modes 1 and 3: the SPA and the API share an origin) and for the `<meta>` that
//! `qbr spa configure` writes into a statically hosted SPA (mode 2: the API is on
//! another origin, named in `connect-src`).

/// The policy for the SPA, allowing its inline bootstrap scripts (`script_hashes`,
/// from [`inline_script_hashes`]) and API calls to `api_origin` besides its own.
pub fn spa_policy(script_hashes: &[String], api_origin: Option<&str>) -> String {
    format!(
        "{}; frame-ancestors 'none'",
        meta_policy(script_hashes, api_origin)
    )
}

/// [`spa_policy`] without `frame-ancestors`, which a `<meta>` policy cannot carry (the
/// static server sends it as a header).
pub fn meta_policy(script_hashes: &[String], api_origin: Option<&str>) -> String {
    let scripts = script_hashes.join(" ");
    let connect = api_origin.map_or_else(|| "'self'".to_string(), |o| format!("'self' {o}"));
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval' {scripts}; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src {connect}; base-uri 'self'; form-action 'self'"
    )
}

const META_START: &str = "<meta http-equiv=\"Content-Security-Policy\"";

/// `index_html` with `policy` in a `<meta>` at the top of `<head>` (a `<meta>` policy
/// covers only what follows it), replacing the one an earlier run wrote.
pub fn with_meta_policy(index_html: &str, policy: &str) -> Option<String> {
    let mut html = index_html.to_string();
    if let Some(start) = html.find(META_START) {
        let end = start + html[start..].find('>')? + 1;
        html.replace_range(start..end, "");
        // The line the old tag stood on.
        if html[start..].starts_with("\n    ") {
            html.replace_range(start..start + 5, "");
        }
    }
    // After `<meta charset>` (which must come first), else first in `<head>`.
    let head = html.find("<head>")? + "<head>".len();
    let head = html[head..]
        .find("<meta charset")
        .and_then(|at| Some(head + at + html[head + at..].find('>')? + 1))
        .unwrap_or(head);
    let content = policy.replace('"', "&quot;");
    html.insert_str(
        head,
        &format!("\n    {META_START} content=\"{content}\" />"),
    );
    Some(html)
}

/// CSP sources for the inline `<script>` blocks of an HTML page (Trunk's bootstrap).
pub fn inline_script_hashes(html: &str) -> Vec<String> {
    use base64::Engine;
    use sha2::{Digest, Sha256};
    let mut out = Vec::new();
    let mut rest = html;
    while let Some(open) = rest.find("<script") {
        let after_open = &rest[open..];
        let Some(tag_end) = after_open.find('>') else {
            break;
        };
        let tag = &after_open[..tag_end];
        let body_start = &after_open[tag_end + 1..];
        let Some(close) = body_start.find("</script>") else {
            break;
        };
        if !tag.contains("src=") {
            let digest = Sha256::digest(&body_start.as_bytes()[..close]);
            out.push(format!(
                "'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            ));
        }
        rest = &body_start[close..];
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hashes_only_inline_scripts() {
        let html = r#"<script src="/a.js"></script><script type="module">alert(1)</script>"#;
        assert_eq!(
            inline_script_hashes(html),
            vec!["'sha256-bhHHL3z2vDgxUt0W3dWQOrprscmda2Y5pLsLg4GF+pI='".to_string()]
        );
        assert!(inline_script_hashes("<p>no scripts</p>").is_empty());
    }

    #[test]
    fn policies() {
        let hashes = vec!["'sha256-x'".to_string()];
        let own = spa_policy(&hashes, None);
        assert!(own.contains("connect-src 'self';"), "{own}");
        assert!(own.contains("'wasm-unsafe-eval' 'sha256-x'"), "{own}");
        assert!(own.ends_with("frame-ancestors 'none'"), "{own}");
        let split = meta_policy(&hashes, Some("https://api.example.com:5400"));
        assert!(split.contains("connect-src 'self' https://api.example.com:5400;"));
        assert!(
            !split.contains("frame-ancestors"),
            "not allowed in a <meta>"
        );
    }

    #[test]
    fn meta_policy_goes_first_and_replaces_the_old_one() {
        let html = "<html>\n  <head>\n    <meta charset=\"utf-8\" />\n    <title>t</title><script>x</script>\n  </head></html>";
        let once = with_meta_policy(html, "default-src 'self'").unwrap();
        assert!(once.starts_with(
            "<html>\n  <head>\n    <meta charset=\"utf-8\" />\n    <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'self'\" />\n    <title>"
        ), "{once}");
        let twice = with_meta_policy(&once, "default-src 'none'").unwrap();
        assert_eq!(
            twice.matches("Content-Security-Policy").count(),
            1,
            "{twice}"
        );
        assert_eq!(twice, with_meta_policy(html, "default-src 'none'").unwrap());
        assert!(with_meta_policy("<p>no head</p>", "x").is_none());
    }
}
