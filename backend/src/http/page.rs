//! The few HTML pages a person sees outside the SPA: a sign-in or a QuickBooks Online
//! connection that failed on the server's side of a redirect. Self-contained, with no
//! script (so the CSP holds), each with links back to where the user can go on.
use salvo::prelude::*;

/// Renders a page with `title`, `message` and `links` (label, URL), all escaped.
pub fn render(
    res: &mut Response,
    status: StatusCode,
    title: &str,
    message: &str,
    links: &[(&str, &str)],
) {
    let links = links
        .iter()
        .map(|(label, href)| format!("<a href=\"{}\">{}</a>", escape(href), escape(label)))
        .collect::<Vec<_>>()
        .join(" · ");
    res.status_code(status);
    res.render(Text::Html(format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{t} — QBR Dashboard</title>\
         <style>body{{font-family:system-ui,sans-serif;max-width:36rem;margin:4rem auto;padding:0 1rem;color:#222}}h1{{font-size:1.4rem}}</style></head>\
         <body><h1>{t}</h1><p>{m}</p><p>{links}</p></body></html>",
        t = escape(title),
        m = escape(message),
    )));
}

pub fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn escapes_text_and_links() {
        assert_eq!(
            escape("<a href=\"x\">&"),
            "&lt;a href=&quot;x&quot;&gt;&amp;"
        );
        let mut res = Response::new();
        render(
            &mut res,
            StatusCode::BAD_REQUEST,
            "<Title>",
            "a & b",
            &[("Back", "https://x.example/qbr/?a=\"1\"")],
        );
        let body = res.take_body();
        let salvo::http::ResBody::Once(bytes) = body else {
            panic!("one body");
        };
        let html = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(
            html.contains("<h1>&lt;Title&gt;</h1><p>a &amp; b</p>"),
            "{html}"
        );
        assert!(
            html.contains("<a href=\"https://x.example/qbr/?a=&quot;1&quot;\">Back</a>"),
            "{html}"
        );
    }
}
