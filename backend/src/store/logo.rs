//! The organization's logo for client reports (`organization_logos`): one row per
//! organization, the image as uploaded. Checking the image is the service's
//! (`service::logo`); this module stores and reads rows.
use crate::schema::organization_logos as ol;
use chrono::{DateTime, Utc};
use diesel::prelude::*;
use diesel_async::{AsyncPgConnection, RunQueryDsl};

/// The stored logo without its image (what the audit log and the API's answers say).
#[derive(Debug, Clone, Queryable)]
pub struct LogoMeta {
    pub content_type: String,
    pub width: i32,
    pub height: i32,
    /// Size of the image in bytes.
    pub bytes: i32,
    pub sha256: String,
    pub uploaded_by: String,
    pub uploaded_at: DateTime<Utc>,
}

/// The stored logo's image.
#[derive(Debug, Clone, Queryable)]
pub struct LogoImage {
    pub content_type: String,
    pub image: Vec<u8>,
    pub width: i32,
    pub height: i32,
    pub sha256: String,
}

/// A logo to store, already checked.
pub struct NewLogo<'a> {
    pub content_type: &'a str,
    pub image: &'a [u8],
    pub width: i32,
    pub height: i32,
    pub sha256: &'a str,
    pub uploaded_by: &'a str,
}

pub async fn meta(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<LogoMeta>> {
    ol::table
        .find(org)
        .select((
            ol::content_type,
            ol::width,
            ol::height,
            diesel::dsl::sql::<diesel::sql_types::Integer>("octet_length(image)"),
            ol::sha256,
            ol::uploaded_by,
            ol::uploaded_at,
        ))
        .first(conn)
        .await
        .optional()
}

pub async fn image(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<Option<LogoImage>> {
    ol::table
        .find(org)
        .select((
            ol::content_type,
            ol::image,
            ol::width,
            ol::height,
            ol::sha256,
        ))
        .first(conn)
        .await
        .optional()
}

/// Stores `logo` as the organization's, replacing any.
pub async fn put(conn: &mut AsyncPgConnection, org: i32, logo: &NewLogo<'_>) -> QueryResult<()> {
    let now = Utc::now();
    diesel::insert_into(ol::table)
        .values((
            ol::organization_id.eq(org),
            ol::content_type.eq(logo.content_type),
            ol::image.eq(logo.image),
            ol::width.eq(logo.width),
            ol::height.eq(logo.height),
            ol::sha256.eq(logo.sha256),
            ol::uploaded_by.eq(logo.uploaded_by),
            ol::uploaded_at.eq(now),
        ))
        .on_conflict(ol::organization_id)
        .do_update()
        .set((
            ol::content_type.eq(logo.content_type),
            ol::image.eq(logo.image),
            ol::width.eq(logo.width),
            ol::height.eq(logo.height),
            ol::sha256.eq(logo.sha256),
            ol::uploaded_by.eq(logo.uploaded_by),
            ol::uploaded_at.eq(now),
        ))
        .execute(conn)
        .await
        .map(|_| ())
}

/// Deletes the organization's logo; whether there was one.
pub async fn delete(conn: &mut AsyncPgConnection, org: i32) -> QueryResult<bool> {
    diesel::delete(ol::table.find(org))
        .execute(conn)
        .await
        .map(|n| n > 0)
}
