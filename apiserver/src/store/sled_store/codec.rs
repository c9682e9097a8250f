//! On-disk encodings of object records and events. Pure functions, so a corrupt or
//! foreign byte string turns into a `Backend` error instead of a panic.
//!
//! Record: `create_revision u64 BE | mod_revision u64 BE | value`.
//! Event:  `kind u8 | key_len u32 BE | key | value_len u32 BE | value | has_prev u8 | prev`.
//! The event's revision is its key in the events tree (`u64` big-endian, so sled's byte
//! order is revision order).

use crate::store::{Error, Event, EventType, Result, Revision};
use bytes::Bytes;

/// What the objects tree holds for one key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Record {
    pub create_revision: Revision,
    pub mod_revision: Revision,
    pub value: Bytes,
}

pub(crate) fn revision_key(rev: Revision) -> [u8; 8] {
    rev.to_be_bytes()
}

pub(crate) fn decode_revision(bytes: &[u8]) -> Result<Revision> {
    let arr: [u8; 8] = bytes
        .try_into()
        .map_err(|_| corrupt(format!("revision of {} bytes, expected 8", bytes.len())))?;
    Ok(u64::from_be_bytes(arr))
}

pub(crate) fn encode_record(
    create_revision: Revision,
    mod_revision: Revision,
    value: &[u8],
) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + value.len());
    out.extend_from_slice(&create_revision.to_be_bytes());
    out.extend_from_slice(&mod_revision.to_be_bytes());
    out.extend_from_slice(value);
    out
}

pub(crate) fn decode_record(bytes: &[u8]) -> Result<Record> {
    let mut r = Reader::new(bytes);
    let create_revision = r.u64()?;
    let mod_revision = r.u64()?;
    let value = Bytes::copy_from_slice(r.rest());
    Ok(Record {
        create_revision,
        mod_revision,
        value,
    })
}

fn kind_byte(kind: EventType) -> u8 {
    match kind {
        EventType::Created => 1,
        EventType::Updated => 2,
        EventType::Deleted => 3,
    }
}

pub(crate) fn encode_event(
    kind: EventType,
    key: &str,
    value: &[u8],
    prev_value: Option<&[u8]>,
) -> Result<Vec<u8>> {
    let key_len = len_u32(key.len(), "key")?;
    let value_len = len_u32(value.len(), "value")?;
    let prev_len = prev_value.map_or(0, <[u8]>::len);
    let mut out = Vec::with_capacity(10 + key.len() + value.len() + prev_len);
    out.push(kind_byte(kind));
    out.extend_from_slice(&key_len.to_be_bytes());
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(&value_len.to_be_bytes());
    out.extend_from_slice(value);
    match prev_value {
        Some(prev) => {
            out.push(1);
            out.extend_from_slice(prev);
        }
        None => out.push(0),
    }
    Ok(out)
}

/// Reads the key of an encoded event without copying its values: watch replay filters by
/// prefix before paying for a full decode.
pub(crate) fn event_key(bytes: &[u8]) -> Result<&str> {
    let mut r = Reader::new(bytes);
    r.u8()?;
    let key_len = r.u32()? as usize;
    std::str::from_utf8(r.take(key_len)?).map_err(|_| corrupt("event key is not utf-8".into()))
}

pub(crate) fn decode_event(revision: Revision, bytes: &[u8]) -> Result<Event> {
    let mut r = Reader::new(bytes);
    let kind = match r.u8()? {
        1 => EventType::Created,
        2 => EventType::Updated,
        3 => EventType::Deleted,
        other => return Err(corrupt(format!("unknown event kind {other}"))),
    };
    let key_len = r.u32()? as usize;
    let key = std::str::from_utf8(r.take(key_len)?)
        .map_err(|_| corrupt("event key is not utf-8".into()))?
        .to_owned();
    let value_len = r.u32()? as usize;
    let value = Bytes::copy_from_slice(r.take(value_len)?);
    let prev_value = match r.u8()? {
        0 => None,
        1 => Some(Bytes::copy_from_slice(r.rest())),
        other => return Err(corrupt(format!("bad prev_value flag {other}"))),
    };
    Ok(Event {
        revision,
        kind,
        key,
        value,
        prev_value,
        trace_parent: None,
    })
}

fn len_u32(len: usize, what: &str) -> Result<u32> {
    u32::try_from(len).map_err(|_| Error::Backend(format!("{what} of {len} bytes is too large")))
}

fn corrupt(msg: String) -> Error {
    Error::Backend(format!("corrupt store data: {msg}"))
}

struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    fn new(buf: &'a [u8]) -> Self {
        Self { buf }
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8]> {
        if self.buf.len() < n {
            return Err(corrupt(format!(
                "truncated: need {n} bytes, have {}",
                self.buf.len()
            )));
        }
        let (head, tail) = self.buf.split_at(n);
        self.buf = tail;
        Ok(head)
    }

    fn u8(&mut self) -> Result<u8> {
        Ok(self.take(1)?[0])
    }

    fn u32(&mut self) -> Result<u32> {
        let b = self.take(4)?;
        Ok(u32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn u64(&mut self) -> Result<u64> {
        decode_revision(self.take(8)?)
    }

    fn rest(&mut self) -> &'a [u8] {
        std::mem::take(&mut self.buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_round_trips_including_empty_value() {
        for value in [&b""[..], b"hello", &[0u8, 255, 7][..]] {
            let enc = encode_record(3, 9, value);
            let rec = decode_record(&enc).unwrap();
            assert_eq!(
                rec,
                Record {
                    create_revision: 3,
                    mod_revision: 9,
                    value: Bytes::copy_from_slice(value)
                }
            );
        }
    }

    #[test]
    fn event_round_trips_every_kind() {
        let cases = [
            (EventType::Created, "/a", &b"v"[..], None),
            (EventType::Updated, "/ü/ключ", &b""[..], Some(&b"old"[..])),
            (EventType::Deleted, "", &b"x"[..], Some(&b""[..])),
        ];
        for (kind, key, value, prev) in cases {
            let enc = encode_event(kind, key, value, prev).unwrap();
            assert_eq!(event_key(&enc).unwrap(), key);
            let ev = decode_event(42, &enc).unwrap();
            assert_eq!(ev.revision, 42);
            assert_eq!(ev.kind, kind);
            assert_eq!(ev.key, key);
            assert_eq!(&ev.value[..], value);
            assert_eq!(ev.prev_value.as_deref(), prev);
        }
    }

    #[test]
    fn garbage_is_an_error_not_a_panic() {
        let enc = encode_event(EventType::Updated, "/key", b"value", Some(b"prev")).unwrap();
        // kind(1) + key_len(4) + key(4) + value_len(4) + value(5): any cut before the
        // prev flag must fail cleanly.
        for cut in 0..18 {
            assert!(decode_event(1, &enc[..cut]).is_err(), "cut at {cut}");
        }
        assert!(decode_event(1, &[]).is_err());
        assert!(decode_event(1, &[9, 0, 0, 0, 0, 0, 0, 0, 0, 0]).is_err());
        assert!(decode_event(1, &[1, 0, 0, 0, 2, 0xff, 0xfe, 0, 0, 0, 0, 0]).is_err());
        assert!(decode_record(&[1, 2, 3]).is_err());
        assert!(decode_revision(&[1, 2, 3]).is_err());
    }
}
