//! `qbr quickbooks hash-password|qwc|backfill|sync-online`: the Web Connector's password
//! hash, its `.qwc` file, a request for more history with the next Web Connector run,
//! and a QuickBooks Online sync now.
use crate::collect::quickbooks::{hash_password, online, qwc, QuickBooksSettings};
use crate::config::Env;
use crate::db::Database;
use crate::service::quickbooks as service;
use crate::service::Actor;
use anyhow::Context;
use clap::Subcommand;
use qbr_shared::collection::Trigger;
use std::io::Read;

#[derive(Subcommand)]
pub enum QuickBooksCommand {
    /// Read a password on standard input and print its argon2id hash, the value of
    /// QBWC_PASSWORD_HASH. The password is the one the bookkeeper types into the Web
    /// Connector.
    HashPassword,
    /// Print the .qwc file the bookkeeper adds to the Web Connector.
    Qwc {
        /// The public URL of the SOAP service, e.g. https://qbr.example.com/api/qbwc.
        #[arg(long)]
        url: String,
        /// The Web Connector's user name (QBWC_USERNAME).
        #[arg(long)]
        username: String,
    },
    /// Ask the next Web Connector run for history from this month (YYYY-MM).
    Backfill {
        #[arg(long)]
        from: String,
    },
    /// Read the connected QuickBooks Online company now (the current month and the 12
    /// before) and store it as one collection run, as the nightly schedule does.
    SyncOnline,
}

impl QuickBooksCommand {
    /// Whether the command needs the database.
    pub fn needs_database(&self) -> bool {
        matches!(
            self,
            QuickBooksCommand::Backfill { .. } | QuickBooksCommand::SyncOnline
        )
    }
}

/// The commands that need no database.
pub fn run_offline(command: &QuickBooksCommand) -> anyhow::Result<()> {
    match command {
        QuickBooksCommand::HashPassword => {
            let mut input = String::new();
            std::io::stdin()
                .read_to_string(&mut input)
                .context("reading the password from standard input")?;
            let password = input.trim_end_matches(['\r', '\n']);
            anyhow::ensure!(
                password.chars().count() >= 12,
                "the password must be at least 12 characters long"
            );
            println!("{}", hash_password(password)?);
            Ok(())
        }
        QuickBooksCommand::Qwc { url, username } => {
            print!("{}", qwc::qwc_file(url, username)?);
            Ok(())
        }
        QuickBooksCommand::Backfill { .. } | QuickBooksCommand::SyncOnline => Ok(()),
    }
}

pub async fn run(env: &Env, database: &Database, command: QuickBooksCommand) -> anyhow::Result<()> {
    if let QuickBooksCommand::SyncOnline = command {
        return sync_online(env, database).await;
    }
    let QuickBooksCommand::Backfill { from } = command else {
        return run_offline(&command);
    };
    let mut conn = super::conn(database).await?;
    let org = super::organization(&mut conn).await?;
    let actor = Actor {
        name: "cli",
        ip: None,
    };
    let month = service::request_backfill(&mut conn, &org, &from, actor)
        .await
        .map_err(super::said)?;
    println!("The next Web Connector run reads QuickBooks from {month}.");
    Ok(())
}

/// `qbr quickbooks sync-online`: one sync, its summary printed.
async fn sync_online(env: &Env, database: &Database) -> anyhow::Result<()> {
    let settings = QuickBooksSettings::from_env(env)?;
    let org = {
        let mut conn = super::conn(database).await?;
        super::organization(&mut conn).await?
    };
    let report = online::sync(&database.pool, &settings, &org, Trigger::Cli)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let months = match (report.months.first(), report.months.last()) {
        (Some(first), Some(last)) => format!("{first} to {last}"),
        _ => "no months".into(),
    };
    println!(
        "QuickBooks Online: {months}, {} values written, {} flagged, {} drifted.",
        report.values_written,
        report.flagged().len(),
        report.drift.len()
    );
    Ok(())
}
