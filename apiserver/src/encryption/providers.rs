//! The ciphers of Kubernetes' encryption providers, byte for byte as Kubernetes stores them
//! after its `k8s:enc:<provider>:v1:<key name>:` prefix (the prefix is the transformer's):
//! - `aescbc`: 16-byte random IV, then AES-CBC with PKCS#7 padding. Not authenticated and
//!   not bound to the storage key, as in Kubernetes (which no longer recommends it).
//! - `aesgcm`: 12-byte random nonce, then AES-GCM ciphertext and tag, with the storage key
//!   as authenticated data: a value copied under another key does not decrypt.
//! - `secretbox`: 24-byte random nonce, then NaCl secretbox (XSalsa20-Poly1305, tag first).
//!   Authenticated, but NaCl secretbox has no associated data, so (as in Kubernetes) it is
//!   not bound to the storage key.

use aes::cipher::block_padding::Pkcs7;
use aes::cipher::{BlockDecryptMut, BlockEncryptMut, KeyIvInit};
use aes_gcm::aead::consts::U12;
use aes_gcm::aead::{Aead, KeyInit, Payload};
use rand::RngCore;

use super::Error;

pub const AES_KEY_SIZES: &[usize] = &[16, 24, 32];
pub const SECRETBOX_KEY_SIZES: &[usize] = &[32];

const CBC_IV: usize = 16;
const GCM_NONCE: usize = 12;
const SECRETBOX_NONCE: usize = 24;

/// Key bytes that never show up in a log or a `{:?}`.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(Vec<u8>);

impl Secret {
    pub fn new(bytes: Vec<u8>) -> Secret {
        Secret(bytes)
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secret(REDACTED, {} bytes)", self.0.len())
    }
}

/// One key of one provider. Key lengths are checked when the configuration is read; a
/// wrong one here is still an error, never a panic.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cipher {
    AesCbc(Secret),
    AesGcm(Secret),
    Secretbox(Secret),
}

impl Cipher {
    /// The provider's name in the configuration and in the stored prefix.
    pub fn provider(&self) -> &'static str {
        match self {
            Cipher::AesCbc(_) => "aescbc",
            Cipher::AesGcm(_) => "aesgcm",
            Cipher::Secretbox(_) => "secretbox",
        }
    }

    /// Encrypts `plain` stored under `aad` (the storage key) with a fresh random IV/nonce.
    pub fn seal(&self, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Cipher::AesCbc(key) => {
                let mut iv = [0u8; CBC_IV];
                rand::rng().fill_bytes(&mut iv);
                cbc_seal(&key.0, &iv, plain)
            }
            Cipher::AesGcm(key) => {
                let mut nonce = [0u8; GCM_NONCE];
                rand::rng().fill_bytes(&mut nonce);
                gcm_seal(&key.0, &nonce, plain, aad)
            }
            Cipher::Secretbox(key) => {
                let mut nonce = [0u8; SECRETBOX_NONCE];
                rand::rng().fill_bytes(&mut nonce);
                secretbox_seal(&key.0, &nonce, plain)
            }
        }
    }

    /// Decrypts what `seal` made (without the prefix).
    pub fn open(&self, sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
        match self {
            Cipher::AesCbc(key) => cbc_open(&key.0, sealed),
            Cipher::AesGcm(key) => gcm_open(&key.0, sealed, aad),
            Cipher::Secretbox(key) => secretbox_open(&key.0, sealed),
        }
    }
}

fn too_short() -> Error {
    Error::Decrypt("the stored data was shorter than the required size".into())
}

fn bad_key(len: usize) -> Error {
    Error::Encrypt(format!("key of {len} bytes is not a valid key"))
}

pub(crate) fn cbc_seal(key: &[u8], iv: &[u8; CBC_IV], plain: &[u8]) -> Result<Vec<u8>, Error> {
    fn run<C>(key: &[u8], iv: &[u8], plain: &[u8]) -> Result<Vec<u8>, Error>
    where
        C: aes::cipher::BlockCipher + aes::cipher::BlockEncryptMut + aes::cipher::KeyInit,
    {
        let enc = cbc::Encryptor::<C>::new_from_slices(key, iv).map_err(|_| bad_key(key.len()))?;
        Ok(enc.encrypt_padded_vec_mut::<Pkcs7>(plain))
    }
    let body = match key.len() {
        16 => run::<aes::Aes128>(key, iv, plain)?,
        24 => run::<aes::Aes192>(key, iv, plain)?,
        32 => run::<aes::Aes256>(key, iv, plain)?,
        n => return Err(bad_key(n)),
    };
    let mut out = Vec::with_capacity(CBC_IV + body.len());
    out.extend_from_slice(iv);
    out.extend_from_slice(&body);
    Ok(out)
}

