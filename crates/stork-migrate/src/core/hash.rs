//! A stable hash of a prepared source object: equal hashes mean the source did not change since the copy
//! on the destination was written (the copy carries the hash in `stork.libopenstorage.org/resource-hash`).

use serde_json::Value;

/// The first 128 bits of SHA-256 over the object's canonical JSON; 16 bytes in memory, 32 hex digits in
/// the annotation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentHash([u8; 16]);

impl ContentHash {
    pub fn to_hex(self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    /// The hash an annotation holds, or `None` when it is not one of ours.
    pub fn from_hex(text: &str) -> Option<Self> {
        if text.len() != 32 || !text.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 16];
        for (i, byte) in bytes.iter_mut().enumerate() {
            *byte = u8::from_str_radix(&text[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(Self(bytes))
    }
}

/// serde_json's maps are sorted (its `preserve_order` feature is off: the key-order test below fails if a
/// dependency ever turns it on), so its serialization is canonical and streams straight into the digest.
pub fn content_hash(obj: &Value) -> ContentHash {
    struct Digest(ring::digest::Context);
    impl std::io::Write for Digest {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            self.0.update(bytes);
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut digest = Digest(ring::digest::Context::new(&ring::digest::SHA256));
    // Writing into a digest cannot fail, and a Value always serializes.
    let _ = serde_json::to_writer(&mut digest, obj);
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&digest.0.finish().as_ref()[..16]);
    ContentHash(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn hash_ignores_key_order_and_sees_values() {
        let a = json!({"b": 1, "a": {"y": [1, 2], "x": "s"}});
        let b = json!({"a": {"x": "s", "y": [1, 2]}, "b": 1});
        assert_eq!(content_hash(&a), content_hash(&b));
        assert_ne!(content_hash(&a), content_hash(&json!({"b": 2, "a": {"y": [1, 2], "x": "s"}})));
        let hex = content_hash(&a).to_hex();
        assert_eq!(hex.len(), 32);
        assert_eq!(ContentHash::from_hex(&hex), Some(content_hash(&a)));
        assert_eq!(ContentHash::from_hex("h"), None);
        assert_eq!(ContentHash::from_hex(&"zz".repeat(16)), None);
    }
}
