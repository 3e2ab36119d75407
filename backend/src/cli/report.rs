//! `qbr report [--period] [--paper] [--tz] [--out]`: the PDF of `GET /api/qbr/report`;
//! with `--clients`, every client's report of the quarter (`GET
//! /api/qbr/clients/{id}/report`) in one zip file.
use crate::cache::Caches;
use crate::db::Database;
use crate::report::Paper;
use crate::service::{client_numbers, periods, report};
use anyhow::Context;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The quarter (YYYY-Qn); default: the quarter in progress if it has data, else
    /// the latest with data.
    #[arg(long)]
    period: Option<qbr_shared::Quarter>,
    /// letter or a4.
    #[arg(long, default_value = "letter", value_parser = ["letter", "a4"])]
    paper: String,
    /// IANA time zone of the generation time (default: the organization's).
    #[arg(long)]
    tz: Option<chrono_tz::Tz>,
    /// Where to write it (default: qbr-YYYY-Qn.pdf, or qbr-YYYY-Qn-clients.zip, in the
    /// current folder).
    #[arg(long)]
    out: Option<PathBuf>,
    /// Every client's report of the quarter (default: the last closed one), one PDF
    /// each, in a zip file.
    #[arg(long)]
    clients: bool,
    /// With --clients: the MSP's internal version (effective rate, cost, margin).
    #[arg(long, requires = "clients")]
    internal: bool,
}

pub async fn run(database: &Database, args: ReportArgs) -> anyhow::Result<()> {
    let paper = Paper::parse(&args.paper).context("paper: letter or a4")?;
    let mut conn = super::conn(database).await?;
    let org = super::organization(&mut conn).await?;
    if args.clients {
        return clients_zip(&mut conn, &org, &args, paper).await;
    }
    let quarter = match args.period {
        Some(q) => q,
        None => periods::default_quarter(&mut conn, &Caches::default(), &org)
            .await
            .map_err(super::said)?,
    };
    let tz = args.tz.unwrap_or(org.timezone);
    let data = report::gather(&mut conn, &org, quarter, tz)
        .await
        .map_err(super::said)?;
    let pdf = crate::report::render(&data, paper)?;
    let out = args
        .out
        .unwrap_or_else(|| format!("qbr-{quarter}.pdf").into());
    std::fs::write(&out, &pdf).with_context(|| format!("writing {}", out.display()))?;
    println!("wrote {} ({} bytes)", out.display(), pdf.len());
    Ok(())
}

/// A file name's part for a client: letters and digits, the rest as single dashes.
fn file_part(name: &str) -> String {
    let mut out = String::new();
    for ch in name.chars() {
        if ch.is_ascii_alphanumeric() {
            out.push(ch.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    out.trim_matches('-').to_string()
}

/// Every client's report of the quarter, one PDF each, in one zip file.
async fn clients_zip(
    conn: &mut diesel_async::AsyncPgConnection,
    org: &crate::store::org::Org,
    args: &ReportArgs,
    paper: Paper,
) -> anyhow::Result<()> {
    use std::io::Write;
    let quarter = args.period.unwrap_or_else(|| {
        qbr_shared::Month::containing(chrono::Utc::now(), org.timezone)
            .quarter()
            .prev()
    });
    let tz = args.tz.unwrap_or(org.timezone);
    let clients = crate::store::clients::clients(conn, org.id).await?;
    anyhow::ensure!(
        !clients.is_empty(),
        "{} has no clients yet: collect from ConnectWise or NinjaOne first",
        org.name
    );
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| format!("qbr-{quarter}-clients.zip").into());
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated);
    for c in &clients {
        let data = client_numbers::report_data(conn, org, c.id, quarter, tz, args.internal)
            .await
            .map_err(super::said)?;
        let pdf = crate::report::client::render(&data, paper)?;
        // The id keeps two clients of similar names apart.
        let name = format!("qbr-{quarter}-{}-{}.pdf", file_part(&c.name), c.id);
        zip.start_file(name, options)?;
        zip.write_all(&pdf)?;
    }
    let bytes = zip.finish()?.into_inner();
    std::fs::write(&out, &bytes).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "wrote {} ({} client reports of {quarter}, {} bytes)",
        out.display(),
        clients.len(),
        bytes.len()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::file_part;

    #[test]
    fn client_names_become_file_names() {
        assert_eq!(file_part("Acme Dental, LLC"), "acme-dental-llc");
        assert_eq!(file_part("  Blue/Sky  & Co. "), "blue-sky-co");
        assert_eq!(file_part("Café Olé"), "caf-ol");
    }
}