fn cbc_open(key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Error> {
    fn run<C>(key: &[u8], iv: &[u8], body: &[u8]) -> Result<Vec<u8>, Error>
    where
        C: aes::cipher::BlockCipher + aes::cipher::BlockDecryptMut + aes::cipher::KeyInit,
    {
        let dec = cbc::Decryptor::<C>::new_from_slices(key, iv).map_err(|_| bad_key(key.len()))?;
        dec.decrypt_padded_vec_mut::<Pkcs7>(body)
            .map_err(|_| Error::Decrypt("invalid padding on input".into()))
    }
    if sealed.len() < CBC_IV {
        return Err(too_short());
    }
    let (iv, body) = sealed.split_at(CBC_IV);
    if body.is_empty() || body.len() % CBC_IV != 0 {
        return Err(Error::Decrypt(
            "the stored data is not a multiple of the block size".into(),
        ));
    }
    match key.len() {
        16 => run::<aes::Aes128>(key, iv, body),
        24 => run::<aes::Aes192>(key, iv, body),
        32 => run::<aes::Aes256>(key, iv, body),
        n => Err(bad_key(n)),
    }
}

type Aes192Gcm = aes_gcm::AesGcm<aes::Aes192, U12>;

pub(crate) fn gcm_seal(
    key: &[u8],
    nonce: &[u8; GCM_NONCE],
    plain: &[u8],
    aad: &[u8],
) -> Result<Vec<u8>, Error> {
    fn run<A: Aead + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        plain: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let cipher = A::new_from_slice(key).map_err(|_| bad_key(key.len()))?;
        cipher
            .encrypt(nonce.into(), Payload { msg: plain, aad })
            .map_err(|_| Error::Encrypt("aes-gcm refused the value".into()))
    }
    let body = match key.len() {
        16 => run::<aes_gcm::Aes128Gcm>(key, nonce, plain, aad)?,
        24 => run::<Aes192Gcm>(key, nonce, plain, aad)?,
        32 => run::<aes_gcm::Aes256Gcm>(key, nonce, plain, aad)?,
        n => return Err(bad_key(n)),
    };
    let mut out = Vec::with_capacity(GCM_NONCE + body.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn gcm_open(key: &[u8], sealed: &[u8], aad: &[u8]) -> Result<Vec<u8>, Error> {
    fn run<A: Aead + KeyInit>(
        key: &[u8],
        nonce: &[u8],
        body: &[u8],
        aad: &[u8],
    ) -> Result<Vec<u8>, Error> {
        let cipher = A::new_from_slice(key).map_err(|_| bad_key(key.len()))?;
        cipher
            .decrypt(nonce.into(), Payload { msg: body, aad })
            .map_err(|_| Error::Decrypt("cipher: message authentication failed".into()))
    }
    if sealed.len() < GCM_NONCE {
        return Err(too_short());
    }
    let (nonce, body) = sealed.split_at(GCM_NONCE);
    match key.len() {
        16 => run::<aes_gcm::Aes128Gcm>(key, nonce, body, aad),
        24 => run::<Aes192Gcm>(key, nonce, body, aad),
        32 => run::<aes_gcm::Aes256Gcm>(key, nonce, body, aad),
        n => Err(bad_key(n)),
    }
}

pub(crate) fn secretbox_seal(
    key: &[u8],
    nonce: &[u8; SECRETBOX_NONCE],
    plain: &[u8],
) -> Result<Vec<u8>, Error> {
    let cipher =
        crypto_secretbox::XSalsa20Poly1305::new_from_slice(key).map_err(|_| bad_key(key.len()))?;
    let body = cipher
        .encrypt(nonce.into(), plain)
        .map_err(|_| Error::Encrypt("secretbox refused the value".into()))?;
    let mut out = Vec::with_capacity(SECRETBOX_NONCE + body.len());
    out.extend_from_slice(nonce);
    out.extend_from_slice(&body);
    Ok(out)
}

fn secretbox_open(key: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Error> {
    if sealed.len() < SECRETBOX_NONCE {
        return Err(too_short());
    }
    let (nonce, body) = sealed.split_at(SECRETBOX_NONCE);
    let cipher =
        crypto_secretbox::XSalsa20Poly1305::new_from_slice(key).map_err(|_| bad_key(key.len()))?;
    cipher
        .decrypt(nonce.into(), body)
        .map_err(|_| Error::Decrypt("secretbox: message authentication failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AAD: &[u8] = b"/registry/secrets/default/s1";
    const PLAIN: &[u8] = b"hello kubernetes";

    fn key(len: usize, seed: u8) -> Secret {
        Secret::new((0..len as u8).map(|b| b.wrapping_add(seed)).collect())
    }

    fn all_ciphers() -> Vec<Cipher> {
        let mut v = Vec::new();
        for len in AES_KEY_SIZES {
            v.push(Cipher::AesCbc(key(*len, 0)));
            v.push(Cipher::AesGcm(key(*len, 0)));
        }
        v.push(Cipher::Secretbox(key(32, 0)));
        v
    }

    #[test]
    fn every_cipher_and_key_size_round_trips_with_a_fresh_nonce() {
        for c in all_ciphers() {
            let a = c.seal(PLAIN, AAD).unwrap();
            let b = c.seal(PLAIN, AAD).unwrap();
            assert_ne!(
                a,
                b,
                "{}: the same value twice must not encrypt the same",
                c.provider()
            );
            assert!(
                !a.windows(PLAIN.len()).any(|w| w == PLAIN),
                "{}",
                c.provider()
            );
            assert_eq!(c.open(&a, AAD).unwrap(), PLAIN, "{}", c.provider());
            assert_eq!(c.open(&b, AAD).unwrap(), PLAIN, "{}", c.provider());
        }
    }

    /// Known answers from an independent AES implementation (Python's `cryptography`), in
    /// the layout Kubernetes stores: IV/nonce first, GCM tag last, the key as GCM's AAD.
    #[test]
    fn layout_matches_kubernetes() {
        let k = key(32, 0);
        let iv: [u8; 16] = core::array::from_fn(|i| i as u8);
        let nonce: [u8; 12] = core::array::from_fn(|i| i as u8);
        let hex = |b: &[u8]| b.iter().map(|x| format!("{x:02x}")).collect::<String>();
        assert_eq!(
            hex(&cbc_seal(&k.0, &iv, PLAIN).unwrap()),
            "000102030405060708090a0b0c0d0e0f2bd75e171f69ae924b9710c97c702fc89e6163470ffe58393c38eda8b4041d44"
        );
        assert_eq!(
            hex(&gcm_seal(&k.0, &nonce, PLAIN, AAD).unwrap()),
            "000102030405060708090a0b2f67ba77aac5a96eef24e5e5d49d1d1e1501c34e51b42e5d1b35e3d941521700"
        );
        // secretbox: nonce, then the 16-byte Poly1305 tag, then the ciphertext.
        let n: [u8; 24] = [7; 24];
        let sealed = secretbox_seal(&k.0, &n, PLAIN).unwrap();
        assert_eq!(sealed.len(), 24 + 16 + PLAIN.len());
        assert_eq!(&sealed[..24], &n);
    }

    #[test]
    fn a_wrong_key_does_not_give_the_value_back() {
        for c in all_ciphers() {
            let sealed = c.seal(PLAIN, AAD).unwrap();
            let other = match &c {
                Cipher::AesCbc(k) => Cipher::AesCbc(key(k.len(), 1)),
                Cipher::AesGcm(k) => Cipher::AesGcm(key(k.len(), 1)),
                Cipher::Secretbox(k) => Cipher::Secretbox(key(k.len(), 1)),
            };
            let got = other.open(&sealed, AAD);
            match c {
                // Unauthenticated: usually a padding error, but garbage is possible.
                Cipher::AesCbc(_) => assert_ne!(got.ok().as_deref(), Some(PLAIN)),
                _ => assert!(got.is_err(), "{}", c.provider()),
            }
        }
    }

    #[test]
    fn tampered_ciphertext_fails() {
        for c in all_ciphers() {
            let mut sealed = c.seal(PLAIN, AAD).unwrap();
            let last = sealed.len() - 1;
            sealed[last] ^= 1;
            let got = c.open(&sealed, AAD);
            match c {
                Cipher::AesCbc(_) => assert_ne!(got.ok().as_deref(), Some(PLAIN)),
                _ => assert!(got.is_err(), "{}", c.provider()),
            }
            assert!(
                c.open(&sealed[..3], AAD).is_err(),
                "{}: truncated",
                c.provider()
            );
        }
        // AES-CBC has no integrity at all: flipping an IV bit flips the same plaintext bit.
        let c = Cipher::AesCbc(key(32, 0));
        let mut sealed = c.seal(PLAIN, AAD).unwrap();
        sealed[0] ^= 1;
        let mut expected = PLAIN.to_vec();
        expected[0] ^= 1;
        assert_eq!(c.open(&sealed, AAD).unwrap(), expected);
    }

    #[test]
    fn aesgcm_binds_the_value_to_its_storage_key() {
        for len in AES_KEY_SIZES {
            let c = Cipher::AesGcm(key(*len, 0));
            let sealed = c.seal(PLAIN, AAD).unwrap();
            let err = c
                .open(&sealed, b"/registry/secrets/default/s2")
                .unwrap_err();
            assert!(err.to_string().contains("authentication failed"), "{err}");
        }
    }

    /// As in Kubernetes, neither has associated data: a value copied to another key opens.
    #[test]
    fn aescbc_and_secretbox_are_not_bound_to_the_key_as_in_kubernetes() {
        for c in [Cipher::AesCbc(key(32, 0)), Cipher::Secretbox(key(32, 0))] {
            let sealed = c.seal(PLAIN, AAD).unwrap();
            assert_eq!(c.open(&sealed, b"/registry/secrets/x/y").unwrap(), PLAIN);
        }
    }

    #[test]
    fn keys_never_show_in_debug_output() {
        let c = Cipher::AesGcm(Secret::new(b"0123456789abcdef".to_vec()));
        let shown = format!("{c:?}");
        assert!(
            !shown.contains("0123456789abcdef") && shown.contains("REDACTED"),
            "{shown}"
        );
    }
}
