//! Refusing zip bombs before a workbook is read: too many parts, declared sizes over
//! the cap, or parts that unpack to more than they declare.
use std::io::{Cursor, Read};

/// Largest unpacked size of an imported workbook (its parts' declared sizes), and
/// most parts: a zip bomb is refused before it is unpacked.
const MAX_UNZIPPED_BYTES: u64 = 100 * 1024 * 1024;
const MAX_ZIP_ENTRIES: usize = 10_000;

/// Refuses archives that would unpack to too much (or have too many parts).
pub(super) fn check_zip(bytes: &[u8]) -> Result<(), String> {
    let mut ar = zip::ZipArchive::new(Cursor::new(bytes))
        .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
    if ar.len() > MAX_ZIP_ENTRIES {
        return Err(format!(
            "The workbook has {} parts (at most {MAX_ZIP_ENTRIES}): refused",
            ar.len()
        ));
    }
    let mut total: u64 = 0;
    for i in 0..ar.len() {
        let f = ar
            .by_index_raw(i)
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        total = total.saturating_add(f.size());
    }
    if total > MAX_UNZIPPED_BYTES {
        return Err(bomb_message(total, MAX_UNZIPPED_BYTES));
    }
    unpacked_size_within_cap(&mut ar, MAX_UNZIPPED_BYTES)
}

fn bomb_message(bytes: u64, cap: u64) -> String {
    format!(
        "The workbook unpacks to more than {} MiB (at most {} MiB): refused as a possible zip bomb",
        bytes / 1024 / 1024,
        cap / 1024 / 1024
    )
}

/// The declared sizes can lie: unpacks every part into a counting sink (nothing is
/// kept in memory) and stops as soon as the real total passes the cap. A part that
/// does not unpack (bad data, CRC mismatch) makes the file unreadable. The zip crate
/// (9.x) itself stops a part at its declared size ("File is larger than its declared
/// uncompressed size"), so a lying part fails here, after at most its declared size
/// was unpacked, before calamine reads anything; the count keeps the cap independent
/// of that behaviour.
fn unpacked_size_within_cap(
    ar: &mut zip::ZipArchive<Cursor<&[u8]>>,
    cap: u64,
) -> Result<(), String> {
    let mut total: u64 = 0;
    for i in 0..ar.len() {
        let mut part = ar
            .by_index(i)
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        let room = cap - total;
        let read = std::io::copy(&mut (&mut part).take(room + 1), &mut std::io::sink())
            .map_err(|e| format!("The file is not a readable workbook: {e}"))?;
        total += read;
        if total > cap {
            return Err(bomb_message(total, cap));
        }
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::io::Write;

    fn archive(parts: &[(&str, usize)]) -> Vec<u8> {
        let mut z = zip::ZipWriter::new(Cursor::new(Vec::new()));
        for (name, size) in parts {
            let options = zip::write::SimpleFileOptions::default()
                .compression_method(zip::CompressionMethod::Deflated);
            z.start_file(*name, options).unwrap();
            z.write_all(&vec![b'x'; *size]).unwrap();
        }
        z.finish().unwrap().into_inner()
    }

    #[test]
    fn the_unpacked_count_stops_at_the_cap() {
        let bytes = archive(&[("a.xml", 3000), ("b.xml", 3000)]);
        let mut ar = zip::ZipArchive::new(Cursor::new(bytes.as_slice())).unwrap();
        assert!(unpacked_size_within_cap(&mut ar, 6000).is_ok());
        let err = unpacked_size_within_cap(&mut ar, 5000).unwrap_err();
        assert!(err.contains("zip bomb"), "{err}");
        // The check itself passes an honest small workbook.
        assert!(check_zip(&bytes).is_ok());
    }
}
