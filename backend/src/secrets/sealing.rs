//! Secrets the server reads back (QuickBooks Online's OAuth tokens, vendor credentials)
//! are kept sealed: AES-256-GCM under the key of `QBR_SECRET_KEY`, a random 96-bit nonce
//! per value, and the value's purpose (which secret, which organization) as associated
//! data, so a sealed value copied into another column or row does not open. A database
//! dump without the key holds no usable secret.
//!
//! A sealed value is `1 ‖ nonce (12 bytes) ‖ ciphertext ‖ tag (16 bytes)`; the leading
//! version byte leaves room for another scheme later.
use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes256Gcm, KeyInit, Nonce};
use base64::Engine;

/// The version byte of the format above.
const VERSION: u8 = 1;
const NONCE_LEN: usize = 12;
const TAG_LEN: usize = 16;
/// The key's length: AES-256.
pub const KEY_LEN: usize = 32;

/// Why a value could not be sealed or opened.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    /// Too short, or of an unknown version: not something `seal` wrote.
    #[error("the sealed value is malformed")]
    Malformed,
    /// Another key, another purpose, or altered bytes: GCM's tag does not match.
    #[error("the sealed value does not open with this key (another key, or altered)")]
    Unreadable,
    /// Never in practice: AES-GCM refuses only plaintexts of 64 GiB and more.
    #[error("the value could not be sealed")]
    Seal,
}

/// The key of `QBR_SECRET_KEY`.
#[derive(Clone)]
pub struct SecretKey {
    cipher: Aes256Gcm,
}

impl std::fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SecretKey(…)")
    }
}

impl SecretKey {
    /// The key of 32 bytes written in base64 (standard or URL-safe, padded or not).
    pub fn from_base64(text: &str) -> Result<SecretKey, String> {
        let text = text.trim();
        let engines = [
            base64::engine::general_purpose::STANDARD,
            base64::engine::general_purpose::STANDARD_NO_PAD,
            base64::engine::general_purpose::URL_SAFE,
            base64::engine::general_purpose::URL_SAFE_NO_PAD,
        ];
        let bytes = engines
            .iter()
            .find_map(|e| e.decode(text).ok())
            .ok_or_else(|| "it is not base64".to_string())?;
        if bytes.len() != KEY_LEN {
            return Err(format!(
                "it is {} bytes, and must be {KEY_LEN}",
                bytes.len()
            ));
        }
        let cipher =
            Aes256Gcm::new_from_slice(&bytes).map_err(|_| "it is not a key".to_string())?;
        Ok(SecretKey { cipher })
    }

    /// A new random key in standard base64 (what `openssl rand -base64 32` prints).
    pub fn random_base64() -> String {
        base64::engine::general_purpose::STANDARD.encode(random_bytes::<KEY_LEN>())
    }

    /// Seals `secret` for `purpose` (e.g. `qbo-refresh-token:1`).
    pub fn seal(&self, secret: &str, purpose: &str) -> Result<Vec<u8>, CryptoError> {
        let nonce = random_bytes::<NONCE_LEN>();
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: purpose.as_bytes(),
        };
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), payload)
            .map_err(|_| CryptoError::Seal)?;
        let mut out = Vec::with_capacity(1 + NONCE_LEN + sealed.len());
        out.push(VERSION);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// The secret `seal` sealed for the same `purpose` under this key.
    pub fn open(&self, sealed: &[u8], purpose: &str) -> Result<String, CryptoError> {
        let Some((&VERSION, rest)) = sealed.split_first() else {
            return Err(CryptoError::Malformed);
        };
        if rest.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Malformed);
        }
        let (nonce, body) = rest.split_at(NONCE_LEN);
        let payload = Payload {
            msg: body,
            aad: purpose.as_bytes(),
        };
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), payload)
            .map_err(|_| CryptoError::Unreadable)?;
        String::from_utf8(plain).map_err(|_| CryptoError::Malformed)
    }
}

fn random_bytes<const N: usize>() -> [u8; N] {
    use rand::RngCore;
    let mut bytes = [0u8; N];
    rand::rng().fill_bytes(&mut bytes);
    bytes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> SecretKey {
        SecretKey::from_base64(&SecretKey::random_base64()).unwrap_or_else(|e| panic!("{e}"))
    }

    #[test]
    fn a_sealed_value_opens_with_its_key_and_purpose() {
        let k = key();
        let sealed = k.seal("AB11.refresh-token", "qbo-refresh:1");
        let sealed = sealed.unwrap_or_default();
        assert_eq!(sealed.len(), 1 + 12 + "AB11.refresh-token".len() + 16);
        assert_eq!(
            k.open(&sealed, "qbo-refresh:1").as_deref(),
            Ok("AB11.refresh-token")
        );
        assert!(
            !String::from_utf8_lossy(&sealed).contains("refresh-token"),
            "no plaintext in the sealed bytes"
        );
    }

    #[test]
    fn every_seal_takes_a_new_nonce() {
        let k = key();
        let a = k.seal("same", "p").unwrap_or_default();
        let b = k.seal("same", "p").unwrap_or_default();
        assert_ne!(a, b);
        assert_ne!(a[1..13], b[1..13], "nonces differ");
    }

    #[test]
    fn altered_bytes_do_not_open() {
        let k = key();
        let sealed = k.seal("secret token", "p").unwrap_or_default();
        // Every byte after the version: nonce, ciphertext and tag alike.
        for i in 1..sealed.len() {
            let mut bad = sealed.clone();
            bad[i] ^= 0x01;
            assert_eq!(k.open(&bad, "p"), Err(CryptoError::Unreadable), "byte {i}");
        }
        let mut bad_version = sealed.clone();
        bad_version[0] = 2;
        assert_eq!(k.open(&bad_version, "p"), Err(CryptoError::Malformed));
        assert_eq!(k.open(&sealed[..20], "p"), Err(CryptoError::Malformed));
        assert_eq!(k.open(&[], "p"), Err(CryptoError::Malformed));
    }

    #[test]
    fn another_key_or_purpose_does_not_open() {
        let sealed = key()
            .seal("secret token", "qbo-access:1")
            .unwrap_or_default();
        assert_eq!(
            key().open(&sealed, "qbo-access:1"),
            Err(CryptoError::Unreadable)
        );
        let k = key();
        let sealed = k.seal("secret token", "qbo-access:1").unwrap_or_default();
        assert_eq!(
            k.open(&sealed, "qbo-refresh:1"),
            Err(CryptoError::Unreadable)
        );
        assert_eq!(
            k.open(&sealed, "qbo-access:2"),
            Err(CryptoError::Unreadable)
        );
    }

    #[test]
    fn keys_are_32_bytes_of_base64() {
        assert!(SecretKey::from_base64(&SecretKey::random_base64()).is_ok());
        // `openssl rand -base64 32` output, with its newline.
        let standard = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA=\n";
        assert!(SecretKey::from_base64(standard).is_ok());
        let url_safe = "q83vEjRWeJCrze8SNFZ4kKvN7xI0VniQq83vEjRWeJA";
        assert!(SecretKey::from_base64(url_safe).is_ok());
        let short = base64::engine::general_purpose::STANDARD.encode([7u8; 16]);
        assert_eq!(
            SecretKey::from_base64(&short).err().as_deref(),
            Some("it is 16 bytes, and must be 32")
        );
        assert!(SecretKey::from_base64("not base64 at all!").is_err());
        assert_eq!(format!("{:?}", key()), "SecretKey(…)");
    }
}
